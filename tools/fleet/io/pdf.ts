/**
 * PDF label sheets with pdfkit, using the same layout table as the HTML sheet. QR codes
 * are drawn as vector rectangles from the `qrcode` module matrix (no raster scaling, so
 * they scan at any print resolution). Pages are flushed as they fill.
 */
import { createWriteStream } from 'node:fs';
import PDFDocument from 'pdfkit';
import { labelSize, type LabelContent, type PaperLayout } from '../core/labels.ts';
import { QR_OPTIONS, qrMatrix } from './images.ts';

const PT_PER_MM = 72 / 25.4;

export class PdfLabelSheet {
  private readonly doc: PDFKit.PDFDocument;
  private readonly finished: Promise<void>;
  private count = 0;

  constructor(path: string, private readonly paper: PaperLayout, title: string) {
    this.doc = new PDFDocument({
      size: [paper.widthMm * PT_PER_MM, paper.heightMm * PT_PER_MM],
      margin: 0,
      autoFirstPage: false,
      info: { Title: title, Creator: 'espruino-edgent fleet' },
    });
    const out = createWriteStream(path);
    this.finished = new Promise((resolveDone, reject) => {
      out.on('finish', () => resolveDone());
      out.on('error', reject);
      this.doc.on('error', reject);
    });
    this.doc.pipe(out);
  }

  add(c: LabelContent): void {
    const p = this.paper;
    const perPage = p.cols * p.rows;
    const slot = this.count % perPage;
    if (slot === 0) this.doc.addPage();
    this.count++;
    const l = labelSize(p);
    const x = (p.marginMm + (slot % p.cols) * l.w) * PT_PER_MM;
    const y = (p.marginMm + Math.floor(slot / p.cols) * l.h) * PT_PER_MM;
    const pad = l.pad * PT_PER_MM;
    const qrPt = l.qr * PT_PER_MM;
    this.drawQr(c.qrText, x + pad, y + pad, qrPt);

    const tx = x + pad + qrPt + pad;
    const tw = l.w * PT_PER_MM - (tx - x) - pad;
    let ty = y + pad + 2;
    const line = (caption: string, value: string, font: string, size: number) => {
      if (caption) {
        this.doc.font('Helvetica').fontSize(4.5).fillColor('#444444').text(caption.toUpperCase(), tx, ty, { width: tw, lineBreak: false });
        ty += 5.5;
      }
      if (!value) return;
      this.doc.font(font).fontSize(size).fillColor('#000000').text(value, tx, ty, { width: tw, lineBreak: false, ellipsis: true });
      ty += size + 3;
    };
    if (c.devEui) line('DevEUI', c.devEui, 'Courier-Bold', 6.5);
    if (c.serial) line('S/N', c.serial, 'Courier-Bold', 6.5);
    if (c.name) line('', c.name, 'Helvetica', 6);
    if (c.hint) line(c.hint, '', 'Helvetica', 6);
  }

  private drawQr(text: string, x: number, y: number, sizePt: number): void {
    const m = qrMatrix(text);
    const quiet = QR_OPTIONS.margin;
    const cell = sizePt / (m.size + 2 * quiet);
    this.doc.save().fillColor('#000000');
    for (let r = 0; r < m.size; r++) {
      let c = 0;
      while (c < m.size) {
        if (!m.dark(r, c)) { c++; continue; }
        const start = c;
        while (c < m.size && m.dark(r, c)) c++;
        this.doc.rect(x + (quiet + start) * cell, y + (quiet + r) * cell, (c - start) * cell, cell);
      }
    }
    this.doc.fill().restore();
  }

  async close(): Promise<void> {
    if (this.count === 0) this.doc.addPage();
    this.doc.end();
    await this.finished;
  }
}
