/**
 * The features of a replay session: the same wire messages as a live session, fed by a
 * recording (ReplaySource) instead of the kernel. No root, no kernel, no collector.
 *
 * - profile: the recorded symbolized intervals go through a ProfilePipeline whose clock is the
 *   recording's, so every view (window, stack mode, idle) is rebuilt exactly as it was live;
 * - latency: the recorded probe lists and frames are sent again (each frame is a whole picture);
 * - events: the recorded probe lists and row batches are sent again, flow-controlled per viewer
 *   (a viewer that falls behind is told how many rows it skipped, as live).
 * Requests that would change probes are refused: a replay shows what was recorded.
 */
import type { ProfileSettings } from '../../lib/protocol.ts';
import type { LatencyProbeFrame } from '../../lib/latency-view.ts';
import type { LatencyProbeList } from '../../lib/protocol-latency.ts';
import type { EventProbeList, EventRow } from '../../lib/protocol-events.ts';
import type { CollectorChannel, CollectorCommand, CollectorMessage } from '../collectors/types.ts';
import { intervalOfRecord } from '../symbolizer/interned.ts';
import { completeSettings, ProfilePipeline, startCommand } from '../pipeline/profile.ts';
import { profileFeature } from './profile.ts';
import { RequestError, type FeatureFactory, type HubSocket } from './feature.ts';
import { EVENTS_PROBES, EVENTS_ROWS, LATENCY_FRAME, LATENCY_PROBES, PROFILE_INTERVAL, PROFILE_STATUS } from './recording.ts';
import type { ReplaySource } from './replay-source.ts';

const REPLAY_REFUSAL = 'this session replays a recording: probes cannot be changed here (open a live session)';

/**
 * Recorded `profile.status` payload: the settings that were in force. Recordings from before
 * profile types have no `type` nor `offcpu`: they are cpu profiles (completeSettings).
 */
interface RecordedStatus {
  settings: ProfileSettings;
  cpus: number;
}

/** The sampling settings of a replay before its recording says otherwise. */
const REPLAY_START: ProfileSettings = completeSettings({ running: true, hz: 99, target: { kind: 'all' } });

/** A profile source that plays recorded intervals. */
export class ReplayProfileChannel implements CollectorChannel {
  readonly #listeners = new Set<(message: CollectorMessage) => void>();
  readonly #unsubscribe: () => void;
  #cpus = 0;
  #settings: ProfileSettings = REPLAY_START;

