// Device identity for a build: BLYNK_TEMPLATE_ID, BLYNK_TEMPLATE_NAME and BLYNK_FIRMWARE_VERSION
// come from the environment, else from edgent.config.json in the repository root.
import { readFileSync, existsSync } from "node:fs";
import { createHash } from "node:crypto";

const FILE = new URL("../edgent.config.json", import.meta.url);

/** Returns the identity, or throws an Error whose message says what to fix. */
export function readIdentity(env = process.env, configFile = FILE) {
  const file = existsSync(configFile) ? JSON.parse(readFileSync(configFile, "utf8")) : {};
  const pick = (key, fallback) => (env[key] !== undefined && env[key] !== "" ? env[key] : file[key] !== undefined ? String(file[key]) : fallback);
  const id = {
    templateId: pick("BLYNK_TEMPLATE_ID", ""),
    templateName: pick("BLYNK_TEMPLATE_NAME", ""),
    firmwareVersion: pick("BLYNK_FIRMWARE_VERSION", "0.0.0"),
    setupCode: pick("EDGENT_SETUP_CODE", ""),
    telnet: pick("EDGENT_TELNET", "off"),
    tls: pick("EDGENT_TLS", "auto"),
  };
  const problems = [];
  if (!/^TMPL[A-Za-z0-9]+$/.test(id.templateId))
    problems.push(`BLYNK_TEMPLATE_ID "${id.templateId}" must start with "TMPL" followed by letters or digits (copy it from the template's Firmware configuration in the Blynk console)`);
  if (id.templateName.trim() === "") problems.push("BLYNK_TEMPLATE_NAME is empty: set it to the template's name");
  if (!/^[\x20-\x7e]*$/.test(id.templateName)) problems.push("BLYNK_TEMPLATE_NAME must be printable ASCII (it becomes the WiFi access point name)");
  if (!/^\d+\.\d+\.\d+$/.test(id.firmwareVersion)) problems.push(`BLYNK_FIRMWARE_VERSION "${id.firmwareVersion}" must look like 1.2.3`);
  if (id.firmwareVersion.length > 14) problems.push("BLYNK_FIRMWARE_VERSION is longer than 14 characters");
  if (id.setupCode !== "" && !/^[\x21-\x7e]{8,63}$/.test(id.setupCode))
    problems.push("EDGENT_SETUP_CODE must be 8 to 63 printable ASCII characters without spaces (it is also the WPA2 password of the setup access point)");
  if (id.telnet !== "on" && id.telnet !== "off") problems.push(`EDGENT_TELNET "${id.telnet}" must be "on" or "off"`);
  if (id.tls !== "auto" && id.tls !== "require") problems.push(`EDGENT_TLS "${id.tls}" must be "auto" (fall back to plain TCP when TLS keeps failing for lack of memory) or "require" (never)`);
  if (problems.length) throw new Error("Invalid device identity:\n  - " + problems.join("\n  - ") + "\n(set them in the environment or in edgent.config.json)");
  return id;
}

/**
 * What the build writes beside dist/<board>.js as <board>.build.json: the settings compiled into the
 * bundle, so a tool can tell that a changed environment needs a rebuild (file dates cannot show it).
 * The setup code is a WPA2 password: only its hash is kept.
 */
export function buildRecord(id) {
  return {
    BLYNK_TEMPLATE_ID: id.templateId,
    BLYNK_TEMPLATE_NAME: id.templateName,
    BLYNK_FIRMWARE_VERSION: id.firmwareVersion,
    EDGENT_SETUP_CODE_SHA256: id.setupCode ? createHash("sha256").update(id.setupCode).digest("hex") : "",
    EDGENT_TELNET: id.telnet,
    EDGENT_TLS: id.tls,
  };
}
