// Control page of the virtual board: draws what the server streams (/api/events) and sends what a
// person does (/api/button, /api/network, /api/cloud, /api/update, /api/power, /api/speed). No build step.
"use strict";

const $ = (id) => document.getElementById(id);
const STATE_WORDS = {
  INIT: "starting",
  WAIT_CONFIG: "waiting for setup: open the portal",
  CONFIGURING: "a phone or the app is configuring it",
  CONNECTING_NET: "joining WiFi",
  CONNECTING_CLOUD: "connecting to the Blynk cloud",
  RUNNING: "online",
  OTA_UPGRADE: "updating firmware",
  SWITCH_TO_STA: "switching to your WiFi",
  RESET_CONFIG: "erasing the configuration",
  ERROR: "error: restarts after 10 s",
  "NO POWER": "switched off",
};
const ERRORS = { 0: "none", 700: "700 invalid configuration", 701: "701 could not join WiFi", 702: "702 cloud unreachable", 703: "703 token rejected", 704: "704 internal (access point failed)" };
const TRACE_MS = 5000;
const HOLD_RESET_MS = 10000;
const HOLD_INDICATE_MS = 3000;

let snap = null; // last state snapshot
let samples = []; // LED light changes [t, r, g, b], view time
let lastFrame = null;

// ------------------------------------------------------------------ requests

function toast(text, error) {
  const t = $("toast");
  t.textContent = text;
  t.className = "show" + (error ? " error" : "");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (t.className = ""), error ? 5000 : 2000);
}

async function post(path, body) {
  try {
    const r = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const j = await r.json();
    if (!r.ok) throw new Error(j.error || r.statusText);
    renderState(j);
    return j;
  } catch (e) {
    toast(e.message, true);
    return null;
  }
}

// ------------------------------------------------------------------ LED

/** Light 0..1 of the LED at full pattern level, and its hue as 0..255 channels. */
function ledLook(rgb) {
  const led = snap ? snap.board.led : { type: "pwm", brightness: 255 };
  const peak = Math.max(rgb[0], rgb[1], rgb[2]);
  const full = led.type === "gpio" ? 1 : led.brightness / 255;
  const level = Math.min(1, peak / full);
  let hue;
  if (led.type === "rgb" || led.type === "ws2812") hue = peak > 0 ? rgb.map((x) => x / peak) : [1, 1, 1];
  else hue = snap ? snap.board.ledColour : [0.1, 0.35, 1];
  return { level, hue: hue.map((x) => Math.round(x * 255)) };
}

function drawLed(rgb) {
  const el = $("led");
  const { level, hue } = ledLook(rgb);
  const v = Math.pow(level, 1 / 2.2); // what the eye makes of a duty cycle
  const off = [43, 47, 54];
  const mix = off.map((o, i) => Math.round(o + (Math.min(255, hue[i] * 0.55 + 115 * (hue[i] / 255)) - o) * v));
  el.style.background = `radial-gradient(circle at 38% 35%, rgba(255,255,255,${0.65 * v}), rgb(${mix}) 55%)`;
  el.style.boxShadow = v > 0.01 ? `0 0 ${6 + 30 * v}px ${4 + 10 * v}px rgba(${hue},${0.75 * v})` : "none";
  el.dataset.level = level.toFixed(3);
  el.dataset.rgb = hue.join(",");
}

