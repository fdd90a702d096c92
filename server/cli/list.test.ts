/**
 * `probeboard list` end to end: the real CLI in a child process, on a test program compiled
 * with sys/sdt.h, Debian's python3.11, libc, and this machine's tracefs.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { kernelTestGate } from '../testing/kernel.ts';
import { probeFeature } from '../libbpf/features.ts';
import { compileWorkload, readelfUsdt, type Compiled } from '../probes/testing.ts';

const ROOT = resolve(import.meta.dirname, '../..');

function cli(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'server/cli/main.ts', 'list', ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 256 << 20 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function json<T>(...args: string[]): T[] {
  const r = cli(...args, '--format', 'json');
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as T[];
}

interface Usdt {
  binary: string;
  provider: string;
  name: string;
  address: string;
  semaphore?: string;
  args: string[];
  spec: string;
}

describe('probeboard list', () => {
  let bin: Compiled;
  before(() => {
    bin = compileWorkload('usdt-list', ['usdt-list.c', 'usdt-list-sem.c']);
  });
  after(() => bin?.cleanup());

  it('list usdt BINARY lists exactly the test program probes, with argument specs', () => {
    const probes = json<Usdt>('usdt', bin.path);
    const reference = readelfUsdt(bin.path);
    assert.deepEqual(
      probes.map((p) => [p.provider, p.name, p.address, p.semaphore ?? null, p.args.join(' ')]),
      reference.map((r) => [r.provider, r.name, `0x${r.location.toString(16)}`, r.semaphore === 0n ? null : `0x${r.semaphore.toString(16)}`, r.args]),
    );
    assert.deepEqual(probes.map((p) => p.name).sort(), ['message', 'noargs', 'start', 'withsem']);
    assert.deepEqual(probes.map((p) => [p.binary, p.spec]), probes.map((p) => [bin.path, `usdt:${bin.path}:pbtest:${p.name}`]), 'each probe names its binary and its spec');
    const text = cli('usdt', bin.path);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /pbtest:withsem address=0x[0-9a-f]+ semaphore=0x[0-9a-f]+ args=\[-4@%\w+\]/);
    assert.equal(text.stdout.trim().split('\n').length, 4);
  });

  it('list usdt --pid finds the probes in a running process', async () => {
    const child = spawn(bin.path, ['wait'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolveReady, reject) => {
        child.stdout.once('data', () => resolveReady());
        child.once('error', reject);
      });
      const probes = json<Usdt>('usdt', '--pid', String(child.pid));
      const ours = probes.filter((p) => p.binary === bin.path);
      assert.deepEqual(ours.map((p) => p.name).sort(), ['message', 'noargs', 'start', 'withsem']);
    } finally {
      child.kill('SIGKILL');
    }
    const gone = cli('usdt', '--pid', '4194000');
    assert.equal(gone.code, 2);
    assert.match(gone.stderr, /no process with pid 4194000/);
  });

  it("list usdt lists Debian's python3.11 probes", { skip: existsSync('/usr/bin/python3.11') ? false : 'no /usr/bin/python3.11' }, () => {
    const probes = json<Usdt>('usdt', '/usr/bin/python3.11');
    const names = new Set(probes.map((p) => `${p.provider}:${p.name}`));
    for (const n of ['python:function__entry', 'python:function__return', 'python:gc__start', 'python:line']) assert.ok(names.has(n), n);
    const entry = probes.find((p) => p.name === 'function__entry')!;
    assert.equal(entry.args.length, 3);
    assert.ok(entry.semaphore, `function__entry has a semaphore: ${JSON.stringify(entry)}`);
  });

  it('list symbols finds the functions of a test binary, filtered by glob; library names resolve', () => {
    const all = json<{ name: string; symbol: string; offset: number }>('symbols', bin.path);
    for (const n of ['main', 'fire', 'fire_withsem']) assert.ok(all.some((s) => s.name === n), n);
    const some = json<{ name: string }>('symbols', bin.path, 'fire*');
    assert.deepEqual(some.map((s) => s.name).sort(), ['fire', 'fire_withsem']);
    const libc = json<{ name: string; binary: string }>('symbols', 'c', 'malloc');
    assert.equal(libc.length, 1);
    assert.match(libc[0].binary, /libc\.so/);
  });

  it('list symbols shows demangled C++ names and accepts mangled ones', () => {
    const cxx = compileWorkload('events-mangled', ['events-mangled.c'], ['-O0']);
    try {
      const byDemangled = json<{ name: string; symbol: string }>('symbols', cxx.path, 'pbns::*');
      assert.ok(byDemangled.some((s) => s.name.startsWith('pbns::work(int') && s.symbol.startsWith('_ZN4pbns4workEi')), JSON.stringify(byDemangled));
      const byMangled = json<{ name: string }>('symbols', cxx.path, '_ZN4pbns*');
      assert.ok(byMangled.length >= 1, `a mangled pattern finds the symbols: ${JSON.stringify(byMangled)}`);
    } finally {
      cxx.cleanup();
    }
  });

  it('list tracepoints finds sched:sched_switch with its fields', (t) => {
    if (!kernelTestGate(t, ['tracepoints'])) return;
    const tps = json<{ id: string; fields?: { name: string; type: string }[] }>('tracepoints', 'sched:sched_sw*', '--verbose');
    const sw = tps.find((t) => t.id === 'sched:sched_switch');
    assert.ok(sw, JSON.stringify(tps));
    assert.deepEqual(sw.fields!.map((f) => f.name), ['prev_comm', 'prev_pid', 'prev_prio', 'prev_state', 'next_comm', 'next_pid', 'next_prio']);
    assert.equal(sw.fields![0].type, 'char[16]');
    const text = cli('tracepoints', 'sched_switch', '-v');
    assert.match(text.stdout, /^sched:sched_switch\n    char prev_comm\[16\];/);
    const none = cli('tracepoints', 'nosuchcategory:*');
    assert.equal(none.code, 0);
    assert.equal(none.stdout, '');
  });

  it('list kfuncs lists kernel functions, or says clearly that this kernel cannot attach to them', (t) => {
    if (!kernelTestGate(t)) return;
    const r = cli('kfuncs', 'vfs_rea*');
    const attachable = probeFeature('kprobes').available || probeFeature('fentry').available;
    assert.equal(r.code, attachable ? 0 : 1, r.stderr);
    if (r.code === 0) {
      assert.match(r.stdout, /^vfs_read$/m);
    } else {
      assert.equal(r.code, 1);
      assert.match(r.stderr, /not available on this kernel: neither kprobes nor fentry/);
    }
  });

  it('bad input: missing binary, non-ELF file, wrong class, truncated, unknown kind, bad options', () => {
    const dir = bin.dir;
    writeFileSync(join(dir, 'not-elf'), 'hello\n');
    const elf32 = Buffer.alloc(64);
    Buffer.from([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]).copy(elf32);
    writeFileSync(join(dir, 'elf32'), elf32);
    writeFileSync(join(dir, 'truncated'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0]));
    const cases: [string[], RegExp][] = [
      [['usdt', '/no/such/file'], /not found/],
      [['symbols', 'nosuchlibrary'], /not found/],
      [['usdt', join(dir, 'not-elf')], /not an ELF file/],
      [['symbols', join(dir, 'elf32')], /wrong class/],
      [['usdt', join(dir, 'truncated')], /truncated/],
      [['widgets'], /unknown list kind/],
      [[], /what to list is missing/],
      [['usdt'], /needs a BINARY or --pid/],
      [['usdt', '--pid', 'abc'], /--pid must be a whole number/],
      [['symbols', 'c', '--verbose'], /--verbose applies to list tracepoints only/],
      [['tracepoints', '--format', 'xml'], /--format must be one of text, json/],
    ];
    for (const [args, reason] of cases) {
      const r = cli(...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, reason, args.join(' '));
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    }
  });

  it('--help', () => {
    const r = cli('--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /list usdt --pid PID|usdt --pid PID/);
  });
});
