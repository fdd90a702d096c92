/**
 * ReplaySource: one recording played back for one replay session, as the replay session's
 * features see it — a stream of recorded updates plus a clock that reads recording time.
 *
 * Guarantees:
 * - `now()` is the wall-clock time the recording had at the current position, so time windows
 *   (last 10 s, last 60 s) cut the replayed data exactly as they cut it live.
 * - After a seek, listeners first get `reset()`, then every update from the start up to the new
 *   position (catch-up, in order, `catchUp: true`), then playback continues from there: a
 *   window built from a seek is the same as one built by playing up to that point.
 * - Nothing here needs root or a kernel: only the recordings database.
 */
import { PLAYBACK_SPEEDS, RecordingPlayer, type PlaybackSpeed, type PlayedUpdate } from '../recording/player.ts';
import type { RecordingStore } from '../recording/store.ts';
import type { ReplayState } from '../../lib/protocol-session.ts';

export interface ReplayListener {
  update(update: PlayedUpdate, catchUp: boolean): void;
  /** Forget everything replayed so far (a seek follows). */
  reset(): void;
}

export class ReplaySource {
  readonly recordingId: string;
  readonly startedAtMs: number;
  readonly #player: RecordingPlayer;
  readonly #store: RecordingStore;
  readonly #listeners = new Set<ReplayListener>();
  readonly #stateListeners = new Set<() => void>();

  constructor(store: RecordingStore, recordingId: string, speed: number = 1) {
    this.#store = store;
    this.recordingId = recordingId;
    this.#player = new RecordingPlayer(store, recordingId, {
      speed,
      onUpdate: (update) => this.#dispatch(update, false),
      onEnd: () => this.#changed(),
      onError: () => this.#changed(),
    });
    this.startedAtMs = this.#player.recording.startedAtMs;
  }

  get durationMs(): number {
    return this.#player.durationMs;
  }

  /** Recording wall-clock time at the current position, ms since the epoch. */
  now(): number {
    return this.startedAtMs + this.#player.position();
  }

  state(): ReplayState {
    return {
      recordingId: this.recordingId,
      speed: this.#player.speed,
      playing: this.#player.state === 'playing',
      positionMs: Math.round(this.#player.position()),
      durationMs: this.#player.durationMs,
    };
  }

  subscribe(listener: ReplayListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Called on play/pause/seek/speed/end. */
  onStateChange(listener: () => void): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  play(): void {
    // At the end, playing again starts over: rebuild from the start rather than add twice.
    if (this.#player.state === 'ended') this.seek(0);
    this.#player.play();
    this.#changed();
  }

  pause(): void {
    this.#player.pause();
    this.#changed();
  }

  setSpeed(speed: number): void {
    if (!PLAYBACK_SPEEDS.includes(speed as PlaybackSpeed)) {
      throw new Error(`replay speed must be one of ${PLAYBACK_SPEEDS.join(', ')}, got ${JSON.stringify(speed)}`);
    }
    this.#player.setSpeed(speed);
    this.#changed();
  }

  /** Moves to `positionMs` (clamped to the recording) and rebuilds every listener's state there. */
  seek(positionMs: number): void {
    if (typeof positionMs !== 'number' || !Number.isFinite(positionMs)) throw new Error('seek position must be a number of ms');
    const target = Math.max(0, Math.min(positionMs, this.#player.durationMs));
    const wasPlaying = this.#player.state === 'playing';
    this.#player.pause();
    this.#player.seek(target);
    for (const listener of this.#listeners) listener.reset();
    // Updates stamped exactly at the target are delivered by the player when it resumes.
    for (const update of this.#store.readUpdates(this.recordingId, { toMs: this.startedAtMs + target - 1 })) {
      this.#dispatch({ ...update, offsetMs: Math.max(0, update.tMs - this.startedAtMs) }, true);
    }
    if (wasPlaying) this.#player.play();
    this.#changed();
  }

  stop(): void {
    this.#player.stop();
    this.#listeners.clear();
    this.#stateListeners.clear();
  }

  #dispatch(update: PlayedUpdate, catchUp: boolean): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener.update(update, catchUp);
      } catch (error) {
        process.emitWarning(`replay listener threw: ${(error as Error).message}`);
      }
    }
  }

  #changed(): void {
    for (const listener of [...this.#stateListeners]) listener();
  }
}
