import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { executableMappings, findMapping, isFileBacked, parseProcMaps, readProcMaps } from './proc-maps.ts';
import { FIXTURES } from './testing.ts';

test('fixture: fields, spaces and (deleted) in paths, bad lines skipped and counted', () => {
  const { entries, badLines } = parseProcMaps(readFileSync(join(FIXTURES, 'maps.txt'), 'utf8'));
  assert.equal(badLines, 3); // prose, inverted range, bad start
  assert.equal(entries.length, 9);
  const text = entries[1];
  assert.deepEqual(text, {
    start: 0x55d0c8a02000n,
    end: 0x55d0c8a06000n,
    perms: 'r-xp',
    offset: 0x2000n,
    dev: 'fe:00',
    inode: 1234,
    path: '/usr/bin/prog',
    deleted: false,
  });
  const spaced = entries.find((e) => e.inode === 4242)!;
  assert.equal(spaced.path, '/tmp/dir with spaces/libx.so');
  assert.equal(spaced.deleted, true);
  const anon = entries.find((e) => e.perms === 'rwxp')!;
  assert.equal(anon.path, '');
  assert.equal(isFileBacked(anon), false);
  assert.equal(isFileBacked(text), true);
  const exec = executableMappings(entries);
  assert.deepEqual(
    exec.map((e) => e.path),
    ['/usr/bin/prog', '/usr/lib/x86_64-linux-gnu/libc.so.6', '', '/tmp/dir with spaces/libx.so', '[vdso]', '[vsyscall]'],
  );
  assert.equal(findMapping(exec, 0x55d0c8a02000n)?.path, '/usr/bin/prog');
  assert.equal(findMapping(exec, 0x55d0c8a05fffn)?.path, '/usr/bin/prog');
  assert.equal(findMapping(exec, 0x55d0c8a06000n), undefined, 'end is exclusive');
  assert.equal(findMapping(exec, 0x7ffd5b3f2010n)?.path, '[vdso]');
  assert.equal(findMapping(exec, 0xffffffffff600000n)?.path, '[vsyscall]');
  assert.equal(findMapping(exec, 1n), undefined);
});

test('live: this process maps node and libc executable', () => {
  const { entries, badLines } = readProcMaps(process.pid);
  assert.equal(badLines, 0);
  const exec = executableMappings(entries);
  const paths = JSON.stringify(exec.map((e) => e.path));
  assert.ok(exec.some((e) => e.path.endsWith('/node') || e.path.includes('node')), `node is an executable mapping: ${paths}`);
  assert.ok(exec.some((e) => /libc/.test(e.path)), `libc is an executable mapping: ${paths}`);
  assert.throws(() => readProcMaps(0x7ffffff0), /ENOENT/);
});
