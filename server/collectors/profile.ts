/**
 * ProfileCollector: the whole-machine CPU profiler. Loads bpf/obj/profile.bpf.o, attaches it to
 * a cpu-clock perf event on every online CPU, and once per interval flips the double buffer,
 * reads the inactive half (counts + stacks), clears it and emits one ProfileBatch of raw
 * addresses and counts. Knows BPF only through server/libbpf and the layout in server/abi.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { MAX_COMM_LEN, MAX_HZ, MIN_HZ, type ProfileTarget } from '../../lib/protocol.ts';
import { BpfObject, type BpfMap } from '../libbpf/object.ts';
import { PerfEvent, onlineCpus } from '../libbpf/perf-event.ts';
import { probeFeature } from '../libbpf/features.ts';
import {
  PB_STAT, PB_STAT_MAX, decodeStack, decodeStackKey, encodeControl, resolveStack, sumPerCpuU64,
} from '../abi/profile.ts';
import type { ProfileBatch, RawStackSample } from './types.ts';

/** Default location of the compiled program. */
export const PROFILE_OBJECT_PATH = fileURLToPath(new URL('../../bpf/obj/profile.bpf.o', import.meta.url));

/**
 * Time between flipping the buffer and reading the old half, in ms: lets a BPF program that
 * picked the old buffer just before the flip (it runs for microseconds) finish its update.
 */
const FLIP_GRACE_MS = 2;

export interface ProfileCollectorOptions {
  /** Called with every batch (once per interval, and once more with the tail on stop). */
  onBatch: (batch: ProfileBatch) => void;
  /** Called when a periodic read fails; the collector has stopped itself by then. */
  onError?: (error: Error) => void;
  /** Compiled object to load (default PROFILE_OBJECT_PATH). */
  objectPath?: string;
}

/** What `start` settled on. */
export interface ProfileStartInfo {
  /** CPUs with an attached perf event. */
  cpus: number;
  hz: number;
  target: ProfileTarget;
  intervalMs: number;
  /** Whether samples carry their thread id (RawStackSample.tid), see ProfileStartOptions. */
  keyByTid: boolean;
}

/** Less common start settings. */
export interface ProfileStartOptions {
  /**
   * Count each thread apart: samples carry their tid, so a per-thread view (`comm-tid` roots)
   * can be drawn from the same sampling as the merged one. Default true: per-thread is a view
   * setting, and sampling must not restart when a viewer flips it. The extra counts-map keys
   * are bounded by the samples of one interval (hz x CPUs per second), and stacks themselves
   * are still stored once (the stack map dedups by content). false: tid 0, one key per process.
   */
  keyByTid?: boolean;
}

/**
 * Checks a profiling request; throws an Error with a user-facing message.
 * pid: must be a live process id (tgid) — checked against /proc; comm: 1..15 bytes.
 */
export function validateProfileRequest(hz: number, target: ProfileTarget, intervalMs: number): void {
  if (!Number.isInteger(hz) || hz < MIN_HZ || hz > MAX_HZ) {
    throw new Error(`sample rate must be a whole number of Hz between ${MIN_HZ} and ${MAX_HZ}, got ${hz}`);
  }
  if (!Number.isFinite(intervalMs) || intervalMs < 10) throw new Error(`read interval must be at least 10 ms, got ${intervalMs}`);
  if (target.kind === 'pid') {
    if (!Number.isInteger(target.pid) || target.pid <= 0) throw new Error(`pid must be a positive integer, got ${target.pid}`);
    if (!existsSync(`/proc/${target.pid}`)) throw new Error(`no process with pid ${target.pid} (nothing at /proc/${target.pid})`);
    const tgid = readTgid(target.pid);
    if (tgid !== null && tgid !== target.pid) {
      throw new Error(`pid ${target.pid} is a thread of process ${tgid}: profile pid ${tgid} instead`);
    }
  } else if (target.kind === 'comm') {
    const bytes = Buffer.byteLength(target.comm, 'utf8');
    if (bytes === 0) throw new Error('command name must not be empty');
    if (bytes > MAX_COMM_LEN) {
      throw new Error(`command name "${target.comm}" is longer than ${MAX_COMM_LEN} bytes; the kernel keeps only the first ${MAX_COMM_LEN} ("${Buffer.from(target.comm).subarray(0, MAX_COMM_LEN).toString()}")`);
    }
  }
}

