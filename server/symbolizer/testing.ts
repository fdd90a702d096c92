/**
 * Test helpers for the symbolizer tests: compiles the C/C++ fixtures in
 * test/fixtures/symbolizer/ into a temporary directory (once per test process), runs the
 * test program, and reads `nm` output. Not used by production code.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/symbolizer');

export interface Built {
  dir: string;
  /** PIE executable linked against libpbtest.so. */
  pie: string;
  /** Non-PIE (ET_EXEC) executable linked against libpbtest.so. */
  nopie: string;
  /** The shared library. */
  lib: string;
  /** Stripped PIE (no .symtab). */
  stripped: string;
  /** C++ program with mangled names. */
  cxx: string;
}

let built: Built | undefined;

export function buildFixtures(): Built {
  if (built) return built;
  const dir = mkdtempSync(join(tmpdir(), 'pb-sym-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const cc = (args: string[]) => execFileSync('gcc', args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const lib = join(dir, 'libpbtest.so');
  cc(['-O1', '-g0', '-fPIC', '-shared', '-o', lib, join(FIXTURES, 'lib.c')]);
  const common = ['-O1', '-fno-omit-frame-pointer', join(FIXTURES, 'prog.c'), `-L${dir}`, '-lpbtest', `-Wl,-rpath,${dir}`];
  const pie = join(dir, 'prog-pie');
  cc(['-fPIE', '-pie', '-o', pie, ...common]);
  const nopie = join(dir, 'prog-nopie');
  cc(['-fno-PIE', '-no-pie', '-o', nopie, ...common]);
  const stripped = join(dir, 'prog-stripped');
  execFileSync('strip', ['-o', stripped, pie]);
  const cxx = join(dir, 'cxx');
  execFileSync('g++', ['-O1', '-o', cxx, join(FIXTURES, 'cxx.cpp')], { stdio: ['ignore', 'ignore', 'inherit'] });
  built = { dir, pie, nopie, lib, stripped, cxx };
  return built;
}

/** Function symbols per `nm --defined-only` (text symbols), name -> address. */
export function nmFunctions(path: string, dynamic = false): Map<string, bigint> {
  const out = execFileSync('nm', [...(dynamic ? ['-D'] : []), '--defined-only', path], { encoding: 'utf8' });
  const m = new Map<string, bigint>();
  for (const line of out.split('\n')) {
    const [addr, type, name] = line.trim().split(/\s+/);
    if (name && /^[tTwWi]$/.test(type)) m.set(name.replace(/@.*$/, ''), BigInt('0x' + addr));
  }
  return m;
}

export interface Running {
  child: ChildProcess;
  pid: number;
  /** Runtime addresses printed by the program after its pid, in order. */
  printed: bigint[];
  /** Ends the program (closes its stdin) and waits for it to be reaped. */
  stop(): Promise<void>;
}

/** Starts a fixture program and waits for its `ready PID ADDR…` line. */
export function runProgram(path: string, args: string[] = []): Promise<Running> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(path, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    let text = '';
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`${path} did not print ready`));
    }, 10000);
    child.on('error', reject);
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.stdout!.on('data', (d: Buffer) => {
      text += d.toString();
      const m = /ready (\d+)((?: \S+)*)\n/.exec(text);
      if (!m) return;
      clearTimeout(timer);
      resolvePromise({
        child,
        pid: Number(m[1]),
        printed: m[2].trim().split(' ').filter(Boolean).map((x) => BigInt(x)),
        stop: async () => {
          child.stdin!.end();
          await exited;
        },
      });
    });
  });
}

