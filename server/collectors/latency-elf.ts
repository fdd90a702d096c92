/**
 * Minimal ELF64 reader for the latency collector: is this file ELF, its function symbols
 * (.symtab and .dynsym) with the file offsets uprobes need, and its USDT probes
 * (.note.stapsdt). Reads only headers and the sections it needs (positional reads), so
 * large binaries are cheap.
 *
 * TODO: switch the symbol part to server/symbolizer/elf.ts once it exists; USDT notes
 * stay here (the symbolizer has no use for them).
 */
import { openSync, readSync, closeSync, fstatSync } from 'node:fs';

export class NotElfError extends Error {
  constructor(readonly path: string, why: string) {
    super(`${path} is not an ELF file (${why})`);
    this.name = 'NotElfError';
  }
}

/** A defined function symbol. */
export interface ElfFunction {
  name: string;
  /** Virtual address (st_value). */
  address: bigint;
  size: number;
  /** File offset of the first instruction: what a uprobe attaches to. */
  offset: number;
}

/** One USDT probe site (.note.stapsdt entry). */
export interface UsdtProbe {
  provider: string;
  name: string;
  /** Probe address (virtual, as linked). */
  pc: bigint;
  /** Semaphore address, 0n when none. */
  semaphore: bigint;
  /** Argument spec string, e.g. "-4@%eax 8@%rdx". */
  args: string;
}

interface Section {
  name: string;
  type: number;
  addr: bigint;
  offset: number;
  size: number;
  link: number;
  entsize: number;
}

interface Segment {
  type: number;
  flags: number;
  offset: number;
  vaddr: bigint;
  filesz: number;
}

const SHT_SYMTAB = 2;
const SHT_NOTE = 7;
const SHT_DYNSYM = 11;
const PT_LOAD = 1;
const PF_X = 1;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;

/** An opened ELF file; call close(). */
export class ElfFile {
  readonly path: string;
  #fd: number;
  readonly sections: Section[] = [];
  readonly segments: Segment[] = [];
  /** ET_EXEC = 2, ET_DYN = 3. */
  readonly type: number;

