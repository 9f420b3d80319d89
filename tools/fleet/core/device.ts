import type { Field } from './columns.ts';

/**
 * One device after normalisation. Absent values are '' rather than undefined so every
 * writer can treat columns uniformly. Hex values are uppercase; `deviceId` is the given
 * TTS id or the default `eui-<lowercase DevEUI>`.
 */
export interface Device extends Record<Field, string> {
  /** 1-based line in the source file where the row starts. */
  line: number;
  /** True when `deviceId` came from the file rather than the default rule. */
  deviceIdGiven: boolean;
}

/** TTS default device id (reference §4.1, `ttscsv.go`): `eui-` + lowercase DevEUI. */
export function defaultDeviceId(devEui: string): string {
  return `eui-${devEui.toLowerCase()}`;
}
