/**
 * The profile window: a store of SymbolizedInterval (one per ~1 s) that answers flame graph
 * views — last 10 s, last 60 s, or since start — for any stack mode, with or without idle.
 *
 * Pure and deterministic: no I/O, no timers; the clock is passed to build().
 *
 * How it stays fast: every distinct stack (idle flag, comm, user frames, kernel frames, lost
 * halves) is interned once into a stack table, and its path is inserted once into one prefix
 * tree per stack mode (node ids grow from the root; a built tree sorts the children it keeps). An interval
 * is kept as (stack id, count) pairs. Each window keeps running per-stack counts, updated as
 * intervals enter and leave it; build() adds those counts onto trie leaves, sums them up the
 * trie in one reverse pass over node ids, and materialises only the nodes that are wide enough.
 * Nothing re-walks raw samples.
 *
 * Memory: intervals are kept for at most 60 s (by their endMs); the 'all' window is a running
 * cumulative count per distinct stack. The stack table and tries hold the stacks of the last
 * 60 s plus at most `maxColdStacks` older ones: when more accumulate (e.g. many short-lived
 * processes, each a new `comm` and so new stacks), compact() keeps the heaviest older stacks and
 * folds the rest into one `[earlier stacks]` frame under the root, so the 'all' totals stay
 * exact while memory stays bounded by what the last minute saw.
 */
import type { FlameModule, FlameNode, FrameKind, ProfileHealth, StackMode, TimeWindow, ViewSettings } from '../../lib/protocol.ts';
import { compareFrames } from '../../lib/flame/tree.ts';
import { addHealth, emptyHealth, intervalHealth } from './health.ts';
import { OFFCPU_LEAF, markOffCpu, threadName } from './stack.ts';
import { lostStackName } from '../symbolizer/stack-frames.ts';
import type { SymbolizedInterval } from '../symbolizer/types.ts';
import type { StackRefs } from '../symbolizer/interned.ts';

/** Window lengths in ms. */
export const WINDOW_MS: Readonly<Record<Exclude<TimeWindow, 'all'>, number>> = { '10s': 10_000, '60s': 60_000 };
/** Intervals older than this (relative to the newest one) are forgotten. */
export const RETENTION_MS = 60_000;
/** Default node budget of a built tree (d3-flame-graph applies 10k nodes in well under 50 ms). */
export const DEFAULT_MAX_NODES = 10_000;
/** Name of the synthetic node that holds a parent's too-narrow children. */
export const PRUNED_NAME = '[pruned]';
/** Name of the synthetic frame (under the root) that holds the samples of folded older stacks. */
export const FOLDED_NAME = '[earlier stacks]';
/** Default most stacks not seen in the last 60 s that are kept with their own frames. */
export const DEFAULT_MAX_COLD_STACKS = 10_000;

export interface ProfileWindowOptions {
  /**
   * Most stacks not seen within the retention (60 s) kept with their frames (>= 2). Past it,
   * compact() keeps the heaviest half of them and folds the others into `[earlier stacks]`.
   */
  maxColdStacks?: number;
}

export interface BuildOptions {
  /**
   * Most nodes in the tree, root and `[pruned]` nodes included (>= 2). Default 10000.
   * Infinity disables this limit.
   */
  maxNodes?: number;
  /**
   * Nodes whose samples are below this fraction of the total are folded into their parent's
   * `[pruned]` child, e.g. 1/1920 for one pixel of a 1920 px wide graph. Default 0 (none).
   */
  minFraction?: number;
  /** Reuse a snapshot built for the same view since the last push. Default true (false: benchmarks). */
  reuse?: boolean;
}

/** One built view; the fields map 1:1 onto ProfileFrame (lib/protocol.ts). */
export interface ProfileSnapshot {
  /** Root `all`, `v` = totalSamples. Children sorted by name (then kind). */
  tree: FlameNode;
  /** Samples in the window after the view's filters (hideIdle), = tree.v. */
  totalSamples: number;
  /** Samples that ended up in `[pruned]` nodes. */
  prunedSamples: number;
  /** Nodes in `tree`, root included. */
  nodeCount: number;
  /** Bounds of the intervals in the window (ms since the epoch); both nowMs when it is empty. */
  windowStartMs: number;
  windowEndMs: number;
  /** endMs of the newest interval pushed (nowMs when none yet). */
  sampledAtMs: number;
  /** Number of intervals in the window (for 'all': every interval since start/reset). */
  intervals: number;
  /** Summed over the window's intervals, over every sample (not filtered by the view). */
  health: ProfileHealth;
}

interface StoredInterval {
  startMs: number;
  endMs: number;
  stackIds: Int32Array;
  counts: Float64Array;
  /** Blocking events per stack (off-CPU samples), aligned with stackIds; absent when none. */
  events?: Float64Array;
  health: ProfileHealth;
}

