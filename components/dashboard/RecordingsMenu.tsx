'use client';
/**
 * Recordings (operators): the server's recordings (`recordings:list`) with name, start,
 * duration, updates, size and why the server stopped one (if it did); "Replay" sends
 * `replay:open {recordingId, speed}` and opens the new replay session in a new tab; "Compare"
 * opens the window comparison of that recording; "Delete" sends `recording:delete {id}`.
 */
import { useCallback, useEffect, useState } from 'react';
import type { RecordingSummary, ReplayOpened } from '../../lib/protocol-session.ts';
import { RECORDING_TEST_IDS } from '../../lib/test-ids.ts';
import type { ProfileSession } from '../session/useProfileSession.ts';
import { formatDuration } from './RecordControls.tsx';
import { Menu } from '../ui/Menu.tsx';

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export function RecordingsMenu({
  send,
  connected,
  onCompare,
}: {
  send: ProfileSession['send'];
  connected: boolean;
  onCompare(recording: RecordingSummary): void;
}) {
  const [open, setOpen] = useState(false);
  const [recordings, setRecordings] = useState<RecordingSummary[] | null>(null);
  const [speed, setSpeed] = useState<1 | 2 | 4>(1);
  const [error, setError] = useState<string | null>(null);

  const refresh = useCallback(async () => {
    const reply = await send('recordings:list', undefined);
    if (reply.ok) setRecordings(Array.isArray(reply.value) ? reply.value : []);
    else setError(reply.error);
  }, [send]);

  useEffect(() => {
    if (!open) return;
    void refresh();
    const timer = setInterval(() => void refresh(), 3000);
    return () => clearInterval(timer);
  }, [open, refresh]);

  async function replay(id: string) {
    setError(null);
    const reply = await send('replay:open', { recordingId: id, speed });
    if (!reply.ok || !reply.value) return setError(reply.ok ? 'the server sent no session' : reply.error);
    window.open(reply.value.path, '_blank', 'noopener');
  }

  async function remove(recording: RecordingSummary) {
    if (!window.confirm(`Delete recording "${recording.name}"? This cannot be undone.`)) return;
    const reply = await send('recording:delete', { id: recording.id });
    setError(reply.ok ? null : reply.error);
    await refresh();
  }

  return (
    <Menu
      kind="dialog"
      title="Recordings"
      label="Recordings ▾"
      buttonTestId={RECORDING_TEST_IDS.recordingsOpen}
      buttonClassName="text-xs"
      disabled={!connected}
      open={open}
      onOpenChange={setOpen}
      panelClassName="flex w-[34rem] max-w-[90vw] flex-col gap-3 p-4"
    >
      {({ close }) => (
        <>
          <div className="flex items-center gap-2 text-xs text-slate-400">
            Replay speed
            {([1, 2, 4] as const).map((s) => (
              <button key={s} type="button" aria-pressed={speed === s} onClick={() => setSpeed(s)} className={'rounded border px-2 py-0.5 ' + (speed === s ? 'border-sky-400 bg-sky-800 text-white' : 'border-slate-600 text-slate-300')}>
                {s}x
              </button>
            ))}
          </div>
          <ul data-testid={RECORDING_TEST_IDS.recordingsList} className="flex max-h-80 flex-col gap-1 overflow-auto">
            {recordings === null ? (
              <li className="text-xs text-slate-500">Loading…</li>
            ) : recordings.length === 0 ? (
              <li className="text-xs text-slate-500">No recordings yet: press ● Record in a live session.</li>
            ) : (
              recordings.map((r) => (
                <li key={r.id} data-testid={RECORDING_TEST_IDS.recordingItem} data-id={r.id} data-name={r.name} data-running={r.endedAtMs === null ? 'true' : 'false'} className="flex flex-col gap-0.5 rounded border border-slate-700 px-2 py-1 text-xs">
                  <div className="flex items-center gap-2">
                    <span className="min-w-0 flex-1 truncate font-medium text-slate-100" title={r.name}>
                      {r.name}
                    </span>
                    {r.endedAtMs === null ? (
                      <span className="text-red-300">recording…</span>
                    ) : (
                      <>
                        <button type="button" data-testid={RECORDING_TEST_IDS.recordingReplay} onClick={() => void replay(r.id)} className="text-sky-300 hover:underline">
                          Replay
                        </button>
                        <button
                          type="button"
                          data-testid={RECORDING_TEST_IDS.recordingCompare}
                          onClick={() => {
                            onCompare(r);
                            close();
                          }}
                          className="text-sky-300 hover:underline"
                        >
                          Compare
                        </button>
                      </>
                    )}
                    <button type="button" data-testid={RECORDING_TEST_IDS.recordingDelete} onClick={() => void remove(r)} className="text-rose-300 hover:underline">
                      Delete
                    </button>
                  </div>
                  <div className="text-slate-400">
                    {new Date(r.startedAtMs).toLocaleString()} · {formatDuration((r.endedAtMs ?? Date.now()) - r.startedAtMs)} · {r.updates.toLocaleString()} updates · {formatBytes(r.bytes)} · session{' '}
                    <span className="font-mono">{r.sessionId}</span>
                  </div>
                  {r.stoppedReason && <div className="text-amber-300">stopped: {r.stoppedReason}</div>}
                </li>
              ))
            )}
          </ul>
          {error && (
            <p role="alert" data-testid={RECORDING_TEST_IDS.recordingsError} className="text-xs text-rose-400">
              {error}
            </p>
          )}
        </>
      )}
    </Menu>
  );
}
