/**
 * Recording and replay as a hub-level feature: `record:start`, `record:stop`, `recordings:list`,
 * `recording:delete`, `replay:open`, `replay:control` (all operator-only).
 *
 * Guarantees:
 * - A session records at most once at a time; a replay session is never recorded.
 * - A recording in use (being recorded, or replayed by a session) cannot be deleted, and a
 *   running recording cannot be replayed.
 * - A closing session stops its recording (flushed, with its end time) and its replay first
 *   (`onSessionClose`), before its connections and features go.
 * - What the features record is their business (HubContext.record); this feature only starts
 *   and stops the recording and tells features when one starts (`onRecordingStart`).
 */
import { RequestError } from '../feature.ts';
import { ReplaySource } from '../replay-source.ts';
import { newSessionId } from '../sessions.ts';
import type { HubLevelFeatureFactory } from './feature.ts';
import type { Session } from './registry.ts';

export const recordingFeature: HubLevelFeatureFactory = (hub) => {
  const { registry } = hub;
  const stopRecording = (session: Session) => {
    const store = hub.openedStore();
    if (!session.recording || !store) return;
    store.stopRecording(session.recording.id, hub.now());
    session.recording = null;
  };
  return {
    onSessionClose: (session) => {
      stopRecording(session);
      session.replay?.stop();
    },
    handlers: {
      'record:start': (_socket, session, payload) => {
        if (session.replay) throw new RequestError('a replay session cannot be recorded');
        if (session.recording) throw new RequestError(`session ${session.id} is already recording (${session.recording.name})`);
        const name = payload.name ?? `${session.name} ${new Date(hub.now()).toISOString()}`;
        let info;
        try {
          info = hub.store().startRecording({ sessionId: session.id, name, startedAtMs: hub.now() });
        } catch (error) {
          throw new RequestError((error as Error).message);
        }
        session.recording = { id: info.id, name: info.name, startedAtMs: info.startedAtMs };
        for (const feature of session.features) feature.onRecordingStart?.();
        registry.announce(session);
        return session.recording;
      },
      'record:stop': (_socket, session) => {
        if (!session.recording) throw new RequestError(`session ${session.id} is not recording`);
        const id = session.recording.id;
        stopRecording(session);
        registry.announce(session);
        return hub.store().getRecording(id);
      },
      'recordings:list': () => hub.store().listRecordings(),
      'recording:delete': (_socket, _session, payload) => {
        const { id } = payload;
        for (const s of registry.all()) {
          if (s.recording?.id === id || s.replay?.recordingId === id) throw new RequestError(`recording ${id} is in use by session ${s.id}`);
        }
        hub.store().deleteRecording(id);
        return undefined;
      },
      'replay:open': (_socket, _session, payload) => {
        const request = payload;
        if (!hub.canReplay) throw new RequestError('replay is not available on this server');
        if (registry.size >= hub.maxSessions) throw new RequestError(`at most ${hub.maxSessions} sessions at once: close one first`);
        let source: ReplaySource;
        try {
          const info = hub.store().getRecording(request.recordingId);
          if (info.endedAtMs === null && registry.all().some((s) => s.recording?.id === info.id)) {
            throw new Error(`recording ${info.name} is still running: stop it first`);
          }
          source = new ReplaySource(hub.store(), request.recordingId, request.speed ?? 1);
        } catch (error) {
          throw new RequestError((error as Error).message);
        }
        let id = newSessionId();
        while (registry.has(id)) id = newSessionId();
        const recording = hub.store().getRecording(request.recordingId);
        const created = registry.open(id, `replay: ${recording.name}`, source);
        source.onStateChange(() => registry.announce(created));
        source.seek(0);
        source.play();
        return { id, name: created.name, path: `/?session=${encodeURIComponent(id)}` };
      },
      'replay:control': (_socket, session, payload) => {
        if (!session.replay) throw new RequestError(`session ${session.id} is live, not a replay`);
        const control = payload;
        if (control.action === 'play') session.replay.play();
        else if (control.action === 'pause') session.replay.pause();
        else if (control.action === 'seek') session.replay.seek(control.positionMs);
        else session.replay.setSpeed(control.speed);
        return session.replay.state();
      },
    },
  };
};
