'use client';
/**
 * Recording a session.
 * - `RecIndicator` (everyone in the session): "● REC 00:42" while `SessionState.recording` is set.
 * - `RecordControls` (operators of a live session): "● Record" opens a name field (optional)
 *   and sends `record:start {name?}`; while recording, "■ Stop" sends `record:stop`.
 */
import { useEffect, useState, type FormEvent } from 'react';
import type { RecordingSummary, SessionState } from '../../lib/protocol-session.ts';
import { RECORDING_TEST_IDS } from '../../lib/test-ids.ts';
import { buttonClass, inputClass } from '../controls/Field.tsx';
import type { ProfileSession } from '../session/useProfileSession.ts';
import { Menu } from '../ui/Menu.tsx';

/** `mm:ss`, or `h:mm:ss` from one hour. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${two(m)}:${two(s)}`;
}

/** Re-renders every `ms` while `on`. */
export function useTicker(on: boolean, ms = 500): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!on) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [on, ms]);
  return now;
}

export function RecIndicator({ recording }: { recording: SessionState['recording'] }) {
  const now = useTicker(recording !== null);
  if (!recording) return null;
  return (
    <span
      data-testid={RECORDING_TEST_IDS.recIndicator}
      data-recording-id={recording.id}
      title={`Recording "${recording.name}" since ${new Date(recording.startedAtMs).toLocaleTimeString()}`}
      className="inline-flex items-center gap-1.5 rounded-full border border-red-500/70 bg-red-950/50 px-2.5 py-0.5 font-mono text-xs font-semibold text-red-200"
    >
      <span className="animate-pulse text-red-500" aria-hidden>
        ●
      </span>
      REC {formatDuration(now - recording.startedAtMs)}
    </span>
  );
}

export function RecordControls({
  recording,
  send,
  connected,
  onStopped,
}: {
  recording: SessionState['recording'];
  send: ProfileSession['send'];
  connected: boolean;
  onStopped?(info: RecordingSummary): void;
}) {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function start(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const trimmed = name.trim();
      const reply = await send('record:start', trimmed ? { name: trimmed } : {});
      if (!reply.ok) return setError(reply.error);
      setName('');
      setOpen(false);
    } finally {
      setBusy(false);
    }
  }

  async function stop() {
    setBusy(true);
    setError(null);
    try {
      const reply = await send('record:stop', undefined);
      if (!reply.ok) return setError(reply.error);
      if (reply.value) onStopped?.(reply.value);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="flex items-center gap-2">
      {recording ? (
        <button type="button" data-testid={RECORDING_TEST_IDS.recordStop} disabled={!connected || busy} onClick={() => void stop()} className={buttonClass + ' border-red-500/60 text-xs text-red-100'}>
          ■ Stop recording
        </button>
      ) : (
        <Menu
          kind="dialog"
          title="Record this session"
          label={
            <>
              <span className="text-red-500">●</span> Record
            </>
          }
          buttonTestId={RECORDING_TEST_IDS.recordOpen}
          buttonClassName="text-xs"
          disabled={!connected}
          open={open}
          onOpenChange={setOpen}
          panelClassName="top-full w-72 p-3"
        >
          <form noValidate onSubmit={(e) => void start(e)} className="flex flex-col gap-2">
            <input
              data-testid={RECORDING_TEST_IDS.recordName}
              aria-label="Recording name"
              placeholder="name (optional)"
              maxLength={80}
              value={name}
              onChange={(e) => setName(e.target.value)}
              className={inputClass}
            />
            <button type="submit" data-testid={RECORDING_TEST_IDS.recordStart} disabled={busy} className={buttonClass}>
              Start recording
            </button>
            <p className="text-[11px] text-slate-500">Records every update of this session (profile, latency, events) for replay and compare.</p>
          </form>
        </Menu>
      )}
      {error && (
        <span role="alert" data-testid={RECORDING_TEST_IDS.recordError} className="text-xs text-rose-400">
          {error}
        </span>
      )}
    </div>
  );
}