  constructor(path: string) {
    this.path = path;
    this.#fd = openSync(path, 'r');
    try {
      const st = fstatSync(this.#fd);
      if (!st.isFile()) throw new NotElfError(path, 'not a regular file');
      const eh = this.read(0, 64);
      if (eh.length < 64 || eh.readUInt32BE(0) !== 0x7f454c46) throw new NotElfError(path, 'no ELF magic');
      if (eh[4] !== 2) throw new NotElfError(path, 'only 64-bit ELF is supported');
      if (eh[5] !== 1) throw new NotElfError(path, 'only little-endian ELF is supported');
      this.type = eh.readUInt16LE(16);
      const phoff = Number(eh.readBigUInt64LE(32));
      const shoff = Number(eh.readBigUInt64LE(40));
      const phentsize = eh.readUInt16LE(54);
      const phnum = eh.readUInt16LE(56);
      const shentsize = eh.readUInt16LE(58);
      const shnum = eh.readUInt16LE(60);
      const shstrndx = eh.readUInt16LE(62);
      const ph = this.read(phoff, phentsize * phnum);
      for (let i = 0; i < phnum; i++) {
        const o = i * phentsize;
        this.segments.push({
          type: ph.readUInt32LE(o),
          flags: ph.readUInt32LE(o + 4),
          offset: Number(ph.readBigUInt64LE(o + 8)),
          vaddr: ph.readBigUInt64LE(o + 16),
          filesz: Number(ph.readBigUInt64LE(o + 32)),
        });
      }
      if (shoff === 0 || shnum === 0) return;
      const sh = this.read(shoff, shentsize * shnum);
      const raw = [];
      for (let i = 0; i < shnum; i++) {
        const o = i * shentsize;
        raw.push({
          nameOff: sh.readUInt32LE(o),
          type: sh.readUInt32LE(o + 4),
          addr: sh.readBigUInt64LE(o + 16),
          offset: Number(sh.readBigUInt64LE(o + 24)),
          size: Number(sh.readBigUInt64LE(o + 32)),
          link: sh.readUInt32LE(o + 40),
          entsize: Number(sh.readBigUInt64LE(o + 56)),
        });
      }
      const names = shstrndx < raw.length ? this.read(raw[shstrndx].offset, raw[shstrndx].size) : Buffer.alloc(0);
      for (const r of raw) this.sections.push({ ...r, name: cstr(names, r.nameOff) });
    } catch (e) {
      closeSync(this.#fd);
      throw e;
    }
  }

  read(offset: number, length: number): Buffer {
    const buf = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.#fd, buf, done, length - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    return done === length ? buf : buf.subarray(0, done);
  }

  close(): void {
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
  }

  /** File offset of virtual address `addr` (through the PT_LOAD segment holding it), or -1. */
  fileOffset(addr: bigint): number {
    for (const s of this.segments) {
      if (s.type !== PT_LOAD) continue;
      if (addr >= s.vaddr && addr < s.vaddr + BigInt(s.filesz)) return Number(addr - s.vaddr) + s.offset;
    }
    return -1;
  }

  /** Defined function symbols of .symtab and .dynsym, deduplicated by name. */
  functions(): ElfFunction[] {
    const out = new Map<string, ElfFunction>();
    for (const sec of this.sections) {
      if (sec.type !== SHT_SYMTAB && sec.type !== SHT_DYNSYM) continue;
      const strSec = this.sections[sec.link];
      if (!strSec) continue;
      const strs = this.read(strSec.offset, strSec.size);
      const syms = this.read(sec.offset, sec.size);
      const ent = sec.entsize || 24;
      for (let o = 0; o + ent <= syms.length; o += ent) {
        const info = syms[o + 4];
        const kind = info & 0xf;
        const shndx = syms.readUInt16LE(o + 6);
        if ((kind !== STT_FUNC && kind !== STT_GNU_IFUNC) || shndx === 0) continue;
        const address = syms.readBigUInt64LE(o + 8);
        if (address === 0n) continue;
        let name = cstr(strs, syms.readUInt32LE(o));
        const at = name.indexOf('@');
        if (at > 0) name = name.slice(0, at);
        if (!name || out.has(name)) continue;
        const offset = this.fileOffset(address);
        if (offset < 0) continue;
        out.set(name, { name, address, size: Number(syms.readBigUInt64LE(o + 16)), offset });
      }
    }
    return [...out.values()];
  }

  /** USDT probes from .note.stapsdt. */
  usdtProbes(): UsdtProbe[] {
    const out: UsdtProbe[] = [];
    for (const sec of this.sections) {
      if (sec.type !== SHT_NOTE || sec.name !== '.note.stapsdt') continue;
      const b = this.read(sec.offset, sec.size);
      let o = 0;
      while (o + 12 <= b.length) {
        const namesz = b.readUInt32LE(o);
        const descsz = b.readUInt32LE(o + 4);
        const type = b.readUInt32LE(o + 8);
        const nameStart = o + 12;
        const descStart = nameStart + align4(namesz);
        const owner = cstr(b, nameStart);
        if (owner === 'stapsdt' && type === 3 && descsz >= 24) {
          const pc = b.readBigUInt64LE(descStart);
          const semaphore = b.readBigUInt64LE(descStart + 16);
          let p = descStart + 24;
          const provider = cstr(b, p);
          p += Buffer.byteLength(provider) + 1;
          const name = cstr(b, p);
          p += Buffer.byteLength(name) + 1;
          const args = p < descStart + descsz ? cstr(b, p) : '';
          out.push({ provider, name, pc, semaphore, args });
        }
        o = descStart + align4(descsz);
      }
    }
    return out;
  }
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

function cstr(b: Buffer, off: number): string {
  const end = b.indexOf(0, off);
  return b.toString('utf8', off, end < 0 ? b.length : end);
}

/** Opens `path`, runs `fn`, closes it. Throws NotElfError for non-ELF files. */
export function withElf<T>(path: string, fn: (elf: ElfFile) => T): T {
  const elf = new ElfFile(path);
  try {
    return fn(elf);
  } finally {
    elf.close();
  }
}

/** True for an executable segment: used by tests. */
export function isExecutable(seg: Segment): boolean {
  return (seg.flags & PF_X) !== 0;
}
