/**
 * A CollectorChannel that plays back recorded profile batches instead of reading the kernel.
 *
 * For deterministic hub and UI tests (and demos without root). Each interval it emits the next
 * recorded batch, re-stamped with the current time, cycling through the recording. It honours
 * the same commands and messages as the kernel collector.
 */
import type { CollectorChannel, CollectorCommand, CollectorMessage, ProfileBatch } from './types.ts';
import { symbolizeBatch } from './local.ts';
import { Symbolizer } from '../symbolizer/index.ts';

export interface ReplayOptions {
  /** Milliseconds between batches (default 1000). */
  intervalMs?: number;
  /** CPUs to report (default 2). */
  cpus?: number;
  now?: () => number;
  /** Names the recorded addresses (default: a new Symbolizer). */
  symbolizer?: Symbolizer;
}

export class ReplayChannel implements CollectorChannel {
  private readonly listeners = new Set<(message: CollectorMessage) => void>();
  private timer: NodeJS.Timeout | null = null;
  private cursor = 0;
  private readonly intervalMs: number;
  private readonly cpus: number;
  private readonly now: () => number;
  private readonly symbolizer: Symbolizer;
  /** Commands received, oldest first: lets tests check what the hub asked for. */
  readonly commands: CollectorCommand[] = [];

  constructor(
    private readonly batches: readonly ProfileBatch[],
    options: ReplayOptions = {},
  ) {
    if (batches.length === 0) throw new Error('a replay needs at least one recorded batch');
    this.intervalMs = options.intervalMs ?? 1000;
    this.cpus = options.cpus ?? 2;
    this.now = options.now ?? Date.now;
    this.symbolizer = options.symbolizer ?? new Symbolizer();
  }

  async request(command: CollectorCommand): Promise<void> {
    this.commands.push(command);
    if (command.type === 'profile.stop') {
      this.stopTimer();
      this.emit({ type: 'profile.stopped' });
      return;
    }
    this.stopTimer();
    this.emit({ type: 'profile.started', cpus: this.cpus, hz: command.hz, target: command.target });
    let startMs = this.now();
    this.timer = setInterval(() => {
      const recorded = this.batches[this.cursor++ % this.batches.length];
      const endMs = this.now();
      const batch: ProfileBatch = { ...recorded, startMs, endMs, hz: command.hz, cpus: this.cpus };
      this.emit({ type: 'profile.interval', interval: symbolizeBatch(batch, this.symbolizer), hz: batch.hz, cpus: batch.cpus });
      startMs = endMs;
    }, command.intervalMs ?? this.intervalMs);
  }

  onMessage(listener: (message: CollectorMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.stopTimer();
    this.listeners.clear();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private emit(message: CollectorMessage): void {
    for (const listener of this.listeners) listener(message);
  }
}
