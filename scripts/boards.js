// Board profiles: boards/<id>.json, validated before any build sees them.
import { readFileSync, readdirSync } from "node:fs";

const DIR = new URL("../boards/", import.meta.url);
const LED_TYPES = ["none", "gpio", "pwm", "rgb", "ws2812"];

/** Validates one profile and returns it normalised (led.pins always an array). */
export function checkBoard(b, file = "board") {
  const fail = (m) => { throw new Error(`${file}: ${m}`); };
  if (!/^[a-z0-9-]+$/.test(b.id || "")) fail("id must be lowercase letters, digits and dashes");
  if (b.chip !== "ESP32" && b.chip !== "ESP8266") fail(`chip must be "ESP32" or "ESP8266", not ${JSON.stringify(b.chip)}`);
  const led = b.led || { type: "none" };
  if (!LED_TYPES.includes(led.type)) fail(`led.type must be one of ${LED_TYPES.join(", ")}`);
  const pins = led.type === "none" ? [] : led.type === "rgb" ? led.pins : [led.pin];
  if (led.type === "rgb" && (!Array.isArray(pins) || pins.length !== 3)) fail("an rgb LED needs led.pins: [red, green, blue]");
  for (const p of pins) if (!Number.isInteger(p) || p < 0 || p > 48) fail(`LED pin ${p} is not a GPIO number`);
  if (b.chip === "ESP8266" && pins.includes(16) && led.type !== "gpio") fail("GPIO16 has no PWM on ESP8266: use led.type \"gpio\"");
  const brightness = led.brightness === undefined ? 255 : led.brightness;
  if (!(brightness > 0 && brightness <= 255)) fail("led.brightness must be 1..255");
  const button = b.button || null;
  if (button && (!Number.isInteger(button.pin) || typeof button.activeLow !== "boolean")) fail("button needs pin (GPIO number) and activeLow (true/false)");
  if (button && b.chip === "ESP8266" && button.pin === 16) fail("GPIO16 cannot be watched on ESP8266");
  return { id: b.id, name: b.name || b.id, chip: b.chip, dev: b.dev || b.chip, notes: b.notes || "",
    led: { type: led.type, pins, inverted: !!led.inverted, brightness }, button };
}

export function loadBoards() {
  return readdirSync(DIR).filter((f) => f.endsWith(".json")).sort()
    .map((f) => checkBoard(JSON.parse(readFileSync(new URL(f, DIR), "utf8")), "boards/" + f));
}
