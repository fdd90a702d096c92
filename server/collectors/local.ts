/**
 * LocalCollectorChannel: the in-process CollectorChannel. Wraps a ProfileCollector and a
 * Symbolizer; commands in, plain-data messages (symbolized intervals) out. The collector
 * process (server/privileged) runs one per profile handle; the CLI runs one directly.
 */
import type { CollectorChannel, CollectorCommand, CollectorMessage, ProfileBatch, RawStackSample } from './types.ts';
import { ProfileCollector, validateProfileRequest, type ProfileCollectorOptions } from './profile.ts';
import { OffCpuCollector, OffCpuInputError, offCpuSettingsError } from './offcpu.ts';
import type { SymbolizedInterval, SymbolizedSample } from '../symbolizer/types.ts';
import { wakerTail } from '../symbolizer/stack-frames.ts';
import { Symbolizer } from '../symbolizer/index.ts';
import { onlineCpus } from '../libbpf/perf-event.ts';
import { DEFAULT_OFFCPU_SETTINGS, type OffCpuSettings, type ProfileTarget, type ProfileType } from '../../lib/protocol.ts';

export interface LocalCollectorOptions {
  /** Compiled profile object (default: bpf/obj/profile.bpf.o). */
  profileObjectPath?: string;
  /** Names the addresses (default: a new Symbolizer; share one to share its caches). */
  symbolizer?: Symbolizer;
}

/**
 * Names every address of a batch. Stacks come leaf first from the kernel; trees want root first.
 * `markOffCpu` (wall profiles): off-CPU samples keep their `offCpu` flag, so their leaf is drawn
 * as off-CPU time; in an off-CPU-only profile every sample is, and nothing needs marking.
 */
export function symbolizeBatch(batch: ProfileBatch, symbolizer: Symbolizer, options: { markOffCpu?: boolean } = {}): SymbolizedInterval {
  const unknownBefore = symbolizer.unknownFrames;
  // One batch: new mangled names of all its samples are demangled together at its end.
  const samples: SymbolizedSample[] = symbolizer.batch(() => batch.samples.map((sample) => {
    const symbolized: SymbolizedSample = {
      pid: sample.pid,
      tid: sample.tid,
      comm: sample.comm,
      user: symbolizer.symbolizeUser(sample.pid, sample.comm, sample.userStack).reverse(),
      kernel: symbolizer.symbolizeKernel(sample.kernelStack).reverse(),
      userStackError: sample.userStackError,
      kernelStackError: sample.kernelStackError,
      count: sample.count,
    };
    if (options.markOffCpu && sample.offCpu) symbolized.offCpu = true;
    if (sample.events !== undefined) symbolized.events = sample.events;
    if (sample.waker) {
      const w = sample.waker;
      symbolized.waker = wakerTail({
        comm: w.comm,
        user: symbolizer.symbolizeUser(w.pid, w.comm, w.userStack).reverse(),
        kernel: symbolizer.symbolizeKernel(w.kernelStack).reverse(),
        userStackError: w.userStackError,
        kernelStackError: w.kernelStackError,
      });
    }
    return symbolized;
  }));
  return {
    startMs: batch.startMs,
    endMs: batch.endMs,
    samples,
    droppedSamples: batch.droppedSamples,
    unknownFrames: symbolizer.unknownFrames - unknownBefore,
  };
}

