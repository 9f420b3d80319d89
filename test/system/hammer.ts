// 20 clients hammering the OS probe URLs and /wifi_scan.json for a stretch of device time: a phone's
// /config still gets its answer within 2 s, and afterwards the device is back to its baseline
// (timers, sockets, memory) and keeps serving. hammer.test.ts runs a short stretch in the fast tier,
// hammer.soak.ts a minute in the soak tier.
//
// One driver loop advances virtual time in small steps; each client is a raw socket that sends its
// next request at the first step after its previous one finished (no promise or timer per request).
import assert from "node:assert/strict";
import { connect, Socket } from "node:net";
import { world, BOARDS, TOKEN, HOME } from "./helpers.ts";
import { decodeRecord } from "../../firmware/core/config.ts";

const CLIENTS = 20;
const STEP_MS = 10; // driver loop step (virtual ms): a client sends at most one request per step
const CONFIG_LIMIT_MS = 2000;
const WRONG_PASS = "wrong horse 1"; // a valid request whose connection test fails, so the portal stays

export interface Hammer {
  /** Length of the hammer in virtual ms. */
  ms: number;
  /** When the phone submits /config, in ms into the hammer. */
  configAt: number[];
}

const TARGETS: [string, string][] = [
  ["connectivitycheck.gstatic.com", "/generate_204"],
  ["captive.apple.com", "/hotspot-detect.html"],
  ["www.msftconnecttest.com", "/connecttest.txt"],
  ["www.msftncsi.com", "/ncsi.txt"],
  ["www.google.com", "/gen_204"],
  ["detectportal.firefox.com", "/success.txt"],
  ["192.168.4.1", "/wifi_scan.json"],
];

/** One HTTP exchange on a raw socket; `done(raw)` runs once the connection is closed ("" = refused). */
function exchange(port: number, request: string, done: (raw: string) => void): Socket {
  const sock = connect(port, "127.0.0.1");
  let raw = "";
  sock.setNoDelay(true);
  sock.on("connect", () => sock.write(request, "latin1"));
  sock.on("data", (d) => (raw += d.toString("latin1")));
  sock.on("error", () => {});
  sock.on("close", () => done(raw));
  return sock;
}

const statusOf = (raw: string) => +(/^HTTP\/1\.[01] (\d{3})/.exec(raw)?.[1] ?? 0);
const bodyOf = (raw: string) => raw.slice(raw.indexOf("\r\n\r\n") + 4);

/** Is this the answer the device owes a probe or a scan request while unprovisioned? */
function rightAnswer(path: string, raw: string): boolean {
  const s = statusOf(raw);
  if (s === 503 && /Busy/.test(raw)) return true; // a clear "try again" is allowed
  if (path === "/wifi_scan.json") return s === 200 && JSON.parse(bodyOf(raw)).some((n: any) => n.ssid === HOME.ssid);
  return s === 302 && /\r\nLocation: http:\/\/192\.168\.4\.1\/\r\n/.test(raw);
}

