/**
 * C++ (Itanium `_Z…`) and Rust (legacy `_ZN…17h<hash>E`, hash stripped; v0 `_R…`) demangling.
 *
 * Primary: binutils `c++filt` (libiberty, the demangler perf itself uses), run at a fixed
 * absolute path (/usr/bin/c++filt, used only when it and its directory chain resolve to a
 * root-owned file no one else may write), without a shell, with many names on stdin at once
 * (`demangleMany`: one process per batch of new names, about 2–10 ms, instead of compiling
 * a WASM module: ~100 ms of CPU per process). It is also the more faithful one: the WASM
 * demangler drops `&&` and template return types that libiberty keeps.
 * Fallback (no c++filt, or a name c++filt is not given): the `gecko-profiler-demangle` WASM
 * module (the Firefox profiler's demangler, cpp_demangle + rustc-demangle), instantiated
 * synchronously from its .wasm file (Node 20 cannot `import` a .wasm module without a flag)
 * the first time it is needed. If neither works the mangled name is returned. Never throws.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

type DemangleFn = (name: string) => string;

interface DemangleExports {
  memory: WebAssembly.Memory;
  demangle_any(ptr: number, len: number): [number, number];
  __wbindgen_export_0: WebAssembly.Table;
  __wbindgen_malloc(size: number, align: number): number;
  __wbindgen_free(ptr: number, size: number, align: number): void;
  __wbindgen_start(): void;
}

/**
 * Instantiates the package's .wasm synchronously with a minimal binding of our own (the
 * package's JS glue is an ES module that Node 20 cannot load without a flag, and importing
 * it would need top-level await).
 */
function loadWasm(): DemangleFn | null {
  try {
    const require = createRequire(import.meta.url);
    const dir = dirname(require.resolve('gecko-profiler-demangle/package.json'));
    const mod = new WebAssembly.Module(readFileSync(join(dir, 'index_bg.wasm')));
    let ex: DemangleExports | null = null;
    const imports = {
      './index_bg.js': {
        __wbindgen_init_externref_table(): void {
          const table = ex!.__wbindgen_export_0;
          const offset = table.grow(4);
          table.set(0, undefined);
          table.set(offset + 0, undefined);
          table.set(offset + 1, null);
          table.set(offset + 2, true);
          table.set(offset + 3, false);
        },
      },
    };
    const inst = new WebAssembly.Instance(mod, imports);
    ex = inst.exports as unknown as DemangleExports;
    const w = ex;
    w.__wbindgen_start();
    const enc = new TextEncoder();
    const dec = new TextDecoder('utf-8', { fatal: false });
    const fn: DemangleFn = (name) => {
      const bytes = enc.encode(name);
      const ptr = w.__wbindgen_malloc(bytes.length, 1) >>> 0;
      new Uint8Array(w.memory.buffer, ptr, bytes.length).set(bytes);
      const [rp, rl] = w.demangle_any(ptr, bytes.length); // takes ownership of the input
      try {
        return dec.decode(new Uint8Array(w.memory.buffer, rp >>> 0, rl >>> 0));
      } finally {
        w.__wbindgen_free(rp, rl, 1);
      }
    };
    // Smoke test: a broken module must not be used.
    if (fn('_ZN3foo3barEv') !== 'foo::bar()') return null;
    return fn;
  } catch {
    return null;
  }
}

/** The WASM demangler: instantiated on the first mangled name (undefined until then, null if it failed). */
let wasmDemangleFn: DemangleFn | null | undefined;
function wasmDemangle(): DemangleFn | null {
  if (wasmDemangleFn === undefined) wasmDemangleFn = loadWasm();
  return wasmDemangleFn;
}