function readTgid(pid: number): number | null {
  try {
    const match = /^Tgid:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

interface Running {
  object: BpfObject;
  info: ProfileStartInfo;
  counts: [BpfMap, BpfMap];
  stacks: [BpfMap, BpfMap];
  control: BpfMap;
  stats: BpfMap;
  active: 0 | 1;
  intervalStartMs: number;
  lastStats: number[];
  timer: NodeJS.Timeout;
  /** The read in progress, if any (reads never overlap). */
  reading: Promise<void> | null;
}

export class ProfileCollector {
  readonly #options: ProfileCollectorOptions;
  #running: Running | null = null;

  constructor(options: ProfileCollectorOptions) {
    this.#options = options;
  }

  get running(): boolean {
    return this.#running !== null;
  }

  /** Settings in effect, or null when stopped. */
  get info(): ProfileStartInfo | null {
    return this.#running?.info ?? null;
  }

  /**
   * Loads and attaches the profiler. `hz`: samples per second per CPU; `intervalMs`: how often a
   * batch is read and emitted. Throws (with everything released) when the request is invalid or
   * the kernel refuses; throws if already running (stop first).
   */
  start(hz: number, target: ProfileTarget, intervalMs = 1000, options: ProfileStartOptions = {}): ProfileStartInfo {
    const keyByTid = options.keyByTid ?? true;
    if (this.#running) throw new Error('the profiler is already running');
    validateProfileRequest(hz, target, intervalMs);
    for (const feature of ['privileges', 'btf'] as const) {
      const result = probeFeature(feature);
      if (!result.available) throw new Error(`cannot profile: ${result.notSupported.reason}`);
    }
    const object = BpfObject.open(this.#options.objectPath ?? PROFILE_OBJECT_PATH);
    try {
      object.setRodata({
        targ_pid: target.kind === 'pid' ? target.pid : 0,
        filter_pid: target.kind === 'pid',
        targ_comm: target.kind === 'comm' ? target.comm : '',
        filter_comm: target.kind === 'comm',
        key_by_tid: keyByTid,
      });
      object.load();
      const program = object.program('pb_profile');
      const cpus = onlineCpus();
      for (const cpu of cpus) {
        const event = PerfEvent.openCpuClock(cpu, hz);
        try {
          program.attachPerfEvent(event);
        } finally {
          event.close(); // no-op once the link owns it
        }
      }
      const info: ProfileStartInfo = { cpus: cpus.length, hz, target, intervalMs, keyByTid };
      const running: Running = {
        object,
        info,
        counts: [object.map('pb_counts0'), object.map('pb_counts1')],
        stacks: [object.map('pb_stacks0'), object.map('pb_stacks1')],
        control: object.map('pb_control'),
        stats: object.map('pb_stats'),
        active: 0,
        intervalStartMs: Date.now(),
        lastStats: new Array<number>(PB_STAT_MAX).fill(0),
        timer: setInterval(() => this.#tick(), intervalMs),
        reading: null,
      };
      this.#running = running;
      return info;
    } catch (error) {
      object.close();
      throw error;
    }
  }

  #tick(): void {
    const running = this.#running;
    if (!running || running.reading) return;
    running.reading = this.#readInterval(running)
      .then((batch) => {
        if (this.#running === running) this.#deliver(batch);
      })
      .catch((error: unknown) => {
        if (this.#running !== running) return;
        this.#shutdown(running);
        const err = error instanceof Error ? error : new Error(String(error));
        err.message = `reading profile samples failed: ${err.message}`;
        this.#options.onError?.(err);
      })
      .finally(() => {
        running.reading = null;
      });
  }

  /** Flips the buffer, waits out in-flight programs, reads and clears the old half. */
  async #readInterval(running: Running): Promise<ProfileBatch> {
    const old = running.active;
    running.active = old === 0 ? 1 : 0;
    running.control.update(Buffer.alloc(4), encodeControl(running.active));
    const endMs = Date.now();
    const startMs = running.intervalStartMs;
    running.intervalStartMs = endMs;
    await sleep(FLIP_GRACE_MS);
    return readBuffer(running, old, startMs, endMs);
  }

  /**
   * Detaches and closes everything. Before that, reads the samples of the unfinished interval
   * and emits them as a last batch (when `flush` is true, the default). Idempotent.
   */
  async stop(flush = true): Promise<void> {
    const running = this.#running;
    if (!running) return;
    clearInterval(running.timer);
    if (running.reading) await running.reading;
    if (this.#running !== running) return;
    let tail: ProfileBatch | null = null;
    if (flush) {
      try {
        tail = await this.#readInterval(running);
      } catch {
        tail = null; // best effort: stopping must not fail
      }
    }
    this.#shutdown(running);
    if (tail && tail.samples.length + tail.droppedSamples > 0) this.#deliver(tail);
  }

  /** A throwing listener must not stop sampling. */
  #deliver(batch: ProfileBatch): void {
    try {
      this.#options.onBatch(batch);
    } catch (error) {
      process.emitWarning(`profile batch listener threw: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  #shutdown(running: Running): void {
    clearInterval(running.timer);
    if (this.#running === running) this.#running = null;
    running.object.close();
  }
}

function readStats(stats: BpfMap): number[] {
  const values: number[] = [];
  const key = Buffer.alloc(4);
  for (let index = 0; index < PB_STAT_MAX; index++) {
    key.writeUInt32LE(index, 0);
    const value = stats.lookup(key);
    values.push(value ? sumPerCpuU64(value) : 0);
  }
  return values;
}

/** Reads and clears buffer `index`: counts (batch), the stacks they name, then the rest of the stack map. */
function readBuffer(running: Running, index: 0 | 1, startMs: number, endMs: number): ProfileBatch {
  const counts = running.counts[index].drain();
  const stackMap = running.stacks[index];
  const stackCache = new Map<number, bigint[] | null>();
  const stack = (id: number): bigint[] | null => {
    let frames = stackCache.get(id);
    if (frames === undefined) {
      const key = Buffer.alloc(4);
      key.writeUInt32LE(id, 0);
      const value = stackMap.lookup(key);
      frames = value ? decodeStack(value) : null;
      stackCache.set(id, frames);
    }
    return frames;
  };

  const samples: RawStackSample[] = [];
  for (let i = 0; i < counts.keys.length; i++) {
    const key = decodeStackKey(counts.keys[i]);
    const count = Number(counts.values[i].readBigUInt64LE(0));
    if (count === 0) continue; // inserted, never incremented (the sample was still in flight)
    const user = resolveStack(key.userStackId, stack);
    const kernel = resolveStack(key.kernelStackId, stack);
    const sample: RawStackSample = { pid: key.pid, tid: key.tid, comm: key.comm, userStack: user.frames, kernelStack: kernel.frames, count };
    if (user.error) sample.userStackError = user.error;
    if (kernel.error) sample.kernelStackError = kernel.error;
    samples.push(sample);
  }

  // Clear the stack map (stacks of dropped samples included) so ids do not pile up.
  for (const key of stackMap.keys()) stackMap.delete(key);

  const stats = readStats(running.stats);
  const droppedSamples = stats[PB_STAT.DROPPED] - running.lastStats[PB_STAT.DROPPED];
  running.lastStats = stats;
  return { startMs, endMs, hz: running.info.hz, cpus: running.info.cpus, samples, droppedSamples };
}