function drawTrace(now) {
  const c = $("trace");
  const w = (c.width = c.clientWidth * devicePixelRatio);
  const h = (c.height = c.clientHeight * devicePixelRatio);
  const g = c.getContext("2d");
  g.clearRect(0, 0, w, h);
  const from = now - TRACE_MS;
  const x = (t) => ((t - from) / TRACE_MS) * w;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i];
    const end = i + 1 < samples.length ? samples[i + 1][0] : now;
    if (end < from) continue;
    const { level, hue } = ledLook([s[1], s[2], s[3]]);
    if (level <= 0) continue;
    g.fillStyle = `rgb(${hue})`;
    const y = h - 4 - level * (h - 8);
    g.fillRect(x(Math.max(s[0], from)), y, Math.max(1, x(end) - x(Math.max(s[0], from))), h - 4 - y);
  }
  g.fillStyle = "#667085";
  g.font = `${10 * devicePixelRatio}px sans-serif`;
  g.fillText("−5 s", 4, 12 * devicePixelRatio);
  g.fillText("now", w - 26 * devicePixelRatio, 12 * devicePixelRatio);
}

// ------------------------------------------------------------------ frames (30 per second)

function onFrame(f) {
  lastFrame = f;
  for (const s of f.samples) samples.push(s);
  if (samples.length && samples[0][0] > f.t) samples = f.samples.slice(); // a new server session
  const cut = f.t - TRACE_MS * 2;
  let drop = 0;
  while (drop + 1 < samples.length && samples[drop + 1][0] < cut) drop++;
  if (drop) samples.splice(0, drop);
  drawLed(f.rgb);
  drawTrace(f.t);

  const ob = f.pattern.observed;
  const po = $("pattern-observed");
  po.textContent = ob.name;
  po.dataset.pattern = ob.pat >= 0 ? ob.name : "";
  $("pattern-detail").textContent = ob.detail;
  $("pattern-expected").textContent = f.pattern.expected || "nothing";

  setState(f.state);
  const ms = f.button.heldMs;
  const timer = $("hold-timer");
  timer.dataset.ms = String(Math.round(ms));
  timer.textContent = f.button.pressed ? `held ${(ms / 1000).toFixed(1)} s` + (ms >= HOLD_RESET_MS ? ", release to erase" : "") : "not pressed";
  timer.className = "hold-timer" + (ms >= HOLD_RESET_MS ? " reset" : ms >= HOLD_INDICATE_MS ? " long" : "");
  $("hold-fill").style.width = Math.min(100, (ms / HOLD_RESET_MS) * 100) + "%";
  $("hold-fill").style.background = ms >= HOLD_RESET_MS ? "#d92d20" : ms >= HOLD_INDICATE_MS ? "#b7791f" : "#2454ff";
  $("button").classList.toggle("down", f.button.pressed || pressing);
  $("vtime").textContent = `device time ${(f.t / 1000).toFixed(1)} s`;
}

function setState(state) {
  const b = $("state");
  if (b.dataset.state === state) return;
  b.dataset.state = state;
  b.textContent = state;
  $("state-words").textContent = STATE_WORDS[state] || "";
  $("d-state").textContent = state;
}

// ------------------------------------------------------------------ state snapshot

function text(el, value) {
  const e = $(el);
  if (e.textContent !== value) e.textContent = value;
}

