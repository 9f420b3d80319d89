// At the end of `npm test`: how many system tests ran on which backend, so a green run that skipped
// the real interpreter says so (test/system/device.ts counts them).
import { ran, skippedReal } from "./device.ts";

after(function () {
  const skipped = [...skippedReal];
  console.log(
    `\n  System tests: ${ran.sim} passed in the simulator, ${ran.real} on the real interpreter` +
      (skipped.length ? `; real interpreter skipped for the ${skipped.join(" and the ")}` : "") + ".",
  );
});
