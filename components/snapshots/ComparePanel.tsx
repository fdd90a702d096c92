'use client';
/**
 * Differential flame graph: A = before, B = after, from two flame snapshots (`snapshot:get`
 * each) or from two time windows of one recording (`compare:windows {recordingId, before:
 * {fromMs, toMs}, after: {fromMs, toMs}, view}`, ms from the recording's start). Drawn with
 * lib/flame/diff.ts (`diffTrees` + `renderDiffSvg`, the renderer of the CLI's diff): widths from
 * B, red = grew, blue = shrank; "normalize totals" compares shares instead of sample counts.
 * Hovering a frame shows its before/after/delta; "Download SVG" saves the interactive file.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { diffTrees, renderDiffSvg } from '../../lib/flame/diff.ts';
import { fileTimestamp } from '../../lib/format.ts';
import type { FlameNode, ViewSettings } from '../../lib/protocol.ts';
import type { CompareWindowsReply, FlameSnapshotPayload, RecordingSummary, SnapshotRecord, SnapshotSummary } from '../../lib/protocol-session.ts';
import { RECORDING_TEST_IDS } from '../../lib/test-ids.ts';
import { buttonClass, inputClass } from '../controls/Field.tsx';
import { downloadBlob } from '../flamegraph/files.ts';
import type { ProfileSession } from '../session/useProfileSession.ts';

export type CompareSource =
  | { kind: 'snapshots'; before: SnapshotSummary; after: SnapshotSummary }
  | { kind: 'recording'; recording: RecordingSummary };

interface Sides {
  before: FlameNode;
  after: FlameNode;
  beforeLabel: string;
  afterLabel: string;
}

const SECOND = 1000;

export function ComparePanel({ source, send, view, onClose }: { source: CompareSource; send: ProfileSession['send']; view: ViewSettings; onClose(): void }) {
  const [sides, setSides] = useState<Sides | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [normalize, setNormalize] = useState(true);
  const [hover, setHover] = useState<string | null>(null);
  const graph = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(1200);

  // Recording windows, in seconds from its start (defaults: first half vs second half).
  const duration = source.kind === 'recording' ? Math.max(0, (source.recording.endedAtMs ?? Date.now()) - source.recording.startedAtMs) : 0;
  const half = Math.floor(duration / 2 / 100) / 10;
  const [windows, setWindows] = useState(() => ({ bf: '0', bt: String(half), af: String(half), at: String(Math.ceil(duration / 100) / 10) }));

  async function loadSnapshots(before: SnapshotSummary, after: SnapshotSummary) {
    setBusy(true);
    setError(null);
    try {
      const [b, a] = await Promise.all([send('snapshot:get', { id: before.id }), send('snapshot:get', { id: after.id })]);
      if (!b.ok || !a.ok) return setError(!b.ok ? b.error : a.ok ? '' : a.error);
      const tb = (b.value?.payload as FlameSnapshotPayload | undefined)?.tree;
      const ta = (a.value?.payload as FlameSnapshotPayload | undefined)?.tree;
      if (!tb || !ta) return setError('both snapshots must be flame graphs');
      setSides({ before: tb, after: ta, beforeLabel: before.name, afterLabel: after.name });
    } finally {
      setBusy(false);
    }
  }

  async function loadWindows(recording: RecordingSummary) {
    const ms = (text: string) => Math.round(Number(text) * SECOND);
    const before = { fromMs: ms(windows.bf), toMs: ms(windows.bt) };
    const after = { fromMs: ms(windows.af), toMs: ms(windows.at) };
    if (![before.fromMs, before.toMs, after.fromMs, after.toMs].every(Number.isFinite)) return setError('the windows must be numbers of seconds');
    setBusy(true);
    setError(null);
    try {
      const reply = await send('compare:windows', { recordingId: recording.id, before, after, view: { ...view, window: 'all' } });
      if (!reply.ok || !reply.value) return setError(reply.ok ? 'the server sent nothing' : reply.error);
      const s = (r: { fromMs: number; toMs: number }) => `${r.fromMs / SECOND}–${r.toMs / SECOND} s`;
      setSides({ before: reply.value.before.tree, after: reply.value.after.tree, beforeLabel: `${recording.name} ${s(before)}`, afterLabel: `${recording.name} ${s(after)}` });
    } finally {
      setBusy(false);
    }
  }

  useEffect(() => {
    setSides(null);
    if (source.kind === 'snapshots') void loadSnapshots(source.before, source.after);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [source]);

  useEffect(() => {
    const el = graph.current;
    if (!el) return;
    const observer = new ResizeObserver((entries) => {
      const w = Math.floor(entries[0]?.contentRect.width ?? 0);
      if (w > 200) setWidth((previous) => (Math.abs(previous - w) > 8 ? w : previous));
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  const diff = useMemo(() => (sides ? diffTrees(sides.before, sides.after, { normalize }) : null), [sides, normalize]);
  const title = sides ? `Differential flame graph: ${sides.beforeLabel} → ${sides.afterLabel}` : '';
  const svg = useMemo(() => (diff ? renderDiffSvg(diff, { title, width, interactive: false }) : ''), [diff, title, width]);

  function download() {
    if (!diff) return;
    const text = renderDiffSvg(diff, { title });
    downloadBlob(new Blob([text], { type: 'image/svg+xml' }), `probeboard-diff-${fileTimestamp(Date.now())}.svg`);
  }

  return (
    <section aria-label="Compare" data-testid={RECORDING_TEST_IDS.comparePanel} className="flex min-w-0 flex-col gap-3 rounded-lg border border-slate-700 bg-slate-900/60 p-4">
      <div className="flex flex-wrap items-center gap-2">
        <h2 className="text-sm font-semibold text-slate-100">Compare</h2>
        <span className="text-xs text-slate-400">
          {source.kind === 'snapshots' ? (
            <>
              A <b className="text-slate-200">{source.before.name}</b> → B <b className="text-slate-200">{source.after.name}</b>
            </>
          ) : (
            <>
              windows of <b className="text-slate-200">{source.recording.name}</b> ({(duration / SECOND).toFixed(1)} s)
            </>
          )}
        </span>
        <label className="ml-2 flex items-center gap-1 text-xs text-slate-300">
          <input type="checkbox" data-testid={RECORDING_TEST_IDS.compareNormalize} checked={normalize} onChange={(e) => setNormalize(e.target.checked)} />
          normalize totals
        </label>
        <div className="ml-auto flex items-center gap-2">
          <button type="button" data-testid={RECORDING_TEST_IDS.compareDownload} disabled={!diff} onClick={download} className={buttonClass + ' text-xs'}>
            Download SVG
          </button>
          <button type="button" onClick={onClose} className={buttonClass + ' text-xs'}>
            Close
          </button>
        </div>
      </div>
      {source.kind === 'recording' && (
        <form
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            void loadWindows(source.recording);
          }}
          className="flex flex-wrap items-center gap-2 text-xs text-slate-300"
        >
          <span>A (before), s:</span>
          <input data-testid={RECORDING_TEST_IDS.compareBeforeFrom} aria-label="Before from (s)" value={windows.bf} onChange={(e) => setWindows({ ...windows, bf: e.target.value })} className={inputClass + ' w-20'} />
          –
          <input data-testid={RECORDING_TEST_IDS.compareBeforeTo} aria-label="Before to (s)" value={windows.bt} onChange={(e) => setWindows({ ...windows, bt: e.target.value })} className={inputClass + ' w-20'} />
          <span className="ml-2">B (after), s:</span>
          <input data-testid={RECORDING_TEST_IDS.compareAfterFrom} aria-label="After from (s)" value={windows.af} onChange={(e) => setWindows({ ...windows, af: e.target.value })} className={inputClass + ' w-20'} />
          –
          <input data-testid={RECORDING_TEST_IDS.compareAfterTo} aria-label="After to (s)" value={windows.at} onChange={(e) => setWindows({ ...windows, at: e.target.value })} className={inputClass + ' w-20'} />
          <button type="submit" data-testid={RECORDING_TEST_IDS.compareRun} disabled={busy} className={buttonClass + ' text-xs'}>
            Compare
          </button>
        </form>
      )}
      {error && (
        <p role="alert" data-testid={RECORDING_TEST_IDS.compareError} className="text-xs text-rose-400">
          {error}
        </p>
      )}
      {diff && (
        <p data-testid={RECORDING_TEST_IDS.compareSummary} data-grew={diff.summary.grewFrames} data-shrank={diff.summary.shrankFrames} className="text-xs text-slate-400">
          before {diff.summary.beforeTotal.toLocaleString()} samples · after {diff.summary.afterTotal.toLocaleString()}
          {diff.summary.normalized && diff.summary.scale !== 1 && ` · before scaled ×${Number(diff.summary.scale.toPrecision(4))}`} · {diff.summary.grewFrames} frames grew (red),{' '}
          {diff.summary.shrankFrames} shrank (blue){diff.removed.length > 0 && ` · ${diff.removed.length} only in A (not drawn)`}
        </p>
      )}
      <p data-testid={RECORDING_TEST_IDS.compareHover} className="min-h-4 truncate font-mono text-xs text-slate-300">
        {hover ?? (busy ? 'Loading…' : diff ? 'Hover a frame: samples after, before, change.' : '')}
      </p>
      <div
        ref={graph}
        data-testid={RECORDING_TEST_IDS.compareGraph}
        className="max-h-[70vh] min-h-[120px] overflow-auto rounded-md bg-white/95 [&_svg]:block"
        onMouseOver={(e) => {
          const frame = (e.target as Element).closest?.('g.frame');
          setHover(frame?.querySelector('title')?.textContent ?? null);
        }}
        onMouseLeave={() => setHover(null)}
        dangerouslySetInnerHTML={{ __html: svg }}
      />
    </section>
  );
}