  constructor(source: ReplaySource, hooks: { reset(): void; settings(settings: ProfileSettings, cpus: number): void }) {
    this.#unsubscribe = source.subscribe({
      reset: () => hooks.reset(),
      update: (update) => {
        if (update.kind === PROFILE_STATUS) {
          const status = update.payload as RecordedStatus;
          const next = completeSettings({ ...status.settings, running: true });
          // What was sampled changed (rate, target, type, off-CPU filters), not just running.
          const changed = JSON.stringify(startCommand(next)) !== JSON.stringify(startCommand(this.#settings));
          this.#settings = next;
          this.#cpus = status.cpus;
          // As live: new settings restart sampling, which starts a new window.
          if (changed) hooks.settings(next, this.#cpus);
        } else if (update.kind === PROFILE_INTERVAL) {
          this.#emit({ type: 'profile.interval', interval: intervalOfRecord(update.payload), hz: this.#settings.hz, cpus: this.#cpus });
        }
      },
    });
  }

  async request(command: CollectorCommand): Promise<void> {
    // The pipeline starts its source once; anything else would change what was recorded.
    if (command.type === 'profile.start' && JSON.stringify(command) === JSON.stringify(startCommand(this.#settings))) {
      this.#emit({ type: 'profile.started', cpus: this.#cpus, hz: this.#settings.hz, target: this.#settings.target });
      return;
    }
    throw new Error(REPLAY_REFUSAL);
  }

  onMessage(listener: (message: CollectorMessage) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(message: CollectorMessage): void {
    for (const listener of [...this.#listeners]) listener(message);
  }

  async close(): Promise<void> {
    this.#unsubscribe();
    this.#listeners.clear();
  }
}

/** The profile feature of a replay session. */
export function replayProfileFeature(source: ReplaySource): FeatureFactory {
  let pipeline: ProfilePipeline | null = null;
  const channel = new ReplayProfileChannel(source, {
    reset: () => pipeline?.reset(),
    settings: (settings, cpus) => pipeline?.adopt(settings, cpus),
  });
  pipeline = new ProfilePipeline(channel, { now: () => source.now() });
  // Shown as running at the recorded settings; the first interval brings them.
  void pipeline.configure(REPLAY_START).catch(() => undefined);
  const live = profileFeature(pipeline);
  return (hub) => {
    const feature = live(hub);
    return {
      ...feature,
      handlers: {
        ...feature.handlers,
        'profile:configure': () => {
          throw new RequestError(REPLAY_REFUSAL);
        },
      },
      async close() {
        await feature.close?.();
        await pipeline!.close();
      },
    };
  };
}

/** Latency: the recorded list and frames, sent as they were. */
export function replayLatencyFeature(source: ReplaySource): FeatureFactory {
  return (hub) => {
    let list: LatencyProbeList = { probes: [], max: 0 };
    const frames = new Map<string, LatencyProbeFrame>();
    const send = (socket: HubSocket, frame: LatencyProbeFrame) => hub.sendLatest(socket, `latency:${frame.id}`, 'latency:frame', frame);
    const unsubscribe = source.subscribe({
      reset: () => {
        list = { probes: [], max: 0 };
        frames.clear();
        hub.broadcast('latency:probes', list);
      },
      update: (update, catchUp) => {
        if (update.kind === LATENCY_PROBES) {
          list = update.payload as LatencyProbeList;
          for (const id of [...frames.keys()]) if (!list.probes.some((p) => p.id === id)) frames.delete(id);
          hub.broadcast('latency:probes', list);
        } else if (update.kind === LATENCY_FRAME) {
          const frame = update.payload as LatencyProbeFrame;
          frames.set(frame.id, frame);
          if (!catchUp) for (const socket of hub.sockets()) send(socket, frame);
        }
      },
    });
    const refuse = () => {
      throw new RequestError(REPLAY_REFUSAL);
    };
    return {
      onConnect(socket) {
        socket.emit('latency:probes', list);
        for (const frame of frames.values()) send(socket, frame);
      },
      handlers: { 'latency:add': refuse, 'latency:remove': refuse },
      exports: { latency: (id) => frames.get(id) ?? null },
      async close() {
        unsubscribe();
      },
    };
  };
}

/** Recorded `events.rows` payload: one probe's new rows and its counters at that moment. */
export interface RecordedEventRows {
  id: string;
  rows: EventRow[];
  /** Rows not recorded (more than one batch arrived in one tick). */
  skipped: number;
  total: number;
  perSecond: number;
  lost: number;
  dropped: number;
}

/** Events: the recorded lists and batches; a viewer that is behind skips rows and is told how many. */
export function replayEventsFeature(source: ReplaySource): FeatureFactory {
  return (hub) => {
    let list: EventProbeList = { probes: [], max: 0 };
    const unsubscribe = source.subscribe({
      reset: () => {
        list = { probes: [], max: 0 };
        hub.broadcast('events:probes', list);
      },
      update: (update, catchUp) => {
        if (update.kind === EVENTS_PROBES) {
          list = update.payload as EventProbeList;
          hub.broadcast('events:probes', list);
        } else if (update.kind === EVENTS_ROWS && !catchUp) {
          const batch = update.payload as RecordedEventRows;
          const stream = `events:${batch.id}`;
          for (const socket of hub.sockets()) {
            // A batch still pending for this viewer is replaced: its rows become skipped ones.
            const pending = socket.data.streams.get(stream)?.pending?.payload as { rows: EventRow[]; skipped: number } | undefined;
            const skipped = batch.skipped + (pending ? pending.rows.length + pending.skipped : 0);
            hub.sendLatest(socket, stream, 'events:batch', { ...batch, skipped });
          }
        }
      },
    });
    const refuse = () => {
      throw new RequestError(REPLAY_REFUSAL);
    };
    return {
      onConnect(socket) {
        socket.emit('events:probes', list);
      },
      handlers: { 'events:add': refuse, 'events:remove': refuse },
      async close() {
        unsubscribe();
      },
    };
  };
}

/** Everything a replay session shows. */
export function replayFeatures(source: ReplaySource): FeatureFactory[] {
  return [replayProfileFeature(source), replayLatencyFeature(source), replayEventsFeature(source)];
}
