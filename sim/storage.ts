/**
 * Storage: a byte-accurate model of Espruino's log-structured flash file system and the
 * `require("Storage")` module.
 *
 * Ported from espruino/Espruino src/jsflash.c (file headers, jsfCreateFile, jsfWriteFile,
 * compaction, validity check) and src/jswrap_storage.c (module API, StorageFile).
 * Layout: each file is a 32-byte header {u32 size|flags<<24, 28-byte name} followed by its data,
 * 4-byte aligned; erased flash reads 0xFF and writes can only clear bits (NOR flash).
 */
import { fromBytes, jsException, toBytes } from './bytes.ts';
import type { Host } from './host.ts';
import { parseLiberal, stringifyCompact } from './json.ts';
import { MAX_STORAGE_NAME } from '../shared/names.ts';

const HEADER = 32;
const NAME_LEN = MAX_STORAGE_NAME;
const ALIGN = 4;
const WORD_UNSET = 0xffffffff;
export const PAGE_SIZE = 4096;
const FLAG_STORAGEFILE = 64;
const VALID_FLAGS = new Set([0, FLAG_STORAGEFILE, 128]);
/** StorageFile chunk size: min(page, 4096) - header (jswrap_storage.c STORAGEFILE_CHUNKSIZE). */
const STORAGEFILE_CHUNK = Math.min(PAGE_SIZE, 4096) - HEADER;

export type TornWriteStage = 'afterDelete' | 'midHeader' | 'midData';

export interface FailNextWrite {
  /** Only a write to this file (after the 28-byte truncation) trips; default any file write. */
  name?: string;
  /**
   * Where the power is lost: 'afterDelete' = old file marked deleted, new header not written
   * (the file is gone); 'midHeader' = only the low half of the new header's size word written
   * (jsflash.c's validity check may then wipe all of Storage at next power-on);
   * 'midData' = header written, half of the data written (the rest reads 0xFF).
   */
  at: TornWriteStage;
}

interface Header {
  addr: number;
  size: number;
  name: Uint8Array;
  valid: boolean;
}

function align(n: number): number {
  return (n + ALIGN - 1) & ~(ALIGN - 1);
}

function fileSize(h: { size: number }): number {
  return h.size & 0x00ffffff;
}

function fileFlags(h: { size: number }): number {
  return h.size >>> 24;
}

function isDeleted(h: Header): boolean {
  return h.name[0] === 0 && h.name[1] === 0 && h.name[2] === 0 && h.name[3] === 0;
}

function nameEq(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < NAME_LEN; i++) if (a[i] !== b[i]) return false;
  return true;
}

function nameToString(n: Uint8Array): string {
  let end = n.indexOf(0);
  if (end < 0) end = NAME_LEN;
  return fromBytes(n.subarray(0, end));
}

/** jsfNameFromVar: byte string, silently truncated to 28 bytes, zero padded. */
export function storageName(name: unknown): Uint8Array {
  const s = String(name);
  const b = toBytes(s, 'Storage file name');
  const n = new Uint8Array(NAME_LEN);
  n.set(b.subarray(0, NAME_LEN));
  return n;
}

export interface StorageStats {
  totalBytes: number;
  freeBytes: number;
  fileBytes: number;
  fileCount: number;
  trashBytes: number;
  trashCount: number;
}

/** The flash chip's storage area plus the jsflash.c algorithms on top of it. */
export class Flash {
  readonly bytes: Uint8Array;
  /** Real flash writes of file content (identical writes are no-ops and not counted). */
  writes = 0;
  /** Writes skipped because the content was identical. */
  noopWrites = 0;
  /** Files marked deleted (erase or replacement). */
  erases = 0;
  compactions = 0;
  /** Bytes programmed on top of non-erased bits (these AND together, like real NOR flash). */
  dirtyWrites = 0;
  private failNext: FailNextWrite | undefined;
  /** Called when an injected fault cuts the power; must throw. */
  onPowerCut: (why: string) => never = (why) => {
    throw new Error(why);
  };
  /** Console output of the flash layer ("Compacting..."). */
  onMessage: (line: string) => void = () => {};

