'use client';
/**
 * Snapshots (every role lists and views; operators also delete): `snapshots:list` (viewers get
 * their session's, operators all), `snapshot:get {id}` to view one. A flame snapshot is drawn
 * with the live flame graph component and downloads in every flame format (made here from its
 * tree); a histogram snapshot is drawn as a latency panel and downloads as JSON, CSV or SVG.
 * Pick two flame snapshots as A (before) and B (after) to compare them.
 */
import { useCallback, useEffect, useState } from 'react';
import { latencyExport, type LatencyExportFormat, type LatencyExportKind } from '../../lib/export/latency.ts';
import { fileTimestamp } from '../../lib/format.ts';
import { profileUnit } from '../../lib/protocol.ts';
import { formatWidth } from '../../lib/profile-units.ts';
import type { LatencyProbeFrame } from '../../lib/latency-view.ts';
import type { FlameSnapshotPayload, Role, SnapshotRecord, SnapshotSummary } from '../../lib/protocol-session.ts';
import { RECORDING_TEST_IDS } from '../../lib/test-ids.ts';
import { buttonClass } from '../controls/Field.tsx';
import { downloadBlob, FLAME_FORMAT_LABELS, FLAME_FORMATS, flameFile, type FlameFormat } from '../flamegraph/files.ts';
import { FlameGraph } from '../flamegraph/FlameGraph.tsx';
import type { ZoomStep } from '../flamegraph/zoom.ts';
import { LatencyPanel } from '../latency/LatencyPanel.tsx';
import type { ProfileSession } from '../session/useProfileSession.ts';

export const SNAPSHOTS_CHANGED = 'probeboard:snapshots-changed';

export interface SnapshotPair {
  before: SnapshotSummary;
  after: SnapshotSummary;
}

function isFlamePayload(value: unknown): value is FlameSnapshotPayload {
  return typeof value === 'object' && value !== null && typeof (value as FlameSnapshotPayload).tree === 'object';
}

function isLatencyFrame(value: unknown): value is LatencyProbeFrame {
  return typeof value === 'object' && value !== null && Array.isArray((value as LatencyProbeFrame).columns) && typeof (value as LatencyProbeFrame).spec === 'string';
}

function stemOf(info: SnapshotSummary): string {
  return `probeboard-snapshot-${info.name.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 40)}-${fileTimestamp(info.takenAtMs)}`;
}

