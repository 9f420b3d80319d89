// Types for fw-info.js (Blynk's "blnkinf" firmware info tag).

/** Tag fields by Blynk's key names: mcu (firmware version), fw-type, build, blynk, hw, ... */
export type FwInfo = { mcu: string; "fw-type": string; build?: string; blynk?: string; hw?: string } & Record<string, string | undefined>;

export declare const TAG_NAME: "blnkinf";
/** The tag bytes as the C array firmwareTag[] holds them; throws on a missing, empty or unfindable field. */
export declare function buildFwTag(info: FwInfo): Buffer;
/** The pairs of one tag (from "blnkinf\0"); throws when it does not start with "blnkinf\0". */
export declare function parseFwTag(tag: Uint8Array | string): Record<string, string>;
/** The first tag in a file, found as Blynk's tools find it. */
export declare function findFwTag(data: Uint8Array | string): { offset: number; length: number; info: Record<string, string> } | undefined;
/** bundle + "\n\0" + tag (an existing tag is replaced); Espruino stops reading code at the NUL. */
export declare function withFwTag(bundle: Uint8Array | string, info: FwInfo): Buffer;
