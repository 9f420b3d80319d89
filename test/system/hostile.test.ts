// 200+ hostile or odd requests: each gets a clear error or the right value byte for byte; none
// crashes the interpreter, leaks timers or sockets, or corrupts the stored config.
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { world, BOARDS, rawRequest } from "./helpers.ts";
import { hostileCorpus } from "../corpus/hostile-requests.ts";
import { decodeRecord } from "../../firmware/core/config.ts";
const corpus = hostileCorpus();

// ESP8266 is the stricter target (268-byte receive chunks, least RAM); one board keeps the suite fast.
for (const b of BOARDS.filter((x) => x.chip === "ESP8266")) {
  describe(`hostile requests on ${b.board} (${corpus.length} cases)`, function () {
    this.timeout(300000);
    let env: Awaited<ReturnType<typeof world>>;
    let baseline: { timers: number; sockets: number };
    before(async () => {
      env = await world({ board: b, networks: [{ ssid: "Elsewhere", password: "password1", rssi: -50, channel: 1 }] });
      await env.sim.advance(3000);
      baseline = { timers: env.sim.timerCount(), sockets: env.sim.socketCount() };
    });
    after(async () => {
      env.sim.stop();
      await env.cloud.close();
    });

    it("has at least 200 cases", () => assert.ok(corpus.length >= 200));

    for (const k of corpus)
      it(k.name, async () => {
        const { sim } = env;
        const before = sim.wifi.log.length;
        const r = await rawRequest(sim, k.chunks, 25000);
        assert.ok(k.expect.status.includes(r.status), `status ${r.status} not in ${k.expect.status}: ${r.raw.slice(0, 200)}`);
        if (r.status >= 400 && r.status !== 408 && r.body.startsWith("{")) assert.equal(JSON.parse(r.body).status, "error");
        if (k.expect.body) assert.match(r.body, k.expect.body);
        await sim.advance(200);
        if (k.expect.joins) {
          const c = sim.wifi.log.slice(before).filter((x: any) => x.call === "connect").pop();
          assert.ok(c, "the device tried to join");
          assert.equal(c.args[0], k.expect.joins.ssid, "SSID byte for byte");
          assert.equal((c.args[1] as any).password, k.expect.joins.pass, "password byte for byte");
        }
        assert.deepEqual(sim.uncaught, [], "no uncaught exception");
        for (const slot of ["edgent.cfg0", "edgent.cfg1"]) {
          const rec = sim.storage.read(slot);
          if (rec !== undefined) assert.ok(decodeRecord(rec), slot + " still a valid record");
        }
        const info = await sim.fetch("/board_info.json");
        assert.equal(info.status, 200, "portal still serving");
        assert.ok(!info.body.includes("password1"), "no secrets in board info");
      });

    it("closes connections that send no complete request within 15 s, so they cannot take every socket", async () => {
      const { sim } = env;
      await sim.advance(30000); // earlier cases' connections have been swept
      const start = sim.socketCount();
      const open = (first: string): { sock: Socket; closed: boolean } => {
        const c = { sock: connect(sim.httpPort(80), "127.0.0.1"), closed: false };
        c.sock.on("close", () => (c.closed = true));
        c.sock.on("error", () => {});
        if (first) c.sock.write(first);
        return c;
      };
      // silent, half a request line, headers without their blank line
      const stalled = [open(""), open("GET /board_info.js"), open("GET / HTTP/1.1\r\nHost: 192.168.4.1\r\n")];
      await sim.advance(2000);
      assert.equal(sim.socketCount(), start + 3, "the device holds them for now");
      assert.equal((await sim.fetch("/board_info.json")).status, 200, "and still answers others");
      await sim.advance(14000);
      assert.deepEqual(stalled.map((c) => c.closed), [true, true, true], "closed by the device");
      assert.equal(sim.socketCount(), start);
      for (const c of stalled) c.sock.destroy();
    });

    it("returns to its timer baseline and keeps answering afterwards", async () => {
      await env.sim.advance(70000); // let the last connection test time out
      assert.ok(env.sim.timerCount() <= baseline.timers + 1, `timers ${env.sim.timerCount()} vs ${baseline.timers}`);
      for (let i = 0; i < 10; i++) assert.equal((await env.sim.fetch("/board_info.json")).status, 200);
      assert.equal(env.sim.socketCount(), baseline.sockets, "every connection of the corpus is closed");
    });

  });
}