/** Where c++filt is looked for: a fixed absolute path (never PATH: root must not run another user's program). */
export const CXXFILT_PATH = '/usr/bin/c++filt';
/** Longest name given to c++filt (bytes); libiberty's filter reads lines into a 32 KB buffer. Longer ones go to WASM. */
const CXXFILT_MAX_NAME = 8192;
/** A name c++filt's filter mode reads as one token: the characters of Itanium and Rust symbols, nothing else. */
const CXXFILT_TOKEN = /^[A-Za-z0-9_.$]+$/;

/** The c++filt in use: its path when usable, null when not (undefined until first checked). */
let cxxfiltPath: string | null | undefined;

/**
 * Chooses the c++filt binary (tests: a path that does not exist forces the WASM fallback;
 * undefined restores the default). Clears the cache of demangled names.
 */
export function setCxxfiltPathForTests(path: string | undefined): void {
  cxxfiltPath = path === undefined ? undefined : trustedExecutable(path);
  cache.clear();
}

/** `path` when it resolves to a root-owned regular executable that group and others cannot write, else null. */
function trustedExecutable(path: string): string | null {
  try {
    const real = realpathSync(path);
    const st = statSync(real);
    if (!st.isFile() || st.uid !== 0 || (st.mode & 0o022) !== 0 || (st.mode & 0o111) === 0) return null;
    return path;
  } catch {
    return null;
  }
}

function cxxfiltBinary(): string | null {
  if (cxxfiltPath === undefined) cxxfiltPath = trustedExecutable(CXXFILT_PATH);
  return cxxfiltPath;
}

/**
 * Demangles `names` with one c++filt process (names on stdin, one a line; c++filt writes one
 * line per line). Returns the raw c++filt output per name, or null when c++filt is missing,
 * fails or answers with a different number of lines (then it is not used again).
 */
function cxxfiltMany(names: readonly string[]): string[] | null {
  const binary = cxxfiltBinary();
  if (binary === null || names.length === 0) return null;
  try {
    const r = spawnSync(binary, [], { input: names.join('\n') + '\n', encoding: 'utf8', timeout: 5000, maxBuffer: 64 * 1024 * 1024, shell: false });
    const lines = typeof r.stdout === 'string' ? r.stdout.split('\n') : [];
    if (lines[lines.length - 1] === '') lines.pop();
    if (r.status !== 0 || lines.length !== names.length) {
      cxxfiltPath = null;
      return null;
    }
    return lines;
  } catch {
    cxxfiltPath = null;
    return null;
  }
}

/** Demangles one name with c++filt (exported for tests). Returns `name` when it cannot. */
export function cxxfilt(name: string): string {
  return cxxfiltMany([name])?.[0] ?? name;
}

/** Which implementation is in use: 'c++filt' (primary), 'wasm' (fallback) or 'none'. */
export function demanglerKind(): 'wasm' | 'c++filt' | 'none' {
  if (cxxfiltBinary()) return 'c++filt';
  return wasmDemangle() ? 'wasm' : 'none';
}

/** Rust legacy names end in `::h` + 16 hex digits; perf and the Firefox profiler hide it. */
const RUST_HASH = /::h[0-9a-f]{16}$/;

const cache = new Map<string, string>();
const CACHE_MAX = 200_000;

/** Looks mangled: Itanium `_Z`/`__Z` (Mach-O style), Rust v0 `_R`. */
export function isMangled(name: string): boolean {
  return name.startsWith('_Z') || name.startsWith('__Z') || name.startsWith('_R');
}

/**
 * Rust v0 names as c++filt prints them carry each crate's disambiguator (`mycrate[1a2b]::f`);
 * rustc-demangle's short form (what the WASM demangler, perf's Rust-aware builds and the
 * Firefox profiler show) leaves it out. It follows a crate name directly; a slice (`&[u8]`) does not.
 */
const RUST_V0_DISAMBIGUATOR = /(?<=[A-Za-z0-9_])\[[0-9a-f]+\]/g;

/** The name given to c++filt, or null when it must go to the WASM demangler. */
function cxxfiltInput(name: string): string | null {
  if (name.length > CXXFILT_MAX_NAME || !CXXFILT_TOKEN.test(name)) return null;
  // Mach-O style `__Z…`: libiberty wants the single-underscore form.
  return name.startsWith('__Z') ? name.slice(1) : name;
}

