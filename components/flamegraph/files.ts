/**
 * Files of a flame graph, made in the browser or fetched from the server's export route.
 *
 * - `flameFile`: a tree in one format, client-side (lib/flame renderers, the same ones the
 *   server and the CLI use; pprof gzipped with the browser's CompressionStream).
 * - `exportUrl`: `GET /api/sessions/<id>/export?…` (server/http/export-route.ts). The page's
 *   cookie authorizes it (operator token or viewer link), so a plain download link works.
 */
import { toD3Json } from '../../lib/flame/d3json.ts';
import { encodePprof, gzipAsync, pprofTypeOptions } from '../../lib/flame/pprof.ts';
import { toSpeedscope } from '../../lib/flame/speedscope.ts';
import { renderFlameSvg } from '../../lib/flame/svg.ts';
import { treeToFolded } from '../../lib/flame/tree.ts';
import { profileUnit, type FlameNode, type ProfileType, type ViewSettings } from '../../lib/protocol.ts';

export const FLAME_FORMATS = ['svg', 'folded', 'json', 'speedscope', 'pprof'] as const;
export type FlameFormat = (typeof FLAME_FORMATS)[number];

export const FLAME_FORMAT_LABELS: Record<FlameFormat, string> = {
  svg: 'SVG (interactive)',
  folded: 'Folded stacks',
  json: 'd3-flame-graph JSON',
  speedscope: 'speedscope JSON',
  pprof: 'pprof (.pb.gz)',
};

const EXTENSIONS: Record<FlameFormat, string> = {
  svg: 'svg',
  folded: 'folded',
  json: 'json',
  speedscope: 'speedscope.json',
  pprof: 'pb.gz',
};

export interface FlameFileMeta {
  title: string;
  subtitle?: string;
  /** Sampling rate (pprof period of a cpu profile), Hz; 0 = unknown. */
  hz?: number;
  /** What widths count: absent or cpu = samples; offcpu and wall = µs (pprof sample type offcpu/wall, microseconds). */
  type?: ProfileType;
  windowStartMs?: number;
  windowEndMs?: number;
}

/** `tree` as a file in `format`, built here in the browser. */
export async function flameFile(tree: FlameNode, format: FlameFormat, meta: FlameFileMeta, stem: string): Promise<{ blob: Blob; filename: string }> {
  const filename = `${stem}.${EXTENSIONS[format]}`;
  switch (format) {
    case 'svg':
      return { blob: new Blob([renderFlameSvg(tree, { title: meta.title, subtitle: meta.subtitle, unit: profileUnit(meta.type) })], { type: 'image/svg+xml' }), filename };
    case 'folded':
      return { blob: new Blob([treeToFolded(tree)], { type: 'text/plain' }), filename };
    case 'json':
      return { blob: new Blob([JSON.stringify(toD3Json(tree))], { type: 'application/json' }), filename };
    case 'speedscope':
      // offcpu and wall weights are µs: speedscope then shows times, not counts.
      return {
        blob: new Blob([JSON.stringify(toSpeedscope(tree, { name: meta.title, exporter: 'probeboard', ...(profileUnit(meta.type) === 'us' && { unit: 'microseconds' as const }) }))], { type: 'application/json' }),
        filename,
      };
    case 'pprof': {
      const hz = meta.hz ?? 0;
      // Time and duration of the window shown; left unset (pprof's 0, "unknown") only without one.
      const start = meta.windowStartMs;
      const raw = encodePprof(tree, {
        ...pprofTypeOptions(meta.type, hz),
        ...(start !== undefined && start > 0 && { timeNanos: start * 1e6, durationNanos: Math.max(0, (meta.windowEndMs ?? start) - start) * 1e6 }),
      });
      const gz = await gzipAsync(raw);
      return { blob: new Blob([gz as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }), filename };
    }
  }
}

/** Starts a download of `blob` as `filename`. */
export function downloadBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Starts a download of a same-origin URL (the server names the file). */
export function downloadUrl(url: string): void {
  const a = document.createElement('a');
  a.href = url;
  a.download = '';
  document.body.appendChild(a);
  a.click();
  a.remove();
}

/** The export route for a session: flame graph of one view. */
export function flameExportUrl(sessionId: string, format: FlameFormat, view: ViewSettings): string {
  const params = new URLSearchParams({
    kind: 'flame',
    format,
    window: view.window,
    stackMode: view.stackMode,
    hideIdle: view.hideIdle ? '1' : '0',
  });
  if (view.perThread) params.set('perThread', '1');
  return `/api/sessions/${encodeURIComponent(sessionId)}/export?${params.toString()}`;
}

export type LatencyKind = 'histogram' | 'heatmap';
export type LatencyFormat = 'json' | 'csv' | 'svg';

/** The export route for a latency probe's histogram or heatmap. */
export function latencyExportUrl(sessionId: string, probe: string, kind: LatencyKind, format: LatencyFormat): string {
  const params = new URLSearchParams({ kind, probe, format });
  return `/api/sessions/${encodeURIComponent(sessionId)}/export?${params.toString()}`;
}