export class LocalCollectorChannel implements CollectorChannel {
  readonly #listeners = new Set<(message: CollectorMessage) => void>();
  readonly #profile: ProfileCollector;
  readonly #symbolizer: Symbolizer;
  /** What runs: cpu (the ProfileCollector), offcpu (#offCpu on its own timer), wall (both, read together). */
  #type: ProfileType = 'cpu';
  #offCpu: OffCpuCollector | null = null;
  #offCpuTimer: NodeJS.Timeout | null = null;
  #offCpuHz = 0;
  #closed = false;
  /** Commands run one at a time, in order. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: LocalCollectorOptions = {}) {
    const symbolizer = (this.#symbolizer = options.symbolizer ?? new Symbolizer());
    const profileOptions: ProfileCollectorOptions = {
      objectPath: options.profileObjectPath,
      // Symbolized as batches arrive, while the sampled processes are most likely still alive.
      onBatch: (batch) => {
        if (this.#type === 'wall') this.#emitWall(batch);
        else this.#emit({ type: 'profile.interval', interval: symbolizeBatch(batch, symbolizer), hz: batch.hz, cpus: batch.cpus });
      },
      onError: (error) => {
        this.#stopOffCpu();
        this.#emit({ type: 'profile.stopped', reason: error.message });
      },
    };
    this.#profile = new ProfileCollector(profileOptions);
  }

  /** Wall: the interval's on-CPU samples, weighed in µs (one sample period each), with the off-CPU time read now. */
  #emitWall(batch: ProfileBatch): void {
    const periodUs = 1e6 / batch.hz;
    const onCpu: RawStackSample[] = batch.samples.map((sample) => ({ ...sample, count: Math.round(sample.count * periodUs) }));
    let offCpu: RawStackSample[] = [];
    let dropped = 0;
    try {
      const read = this.#offCpu?.read(batch.endMs);
      if (read) {
        offCpu = read.samples;
        dropped = read.dropped;
      }
    } catch (error) {
      this.#emit({ type: 'profile.stopped', reason: `reading off-CPU time failed: ${(error as Error).message}` });
      void this.#stopAll();
      return;
    }
    const merged: ProfileBatch = { ...batch, samples: [...onCpu, ...offCpu], droppedSamples: batch.droppedSamples + dropped };
    this.#emit({ type: 'profile.interval', interval: symbolizeBatch(merged, this.#symbolizer, { markOffCpu: true }), hz: batch.hz, cpus: batch.cpus });
  }

  /** Off-CPU alone: one batch of blocked time per interval. */
  #emitOffCpu(): void {
    const collector = this.#offCpu;
    if (!collector) return;
    try {
      const read = collector.read();
      const batch: ProfileBatch = { startMs: read.startMs, endMs: read.endMs, hz: this.#offCpuHz, cpus: onlineCpus().length, samples: read.samples, droppedSamples: read.dropped };
      this.#emit({ type: 'profile.interval', interval: symbolizeBatch(batch, this.#symbolizer), hz: batch.hz, cpus: batch.cpus });
    } catch (error) {
      this.#stopOffCpu();
      this.#emit({ type: 'profile.stopped', reason: `reading off-CPU time failed: ${(error as Error).message}` });
    }
  }

  #stopOffCpu(): void {
    if (this.#offCpuTimer) clearInterval(this.#offCpuTimer);
    this.#offCpuTimer = null;
    this.#offCpu?.close();
    this.#offCpu = null;
  }

  get #running(): boolean {
    return this.#profile.running || this.#offCpu !== null;
  }

  /** Stops whatever runs; the last partial interval is emitted first (flush). */
  async #stopAll(): Promise<void> {
    if (this.#type === 'offcpu' && this.#offCpu) this.#emitOffCpu();
    // wall: the profile's flush reads the off-CPU tail with it
    if (this.#profile.running) await this.#profile.stop();
    this.#stopOffCpu();
  }

  /** Starts `type` (nothing runs when called). Throws a user-facing Error; nothing stays attached then. */
  #start(type: ProfileType, hz: number, target: ProfileTarget, intervalMs: number, settings: OffCpuSettings): { cpus: number; offCpuVia?: string } {
    this.#type = type;
    if (type === 'cpu') return { cpus: this.#profile.start(hz, target, intervalMs).cpus };
    if (type === 'wall' && target.kind === 'all') {
      throw new OffCpuInputError('a wall profile needs a target: a pid or a command name (on- and off-CPU time of the whole machine add up to CPUs x threads, not to a timeline)');
    }
    const offCpu = OffCpuCollector.open(target, settings);
    this.#offCpu = offCpu;
    if (type === 'offcpu') {
      this.#offCpuHz = hz;
      this.#offCpuTimer = setInterval(() => this.#emitOffCpu(), intervalMs);
      return { cpus: onlineCpus().length, offCpuVia: offCpu.attachedVia };
    }
    try {
      return { cpus: this.#profile.start(hz, target, intervalMs).cpus, offCpuVia: offCpu.attachedVia };
    } catch (error) {
      this.#stopOffCpu();
      throw error;
    }
  }

  /**
   * profile.start: starts sampling, or restarts with the new settings if already running
   * (emits profile.stopped then profile.started). profile.stop: stops (emits profile.stopped if
   * it was running). Rejects with a user-facing Error; a failed start leaves the profiler stopped.
   */
  request(command: CollectorCommand): Promise<void> {
    const run = this.#queue.then(() => this.#run(command));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #run(command: CollectorCommand): Promise<void> {
    if (this.#closed) throw new Error('the collector is closed');
    switch (command.type) {
      case 'profile.start': {
        // A bad request must not stop what is running.
        validateProfileRequest(command.hz, command.target, command.intervalMs ?? 1000);
        const type = command.profileType ?? 'cpu';
        const settings = command.offcpu ?? DEFAULT_OFFCPU_SETTINGS;
        if (type !== 'cpu') {
          const bad = offCpuSettingsError(settings);
          if (bad) throw new OffCpuInputError(bad);
        }
        if (this.#running) {
          await this.#stopAll();
          this.#emit({ type: 'profile.stopped', reason: 'restarting with new settings' });
        }
        const info = this.#start(type, command.hz, command.target, command.intervalMs ?? 1000, settings);
        this.#emit({
          type: 'profile.started',
          cpus: info.cpus,
          hz: command.hz,
          target: command.target,
          ...(type !== 'cpu' && { profileType: type }),
          ...(info.offCpuVia !== undefined && { offCpuVia: info.offCpuVia }),
        });
        return;
      }
      case 'profile.stop': {
        if (!this.#running) return;
        await this.#stopAll();
        this.#emit({ type: 'profile.stopped' });
        return;
      }
      default: {
        const unknown: never = command;
        throw new Error(`unknown collector command ${JSON.stringify(unknown)}`);
      }
    }
  }

  onMessage(listener: (message: CollectorMessage) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(message: CollectorMessage): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(message);
      } catch (error) {
        // A faulty listener must not stop the collector or the other listeners.
        process.emitWarning(`collector listener threw: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#queue;
    this.#closed = true;
    if (this.#running) {
      await this.#stopAll();
      this.#emit({ type: 'profile.stopped', reason: 'collector closed' });
    }
    this.#listeners.clear();
  }
}