export function SnapshotsPanel({
  send,
  role,
  onClose,
  onCompare,
}: {
  send: ProfileSession['send'];
  role: Role | null;
  onClose(): void;
  onCompare(pair: SnapshotPair): void;
}) {
  const [snapshots, setSnapshots] = useState<SnapshotSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [viewing, setViewing] = useState<SnapshotRecord | null>(null);
  const [a, setA] = useState<string | null>(null);
  const [b, setB] = useState<string | null>(null);

  const refresh = useCallback(async () => {
    const reply = await send('snapshots:list', undefined);
    if (reply.ok) {
      setSnapshots(Array.isArray(reply.value) ? [...reply.value].sort((x, y) => y.takenAtMs - x.takenAtMs) : []);
    } else setError(reply.error);
  }, [send]);

  useEffect(() => {
    void refresh();
    const timer = setInterval(() => void refresh(), 5000);
    const onChanged = () => void refresh();
    window.addEventListener(SNAPSHOTS_CHANGED, onChanged);
    return () => {
      clearInterval(timer);
      window.removeEventListener(SNAPSHOTS_CHANGED, onChanged);
    };
  }, [refresh]);

  async function view(id: string) {
    setError(null);
    const reply = await send('snapshot:get', { id });
    if (!reply.ok || !reply.value) return setError(reply.ok ? 'the server sent no snapshot' : reply.error);
    setViewing(reply.value);
  }

  async function remove(info: SnapshotSummary) {
    if (!window.confirm(`Delete snapshot "${info.name}"?`)) return;
    const reply = await send('snapshot:delete', { id: info.id });
    setError(reply.ok ? null : reply.error);
    if (viewing?.info.id === info.id) setViewing(null);
    if (a === info.id) setA(null);
    if (b === info.id) setB(null);
    await refresh();
  }

  const byId = (id: string | null) => snapshots?.find((s) => s.id === id) ?? null;
  const before = byId(a);
  const after = byId(b);

  return (
    <section aria-label="Snapshots" data-testid={RECORDING_TEST_IDS.snapshotsPanel} className="flex min-w-0 flex-col gap-3 rounded-lg border border-slate-700 bg-slate-900/60 p-4">
      <div className="flex flex-wrap items-center gap-2">
        <h2 className="text-sm font-semibold text-slate-100">Snapshots</h2>
        <span className="text-xs text-slate-500">{role === 'operator' ? 'all sessions' : 'this session'}</span>
        <div className="ml-auto flex items-center gap-2">
          <button type="button" data-testid={RECORDING_TEST_IDS.snapshotsCompare} disabled={!before || !after || a === b} onClick={() => before && after && onCompare({ before, after })} className={buttonClass + ' text-xs'}>
            Compare A → B
          </button>
          <button type="button" data-testid={RECORDING_TEST_IDS.snapshotsClose} onClick={onClose} className={buttonClass + ' text-xs'}>
            Close
          </button>
        </div>
      </div>
      <table className="w-full text-left text-xs">
        <thead className="text-slate-400">
          <tr>
            <th className="w-8 px-1" title="before">A</th>
            <th className="w-8 px-1" title="after">B</th>
            <th className="px-1">name</th>
            <th className="px-1">kind</th>
            <th className="px-1">taken</th>
            <th className="px-1">session</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {snapshots === null ? (
            <tr>
              <td colSpan={7} className="px-1 text-slate-500">
                Loading…
              </td>
            </tr>
          ) : snapshots.length === 0 ? (
            <tr>
              <td colSpan={7} className="px-1 text-slate-500">
                No snapshots yet{role === 'operator' ? ': press 📌 Pin on the flame graph or a latency panel.' : '.'}
              </td>
            </tr>
          ) : (
            snapshots.map((s) => (
              <tr key={s.id} data-testid={RECORDING_TEST_IDS.snapshotItem} data-id={s.id} data-name={s.name} data-kind={s.kind} className="border-t border-slate-800 text-slate-200">
                <td className="px-1">
                  {s.kind === 'flame' && <input type="radio" name="snapshot-a" aria-label={`A (before): ${s.name}`} data-testid={RECORDING_TEST_IDS.snapshotA} checked={a === s.id} onChange={() => setA(s.id)} />}
                </td>
                <td className="px-1">
                  {s.kind === 'flame' && <input type="radio" name="snapshot-b" aria-label={`B (after): ${s.name}`} data-testid={RECORDING_TEST_IDS.snapshotB} checked={b === s.id} onChange={() => setB(s.id)} />}
                </td>
                <td className="max-w-64 truncate px-1" title={s.name}>
                  {s.name}
                </td>
                <td className="px-1">{s.kind}</td>
                <td className="px-1 text-slate-400">{new Date(s.takenAtMs).toLocaleString()}</td>
                <td className="px-1 font-mono text-slate-500">{s.sessionId}</td>
                <td className="flex gap-2 px-1">
                  <button type="button" data-testid={RECORDING_TEST_IDS.snapshotView} onClick={() => void view(s.id)} className="text-sky-300 hover:underline">
                    View
                  </button>
                  {role === 'operator' && (
                    <button type="button" data-testid={RECORDING_TEST_IDS.snapshotDelete} onClick={() => void remove(s)} className="text-rose-300 hover:underline">
                      Delete
                    </button>
                  )}
                </td>
              </tr>
            ))
          )}
        </tbody>
      </table>
      {error && (
        <p role="alert" data-testid={RECORDING_TEST_IDS.snapshotsError} className="text-xs text-rose-400">
          {error}
        </p>
      )}
      {viewing && <SnapshotViewer record={viewing} onClose={() => setViewing(null)} />}
    </section>
  );
}

