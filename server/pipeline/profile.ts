/**
 * The profile pipeline: symbolized intervals from a profile source (CollectorChannel: in this
 * process, or in the collector process) -> aggregator window.
 *
 * Owns the shared sampling settings (one set for every viewer) and answers per-viewer views.
 * Knows nothing of socket.io: the hub subscribes to `onInterval` / `onStatus` and asks `frame(view)`.
 */
import {
  DEFAULT_OFFCPU_SETTINGS,
  DEFAULT_PROFILE_SETTINGS,
  profileUnit,
  type ProfileFrame,
  type ProfileSettings,
  type ProfileStatus,
  type ViewSettings,
} from '../../lib/protocol.ts';
import type { CollectorChannel, CollectorCommand } from '../collectors/types.ts';
import { profileCombinationProblem } from '../../lib/schema/view.ts';
import type { SymbolizedInterval } from '../symbolizer/types.ts';
import type { StackRefs } from '../symbolizer/interned.ts';
import { ProfileWindow } from '../aggregator/profile-window.ts';

/** A frame without its per-connection sequence number. */
export type ViewFrame = Omit<ProfileFrame, 'seq'>;

export interface ProfilePipelineOptions {
  /** Wall clock in ms; injectable for tests. */
  now?: () => number;
  /** Largest tree sent to a browser; narrower frames are folded into `[pruned]`. */
  maxNodes?: number;
  /** Frames narrower than this fraction of the total are folded into `[pruned]`. */
  minFraction?: number;
}

/**
 * Default pruning: a frame under 1/4000 of the samples is narrower than one pixel even on a
 * 4K-wide flame graph, so it is folded into its parent's `[pruned]` child before it is sent
 * (totals stay exact). Keeps frames small enough to encode, send and draw every second.
 */
export const DEFAULT_MIN_FRACTION = 1 / 4000;

/**
 * Default node budget per frame: the narrowest frames beyond it are folded into `[pruned]`.
 * The browser draws at most its 600 widest frames anyway (components/flamegraph/budget.ts),
 * so 3,000 leaves room for zooming while keeping each update cheap to build, send and apply.
 */
export const DEFAULT_MAX_NODES = 3000;

type Listener<T> = (value: T) => void;

/**
 * Settings with every optional field filled in: `type` (absent: cpu, as settings and recordings
 * from before profile types) and `offcpu` (absent: the defaults), so viewers always see both.
 */
export function completeSettings(settings: ProfileSettings): ProfileSettings {
  return {
    ...settings,
    type: settings.type ?? 'cpu',
    offcpu: structuredClone(settings.offcpu ?? DEFAULT_OFFCPU_SETTINGS),
  };
}

/**
 * The collector command that samples `settings`. A cpu profile carries neither profileType nor
 * offcpu (as before profile types: its off-CPU settings are kept but mean nothing to it), so
 * changing them alone does not restart a cpu profile.
 */
export function startCommand(settings: ProfileSettings): Extract<CollectorCommand, { type: 'profile.start' }> {
  const type = settings.type ?? 'cpu';
  return {
    type: 'profile.start',
    hz: settings.hz,
    target: settings.target,
    ...(type !== 'cpu' && { profileType: type, offcpu: structuredClone(settings.offcpu ?? DEFAULT_OFFCPU_SETTINGS) }),
  };
}

