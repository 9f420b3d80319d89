// npm run docs: draws every LED pattern as an SVG timing diagram and writes docs/led.md, all from
// the firmware's own pattern table (firmware/led/patterns.ts) and the board profiles, so the
// pictures QA compares a board with are the firmware's behaviour, not a description of it.
// test/led/docs.test.ts fails when the committed files differ from what this renders.
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { stateName } from "../firmware/core/state.ts";
import {
  Pat, Col, Colour, patternTable, patternName, patternDocs, levelAt, cycleMs, isWave, waveStep, WAVE_STEPS, GPIO_THRESHOLD,
} from "../firmware/led/patterns.ts";
import { panelSpec, espruinoNegates, waveTick, BOOT_GRACE_MS, QA_STEP_MS, ESP8266_PWM_HZ, ESP32_PWM_HZ } from "../firmware/led/spec.ts";
import { DEBOUNCE_MS, MIN_PRESS_MS, INDICATE_MS, RESET_MS } from "../firmware/button/hold.ts";
import { loadBoards, type Board } from "../test/led/boards.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const rows = patternTable();
const docs = patternDocs();

const COLOUR_NAMES: Record<number, string> = {
  [Colour.BLUE]: "blue",
  [Colour.BLYNK]: "Blynk green",
  [Colour.RED]: "red",
  [Colour.WHITE]: "white",
  [Colour.MAGENTA]: "magenta",
};

function hex(c: number): string {
  return "#" + c.toString(16).toUpperCase().padStart(6, "0");
}

