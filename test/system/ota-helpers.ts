// What the update tests share: one fake Blynk.Air for the test process, and what a test reads off
// a device (its sys_ota reports, its update files in Storage, the version it logs in with).
import type { TestDevice } from "./device.ts";
import { startFakeAir, type FakeAir } from "../../sim/fake-cloud/air.ts";
import { Cmd } from "../../sim/fake-cloud/server.ts";

// its port goes into the devices' boot options (`servers`)
export const air: FakeAir = await startFakeAir();
after(() => air.close());

/** The sys_ota events the cloud received, in order. */
export function otaEvents(d: TestDevice): string[] {
  return d.cloud.events.filter((e) => e.kind === "event" && (e.body ?? "").startsWith("sys_ota\0")).map((e) => e.body!.slice(8));
}

/** The firmware's own update files in Storage (slots and records). */
export async function updateFiles(d: TestDevice): Promise<string[]> {
  return (await d.storageNames()).filter((n) => /^edgent\.(img|upd)/.test(n)).sort();
}

/** Online (RUNNING with the cloud link up). */
export async function online(d: TestDevice, ms = 60000): Promise<boolean> {
  return d.until(async () => {
    const s = await d.status().catch(() => undefined);
    return !!s && s.state === "RUNNING" && s.cloud;
  }, ms);
}

/** The version in the info message of the newest logged-in session (waits for the message). */
export async function cloudVersion(d: TestDevice): Promise<string | undefined> {
  await d.until(() => !!d.cloud.current()?.info, 10000);
  return d.cloud.current()?.info?.mcu;
}

/** Offers `name` from the fake Blynk.Air over the Blynk protocol. */
export function offer(d: TestDevice, air: FakeAir, name: string): void {
  d.cloud.send(Cmd.INTERNAL, "ota\0" + air.url(name));
}

