/** `probeboard profile --type`: off-CPU options are checked before anything is loaded (exit 2, one line naming the fault). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

function assertRefused(args: string[], reason: RegExp) {
  const result = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'probeboard.js'), 'profile', ...args], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(result.status, 2, `profile ${args.join(' ')} exits 2, got ${result.status} (stderr: ${result.stderr})`);
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line on stderr for profile ${args.join(' ')}: ${JSON.stringify(result.stderr)}`);
  assert.match(lines[0], reason);
  assert.equal(result.stdout, '', `nothing on stdout for profile ${args.join(' ')}`);
}

test('bad off-CPU settings are refused with the reason', () => {
  assertRefused(['--type', 'offcpu', '--min-block-us', '5000', '--max-block-us', '100'], /min-block-us \(5000\) is larger than max-block-us \(100\)/);
  assertRefused(['--type', 'offcpu', '--min-block-us', '-1'], /--min-block-us must be a whole number, got "-1"|argument/);
  assertRefused(['--type', 'offcpu', '--max-block-us', 'soon'], /--max-block-us must be a whole number, got "soon"/);
  assertRefused(['--type', 'offcpu', '--state', 'zombie'], /--state must be one of all, uninterruptible, interruptible/);
  assertRefused(['--type', 'gpu'], /--type must be one of cpu, offcpu, wall/);
});

test('off-CPU options on a CPU profile, and a wall profile without a target, are refused', () => {
  assertRefused(['--wakers'], /--wakers applies to --type offcpu or wall, not to the cpu profile/);
  assertRefused(['--type', 'cpu', '--min-block-us', '10'], /--min-block-us applies to --type offcpu or wall/);
  assertRefused(['--type', 'wall'], /--type wall needs --pid PID or --comm NAME/);
});

test('--help documents the types, the off-CPU options and the _[o] mark', () => {
  const result = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'probeboard.js'), 'profile', '--help'], { encoding: 'utf8' });
  assert.equal(result.status, 0);
  for (const text of ['--type offcpu', '--type wall', '--wakers', '--min-block-us N', '--max-block-us N', '--state S', '_[o]', 'offcpu/microseconds']) {
    assert.ok(result.stdout.includes(text), `profile --help mentions ${text}:\n${result.stdout}`);
  }
});
