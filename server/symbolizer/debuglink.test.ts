/**
 * Separate debug files of stripped binaries: by .gnu_debuglink (name + CRC32, where gdb looks)
 * and by build-id, with the checks that keep root from reading a debug file someone else put
 * beside a binary. Real gcc -g binaries split with objcopy the way distributions do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import * as zlib from 'node:zlib';
import { Symbolizer } from './index.ts';
import { debugFilePath } from './debug-file.ts';
import { crc32 as crc32Js } from '../../lib/crc32.ts';
import { ElfFile } from './elf.ts';
import { buildFixtures, compileC, fakeProcMapping, FIXTURES, fileOffsetOf, nmFunctions, runProgram } from './testing.ts';

const SOURCE = `
#include <stdio.h>
#include <string.h>
__attribute__((noinline)) static int pb_one(const char *s) { return (int)strlen(s) * 3; }
__attribute__((noinline)) static int pb_two(const char *s) { puts(s); return pb_one(s) + 1; }
int main(int argc, char **argv) { (void)argc; return pb_two(argv[0]) > 1000; }
`;

const NOBODY = 65534;
const top = mkdtempSync(join(tmpdir(), 'pb-debuglink-'));
chmodSync(top, 0o755);
process.on('exit', () => rmSync(top, { recursive: true, force: true }));
let pid = 4300000;

interface Split {
  dir: string;
  /** Stripped (strip -s), with a .gnu_debuglink to prog.debug. */
  prog: string;
  /** objcopy --only-keep-debug of the -g build, beside prog. */
  debug: string;
  one: bigint;
  two: bigint;
}

/** In a fresh directory (root's, 0755): prog built -g, its debug half prog.debug, prog stripped and linked to it. */
function split(name: string): Split {
  const dir = join(top, name);
  mkdirSync(dir, { mode: 0o755 });
  chmodSync(dir, 0o755);
  const prog = compileC(dir, 'prog', SOURCE, ['-O1', '-g']);
  const nm = nmFunctions(prog);
  const debug = join(dir, 'prog.debug');
  execFileSync('objcopy', ['--only-keep-debug', prog, debug]);
  execFileSync('strip', ['-s', prog]);
  execFileSync('objcopy', ['--add-gnu-debuglink=prog.debug', 'prog'], { cwd: dir });
  rmSync(join(dir, 'prog.c'));
  return { dir, prog, debug, one: nm.get('pb_one')!, two: nm.get('pb_two')! };
}

const BASE = 0x555555554000n;

/** The names of a leaf in pb_one and a caller in pb_two, as a Symbolizer (immediate and deferred alike) gives them. */
function names(s: Split, options: { debugRoot?: string | null } = {}): string[] {
  const p = pid++;
  const root = fakeProcMapping(p, [{ path: s.prog, base: BASE }]);
  const out: string[][] = [];
  for (const deferLookups of [false, true]) {
    const sym = new Symbolizer({ procRoot: root, deferLookups, ...options });
    const frames = sym.symbolizeUser(p, 'p', [BASE + s.one + 2n, BASE + s.two + 5n]);
    if (deferLookups) sym.settle();
    out.push(frames.map((f) => f.name));
  }
  assert.deepEqual(out[1], out[0], 'deferLookups names the same');
  return out[0];
}

/** What the frames are named without a debug file: binary+0xFILEOFFSET of their function's start (.eh_frame_hdr). */
const unnamed = (s: Split) => [`prog+0x${fileOffsetOf(s.prog, s.one).toString(16)}`, `prog+0x${fileOffsetOf(s.prog, s.two).toString(16)}`];

test('CRC-32: the plain-JS fallback agrees with zlib and the check value', () => {
  assert.equal(crc32Js(Buffer.from('123456789')), 0xcbf43926);
  const data = readFileSync(process.execPath).subarray(0, 3_000_000);
  const zcrc = (zlib as { crc32?: (d: Uint8Array, v?: number) => number }).crc32;
  const incremental = crc32Js(data.subarray(1_000_000), crc32Js(data.subarray(0, 1_000_000)));
  assert.equal(incremental, crc32Js(data));
  if (zcrc) assert.equal(crc32Js(data), zcrc(data));
});

test('.gnu_debuglink: the stripped binary names its (static) functions from DIR/NAME, then DIR/.debug/NAME, then DEBUGROOT/usr/lib/debug/DIR/NAME', () => {
  const s = split('beside');
  assert.equal(/\.symtab/.test(execFileSync('readelf', ['-SW', s.prog], { encoding: 'utf8' })), false, 'stripped');
  const link = ElfFile.open(s.prog);
  assert.equal(link.gnuDebuglink()?.file, 'prog.debug');
  link.close();
  // The build-id path finds nothing here (debugRoot has no .build-id tree): only the debuglink can name them.
  const debugRoot = join(top, 'beside-root');
  mkdirSync(debugRoot);
  assert.deepEqual(names(s, { debugRoot }), ['pb_one', 'pb_two'], 'DIR/NAME');
  assert.deepEqual(names(s, { debugRoot: null }), unnamed(s), 'debugRoot null: no debug files at all');

  mkdirSync(join(s.dir, '.debug'), { mode: 0o755 });
  renameSync(s.debug, join(s.dir, '.debug', 'prog.debug'));
  assert.deepEqual(names(s, { debugRoot }), ['pb_one', 'pb_two'], 'DIR/.debug/NAME');

  const global = join(debugRoot, 'usr/lib/debug', s.dir, 'prog.debug');
  mkdirSync(dirname(global), { recursive: true });
  renameSync(join(s.dir, '.debug', 'prog.debug'), global);
  assert.deepEqual(names(s, { debugRoot }), ['pb_one', 'pb_two'], 'DEBUGROOT/usr/lib/debug/DIR/NAME');
  assert.deepEqual(names(s, { debugRoot: join(top, 'elsewhere') }), unnamed(s), 'another debugRoot: not found');
});

