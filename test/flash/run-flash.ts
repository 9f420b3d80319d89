// Runs tools/flash/cli.ts as `npm run flash` does (tsx), for the flash tests.
import { spawn } from "node:child_process";

const CLI = new URL("../../tools/flash/cli.ts", import.meta.url).pathname;

export interface Run { code: number | null; stdout: string; stderr: string }

/**
 * Runs the flash CLI; `until` sees stdout as it grows and returns true to press Ctrl-C. `env` is
 * added to the environment; the device identity variables are cleared first, so that only what a
 * test sets (or edgent.config.json) counts.
 */
export function runFlash(args: string[], until?: (stdout: string) => boolean, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const base = { ...process.env };
  for (const k of ["BLYNK_TEMPLATE_ID", "BLYNK_TEMPLATE_NAME", "BLYNK_FIRMWARE_VERSION", "EDGENT_SETUP_CODE", "EDGENT_TELNET", "EDGENT_TLS"]) delete base[k];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...base, ...env } });
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
