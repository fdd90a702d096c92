/**
 * LocalCollectorChannel: the in-process CollectorChannel. Wraps a ProfileCollector; commands in,
 * plain-data messages out, so that a later change can put the same thing behind a child process.
 */
import type { CollectorChannel, CollectorCommand, CollectorMessage } from './types.ts';
import { ProfileCollector, validateProfileRequest, type ProfileCollectorOptions } from './profile.ts';

export interface LocalCollectorOptions {
  /** Compiled profile object (default: bpf/obj/profile.bpf.o). */
  profileObjectPath?: string;
}

export class LocalCollectorChannel implements CollectorChannel {
  readonly #listeners = new Set<(message: CollectorMessage) => void>();
  readonly #profile: ProfileCollector;
  #closed = false;
  /** Commands run one at a time, in order. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: LocalCollectorOptions = {}) {
    const profileOptions: ProfileCollectorOptions = {
      objectPath: options.profileObjectPath,
      onBatch: (batch) => this.#emit({ type: 'profile.batch', batch }),
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
