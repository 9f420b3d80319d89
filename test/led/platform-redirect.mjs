// Node module hook for the LED/button tests: firmware/platform/espruino.ts (the only module that
// touches Espruino's globals) resolves to test/led/fake-platform.ts, backed by a FakeHw.
const FAKE = new URL("./fake-platform.ts", import.meta.url).href;

export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (/\/firmware\/platform\/espruino\.(ts|js)$/.test(r.url)) return { ...r, url: FAKE, shortCircuit: true };
  return r;
}
