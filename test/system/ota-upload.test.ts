// The setup portal's /update (Blynk.Edgent's local firmware upload): a form, and a multipart upload
// streamed into an update slot and checked and switched to as a download from Blynk.Air is; behind
// the setup code in a build that has one. On both backends.
import assert from "node:assert/strict";
import { HOME, TOKEN } from "./helpers.ts";
import { systemSuite, type TestDevice } from "./device.ts";
import { otaEvents, updateFiles, online, cloudVersion } from "./ota-helpers.ts";
import { otaFile, buildDir } from "./ota-images.ts";
import { readIdentity } from "../../scripts/identity.js";

const OLD = readIdentity().firmwareVersion;
const NEW = "0.2.0";
const CODE = "Upd4te-c0de-77";
const B = "----edgentUpload7MA4YWxkTrZu0gW";

/** A multipart/form-data body: the fields in order, then the file as field "update". */
function multipart(file: string, fields: [string, string][] = []): string {
  let s = "";
  for (const [k, v] of fields) s += `--${B}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`;
  return s + `--${B}\r\nContent-Disposition: form-data; name="update"; filename="fw.ota.js"\r\nContent-Type: application/octet-stream\r\n\r\n${file}\r\n--${B}--\r\n`;
}

function upload(d: TestDevice, body: string, path = "/update") {
  return d.fetch(path, { method: "POST", headers: { "Content-Type": "multipart/form-data; boundary=" + B }, body, timeoutMs: 120000 });
}

const SETUP = "/config?ssid=" + HOME.ssid + "&pass=" + encodeURIComponent(HOME.password) + "&blynk=" + TOKEN;

systemSuite("local firmware upload (/update)", ({ boot, board }) => {
  // the builds of the other versions (half a minute each the first time) before the tests' clocks
  before(function () {
    this.timeout(300000);
    otaFile(board.board, NEW);
  });
  it("GET /update: a form to pick the file", async () => {
    const d = await boot();
    assert.ok(await d.portal());
    const r = await d.fetch("/update");
    assert.equal(r.status, 200);
    assert.match(r.body, /<form method="POST" action="\/update" enctype="multipart\/form-data">/);
    assert.match(r.body, /<input type="file" name="update"/);
    assert.doesNotMatch(r.body, /name="code"/, "no setup code in this build");
  });

  it("an upload in setup mode is checked, switched to and kept; its report goes out at the first login", async () => {
    const d = await boot();
    assert.ok(await d.portal());
    const from = d.console.length;
    const r = await upload(d, multipart(otaFile(board.board, NEW), [["note", "x".repeat(board.chip === "ESP32" ? 17 : 5)]]));
    assert.equal(r.status, 200, r.body);
    assert.equal(r.body, "Update Success. Rebooting\n");
    assert.ok(await d.waitForLog(new RegExp(`Blynk Edgent for Espruino ${NEW.replace(/\./g, "\\.")} `), 60000, from), "the new firmware boots");
    assert.ok(await d.waitForLog(/firmware 0\.2\.0 on trial, boot 1 of 3/, 10000, from));
    assert.ok(await d.waitForLog(/AP URL: /, 60000, d.console.findIndex((l, i) => i >= from && /Blynk Edgent for Espruino 0\.2\.0 /.test(l))), "its setup portal comes up");
    assert.equal((await d.fetch("/board_info.json")).status, 200);
    assert.deepEqual(await updateFiles(d), ["edgent.img1", "edgent.upd0", "edgent.upd1"], "confirmed (trial count, confirmation), nothing else");
    assert.equal(d.restarts(), 1);
    // set up: the report at the first login
    assert.equal((await d.fetch(SETUP)).status, 200);
    assert.ok(await online(d));
    assert.equal(await cloudVersion(d), NEW);
    assert.ok(await d.until(() => otaEvents(d).length >= 1, 20000));
    assert.deepEqual(otaEvents(d), [`Firmware updated from ${OLD} to ${NEW}`]);
    assert.equal(d.restarts(), 1, "not rolled back");
    assert.deepEqual(d.errors(), []);
  });

  it("a file that is no firmware image, or a body cut short, is refused and nothing is kept", async () => {
    const d = await boot();
    assert.ok(await d.portal());
    const r = await upload(d, multipart("x".repeat(3000)));
    assert.equal(r.status, 400);
    assert.equal(r.body, "Firmware update failed: the file is not a whole Edgent firmware image\n");
    const cut = multipart(otaFile(board.board, NEW));
    const r2 = await d.fetch("/update", { method: "POST", headers: { "Content-Type": "multipart/form-data; boundary=" + B, "Content-Length": String(cut.length) }, body: cut.slice(0, 20000), timeoutMs: 60000 }).catch((e) => ({ status: 0, body: String(e) }));
    assert.notEqual(r2.status, 200, r2.body);
    assert.ok(await d.until(async () => (await updateFiles(d)).length === 0, 30000), "left: " + (await updateFiles(d)).join(", "));
    assert.equal(d.restarts(), 0);
    assert.ok(await d.portal());
    assert.equal((await d.fetch("/board_info.json")).status, 200, "the portal still answers");
  });
});

// A build with a setup code: /update needs it (form field, query or header), as /config does.
systemSuite("local firmware upload with a setup code", ({ boot, board }) => {
  const dir = () => buildDir(OLD, { EDGENT_SETUP_CODE: CODE });
  // the builds of the other versions (half a minute each the first time) before the tests' clocks
  before(function () {
    this.timeout(300000);
    dir();
    otaFile(board.board, NEW, { EDGENT_SETUP_CODE: CODE });
  });
  it("refused without the code (403, nothing written); taken with it in the form", async () => {
    const d = await boot({ bundle: `${dir()}/${board.board}.js` });
    assert.ok(await d.portal());
    assert.match((await d.fetch("/update")).body, /name="code"/);
    const file = otaFile(board.board, NEW, { EDGENT_SETUP_CODE: CODE });
    const no = await upload(d, multipart(file));
    assert.equal(no.status, 403, no.body);
    assert.match(no.body, /Setup code is missing or wrong/);
    const wrong = await upload(d, multipart(file, [["code", "not-the-code"]]));
    assert.equal(wrong.status, 403);
    assert.deepEqual(await updateFiles(d), []);
    const ok = await upload(d, multipart(file, [["code", CODE]]));
    assert.equal(ok.status, 200, ok.body);
    assert.ok(await d.waitForLog(/Blynk Edgent for Espruino 0\.2\.0 /, 60000), "the new firmware boots");
    assert.ok(!d.console.some((l) => l.includes(CODE)), "the code never on the console");
  });
});
