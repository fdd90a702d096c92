/**
 * Aggregator benchmark: how long ProfileWindow.build takes for a realistic machine-wide profile.
 *
 *   node --import tsx bench/aggregator.ts [--intervals 60] [--stacks 3000]
 *
 * Feeds `intervals` one-second intervals, each with `stacks` distinct (comm, user stack,
 * kernel stack) samples drawn from a fixed synthetic call graph (seeded, so runs compare), then
 * prints the tree size and the median / p95 ms per build for each window and stack mode, with
 * the default 10k-node budget and with no budget.
 */
import { performance } from 'node:perf_hooks';
import { ProfileWindow, type BuildOptions } from '../server/aggregator/profile-window.ts';
import type { SymbolizedInterval, SymbolizedSample } from '../server/symbolizer/types.ts';
import type { ViewSettings } from '../lib/protocol.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const INTERVALS = arg('intervals', 60);
const STACKS = arg('stacks', 3000);

let seed = 42;
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];

const comms = Array.from({ length: 40 }, (_, i) => `proc${i}`);
const userNames = Array.from({ length: 3000 }, (_, i) => `ns${i % 37}::Class${i % 101}::method_${i}(int, char const*)`);
const kernelNames = Array.from({ length: 600 }, (_, i) => `kfunc_${i}`);

/** A stack: a random walk from a per-comm root, so stacks share prefixes like real ones. */
function makeSample(): SymbolizedSample {
  const comm = pick(comms);
  const pid = comm === 'proc0' ? 0 : 1000 + comms.indexOf(comm);
  const depth = 3 + Math.floor(random() * 25);
  const user = [];
  let base = comms.indexOf(comm) * 50;
  for (let d = 0; d < depth; d++) {
    base = (base * 7 + (random() < 0.75 ? 0 : 1 + Math.floor(random() * 3))) % userNames.length;
    user.push({ name: userNames[base], kind: 'u' as const });
  }
  const kernel = [];
  if (random() < 0.4) {
    let k = Math.floor(random() * 5);
    for (let d = 0, kd = 2 + Math.floor(random() * 10); d < kd; d++) {
      k = (k * 5 + Math.floor(random() * 3)) % kernelNames.length;
      kernel.push({ name: kernelNames[k], kind: 'k' as const });
    }
  }
  return { pid, comm, user, kernel, count: 1 + Math.floor(random() * 20) };
}

const pool = Array.from({ length: STACKS * 3 }, makeSample);
const intervals: SymbolizedInterval[] = [];
const T0 = 1_700_000_000_000;
for (let i = 0; i < INTERVALS; i++) {
  const samples = Array.from({ length: STACKS }, () => pick(pool));
  intervals.push({ startMs: T0 + i * 1000, endMs: T0 + (i + 1) * 1000, samples, droppedSamples: 0, unknownFrames: 0 });
}

const pw = new ProfileWindow();
let t = performance.now();
for (const interval of intervals) pw.push(interval);
const pushMs = (performance.now() - t) / INTERVALS;
const now = T0 + INTERVALS * 1000;
console.log(`${INTERVALS} intervals x ${STACKS} samples (${pw.distinctStacks} distinct stacks): push ${pushMs.toFixed(2)} ms/interval`);

function measure(label: string, view: ViewSettings, options: BuildOptions): void {
  const times: number[] = [];
  let built = pw.build(view, now, options);
  for (let i = 0; i < 30; i++) {
    t = performance.now();
    built = pw.build(view, now, { ...options, reuse: false });
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  const p95 = times[Math.floor(times.length * 0.95)];
  console.log(
    `${label.padEnd(44)} nodes ${String(built.nodeCount).padStart(6)}  pruned ${String(built.prunedSamples).padStart(6)}/${built.totalSamples}` +
      `  median ${median.toFixed(2)} ms  p95 ${p95.toFixed(2)} ms`,
  );
}

for (const window of ['10s', '60s', 'all'] as const) {
  for (const stackMode of ['all', 'user', 'kernel'] as const) {
    measure(`${window} ${stackMode} maxNodes=10000`, { window, stackMode, hideIdle: true }, {});
  }
}
measure('60s all maxNodes=Infinity', { window: '60s', stackMode: 'all', hideIdle: false }, { maxNodes: Infinity });
measure('60s all minFraction=1/1920', { window: '60s', stackMode: 'all', hideIdle: true }, { minFraction: 1 / 1920 });
// Moving window: one push then one build, as the hub does every second.
{
  const times: number[] = [];
  for (let i = 0; i < 30; i++) {
    const end = now + (i + 1) * 1000;
    const interval = { ...intervals[i % INTERVALS], startMs: end - 1000, endMs: end };
    t = performance.now();
    pw.push(interval);
    pw.build({ window: '10s', stackMode: 'all', hideIdle: true }, end, {});
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  console.log(`steady state push + build(10s):               median ${times[15].toFixed(2)} ms  p95 ${times[28].toFixed(2)} ms`);
}