function renderState(s) {
  snap = s;
  const b = s.board;
  text("board-name", `Virtual ${b.name} (${b.id}, ${b.chip})`);
  document.title = `${s.device.state} · virtual ${b.id}`;
  const link = $("portal-link");
  if (link.getAttribute("href") !== s.portalUrl) link.setAttribute("href", s.portalUrl);
  const led = b.led;
  text("led-pins", led.type === "none" ? "none on this board" : `${led.type} on GPIO${led.pins.join("/")}${led.inverted ? ", lit when low" : ""}`);
  text("button-name", b.button ? (b.chip === "ESP32" && b.button.pin === 0 ? "BOOT" : b.button.pin === 0 ? "FLASH" : "GPIO" + b.button.pin) : "none");
  $("button").disabled = !b.button;
  if (!lastFrame) setState(s.power ? s.device.state : "NO POWER");

  const d = s.device;
  const le = $("last-error");
  le.dataset.code = String(d.last_error);
  text("last-error", ERRORS[d.last_error] || String(d.last_error));
  text("d-test", d.test || "—");
  text("d-ap", d.ap ? `${d.ap} (portal ${d.reachable ? "open" : "closed"})` : "off");
  text("d-sta", d.sta || "not joined");
  text("d-ip", d.staIp || "—");
  text("d-cloud", d.cloud ? "online" : "offline");
  text("d-memory", d.memory ? `${d.memory} blocks used` : "—");

  for (const btn of $("speed").querySelectorAll("button")) btn.setAttribute("aria-pressed", String(Number(btn.dataset.speed) === s.speed));
  if (![0, 1, 10].includes(s.speed) && !$("speed").querySelector(`[data-speed="${s.speed}"]`)) {
    const extra = document.createElement("button");
    extra.type = "button";
    extra.dataset.speed = String(s.speed);
    extra.textContent = s.speed + "×";
    extra.setAttribute("aria-pressed", "true");
    $("speed").appendChild(extra);
  }
  $("power-toggle").textContent = s.power ? "Switch off" : "Switch on";
  $("power-cut").disabled = !s.power;

  renderConfig(s.stored);
  renderWorld(s.world);

  text("token", s.token);
  $("reject").checked = s.cloud.rejecting;
  text("c-conn", String(s.cloud.connections));
  text("c-logins", String(s.cloud.logins));
  text("c-last", s.cloud.lastLogin || "—");
}

function esc(s) {
  return String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}

function renderConfig(st) {
  let h;
  if (!st.config) h = '<p class="n">Nothing stored: the device has not been provisioned (or was reset).</p>';
  else {
    const c = st.config;
    h =
      '<dl class="kv">' +
      c.networks.map((n, i) => `<dt>WiFi ${i + 1}</dt><dd>${esc(n.ssid)} · password ${esc(n.password)}</dd>`).join("") +
      `<dt>Auth token</dt><dd><code>${esc(c.token || "(none)")}</code></dd>` +
      (c.broker ? `<dt>MQTT broker</dt><dd>${esc(c.broker)}</dd>` : `<dt>Server</dt><dd>${esc(c.host)} : ${c.portSsl} (TLS) / ${c.port}</dd>`) +
      (c.staticIp.length ? `<dt>Static IP</dt><dd>${esc(c.staticIp.join(", "))}</dd>` : "") +
      `<dt>Flags</dt><dd>${esc(c.flags.join(", ") || "none")}</dd>` +
      `<dt>last_error</dt><dd>${esc(ERRORS[c.lastError] || c.lastError)}</dd>` +
      `<dt>Record</dt><dd>${esc(c.file)}, sequence ${c.seq}</dd>` +
      "</dl>";
  }
  if (st.corrupt.length) h += `<p class="n">Torn or corrupt: ${esc(st.corrupt.join(", "))}</p>`;
  if (st.factoryToken) h += `<p class="n">Factory token: <code>${esc(st.factoryToken)}</code></p>`;
  h += `<p class="n">Storage files: ${esc(st.files.join(", ") || "none")}</p>`;
  if (snap && snap.flashFile) h += `<p class="n">Kept between runs in ${esc(snap.flashFile)}</p>`;
  const el = $("config");
  if (el.dataset.html !== h) {
    el.innerHTML = h;
    el.dataset.html = h;
  }
}

function renderWorld(world) {
  const key = JSON.stringify(world);
  const body = $("world");
  if (body.dataset.key === key) return;
  body.dataset.key = key;
  body.innerHTML = world
    .map(
      (n, i) =>
        `<li class="${n.up ? "" : "down"}"><div class="net"><div><span class="name">${esc(n.ssid)}</span><span class="air">${n.up ? "on air" : "down"}</span></div>` +
        `<div class="n">${n.password ? `password <code>${esc(n.password)}</code>` : "open network"} · ${n.rssi} dBm · channel ${n.channel}</div></div>` +
        `<button type="button" data-net="${i}" aria-label="${n.up ? "Take " + esc(n.ssid) + " off the air" : "Put " + esc(n.ssid) + " back on the air"}">${n.up ? "Network down" : "Network up"}</button></li>`
    )
    .join("");
  const sel = $("pw-ssid");
  const was = sel.value;
  sel.innerHTML = world.map((n) => `<option>${esc(n.ssid)}</option>`).join("");
  if (world.some((n) => n.ssid === was)) sel.value = was;
}

