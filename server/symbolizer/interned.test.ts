import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deserialize, serialize } from 'node:v8';
import type { ViewSettings } from '../../lib/protocol.ts';
import { foldedFromIntervals, foldedFromTree } from '../aggregator/folded.ts';
import { IntervalInterner, IntervalMirror, intervalOfRecord, recordedInterval, type InternedInterval } from './interned.ts';
import { ProfileWindow } from '../aggregator/profile-window.ts';
import { interval, sample } from '../aggregator/testing.ts';
import type { SymbolizedInterval } from './types.ts';

/** Five intervals: recurring stacks, new ones, JIT and synthetic frames, lost halves, idle, one stack twice in an interval. */
function script(): SymbolizedInterval[] {
  const bashRead = () => sample('bash', 12, 'main;readline', 'do_syscall_64;ksys_read', 3);
  const idle = () => sample('swapper/0', 0, '', 'cpu_startup_entry;do_idle', 40);
  return [
    interval(1000, [bashRead(), idle(), sample('node', 30, 'main;run_[j];[unknown]', '', 5)]),
    interval(2000, [bashRead(), idle()]),
    interval(3000, [
      bashRead(),
      sample('bash', 12, 'main;readline', 'do_syscall_64;ksys_read', 2), // the same stack again in one interval
      sample('bash', 13, 'main;readline', 'do_syscall_64;ksys_read', 1), // another pid, same frames
      sample('cc1', 40, '', 'page_fault', 4, { user: 'collision' }),
      sample('cc1', 40, 'main', '', 6, { kernel: 'fault' }),
    ]),
    interval(4000, [idle(), sample('node', 30, 'main;run_[j];gc', 'do_syscall_64;ksys_read', 7)], { droppedSamples: 3, unknownFrames: 2 }),
    interval(5000, []),
  ];
}

/** What IPC with serialization 'advanced' does to a message. */
const overIpc = (interned: InternedInterval): InternedInterval => deserialize(serialize(interned)) as InternedInterval;

const VIEWS: ViewSettings[] = [
  { window: 'all', stackMode: 'all', hideIdle: false },
  { window: 'all', stackMode: 'user', hideIdle: true },
  { window: 'all', stackMode: 'kernel', hideIdle: false },
  { window: '10s', stackMode: 'all', hideIdle: true },
];

test('interned intervals rebuild exactly the same folded stacks, interval by interval and in every view', () => {
  const interner = new IntervalInterner();
  const mirror = new IntervalMirror();
  const original = script();
  const rebuilt = original.map((symbolized) => mirror.decode(overIpc(interner.intern(symbolized))).interval);
  for (let i = 0; i < original.length; i++) {
    assert.equal(foldedFromIntervals([rebuilt[i]]), foldedFromIntervals([original[i]]), `interval ${i}`);
    assert.deepEqual(rebuilt[i], original[i], `interval ${i}: every field, sample order and pid kept`);
  }
  for (const view of VIEWS) {
    assert.equal(foldedFromIntervals(rebuilt, view), foldedFromIntervals(original, view), JSON.stringify(view));
  }
});

test('a frame and a stack are sent once: later intervals carry only ids and counts for them', () => {
  const interner = new IntervalInterner();
  const [first, second, third] = script().map((symbolized) => interner.intern(symbolized));
  assert.equal(first.reset, true, 'the first interval starts the receiver\'s tables');
  assert.deepEqual(first.newFrameNames, ['bash', 'main', 'readline', 'do_syscall_64', 'ksys_read', 'swapper/0', 'cpu_startup_entry', 'do_idle', 'node', 'run', '[unknown]']);
  assert.equal(first.newFrameKinds, 'puukkpkkpjx');
  assert.equal(second.reset, false);
  assert.deepEqual(second.newFrameNames, [], 'nothing new: no names');
  assert.equal(second.newStacks.length, 0, 'nothing new: no stack records');
  assert.deepEqual(Array.from(second.stackIds), [0, 1], 'the known stacks by id');
  assert.deepEqual(Array.from(second.counts), [3, 40]);
  // The third brings pid 13 (a new stack, no new frame) and cc1's frames.
  assert.deepEqual(third.newFrameNames, ['cc1', 'page_fault']);
  assert.deepEqual(Array.from(third.stackIds), [0, 0, 3, 4, 5]);
  assert.equal(third.frameBase, 11);
  assert.equal(third.stackBase, 3);
  // Over all intervals, each distinct name crosses exactly once.
  const interner2 = new IntervalInterner();
  const names = script().flatMap((symbolized) => interner2.intern(symbolized).newFrameNames);
  assert.equal(new Set(names).size, names.length, `no name sent twice: ${names.join(', ')}`);
});