/** Running per-stack counts for one window. */
class WindowCounts {
  counts = new Float64Array(1024);
  /** Blocking events per stack (off-CPU profiles), allocated on first use. */
  events: Float64Array | null = null;
  health = emptyHealth();
  /** Absolute index of the first interval included (window kinds with expiry only). */
  from = 0;
  apply(interval: StoredInterval, sign: 1 | -1): void {
    const { stackIds, counts } = interval;
    let max = 0;
    for (let i = 0; i < stackIds.length; i++) if (stackIds[i] > max) max = stackIds[i];
    this.ensure(max + 1);
    for (let i = 0; i < stackIds.length; i++) this.counts[stackIds[i]] += sign * counts[i];
    if (interval.events) {
      const events = (this.events ??= new Float64Array(this.counts.length));
      for (let i = 0; i < stackIds.length; i++) events[stackIds[i]] += sign * interval.events[i];
    }
    addHealth(this.health, interval.health, sign);
  }
  ensure(size: number): void {
    if (size <= this.counts.length) return;
    let length = this.counts.length;
    while (length < size) length *= 2;
    const grown = new Float64Array(length);
    grown.set(this.counts);
    this.counts = grown;
    if (this.events) {
      const events = new Float64Array(length);
      events.set(this.events);
      this.events = events;
    }
  }
}

/** FrameTrie's hash of (parent id, frame id): both multiplied by odd constants and mixed (32 bits). */
function slotHash(parentId: number, frameId: number): number {
  const h = Math.imul(parentId, 0x9e3779b1) ^ Math.imul(frameId + 0x7f4a7c15, 0x85ebca77);
  return (h ^ (h >>> 15)) >>> 0;
}

/** Nodes a new trie has room for before its arrays grow (they double). */
const INITIAL_TRIE_NODES = 1024;

/**
 * A prefix tree of frame ids for one stack mode. Node 0 is the root; parent id < child id.
 * Per node, four 32-bit numbers in typed arrays: parent, frame, first child, next sibling (0:
 * none; the root is nobody's child). Children are linked in no particular order: building sorts
 * the children it keeps. (An array of children per node, kept sorted, was ~60 bytes a node:
 * most of the web process's heap once the tries held 100k+ nodes.)
 */
class FrameTrie {
  parent = new Int32Array(INITIAL_TRIE_NODES);
  frame = new Int32Array(INITIAL_TRIE_NODES);
  firstChild = new Int32Array(INITIAL_TRIE_NODES);
  nextSibling = new Int32Array(INITIAL_TRIE_NODES);
  private count = 1;
  /**
   * (parent, frame) -> child: an open-addressing hash table of node ids (0: empty slot; the root
   * is nobody's child), linear probing, at most half full. 8 bytes a node, where a Map with
   * numeric keys past 2^31 (each a heap number) took ~60.
   */
  private slots = new Int32Array(2 * INITIAL_TRIE_NODES);
  constructor() {
    this.parent[0] = -1;
    this.frame[0] = -1;
  }
  get size(): number {
    return this.count;
  }
  child(parentId: number, frameId: number): number {
    const { slots, parent, frame } = this;
    const mask = slots.length - 1;
    let slot = slotHash(parentId, frameId) & mask;
    for (let id = slots[slot]; id !== 0; id = slots[slot]) {
      if (parent[id] === parentId && frame[id] === frameId) return id;
      slot = (slot + 1) & mask;
    }
    const id = this.count++;
    if (id === this.parent.length) this.grow();
    this.parent[id] = parentId;
    this.frame[id] = frameId;
    this.nextSibling[id] = this.firstChild[parentId];
    this.firstChild[parentId] = id;
    slots[slot] = id;
    if (2 * this.count > slots.length) this.rehash();
    return id;
  }
  /** Doubles the hash table (it stays at most half full) and puts every node back. */
  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let id = 1; id < this.count; id++) {
      let slot = slotHash(this.parent[id], this.frame[id]) & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = id;
    }
    this.slots = slots;
  }
  private grow(): void {
    const bigger = (old: Int32Array) => {
      const out = new Int32Array(old.length * 2);
      out.set(old);
      return out;
    };
    this.parent = bigger(this.parent);
    this.frame = bigger(this.frame);
    this.firstChild = bigger(this.firstChild);
    this.nextSibling = bigger(this.nextSibling);
  }
  leaf(path: readonly number[]): number {
    let node = 0;
    for (const frameId of path) node = this.child(node, frameId);
    return node;
  }
}

/** A growable map from a sender's stack ids (dense, from 0) to a window's stack ids; -1 = not yet seen. */
class KnownStacks {
  ids = new Int32Array(0);
  constructor(readonly table: object) {}
  remember(ref: number, id: number): void {
    if (ref >= this.ids.length) {
      const grown = new Int32Array(Math.max(1024, ref + 1, this.ids.length * 2)).fill(-1);
      grown.set(this.ids);
      this.ids = grown;
    }
    this.ids[ref] = id;
  }
}

/** A frame of the table: name, kind and (when known) its binary. */
interface FrameEntry {
  n: string;
  k: FrameKind;
  m?: FlameModule;
}

/** Siblings' order: name, kind (compareFrames), then binary, so `main` of two binaries stays two stable siblings. */
function compareEntries(a: FrameEntry, b: FrameEntry): number {
  const byName = compareFrames(a, b);
  if (byName !== 0 || a.m === b.m) return byName;
  const af = a.m?.file ?? '';
  const bf = b.m?.file ?? '';
  if (af !== bf) return af < bf ? -1 : 1;
  const ab = a.m?.buildId ?? '';
  const bb = b.m?.buildId ?? '';
  return ab < bb ? -1 : ab > bb ? 1 : 0;
}