function SnapshotViewer({ record, onClose }: { record: SnapshotRecord; onClose(): void }) {
  const { info, payload } = record;
  const [zoom, setZoom] = useState<ZoomStep[]>([]);
  const [format, setFormat] = useState<string>(info.kind === 'flame' ? 'svg' : 'histogram:json');
  const [error, setError] = useState<string | null>(null);

  async function download() {
    setError(null);
    try {
      if (info.kind === 'flame' && isFlamePayload(payload)) {
        const file = await flameFile(
          payload.tree,
          format as FlameFormat,
          { title: `probeboard snapshot: ${info.name}`, subtitle: `${formatWidth(payload.totalSamples, profileUnit(payload.type))}, taken ${new Date(info.takenAtMs).toISOString()}`, hz: payload.hz, type: payload.type, windowStartMs: payload.windowStartMs, windowEndMs: payload.windowEndMs },
          stemOf(info),
        );
        downloadBlob(file.blob, file.filename);
      } else if (isLatencyFrame(payload)) {
        const [kind, fmt] = format.split(':') as [LatencyExportKind, LatencyExportFormat];
        const file = latencyExport(payload, kind, fmt);
        downloadBlob(new Blob([file.body], { type: file.contentType }), `${stemOf(info)}-${kind}.${file.extension}`);
      }
    } catch (e) {
      setError((e as Error).message);
    }
  }

  return (
    <div data-testid={RECORDING_TEST_IDS.snapshotViewer} data-id={info.id} className="flex flex-col gap-2 rounded-md border border-slate-600 p-3">
      <div className="flex flex-wrap items-center gap-2 text-xs">
        <span className="font-semibold text-slate-100">{info.name}</span>
        <span className="text-slate-400">
          {info.kind} · {new Date(info.takenAtMs).toLocaleString()}
          {isFlamePayload(payload) && ` · ${formatWidth(payload.totalSamples, profileUnit(payload.type))} · ${payload.view.window === 'all' ? 'since start' : `last ${payload.view.window}`}`}
        </span>
        <div className="ml-auto flex items-center gap-2">
          <select aria-label="Download format" value={format} onChange={(e) => setFormat(e.target.value)} className="rounded-md border border-slate-600 bg-slate-900 px-1 py-0.5 text-xs text-slate-200">
            {info.kind === 'flame'
              ? FLAME_FORMATS.map((f) => (
                  <option key={f} value={f}>
                    {FLAME_FORMAT_LABELS[f]}
                  </option>
                ))
              : (['histogram', 'heatmap'] as const).flatMap((k) =>
                  (['json', 'csv', 'svg'] as const).map((f) => (
                    <option key={`${k}:${f}`} value={`${k}:${f}`}>
                      {k} {f.toUpperCase()}
                    </option>
                  )),
                )}
          </select>
          <button type="button" data-testid={RECORDING_TEST_IDS.snapshotDownload} onClick={() => void download()} className={buttonClass + ' text-xs'}>
            Download
          </button>
          <button type="button" onClick={onClose} className={buttonClass + ' text-xs'}>
            Hide
          </button>
        </div>
      </div>
      {error && <p className="text-xs text-rose-400">{error}</p>}
      {info.kind === 'flame' && isFlamePayload(payload) ? (
        <FlameGraph tree={payload.tree} zoomPath={zoom} onZoomChange={(path, cause) => cause === 'click' && setZoom(path)} inverted={false} search="" emptyMessage="This snapshot has no samples." testId={RECORDING_TEST_IDS.snapshotFlame} unit={profileUnit(payload.type)} />
      ) : isLatencyFrame(payload) ? (
        <LatencyPanel frame={payload} />
      ) : (
        <p className="text-xs text-slate-400">This snapshot cannot be shown.</p>
      )}
    </div>
  );
}
