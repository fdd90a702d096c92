'use client';
/**
 * A latency probe's exports: histogram and heatmap as JSON, CSV or SVG, from the server's
 * export route (`kind=histogram|heatmap&probe=<id>&format=json|csv|svg`), the same files the
 * CLI writes.
 */
import { RECORDING_TEST_IDS } from '../../lib/test-ids.ts';
import { Menu, MenuItem } from '../ui/Menu.tsx';
import { downloadUrl, latencyExportUrl, type LatencyFormat, type LatencyKind } from '../flamegraph/files.ts';

const KINDS: LatencyKind[] = ['histogram', 'heatmap'];
const FORMATS: LatencyFormat[] = ['json', 'csv', 'svg'];

export function LatencyExport({ sessionId, probe }: { sessionId: string; probe: string }) {
  return (
    <Menu label="Export ▾" buttonTestId={RECORDING_TEST_IDS.latencyExport} buttonClassName="text-xs" panelClassName="w-56 p-2 text-xs">
      {({ close }) =>
        KINDS.map((kind) => (
          <div key={kind} role="group" aria-label={kind} className="flex items-center gap-1">
            <span className="w-20 pr-1 text-slate-400">{kind}</span>
            {FORMATS.map((format) => (
              <MenuItem
                key={format}
                aria-label={`${kind} as ${format.toUpperCase()}`}
                data-testid={RECORDING_TEST_IDS.exportFormat}
                data-kind={kind}
                data-format={format}
                onClick={() => {
                  downloadUrl(latencyExportUrl(sessionId, probe, kind, format));
                  close();
                }}
                className="flex-1 px-1 py-0.5 text-center text-xs uppercase"
              >
                {format}
              </MenuItem>
            ))}
          </div>
        ))
      }
    </Menu>
  );
}