class FrameTable {
  /**
   * Frame ids by name, one map per (binary, kind) slot: (module id + 1) * KIND_SLOTS + kind code,
   * 0 for no binary. A lookup hashes the name string the frame already carries (V8 caches a
   * string's hash), instead of building a `name + binary` key string per frame.
   */
  private ids = new Map<number, Map<string, number>>();
  private kindCodes = new Map<FrameKind, number>();
  private entries: FrameEntry[] = [];
  /** Binaries by object (the symbolizer and the interned mirror share one per binary), then by content. */
  private moduleByObject = new Map<FlameModule, number>();
  private moduleByKey = new Map<string, FlameModule>();
  private moduleCount = 0;
  id(name: string, kind: FrameKind, module?: FlameModule): number {
    let kindCode = this.kindCodes.get(kind);
    if (kindCode === undefined) this.kindCodes.set(kind, (kindCode = this.kindCodes.size));
    const slot = (module === undefined ? 0 : this.moduleId(module) + 1) * KIND_SLOTS + kindCode;
    let byName = this.ids.get(slot);
    if (byName === undefined) this.ids.set(slot, (byName = new Map()));
    let id = byName.get(name);
    if (id === undefined) {
      id = this.entries.length;
      byName.set(name, id);
      this.entries.push(module === undefined ? { n: name, k: kind } : { n: name, k: kind, m: this.moduleByKey.get(moduleKey(module)) });
    }
    return id;
  }
  private moduleId(module: FlameModule): number {
    let id = this.moduleByObject.get(module);
    if (id !== undefined) return id;
    const key = moduleKey(module);
    if (!this.moduleByKey.has(key)) this.moduleByKey.set(key, module);
    // Equal content, equal id: the canonical object's id (set below on its first sight).
    const canonical = this.moduleByKey.get(key)!;
    id = this.moduleByObject.get(canonical);
    if (id === undefined) {
      id = this.moduleCount++;
      this.moduleByObject.set(canonical, id);
    }
    this.moduleByObject.set(module, id);
    return id;
  }
  entry(id: number): FrameEntry {
    return this.entries[id];
  }
}

/** Room for this many frame kinds per binary in FrameTable's slots (there are 6). */
const KIND_SLOTS = 64;

function moduleKey(module: FlameModule): string {
  return `${module.file}\u0000${module.buildId ?? ''}`;
}

const MODES: readonly StackMode[] = ['all', 'user', 'kernel'];
/** User part lengths below this make numeric stack keys. */
const SPLIT_LIMIT = 4096;

export class ProfileWindow {
  private frames = new FrameTable();
  private tries = new Map<StackMode, FrameTrie>();
  private stackIndex = new Map<number | string, number>();
  /** Stacks of samples with a thread id: per tid, the same keys as stackIndex. */
  private threadStackIndex = new Map<number, Map<number | string, number>>();
  private stackIdle: number[] = [];
  /** Per stack: the thread id of its samples (0: not known / threads merged). */
  private stackTid: number[] = [];
  /** Per stack: frames of its 'all' path that are user frames (after the comm), to rebuild it. */
  private stackUserLength: number[] = [];
  /** Per stack: frames of its waker tail (SymbolizedSample.waker), and whether it is off-CPU time of a wall profile. */
  private stackWakerLength: number[] = [];
  private stackOffCpu: boolean[] = [];
  private stackLeaf = new Map<StackMode, number[]>();
  /**
   * Per-thread tries (root frames `comm-tid`) and each stack's leaf in them: built on the first
   * per-thread view, then kept up to date; dropped with the stack tables. Until a viewer asks
   * for threads, nothing is spent on them (the merged tries hold stacks that differ only by tid
   * once).
   */
  private threadTries: Map<StackMode, FrameTrie> | null = null;
  private threadLeaf = new Map<StackMode, number[]>();
  private intervals: StoredInterval[] = [];
  /** Absolute index of intervals[0]. */
  private base = 0;
  private windows = new Map<Exclude<TimeWindow, 'all'>, WindowCounts>();
  private cumulative = new WindowCounts();
  private cumulativeIntervals = 0;
  private firstStartMs: number | undefined;
  private lastEndMs: number | undefined;
  /** Bumped by push and reset; part of the snapshot cache key. */
  private version = 0;
  private cache = new Map<string, ProfileSnapshot>();
  /** internSample's frame ids of the path it walks (reused: no array per sample). */
  private pathScratch: Int32Array = new Int32Array(256);
  /** Sender stack id -> stack id here, for intervals pushed with StackRefs. */
  private known: KnownStacks | null = null;
  private readonly maxColdStacks: number;
  /** compact() runs when the stack table grows past this. */
  private compactAt: number;
  /** Times compact() ran since start or reset (tests, health). */
  compactions = 0;

  constructor(options: ProfileWindowOptions = {}) {
    this.maxColdStacks = Math.max(2, Math.floor(options.maxColdStacks ?? DEFAULT_MAX_COLD_STACKS));
    this.compactAt = this.maxColdStacks;
    this.reset();
  }

  /** Empty frame table, tries and per-stack arrays (reset, and compaction before it re-interns the stacks it keeps). */
  private clearStackTables(): void {
    this.frames = new FrameTable();
    this.tries = new Map(MODES.map((mode) => [mode, new FrameTrie()]));
    this.stackLeaf = new Map(MODES.map((mode) => [mode, [] as number[]]));
    this.stackIndex = new Map();
    this.threadStackIndex = new Map();
    this.stackIdle = [];
    this.stackTid = [];
    this.stackUserLength = [];
    this.stackWakerLength = [];
    this.stackOffCpu = [];
    this.threadTries = null;
    this.threadLeaf = new Map();
  }