  constructor(size: number, image?: Uint8Array) {
    if (size % PAGE_SIZE) throw new Error(`storageBytes must be a multiple of ${PAGE_SIZE}, got ${size}`);
    this.bytes = new Uint8Array(size).fill(0xff);
    if (image) {
      if (image.length !== size) throw new Error(`flash image is ${image.length} bytes but this storage is ${size} bytes`);
      this.bytes.set(image);
    }
  }

  get size(): number {
    return this.bytes.length;
  }

  failNextWrite(f: FailNextWrite): void {
    this.failNext = f;
  }

  // ------------------------------------------------------------------ raw flash

  private program(addr: number, data: Uint8Array): void {
    if (addr < 0 || addr + data.length > this.size) throw new Error(`flash write out of range @${addr}+${data.length}`);
    for (let i = 0; i < data.length; i++) {
      const old = this.bytes[addr + i];
      if ((data[i] & ~old & 0xff) !== 0) this.dirtyWrites++;
      this.bytes[addr + i] = old & data[i];
    }
  }

  private u32(addr: number): number {
    const b = this.bytes;
    return (b[addr] | (b[addr + 1] << 8) | (b[addr + 2] << 16) | (b[addr + 3] << 24)) >>> 0;
  }

  private isErased(addr: number, len: number): boolean {
    let i = 0;
    // word-at-a-time for the long scans (the first-boot validity check reads the whole area)
    if ((addr & 3) === 0 && len >= 64) {
      const words = new Uint32Array(this.bytes.buffer, this.bytes.byteOffset + addr, len >>> 2);
      for (let w = 0; w < words.length; w++) if (words[w] !== WORD_UNSET) return false;
      i = words.length * 4;
    }
    for (; i < len; i++) if (this.bytes[addr + i] !== 0xff) return false;
    return true;
  }

  eraseAll(): void {
    this.bytes.fill(0xff);
  }

  // ------------------------------------------------------------------ headers (jsflash.c)

  private header(addr: number): Header {
    if (addr + HEADER > this.size) return { addr, size: WORD_UNSET, name: new Uint8Array(NAME_LEN).fill(0xff), valid: false };
    const size = this.u32(addr);
    const name = this.bytes.slice(addr + 4, addr + HEADER);
    const end = addr + HEADER + (size & 0x00ffffff);
    return { addr, size, name, valid: size !== WORD_UNSET && size !== 0 && end <= this.size };
  }

  private nextPage(addr: number): number {
    const next = Math.floor(addr / PAGE_SIZE) * PAGE_SIZE + PAGE_SIZE;
    return next >= this.size ? 0 : next;
  }

  /** jsfGetNextFileHeader. Returns the next header or undefined (address 0). */
  private next(h: Header, getAll: boolean): Header | undefined {
    const newAddr = align(h.addr + fileSize(h) + HEADER);
    if (newAddr < h.addr || newAddr + HEADER > this.size) return undefined;
    let n = this.header(newAddr);
    if (getAll && !n.valid) {
      const p = this.nextPage(newAddr);
      if (!p) return undefined;
      n = this.header(p);
    }
    return n;
  }

  /** Every valid header from the start (GNFH_GET_ALL). */
  private *all(): Generator<Header> {
    let h: Header | undefined = this.header(0);
    if (!h.valid) return;
    while (h && h.valid) {
      yield h;
      h = this.next(h, true);
    }
  }

  private find(name: Uint8Array): Header | undefined {
    for (const h of this.all()) if (!isDeleted(h) && nameEq(h.name, name)) return h;
    return undefined;
  }

  private markDeleted(h: Header): void {
    this.program(h.addr + 4, new Uint8Array(4));
    this.erases++;
  }

  /** jsfGetSpaceLeftInPage */
  private spaceLeftInPage(addr: number): number {
    let next = Math.floor(addr / PAGE_SIZE) * PAGE_SIZE + PAGE_SIZE;
    if (next < this.size && !this.header(next).valid) next = this.size;
    return Math.min(next, this.size) - addr;
  }

