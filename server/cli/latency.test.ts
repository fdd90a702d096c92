/** `probeboard latency`: bad input is refused before anything is attached (exit 2, one line naming the fault). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

function latency(args: string[]) {
  const result = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'probeboard.js'), 'latency', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function assertRefused(args: string[], reason: RegExp) {
  const { code, stdout, stderr } = latency(args);
  assert.equal(code, 2, `latency ${args.join(' ')} exits 2, got ${code} (stderr: ${stderr})`);
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line on stderr for latency ${args.join(' ')}: ${JSON.stringify(stderr)}`);
  assert.match(lines[0], reason);
  assert.equal(stdout, '', `nothing on stdout for latency ${args.join(' ')}`);
}

test('sub-bucket counts outside 1..16 are refused with the range', () => {
  assertRefused(['syscall:read', '--sub-buckets', '0'], /--sub-buckets must be from 1 to 16, got 0/);
  assertRefused(['syscall:read', '--sub-buckets', '17'], /--sub-buckets must be from 1 to 16, got 17/);
  assertRefused(['syscall:read', '--sub-buckets', 'many'], /--sub-buckets must be a whole number, got "many"/);
  assertRefused(['syscall:read', '--table', 'fine'], /--table must be one of log2, sub/);
  assertRefused(['syscall:read', '--table', 'sub', '--format', 'json'], /--table applies to --format text only/);
});

test('an empty or unknown name in a syscall list is refused, naming it', () => {
  assertRefused(['syscall:nanosleep,,clock_nanosleep'], /empty syscall name in the list "nanosleep,,clock_nanosleep" .*\(at character 19\)/);
  assertRefused(['syscall:nanosleep,'], /empty syscall name/);
  assertRefused(['syscall:nanosleep,no_such_call'], /unknown syscall "no_such_call" \(x86_64\) \(at character 19\)/);
  assertRefused(['syscall:read,read'], /syscall "read" is listed twice/);
  assertRefused(['syscall:read,*'], /"\*" cannot be part of a list/);
});

test('--help documents the sub-buckets, the text tables and syscall lists', () => {
  const { code, stdout } = latency(['--help']);
  assert.equal(code, 0);
  for (const text of ['--sub-buckets N', '--table T', 'syscall:NAME[,NAME...]', '"sub_buckets"', '"error_bound"']) {
    assert.ok(stdout.includes(text), `latency --help mentions ${text}:\n${stdout}`);
  }
});