/** Cleans a demangler's answer: unchanged or empty means not understood; Rust hashes and disambiguators go. */
function finish(name: string, out: string): string {
  // A demangler that only dropped the leading underscore did not understand the name.
  if (out === '' || out === name.slice(1)) out = name;
  if (out === name) return name;
  out = out.replace(RUST_HASH, '');
  if (name.startsWith('_R')) out = out.replace(RUST_V0_DISAMBIGUATOR, '');
  return out;
}

function remember(name: string, out: string): void {
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(name, out);
}

function wasmOrSelf(name: string): string {
  try {
    const wasm = wasmDemangle();
    return wasm ? wasm(name) : name;
  } catch {
    return name;
  }
}

/**
 * A PLT stub's name (`_ZNSo9_M_insertImEERSoT_@plt`, server/symbolizer/elf.ts pltStubs) is the
 * mangled import plus `@plt`: demangled as the import, then the suffix put back (as objdump -C
 * prints it), so c++filt's one-token filter and the WASM fallback both see a plain symbol.
 */
const PLT_SUFFIX = '@plt';

/** [name without `@plt`, the suffix or ''] */
function splitPlt(name: string): [string, string] {
  return name.endsWith(PLT_SUFFIX) ? [name.slice(0, -PLT_SUFFIX.length), PLT_SUFFIX] : [name, ''];
}

/** The cached demangled form of a mangled `name`, or undefined when it has not been demangled yet. */
export function demangledIfKnown(name: string): string | undefined {
  const [base, suffix] = splitPlt(name);
  const hit = cache.get(base);
  return hit === undefined ? undefined : hit + suffix;
}

/**
 * The demangled form of `name`, or `name` itself when it is not mangled or cannot be
 * demangled. Suffixes like `.cold`, `.isra.0` are kept by the demanglers as ` [clone .cold]`.
 * One c++filt process per call for a new name: callers with many names use `demangleMany`.
 */
export function demangle(name: string): string {
  if (!isMangled(name)) return name;
  return demangleMany([name])[0];
}

/**
 * `demangle` of every name, with one c++filt process for all the new mangled names among
 * them (cached ones and plain names cost nothing). Same order and length as `names`.
 */
export function demangleMany(names: readonly string[]): string[] {
  if (!names.some((name) => name.endsWith(PLT_SUFFIX))) return demangleBases(names);
  const split = names.map(splitPlt);
  return demangleBases(split.map(([base]) => base)).map((out, i) => out + split[i][1]);
}

/** demangleMany of names without a `@plt` suffix. */
function demangleBases(names: readonly string[]): string[] {
  const out = new Array<string>(names.length);
  const pending: number[] = [];
  const inputs: string[] = [];
  const queued = new Map<string, number>();
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    if (!isMangled(name)) {
      out[i] = name;
      continue;
    }
    const hit = cache.get(name);
    if (hit !== undefined) {
      out[i] = hit;
      continue;
    }
    pending.push(i);
    const input = cxxfiltInput(name);
    if (input !== null && !queued.has(name)) {
      queued.set(name, inputs.length);
      inputs.push(input);
    }
  }
  if (pending.length === 0) return out;
  const answers = inputs.length > 0 ? cxxfiltMany(inputs) : null;
  for (const i of pending) {
    const name = names[i];
    let result = cache.get(name); // a duplicate within this call, already finished
    if (result === undefined) {
      const q = queued.get(name);
      const raw = answers !== null && q !== undefined ? answers[q] : wasmOrSelf(name);
      // c++filt was given `_Z…` for `__Z…`: map its unchanged answer back.
      result = finish(name, raw === inputs[q ?? -1] ? name : raw);
      remember(name, result);
    }
    out[i] = result;
  }
  return out;
}