  /** Forgets everything (e.g. when the sampled target changes). */
  reset(): void {
    this.clearStackTables();
    this.intervals = [];
    this.base = 0;
    this.windows = new Map([
      ['10s', new WindowCounts()],
      ['60s', new WindowCounts()],
    ]);
    this.cumulative = new WindowCounts();
    this.cumulativeIntervals = 0;
    this.firstStartMs = undefined;
    this.lastEndMs = undefined;
    this.version++;
    this.cache.clear();
    this.known = null;
    this.compactions = 0;
    this.compactAt = this.maxColdStacks;
  }

  /** Intervals currently kept (at most 60 s worth). */
  get keptIntervals(): number {
    return this.intervals.length;
  }

  /** Distinct stacks seen since start (or reset). */
  get distinctStacks(): number {
    return this.stackIdle.length;
  }

  /**
   * Adds one interval. Intervals are expected in order of endMs; those older than 60 s before
   * the newest are dropped from the 10 s / 60 s windows (they stay in 'all').
   * `refs` (interned intervals, server/aggregator/interned.ts): the sender's stack id of each
   * sample, so that stacks seen before are found without walking their frames. The result is the
   * same with or without it.
   */
  push(interval: SymbolizedInterval, refs?: StackRefs): void {
    const merged = new Map<number, number>();
    let mergedEvents: Map<number, number> | null = null;
    const known = refs ? this.knownStacks(refs) : null;
    const samples = interval.samples;
    for (let i = 0; i < samples.length; i++) {
      const sample = samples[i];
      if (!(sample.count > 0)) continue;
      let id: number;
      if (known) {
        const ref = refs!.ids[i];
        id = ref < known.ids.length ? known.ids[ref] : -1;
        if (id < 0) {
          id = this.internSample(sample);
          known.remember(ref, id);
        }
      } else id = this.internSample(sample);
      merged.set(id, (merged.get(id) ?? 0) + sample.count);
      if (sample.events) (mergedEvents ??= new Map()).set(id, (mergedEvents.get(id) ?? 0) + sample.events);
    }
    const stored: StoredInterval = {
      startMs: interval.startMs,
      endMs: interval.endMs,
      stackIds: Int32Array.from(merged.keys()),
      counts: Float64Array.from(merged.values()),
      health: intervalHealth(interval),
    };
    if (mergedEvents) {
      const events = mergedEvents;
      stored.events = Float64Array.from(merged.keys(), (id) => events.get(id) ?? 0);
    }
    this.intervals.push(stored);
    for (const window of this.windows.values()) window.apply(stored, 1);
    this.cumulative.apply(stored, 1);
    this.cumulativeIntervals++;
    this.version++;
    this.cache.clear();
    if (this.firstStartMs === undefined || interval.startMs < this.firstStartMs) this.firstStartMs = interval.startMs;
    if (this.lastEndMs === undefined || interval.endMs > this.lastEndMs) this.lastEndMs = interval.endMs;
    this.expire(this.lastEndMs - RETENTION_MS);
    if (this.stackIdle.length > this.compactAt) this.compact();
  }