  /** _jsfCreateFile: find a hole (compacting once if free+trash would fit), write the header. */
  private createFile(name: Uint8Array, size: number, flags: number, failStage?: TornWriteStage): number {
    const required = align(size) + HEADER;
    let compacted = false;
    for (;;) {
      let addr = 0;
      let freeSpace = 0;
      let trash = 0;
      let freeAddr = -1;
      while (freeAddr < 0) {
        let h: Header | undefined = this.header(addr);
        if (h.valid) {
          let cur: Header = h;
          for (;;) {
            if (isDeleted(cur)) trash += fileSize(cur);
            const n = this.next(cur, false);
            if (!n) {
              addr = -1;
              break;
            }
            addr = n.addr;
            if (!n.valid) break;
            cur = n;
          }
        }
        if (addr < 0) break; // ran out of flash while walking
        const space = this.spaceLeftInPage(addr);
        freeSpace += space;
        if (space < required) {
          addr = this.nextPage(addr);
          if (!addr) break;
        } else freeAddr = addr;
      }
      if (freeAddr < 0) {
        if (!compacted && required < freeSpace + trash) {
          compacted = true;
          if (!this.compact()) return 0;
          continue;
        }
        return 0;
      }
      const hdr = new Uint8Array(HEADER);
      const word = (size | (flags << 24)) >>> 0;
      hdr[0] = word & 0xff;
      hdr[1] = (word >>> 8) & 0xff;
      hdr[2] = (word >>> 16) & 0xff;
      hdr[3] = (word >>> 24) & 0xff;
      hdr.set(name, 4);
      if (failStage === 'midHeader') {
        this.program(freeAddr, hdr.subarray(0, 2));
        this.onPowerCut('power cut while writing a Storage file header');
      }
      this.program(freeAddr, hdr);
      return freeAddr + HEADER;
    }
  }

  /** jsfCompact: keep every live file, in order, packed from the start of the storage area. */
  compact(): boolean {
    const live: { size: number; name: Uint8Array; data: Uint8Array }[] = [];
    let trash = 0;
    for (const h of this.all()) {
      if (isDeleted(h)) {
        trash++;
        continue;
      }
      if (!VALID_FLAGS.has(fileFlags(h))) continue;
      live.push({ size: h.size, name: h.name, data: this.bytes.slice(h.addr + HEADER, h.addr + HEADER + fileSize(h)) });
    }
    if (!trash) return false;
    this.onMessage('Compacting...');
    this.compactions++;
    this.bytes.fill(0xff);
    let addr = 0;
    for (const f of live) {
      const hdr = new Uint8Array(HEADER);
      hdr[0] = f.size & 0xff;
      hdr[1] = (f.size >>> 8) & 0xff;
      hdr[2] = (f.size >>> 16) & 0xff;
      hdr[3] = (f.size >>> 24) & 0xff;
      hdr.set(f.name, 4);
      this.bytes.set(hdr, addr);
      this.bytes.set(f.data, addr + HEADER);
      addr = align(addr + HEADER + f.data.length);
    }
    return true;
  }

  /** jsfWriteFile. Returns false only in the cases where the C code returns false without exception. */
  writeFile(name: Uint8Array, data: Uint8Array, flags: number, offset: number, sizeArg: number): boolean {
    if (offset < 0 || sizeArg < 0) return false;
    const size = sizeArg || data.length;
    if (!size) throw jsException('Error', "Can't create zero length file");
    let h = this.find(name);
    const failHere = this.failNext && (this.failNext.name === undefined || nameEq(storageName(this.failNext.name), name)) ? this.failNext : undefined;
    let addr = h ? h.addr + HEADER : 0;
    if ((!h && offset === 0) || (h && offset === 0 && (flags !== fileFlags(h) || size !== fileSize(h) || !this.isErased(addr, size)))) {
      if (h && offset === 0 && size === fileSize(h) && flags === fileFlags(h) && data.length === size &&
          nameEq(h.name, name) && this.bytes.subarray(addr, addr + size).every((b, i) => b === data[i])) {
        this.noopWrites++;
        return true;
      }
      if (failHere) this.failNext = undefined;
      if (h) this.markDeleted(h);
      if (failHere?.at === 'afterDelete') this.onPowerCut('power cut after the old Storage file was marked deleted');
      addr = this.createFile(name, size, flags, failHere?.at);
      h = addr ? this.header(addr - HEADER) : undefined;
      if (failHere?.at === 'midData') {
        if (!addr) this.onPowerCut('power cut while writing a Storage file');
        const half = data.subarray(0, Math.floor(data.length / 2));
        this.program(addr + offset, half);
        this.onPowerCut('power cut while writing Storage file data');
      }
    }
    if (!addr || !h) throw jsException('Error', 'Unable to find or create file');
    if (offset + data.length > fileSize(h)) throw jsException('Error', 'Too much data for file size');
    if (!this.isErased(addr + offset, data.length)) throw jsException('Error', 'File already written with different data');
    this.program(addr + offset, data);
    this.writes++;
    return true;
  }

