/**
 * bench/collector-events: what checking the big messages against their schemas costs, per
 * message, next to what receiving them costs anyway.
 *
 *   node --import tsx bench/collector-events.ts [--rounds 30]
 *
 * Web process (collector -> web, server/privileged/event-check.ts): a profile interval after a
 * table reset (every frame and stack of a 20,000-node profile: the biggest a handle sends) and
 * in steady state (ids and counts only), a latency batch of a syscall:* probe keyed by pid (200
 * series), and a full events.rows batch (2,500 exec rows). Dashboard (server -> browser,
 * components/session/serverMessages.ts): a `profile:frame` of 3,000 nodes (the server's default
 * pruning) and of 10,000 (pruning off), and a full `events:batch`.
 *
 * Columns, µs per message (median of --rounds rounds, each timing enough repeats for ~20 ms):
 *   receive   what arrives anyway: v8 deserialize (the 'advanced' IPC serialization) for the
 *             collector's events, JSON.parse of the text for the browser's messages;
 *   handle    the first work done with it (IntervalMirror.decode, LatencyView.apply; none for
 *             rows; none for the browser);
 *   check     the check as shipped;
 *   deep      a full check for comparison: every item of every bulk array through valibot
 *             (frame names, histogram counts, row fields; every node of a flame graph);
 *   check %   check / (receive + handle): what the shipped check adds to taking the message in.
 */
import { deserialize, serialize } from 'node:v8';
import * as v from 'valibot';
import { check } from '../lib/schema/core.ts';
import { checkCollectorEvent, COLLECTOR_EVENTS, EventRowDataSchema, LatencySeriesSchema } from '../lib/schema/collector.ts';
import { EventFieldValueSchema } from '../lib/schema/events.ts';
import { checkServerMessage } from '../lib/schema/server-messages.ts';
import { SERVER_MESSAGES } from '../lib/schema/messages.ts';
import { seededRandom } from '../lib/random.ts';
import { IntervalInterner, IntervalMirror, type InternedInterval } from '../server/symbolizer/interned.ts';
import { LatencyView } from '../server/aggregator/latency.ts';
import { ProfilePipeline } from '../server/pipeline/profile.ts';
import type { CollectorChannel, CollectorMessage } from '../server/collectors/types.ts';
import type { LatencyBatch } from '../server/collectors/latency.ts';
import type { Frame, SymbolizedInterval, SymbolizedSample } from '../server/symbolizer/types.ts';
import type { Log2Histogram } from '../lib/histogram.ts';
import type { EventRow } from '../lib/protocol-events.ts';
import { syntheticPoints } from './fanout.ts';
import { option } from './proc.ts';

const ROUNDS = Number(option('rounds', '30'));

/** µs per call of `run` (median over ROUNDS rounds of ~20 ms each). */
function microseconds(run: () => unknown): number {
  let repeats = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < repeats; i++) run();
    if (performance.now() - t0 >= 20) break;
    repeats *= 2;
  }
  const perCall: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const t0 = performance.now();
    for (let i = 0; i < repeats; i++) run();
    perCall.push(((performance.now() - t0) * 1000) / repeats);
  }
  perCall.sort((a, b) => a - b);
  return perCall[Math.floor(perCall.length / 2)];
}

// ---------------------------------------------------------------------------------------
// Messages

const random = seededRandom(7);
const kernelFrames: Frame[] = ['entry_SYSCALL_64_after_hwframe', 'do_syscall_64', 'x64_sys_call', '__x64_sys_read', 'ksys_read', 'vfs_read', 'pipe_read', 'schedule'].map((name) => ({ name, kind: 'k' }));
const module = { file: '/usr/lib/x86_64-linux-gnu/libexample.so.1', buildId: '3f9c2b7e1d0a4c8b9e6f5a4b3c2d1e0f12345678' };

/** One interval of a 20,000-node profile: every distinct stack once, user frames with their binary, some with kernel frames. */
function profileInterval(endMs: number): SymbolizedInterval {
  const samples: SymbolizedSample[] = syntheticPoints(20_000, 3).map((point, i) => ({
    pid: point.pid,
    comm: point.comm,
    user: point.user.map((frame) => ({ ...frame, module })),
    kernel: i % 3 === 0 ? kernelFrames.slice(0, 3 + (i % 6)) : [],
    count: 1 + Math.floor(point.weight * random()),
  }));
  return { startMs: endMs - 1000, endMs, samples, droppedSamples: 0, unknownFrames: 12 };
}

