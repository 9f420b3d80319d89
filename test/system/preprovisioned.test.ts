// The preprovisioned path on the built bundles: a board whose Storage holds `edgent.token`
// (written at the factory by `npm run fleet -- token`) asks only for WiFi and logs in with
// that token. preprovisioned.e2e.ts runs the fleet tool's token writer against the fake board and
// boots the simulator from exactly the Storage it produced.
import assert from "node:assert/strict";
import { TOKEN, OTHER_TOKEN, HOME } from "./helpers.ts";
import { systemSuite } from "./device.ts";

const wifiOnly = "/config?ssid=" + encodeURIComponent(HOME.ssid) + "&pass=" + encodeURIComponent(HOME.password);

systemSuite("preprovisioned token", ({ boot }) => {
  it("says preprovisioned, asks only for WiFi, and logs in with the factory token", async () => {
    const d = await boot({ files: { "edgent.token": TOKEN } });
    assert.ok(await d.portal());
    assert.ok(d.console.some((l: string) => /Firmware is preprovisioned/.test(l)));
    const info = JSON.parse((await d.fetch("/board_info.json")).body);
    assert.equal(info.preprovisioned, true);
    assert.ok(!JSON.stringify(info).includes(TOKEN), "the token is never reported");
    const page = (await d.fetch("/")).body;
    assert.ok(!/name="blynk"/.test(page), "no token field");
    assert.match(page, /already holds its Blynk auth token/);
    assert.match(page, /name="ssid"/);
    const r = await d.fetch(wifiOnly);
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(JSON.parse(r.body), { status: "ok", msg: "Trying to connect..." });
    assert.ok(await d.waitForLog(/=> RUNNING/, 60000), "reaches RUNNING");
    assert.deepEqual(d.cloud.logins.map((l: any) => l.token), [TOKEN]);
    assert.ok(!d.console.some((l: string) => l.includes(TOKEN)), "token never printed whole");
  });

  it("a token given in /config wins over the factory token", async () => {
    const d = await boot({ files: { "edgent.token": TOKEN }, tokens: [TOKEN, OTHER_TOKEN] });
    assert.ok(await d.portal());
    assert.equal((await d.fetch(wifiOnly + "&blynk=" + OTHER_TOKEN)).status, 200);
    assert.ok(await d.until(() => d.cloud.logins.length > 0, 60000));
    assert.equal(d.cloud.logins[0].token, OTHER_TOKEN);
  });

  it("a factory token the cloud does not know ends as last_error 703 in the portal", async () => {
    const d = await boot({ files: { "edgent.token": TOKEN }, tokens: [OTHER_TOKEN] });
    assert.ok(await d.portal());
    assert.equal((await d.fetch(wifiOnly)).status, 200);
    assert.ok(await d.waitForLog(/Invalid auth token/, 60000));
    assert.ok(await d.until(async () => JSON.parse((await d.fetch("/board_info.json")).body).last_error === 703, 5000));
    assert.equal((await d.ap()).up, true);
  });

  for (const [what, files] of [
    ["no token file", undefined],
    ["a token file with a trailing newline", { "edgent.token": TOKEN + "\n" }],
    ["a token file one character short", { "edgent.token": TOKEN.slice(1) }],
  ] as const) {
    it(`with ${what}: not preprovisioned, the token field is back, and /config without a token is refused`, async () => {
      const d = await boot({ files });
      assert.ok(await d.portal());
      assert.equal(JSON.parse((await d.fetch("/board_info.json")).body).preprovisioned, false);
      assert.match((await d.fetch("/")).body, /name="blynk"/);
      const r = await d.fetch(wifiOnly);
      assert.notEqual(r.status, 200);
      assert.match(r.body, /Auth token is missing/);
      await d.advance(5000);
      assert.equal(d.cloud.logins.length, 0);
    });
  }
});