export class ProfilePipeline {
  private settings: ProfileSettings = completeSettings({ ...DEFAULT_PROFILE_SETTINGS, running: false });
  private error: string | null = null;
  private cpus = 0;
  private window: ProfileWindow;
  private lastSampledAtMs = 0;
  private readonly now: () => number;
  private readonly intervalListeners = new Set<(endMs: number, interval: SymbolizedInterval) => void>();
  private readonly statusListeners = new Set<Listener<ProfileStatus>>();
  /** Serializes configure() calls so two browsers cannot interleave a restart. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly channel: CollectorChannel,
    private readonly options: ProfilePipelineOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.window = new ProfileWindow();
    this.unsubscribe = channel.onMessage((message) => {
      switch (message.type) {
        case 'profile.interval':
          this.acceptInterval(message.interval, message.refs);
          break;
        case 'profile.started':
          this.cpus = message.cpus;
          this.error = null;
          this.emitStatus();
          break;
        case 'profile.stopped':
          if (message.reason) this.error = message.reason;
          this.settings = { ...this.settings, running: false };
          this.emitStatus();
          break;
      }
    });
  }

  status(): ProfileStatus {
    return { settings: structuredClone(this.settings), error: this.error, cpus: this.cpus };
  }

  /**
   * Applies a change to what is sampled. Restarts the collector when what it is asked to sample
   * changes: rate, target, profile type, or the off-CPU settings of an offcpu/wall profile (and
   * clears the window: samples of another target, rate or unit must not be mixed in).
   * Rejects with a user-facing message; the previous settings stay in force then.
   */
  configure(change: Partial<ProfileSettings>): Promise<ProfileSettings> {
    const run = async (): Promise<ProfileSettings> => {
      const next: ProfileSettings = completeSettings({ ...this.settings, ...change });
      // Judged on the merged settings: e.g. a target of `all` sent while the type is wall.
      const problem = profileCombinationProblem(next);
      if (problem) throw new Error(problem);
      const restart =
        next.running &&
        (!this.settings.running || JSON.stringify(startCommand(next)) !== JSON.stringify(startCommand(this.settings)));
      if (!next.running && this.settings.running) {
        await this.channel.request({ type: 'profile.stop' });
      } else if (restart) {
        try {
          await this.channel.request(startCommand(next));
        } catch (error) {
          this.error = (error as Error).message;
          this.emitStatus();
          throw error;
        }
        this.window = new ProfileWindow();
      }
      this.settings = next;
      this.error = null;
      this.emitStatus();
      return structuredClone(next);
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Forgets every interval (a replay that seeks rebuilds the window from the recording). */
  reset(): void {
    this.window = new ProfileWindow();
    this.lastSampledAtMs = 0;
  }

  /**
   * Takes settings as they were applied elsewhere (a replay: what the recording says), without
   * asking the source to restart, and starts a new window as a restart would. Synchronous.
   */
  adopt(settings: ProfileSettings, cpus: number): void {
    this.settings = completeSettings(settings);
    this.cpus = cpus;
    this.reset();
    this.emitStatus();
  }

  /** The flame graph for one view of the current window. */
  frame(view: ViewSettings): ViewFrame {
    const built = this.window.build(view, this.now(), {
      maxNodes: this.options.maxNodes ?? DEFAULT_MAX_NODES,
      minFraction: this.options.minFraction ?? DEFAULT_MIN_FRACTION,
    });
    return {
      view,
      settings: structuredClone(this.settings),
      unit: profileUnit(this.settings.type),
      tree: built.tree,
      totalSamples: built.totalSamples,
      prunedSamples: built.prunedSamples,
      nodeCount: built.nodeCount,
      windowStartMs: built.windowStartMs,
      windowEndMs: built.windowEndMs,
      sampledAtMs: this.lastSampledAtMs,
      health: built.health,
    };
  }

  /** Called once per interval read from the kernel, with its end time (ms). */
  /** Called with each interval (and its end time, ms) once it is in the window. */
  onInterval(listener: (endMs: number, interval: SymbolizedInterval) => void): () => void {
    this.intervalListeners.add(listener);
    return () => this.intervalListeners.delete(listener);
  }

  onStatus(listener: Listener<ProfileStatus>): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  async close(): Promise<void> {
    this.unsubscribe();
    await this.channel.close();
  }

  private acceptInterval(interval: SymbolizedInterval, refs?: StackRefs): void {
    this.window.push(interval, refs);
    this.lastSampledAtMs = interval.endMs;
    for (const listener of this.intervalListeners) listener(interval.endMs, interval);
  }

  private emitStatus(): void {
    const status = this.status();
    for (const listener of this.statusListeners) listener(status);
  }
}
