/**
 * LocalCollectorChannel: the in-process CollectorChannel. Wraps a ProfileCollector and a
 * Symbolizer; commands in, plain-data messages (symbolized intervals) out. The collector
 * process (server/privileged) runs one per profile handle; the CLI runs one directly.
 */
import type { CollectorChannel, CollectorCommand, CollectorMessage, ProfileBatch } from './types.ts';
import { ProfileCollector, validateProfileRequest, type ProfileCollectorOptions } from './profile.ts';
import type { SymbolizedInterval, SymbolizedSample } from '../aggregator/types.ts';
import { Symbolizer } from '../symbolizer/index.ts';

export interface LocalCollectorOptions {
  /** Compiled profile object (default: bpf/obj/profile.bpf.o). */
  profileObjectPath?: string;
  /** Names the addresses (default: a new Symbolizer; share one to share its caches). */
  symbolizer?: Symbolizer;
}

/** Names every address of a batch. Stacks come leaf first from the kernel; trees want root first. */
export function symbolizeBatch(batch: ProfileBatch, symbolizer: Symbolizer): SymbolizedInterval {
  const unknownBefore = symbolizer.unknownFrames;
  // One batch: new mangled names of all its samples are demangled together at its end.
  const samples: SymbolizedSample[] = symbolizer.batch(() => batch.samples.map((sample) => ({
    pid: sample.pid,
    tid: sample.tid,
    comm: sample.comm,
    user: symbolizer.symbolizeUser(sample.pid, sample.comm, sample.userStack).reverse(),
    kernel: symbolizer.symbolizeKernel(sample.kernelStack).reverse(),
    userStackError: sample.userStackError,
    kernelStackError: sample.kernelStackError,
    count: sample.count,
  })));
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
  #closed = false;
  /** Commands run one at a time, in order. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: LocalCollectorOptions = {}) {
    const symbolizer = options.symbolizer ?? new Symbolizer();
    const profileOptions: ProfileCollectorOptions = {
      objectPath: options.profileObjectPath,
      // Symbolized as batches arrive, while the sampled processes are most likely still alive.
      onBatch: (batch) => this.#emit({ type: 'profile.interval', interval: symbolizeBatch(batch, symbolizer), hz: batch.hz, cpus: batch.cpus }),
      onError: (error) => this.#emit({ type: 'profile.stopped', reason: error.message }),
    };
    this.#profile = new ProfileCollector(profileOptions);
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
        if (this.#profile.running) {
          await this.#profile.stop();
          this.#emit({ type: 'profile.stopped', reason: 'restarting with new settings' });
        }
        const info = this.#profile.start(command.hz, command.target, command.intervalMs ?? 1000);
        this.#emit({ type: 'profile.started', cpus: info.cpus, hz: info.hz, target: info.target });
        return;
      }
      case 'profile.stop': {
        if (!this.#profile.running) return;
        await this.#profile.stop();
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
    if (this.#profile.running) {
      await this.#profile.stop();
      this.#emit({ type: 'profile.stopped', reason: 'collector closed' });
    }
    this.#listeners.clear();
  }
}
