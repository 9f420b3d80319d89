/**
 * Printable label sheets. One layout table drives both the HTML page and the PDF, so the
 * two print the same grid. The HTML is written label by label (header, labels, footer),
 * so a sheet for any batch size streams without being held in memory.
 */
export type PaperId = 'a4' | 'letter';

export interface PaperLayout {
  id: PaperId;
  /** CSS `@page size` keyword. */
  cssSize: string;
  widthMm: number;
  heightMm: number;
  marginMm: number;
  cols: number;
  rows: number;
}

/** A4 3x7 and US Letter 3x6: common 63-64 mm wide label stock. */
export const PAPERS: Readonly<Record<PaperId, PaperLayout>> = {
  a4: { id: 'a4', cssSize: 'A4', widthMm: 210, heightMm: 297, marginMm: 10, cols: 3, rows: 7 },
  letter: { id: 'letter', cssSize: 'letter', widthMm: 215.9, heightMm: 279.4, marginMm: 12.7, cols: 3, rows: 6 },
};

export function labelSize(p: PaperLayout): { w: number; h: number; qr: number; pad: number } {
  const w = (p.widthMm - 2 * p.marginMm) / p.cols;
  const h = (p.heightMm - 2 * p.marginMm) / p.rows;
  const pad = 2;
  return { w, h, qr: Math.min(h - 2 * pad, 30), pad };
}

export interface LabelContent {
  /** What the QR encodes (TR005 body or Blynk `<token>+<orgId>`). */
  qrText: string;
  /** Inline SVG of that QR. */
  qrSvg: string;
  devEui?: string;
  serial?: string;
  name?: string;
  /** One short line at the bottom, e.g. "Scan in the Blynk app". */
  hint?: string;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const mm = (n: number) => `${n.toFixed(2)}mm`;

export function labelSheetHeader(p: PaperLayout, title: string): string {
  const l = labelSize(p);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>
@page { size: ${p.cssSize}; margin: ${mm(p.marginMm)}; }
* { box-sizing: border-box; }
body { margin: 0; font-family: Helvetica, Arial, sans-serif; color: #000; }
.sheet { display: grid; grid-template-columns: repeat(${p.cols}, ${mm(l.w)}); grid-auto-rows: ${mm(l.h)}; width: ${mm(l.w * p.cols)}; break-after: page; page-break-after: always; }
.label { display: flex; gap: ${mm(l.pad)}; padding: ${mm(l.pad)}; overflow: hidden; break-inside: avoid; outline: 0.1mm dashed #ccc; }
.label svg { width: ${mm(l.qr)}; height: ${mm(l.qr)}; flex: none; }
.text { display: flex; flex-direction: column; justify-content: center; min-width: 0; font-size: 6.5pt; line-height: 1.25; }
.cap { font-size: 5pt; color: #444; text-transform: uppercase; letter-spacing: 0.05em; }
.mono { font-family: "Courier New", Courier, monospace; font-size: 7pt; font-weight: bold; white-space: nowrap; }
.name { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
@media screen { body { background: #eee; } .sheet { background: #fff; margin: 8mm auto; padding: ${mm(p.marginMm)}; width: ${mm(p.widthMm)}; min-height: ${mm(p.heightMm)}; } }
</style>
</head>
<body>
<section class="sheet">
`;
}

/** One label; `index` is the 0-based position in the batch, used to start new pages. */
export function labelHtml(p: PaperLayout, c: LabelContent, index: number): string {
  const perPage = p.cols * p.rows;
  const pageBreak = index > 0 && index % perPage === 0 ? '</section>\n<section class="sheet">\n' : '';
  const lines: string[] = [];
  if (c.devEui) lines.push(`<span class="cap">DevEUI</span><span class="mono">${escapeHtml(c.devEui)}</span>`);
  if (c.serial) lines.push(`<span class="cap">S/N</span><span class="mono">${escapeHtml(c.serial)}</span>`);
  if (c.name) lines.push(`<span class="name">${escapeHtml(c.name)}</span>`);
  if (c.hint) lines.push(`<span class="cap">${escapeHtml(c.hint)}</span>`);
  return `${pageBreak}<div class="label" title="${escapeHtml(c.qrText)}">${c.qrSvg.trim()}<div class="text">${lines.join('')}</div></div>\n`;
}

export function labelSheetFooter(): string {
  return '</section>\n</body>\n</html>\n';
}
