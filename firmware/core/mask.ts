/** Tokens are shown only as their first 4 characters (Edgent's banner style). */
export function maskToken(t: string): string {
  return t ? t.substr(0, 4) + " - **** - **** - ****" : "(none)";
}
