// Runs tools/flash/cli.ts as `npm run flash` does (tsx), for the flash tests.
import { spawn } from "node:child_process";

const CLI = new URL("../../tools/flash/cli.ts", import.meta.url).pathname;

export interface Run { code: number | null; stdout: string; stderr: string }

/** Runs the flash CLI; `until` sees stdout as it grows and returns true to press Ctrl-C. */
export function runFlash(args: string[], until?: (stdout: string) => boolean): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let pressed = false;
    child.stdout.on("data", (d) => {
      stdout += d;
      if (!pressed && until?.(stdout)) {
        pressed = true;
        child.kill("SIGINT");
      }
    });
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
