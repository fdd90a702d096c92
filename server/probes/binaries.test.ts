import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProbeInputError, resolveBinary } from './binaries.ts';

test('resolveBinary: library names like bcc, paths as given', () => {
  assert.match(resolveBinary('c'), /\/libc\.so\.6$/);
  assert.equal(resolveBinary('libc'), resolveBinary('c'));
  assert.match(resolveBinary('sh'), /\/(dash|bash|sh)$/);
  assert.equal(resolveBinary('/bin/../usr/bin/env'), '/usr/bin/env');
});

test('what the user must fix is one ProbeInputError naming the binary', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pb-binaries-'));
  try {
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    const cases: [string, RegExp][] = [
      [join(dir, 'missing'), /^binary \/.*\/missing not found$/],
      [join(dir, 'fifo'), /^binary \/.*\/fifo is a FIFO .*not a regular file$|^binary \/.*\/fifo is .*not a regular file$/],
      ['no_such_library_pb', /^binary "no_such_library_pb" not found: no library libno_such_library_pb\.so/],
    ];
    for (const [input, message] of cases) {
      assert.throws(
        () => resolveBinary(input),
        (error: unknown) => error instanceof ProbeInputError && message.test(error.message),
        `resolveBinary(${input}) refuses with ${message}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
