'use client';
/**
 * A latency probe's exports: histogram and heatmap as JSON, CSV or SVG, from the server's
 * export route (`kind=histogram|heatmap&probe=<id>&format=json|csv|svg`), the same files the
 * CLI writes.
 */
import { useCallback, useRef, useState } from 'react';
import { RECORDING_TEST_IDS } from '../../lib/test-ids.ts';
import { buttonClass } from '../controls/Field.tsx';
import { useDismiss } from '../ui/useDismiss.ts';
import { downloadUrl, latencyExportUrl, type LatencyFormat, type LatencyKind } from '../flamegraph/files.ts';

const KINDS: LatencyKind[] = ['histogram', 'heatmap'];
const FORMATS: LatencyFormat[] = ['json', 'csv', 'svg'];

export function LatencyExport({ sessionId, probe }: { sessionId: string; probe: string }) {
  const [open, setOpen] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  const dismiss = useCallback(() => setOpen(false), []);
  useDismiss(root, open, dismiss);
  return (
    <div ref={root} className="relative">
      <button type="button" data-testid={RECORDING_TEST_IDS.latencyExport} aria-expanded={open} onClick={() => setOpen((o) => !o)} className={buttonClass + ' text-xs'}>
        Export ▾
      </button>
      {open && (
        <div role="menu" className="absolute right-0 z-20 mt-2 grid w-56 grid-cols-[auto_1fr_1fr_1fr] items-center gap-1 rounded-lg border border-slate-600 bg-slate-900 p-2 text-xs shadow-xl">
          {KINDS.map((kind) => (
            <div key={kind} className="contents">
              <span className="pr-1 text-slate-400">{kind}</span>
              {FORMATS.map((format) => (
                <button
                  key={format}
                  type="button"
                  role="menuitem"
                  data-testid={RECORDING_TEST_IDS.exportFormat}
                  data-kind={kind}
                  data-format={format}
                  onClick={() => {
                    downloadUrl(latencyExportUrl(sessionId, probe, kind, format));
                    setOpen(false);
                  }}
                  className="rounded px-1 py-0.5 uppercase text-slate-200 hover:bg-slate-800"
                >
                  {format}
                </button>
              ))}
            </div>
          ))}
        </div>
      )}
    </div>
  );
}
