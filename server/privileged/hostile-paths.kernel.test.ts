/**
 * Hostile inputs to the real root collector process (findings 3 and 4 of issue 8):
 * - FIFO paths (and a symlink to one) given to symbol and USDT discovery, to an events uprobe
 *   and usdt spec, and to a latency uprobe and usdt spec: each is refused within a second with
 *   an error that says it is a FIFO, and the collector keeps answering afterwards. (They used
 *   to hang the collector in a blocking open() forever.)
 * - A process whose mapped binary was replaced by a FIFO at the same path (by its owner, an
 *   ordinary user): discovery of its USDT probes and symbolization of its frames answer within
 *   a second (the FIFO is refused, the binary is still read through /proc/PID/map_files).
 * - Tracepoint discovery with a 70-star glob answers about as fast as a plain one. (The RegExp
 *   it used to build was exponential in the number of stars: it pinned the collector.)
 *
 * Root only. Run: node --import tsx --test server/privileged/hostile-paths.kernel.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { kernelTestGate } from '../testing/kernel.ts';
import { attacker, runAs } from '../testing/unprivileged.ts';
import { Symbolizer } from '../symbolizer/index.ts';
import { parseProcMaps } from '../symbolizer/proc-maps.ts';
import { startCollectorProcess } from './child.ts';

/** Settles `promise` or fails after `ms`: a hung collector shows as a failed test, not a hung one. */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<{ value?: T; error?: Error; ms: number }> {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    const value = await Promise.race([promise, timeout]);
    return { value, ms: performance.now() - t0 };
  } catch (error) {
    if (error instanceof Error && error.message === `${what}: no answer within ${ms} ms`) throw error;
    return { error: error as Error, ms: performance.now() - t0 };
  } finally {
    clearTimeout(timer);
  }
}

