/**
 * Interpreter detection: the mapping chosen from maps lines, the version read from Debian's
 * /usr/bin/python3.11 (Py_Version and the version-string fallback), and real processes that are
 * not Python or claim to be without being readable as one.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ElfFile } from '../symbolizer/elf.ts';
import { parseProcMaps } from '../symbolizer/proc-maps.ts';
import { decodeVersionHex, detectPython, interpreterMapping, versionFromString } from './version.ts';
import { skipOutsideCI } from '../testing/skip.ts';

const PYTHON = '/usr/bin/python3.11';

function mapsOf(...paths: string[]) {
  const text = paths.map((p, i) => `${(0x400000 + i * 0x1000).toString(16)}-${(0x401000 + i * 0x1000).toString(16)} r-xp 00000000 fe:00 ${p ? 100 + i : 0} ${p}`).join('\n');
  return parseProcMaps(text).entries;
}

test('the interpreter mapping: libpython before the executable, only names with a minor version', () => {
  const pick = (...paths: string[]) => {
    const m = interpreterMapping(mapsOf(...paths));
    return m && `${m.entry.path} ${m.nameMajor}.${m.nameMinor}`;
  };
  assert.equal(pick('/usr/bin/python3.11', '/usr/lib/x86_64-linux-gnu/libc.so.6'), '/usr/bin/python3.11 3.11');
  assert.equal(pick('/usr/local/bin/python3.12', '/usr/local/lib/libpython3.12.so.1.0'), '/usr/local/lib/libpython3.12.so.1.0 3.12');
  assert.equal(pick('/opt/py/bin/python3.13t', '/opt/py/lib/libpython3.13t.so'), '/opt/py/lib/libpython3.13t.so 3.13');
  assert.equal(pick('/usr/bin/python3', '/usr/bin/node', '[heap]', ''), undefined);
  assert.equal(pick('/usr/bin/python3.11-config'), undefined);
});

test('PY_VERSION_HEX decoding', () => {
  assert.deepEqual(decodeVersionHex(0x030b02f0), { major: 3, minor: 11, micro: 2 });
  assert.deepEqual(decodeVersionHex(0x030d00c1), { major: 3, minor: 13, micro: 0 });
});

test('the version string of Debian python3.11 agrees with its Py_Version', (t) => {
  if (!existsSync(PYTHON)) return skipOutsideCI(t, `${PYTHON} not installed (apt-get install python3)`);
  const elf = ElfFile.open(PYTHON);
  try {
    const fromString = versionFromString(elf, 3, 11);
    assert.ok(fromString, 'no 3.11.N string in .rodata');
    const { source: _source, ...rest } = fromString;
    assert.deepEqual(rest, { major: 3, minor: 11, micro: 2, hex: 0x030b02f0 });
    // A name claiming another minor version finds no agreeing string: unknown, not a guess.
    assert.equal(versionFromString(elf, 3, 10), undefined);
  } finally {
    elf.close();
  }
});

test('a process that is not Python, a gone pid, and a binary named python3.11 that is not one', async () => {
  const self = detectPython(process.pid);
  assert.equal(self.kind, 'not-python', JSON.stringify(self));
  const gone = detectPython(0x3ffffff0);
  assert.ok(gone.kind === 'not-python' && gone.reason.includes('cannot read'), JSON.stringify(gone));

  // /bin/sleep under the name python3.11: maps name it, the binary has no version: unknown.
  const dir = mkdtempSync(join(tmpdir(), 'pb-pyversion-'));
  const impostor = join(dir, 'python3.11');
  copyFileSync('/bin/sleep', impostor);
  const proc = spawn(impostor, ['60'], { stdio: 'ignore' });
  try {
    await once(proc, 'spawn');
    // exec has happened once 'spawn' fires (node reports it after the child's exec succeeded).
    const d = detectPython(proc.pid!);
    assert.ok(d.kind === 'unknown-version' && d.binary === impostor && d.reason.includes('no Py_Version'), JSON.stringify(d));
  } finally {
    proc.kill('SIGKILL');
    await once(proc, 'exit');
    rmSync(dir, { recursive: true, force: true });
  }
});
