/**
 * Test helpers for the symbolizer tests: compiles the C/C++ fixtures in
 * test/fixtures/symbolizer/ into a temporary directory (once per test process), runs the
 * test program, and reads `nm` output. Not used by production code.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
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