  readFile(name: Uint8Array, offset = 0, length = 0): Uint8Array | undefined {
    const h = this.find(name);
    if (!h) return undefined;
    const len = fileSize(h);
    if (offset < 0) offset = 0;
    if (length <= 0) length = len;
    if (offset > len) offset = len;
    if (offset + length > len) length = len - offset;
    if (length <= 0) return new Uint8Array(0);
    const a = h.addr + HEADER + offset;
    return this.bytes.slice(a, a + length);
  }

  fileInfo(name: Uint8Array): { addr: number; size: number; flags: number } | undefined {
    const h = this.find(name);
    return h ? { addr: h.addr + HEADER, size: fileSize(h), flags: fileFlags(h) } : undefined;
  }

  /** Raw write used by StorageFile appends (jswrap_flash_write). */
  programRaw(addr: number, data: Uint8Array): void {
    this.program(addr, data);
    this.writes++;
  }

  eraseFile(name: Uint8Array): boolean {
    const h = this.find(name);
    if (!h) return false;
    this.markDeleted(h);
    return true;
  }

  /** Live files: names as byte strings with their flags. */
  list(): { name: string; raw: Uint8Array; flags: number }[] {
    const out: { name: string; raw: Uint8Array; flags: number }[] = [];
    for (const h of this.all()) {
      if (isDeleted(h) || !VALID_FLAGS.has(fileFlags(h))) continue;
      out.push({ name: nameToString(h.name), raw: h.name, flags: fileFlags(h) });
    }
    return out;
  }

  /** jsfGetStorageStats(start, allPages=true) */
  stats(): StorageStats {
    const s: StorageStats = { totalBytes: this.size, freeBytes: 0, fileBytes: 0, fileCount: 0, trashBytes: 0, trashCount: 0 };
    let lastAddr = 0;
    for (const h of this.all()) {
      const sz = align(fileSize(h)) + HEADER;
      lastAddr = h.addr + sz;
      if (!isDeleted(h)) {
        s.fileBytes += sz;
        s.fileCount++;
      } else {
        s.trashBytes += sz;
        s.trashCount++;
      }
    }
    s.freeBytes = this.size - lastAddr;
    return s;
  }

  /** jsfIsStorageValid(JSFSTT_NORMAL): run at first boot; false means "Storage is corrupt." */
  isValid(): boolean {
    let h: Header | undefined = this.header(0);
    let last: Header = h;
    if (h.valid) {
      for (;;) {
        const n = this.next(last, true);
        if (!n) {
          // ran out of space: fine if the last file simply fills the storage
          const newAddr = align(last.addr + fileSize(last) + HEADER);
          return newAddr >= last.addr && newAddr <= this.size && newAddr + HEADER > this.size;
        }
        h = n;
        if (!n.valid) break;
        last = n;
      }
    }
    const hb = this.bytes.subarray(h.addr, h.addr + HEADER);
    const allFF = hb.every((b) => b === 0xff);
    if (allFF && h.addr === 0) return this.isErased(0, this.size);
    return allFF;
  }
}