test('steady state: an interval of known stacks is a few bytes per sample over IPC', () => {
  const interner = new IntervalInterner();
  const deep = Array.from({ length: 40 }, (_, i) => `some::rather_long::namespace::function_number_${i}`).join(';');
  const samples = Array.from({ length: 200 }, (_, i) => sample(`proc${i % 20}`, 100 + i, deep, 'entry_SYSCALL_64;do_syscall_64;x64_sys_call', 1 + i));
  const plain = serialize(interval(1000, samples)).length;
  const firstSize = serialize(interner.intern(interval(1000, samples))).length;
  const steady = serialize(interner.intern(interval(2000, samples))).length;
  assert.ok(firstSize < plain / 5, `first interval interned ${firstSize} bytes vs ${plain} plain`);
  // 12 bytes a sample: a u32 stack id and a float64 count (µs weights of off-CPU time pass 2^32)
  assert.ok(steady < 200 * 12 + 1000, `a known interval is ${steady} bytes (200 samples)`);
});

test('the tables start over past their limits, and the receiver follows', () => {
  const interner = new IntervalInterner({ maxFrames: 8 });
  const mirror = new IntervalMirror();
  const original = script();
  const messages = original.map((symbolized) => interner.intern(symbolized));
  assert.ok(messages.slice(1).some((message) => message.reset), `a reset once the table passed 8 frames (resets: ${JSON.stringify(messages.map((message) => Boolean(message.reset)))})`);
  const rebuilt = messages.map((message) => mirror.decode(message).interval);
  assert.equal(foldedFromIntervals(rebuilt), foldedFromIntervals(original));
  assert.ok(mirror.frameCount <= 8 + 11, `the mirror holds at most one table's worth (${mirror.frameCount})`);
});

test('an interval that does not continue the tables is refused, naming both sides', () => {
  const interner = new IntervalInterner();
  const mirror = new IntervalMirror();
  const [first, second, , fourth] = script().map((symbolized) => interner.intern(symbolized));
  mirror.decode(first);
  mirror.decode(second); // adds nothing
  // The third (which adds frames and stacks) is lost: the fourth cannot be read.
  assert.throws(() => mirror.decode(fourth), /extends 13 frames, 6 stacks and 0 binaries, this side holds 11, 3 and 0/);
  assert.throws(() => new IntervalMirror().decode(second), /extends 11 frames, 3 stacks and 0 binaries, this side holds 0, 0 and 0/);
  const bad = { ...first, stackIds: Uint32Array.of(99), counts: Float64Array.of(1) };
  assert.throws(() => new IntervalMirror().decode(bad), /stack id 99 is not in the table/);
});

test('the window gives the same trees with or without the sender\'s stack ids, across a table reset', () => {
  const interner = new IntervalInterner({ maxStacks: 4 });
  const mirror = new IntervalMirror();
  const plain = new ProfileWindow();
  const withRefs = new ProfileWindow();
  for (const symbolized of [...script(), ...script().map((s) => ({ ...s, startMs: s.startMs + 5000, endMs: s.endMs + 5000 }))]) {
    const decoded = mirror.decode(interner.intern(symbolized));
    plain.push(symbolized);
    withRefs.push(decoded.interval, decoded.refs);
  }
  for (const view of VIEWS) {
    const a = plain.build(view, 10_000, { minFraction: 0 });
    const b = withRefs.build(view, 10_000, { minFraction: 0 });
    assert.equal(foldedFromTree(b.tree), foldedFromTree(a.tree), JSON.stringify(view));
    assert.ok(a.totalSamples > 0, `${JSON.stringify(view)} has samples (${a.totalSamples})`);
  }
  assert.equal(withRefs.distinctStacks, plain.distinctStacks, 'the same stack table');
});

test('recorded intervals: self-contained interned JSON that reads back to the same interval; old plain payloads still read', () => {
  const original = script();
  for (const symbolized of original) {
    const stored = JSON.parse(JSON.stringify(recordedInterval(symbolized)));
    assert.equal(stored.format, 'interned/3');
    assert.deepEqual(intervalOfRecord(stored), symbolized);
  }
  const legacy = JSON.parse(JSON.stringify(original[2]));
  assert.deepEqual(intervalOfRecord(legacy), original[2], 'a plain SymbolizedInterval passes through');
  const deepSample = sample('app', 1, Array.from({ length: 30 }, () => 'recursive_function_with_a_long_name').join(';'), '', 1);
  const stored = JSON.stringify(recordedInterval(interval(1000, [deepSample])));
  assert.ok(stored.length < JSON.stringify(interval(1000, [deepSample])).length / 5, `a repeated frame is stored once (${stored.length} bytes interned, ${JSON.stringify(interval(1000, [deepSample])).length} plain)`);
  assert.throws(() => intervalOfRecord({ format: 'interned/9' }), /unknown recorded profile interval format "interned\/9"/);
  assert.throws(() => intervalOfRecord(null), /must be an object/);
});

const LIBC = { file: '/usr/lib/x86_64-linux-gnu/libc.so.6', buildId: 'aabbccdd' };
const APP = { file: '/opt/app/bin/worker' };
const KERNEL = { file: '[kernel]', buildId: '0011' };

