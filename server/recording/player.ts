/**
 * Replays a stored recording with its original relative timing, at 1x, 2x or 4x.
 *
 * Positions are in ms of recording time since the recording's start (`startedAtMs`), whatever
 * the speed: at 2x, position advances 2 ms per ms of wall time. Updates are read from the store
 * a page at a time as playback reaches them (never the whole recording), and handed to
 * `onUpdate` when the position reaches their time. No root, no kernel: only the store.
 *
 * The clock and the timers are injectable (`now`, `setTimeout`, `clearTimeout`) so that tests
 * can drive playback deterministically; the defaults are `performance.now` and Node's timers.
 */
import type { RecordedUpdate, RecordingInfo, RecordingStore } from './store.ts';

export type PlaybackSpeed = 1 | 2 | 4;
export const PLAYBACK_SPEEDS: readonly PlaybackSpeed[] = [1, 2, 4];

/**
 * paused: not advancing (the initial state; also after `pause` and after a `seek` from `ended`).
 * playing: advancing. ended: the position reached the end (`onEnd` was called); `play` restarts
 * from 0. stopped: `stop` was called or playback failed; every method but `position` and `stop`
 * throws.
 */
export type PlayerState = 'paused' | 'playing' | 'ended' | 'stopped';

/** An update as replayed: the stored update plus its time relative to the recording's start. */
export interface PlayedUpdate extends RecordedUpdate {
  /** tMs - startedAtMs, in ms (0 for an update stamped before the start). */
  offsetMs: number;
}

export interface RecordingPlayerOptions {
  /** 1, 2 or 4 (default 1). */
  speed?: number;
  /** Replay only updates of these kinds (default all). */
  kinds?: readonly string[];
  /** Called for each update, in time order, when the position reaches it. */
  onUpdate: (update: PlayedUpdate) => void;
  /** Called once each time playback reaches the end (`durationMs`). */
  onEnd?: () => void;
  /**
   * Called when playback fails (reading the store failed, e.g. it was closed, or `onUpdate`
   * threw); the player is then stopped. Without it the error is thrown from the timer callback.
   */
  onError?: (error: Error) => void;
  /** Monotonic clock in ms (default `performance.now`). */
  now?: () => number;
  setTimeout?: (callback: () => void, ms: number) => unknown;
  clearTimeout?: (handle: unknown) => void;
}

/** Most updates handed over in one timer callback; the rest follow on a zero-delay timer. */
const MAX_UPDATES_PER_TICK = 1000;

export class RecordingPlayer {
  /** The recording as it was when the player was created. */
  readonly recording: RecordingInfo;
  /**
   * Length of the replay in ms of recording time: from the start to the end of the recording
   * (or its latest update, if later; for a recording still in progress, its latest update when
   * the player was created).
   */
  readonly durationMs: number;
  /** Called once each time playback reaches the end; may be set after construction. */
  onEnd: (() => void) | undefined;