  /**
   * Bounds the stack table: every stack of a kept interval (the last 60 s) stays, with the
   * heaviest `maxColdStacks / 2` older ones (by samples since start); the other older stacks are
   * folded into one `[earlier stacks]` frame under the root (one per idle flag, so hideIdle still
   * applies), which keeps their samples in the 'all' window. Frame table and tries are rebuilt
   * from the stacks kept, so names of folded stacks (e.g. of exited processes) are freed too.
   * O(stacks x depth); push() runs it when the table passes `compactAt`, which it then sets so
   * that runs stay rare (amortized O(depth) per new stack).
   */
  compact(): void {
    const stacks = this.stackIdle.length;
    const live = new Uint8Array(stacks);
    for (const interval of this.intervals) for (const id of interval.stackIds) live[id] = 1;
    const cumulative = this.cumulative.counts;
    // Folded stacks of an earlier compaction fold again (into the new table's folded stacks).
    const folded = new Set([this.stackIndex.get('folded,0'), this.stackIndex.get('folded,1')]);
    const cold: number[] = [];
    for (let id = 0; id < stacks; id++) if (!live[id] && !folded.has(id)) cold.push(id);
    const keepCold = Math.floor(this.maxColdStacks / 2);
    const keep = Uint8Array.from(live);
    if (cold.length > keepCold) {
      // Heaviest first; among equals the newer (higher id) stays.
      cold.sort((a, b) => (cumulative[b] ?? 0) - (cumulative[a] ?? 0) || b - a);
      for (let i = 0; i < keepCold; i++) keep[cold[i]] = 1;
    } else {
      for (const id of cold) keep[id] = 1;
    }

    // Rebuild each kept stack as a sample: its 'all' path is comm, user frames, kernel frames
    // (lost-stack markers are ordinary 'x' frames there, and intern back to the same path).
    const oldFrames = this.frames;
    const oldAll = this.tries.get('all')!;
    const oldLeaves = this.stackLeaf.get('all')!;
    const oldIdle = this.stackIdle;
    const oldTid = this.stackTid;
    const oldUserLength = this.stackUserLength;
    const oldWakerLength = this.stackWakerLength;
    const oldOffCpu = this.stackOffCpu;
    const rebuilt: SymbolizedInterval['samples'] = [];
    const keptIds: number[] = [];
    for (let id = 0; id < stacks; id++) {
      if (!keep[id]) continue;
      const path: { name: string; kind: FrameKind; module?: FlameModule }[] = [];
      for (let node = oldLeaves[id]; node > 0; node = oldAll.parent[node]) {
        const entry = oldFrames.entry(oldAll.frame[node]);
        path.push(entry.m === undefined ? { name: entry.n, kind: entry.k } : { name: entry.n, kind: entry.k, module: entry.m });
      }
      path.reverse();
      const userLength = oldUserLength[id];
      const wakerLength = oldWakerLength[id];
      const blocked = path.slice(0, path.length - wakerLength);
      if (oldOffCpu[id]) {
        // Undo the leaf's 'o' (internSample marks it again): the synthetic `[off-CPU]` leaf of a
        // stack without frames goes; a real frame gets its half's kind back (a JIT frame's 'j'
        // becomes 'u', a lost-stack marker 'x' again).
        const leaf = blocked.length - 1;
        const frame = blocked[leaf];
        if (frame.kind === 'o' && frame.name === OFFCPU_LEAF && blocked.length === 2 && userLength === 0) blocked.pop();
        else if (frame.kind === 'o') blocked[leaf] = { ...frame, kind: frame.name.startsWith('[lost stack: ') ? 'x' : leaf <= userLength ? 'u' : 'k' };
      }
      const sample: SymbolizedInterval['samples'][number] = {
        pid: oldIdle[id] === 1 ? 0 : 1,
        tid: oldTid[id],
        comm: blocked[0].name,
        user: blocked.slice(1, 1 + userLength),
        kernel: blocked.slice(1 + userLength),
        count: 1,
      };
      if (oldOffCpu[id]) sample.offCpu = true;
      if (wakerLength > 0) sample.waker = path.slice(path.length - wakerLength);
      rebuilt.push(sample);
      keptIds.push(id);
    }

    this.clearStackTables();
    const newId = new Int32Array(stacks).fill(-1);
    for (let i = 0; i < rebuilt.length; i++) newId[keptIds[i]] = this.internSample(rebuilt[i]);
    for (let id = 0; id < stacks; id++) if (newId[id] < 0) newId[id] = this.foldedStack(oldIdle[id]);

    for (const interval of this.intervals) {
      for (let i = 0; i < interval.stackIds.length; i++) interval.stackIds[i] = newId[interval.stackIds[i]];
    }
    const remap = (counts: WindowCounts) => {
      const next = new Float64Array(Math.max(1024, this.stackIdle.length));
      const old = counts.counts;
      for (let id = 0; id < Math.min(stacks, old.length); id++) if (old[id] !== 0) next[newId[id]] += old[id];
      counts.counts = next;
      if (counts.events) {
        const nextEvents = new Float64Array(next.length);
        const oldEvents = counts.events;
        for (let id = 0; id < Math.min(stacks, oldEvents.length); id++) if (oldEvents[id] !== 0) nextEvents[newId[id]] += oldEvents[id];
        counts.events = nextEvents;
      }
    };
    for (const window of this.windows.values()) remap(window);
    remap(this.cumulative);

    this.known = null; // sender ids mapped to the old numbering
    this.version++;
    this.cache.clear();
    this.compactions++;
    let liveCount = 0;
    for (let id = 0; id < stacks; id++) liveCount += live[id];
    this.compactAt = Math.max(liveCount + this.maxColdStacks + 2, 2 * this.stackIdle.length);
  }

  /** The stack that holds folded older stacks' samples (created on first use). */
  private foldedStack(idle: number): number {
    const key = `folded,${idle}`;
    let id = this.stackIndex.get(key);
    if (id !== undefined) return id;
    id = this.stackIdle.length;
    this.stackIndex.set(key, id);
    this.stackIdle.push(idle);
    this.stackTid.push(0);
    this.stackUserLength.push(0);
    this.stackWakerLength.push(0);
    this.stackOffCpu.push(false);
    const frame = this.frames.id(FOLDED_NAME, 'x');
    for (const mode of MODES) this.stackLeaf.get(mode)!.push(this.tries.get(mode)!.leaf([frame]));
    this.addThreadLeaves(id);
    return id;
  }

  /**
   * Builds the flame graph for a view at time nowMs (ms since the epoch). The snapshot may be
   * shared with other callers asking for the same view before the next push: do not modify it.
   */
  build(view: ViewSettings, nowMs: number, options: BuildOptions = {}): ProfileSnapshot {
    let counts: WindowCounts;
    let startMs: number;
    let endMs: number;
    let intervals: number;
    if (view.window === 'all') {
      counts = this.cumulative;
      intervals = this.cumulativeIntervals;
      startMs = this.firstStartMs ?? nowMs;
      endMs = this.lastEndMs ?? nowMs;
    } else {
      counts = this.syncWindow(view.window, nowMs);
      const first = counts.from - this.base;
      intervals = this.intervals.length - first;
      if (intervals > 0) {
        startMs = this.intervals[first].startMs;
        endMs = this.intervals[first].endMs;
        for (let i = first; i < this.intervals.length; i++) {
          if (this.intervals[i].startMs < startMs) startMs = this.intervals[i].startMs;
          if (this.intervals[i].endMs > endMs) endMs = this.intervals[i].endMs;
        }
      } else {
        startMs = endMs = nowMs;
      }
    }
    // Several viewers with the same view between two pushes get the same snapshot.
    const key = [view.window, view.stackMode, view.hideIdle, view.perThread === true, options.maxNodes, options.minFraction, this.version, counts.from, startMs, endMs].join('|');
    const cached = options.reuse === false ? undefined : this.cache.get(key);
    if (cached) return cached;
    const built = this.buildTree(counts.counts, view, options, counts.events);
    const snapshot: ProfileSnapshot = {
      ...built,
      windowStartMs: startMs,
      windowEndMs: endMs,
      sampledAtMs: this.lastEndMs ?? nowMs,
      intervals,
      health: cloneHealth(counts.health),
    };
    if (this.cache.size >= 16) this.cache.clear();
    this.cache.set(key, snapshot);
    return snapshot;
  }