const interner = new IntervalInterner({ maxFrames: 1e6, maxStacks: 1e6 });
const profileEvent = (interval: InternedInterval) => ({ type: 'profile', handle: 1, message: { type: 'profile.interned', hz: 99, cpus: 2, interval } });
const resetInterval = interner.intern(profileInterval(2000));
const steadyInterval = interner.intern(profileInterval(3000));

function histogram(parts: number): Log2Histogram {
  const slots = 10 + Math.floor(random() * 20);
  const buckets = Array.from({ length: slots }, () => Math.floor(random() * 1000));
  const counts = Array.from({ length: slots * parts }, () => Math.floor(random() * 200));
  const count = buckets.reduce((a, b) => a + b, 0);
  return { count, sum: count * 1500, buckets, fine: { parts, start: parts, counts }, min: 120, max: 2 ** slots };
}
const latencyBatch: LatencyBatch = {
  probe: 'syscall:*',
  startMs: 1000,
  endMs: 2000,
  series: Array.from({ length: 200 }, (_, i) => ({ label: `read pid ${1000 + i}`, key: { probe: 0, pid: 1000 + i, id: 0, comm: '' }, interval: histogram(8), total: histogram(8) })),
  interval: histogram(8),
  total: histogram(8),
  misses: { noEntry: 0, startFull: 0, histFull: 0 },
  missesTotal: { noEntry: 3, startFull: 0, histFull: 0 },
  stale: null,
  targetExited: false,
  hint: null,
};
const latencyEvent = { type: 'latency.interval', handle: 2, id: 'lat-1', batch: latencyBatch };

const rows: Omit<EventRow, 'n'>[] = Array.from({ length: 2500 }, (_, i) => ({
  t: 1_700_000_000_000 + i * 0.37,
  pid: 20_000 + i,
  tid: 20_000 + i,
  comm: 'bash',
  fields: { filename: '/usr/bin/ls', argv: ['ls', '--color=auto', '-la', `/tmp/dir${i}`], ppid: 1999, uid: 1000 },
}));
const rowsEvent = { type: 'events.rows', handle: 3, rows, counts: { lost: 0, dropped: 0, transport: 'ringbuf' } };

// ---------------------------------------------------------------------------------------
// Full checks for comparison: the shipped schemas with every bulk array checked item by item

const finite = v.pipe(v.number(), v.finite());
const deepHistogram = v.strictObject({
  count: finite,
  sum: finite,
  buckets: v.array(finite),
  fine: v.optional(v.strictObject({ parts: finite, start: finite, counts: v.array(finite) })),
  min: v.optional(finite),
  max: v.optional(finite),
});
const deepLatency = v.strictObject({
  ...COLLECTOR_EVENTS['latency.interval'].entries,
  batch: v.strictObject({
    ...COLLECTOR_EVENTS['latency.interval'].entries.batch.entries,
    series: v.array(v.strictObject({ ...LatencySeriesSchema.entries, interval: deepHistogram, total: deepHistogram })),
    interval: deepHistogram,
    total: deepHistogram,
  }),
});
const profileEntries = COLLECTOR_EVENTS.profile.entries;
const internedEntries = profileEntries.message.options[0].entries.interval.entries;
const deepProfile = v.strictObject({
  ...profileEntries,
  message: v.strictObject({
    ...profileEntries.message.options[0].entries,
    interval: v.strictObject({ ...internedEntries, newFrameNames: v.array(v.string()) }),
  }),
});
const rowEntries = COLLECTOR_EVENTS['events.rows'].entries;
const deepRows = v.strictObject({
  ...rowEntries,
  rows: v.array(v.strictObject({ ...EventRowDataSchema.entries, fields: v.record(v.string(), EventFieldValueSchema) })),
});

// ---------------------------------------------------------------------------------------
// Browser messages

