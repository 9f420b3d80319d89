// The virtual board (npm start) in a real headless Chromium: a laptop window on the control page
// and a phone-sized window on the portal, used the way a person would use them.
// The cases run in order on one device: each starts where the previous one left it.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { startVirtualBoard, DEMO_TOKEN, DEFAULT_BOARD, type VirtualBoard } from "../../virtual-board/index.ts";

// Page-side code below runs in the browser; these names exist there (module-local, not the DOM lib for the whole project).
declare const document: any;
declare const window: any;

const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const BUNDLE = new URL(`../../dist/${DEFAULT_BOARD}.js`, import.meta.url).pathname;
/** Device time runs this much faster than the wall clock, so 10 s holds and 5 s breathes take little real time. */
const SPEED = 10;
const PHONE = { width: 390, height: 844 };
/** Page conditions are polled on a timer: requestAnimationFrame polling stops in a page that is not in front. */
const POLL_MS = 100;

describe("virtual board in headless Chromium (npm start)", function () {
  this.timeout(120000);
  let vb: VirtualBoard | undefined;
  let browser: Browser | undefined;
  let laptop: BrowserContext;
  let phone: BrowserContext;
  let control: Page;
  let portal: Page;
  let shots = "";

  const shot = async (page: Page, name: string) => {
    const file = join(shots, name + ".png");
    await page.bringToFront(); // a page in the background draws no frames to capture
    await page.screenshot({ path: file, fullPage: true });
    return file;
  };
  const observedPattern = () => control.getAttribute("#pattern-observed", "data-pattern");
  const badge = () => control.getAttribute("#state", "data-state");
  /** Waits until an attribute of an element on the control page is one of `values`. */
  const attrBecomes = (selector: string, attr: string, values: string[], timeout: number) =>
    control.waitForFunction(([sel, a, v]) => v.includes(document.querySelector(sel)?.getAttribute(a) ?? ""), [selector, attr, values] as const, { timeout, polling: POLL_MS });
  const stateBecomes = (state: string, timeout = 30000) => attrBecomes("#state", "data-state", [state], timeout);
  const patternBecomes = (names: string[], timeout = 30000) => attrBecomes("#pattern-observed", "data-pattern", names, timeout);
  const holdReaches = (ms: number) =>
    control.waitForFunction((m) => Number(document.querySelector("#hold-timer")?.getAttribute("data-ms")) >= m, ms, { timeout: 20000, polling: POLL_MS });
  /** Clicks the control page's time selector (1x, 10x, ...) and waits for the server to confirm. */
  const setSpeed = async (x: number) => {
    await control.click(`#speed button[data-speed="${x}"]`);
    await attrBecomes(`#speed button[data-speed="${x}"]`, "aria-pressed", ["true"], 5000);
  };
  const configSays = (re: RegExp) => control.waitForFunction((src) => new RegExp(src).test(document.querySelector("#config")?.textContent || ""), re.source, { timeout: 10000, polling: POLL_MS });

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      console.log(`    (skipped: no Chromium at ${CHROMIUM}; install Debian's chromium, as .ci/run does, or set CHROMIUM_PATH)`);
      return this.skip();
    }
    if (!existsSync(BUNDLE)) {
      console.log(`    (skipped: ${BUNDLE} is missing; npm test builds it)`);
      return this.skip();
    }
    shots = mkdtempSync(join(tmpdir(), "virtual-board-e2e-"));
    vb = await startVirtualBoard({ port: 0, speed: SPEED, flashFile: null, fresh: true });
    // launch() gives the browser a new, empty profile directory of its own.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    laptop = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    phone = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    control = await laptop.newPage();
    portal = await phone.newPage();
    await control.goto(vb.controlUrl);
  });

  afterEach(async function () {
    if (this.currentTest?.state !== "failed" || !vb) return;
    const name = "failed-" + (this.currentTest.title.replace(/[^a-z0-9]+/gi, "-").slice(0, 40));
    await shot(control, name + "-control").catch(() => {});
    await shot(portal, name + "-phone").catch(() => {});
    writeFileSync(join(shots, name + "-state.json"), JSON.stringify(await (await fetch(vb.controlUrl + "api/state")).json(), null, 1));
  });

  after(async () => {
    if (shots) console.log(`    screenshots: ${shots}`);
    await browser?.close();
    await vb?.close();
  });

  it("shows a fresh device waiting for setup, its LED blinking the wait-config pattern", async () => {
    await stateBecomes("WAIT_CONFIG", 20000);
    await patternBecomes(["wait-config"], 20000);
    assert.match(await control.textContent("#config") ?? "", /Nothing stored/);
    assert.equal(await control.textContent("#token"), DEMO_TOKEN);
    await shot(control, "1-control-waiting");
  });

  it("serves a portal form that fits a phone screen: no sideways scrolling, every input with a visible label", async () => {
    await portal.goto(vb!.portalUrl);
    await portal.waitForSelector("form input#ssid");
    assert.match((await portal.textContent("h1")) ?? "", /^Blynk .+-[0-9A-Z]{4}$/);
    const check = () =>
      portal.evaluate(() => {
        const problems: string[] = [];
        const vw = window.innerWidth;
        if (document.documentElement.scrollWidth > vw) problems.push(`page is ${document.documentElement.scrollWidth}px wide in a ${vw}px window`);
        for (const input of Array.from(document.querySelectorAll("input:not([type=hidden])")) as any[]) {
          const box = input.getBoundingClientRect();
          if (box.width === 0) continue; // inside the closed "Advanced" section
          const label = input.id ? document.querySelector(`label[for="${input.id}"]`) : null;
          const lb = label?.getBoundingClientRect();
          if (!label || !lb || lb.width === 0 || !label.textContent?.trim()) problems.push(`input ${input.name} has no visible label`);
          else if (lb.left < 0 || lb.right > vw) problems.push(`label of ${input.name} is cut off`);
          if (box.left < 0 || box.right > vw) problems.push(`input ${input.name} sticks out of the screen`);
        }
        return problems;
      });
    assert.deepEqual(await check(), []);
    await shot(portal, "2-portal-form-phone");
    await portal.click("summary");
    assert.deepEqual(await check(), [], "also with the Advanced section open");
    const visibleInputs = await portal.$$eval("input:not([type=hidden])", (els) => els.filter((e) => e.getBoundingClientRect().width > 0).length);
    assert.ok(visibleInputs >= 10, `all fields visible with Advanced open (${visibleInputs})`);
    await shot(portal, "3-portal-form-advanced-phone");
    await portal.click("summary");
    // Opening the page asked for the board info: the device knows a phone is configuring it.
    await stateBecomes("CONFIGURING", 10000);
  });

  it("takes the device online when the form is submitted from the phone", async () => {
    // At 1x, as on a real phone: the status page reloads every 2 s of real time and must catch the
    // "online" answer before the device closes its access point, 10 s of device time later.
    await setSpeed(1);
    await portal.fill("#ssid", "HomeNet");
    await portal.fill("#pass", "correct horse");
    await portal.fill("#blynk", DEMO_TOKEN);
    await Promise.all([portal.waitForURL(/\/status$/), portal.click("form button")]);
    await stateBecomes("RUNNING");
    assert.ok(vb!.cloud.logins.some((l) => l.token === DEMO_TOKEN && l.status === 200), "the fake cloud accepted the token");
  });

  it("tells the phone that the device is online before the setup network closes", async () => {
    await portal.bringToFront();
    try {
      await portal.waitForFunction(() => /the device is online/.test(document.body.textContent || ""), null, { timeout: 8000, polling: POLL_MS });
    } finally {
      await shot(portal, "4-portal-status-phone");
    }
    assert.doesNotMatch((await portal.textContent("body")) ?? "", /No setup is in progress/);
  });

  it("shows the LED breathing the running pattern, and the stored config with its secrets masked", async () => {
    await setSpeed(SPEED);
    await patternBecomes(["running"]);
    // Breathing: the drawn LED passes through many in-between brightness levels.
    const levels = new Set<string>();
    for (let i = 0; i < 20; i++) {
      levels.add((await control.getAttribute("#led", "data-level")) ?? "");
      await control.waitForTimeout(50);
    }
    const mid = [...levels].map(Number).filter((x) => x > 0.05 && x < 0.95);
    assert.ok(mid.length >= 4, `the LED dims smoothly (levels seen: ${[...levels].join(" ")})`);
    await configSays(/HomeNet/);
    const config = (await control.textContent("#config")) ?? "";
    assert.ok(!config.includes("correct horse"), "the stored password is masked");
    assert.ok(!config.includes(DEMO_TOKEN), "the stored token is masked");
    assert.ok(config.includes(DEMO_TOKEN.slice(0, 4)), "the token's first 4 characters are shown");
    await shot(control, "5-control-running");
  });

  it("resets after the button is held 10 s (timer visible) and the portal comes back", async () => {
    const before = await observedPattern();
    assert.equal(before, "running");
    await control.hover("#button");
    await control.mouse.down();
    await holdReaches(4000);
    assert.match((await control.textContent("#hold-timer")) ?? "", /^held \d+\.\d s/);
    assert.equal(await control.textContent("#pattern-expected"), "hold-3s");
    await holdReaches(10600);
    assert.match((await control.textContent("#hold-timer")) ?? "", /release to erase/);
    await patternBecomes(["hold-10s"], 10000); // fast white blinking: releasing now erases
    await shot(control, "6-control-holding");
    await control.mouse.up();
    await stateBecomes("WAIT_CONFIG");
    assert.ok(vb!.sim.console.some((l) => /Resetting configuration!/.test(l)), "the console says the configuration was reset");
    await configSays(/Nothing stored/);
    // The phone opens the portal again (while it is closed, the page there reloads itself every 2 s).
    await portal.goto(vb!.portalUrl);
    await portal.waitForSelector("form input#ssid", { timeout: 30000 });
    assert.match((await portal.textContent("h1")) ?? "", /^Blynk .+-[0-9A-Z]{4}$/);
    await patternBecomes(["wait-config", "configuring"], 20000);
    await shot(control, "7-control-after-reset");
    assert.notEqual(await badge(), "RUNNING");
  });

  it("resets after the space bar is held 10 s, the same as the mouse", async () => {
    // Provisioned again the way the Blynk app does it, straight through the portal's API.
    const r = await fetch(`${vb!.portalUrl}config?ssid=HomeNet&pass=${encodeURIComponent("correct horse")}&blynk=${DEMO_TOKEN}`);
    assert.equal(r.status, 200);
    await stateBecomes("RUNNING");
    await configSays(/HomeNet/);
    const resets = () => vb!.sim.console.filter((l) => /Resetting configuration!/.test(l)).length;
    const before = resets();
    await control.bringToFront();
    await control.evaluate(() => document.activeElement?.blur()); // space in a text field types a space instead
    await control.keyboard.down("Space");
    await holdReaches(10600);
    assert.match((await control.textContent("#hold-timer")) ?? "", /release to erase/);
    await control.keyboard.up("Space");
    await stateBecomes("WAIT_CONFIG");
    assert.equal(resets(), before + 1, "the console says the configuration was reset");
    await configSays(/Nothing stored/);
  });
});