  /**
   * The sender's stack ids already mapped to this window's stack ids, for the table `refs`
   * indexes (a new table, or a reset() here, starts an empty map). With it, a stack seen before
   * costs one array read instead of a walk of its frames.
   */
  private knownStacks(refs: StackRefs): KnownStacks {
    if (this.known?.table !== refs.table) this.known = new KnownStacks(refs.table);
    return this.known;
  }

  /**
   * The stack id of a sample. Its identity is (idle, leaf of its path in the 'all' trie, length
   * of the user part): the path is walked once per sample with numeric map lookups, no strings.
   * The user-only and kernel-only paths are computed once, when the stack is first seen.
   */
  private internSample(sample: SymbolizedInterval['samples'][number]): number {
    const frames = this.frames;
    const trie = this.tries.get('all')!;
    let node: number;
    let userLength: number;
    const plain = !sample.offCpu && !sample.waker;
    // Plain samples: the 'all' path's frame ids (comm, user half or its lost marker, kernel half or its
    // lost marker: at most 3 + user + kernel), kept to walk the user and kernel tries without a second lookup per frame.
    let pathLength = 0;
    if (plain) {
      // the common case, without building arrays
      const path = (this.pathScratch = ensureLength(this.pathScratch, 3 + sample.user.length + sample.kernel.length));
      path[pathLength++] = frames.id(sample.comm, 'p');
      node = trie.child(0, path[0]);
      if (sample.userStackError) {
        node = trie.child(node, (path[pathLength++] = frames.id(lostStackName(sample.userStackError), 'x')));
        userLength = 1;
      } else {
        for (const frame of sample.user) node = trie.child(node, (path[pathLength++] = frames.id(frame.name, frame.kind, frame.module)));
        userLength = sample.user.length;
      }
      if (sample.kernelStackError) node = trie.child(node, (path[pathLength++] = frames.id(lostStackName(sample.kernelStackError), 'x')));
      else for (const frame of sample.kernel) node = trie.child(node, (path[pathLength++] = frames.id(frame.name, frame.kind, frame.module)));
    } else {
      userLength = sample.userStackError ? 1 : sample.user.length;
      node = trie.leaf(this.modePath(sample, 'all'));
    }
    const idle = sample.pid === 0 ? 1 : 0;
    const tid = sample.tid ?? 0;
    const key = userLength < SPLIT_LIMIT ? (node * 2 + idle) * SPLIT_LIMIT + userLength : `${node},${idle},${userLength}`;
    let index = this.stackIndex;
    if (tid !== 0) {
      index = this.threadStackIndex.get(tid)!;
      if (index === undefined) this.threadStackIndex.set(tid, (index = new Map()));
    }
    let id = index.get(key);
    if (id !== undefined) return id;
    id = this.stackIdle.length;
    index.set(key, id);
    this.stackIdle.push(idle);
    this.stackTid.push(tid);
    this.stackUserLength.push(userLength);
    this.stackWakerLength.push(sample.waker?.length ?? 0);
    this.stackOffCpu.push(sample.offCpu === true);
    this.stackLeaf.get('all')!.push(node);
    if (plain) {
      // user: comm and the user half; kernel: comm and the kernel half (modePath's paths for a plain sample).
      const path = this.pathScratch;
      const userTrie = this.tries.get('user')!;
      let userNode = 0;
      for (let i = 0; i < 1 + userLength; i++) userNode = userTrie.child(userNode, path[i]);
      const kernelTrie = this.tries.get('kernel')!;
      let kernelNode = kernelTrie.child(0, path[0]);
      for (let i = 1 + userLength; i < pathLength; i++) kernelNode = kernelTrie.child(kernelNode, path[i]);
      this.stackLeaf.get('user')!.push(userNode);
      this.stackLeaf.get('kernel')!.push(kernelNode);
    } else {
      this.stackLeaf.get('user')!.push(this.tries.get('user')!.leaf(this.modePath(sample, 'user')));
      this.stackLeaf.get('kernel')!.push(this.tries.get('kernel')!.leaf(this.modePath(sample, 'kernel')));
    }
    this.addThreadLeaves(id);
    return id;
  }

  /**
   * Frame ids of a sample's path in one stack mode: comm, the halves the mode shows (lost ones as
   * one `[lost stack: …]` frame), the off-CPU leaf mark, the waker tail (stack.ts samplePath's shape).
   */
  private modePath(sample: SymbolizedInterval['samples'][number], mode: StackMode): number[] {
    const frames = this.frames;
    const path: { name: string; kind: FrameKind; module?: FlameModule }[] = [{ name: sample.comm, kind: 'p' }];
    if (mode !== 'kernel') {
      if (sample.userStackError) path.push({ name: lostStackName(sample.userStackError), kind: 'x' });
      else path.push(...sample.user);
    }
    if (mode !== 'user') {
      if (sample.kernelStackError) path.push({ name: lostStackName(sample.kernelStackError), kind: 'x' });
      else path.push(...sample.kernel);
    }
    const blocked = sample.offCpu ? markOffCpu(path, (name, kind, like) => (like?.module === undefined ? { name, kind } : { name, kind, module: like.module })) : path;
    if (sample.waker) blocked.push(...sample.waker);
    return blocked.map((frame) => frames.id(frame.name, frame.kind, frame.module));
  }

