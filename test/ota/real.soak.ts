// Soak: the OTA pieces on the real Espruino interpreter with a 40 KB firmware, on the resizable and
// the 1600-JsVar builds (see real.ts).
import { hashesOnInterpreter, downloaderOnInterpreters } from "./real.ts";

describe("OTA on the real Espruino interpreter, 40 KB", function () {
  this.timeout(300000);
  hashesOnInterpreter(40960);
  downloaderOnInterpreters({ size: 40960, interpreters: ["resizable", "1600 JsVars"], close: false });
});