/** Builds the Rust fixture with legacy and v0 mangling; null when no rustc is installed. */
export function buildRustFixtures(): { legacy: string; v0: string } | null {
  const b = buildFixtures();
  const rustc = [process.env.RUSTC, 'rustc', join(process.env.HOME ?? '/root', '.cargo/bin/rustc')].find((c) => {
    if (!c) return false;
    try {
      execFileSync(c, ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });
  if (!rustc) return null;
  const legacy = join(b.dir, 'rust-legacy');
  const v0 = join(b.dir, 'rust-v0');
  const src = join(FIXTURES, 'rust.rs');
  // Stable rustc mangles the legacy way by default (`-C symbol-mangling-version=legacy` is unstable).
  if (!existsSync(legacy)) execFileSync(rustc, ['-O', '-o', legacy, src], { stdio: 'ignore' });
  if (!existsSync(v0)) execFileSync(rustc, ['-O', '-C', 'symbol-mangling-version=v0', '-o', v0, src], { stdio: 'ignore' });
  return { legacy, v0 };
}

/** Compiles one C source (text) with gcc into `dir/name`; `args` go before the source. Returns the path. */
export function compileC(dir: string, name: string, source: string, args: string[] = []): string {
  const src = join(dir, `${name}.c`);
  writeFileSync(src, source);
  const out = join(dir, name);
  execFileSync('gcc', [...args, '-o', out, src], { stdio: ['ignore', 'ignore', 'inherit'] });
  return out;
}

/** PT_LOAD segments as `readelf -lW` prints them (not our reader): file offset, vaddr, sizes (bytes), flags. */
export function readelfLoads(path: string): { offset: bigint; vaddr: bigint; filesz: bigint; memsz: bigint; flags: string }[] {
  const out = execFileSync('readelf', ['-lW', path], { encoding: 'utf8' });
  const loads = [];
  for (const m of out.matchAll(/^\s*LOAD\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+([RWE ]+?)\s+0x[0-9a-f]+$/gm)) {
    loads.push({ offset: BigInt(m[1]), vaddr: BigInt(m[2]), filesz: BigInt(m[3]), memsz: BigInt(m[4]), flags: m[5] });
  }
  if (loads.length === 0) throw new Error(`readelf -lW ${path}: no LOAD segments:\n${out}`);
  return loads;
}

/** The file offset of virtual address `vaddr` of `path` (through readelf's PT_LOAD table). */
export function fileOffsetOf(path: string, vaddr: bigint): bigint {
  const p = readelfLoads(path).find((l) => vaddr >= l.vaddr && vaddr < l.vaddr + l.filesz);
  if (!p) throw new Error(`${path}: no PT_LOAD holds 0x${vaddr.toString(16)}`);
  return vaddr - p.vaddr + p.offset;
}

/** Fake procfs roots made by this test process (removed at exit). */
const fakeRoots: string[] = [];

/**
 * A fake procfs with one live process that maps `binaries`, each the way the loader maps it:
 * one mapping per PT_LOAD, page-aligned, at `base` + its vaddr (base 0 for ET_EXEC), device
 * and inode of the real file. The binaries are then read from their paths (no /proc/PID/root
 * or map_files under the fake root). Returns the fake root (removed at exit).
 */
export function fakeProcMapping(pid: number, binaries: { path: string; base: bigint }[]): string {
  const root = mkdtempSync(join(tmpdir(), 'pb-fakeproc-'));
  if (fakeRoots.length === 0) process.on('exit', () => fakeRoots.forEach((r) => rmSync(r, { recursive: true, force: true })));
  fakeRoots.push(root);
  const page = 0x1000n;
  const hex = (x: bigint) => x.toString(16).padStart(8, '0');
  const lines: string[] = [];
  for (const { path, base } of binaries) {
    const st = statSync(path);
    const dev = `${(Math.floor(st.dev / 256) & 0xfff).toString(16).padStart(2, '0')}:${(st.dev & 0xff).toString(16).padStart(2, '0')}`;
    for (const l of readelfLoads(path)) {
      const start = base + (l.vaddr & ~(page - 1n));
      const end = base + ((l.vaddr + l.memsz + page - 1n) & ~(page - 1n));
      const perms = `${l.flags.includes('R') ? 'r' : '-'}${l.flags.includes('W') ? 'w' : '-'}${l.flags.includes('E') ? 'x' : '-'}p`;
      lines.push(`${hex(start)}-${hex(end)} ${perms} ${hex(l.offset & ~(page - 1n))} ${dev} ${st.ino} ${path}`);
    }
  }
  mkdirSync(join(root, String(pid)), { recursive: true });
  writeFileSync(join(root, String(pid), 'maps'), lines.join('\n') + '\n');
  writeFileSync(join(root, String(pid), 'stat'), `${pid} (fake) S ${Array.from({ length: 18 }, () => '0').join(' ')} 100 0\n`);
  const uid = process.getuid!();
  writeFileSync(join(root, String(pid), 'status'), `Name:\tfake\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\nNSpid:\t${pid}\n`);
  return root;
}