/** One describe per board: the hammer, the phone's /config during it, and the return to the baseline. */
export function describeHammer({ ms: HAMMER_MS, configAt: CONFIG_AT }: Hammer): void {
  for (const b of BOARDS) {
    describe(`portal under a hammer of ${CLIENTS} clients on ${b.board}`, function () {
      this.timeout(60000 + HAMMER_MS * 2);
      let env: Awaited<ReturnType<typeof world>>;
      after(async () => {
        env?.sim.stop();
        await env?.cloud.close();
      });

      it(`answers /config within 2 s while probes and scans hammer it for ${HAMMER_MS / 1000} s, then returns to its baseline`, async () => {
        env = await world({ board: b });
        const { sim } = env;
        await sim.advance(3000);
        const memory = () => sim.repl("process.memory().usage") as number;
        const base = { timers: sim.timerCount(), sockets: sim.socketCount(), memory: memory() };
        const port = sim.httpPort(80);
        const scans = () => sim.wifi.log.filter((c: any) => c.call === "scan").length;
        const scansBefore = scans();
        const wall = Date.now();

        // the hammer: client i walks through TARGETS, one request at a time
        const counts: Record<string, number> = {};
        const wrong: string[] = [];
        let served = 0;
        let refused = 0;
        let inFlight = 0;
        const idle: number[] = [];
        const nextTarget: number[] = [];
        for (let i = 0; i < CLIENTS; i++) {
          idle.push(i);
          nextTarget.push(i % TARGETS.length);
        }
        const send = (i: number) => {
          const [host, path] = TARGETS[nextTarget[i]];
          inFlight++;
          exchange(port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: hammer-${i}\r\n\r\n`, (raw) => {
            inFlight--;
            idle.push(i);
            if (!raw) return void refused++; // no free socket on the device: try again next step
            served++;
            const key = path + " " + statusOf(raw);
            counts[key] = (counts[key] || 0) + 1;
            if (!rightAnswer(path, raw) && wrong.length < 5) wrong.push(host + path + " -> " + raw.slice(0, 160));
            nextTarget[i] = (nextTarget[i] + 1) % TARGETS.length;
          });
        };

        // the phone submitting /config; when the device has no free socket it tries again next step
        const form = "ssid=" + HOME.ssid + "&pass=" + encodeURIComponent(WRONG_PASS) + "&blynk=" + TOKEN;
        const configRequest = "POST /config HTTP/1.1\r\nHost: 192.168.4.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " + form.length + "\r\n\r\n" + form;
        const latencies: number[] = [];
        const configReplies: string[] = [];
        let configSince = -1; // virtual time the phone started submitting, -1 = not submitting
        let configOpen = false;

        const t0 = sim.now();
        let nextConfig = 0;
        for (;;) {
          const t = sim.now() - t0;
          if (t >= HAMMER_MS) break;
          while (idle.length) send(idle.shift()!);
          if (nextConfig < CONFIG_AT.length && t >= CONFIG_AT[nextConfig] && configSince < 0) {
            configSince = sim.now();
            nextConfig++;
          }
          if (configSince >= 0 && !configOpen) {
            configOpen = true;
            exchange(port, configRequest, (raw) => {
              configOpen = false;
              if (!raw) return;
              configReplies.push(raw);
              latencies.push(sim.now() - configSince);
              configSince = -1;
            });
          }
          await sim.advance(STEP_MS);
        }
        assert.ok(await sim.until(() => inFlight === 0 && !configOpen, 20000), "every request in flight got its answer");
        const hammerScans = scans() - scansBefore;
        console.log(
          `      ${b.board}: ${served} requests served, ${refused} connections refused for want of a socket, ${hammerScans} radio scans, ` +
            `in ${HAMMER_MS / 1000} s virtual / ${Date.now() - wall} ms wall; /config answered after ${latencies.join(", ")} virtual ms`
        );

        assert.deepEqual(wrong, [], "every probe got its redirect and every scan request the list");
        assert.ok(served > CLIENTS * (HAMMER_MS / 1000), `only ${served} requests served`);
        assert.equal(latencies.length, CONFIG_AT.length, "every /config got an answer");
        for (const l of latencies) assert.ok(l <= CONFIG_LIMIT_MS, `/config answered after ${l} virtual ms (limit ${CONFIG_LIMIT_MS})`);
        for (const r of configReplies) {
          assert.equal(statusOf(r), 200, r);
          assert.equal(JSON.parse(bodyOf(r)).msg, "Trying to connect...");
        }
        // a scan makes the AP hop channels (phones on it stall): answers reuse a recent scan
        assert.ok(hammerScans <= HAMMER_MS / 6000, `${hammerScans} radio scans in ${HAMMER_MS / 1000} s`);
        assert.deepEqual(sim.uncaught, [], "no uncaught exception");
        assert.deepEqual(sim.errors, [], "no error printed");

        // the last connection test runs to its end, then everything is as before the hammer
        await sim.advance(60000);
        const st = JSON.parse((await sim.fetch("/status.json")).body);
        assert.equal(st.test, "wrong_password");
        const after = { timers: sim.timerCount(), sockets: sim.socketCount(), memory: memory() };
        console.log(`      baseline ${JSON.stringify(base)}, after ${JSON.stringify(after)}`);
        assert.deepEqual(after, base, "timers, sockets and memory back to the baseline");
        for (let i = 0; i < 8; i++) assert.equal((await sim.fetch("/board_info.json")).status, 200, "still serving");
        for (const slot of ["edgent.cfg0", "edgent.cfg1"]) assert.deepEqual(decodeRecord(sim.storage.read(slot))?.c.n ?? [], [], "the config that failed its test is not stored");
      });
    });
  }
}