test('.gnu_debuglink: a debug file whose CRC does not match is not used (frames stay binary+0xOFFSET)', () => {
  const s = split('badcrc');
  appendFileSync(s.debug, Buffer.from([0]));
  assert.deepEqual(names(s), unnamed(s));
});

test('build-id: the debug file at DEBUGROOT/usr/lib/debug/.build-id/xx/rest.debug names a stripped binary without a debuglink', () => {
  const s = split('buildid');
  execFileSync('objcopy', ['--remove-section=.gnu_debuglink', s.prog]);
  const elf = ElfFile.open(s.prog);
  const buildId = elf.buildId()!;
  assert.equal(elf.gnuDebuglink(), undefined);
  elf.close();
  const debugRoot = join(top, 'buildid-root');
  const at = debugFilePath(buildId, debugRoot);
  assert.equal(at, join(debugRoot, 'usr/lib/debug/.build-id', buildId.slice(0, 2), `${buildId.slice(2)}.debug`));
  mkdirSync(dirname(at), { recursive: true });
  renameSync(s.debug, at);
  assert.deepEqual(names(s, { debugRoot }), ['pb_one', 'pb_two']);
  assert.deepEqual(names(s, { debugRoot: null }), unnamed(s));
});

test('.gnu_debuglink beside a binary: not read from a directory others can write, nor when owned by another user, nor through a symlink', () => {
  // A directory anyone can write (even sticky, as /tmp): another user could have put prog.debug there.
  for (const mode of [0o777, 0o1777, 0o775]) {
    const s = split(`writable-${mode.toString(8)}`);
    chmodSync(s.dir, mode);
    assert.deepEqual(names(s), unnamed(s), `directory mode ${mode.toString(8)}`);
    chmodSync(s.dir, 0o755);
    assert.deepEqual(names(s), ['pb_one', 'pb_two'], 'the same files, directory 0755: used');
  }
  // .debug/ writable by others, the binary's directory fine.
  const d = split('writable-dotdebug');
  mkdirSync(join(d.dir, '.debug'));
  chmodSync(join(d.dir, '.debug'), 0o777);
  renameSync(d.debug, join(d.dir, '.debug', 'prog.debug'));
  assert.deepEqual(names(d), unnamed(d), '.debug/ mode 777');

  // The debug file owned by a user who owns neither the binary nor is root.
  const o = split('other-owner');
  chownSync(o.debug, NOBODY, NOBODY);
  assert.deepEqual(names(o), unnamed(o), 'debug file owned by nobody, binary by root');
  // ... but the binary's owner may: their binary, their debug file, their directory.
  chownSync(o.prog, NOBODY, NOBODY);
  chownSync(o.dir, NOBODY, NOBODY);
  assert.deepEqual(names(o), ['pb_one', 'pb_two'], "the binary's owner's own debug file");
  chmodSync(o.debug, 0o666);
  assert.deepEqual(names(o), unnamed(o), 'a debug file others can write');

  // A symlink in the binary's directory (to a good debug file elsewhere) is not followed.
  const l = split('symlink');
  const elsewhere = join(top, 'symlink-target.debug');
  copyFileSync(l.debug, elsewhere);
  rmSync(l.debug);
  symlinkSync(elsewhere, l.debug);
  assert.deepEqual(names(l), unnamed(l), 'symlinked debug file');
  assert.equal(basename(l.debug), 'prog.debug');
});

test('.gnu_debuglink of a running process: found beside the binary as the process sees it (/proc/PID/root/DIR)', async () => {
  const dir = join(top, 'live');
  mkdirSync(dir, { mode: 0o755 });
  const b = buildFixtures();
  const prog = join(dir, 'prog');
  execFileSync('gcc', ['-O1', '-g', '-fno-omit-frame-pointer', '-o', prog, join(FIXTURES, 'prog.c'), `-L${b.dir}`, '-lpbtest', `-Wl,-rpath,${b.dir}`]);
  execFileSync('objcopy', ['--only-keep-debug', prog, `${prog}.debug`]);
  execFileSync('strip', ['-s', prog]);
  execFileSync('objcopy', ['--add-gnu-debuglink=prog.debug', 'prog'], { cwd: dir });
  const r = await runProgram(prog);
  try {
    const [alpha, , stat] = r.printed;
    const s = new Symbolizer();
    assert.deepEqual(s.symbolizeUser(r.pid, 'prog', [alpha + 1n, stat + 1n]).map((f) => f.name), ['pb_alpha', 'pb_static']);
    const none = new Symbolizer({ debugRoot: null });
    assert.match(none.symbolizeUser(r.pid, 'prog', [stat + 1n])[0].name, /^prog\+0x[0-9a-f]+$/);
  } finally {
    await r.stop();
  }
});