  /** The per-thread tries, built from every stack on first use. */
  private ensureThreadTries(): Map<StackMode, FrameTrie> {
    if (this.threadTries) return this.threadTries;
    this.threadTries = new Map(MODES.map((mode) => [mode, new FrameTrie()]));
    this.threadLeaf = new Map(MODES.map((mode) => [mode, [] as number[]]));
    for (let id = 0; id < this.stackIdle.length; id++) this.addThreadLeaves(id);
    return this.threadTries;
  }

  /**
   * Puts stack `id` into the per-thread tries (when they exist): its merged path with the root
   * frame `comm` replaced by `comm-tid` (unchanged without a tid, e.g. `[earlier stacks]`).
   */
  private addThreadLeaves(id: number): void {
    const tries = this.threadTries;
    if (!tries) return;
    const tid = this.stackTid[id];
    for (const mode of MODES) {
      const merged = this.tries.get(mode)!;
      const path: number[] = [];
      for (let node = this.stackLeaf.get(mode)![id]; node > 0; node = merged.parent[node]) path.push(merged.frame[node]);
      path.reverse();
      if (tid !== 0 && path.length > 0) path[0] = this.frames.id(threadName(this.frames.entry(path[0]).n, tid), 'p');
      this.threadLeaf.get(mode)!.push(tries.get(mode)!.leaf(path));
    }
  }

  /** Drops kept intervals whose endMs <= cutoff, taking them out of the windows first. */
  private expire(cutoffMs: number): void {
    let drop = 0;
    while (drop < this.intervals.length - 1 && this.intervals[drop].endMs <= cutoffMs) drop++;
    if (drop === 0) return;
    const newBase = this.base + drop;
    for (const window of this.windows.values()) {
      while (window.from < newBase) window.apply(this.intervals[window.from++ - this.base], -1);
    }
    this.intervals.splice(0, drop);
    this.base = newBase;
  }

  /** Moves a window's first interval so that it holds exactly the intervals ending after nowMs - length. */
  private syncWindow(window: Exclude<TimeWindow, 'all'>, nowMs: number): WindowCounts {
    const counts = this.windows.get(window)!;
    const cutoff = nowMs - WINDOW_MS[window];
    let target = this.base;
    while (target - this.base < this.intervals.length && this.intervals[target - this.base].endMs <= cutoff) target++;
    while (counts.from < target) counts.apply(this.intervals[counts.from++ - this.base], -1);
    while (counts.from > target) counts.apply(this.intervals[--counts.from - this.base], 1);
    return counts;
  }

  private buildTree(
    stackCounts: Float64Array,
    view: ViewSettings,
    options: BuildOptions,
    stackEvents: Float64Array | null = null,
  ): { tree: FlameNode; totalSamples: number; prunedSamples: number; nodeCount: number } {
    const trie = view.perThread ? this.ensureThreadTries().get(view.stackMode)! : this.tries.get(view.stackMode)!;
    const leaves = view.perThread ? this.threadLeaf.get(view.stackMode)! : this.stackLeaf.get(view.stackMode)!;
    const size = trie.size;
    const total = new Float64Array(size);
    const stacks = this.stackIdle.length;
    for (let s = 0; s < stacks; s++) {
      const count = stackCounts[s];
      if (count > 0 && !(view.hideIdle && this.stackIdle[s] === 1)) total[leaves[s]] += count;
    }
    const parent = trie.parent;
    for (let id = size - 1; id > 0; id--) if (total[id] !== 0) total[parent[id]] += total[id];
    // Blocking events (off-CPU), summed the same way: FlameNode.e.
    let events: Float64Array | null = null;
    if (stackEvents) {
      events = new Float64Array(size);
      for (let s = 0; s < Math.min(stacks, stackEvents.length); s++) {
        if (stackEvents[s] > 0 && stackCounts[s] > 0 && !(view.hideIdle && this.stackIdle[s] === 1)) events[leaves[s]] += stackEvents[s];
      }
      for (let id = size - 1; id > 0; id--) if (events[id] !== 0) events[parent[id]] += events[id];
    }

    const totalSamples = total[0];
    const threshold = pruneThreshold(total, parent, trie.firstChild, trie.nextSibling, options);
    let prunedSamples = 0;
    let nodeCount = 0;
    // The tree's own binary table: only binaries of nodes it holds, numbered as first met.
    const modules: FlameModule[] = [];
    const moduleIndex = new Map<FlameModule, number>();
    const bySiblingOrder = (a: number, b: number): number =>
      compareEntries(this.frames.entry(trie.frame[a]), this.frames.entry(trie.frame[b])) || a - b;
    const make = (id: number): FlameNode => {
      nodeCount++;
      const entry = id === 0 ? undefined : this.frames.entry(trie.frame[id]);
      const node: FlameNode = entry ? { n: entry.n, v: total[id], k: entry.k } : { n: 'all', v: total[id] };
      if (events && events[id] > 0) node.e = Math.round(events[id]);
      if (entry?.m !== undefined) {
        let m = moduleIndex.get(entry.m);
        if (m === undefined) {
          m = modules.length;
          moduleIndex.set(entry.m, m);
          modules.push(entry.m);
        }
        node.m = m;
      }
      let kids: FlameNode[] | undefined;
      let keptIds: number[] | undefined;
      let pruned = 0;
      let prunedEvents = 0;
      for (let child = trie.firstChild[id]; child !== 0; child = trie.nextSibling[child]) {
        const value = total[child];
        if (value <= 0) continue;
        if (value >= threshold) (keptIds ??= []).push(child);
        else {
          pruned += value;
          if (events) prunedEvents += events[child];
        }
      }
      if (keptIds) {
        // Children by (name, kind, binary): the trie links them in no order.
        if (keptIds.length > 1) keptIds.sort(bySiblingOrder);
        kids = keptIds.map(make);
      }
      if (pruned > 0) {
        nodeCount++;
        prunedSamples += pruned;
        const prunedNode: FlameNode = { n: PRUNED_NAME, v: pruned, k: 'x' };
        if (prunedEvents > 0) prunedNode.e = Math.round(prunedEvents);
        kids ??= [];
        let at = 0;
        while (at < kids.length && compareFrames(kids[at], prunedNode) < 0) at++;
        kids.splice(at, 0, prunedNode);
      }
      if (kids) node.c = kids;
      return node;
    };
    const tree = make(0);
    if (modules.length > 0) tree.modules = modules;
    return { tree, totalSamples, prunedSamples, nodeCount };
  }
}