test('FIFO paths in discovery, events and latency specs are refused at once (not when a writer comes); the collector keeps answering', async (t) => {
  if (!kernelTestGate(t, ['uprobes'])) return;
  const dir = mkdtempSync('/tmp/pb-hostile-');
  const fifo = join(dir, 'binary');
  execFileSync('mkfifo', [fifo]);
  const link = join(dir, 'link-to-fifo');
  symlinkSync(fifo, link);
  // Should a blocking open come back, a writer lets it go every 20 s: a regression then fails on
  // time (it waits for the writer), not by hanging. A refusal takes milliseconds on the host and
  // about a second in the emulated 6.1 VM under load: the bound (5 s) tells the two apart.
  const rescuer = spawn('sh', ['-c', `while :; do sleep 20; : > ${fifo}; done`], { stdio: 'ignore' });
  const backend = await startCollectorProcess();
  try {
    const latency = backend.openLatency({ intervalMs: 1000 });
    const events = backend.openEvents();
    const sink = { rows: () => undefined, ended: () => undefined };
    const attempts: [string, () => Promise<unknown>][] = [
      ['discover.symbols', () => backend.discovery.symbols(fifo, '*')],
      ['discover.symbols (symlink to a FIFO)', () => backend.discovery.symbols(link)],
      ['discover.usdt', () => backend.discovery.usdt({ binary: fifo })],
      ['events uprobe', () => events.start(`uprobe:${fifo}:main`, undefined, sink)],
      ['events usdt', () => events.start(`usdt:${fifo}:prov:probe`, undefined, sink)],
      [
        'latency uprobe',
        async () => {
          const r = await latency.add(`uprobe:${fifo}:main`);
          if (!r.ok) throw new Error(r.error);
          return r;
        },
      ],
      [
        'latency usdt',
        async () => {
          const r = await latency.add(`usdt:${fifo}:prov:start,end`);
          if (!r.ok) throw new Error(r.error);
          return r;
        },
      ],
    ];
    for (const [what, attempt] of attempts) {
      const r = await within(25_000, what, attempt());
      assert.ok(r.error, `${what} was refused (got ${JSON.stringify(r.value)})`);
      assert.ok(r.ms < 5000, `${what} answered in ${r.ms.toFixed(0)} ms (a blocking open waits for the writer, every 20 s)`);
      assert.match(r.error.message, /FIFO/, `${what}: the error says what the file is: ${r.error.message}`);
      t.diagnostic(`${what}: ${r.ms.toFixed(0)} ms: ${r.error.message}`);
    }
    // Still answering, and with real data.
    const after = await within(5000, 'discover.tracepoints', backend.discovery.tracepoints('sched:sched_switch'));
    assert.equal(after.value?.total, 1, `the collector still answers: ${after.error?.message}`);
    const libc = await within(5000, 'discover.symbols c', backend.discovery.symbols('c', 'getpid'));
    assert.ok((libc.value?.total ?? 0) >= 1, `a regular binary is still read: ${libc.error?.message}`);
    assert.equal(backend.down, null, 'the collector did not go down');
  } finally {
    rescuer.kill('SIGKILL');
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tracepoint discovery with a 70-star glob answers about as fast as a plain one', async (t) => {
  if (!kernelTestGate(t, ['tracepoints'])) return;
  const backend = await startCollectorProcess();
  try {
    // Warm up (tracefs dentries, the first request's IPC), then time a plain glob as the baseline.
    // Each the fastest of 3 tries (the machine, or the emulated VM, is noisy). A backtracking
    // matcher takes exponential time in the stars: seconds to years, far past the bound below.
    await backend.discovery.tracepoints('sched:*');
    const fastest = async (what: string, glob: string) => {
      const tries = [];
      for (let i = 0; i < 3; i++) tries.push(await within(15_000, what, backend.discovery.tracepoints(glob)));
      return tries.reduce((best, r) => (r.ms < best.ms ? r : best));
    };
    const plain = await fastest('plain glob', 'sched:sched_switch*');
    const stars = await fastest('70 stars', '*'.repeat(70) + 'x' + '*'.repeat(70) + 'q');
    const matching = await fastest('70 stars that match', '*'.repeat(35) + 'sched_switch' + '*'.repeat(35));
    assert.equal(stars.error, undefined, String(stars.error));
    assert.ok((matching.value?.total ?? 0) >= 1, `the star glob still matches sched:sched_switch (${JSON.stringify(matching.value ?? matching.error)})`);
    t.diagnostic(`plain ${plain.ms.toFixed(1)} ms, 70 stars (no match) ${stars.ms.toFixed(1)} ms, 70 stars (match) ${matching.ms.toFixed(1)} ms`);
    // Listing reads every tracepoint directory either way; the glob itself must add little.
    assert.ok(stars.ms < 2 * plain.ms + 200, `70 stars: ${stars.ms.toFixed(1)} ms vs plain ${plain.ms.toFixed(1)} ms`);
    assert.ok(matching.ms < 2 * plain.ms + 200, `70 stars (match): ${matching.ms.toFixed(1)} ms vs plain ${plain.ms.toFixed(1)} ms`);
  } finally {
    await backend.close();
  }
});

test("a process's mapped binary replaced by a FIFO by its owner: USDT discovery and symbolization answer within a second", async (t) => {
  if (!kernelTestGate(t)) return;
  const user = attacker();
  const dir = mkdtempSync('/tmp/pb-hostile-bin-');
  chownSync(dir, user.uid, user.gid);
  const bin = join(dir, 'mysleep');
  copyFileSync('/bin/sleep', bin);
  chownSync(bin, user.uid, user.gid);
  const victim = spawn(bin, ['60'], { uid: user.uid, gid: user.gid, stdio: 'ignore' });
  const pid = victim.pid!;
  let rescuer: ReturnType<typeof spawn> | undefined;
  const backend = await startCollectorProcess();
  try {
    let maps = '';
    for (let i = 0; i < 200 && !maps.includes(bin); i++) {
      await new Promise((r) => setTimeout(r, 10));
      maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
    }
    const text = parseProcMaps(maps).entries.find((m) => m.path === bin && m.perms.includes('x'));
    assert.ok(text, `${bin} is mapped executable`);
    // The owner deletes the binary and puts a FIFO at its path: /proc/PID/root${bin} is now a FIFO.
    const swapped = runAs(user, 'sh', ['-c', `rm ${bin} && mkfifo ${bin}`]);
    assert.equal(swapped.status, 0, swapped.stderr);
    rescuer = spawn('sh', ['-c', `while :; do sleep 3; : > ${bin}; done`], { uid: user.uid, gid: user.gid, stdio: 'ignore' });

    const usdt = await within(5000, 'discover.usdt pid', backend.discovery.usdt({ pid }));
    assert.ok(usdt.ms < 1000, `discover.usdt {pid} answered in ${usdt.ms.toFixed(0)} ms (${usdt.error?.message ?? 'ok'})`);
    const objects = await within(5000, 'discover.objects', backend.discovery.objects(pid));
    assert.ok(objects.ms < 1000, `discover.objects answered in ${objects.ms.toFixed(0)} ms`);
    assert.ok(objects.value?.items.some((o) => o.path === bin), `the deleted binary ${bin} is still listed: ${JSON.stringify(objects.value?.items.map((o) => o.path) ?? objects.error)}`);

    const t0 = performance.now();
    const symbolizer = new Symbolizer();
    const [frame] = symbolizer.symbolizeUser(pid, 'mysleep', [text.start + 0x10n]);
    const ms = performance.now() - t0;
    assert.ok(ms < 1000, `symbolized in ${ms.toFixed(0)} ms`);
    // Named by a symbol, or (sleep is stripped) by the file offset of the start of the function holding it.
    const unnamed = /^mysleep\+0x([0-9a-f]+)$/.exec(frame.name);
    const offset = unnamed ? BigInt(`0x${unnamed[1]}`) : -1n;
    assert.ok(frame.kind === 'u' || (offset >= text.offset && offset <= text.offset + 0x10n), `a frame of the binary: ${JSON.stringify(frame)}`);
    assert.equal(symbolizer.stats().binaryErrors, 0, 'the binary was read after all (through /proc/PID/map_files), the FIFO skipped');
    t.diagnostic(`discover.usdt ${usdt.ms.toFixed(0)} ms, discover.objects ${objects.ms.toFixed(0)} ms, symbolize ${ms.toFixed(0)} ms: ${frame.name}`);
    const still = await within(5000, 'discover.tracepoints', backend.discovery.tracepoints('sched:sched_switch'));
    assert.equal(still.value?.total, 1, 'the collector still answers');
  } finally {
    rescuer?.kill('SIGKILL');
    victim.kill('SIGKILL');
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