/** Markdown text: a literal "<name>" would vanish as an HTML tag. */
function md(s: string): string {
  return s.replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Round number for SVG coordinates (keeps the files small and stable). */
function n(x: number): string {
  return String(Math.round(x * 10) / 10);
}

function statesOf(p: Pat): string[] {
  const out: string[] = [];
  for (let s = 0; s < 10; s++) if (rows[p][Col.STATES] & (1 << s)) out.push(stateName(s));
  return out;
}

function shownIn(p: Pat): string {
  if (p === Pat.HOLD_3S) return `button held ≥ ${INDICATE_MS / 1000} s (any state)`;
  if (p === Pat.HOLD_10S) return `button held ≥ ${RESET_MS / 1000} s (any state)`;
  return statesOf(p).join(", ");
}

function timing(p: Pat): string {
  const row = rows[p];
  if (isWave(row)) return `breathe: 0 → full → 0 every ${cycleMs(row)} ms (${WAVE_STEPS} steps of ${waveStep(row)} ms)`;
  const t = row.slice(Col.TIMES);
  const parts: string[] = [];
  for (let i = 0; i < t.length; i++) parts.push(`${t[i]} ms ${i % 2 ? "off" : "on"}`);
  return parts.join(", ");
}

/**
 * [time, level] corners of the level curve over [0, span]: a blink's steps exactly; a wave as the
 * line through the middle of its first, top and last steps (its 3-19 ms stairs are too fine to draw).
 */
function curve(row: number[], span: number): [number, number][] {
  const pts: [number, number][] = [];
  if (isWave(row)) {
    const s = waveStep(row);
    const cycle = cycleMs(row);
    pts.push([0, 0]);
    for (let c = 0; c < span; c += cycle)
      for (const cnt of [0, 127, 128, 255]) if (c + (cnt + 0.5) * s <= span) pts.push([c + (cnt + 0.5) * s, levelAt(row, c + cnt * s)]);
    pts.push([span, levelAt(row, span)]);
    return pts;
  }
  let prev = levelAt(row, 0);
  pts.push([0, prev]);
  for (let t = 1; t < span; t++) {
    const l = levelAt(row, t);
    if (l === prev) continue;
    pts.push([t, prev], [t, l]);
    prev = l;
  }
  pts.push([span, prev]);
  return pts;
}

function tickStep(span: number): number {
  for (const s of [10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000]) if (span / s <= 10) return s;
  return 5000;
}

interface Plot {
  x: number;
  y: number;
  w: number;
  h: number;
  span: number;
}

function waveformSvg(row: number[], plot: Plot): string {
  const { x, y, w, h, span } = plot;
  const X = (t: number) => x + (t / span) * w;
  const Y = (l: number) => y + h - (l / 255) * h;
  const pts = curve(row, span);
  const line = pts.map(([t, l], i) => (i ? "L" : "M") + n(X(t)) + " " + n(Y(l))).join(" ");
  const area = line + ` L${n(X(span))} ${n(Y(0))} L${n(X(0))} ${n(Y(0))} Z`;
  return (
    `<path d="${area}" fill="${hex(row[Col.COLOUR])}" fill-opacity="0.85"/>` +
    `<path d="${line}" fill="none" stroke="#222" stroke-width="1.2"/>`
  );
}

function axisSvg(plot: Plot, labelEvery = 1): string {
  const { x, y, w, h, span } = plot;
  const step = tickStep(span);
  let s = `<line x1="${x}" y1="${y + h}" x2="${x + w}" y2="${y + h}" stroke="#555"/>`;
  for (let t = 0, i = 0; t <= span + 0.001; t += step, i++) {
    const tx = x + (t / span) * w;
    s += `<line x1="${n(tx)}" y1="${y + h}" x2="${n(tx)}" y2="${y + h + 4}" stroke="#555"/>`;
    if (i % labelEvery === 0) s += `<text x="${n(tx)}" y="${y + h + 16}" text-anchor="middle">${t}</text>`;
  }
  s += `<text x="${x - 10}" y="${y + h + 16}" text-anchor="end">ms</text>`;
  return s;
}

const FONT = `font-family="Helvetica, Arial, sans-serif" font-size="11" fill="#222"`;

/** One pattern: title, colour swatch, two or three cycles with every step's duration written on it. */
export function patternSvg(p: Pat): string {
  const row = rows[p];
  const cycle = cycleMs(row);
  const span = (cycle < 1000 ? 3 : 2) * cycle;
  const W = 760;
  const H = isWave(row) ? 190 : 165;
  const plot: Plot = { x: 50, y: 70, w: 670, h: 70, span };
  const X = (t: number) => plot.x + (t / span) * plot.w;
  let body = "";
  body += `<text x="12" y="20" font-size="14" font-weight="bold">${esc(docs[p].title)}</text>`;
  body += `<text x="12" y="36">${esc(patternName(p))} · ${esc(shownIn(p))} · ${esc(timing(p))}</text>`;
  body += `<rect x="${W - 150}" y="8" width="16" height="16" fill="${hex(row[Col.COLOUR])}" stroke="#222"/>`;
  body += `<text x="${W - 128}" y="20">${hex(row[Col.COLOUR])} ${esc(COLOUR_NAMES[row[Col.COLOUR]])}</text>`;
  body += `<text x="${plot.x - 6}" y="${plot.y + 4}" text-anchor="end">on</text>`;
  body += `<text x="${plot.x - 6}" y="${plot.y + plot.h}" text-anchor="end">off</text>`;
  body += waveformSvg(row, plot);
  if (isWave(row)) {
    const ty = plot.y + plot.h - (GPIO_THRESHOLD / 255) * plot.h;
    body += `<line x1="${plot.x}" y1="${n(ty)}" x2="${plot.x + plot.w}" y2="${n(ty)}" stroke="#222" stroke-dasharray="4 3"/>`;
    body += `<line x1="${plot.x}" y1="${H - 12}" x2="${plot.x + 24}" y2="${H - 12}" stroke="#222" stroke-dasharray="4 3"/>`;
    body += `<text x="${plot.x + 30}" y="${H - 8}">an LED on a plain GPIO (no PWM) is lit while the level is above this line</text>`;
    body += `<line x1="${n(X(0))}" y1="${plot.y - 8}" x2="${n(X(cycle))}" y2="${plot.y - 8}" stroke="#222" marker-start="url(#a)" marker-end="url(#a)"/>`;
    body += `<text x="${n(X(cycle / 2))}" y="${plot.y - 12}" text-anchor="middle">${cycle} ms = ${WAVE_STEPS} × ${waveStep(row)} ms</text>`;
  } else {
    let t = 0;
    for (let i = Col.TIMES; i < row.length; i++) {
      const d = row[i];
      const lit = (i - Col.TIMES) % 2 === 0;
      const cx = X(t + d / 2);
      body += lit
        ? `<text x="${n(cx)}" y="${plot.y - 6}" text-anchor="middle">${d}</text>`
        : `<text x="${n(cx)}" y="${plot.y + plot.h - 8}" text-anchor="middle">${d}</text>`;
      t += d;
    }
  }
  body += axisSvg(plot);
  return svgDoc(W, H, body);
}

function svgDoc(w: number, h: number, body: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" ${FONT}>\n` +
    `<defs><marker id="a" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#222"/></marker></defs>\n` +
    `<rect width="${w}" height="${h}" fill="#fff"/>\n` +
    body +
    `\n</svg>\n`
  );
}

