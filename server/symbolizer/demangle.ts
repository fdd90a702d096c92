/**
 * C++ (Itanium `_Z…`) and Rust (legacy `_ZN…17h<hash>E`, hash stripped; v0 `_R…`) demangling.
 *
 * Primary: the `gecko-profiler-demangle` WASM module (the Firefox profiler's demangler,
 * cpp_demangle + rustc-demangle), instantiated synchronously from its .wasm file (Node 20
 * cannot `import` a .wasm module without a flag) the first time a mangled name is seen (a
 * profile of C code never pays for it). Fallback: binutils `c++filt`, called
 * synchronously per new name (slow, but results are cached). If neither works the mangled
 * name is returned. Never throws.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
let cxxfiltWorks: boolean | undefined;

/** Demangles with binutils `c++filt` (the fallback path; exported for tests). Returns `name` when it cannot. */
export function cxxfilt(name: string): string {
  if (cxxfiltWorks === false) return name;
  try {
    const r = spawnSync('c++filt', ['--', name], { encoding: 'utf8', timeout: 2000 });
    if (r.status !== 0 || typeof r.stdout !== 'string') {
      cxxfiltWorks = false;
      return name;
    }
    cxxfiltWorks = true;
    return r.stdout.replace(/\n$/, '');
  } catch {
    cxxfiltWorks = false;
    return name;
  }
}

/** Which implementation is in use: 'wasm', 'c++filt' (fallback) or 'none'. */
export function demanglerKind(): 'wasm' | 'c++filt' | 'none' {
  if (wasmDemangle()) return 'wasm';
  return cxxfiltWorks === false ? 'none' : 'c++filt';
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
 * The demangled form of `name`, or `name` itself when it is not mangled or cannot be
 * demangled. Suffixes like `.cold`, `.isra.0` are kept by the demanglers as ` [clone .cold]`.
 */
export function demangle(name: string): string {
  if (!isMangled(name)) return name;
  const hit = cache.get(name);
  if (hit !== undefined) return hit;
  let out = name;
  try {
    const wasm = wasmDemangle();
    out = wasm ? wasm(name) : cxxfilt(name);
  } catch {
    out = name;
  }
  // A demangler that only dropped the leading underscore did not understand the name.
  if (out === '' || out === name.slice(1)) out = name;
  out = out.replace(RUST_HASH, '');
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(name, out);
  return out;
}
