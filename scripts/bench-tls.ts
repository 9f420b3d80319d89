// What one TLS client session costs the interpreter, against the same session over plain TCP, on the
// 64-bit LINUX build (ESPRUINO_BIN). Espruino's mbedTLS allocates through jsvMalloc
// (libs/crypto/mbedtls/config.h: MBEDTLS_PLATFORM_CALLOC_MACRO), so its state and record buffers
// are flat strings in the JsVar pool: the JsVars a session holds are its memory.
// A local Node TLS server with a throwaway self-signed certificate (openssl) echoes one line.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { createServer as createTlsServer } from "node:tls";
import { createServer as createTcpServer, Server, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

type Row = Record<string, number | string>;

/** Runs one session in the interpreter; returns JsVars and resident kB before, connected, after close. */
function session(bin: string, port: number, tls: boolean): Promise<Row> {
  const code =
    `var m=function(w){var p=process.memory();print("@@"+w+" "+p.usage);print("@@blocksize "+p.blocksize);};` +
    `setTimeout(function(){m("before");var s=require("${tls ? "tls" : "net"}").connect({host:"127.0.0.1",port:${port}},function(){s.write("ping\\n");});` +
    `s.on("data",function(){m("connected");s.end();});s.on("close",function(){setTimeout(function(){m("after");},300);});s.on("error",function(e){print("@@error "+JSON.stringify(e));});},500);`;
  return new Promise((resolve, reject) => {
    const p = spawn(bin, ["-e", code], { stdio: ["pipe", "pipe", "pipe"] });
    const row: Row = { transport: tls ? "TLS" : "plain TCP" };
    let out = "";
    const timer = setTimeout(() => (p.kill("SIGKILL"), reject(new Error("TLS bench timed out:\n" + out))), 20000);
    p.stdout.on("data", (d) => {
      out += d;
      for (const m of out.matchAll(/@@(\w+) (\S+)\r?\n/g)) {
        const [, what, v] = m;
        if (row[what + " JsVars"] !== undefined) continue;
        if (what === "error") return clearTimeout(timer), p.kill("SIGKILL"), reject(new Error("TLS bench: " + v));
        row[what + " JsVars"] = +v;
        if (what === "after") {
          clearTimeout(timer);
          p.kill("SIGKILL");
          row["JsVars while connected"] = (row["connected JsVars"] as number) - (row["before JsVars"] as number);
          resolve(row);
        }
      }
    });
  });
}

export async function benchTls(): Promise<Row[]> {
  const bin = process.env.ESPRUINO_BIN;
  if (!bin || !existsSync(bin)) return [{ note: "set ESPRUINO_BIN (64-bit LINUX build) for the TLS session's memory" }];
  const dir = mkdtempSync(join(tmpdir(), "bench-tls-"));
  const servers: Server[] = [];
  try {
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-days", "1", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { stdio: "ignore" });
    const echo = (s: Socket) => s.on("data", (d) => s.write(d)).on("error", () => {});
    const tlsServer = createTlsServer({ key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) }, echo);
    const tcpServer = createTcpServer(echo);
    servers.push(tlsServer, tcpServer);
    const listen = (s: Server) => new Promise<number>((r) => s.listen(0, "127.0.0.1", () => r((s.address() as any).port)));
    const [tlsPort, tcpPort] = [await listen(tlsServer), await listen(tcpServer)];
    const rows = [await session(bin, tcpPort, false), await session(bin, tlsPort, true)];
    return rows.map((r) => ({
      transport: r.transport,
      "JsVars before": r["before JsVars"],
      "JsVars connected": r["connected JsVars"],
      "JsVars after close": r["after JsVars"],
      "JsVars while connected": r["JsVars while connected"],
      "KB while connected": Math.round(((r["JsVars while connected"] as number) * (r["blocksize JsVars"] as number)) / 102.4) / 10,
    }));
  } finally {
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.table(await benchTls());