function profileFrame(maxNodes: number) {
  const listeners = new Set<(message: CollectorMessage) => void>();
  const channel: CollectorChannel = {
    request: async () => undefined,
    onMessage: (listener) => (listeners.add(listener), () => listeners.delete(listener)),
    close: async () => undefined,
  };
  const pipeline = new ProfilePipeline(channel, { now: () => 3000, maxNodes, minFraction: 0 });
  for (const endMs of [2000, 3000]) for (const listener of listeners) listener({ type: 'profile.interval', interval: profileInterval(endMs), hz: 99, cpus: 2 });
  return { seq: 1, ...pipeline.frame({ window: '10s', stackMode: 'all', hideIdle: true, perThread: false }) };
}
const frameSmall = profileFrame(3000);
const frameLarge = profileFrame(10_000);
const eventBatch = { id: 'ev-1', rows: rows.slice(0, 2500).map((row, i) => ({ n: i + 1, ...row })), skipped: 0, total: 2500, perSecond: 2500, lost: 0, dropped: 0, seq: 1 };

// ---------------------------------------------------------------------------------------

interface Row {
  name: string;
  size: string;
  receive: number;
  handle: number | null;
  check: number;
  deep: number;
}
const table: Row[] = [];
const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;

function collectorRow(name: string, event: object, deep: v.GenericSchema, handle: ((event: never) => unknown) | null) {
  const wire = serialize(event);
  const received = deserialize(wire);
  for (const result of [checkCollectorEvent(received), check(deep, received)]) if (!result.ok) throw new Error(`${name}: ${result.error}`);
  table.push({
    name,
    size: kb(wire.byteLength),
    receive: microseconds(() => deserialize(wire)),
    handle: handle ? microseconds(() => handle(received as never)) : null,
    check: microseconds(() => checkCollectorEvent(received)),
    deep: microseconds(() => check(deep, received)),
  });
}

function browserRow(name: string, event: 'profile:frame' | 'events:batch', payload: object, deep: v.GenericSchema) {
  const text = JSON.stringify(payload);
  const received = JSON.parse(text);
  for (const result of [checkServerMessage(event, received), check(deep, received)]) if (!result.ok) throw new Error(`${name}: ${result.error}`);
  table.push({
    name,
    size: kb(text.length),
    receive: microseconds(() => JSON.parse(text)),
    handle: null,
    check: microseconds(() => checkServerMessage(event, received)),
    deep: microseconds(() => check(deep, received)),
  });
}

// Each decode starts from the tables the interval continues (a fresh mirror for the reset one).
collectorRow('profile, table reset', profileEvent(resetInterval), deepProfile, () => new IntervalMirror().decode(resetInterval));
const mirror = new IntervalMirror();
mirror.decode(resetInterval);
const steadyMirror = () => {
  // decode(steady) does not change the mirror's tables when it brings no new entries
  if (steadyInterval.newStacks.length > 0 || steadyInterval.newFrameNames.length > 0) throw new Error('the steady interval should bring nothing new');
  return mirror.decode(steadyInterval);
};
collectorRow('profile, steady', profileEvent(steadyInterval), deepProfile, steadyMirror);
collectorRow('latency, 200 series', latencyEvent, deepLatency, () => {
  const view = new LatencyView('lat-1', 'syscall:*');
  return view.apply(latencyBatch);
});
collectorRow('events.rows, 2,500 rows', rowsEvent, deepRows, null);
browserRow(`profile:frame, ${frameSmall.nodeCount} nodes`, 'profile:frame', frameSmall, SERVER_MESSAGES['profile:frame'].schema);
browserRow(`profile:frame, ${frameLarge.nodeCount} nodes`, 'profile:frame', frameLarge, SERVER_MESSAGES['profile:frame'].schema);
browserRow('events:batch, 2,500 rows', 'events:batch', eventBatch, SERVER_MESSAGES['events:batch'].schema);

const cell = (value: number | null) => (value === null ? '—' : value.toFixed(0)).padStart(9);
console.log(`µs per message, median of ${ROUNDS} rounds (node ${process.version})`);
console.log(`${'message'.padEnd(30)}${'size'.padStart(9)}${'receive'.padStart(9)}${'handle'.padStart(9)}${'check'.padStart(9)}${'deep'.padStart(9)}${'check %'.padStart(9)}`);
for (const row of table) {
  const share = (row.check / (row.receive + (row.handle ?? 0))) * 100;
  console.log(`${row.name.padEnd(30)}${row.size.padStart(9)}${cell(row.receive)}${cell(row.handle)}${cell(row.check)}${cell(row.deep)}${`${share.toFixed(0)}%`.padStart(9)}`);
}
