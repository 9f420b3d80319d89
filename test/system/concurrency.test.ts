// Phones at once: four clients (an ESP8266 access point admits four stations) each ask for the
// probe URLs, the network list and the page at the same time. Every answer is the right one or a
// clear 503 "try again" (asked again, as a phone does); the setup then still goes through, and the
// interpreter printed no error. In the simulator and on the real interpreter (test/system/device.ts);
// the 20-client hammer with its timer and socket baseline is test/system/hammer.test.ts.
import assert from "node:assert/strict";
import { HOME, TOKEN } from "./helpers.ts";
import { systemSuite, type TestDevice } from "./device.ts";

const PHONES = 4;
const ASKS: [string, string, (status: number, body: string) => boolean][] = [
  ["captive.apple.com", "/hotspot-detect.html", (s) => s === 302],
  ["192.168.4.1", "/wifi_scan.json", (s, b) => s === 200 && JSON.parse(b).some((n: any) => n.ssid === HOME.ssid)],
  ["connectivitycheck.gstatic.com", "/generate_204", (s) => s === 302],
  ["192.168.4.1", "/", (s, b) => s === 200 && /<form/.test(b)],
  ["192.168.4.1", "/board_info.json", (s, b) => s === 200 && JSON.parse(b).ssid !== undefined],
];

/** One phone's requests in a row; a 503 or a connection closed without an answer is asked again. */
async function phone(d: TestDevice): Promise<string[]> {
  const wrong: string[] = [];
  for (const [host, path, right] of ASKS) {
    let r = { status: 0, body: "" };
    for (let i = 0; i < 8; i++) {
      r = await d.fetch(path, { headers: { Host: host } }).catch(() => ({ status: 0, body: "" }) as any);
      if (r.status !== 503 && r.status !== 0) break;
      await d.advance(500);
    }
    if (!right(r.status, r.body)) wrong.push(`${host}${path}: ${r.status} ${r.body.slice(0, 80)}`);
  }
  return wrong;
}

systemSuite("four phones at once", ({ boot }) => {
  it("answers every phone rightly (or 503, asked again), then takes the setup", async () => {
    const d = await boot();
    assert.ok(await d.portal());
    const answers = await Promise.all(Array.from({ length: PHONES }, () => phone(d)));
    assert.deepEqual(answers.flat(), []);
    const r = await d.fetch("/config?ssid=" + HOME.ssid + "&pass=" + encodeURIComponent(HOME.password) + "&blynk=" + TOKEN);
    assert.equal(r.status, 200, r.body);
    assert.ok(await d.waitForLog(/=> RUNNING/, 60000));
    assert.deepEqual(d.errors(), []);
  });
});
