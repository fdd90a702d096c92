'use client';
/**
 * The transport bar of a replay session (`SessionState.replay` set): "REPLAY of <name>",
 * play/pause (`replay:control {action:'play'|'pause'}`), a seek slider
 * (`{action:'seek', positionMs}`), speed 1x/2x/4x (`{action:'speed', speed}`) and the position.
 * Operators control it; viewers see it. The server announces state changes (play, pause, seek,
 * end); between them the position advances here at the replay's speed.
 */
import { useEffect, useRef, useState } from 'react';
import type { RequestPayload } from '../../lib/protocol.ts';
import type { ReplayState, Role } from '../../lib/protocol-session.ts';
import { RECORDING_TEST_IDS } from '../../lib/test-ids.ts';
import { buttonClass } from '../controls/Field.tsx';
import type { ProfileSession } from '../session/useProfileSession.ts';
import { formatDuration, useTicker } from './RecordControls.tsx';

const SEEK_DEBOUNCE_MS = 200;

export function ReplayBar({ replay, name, role, send, connected }: { replay: ReplayState; name: string; role: Role | null; send: ProfileSession['send']; connected: boolean }) {
  const canControl = role === 'operator' && connected;
  const [error, setError] = useState<string | null>(null);
  // When this state arrived (the position then advances locally while playing).
  const [received, setReceived] = useState(() => ({ replay, at: Date.now() }));
  if (received.replay !== replay) setReceived({ replay, at: Date.now() });
  const now = useTicker(replay.playing, 250);
  const position = replay.playing ? Math.min(replay.durationMs, replay.positionMs + Math.max(0, now - received.at) * replay.speed) : replay.positionMs;
  const [dragging, setDragging] = useState<number | null>(null);
  const seekTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => {
    if (seekTimer.current) clearTimeout(seekTimer.current);
  }, []);
  const atEnd = !replay.playing && replay.positionMs >= replay.durationMs;

  async function control(payload: RequestPayload<'replay:control'>) {
    const reply = await send('replay:control', payload);
    setError(reply.ok ? null : reply.error);
  }

  function seek(value: number) {
    setDragging(value);
    if (seekTimer.current) clearTimeout(seekTimer.current);
    seekTimer.current = setTimeout(() => {
      seekTimer.current = null;
      void control({ action: 'seek', positionMs: value }).finally(() => setDragging(null));
    }, SEEK_DEBOUNCE_MS);
  }

  const recordingName = name.replace(/^replay: /, '');
  const shown = dragging ?? position;
  return (
    <div
      data-testid={RECORDING_TEST_IDS.replayBar}
      data-playing={replay.playing ? 'true' : 'false'}
      data-position={Math.round(replay.positionMs)}
      data-duration={replay.durationMs}
      data-speed={replay.speed}
      data-at-end={atEnd ? 'true' : 'false'}
      className="flex flex-wrap items-center gap-3 border-b border-violet-800/60 bg-violet-950/40 px-5 py-2 text-sm"
    >
      <span data-testid={RECORDING_TEST_IDS.replayBadge} className="rounded-full border border-violet-400/70 px-2.5 py-0.5 text-xs font-semibold uppercase tracking-wide text-violet-100" title={`Recording ${replay.recordingId}`}>
        REPLAY of {recordingName}
      </span>
      <button
        type="button"
        data-testid={RECORDING_TEST_IDS.replayPlay}
        aria-pressed={replay.playing}
        disabled={!canControl}
        onClick={() => void control({ action: replay.playing ? 'pause' : 'play' })}
        className={buttonClass + ' w-24 text-xs'}
      >
        {replay.playing ? '❚❚ Pause' : '▶ Play'}
      </button>
      <input
        type="range"
        data-testid={RECORDING_TEST_IDS.replaySeek}
        aria-label="Replay position"
        min={0}
        max={Math.max(1, replay.durationMs)}
        step={100}
        value={Math.round(shown)}
        disabled={!canControl}
        onChange={(e) => seek(Number(e.target.value))}
        className="min-w-40 flex-1 accent-violet-400"
      />
      <span data-testid={RECORDING_TEST_IDS.replayPosition} className="font-mono text-xs text-violet-100">
        {formatDuration(shown)} / {formatDuration(replay.durationMs)}
      </span>
      <div role="group" aria-label="Replay speed" data-testid={RECORDING_TEST_IDS.replaySpeed} className="flex overflow-hidden rounded-md border border-slate-600 text-xs">
        {([1, 2, 4] as const).map((s) => (
          <button
            key={s}
            type="button"
            aria-pressed={replay.speed === s}
            disabled={!canControl}
            onClick={() => void control({ action: 'speed', speed: s })}
            className={'px-2 py-0.5 ' + (replay.speed === s ? 'bg-violet-600 text-white' : 'text-slate-300 hover:bg-slate-800')}
          >
            {s}x
          </button>
        ))}
      </div>
      <span className="text-[11px] text-violet-200/70">A replay shows what was recorded: probes cannot be changed here.</span>
      {error && (
        <span role="alert" data-testid={RECORDING_TEST_IDS.replayError} className="text-xs text-rose-400">
          {error}
        </span>
      )}
    </div>
  );
}
