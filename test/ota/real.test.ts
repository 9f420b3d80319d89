// The OTA pieces on the real Espruino interpreter, a few KB on the resizable build (see real.ts;
// real.soak.ts downloads 40 KB on both builds).
import { hashesOnInterpreter, storedFileOnInterpreters, downloaderOnInterpreters } from "./real.ts";

describe("OTA on the real Espruino interpreter", function () {
  this.timeout(300000);
  hashesOnInterpreter(8192);
  storedFileOnInterpreters();
  downloaderOnInterpreters({ size: 8192, interpreters: ["resizable"], close: true });
});
