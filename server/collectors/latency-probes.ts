/**
 * LatencyProbeSet: the live latency probes of a server, each its own LatencyCollector (own
 * BPF object), read together on one timer (1 s default). Adding a bad probe returns its
 * error and changes nothing else; a probe whose read fails is closed and reported while the
 * others keep running; removing a probe detaches its BPF programs at once.
 * Emits each probe's interval as read (a LatencyBatch): folding intervals into what the
 * dashboard draws (heatmap columns, totals: server/aggregator/latency.ts) happens in the web
 * process, as profile aggregation does, so the root process keeps no per-viewer state and the
 * IPC channel carries one interval per probe and read, not the whole heatmap.
 */
import { MAX_LATENCY_PROBES } from '../../lib/protocol-latency.ts';
import { LatencyCollector, LatencyError, type LatencyBatch, type LatencyErrorKind, type LatencyOptions } from './latency.ts';

/** One probe's newest interval. */
export interface LatencyReading {
  id: string;
  batch: LatencyBatch;
}

export interface LatencyProbeFilters {
  pid?: number;
  comm?: string;
  keyByPid?: boolean;
  keyByComm?: boolean;
  /** Linear parts per log2 bucket (1..16; default 8). */
  subBuckets?: number;
}

export type AddProbeResult = { ok: true; id: string; spec: string } | { ok: false; error: string; kind: LatencyErrorKind };

export interface LatencyProbeSetOptions {
  intervalMs?: number;
  /** Most probes live at once (default MAX_LATENCY_PROBES, 16). */
  maxProbes?: number;
  /** Opens a collector (tests substitute it). */
  open?: (spec: string, options: LatencyOptions) => LatencyCollector;
}

interface Live {
  collector: LatencyCollector;
  filters: LatencyProbeFilters;
}

export class LatencyProbeSet {
  readonly #probes = new Map<string, Live>();
  readonly #readingListeners = new Set<(reading: LatencyReading) => void>();
  readonly #endListeners = new Set<(id: string, reason: string) => void>();
  readonly #intervalMs: number;
  readonly #max: number;
  readonly #open: (spec: string, options: LatencyOptions) => LatencyCollector;
  #timer: NodeJS.Timeout | null = null;
  #next = 1;

  constructor(options: LatencyProbeSetOptions = {}) {
    this.#intervalMs = options.intervalMs ?? 1000;
    this.#max = options.maxProbes ?? MAX_LATENCY_PROBES;
    this.#open = options.open ?? ((spec, o) => LatencyCollector.open(spec, o));
  }

  /** Most probes live at once. */
  get maxProbes(): number {
    return this.#max;
  }

  /** Adds a probe; on failure nothing changes and the error says what the user must fix. */
  add(spec: string, filters: LatencyProbeFilters = {}): AddProbeResult {
    if (this.#probes.size >= this.#max) return { ok: false, error: `at most ${this.#max} latency probes at once: remove one first`, kind: 'input' };
    let collector: LatencyCollector;
    try {
      collector = this.#open(spec, { ...filters });
    } catch (e) {
      if (e instanceof LatencyError) return { ok: false, error: e.message, kind: e.kind };
      return { ok: false, error: (e as Error).message, kind: 'kernel' };
    }
    const id = `lat-${this.#next++}`;
    this.#probes.set(id, { collector, filters });
    this.#ensureTimer();
    return { ok: true, id, spec: collector.probe };
  }

  /** Detaches and forgets a probe at once; false when unknown. */
  remove(id: string): boolean {
    const live = this.#probes.get(id);
    if (!live) return false;
    this.#probes.delete(id);
    live.collector.close();
    if (this.#probes.size === 0) this.#stopTimer();
    return true;
  }

  /** Ids and specs of the live probes. */
  list(): { id: string; spec: string; filters: LatencyProbeFilters }[] {
    return [...this.#probes].map(([id, l]) => ({ id, spec: l.collector.probe, filters: l.filters }));
  }

  /** Called with each probe's interval after every read. Returns the unsubscribe function. */
  onReading(listener: (reading: LatencyReading) => void): () => void {
    this.#readingListeners.add(listener);
    return () => this.#readingListeners.delete(listener);
  }

  /** Called when a probe ends by itself (its read failed). */
  onEnd(listener: (id: string, reason: string) => void): () => void {
    this.#endListeners.add(listener);
    return () => this.#endListeners.delete(listener);
  }

  /** Reads every probe now (the timer calls this). */
  tick(nowMs: number = Date.now()): void {
    for (const [id, live] of [...this.#probes]) {
      let batch: LatencyBatch;
      try {
        batch = live.collector.read(nowMs);
      } catch (e) {
        this.remove(id);
        for (const l of this.#endListeners) l(id, `${live.collector.probe}: reading failed: ${(e as Error).message}`);
        continue;
      }
      for (const l of this.#readingListeners) l({ id, batch });
    }
  }

  #ensureTimer(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.tick(), this.#intervalMs);
    this.#timer.unref?.();
  }

  #stopTimer(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Closes every probe. Idempotent. */
  close(): void {
    this.#stopTimer();
    for (const id of [...this.#probes.keys()]) this.remove(id);
  }
}
