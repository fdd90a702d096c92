/**
 * Binaries to probe, resolved one way for every collector (latency, events) and for `list`: a
 * path as given, or a library name like bcc resolves it. Errors the user must fix are
 * ProbeInputError, the one error type of server/probes (exit code 2 in the CLI).
 */
import { accessSync, constants as fsc, existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, resolve as resolvePath } from 'node:path';
import { describeFileType } from '../fs/safe-file.ts';

/** Bad input the user must fix; the CLI exits 2 with this one-line message. */
export class ProbeInputError extends Error {
  constructor(
    message: string,
    /** The spec field at fault ('binary', 'symbol', 'probes'), when one is. */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ProbeInputError';
  }
}

function stripLib(name: string): string {
  return name.startsWith('lib') ? name.slice(3) : name;
}

/**
 * Resolves a binary like bcc: a path (contains '/') as is; a library name (`c`, `libc`,
 * `pthread`) through `ldconfig -p`, then the libraries mapped by this process, then PATH
 * for executables. Returns the real path. Throws ProbeInputError when not found or not a regular file.
 */
export function resolveBinary(binary: string): string {
  return requireRegularBinary(resolveBinaryName(binary));
}

/**
 * A binary is read (ELF, USDT notes) and handed to libbpf by path: anything but a regular
 * file (a FIFO would block the opener, a device could react to being opened) is refused
 * here, by stat, before anything opens it. The opens themselves go through openRegularFile.
 */
function requireRegularBinary(path: string): string {
  const st = statSync(path);
  if (!st.isFile()) throw new ProbeInputError(`binary ${path} is ${describeFileType(st)}, not a regular file`);
  return path;
}

function resolveBinaryName(binary: string): string {
  if (binary.includes('/')) {
    const p = resolvePath(binary);
    if (!existsSync(p)) throw new ProbeInputError(`binary ${p} not found`);
    return realpathSync(p);
  }
  const base = stripLib(binary.replace(/\.so(\..*)?$/, ''));
  const soPrefix = `lib${base}.so`;
  // 1. ldconfig cache.
  try {
    const out = execFileSync('ldconfig', ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const hits: { so: string; path: string; x64: boolean }[] = [];
    for (const line of out.split('\n')) {
      const m = /^\s*(\S+)\s+\(([^)]*)\)\s+=>\s+(\S+)/.exec(line);
      if (!m) continue;
      if (m[1] === soPrefix || m[1].startsWith(soPrefix + '.')) hits.push({ so: m[1], path: m[3], x64: m[2].includes('x86-64') });
    }
    const hit = hits.find((h) => h.x64) ?? hits[0];
    if (hit && existsSync(hit.path)) return realpathSync(hit.path);
  } catch {
    // no ldconfig: fall through
  }
  // 2. Libraries this process has mapped (libc at least).
  try {
    for (const line of readFileSync('/proc/self/maps', 'utf8').split('\n')) {
      const path = line.split(/\s+/)[5];
      if (!path || !path.startsWith('/')) continue;
      const file = path.slice(path.lastIndexOf('/') + 1);
      if (file === soPrefix || file.startsWith(soPrefix + '.')) return realpathSync(path);
    }
  } catch {
    // not Linux?
  }
  // 3. An executable on PATH.
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (!dir) continue;
    const p = join(dir, binary);
    try {
      accessSync(p, fsc.X_OK);
      if (statSync(p).isFile()) return realpathSync(p);
    } catch {
      // next
    }
  }
  throw new ProbeInputError(`binary "${binary}" not found: no library lib${base}.so (ldconfig -p) and no executable of that name on PATH`);
}