  private readonly store: RecordingStore;
  private readonly kinds: readonly string[] | undefined;
  private readonly onUpdate: (update: PlayedUpdate) => void;
  private readonly onError: ((error: Error) => void) | undefined;
  private readonly now: () => number;
  private readonly setTimer: (callback: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;

  private currentSpeed: PlaybackSpeed;
  private currentState: PlayerState = 'paused';
  /** Position (recording ms) at `anchorWall` (clock ms); while paused, the position itself. */
  private anchorPosition = 0;
  private anchorWall = 0;
  private timer: unknown = null;
  /** Reader positioned at `anchorPosition` by the last seek; opened lazily. */
  private reader: Iterator<RecordedUpdate> | null = null;
  /** The next update to hand over (read ahead by one). */
  private next: PlayedUpdate | null = null;
  private readerDone = false;
  /** Bumped by every seek, pause and stop: a tick that sees it change stops handing over. */
  private generation = 0;

  /** Throws for an unknown recording id (naming it) or an invalid speed. Starts paused at 0. */
  constructor(store: RecordingStore, recordingId: string, options: RecordingPlayerOptions) {
    if (typeof options !== 'object' || options === null || typeof options.onUpdate !== 'function') {
      throw new Error('RecordingPlayer: options.onUpdate must be a function');
    }
    this.currentSpeed = checkSpeed(options.speed ?? 1);
    this.recording = store.getRecording(recordingId);
    const start = this.recording.startedAtMs;
    const end = Math.max(this.recording.endedAtMs ?? start, this.recording.lastUpdateAtMs ?? start);
    this.durationMs = Math.max(0, end - start);
    if (options.kinds !== undefined) {
      // Validated by the store now, not at the first play.
      store.readUpdates(recordingId, { kinds: options.kinds, fromMs: 1, toMs: 0 });
      this.kinds = [...options.kinds];
    }
    this.store = store;
    this.onUpdate = options.onUpdate;
    this.onEnd = options.onEnd;
    this.onError = options.onError;
    this.now = options.now ?? (() => performance.now());
    this.setTimer = options.setTimeout ?? ((callback, ms) => setTimeout(callback, ms));
    this.clearTimer = options.clearTimeout ?? ((handle) => clearTimeout(handle as NodeJS.Timeout));
  }

  get state(): PlayerState {
    return this.currentState;
  }

  get speed(): PlaybackSpeed {
    return this.currentSpeed;
  }

  /** Current position, ms of recording time since its start (0 … durationMs). */
  position(): number {
    if (this.currentState !== 'playing') return this.anchorPosition;
    const position = this.anchorPosition + (this.now() - this.anchorWall) * this.currentSpeed;
    return Math.min(this.durationMs, Math.max(0, position));
  }

  /** Start or resume playback; from `ended`, restart from 0. No effect while playing. */
  play(): void {
    this.checkNotStopped('play');
    if (this.currentState === 'playing') return;
    if (this.currentState === 'ended') this.moveTo(0);
    this.anchorWall = this.now();
    this.currentState = 'playing';
    this.schedule(0);
  }

  /** Stop advancing, keeping the position. No effect unless playing. */
  pause(): void {
    this.checkNotStopped('pause');
    if (this.currentState !== 'playing') return;
    this.anchorPosition = this.position();
    this.currentState = 'paused';
    this.generation++;
    this.cancelTimer();
  }

  /**
   * Jump to `ms` of recording time (clamped to 0 … durationMs). Updates before it are skipped;
   * those at or after it are handed over as the position reaches them. Keeps playing if
   * playing; from `ended`, the player is paused at the new position.
   */
  seek(ms: number): void {
    this.checkNotStopped('seek');
    if (typeof ms !== 'number' || Number.isNaN(ms)) throw new Error(`seek: the position must be a number of ms, not ${String(ms)}`);
    this.moveTo(Math.min(this.durationMs, Math.max(0, ms)));
    if (this.currentState === 'ended') this.currentState = 'paused';
    if (this.currentState === 'playing') {
      this.anchorWall = this.now();
      this.schedule(0);
    }
  }

  /** Change the speed (1, 2 or 4; anything else throws), keeping the position. */
  setSpeed(speed: number): void {
    this.checkNotStopped('setSpeed');
    const checked = checkSpeed(speed);
    if (this.currentState === 'playing') {
      this.anchorPosition = this.position();
      this.anchorWall = this.now();
      this.currentSpeed = checked;
      this.schedule(0);
    } else {
      this.currentSpeed = checked;
    }
  }

  /** Stop for good: cancel timers and release the reader. Idempotent. */
  stop(): void {
    if (this.currentState === 'stopped') return;
    this.anchorPosition = this.position();
    this.currentState = 'stopped';
    this.generation++;
    this.cancelTimer();
    this.closeReader();
  }

  // ---------------------------------------------------------------- internals

  private checkNotStopped(what: string): void {
    if (this.currentState === 'stopped') throw new Error(`${what}: the player of recording "${this.recording.id}" is stopped`);
  }

  private moveTo(position: number): void {
    this.generation++;
    this.cancelTimer();
    this.closeReader();
    this.anchorPosition = position;
  }

  private closeReader(): void {
    this.reader?.return?.();
    this.reader = null;
    this.next = null;
    this.readerDone = false;
  }

  private cancelTimer(): void {
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
  }

  /** The next update at or after the anchor position, reading the store as needed. */
  private peek(): PlayedUpdate | null {
    if (this.next || this.readerDone) return this.next;
    if (!this.reader) {
      const start = this.recording.startedAtMs;
      // Updates stamped before the start play at 0, so a seek to 0 includes them.
      const fromMs = this.anchorPosition <= 0 ? undefined : start + this.anchorPosition;
      this.reader = this.store
        .readUpdates(this.recording.id, { fromMs, toMs: start + this.durationMs, kinds: this.kinds })
        [Symbol.iterator]();
    }
    const result = this.reader.next();
    if (result.done) {
      this.readerDone = true;
      return null;
    }
    const update = result.value;
    this.next = { ...update, offsetMs: Math.max(0, update.tMs - this.recording.startedAtMs) };
    return this.next;
  }

  private schedule(delayMs: number): void {
    this.cancelTimer();
    this.timer = this.setTimer(() => {
      this.timer = null;
      this.tick();
    }, delayMs);
  }

  private tick(): void {
    if (this.currentState !== 'playing') return;
    const generation = this.generation;
    try {
      let handed = 0;
      for (;;) {
        const update = this.peek();
        const position = this.position();
        if (!update) {
          if (position >= this.durationMs) this.end();
          else this.schedule((this.durationMs - position) / this.currentSpeed);
          return;
        }
        if (update.offsetMs > position) {
          this.schedule((update.offsetMs - position) / this.currentSpeed);
          return;
        }
        if (handed === MAX_UPDATES_PER_TICK) {
          this.schedule(0);
          return;
        }
        this.next = null;
        handed++;
        this.onUpdate(update);
        // onUpdate may have paused, sought or stopped the player (which rescheduled or not).
        if (this.generation !== generation || this.currentState !== 'playing') return;
      }
    } catch (error) {
      this.stop();
      const failure = error instanceof Error ? error : new Error(String(error));
      if (this.onError) this.onError(failure);
      else throw failure;
    }
  }

  private end(): void {
    this.anchorPosition = this.durationMs;
    this.currentState = 'ended';
    this.generation++;
    this.cancelTimer();
    this.closeReader();
    this.onEnd?.();
  }
}

function checkSpeed(speed: unknown): PlaybackSpeed {
  if (!PLAYBACK_SPEEDS.includes(speed as PlaybackSpeed)) {
    throw new Error(`playback speed must be one of ${PLAYBACK_SPEEDS.map((s) => `${s}x`).join(', ')}, not ${String(speed)}`);
  }
  return speed as PlaybackSpeed;
}
