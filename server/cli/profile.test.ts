import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foldedSampleCount } from './profile.ts';
import { parseFolded } from '../aggregator/folded.ts';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

test('foldedSampleCount: the samples the tree would count, without building the tree', () => {
  const folded = 'bash;main;read 3\nnode;uv_run;epoll_wait_[k] 12\nspin;pb_work_alpha 1000\nweird name;with spaces 7\n';
  assert.equal(foldedSampleCount(folded), 1022);
  assert.equal(foldedSampleCount(folded), parseFolded(folded).v);
  assert.equal(foldedSampleCount(''), 0);
});

const ROOT = path.resolve(import.meta.dirname, '..', '..');

function probeboard(args: string[]) {
  const result = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'probeboard.js'), ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stderr: result.stderr };
}

test('--per-thread: a value, or a source without thread ids, exits 2 with a one-line reason', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pb-per-thread-'));
  try {
    const folded = path.join(dir, 'in.folded');
    writeFileSync(folded, 'worker;main 3\n');
    const cases: [string[], RegExp][] = [
      [['profile', '--per-thread=yes'], /'--per-thread' does not take an argument/],
      [['profile', '--per-thread', 'yes'], /unexpected argument "yes"/],
      [['export', '--input', folded, '--format', 'folded', '--per-thread'], /--per-thread needs thread ids: use it with --recording ID/],
      [['export', '--snapshot', 'x', '--format', 'svg', '--per-thread'], /--per-thread needs thread ids/],
      [['export', '--diff', folded, folded, '--per-thread'], /--per-thread needs thread ids/],
    ];
    for (const [args, reason] of cases) {
      const { code, stderr } = probeboard(args);
      const lines = stderr.trim().split('\n');
      assert.equal(code, 2, `probeboard ${args.join(' ')}: exit ${code}, stderr: ${stderr}`);
      assert.equal(lines.length, 1, `probeboard ${args.join(' ')}: ${lines.length} lines on stderr: ${stderr}`);
      assert.match(lines[0], reason, `probeboard ${args.join(' ')}: stderr ${lines[0]}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--unwind: a bad value, cfi without --pid, cfi for offcpu/wall or --kernel-only exit 2 with a one-line reason', () => {
  const pid = String(process.pid);
  const cases: [string[], RegExp][] = [
    [['profile', '--unwind', 'dwarf'], /--unwind must be one of auto, fp, cfi, got "dwarf"/],
    [['profile', '--unwind'], /'--unwind <value>' argument missing/],
    [['profile', '--unwind', 'cfi'], /--unwind cfi needs a target process: add --pid PID/],
    [['profile', '--unwind', 'cfi', '--comm', 'bash'], /--unwind cfi needs a target process: add --pid PID/],
    [['profile', '--unwind', 'cfi', '--type', 'offcpu', '--pid', pid], /--unwind cfi walks cpu samples only, not --type offcpu/],
    [['profile', '--unwind', 'cfi', '--type', 'wall', '--pid', pid], /--unwind cfi walks cpu samples only, not --type wall/],
    [['profile', '--unwind', 'cfi', '--pid', pid, '--kernel-only'], /--unwind cfi walks user stacks, which --kernel-only leaves out/],
  ];
  for (const [args, reason] of cases) {
    const { code, stderr } = probeboard(args);
    const lines = stderr.trim().split('\n');
    assert.equal(code, 2, `probeboard ${args.join(' ')}: exit ${code}, stderr: ${stderr}`);
    assert.equal(lines.length, 1, `probeboard ${args.join(' ')}: ${lines.length} lines on stderr: ${stderr}`);
    assert.match(lines[0], reason, `probeboard ${args.join(' ')}: stderr ${lines[0]}`);
  }
});

test('profile --help documents --unwind auto|fp|cfi, that cfi keeps kernel frames and what it leaves out', () => {
  const result = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'probeboard.js'), 'profile', '--help'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /\[--unwind auto\|fp\|cfi\]/);
  assert.match(result.stdout, /needs --pid PID/);
  assert.match(result.stdout, /kernel frames\s+\(bpf_get_stackid, as fp\) on top of the walked user frames/);
  assert.match(result.stdout, /not for --type offcpu or wall/);
});
