/**
 * Characters a TR005 extension value (O, S, P) may hold: the QR alphanumeric set without
 * `:` (the separator), `%` and space (reference §1.3). Uppercase keeps the whole body in
 * QR alphanumeric mode, the smallest symbol.
 */
export const TR005_VALUE_PATTERN = /^[0-9A-Z$*+\-./]+$/;