/** Every pattern on one 5 s axis, for the README: the pace tells them apart as much as the colour. */
export function allSvg(): string {
  const W = 820;
  const rowH = 40;
  const top = 14;
  const span = 5000;
  const H = top + Pat.COUNT * rowH + 30;
  let body = "";
  for (let p = 0; p < Pat.COUNT; p++) {
    const y = top + p * rowH;
    const row = rows[p];
    body += `<rect x="8" y="${y + 6}" width="14" height="14" fill="${hex(row[Col.COLOUR])}" stroke="#222"/>`;
    body += `<text x="28" y="${y + 13}" font-weight="bold">${esc(docs[p].title)}</text>`;
    body += `<text x="28" y="${y + 27}" fill="#555">${esc(shownIn(p).replace(" (any state)", ""))}</text>`;
    body += waveformSvg(row, { x: 250, y: y + 4, w: 540, h: 26, span });
  }
  body += axisSvg({ x: 250, y: top + Pat.COUNT * rowH - 10, w: 540, h: 0, span });
  return svgDoc(W, H, body);
}

function ledLine(b: Board): string {
  const spec = panelSpec(b);
  const led = b.led;
  const pins = led.pins.map((p) => "GPIO" + p).join("/");
  const running = rows[Pat.RUNNING];
  const kind = led.type === "rgb" ? "RGB, 3 PWM channels" : led.type === "ws2812" ? "WS2812 pixel" : led.type === "pwm" ? "single colour, PWM" : led.type === "gpio" ? "single colour, on/off" : "none";
  const pwm = led.type === "pwm" || led.type === "rgb" ? (b.chip === "ESP32" ? `LEDC ${ESP32_PWM_HZ} Hz` : `software ${ESP8266_PWM_HZ} Hz`) : "—";
  const wave = led.type === "gpio" ? "slow blink" : led.type === "none" ? "—" : `every ${waveTick(running, spec.led.tick)} ms`;
  const lit = led.type === "ws2812" ? "—" : led.inverted ? "low" : "high";
  const negated = led.pins.filter((p) => espruinoNegates(b, p)).map((p) => `GPIO${p} is negated by Espruino: the driver compensates`);
  return `| \`${b.id}\` | ${kind} | ${pins || "—"} | ${lit} | ${led.brightness} | ${pwm} | ${wave} | ${negated.join("; ") || ""} |`;
}

function buttonLine(b: Board): string {
  const btn = b.button;
  if (!btn) return `| \`${b.id}\` | none | | |`;
  const spec = panelSpec(b).button!;
  const wiring = btn.activeLow ? "to GND, pull-up" : b.chip === "ESP32" ? "to 3.3 V, pull-down" : "to 3.3 V, external pull-down needed";
  const reads = `reads ${spec.level} when pressed` + (espruinoNegates(b, btn.pin) ? " (Espruino negates GPIO0 on ESP32, its BTN1)" : "");
  return `| \`${b.id}\` | GPIO${btn.pin} | ${wiring} | ${reads} |`;
}

