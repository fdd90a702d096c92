/**
 * Bad inputs to a latency probe: each gets one clear LatencyError naming what is wrong,
 * before anything is loaded into the kernel (so these run without root), and the CLI exits
 * with code 2 and one line on stderr.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LatencyCollector, LatencyError, resolveSymbols, checkUsdtProbes } from './latency.ts';
import { resolveBinary } from '../probes/binaries.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let dir = '';
let sleepBin = '';
let usdtBin = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'pb-latency-unit-'));
  sleepBin = join(dir, 'latency-sleep');
  usdtBin = join(dir, 'latency-usdt');
  execFileSync('gcc', ['-O2', '-o', sleepBin, join(root, 'test/workloads/latency-sleep.c')]);
  execFileSync('gcc', ['-O2', '-o', usdtBin, join(root, 'test/workloads/latency-usdt.c')]);
  writeFileSync(join(dir, 'not-elf'), '#!/bin/sh\necho hi\n');
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function refused(spec: string, opts: Parameters<typeof LatencyCollector.open>[1], field: string, message: RegExp): void {
  assert.throws(
    () => LatencyCollector.open(spec, opts),
    (e: unknown) => {
      assert.ok(e instanceof LatencyError, `not a LatencyError: ${e}`);
      assert.equal(e.kind, 'input');
      assert.equal(e.field, field);
      assert.match(e.message, message);
      assert.ok(!e.message.includes('\n'), 'one line');
      return true;
    },
  );
}

test('missing binary', () => {
  refused(`uprobe:${dir}/nope:main`, {}, 'binary', new RegExp(`binary ${dir}/nope not found`));
  refused('uprobe:nosuchlibraryxyz:f', {}, 'binary', /"nosuchlibraryxyz" not found/);
});

test('binary that is not ELF', () => {
  refused(`uprobe:${dir}/not-elf:main`, {}, 'binary', /not-elf is not an ELF file/);
});

test('symbol that does not exist', () => {
  refused(`uprobe:${sleepBin}:no_such_function`, {}, 'symbol', /symbol "no_such_function" not found in .*latency-sleep/);
  refused(`uprobe:${sleepBin}:zz*`, {}, 'symbol', /no function matches "zz\*"/);
});

test('glob matching too many functions is refused with the count', () => {
  assert.throws(() => resolveSymbols(resolveBinary('c'), 's*', true, 32), /matches \d+ functions .* at most 32/);
});

test('USDT probe that is not in the binary', () => {
  refused(`usdt:${usdtBin}:pblat:req__start,nope`, {}, 'probes', /USDT probe pblat:nope not found .*available: pblat:req__start, pblat:req__done/);
  refused(`usdt:${sleepBin}:pblat:a,b`, {}, 'probes', /it has no USDT probes/);
});

test('pid that does not exist', () => {
  refused('syscall:read', { pid: 4194303 }, 'pid', /no process with pid 4194303/);
});

test('malformed spec', () => {
  refused('uprobe:/bin/true', {}, 'symbol', /bad probe spec "uprobe:\/bin\/true": symbol missing/);
  refused('frobnicate', {}, 'type', /unknown probe type "frobnicate"/);
});

test('ELF: functions with file offsets, USDT notes', () => {
  checkUsdtProbes(usdtBin, 'pblat', ['req__start', 'req__done']);
  const [f] = resolveSymbols(sleepBin, 'pb_sleep_us', false);
  const nm = execFileSync('nm', [sleepBin], { encoding: 'utf8' });
  const addr = /^([0-9a-f]+) T pb_sleep_us$/m.exec(nm)![1];
  assert.equal(BigInt(f.address), BigInt(`0x${addr}`));
  assert.ok(f.offset > 0, `pb_sleep_us has a file offset (${f.offset})`);
  const [malloc] = resolveSymbols(resolveBinary('c'), 'malloc', false);
  assert.ok(malloc.offset > 0, `libc's malloc has a file offset (${malloc.offset})`);
});

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, 'bin/probeboard.js'), 'latency', ...args], { encoding: 'utf8', timeout: 30000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('CLI: bad usage and bad input exit 2 with one line on stderr', () => {
  for (const args of [
    [],
    ['bogus:spec'],
    [`uprobe:${dir}/nope:main`],
    [`uprobe:${dir}/not-elf:main`],
    [`uprobe:${sleepBin}:nope`],
    [`usdt:${usdtBin}:pblat:req__start,nope`],
    ['syscall:read', '--pid', '4194303'],
    ['syscall:read', '--format', 'xml'],
    ['syscall:read', '--interval', '0'],
    ['syscall:read', '--bogus'],
  ]) {
    const r = cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}, stderr ${r.stderr}`);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^probeboard latency: /);
    assert.equal(r.stdout, '');
  }
  const help = cli(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /usage: probeboard latency SPEC/);
});
