import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ElfFile } from '../symbolizer/elf.ts';
import { openRegularFile, readRegularFile, UnsafeFileError } from './safe-file.ts';

function refusedWith(fn: () => unknown, reason: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof UnsafeFileError && reason.test(e.message), `refused with ${reason}`);
}

test('a FIFO, a device, a directory are refused without blocking, naming what they are', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pb-safe-'));
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const t0 = performance.now();
  refusedWith(() => openRegularFile(fifo), /fifo: refused: a FIFO, not a regular file/);
  refusedWith(() => readRegularFile(fifo, { maxBytes: 10 }), /a FIFO/);
  assert.throws(() => ElfFile.open(fifo), /fifo: refused: a FIFO, not a regular file/, 'ELF reading goes through it');
  assert.ok(performance.now() - t0 < 1000, 'no blocking open');
  refusedWith(() => openRegularFile('/dev/null'), /\/dev\/null: refused: a character device/);
  refusedWith(() => openRegularFile(dir), /refused: a directory/);
  assert.throws(() => openRegularFile(join(dir, 'missing')), /ENOENT/);
});

test('symlinks: followed by default (binaries), refused with noFollow and anywhere below `within`', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pb-safe-'));
  const real = join(dir, 'real');
  writeFileSync(real, 'hello\n');
  const link = join(dir, 'link');
  symlinkSync(real, link);
  const f = openRegularFile(link);
  assert.equal(f.read(0, 5).toString(), 'hello');
  f.close();
  refusedWith(() => openRegularFile(link, { noFollow: true }), /link: refused: a symbolic link/);
  refusedWith(() => openRegularFile(link, { within: dir }), /symbolic link/);
  // A symlinked directory below `within` (an absolute link inside a container's root would resolve against ours).
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'sub', 'file'), 'x\n');
  symlinkSync(join(dir, 'sub'), join(dir, 'sublink'));
  assert.equal(readRegularFile(join(dir, 'sub', 'file'), { within: dir, maxBytes: 10 }).data.toString(), 'x\n');
  refusedWith(() => openRegularFile(join(dir, 'sublink', 'file'), { within: dir }), /sublink below .* is a symbolic link/);
  refusedWith(() => openRegularFile(`${dir}/sub/../real`, { within: dir }), /'\.\.' component/);
  refusedWith(() => openRegularFile('/etc/hostname', { within: dir }), /not inside/);
});

test('owner checked; reads bounded and say when cut short', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pb-safe-'));
  const file = join(dir, 'f');
  writeFileSync(file, '0123456789');
  refusedWith(() => openRegularFile(file, { ownerUid: process.getuid!() + 1 }), new RegExp(`owned by uid ${process.getuid!()}, expected uid ${process.getuid!() + 1}`));
  assert.deepEqual(readRegularFile(file, { maxBytes: 4, ownerUid: process.getuid!() }), { data: Buffer.from('0123'), size: 10, truncated: true });
  assert.deepEqual(readRegularFile(file, { maxBytes: 100 }), { data: Buffer.from('0123456789'), size: 10, truncated: false });
  const f = openRegularFile(file);
  try {
    assert.equal(f.readUpTo(8, 100).toString(), '89', 'stops at the end of the file');
    assert.throws(() => f.read(8, 100), /truncated/);
  } finally {
    f.close();
  }
});
