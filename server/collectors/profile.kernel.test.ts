/**
 * ProfileCollector against the real kernel, with a busy-looping child process built by the test
 * (C, frame pointers, named pb-busy so that the comm filter has a unique target).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProfileCollector } from './profile.ts';
import { LocalCollectorChannel } from './local.ts';
import type { CollectorMessage, ProfileBatch } from './types.ts';
import type { ProfileTarget } from '../../lib/protocol.ts';
import { bpftoolShow, kernelTestGate, newFds, openFds } from '../testing/kernel.ts';
import { inspect } from 'node:util';

const NEEDS = ['btf', 'perf_events'] as const;
let dir = '';
let busy: ChildProcess | null = null;

before(() => {
  if (process.geteuid?.() !== 0) return; // the gate in each test says why
  dir = mkdtempSync(join(tmpdir(), 'pb-busy-'));
  writeFileSync(join(dir, 'busy.c'), `
volatile unsigned long sink;
__attribute__((noinline)) void pb_spin(void) { for (unsigned long i = 0; i < 100000; i++) sink += i; }
int main(void) { for (;;) pb_spin(); }
`);
  execFileSync('cc', ['-O1', '-fno-omit-frame-pointer', '-o', join(dir, 'pb-busy'), join(dir, 'busy.c')]);
  busy = spawn(join(dir, 'pb-busy'), [], { stdio: 'ignore' });
});

after(() => {
  busy?.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs the collector for `ms` and returns its batches (the tail batch from stop included). */
async function collect(target: ProfileTarget, ms: number): Promise<ProfileBatch[]> {
  const batches: ProfileBatch[] = [];
  const collector = new ProfileCollector({ onBatch: (batch) => batches.push(batch) });
  const info = collector.start(99, target, 250);
  assert.ok(info.cpus >= 1, `at least one CPU sampled (${info.cpus})`);
  try {
    await sleep(ms);
  } finally {
    await collector.stop();
  }
  return batches;
}

test('the busy child shows up with stacks when sampling everything', async (t) => {
  if (!kernelTestGate(t, NEEDS)) return;
  const pid = busy?.pid ?? -1;
  const batches = await collect({ kind: 'all' }, 1200);
  assert.ok(batches.length >= 3, `batches every 250 ms, got ${batches.length}`);
  for (const batch of batches) {
    assert.ok(batch.endMs >= batch.startMs, `a batch ends after it starts (${batch.startMs} to ${batch.endMs} ms)`);
    assert.equal(batch.hz, 99);
    assert.equal(batch.droppedSamples, 0);
  }
  const mine = batches.flatMap((batch) => batch.samples).filter((sample) => sample.pid === pid);
  assert.ok(mine.length > 0, `pid ${pid} sampled`);
  assert.ok(mine.some((sample) => sample.comm === 'pb-busy'), `pid ${pid} sampled as pb-busy (comms: ${[...new Set(mine.map((sample) => sample.comm))].join(', ')})`);
  assert.ok(mine.some((sample) => sample.userStack.length > 0 || sample.kernelStack.length > 0), `with a non-empty stack (errors: ${JSON.stringify(mine.slice(0, 3).map((sample) => [sample.userStackError, sample.kernelStackError]))})`);
  const idle = batches.flatMap((batch) => batch.samples).filter((sample) => sample.pid === 0);
  for (const sample of idle) {
    assert.equal(sample.userStack.length, 0);
    assert.equal(sample.userStackError, undefined, 'the idle task has no user stack: not an error');
  }
});

test('a pid filter yields only that pid', async (t) => {
  if (!kernelTestGate(t, NEEDS)) return;
  const pid = busy?.pid ?? -1;
  const samples = (await collect({ kind: 'pid', pid }, 800)).flatMap((batch) => batch.samples);
  assert.ok(samples.length > 0, `pid ${pid} sampled (${samples.length} samples)`);
  assert.deepEqual([...new Set(samples.map((sample) => sample.pid))], [pid]);
  const user = samples.filter((sample) => sample.userStack.length > 0);
  assert.ok(user.length > 0, `user stacks recorded (0 of ${samples.length} samples; errors: ${[...new Set(samples.map((sample) => sample.userStackError))].join(', ')})`);
  for (const sample of samples) {
    // In user mode there is no kernel stack, and that is not an error.
    // The message is built only on failure: samples carry bigint addresses, which JSON cannot print.
    if (sample.kernelStack.length === 0 && sample.kernelStackError === undefined && !(sample.userStack.length > 0 || sample.userStackError)) assert.fail(`no stack at all and no error given: ${inspect(sample)}`);
  }
});

test('a comm filter yields only that command', async (t) => {
  if (!kernelTestGate(t, NEEDS)) return;
  const samples = (await collect({ kind: 'comm', comm: 'pb-busy' }, 800)).flatMap((batch) => batch.samples);
  assert.ok(samples.length > 0, `pb-busy sampled (${samples.length} samples)`);
  assert.deepEqual([...new Set(samples.map((sample) => sample.comm))], ['pb-busy']);
});

test('bad targets give clear errors and leave nothing loaded', (t) => {
  if (!kernelTestGate(t, NEEDS)) return;
  const collector = new ProfileCollector({ onBatch: () => undefined });
  assert.throws(() => collector.start(99, { kind: 'pid', pid: 999_999_999 }), /no process with pid 999999999/);
  assert.throws(() => collector.start(99, { kind: 'comm', comm: 'a-name-longer-than-15' }), /longer than 15 bytes/);
  assert.throws(() => collector.start(0, { kind: 'all' }), /between 1 and 10000/);
  assert.equal(collector.running, false);
});

test('the channel restarts on a new start, stops, and leaves nothing attached', async (t) => {
  if (!kernelTestGate(t, NEEDS)) return;
  const fdsBefore = openFds();
  const progsBefore = bpftoolShow('prog').map((p) => p.id);
  const linksBefore = bpftoolShow('link').map((l) => l.id);
  const channel = new LocalCollectorChannel();
  const messages: CollectorMessage[] = [];
  channel.onMessage((message) => messages.push(message));
  await channel.request({ type: 'profile.start', hz: 99, target: { kind: 'all' }, intervalMs: 200 });
  await sleep(300);
  await assert.rejects(channel.request({ type: 'profile.start', hz: 99, target: { kind: 'pid', pid: 999_999_999 } }), /no process with pid 999999999/);
  await channel.request({ type: 'profile.start', hz: 49, target: { kind: 'comm', comm: 'pb-busy' }, intervalMs: 200 });
  await sleep(300);
  const running = bpftoolShow('prog').filter((p) => !progsBefore.includes(p.id));
  assert.deepEqual(running.map((p) => p.name), ['pb_profile'], 'exactly one program after a restart');
  await channel.request({ type: 'profile.stop' });
  await channel.close();
  const types = messages.map((message) => message.type);
  assert.deepEqual(types.filter((type) => type !== 'profile.interval'), ['profile.started', 'profile.stopped', 'profile.started', 'profile.stopped']);
  assert.ok(types.includes('profile.interval'), `intervals between the starts and stops: ${JSON.stringify(types)}`);
  assert.deepEqual(bpftoolShow('prog').filter((p) => !progsBefore.includes(p.id)), [], 'no program left');
  assert.deepEqual(bpftoolShow('link').filter((l) => !linksBefore.includes(l.id)), [], 'no link left');
  assert.deepEqual(newFds(fdsBefore, openFds()), [], 'no fd left');
});
