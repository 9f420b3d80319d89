/**
 * QR images through the `qrcode` package, error correction M (what TTS renders, §2.4),
 * quiet zone 4 modules as ISO/IEC 18004 asks. Uppercase TR005 bodies land in
 * alphanumeric mode automatically.
 */
import QRCode from 'qrcode';

export const QR_OPTIONS = { errorCorrectionLevel: 'M', margin: 4 } as const;

export function qrSvg(text: string): Promise<string> {
  return QRCode.toString(text, { ...QR_OPTIONS, type: 'svg' });
}

export function qrPng(text: string, scale = 8): Promise<Buffer> {
  return QRCode.toBuffer(text, { ...QR_OPTIONS, type: 'png', scale });
}

/** The module matrix, for drawing the code as vector rectangles (PDF). */
export function qrMatrix(text: string): { size: number; dark(row: number, col: number): boolean } {
  const m = QRCode.create(text, { errorCorrectionLevel: QR_OPTIONS.errorCorrectionLevel }).modules;
  return { size: m.size, dark: (r, c) => m.get(r, c) === 1 };
}
