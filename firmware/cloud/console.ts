// The Edgent console commands this firmware acts on (blynk-library Edgent_ESP32/Console.h): the same
// words arrive from the cloud (INTERNAL "dbg") and from the serial console / Web IDE REPL.

/**
 * Canonical form of a console line: "config start" (`config` alone included), "config erase" or
 * "reboot"; "" for anything else. Words are split on whitespace, as BlynkConsole does.
 */
export function parseCommand(line: string): string {
  var w = String(line).trim().split(/\s+/);
  if (w[0] === "reboot" && w.length === 1) return "reboot";
  if (w[0] === "config" && w.length <= 2) {
    if (!w[1] || w[1] === "start") return "config start";
    if (w[1] === "erase") return "config erase";
  }
  return "";
}