/** Two threads of one name, frames with binaries (two `main`s of different binaries), one kernel stack. */
function threaded(): SymbolizedInterval[] {
  return [
    interval(1000, [
      sample('worker', 50, 'main;spin', 'do_syscall_64', 4, { tid: 51, module: APP, kernelModule: KERNEL }),
      sample('worker', 50, 'main;spin', 'do_syscall_64', 6, { tid: 52, module: APP, kernelModule: KERNEL }),
      sample('worker', 50, 'main;spin', '', 1, { tid: 52, module: LIBC }),
    ]),
    interval(2000, [sample('worker', 50, 'main;spin', '', 2, { tid: 51, module: APP })]),
  ];
}

test('thread ids and binaries cross the IPC form and recordings; a binary is sent once', () => {
  const interner = new IntervalInterner();
  const mirror = new IntervalMirror();
  const original = threaded();
  const interned = original.map((symbolized) => interner.intern(symbolized));
  assert.deepEqual(interned[0].newModules, [APP, KERNEL, LIBC], `binaries of the first interval: ${JSON.stringify(interned[0].newModules)}`);
  assert.deepEqual(interned[1].newModules, [], `nothing new in the second: ${JSON.stringify(interned[1].newModules)}`);
  // main and spin of APP and of LIBC are four frames, not two.
  const names = interned[0].newFrameNames;
  assert.equal(names.filter((n) => n === 'main').length, 2, `frames: ${JSON.stringify(names)}`);
  for (let i = 0; i < original.length; i++) {
    const rebuilt = mirror.decode(overIpc(interned[i])).interval;
    assert.deepEqual(rebuilt, original[i], `interval ${i} over IPC: ${JSON.stringify(rebuilt.samples.map((x) => [x.tid, x.user[0]?.module]))}`);
    const stored = JSON.parse(JSON.stringify(recordedInterval(original[i])));
    const read = intervalOfRecord(stored);
    assert.deepEqual(read, original[i], `interval ${i} from a recording: ${JSON.stringify(read.samples.map((x) => [x.tid, x.user[0]?.module]))}`);
  }
});

test('interned/1 recordings (no tid, no binaries) still read; their samples have no tid', () => {
  // Written by the previous format: stack record pid, comm, user error, kernel error, U, K, frames.
  const v1 = {
    format: 'interned/1', startMs: 0, endMs: 1000, droppedSamples: 0, unknownFrames: 0,
    frameNames: ['bash', 'main', 'ksys_read'], frameKinds: 'puk',
    stacks: [12, 0, 0, 0, 1, 1, 1, 2, 13, 0, 2, 0, 0, 0],
    stackIds: [0, 1], counts: [3, 4],
  };
  const read = intervalOfRecord(v1);
  assert.deepEqual(read.samples, [
    { pid: 12, comm: 'bash', user: [{ name: 'main', kind: 'u' }], kernel: [{ name: 'ksys_read', kind: 'k' }], count: 3 },
    { pid: 13, comm: 'bash', user: [], kernel: [], userStackError: 'fault', count: 4 },
  ], `read back: ${JSON.stringify(read.samples)}`);
  assert.throws(() => intervalOfRecord({ ...v1, stacks: [12, 0, 0, 0, 5, 0] }), /interned\/1\): a stack record is cut short/);
});

test('interned/2 recordings (no flags, no waker tail) still read', () => {
  // stack record: pid, tid, comm, user error, kernel error, U, K, frames
  const v2 = {
    format: 'interned/2', startMs: 0, endMs: 1000, droppedSamples: 0, unknownFrames: 0,
    frameNames: ['bash', 'main', 'ksys_read'], frameKinds: 'puk', modules: [], frameModules: [0, 0, 0],
    stacks: [12, 14, 0, 0, 0, 1, 1, 1, 2],
    stackIds: [0], counts: [3],
  };
  assert.deepEqual(intervalOfRecord(v2).samples, [
    { pid: 12, tid: 14, comm: 'bash', user: [{ name: 'main', kind: 'u' }], kernel: [{ name: 'ksys_read', kind: 'k' }], count: 3 },
  ]);
  assert.throws(() => intervalOfRecord({ ...v2, stacks: [12, 14, 0, 0, 0, 5, 0] }), /interned\/2\): a stack record is cut short/);
});

test('off-CPU stacks (wall flag, waker tail) and µs counts beyond 2^32 cross the IPC form and recordings', () => {
  const blocked: SymbolizedInterval = interval(1000, [
    {
      ...sample('sleeper', 7, 'main;wait_for_data', 'schedule', 1, { tid: 8 }),
      count: 7_200_000_000, // a two-hour block, in µs
      events: 3,
      offCpu: true,
      waker: [
        { name: '--', kind: 'x' },
        { name: 'try_to_wake_up', kind: 'k' },
        { name: 'write_data', kind: 'u' },
        { name: 'writer', kind: 'p' },
      ],
    },
    sample('sleeper', 7, 'main;compute', '', 5, { tid: 8 }),
  ]);
  const interned = new IntervalInterner().intern(blocked);
  assert.deepEqual(new IntervalMirror().decode(overIpc(interned)).interval, blocked);
  assert.deepEqual(intervalOfRecord(JSON.parse(JSON.stringify(recordedInterval(blocked)))), blocked);
});