// ------------------------------------------------------------------ the button

let pressing = false;
function press(down) {
  if (down === pressing || !snap || !snap.board.button) return;
  pressing = down;
  $("button").classList.toggle("down", down);
  post("/api/button", { pressed: down });
}

const hw = $("button");
hw.addEventListener("pointerdown", (e) => {
  if (e.button !== 0) return;
  hw.setPointerCapture(e.pointerId);
  e.preventDefault();
  press(true);
});
for (const ev of ["pointerup", "pointercancel", "lostpointercapture"]) hw.addEventListener(ev, () => press(false));
hw.addEventListener("contextmenu", (e) => e.preventDefault());

const typing = (el) => el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT");
window.addEventListener("keydown", (e) => {
  if (e.code !== "Space" || typing(e.target)) return;
  e.preventDefault();
  if (!e.repeat) press(true);
});
window.addEventListener("keyup", (e) => {
  if (e.code !== "Space" || typing(e.target)) return;
  e.preventDefault();
  press(false);
});
window.addEventListener("blur", () => press(false));

// ------------------------------------------------------------------ other controls

$("speed").addEventListener("click", (e) => {
  const b = e.target.closest("button");
  if (b) post("/api/speed", { speed: Number(b.dataset.speed) });
});
$("power-cut").addEventListener("click", () => post("/api/power", { action: "cut", offMs: 1000 }));
$("update-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const kind = $("update-kind").value;
  toast("Building the firmware and offering it...");
  if (await post("/api/update", { kind })) toast("Offered; watch the console and the LED");
});
$("power-toggle").addEventListener("click", () => post("/api/power", { action: snap && snap.power ? "off" : "on" }));
$("world").addEventListener("click", (e) => {
  const b = e.target.closest("button[data-net]");
  if (!b || !snap) return;
  const n = snap.world[Number(b.dataset.net)];
  post("/api/network", { ssid: n.ssid, up: !n.up });
});
$("password-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const r = await post("/api/network", { ssid: $("pw-ssid").value, password: $("pw-new").value });
  if (r) {
    toast(`${$("pw-ssid").value}: password changed`);
    $("pw-new").value = "";
  }
});
$("reject").addEventListener("change", (e) => post("/api/cloud", { reject: e.target.checked }));
$("copy-token").addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText(snap.token);
    toast("Token copied");
  } catch {
    const r = document.createRange();
    r.selectNodeContents($("token"));
    getSelection().removeAllRanges();
    getSelection().addRange(r);
    toast("Token selected: copy it with Ctrl-C");
  }
});

// ------------------------------------------------------------------ console

function addConsole(lines) {
  const pre = $("console");
  const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 8;
  const frag = document.createDocumentFragment();
  for (const l of lines) frag.appendChild(document.createTextNode(l + "\n"));
  pre.appendChild(frag);
  while (pre.childNodes.length > 600) pre.removeChild(pre.firstChild);
  if (atEnd) pre.scrollTop = pre.scrollHeight;
}

// ------------------------------------------------------------------ event stream

const events = new EventSource("/api/events");
events.addEventListener("state", (e) => renderState(JSON.parse(e.data)));
events.addEventListener("frame", (e) => onFrame(JSON.parse(e.data)));
events.addEventListener("console", (e) => addConsole(JSON.parse(e.data)));
events.addEventListener("open", () => {
  $("console").textContent = ""; // the stream starts with the whole tail again
});
events.addEventListener("error", () => setState("DISCONNECTED"));