/** The JS-facing StorageFile object (Storage.open). */
function makeStorageFile(host: Host, flash: Flash, nameArg: unknown, modeArg: unknown): any {
  const mode = modeArg === 'r' || modeArg === 'w' || modeArg === 'a' ? modeArg : undefined;
  if (!mode) throw jsException('Error', `Invalid mode ${JSON.stringify(modeArg)}`);
  const base = storageName(nameArg);
  let ni = NAME_LEN - 1;
  while (ni && base[ni - 1] === 0) ni--;
  const chunkName = (chunk: number) => {
    const n = base.slice();
    n[ni] = chunk;
    return n;
  };
  const st = { chunk: 1, offset: 0, mode: mode as string | 0 };
  const f = host.obj({ name: fromBytes(base.subarray(0, base.indexOf(0) < 0 ? NAME_LEN : base.indexOf(0))) });
  const erase = () => {
    host.alive();
    for (let c = 1; c < 256 && flash.eraseFile(chunkName(c)); c++);
    st.chunk = 1;
    st.offset = 0;
    st.mode = 0;
  };
  if (mode === 'w' && flash.fileInfo(chunkName(1))) {
    erase();
    st.mode = 'w';
  }
  if (mode === 'a') {
    let info = flash.fileInfo(chunkName(1));
    const lastByte = (i: { addr: number; size: number }) => flash.bytes[i.addr + i.size - 1];
    while (info && lastByte(info) !== 0xff && st.chunk < 255) {
      st.chunk++;
      info = flash.fileInfo(chunkName(st.chunk));
    }
    if (info) {
      let o = 0;
      while (o < info.size && flash.bytes[info.addr + o] !== 0xff) o++;
      st.offset = o;
    }
  }
  const read = (len: number): string | undefined => {
    host.alive();
    let isLine = len < 0;
    if (st.mode !== 'r') throw jsException('Error', "Can't read in this mode");
    let info = flash.fileInfo(chunkName(st.chunk));
    if (!info) return undefined;
    let result: string | undefined;
    let want = isLine ? Infinity : len;
    while (want > 0) {
      let remaining = info.size - st.offset;
      if (remaining <= 0) {
        st.offset = 0;
        if (st.chunk === 255) return result;
        st.chunk++;
        info = flash.fileInfo(chunkName(st.chunk));
        if (!info) return result;
        remaining = info.size;
      }
      let l = Math.min(want, remaining, 32);
      const buf = flash.bytes.subarray(info.addr + st.offset, info.addr + st.offset + l);
      for (let i = 0; i < l; i++) {
        if (buf[i] === 0xff) {
          l = i;
          want = l;
          break;
        }
        if (isLine && buf[i] === 10) {
          l = i + 1;
          want = l;
          isLine = false;
          break;
        }
      }
      if (!l) break;
      result = (result ?? '') + fromBytes(buf.subarray(0, l));
      want -= l;
      st.offset += l;
      if (isLine) want = Infinity;
    }
    return result;
  };
  f.read = (len: unknown) => read(Math.max(0, Number(len) | 0));
  f.readLine = () => read(-1);
  f.getLength = () => {
    host.alive();
    let length = 0;
    let chunk = 1;
    let info = flash.fileInfo(chunkName(chunk));
    const lastByte = (i: { addr: number; size: number }) => flash.bytes[i.addr + i.size - 1];
    while (info && lastByte(info) !== 0xff && chunk < 255) {
      length += info.size;
      info = flash.fileInfo(chunkName(++chunk));
    }
    if (info) {
      let o = 0;
      while (o < info.size && flash.bytes[info.addr + o] !== 0xff) o++;
      length += o;
    }
    return length;
  };
  f.write = (data: unknown) => {
    host.alive();
    if (st.mode !== 'w' && st.mode !== 'a') throw jsException('Error', "Can't write in this mode");
    const bytes = toBytes(String(data), 'StorageFile.write');
    if (!bytes.length) return;
    /** Creates the current chunk holding `part`; a failed write leaves the file unwritable. */
    const newChunk = (part: Uint8Array) => {
      try {
        flash.writeFile(chunkName(st.chunk), part, FLAG_STORAGEFILE, 0, STORAGEFILE_CHUNK);
        st.offset = part.length;
      } catch (e) {
        st.mode = 0;
        throw e;
      }
    };
    const info = flash.fileInfo(chunkName(st.chunk));
    if (!info) return newChunk(bytes);
    const remaining = info.size - st.offset;
    if (bytes.length < remaining) {
      flash.programRaw(info.addr + st.offset, bytes);
      st.offset += bytes.length;
      return;
    }
    flash.programRaw(info.addr + st.offset, bytes.subarray(0, remaining));
    st.offset += remaining;
    if (st.chunk === 255) throw jsException('Error', 'File too big!');
    st.chunk++;
    newChunk(bytes.subarray(remaining));
  };
  f.erase = erase;
  return f;
}