/** `array` if it holds `length` entries, else a bigger one (contents not kept). */
function ensureLength(array: Int32Array, length: number): Int32Array {
  return array.length >= length ? array : new Int32Array(Math.max(length, array.length * 2));
}

/**
 * The smallest sample count a node needs to be kept: at least minFraction of the total, and
 * high enough that kept nodes plus one `[pruned]` node per parent that loses children fit in
 * maxNodes. Because a node is never wider than its parent, "value >= t" keeps a connected tree.
 */
export function pruneThreshold(
  total: Float64Array,
  parent: Int32Array,
  firstChild: Int32Array,
  nextSibling: Int32Array,
  options: BuildOptions,
): number {
  const size = total.length;
  const maxNodes = Math.max(2, options.maxNodes ?? DEFAULT_MAX_NODES);
  const minFraction = Math.max(0, options.minFraction ?? 0);
  const floor = minFraction * total[0];
  // Fast path: count what the floor alone keeps (one pass).
  const mark = new Uint8Array(size);
  let nodes = 1;
  for (let id = 1; id < size; id++) {
    const value = total[id];
    if (value <= 0) continue;
    if (value >= floor) nodes++;
    else {
      const p = parent[id];
      if ((p === 0 || total[p] >= floor) && mark[p] === 0) {
        mark[p] = 1;
        nodes++;
      }
    }
  }
  if (!Number.isFinite(maxNodes) || nodes <= maxNodes) return floor;

  // Best first: take nodes widest first (a node only after its parent); after each run of equal
  // values, check the budget: kept nodes + one [pruned] per kept node that still has nonzero
  // children left out. Only ~maxNodes nodes and their children are touched.
  const pending = new Int32Array(size); // nonzero children not (yet) kept, per kept node
  const heap = new MaxHeap(total);
  const admit = (id: number): number => {
    let left = 0;
    for (let child = firstChild[id]; child !== 0; child = nextSibling[child]) {
      const value = total[child];
      if (value <= 0) continue;
      left++;
      if (value >= floor) heap.push(child);
    }
    pending[id] = left;
    return left > 0 ? 1 : 0;
  };
  let kept = 1;
  let prunedNodes = admit(0);
  let best = Infinity;
  let last = Infinity;
  while (heap.size > 0) {
    const top = heap.peek();
    if (total[top] < last) {
      if (kept + prunedNodes > maxNodes) return best;
      best = last;
      last = total[top];
    }
    heap.pop();
    kept++;
    const p = parent[top];
    if (--pending[p] === 0) prunedNodes--;
    prunedNodes += admit(top);
  }
  return kept + prunedNodes <= maxNodes ? floor : best;
}

/** A binary max-heap of node ids ordered by value (ties: smaller id first). */
class MaxHeap {
  private ids: number[] = [];
  constructor(private value: Float64Array) {}
  get size(): number {
    return this.ids.length;
  }
  peek(): number {
    return this.ids[0];
  }
  private above(a: number, b: number): boolean {
    const va = this.value[a];
    const vb = this.value[b];
    return va > vb || (va === vb && a < b);
  }
  push(id: number): void {
    const ids = this.ids;
    let i = ids.length;
    ids.push(id);
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (!this.above(id, ids[up])) break;
      ids[i] = ids[up];
      i = up;
    }
    ids[i] = id;
  }
  pop(): number {
    const ids = this.ids;
    const top = ids[0];
    const last = ids.pop()!;
    if (ids.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= ids.length) break;
        const r = l + 1;
        const c = r < ids.length && this.above(ids[r], ids[l]) ? r : l;
        if (!this.above(ids[c], last)) break;
        ids[i] = ids[c];
        i = c;
      }
      ids[i] = last;
    }
    return top;
  }
}

function cloneHealth(health: ProfileHealth): ProfileHealth {
  return addHealth(emptyHealth(), health);
}
