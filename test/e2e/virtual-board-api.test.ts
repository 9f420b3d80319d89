// The control page's fault switches (virtual-board/http.ts, the API the page posts to), on the built
// firmware: what a person rehearsing a test plan would see after each one. The cases run in order
// on one provisioned device.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import net from "node:net";
import { startVirtualBoard, DEMO_TOKEN, DEFAULT_BOARD, type VirtualBoard } from "../../virtual-board/index.ts";
import type { Snapshot } from "../../virtual-board/workbench.ts";
import { readIdentity } from "../../scripts/identity.js";
import { startMosquitto, mosquittoOrSkip, type Mosquitto } from "../mqtt/mosquitto.ts";

const BUNDLE = new URL(`../../dist/${DEFAULT_BOARD}.js`, import.meta.url).pathname;
/** Device time per wall-clock time: the reconnects below take a few device seconds each. */
const SPEED = 10;

describe("virtual board control API: network, router password, cloud, power (npm start)", function () {
  this.timeout(60_000);
  let vb: VirtualBoard;

  const post = async (path: string, body: unknown): Promise<{ status: number; json: any }> => {
    const r = await fetch(vb.controlUrl + "api/" + path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    return { status: r.status, json: await r.json() };
  };
  const state = async (): Promise<Snapshot> => (await fetch(vb.controlUrl + "api/state")).json() as Promise<Snapshot>;
  /** Polls the control API (as the page does) until `ok` holds. */
  const until = async (what: string, ok: (s: Snapshot) => boolean, ms = 30_000): Promise<Snapshot> => {
    const end = Date.now() + ms;
    for (;;) {
      const s = await state();
      if (ok(s)) return s;
      if (Date.now() > end) assert.fail(`${what}: still ${JSON.stringify(s.device)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const running = (s: Snapshot) => s.power && s.device.state === "RUNNING";
  const consoleSince = (n: number) => vb.sim.console.slice(n).join("\n");
  let config = "";

  before(async function () {
    if (!existsSync(BUNDLE)) {
      console.log(`    (skipped: ${BUNDLE} is missing; npm test builds it)`);
      return this.skip();
    }
    vb = await startVirtualBoard({ port: 0, speed: SPEED, flashFile: null, fresh: true });
    await until("portal open", (s) => s.device.state === "WAIT_CONFIG" && s.device.reachable);
    // Provisioned the way the Blynk app does it, through the portal.
    const r = await fetch(`${vb.portalUrl}config?ssid=HomeNet&pass=${encodeURIComponent("correct horse")}&blynk=${DEMO_TOKEN}`);
    assert.equal(r.status, 200);
    const s = await until("online after setup", running);
    config = JSON.stringify(s.stored.config);
    assert.match(config, /HomeNet/);
  });

  after(async () => {
    await vb?.close();
  });

  it("power cut: off at once, portal says so, back online by itself with the same stored config", async () => {
    const logins = (await state()).cloud.logins;
    const cut = await post("power", { action: "cut", offMs: 1000 });
    assert.equal(cut.status, 200);
    assert.equal(cut.json.power, false);
    assert.equal(JSON.stringify(cut.json.stored.config), config, "the flash keeps the config without power");
    const portal = await fetch(vb.portalUrl);
    assert.equal(portal.status, 503);
    assert.match(await portal.text(), /No power/);
    const s = await until("online after the power came back", (x) => running(x) && x.cloud.logins > logins);
    assert.equal(JSON.stringify(s.stored.config), config);
    assert.equal(s.device.ap, "", "a provisioned device boots without its access point");
  });

  it("network down: the device loses the link and comes back when the router is back, erasing nothing", async () => {
    const seen = vb.sim.console.length;
    const down = await post("network", { ssid: "HomeNet", up: false });
    assert.equal(down.json.world.find((n: { ssid: string }) => n.ssid === "HomeNet").up, false);
    await until("offline", (s) => s.device.state !== "RUNNING");
    assert.match(consoleSince(seen), /WiFi connection lost/);
    await post("network", { ssid: "HomeNet", up: true });
    const s = await until("online again", running);
    assert.equal(JSON.stringify(s.stored.config), config);
  });

  it("router password changed: the device is kicked off; with the old password back it reconnects by itself", async () => {
    const bad = await post("network", { ssid: "HomeNet", password: "short" });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error, /5 characters; WPA2 needs 8 to 63/);
    const seen = vb.sim.console.length;
    const changed = await post("network", { ssid: "HomeNet", password: "a new password" });
    assert.equal(changed.json.world.find((n: { ssid: string }) => n.ssid === "HomeNet").password, "a new password");
    await until("kicked off", (s) => s.device.state !== "RUNNING");
    assert.match(consoleSince(seen), /WiFi connection lost/);
    await post("network", { ssid: "HomeNet", password: "correct horse" });
    const s = await until("online again", running);
    assert.equal(JSON.stringify(s.stored.config), config, "a changed router password erases nothing");
  });

  const otaEvents = () => vb.cloud.events.filter((e) => e.kind === "event" && (e.body ?? "").startsWith("sys_ota\0")).map((e) => e.body!.slice(8));

  it("Blynk.Air, a download that fails (404): the device says why, stays on its firmware and online", async () => {
    const events = otaEvents().length;
    const r = await post("update", { kind: "http404" });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const end = Date.now() + 60_000;
    while (otaEvents().length < events + 2 && Date.now() < end) await new Promise((res) => setTimeout(res, 100));
    assert.deepEqual(otaEvents().slice(events), ["OTA started", "Firmware update failed: HTTP 404"]);
    await until("online again", running);
  });

  it("Blynk.Air, a good update: the next version is built, downloaded, switched to and reported", async () => {
    const events = otaEvents().length;
    const before = vb.sim.console.length;
    const r = await post("update", { kind: "good" });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const end = Date.now() + 60_000;
    while (otaEvents().length < events + 2 && Date.now() < end) await new Promise((res) => setTimeout(res, 100));
    const from = readIdentity().firmwareVersion;
    const to = from.replace(/\d+$/, (p: string) => String(Number(p) + 1));
    assert.deepEqual(otaEvents().slice(events), ["OTA started", `Firmware updated from ${from} to ${to}`], consoleSince(before));
    await until("online with the new firmware", running);
    assert.equal(vb.cloud.current()?.info?.mcu, to);
    assert.equal((await post("update", { kind: "nonsense" })).status, 400, "an unknown kind is refused");
  });

  it("cloud rejects the token: last_error 703 and the setup portal opens for a new token", async () => {
    const r = await post("cloud", { reject: true });
    assert.equal(r.json.cloud.rejecting, true);
    const s = await until("portal open after the rejection", (x) => x.device.last_error === 703 && x.device.reachable);
    assert.match(s.cloud.lastLogin, /^rejected \(invalid token\)/);
    const page = await fetch(vb.portalUrl);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<form/);
    await post("cloud", { reject: false });
  });
});

describe("virtual board ports", function () {
  this.timeout(30_000);

  it("a taken portal port is named as the one after --port", async function () {
    if (!existsSync(BUNDLE)) return this.skip();
    // Two free neighbouring ports, the second one then held by someone else.
    const holder = net.createServer();
    let control = 0;
    for (let tries = 0; tries < 20 && !control; tries++) {
      const probe = net.createServer();
      const p = await new Promise<number>((res) => probe.listen(0, "127.0.0.1", () => res((probe.address() as net.AddressInfo).port)));
      await new Promise((res) => probe.close(res));
      if (p < 65535 && (await new Promise<boolean>((res) => holder.once("error", () => res(false)).listen(p + 1, "127.0.0.1", () => res(true))))) control = p;
    }
    assert.ok(control, "found two free neighbouring ports");
    try {
      await assert.rejects(startVirtualBoard({ port: control, flashFile: null, fresh: true }),
        new RegExp(`^Error: port ${control + 1} on 127\\.0\\.0\\.1 is in use; the portal needs it \\(the port after --port ${control}\\): choose another --port$`));
    } finally {
      await new Promise((res) => holder.close(res));
    }
  });
});

describe("virtual board --broker: the device reaches an MQTT broker of the user's own (npm start -- --broker)", function () {
  this.timeout(60_000);
  let vb: VirtualBoard | undefined;
  let m: Mosquitto | undefined;

  before(function () {
    mosquittoOrSkip(this);
  });
  after(async () => {
    await vb?.close();
    await m?.stop();
  });

  it("provisioned with the same URL as Server and no token, it is online on the broker; the banner's URL hides the password", async function () {
    if (!existsSync(BUNDLE)) return this.skip();
    m = await startMosquitto({ users: { dev: "pw:1" } });
    const obs = await m.observe("#");
    const url = `mqtt://dev:${encodeURIComponent("pw:1")}@localhost:${m.port}`;
    vb = await startVirtualBoard({ port: 0, speed: SPEED, flashFile: null, fresh: true, broker: url });
    assert.equal(vb.broker, `mqtt://dev:****@localhost:${m.port}`);
    const end = Date.now() + 30_000;
    const portalUp = async () => ((await (await fetch(vb!.controlUrl + "api/state")).json()) as Snapshot).device.reachable;
    while (!(await portalUp()) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    const r = await fetch(`${vb.portalUrl}config?ssid=HomeNet&pass=${encodeURIComponent("correct horse")}&host=${encodeURIComponent(url)}`);
    assert.equal(r.status, 200, await r.text());
    const online = await obs.waitFor((x) => x.topic.endsWith("/status") && x.payload === "online", 30_000);
    assert.match(online.topic, /^blynk-.*\/status$/);
    assert.equal(vb.cloud.logins.length, 0, "nothing went to the fake Blynk cloud");
    // the control page's view of the stored config: the broker, its password masked
    let st: Snapshot | undefined;
    while (Date.now() < end && !(st = (await (await fetch(vb.controlUrl + "api/state")).json()) as Snapshot).stored.config) await new Promise((r) => setTimeout(r, 100));
    assert.equal(st!.stored.config!.broker, `mqtt://dev:••••••••@localhost:${m.port}`);
    assert.ok(st!.stored.config!.flags.includes("mqtt"));
    assert.ok(!JSON.stringify(st).includes("pw:1"), "the password never leaves the control API");
  });

  it("refuses an mqtts:// broker (no TLS in the simulator) and a bad URL, saying why", async () => {
    await assert.rejects(startVirtualBoard({ port: 0, flashFile: null, fresh: true, broker: "mqtts://localhost:8883" }), /no TLS; give the broker's plain port as mqtt:\/\//);
    await assert.rejects(startVirtualBoard({ port: 0, flashFile: null, fresh: true, broker: "localhost:1883" }), /must start with mqtt:\/\//);
  });
});