/** Bytes of a value written with Storage.write (JSV_GET_AS_CHAR_ARRAY). */
function dataBytes(data: unknown): Uint8Array {
  if (typeof data === 'string') return toBytes(data, 'Storage.write data');
  if (data instanceof ArrayBuffer || Object.prototype.toString.call(data) === '[object ArrayBuffer]') {
    return new Uint8Array(data as ArrayBuffer).slice();
  }
  if (ArrayBuffer.isView(data)) {
    if (data instanceof DataView || Object.prototype.toString.call(data) === '[object DataView]') {
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    }
    return Uint8Array.from(data as unknown as ArrayLike<number>, (x) => Number(x) & 0xff);
  }
  if (Array.isArray(data)) return Uint8Array.from(data, (x) => Number(x) & 0xff);
  if (data === undefined || data === null) throw jsException('Error', "Can't get pointer to data to write");
  return toBytes(String(data), 'Storage.write data');
}

function isPlainObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v) &&
    Object.prototype.toString.call(v) !== '[object ArrayBuffer]';
}

/** require("Storage") */
export function makeStorageModule(host: Host, flash: Flash, vmJSON: JSON): any {
  const m = host.obj();
  const realm = { obj: () => host.obj(), arr: () => host.arr() };
  const intArg = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? Math.trunc(v) : 0);
  m.write = (name: unknown, data: unknown, offset?: unknown, size?: unknown) => {
    host.alive();
    let bytes: Uint8Array;
    let off = intArg(offset);
    let sz = intArg(size);
    if (isPlainObject(data)) {
      bytes = toBytes(vmJSON.stringify(data), 'Storage.write data');
      off = 0;
      sz = 0;
    } else bytes = dataBytes(data);
    return flash.writeFile(storageName(name), bytes, 0, off, sz);
  };
  m.writeJSON = (name: unknown, data: unknown) => {
    host.alive();
    const s = stringifyCompact(data) ?? '';
    return flash.writeFile(storageName(name), toBytes(s, 'Storage.writeJSON data'), 0, 0, 0);
  };
  m.read = (name: unknown, offset?: unknown, length?: unknown) => {
    host.alive();
    const b = flash.readFile(storageName(name), intArg(offset), intArg(length));
    return b ? fromBytes(b) : undefined;
  };
  m.readJSON = (name: unknown, noExceptions?: unknown) => {
    host.alive();
    const b = flash.readFile(storageName(name));
    if (!b) return undefined;
    try {
      return parseLiberal(fromBytes(b), realm);
    } catch (e) {
      if (noExceptions) return undefined;
      throw e;
    }
  };
  m.readArrayBuffer = (name: unknown) => {
    host.alive();
    const b = flash.readFile(storageName(name));
    if (!b) return undefined;
    const u = new host.Uint8Array(b.length);
    u.set(b);
    return u.buffer;
  };
  m.erase = (name: unknown) => {
    host.alive();
    flash.eraseFile(storageName(name));
  };
  m.eraseAll = () => {
    host.alive();
    flash.eraseAll();
  };
  m.list = (regex?: unknown, filter?: unknown) => {
    host.alive();
    let containing = 0;
    let notContaining = 0;
    if (isPlainObject(filter) && 'sf' in (filter as object)) {
      if ((filter as { sf: unknown }).sf) containing = FLAG_STORAGEFILE;
      else notContaining = FLAG_STORAGEFILE;
    }
    const out = host.arr();
    for (const f of flash.list()) {
      if (notContaining & f.flags) continue;
      if (containing && !(containing & f.flags)) continue;
      let name = f.name;
      if (f.flags & FLAG_STORAGEFILE) {
        if (!name.length || name.charCodeAt(name.length - 1) !== 1) continue;
        if (containing & FLAG_STORAGEFILE) name = name.slice(0, -1);
      }
      if (regex !== undefined && regex !== null) {
        const match = String.prototype.match.call(name, regex as RegExp);
        if (match === null || match === undefined) continue;
      }
      out.push(name);
    }
    return out;
  };
  m.getFree = () => {
    host.alive();
    return flash.stats().freeBytes;
  };
  m.getStats = () => {
    host.alive();
    return host.data(flash.stats());
  };
  m.compact = () => {
    host.alive();
    flash.compact();
  };
  m.debug = () => {
    for (const f of flash.list()) host.print(`${JSON.stringify(f.name)} flags ${f.flags}`);
  };
  m.open = (name: unknown, mode: unknown) => {
    host.alive();
    return makeStorageFile(host, flash, name, mode);
  };
  return m;
}