export function ledMarkdown(boards: Board[]): string {
  const lines: string[] = [];
  const L = (s = "") => lines.push(s);
  L("# The LED and the button");
  L();
  L("<!-- Generated by `npm run docs` (scripts/led-docs.ts) from firmware/led/patterns.ts and boards/*.json. Edit those, not this file. -->");
  L();
  L("The board's only user interface is one LED and one button. Every picture below is drawn from the");
  L("pattern table the firmware runs (`firmware/led/patterns.ts`, Blynk.Edgent's patterns and colours),");
  L("so a board that blinks differently from its picture has a fault. Time runs left to right in ms;");
  L("the numbers on a blink are its on and off times.");
  L();
  L("![Every LED pattern on one 5-second axis](led/all.svg)");
  L();
  L("## Patterns");
  L();
  L("| Pattern | Shown in | Picture | Meaning | What to do |");
  L("|---|---|---|---|---|");
  for (let p = 0; p < Pat.COUNT; p++) {
    const row = rows[p];
    L(
      `| **${docs[p].title}**<br>\`${patternName(p)}\`<br>${hex(row[Col.COLOUR])} ${COLOUR_NAMES[row[Col.COLOUR]]} | ${shownIn(p)} | ` +
        `<img src="led/${patternName(p)}.svg" width="420" alt="${patternName(p)}: ${timing(p)}"><br>${timing(p)} | ${md(docs[p].meaning)} | ${md(docs[p].todo)} |`,
    );
  }
  L();
  L("A long button hold overrides every state, the 10 s pattern before the 3 s one (Edgent's order).");
  L("Any state without a row of its own shows the error pattern, as in Edgent. The pattern restarts from");
  L("its first step at every state change.");
  L();
  L(`While the firmware boots the LED stays dark; if no state follows within ${BOOT_GRACE_MS} ms (the firmware`);
  L("stopped in INIT), the error pattern appears.");
  L();
  L("**Single-colour LEDs** show the same timings in their own colour, so *Waiting for setup* and *Joining");
  L("WiFi* look alike (as in Edgent): a visible setup access point tells them apart. An LED on a plain");
  L("GPIO without PWM cannot breathe: it is lit for the middle half of each breathe cycle (above the");
  L("dashed line in the pictures), so *Online* becomes a slow 2.4 s on / 2.4 s off blink.");
  L();
  L("## How each board drives its LED");
  L();
  L("| profile | LED | pins | lit when pin is | brightness (of 255) | PWM | breathe update | notes |");
  L("|---|---|---|---|---|---|---|---|");
  for (const b of boards) L(ledLine(b));
  L();
  L("A blink costs one timer wake-up per edge. Only the breathe needs a periodic tick; it samples Edgent's");
  const perSecond = (b: Board) => Math.round(1000 / waveTick(rows[Pat.RUNNING], panelSpec(b).led.tick));
  const esp8266 = boards.find((b) => b.chip === "ESP8266");
  const esp32 = boards.find((b) => b.chip === "ESP32");
  L(`curve at a multiple of its ${waveStep(rows[Pat.RUNNING])} ms step (${esp8266 ? perSecond(esp8266) : "?"} updates a second on ESP8266, ${esp32 ? perSecond(esp32) : "?"} on ESP32)`);
  L("and skips writes that would not change the LED. ESP8266 has only software PWM: Espruino's default");
  L(`50 Hz visibly flickers, so the firmware uses ${ESP8266_PWM_HZ} Hz; a fully on or fully off LED uses no PWM`);
  L("interrupts at all. `npm run bench` reports the interpreter time the breathe takes on each board.");
  L();
  L("## The button");
  L();
  L("| profile | button | wiring | as Espruino sees it |");
  L("|---|---|---|---|");
  for (const b of boards) L(buttonLine(b));
  L();
  L("- **Press**: the console prints `Hold the button for 10 seconds to reset configuration...`.");
  L(`- **Held ${INDICATE_MS / 1000} s**: the LED breathes white. **Held ${RESET_MS / 1000} s**: it blinks white fast.`);
  L(`- **Released after ${RESET_MS / 1000} s or more**: the WiFi credentials and the auth token are erased and the`);
  L("  device returns to setup (blue blink). As in Edgent, nothing happens before the release.");
  L("- **Released earlier**: nothing is erased; the LED returns to the state's pattern.");
  L(`- A press shorter than ${MIN_PRESS_MS} ms is noise. Edges are debounced (${DEBOUNCE_MS} ms stable level), and a reset`);
  L("  needs one continuous hold: bounces and interference cannot add up to 10 s.");
  L("- A button already held at power-on is ignored until it has been released; hold it again to reset.");
  L();
  L("## QA mode");
  L();
  L("In the Espruino Web IDE (or any serial console), type `edgent.qa()`. The firmware keeps running,");
  L(`but the LED shows every pattern above for ${QA_STEP_MS / 1000} s each, in the order of the table, and names it:`);
  L();
  L("```");
  for (let p = 0; p < 2; p++) {
    const row = rows[p];
    L(`QA ${p + 1}/${Pat.COUNT} ${patternName(p)}: ${hex(row[Col.COLOUR]).slice(1)} ${row.slice(Col.TIMES).join("/")} ms`);
  }
  L("...");
  L("QA: button held 1234 ms");
  L("QA: done");
  L("```");
  L();
  L("Every release of the button is reported with its measured hold time in ms (`(noise)` under");
  L(`${MIN_PRESS_MS} ms, \`(would reset)\` from ${RESET_MS / 1000} s); QA mode never erases anything, and a hold still going on`);
  L("when QA ends cannot reset. Afterwards the LED shows the current state again.");
  L();
  L("To check a board: film the LED with a phone's slow-motion camera (240 frames/s = 4 ms per frame),");
  L("or put a scope on the LED pin, and compare with the pictures. Blink edges land within a few ms of");
  L("the table (one timer tick; edges do not drift over time). The breathe period is");
  L(`${cycleMs(rows[Pat.RUNNING])} ms (Edgent's ${WAVE_STEPS} steps of ${waveStep(rows[Pat.RUNNING])} ms), the 3 s hold's ${cycleMs(rows[Pat.HOLD_3S])} ms. On a scope,`);
  L("a dimmed level is a PWM signal at the frequency in the table above.");
  return lines.join("\n") + "\n";
}

/** Every generated file, relative to the repository root. */
export async function renderDocs(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (let p = 0; p < Pat.COUNT; p++) out[`docs/led/${patternName(p)}.svg`] = patternSvg(p);
  out["docs/led/all.svg"] = allSvg();
  out["docs/led.md"] = ledMarkdown(await loadBoards());
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const files = await renderDocs();
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(ROOT, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
    console.log("wrote " + rel);
  }
}
