/**
 * `GET /api/sessions/:id/export?kind=…&format=…`: the session's current pictures as files.
 *
 * - kind=flame: format svg (standalone, interactive) | folded | json (d3-flame-graph) |
 *   speedscope | pprof (gzipped protobuf). View parameters: window (10s|60s|all, default 60s),
 *   stackMode (all|user|kernel), hideIdle (1|0, default 1), perThread (1|0, default 0: roots
 *   `comm-tid` instead of `comm`).
 * - kind=histogram | heatmap with probe=<latency probe id>: format json | csv | svg.
 *
 * Access: the operator token (cookie, `Authorization: Bearer`, `?token=`) or a live viewer
 * link of that session (`?view=` or its cookie). Read-only: it changes nothing, so viewers may
 * use it. Errors are plain text with a status naming what was wrong (400 bad parameter,
 * 401 no access, 404 no such session or probe).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { profileUnit, type FlameNode, type ProfileType } from '../../lib/protocol.ts';
import { checkExportQuery, type FlameFormat } from '../../lib/schema/http.ts';
import { renderFlameSvg } from '../../lib/flame/svg.ts';
import { treeToFolded } from '../../lib/flame/tree.ts';
import { toD3Json } from '../../lib/flame/d3json.ts';
import { toSpeedscope } from '../../lib/flame/speedscope.ts';
import { flameTreeToPprof, pprofTypeOptions } from '../../lib/flame/pprof.ts';
import { formatCount } from '../../lib/format.ts';
import { formatMicros, profileTitle } from '../../lib/profile-units.ts';
import type { LatencyProbeFrame } from '../../lib/latency-view.ts';
import { latencyExport } from '../../lib/export/latency.ts';
import type { Hub } from '../hub/index.ts';
import { tokenFromRequest, viewTokenFromRequest } from './security.ts';

export { FLAME_FORMATS, type FlameFormat } from '../../lib/schema/http.ts';

const ROUTE = /^\/api\/sessions\/([^/]+)\/export$/;

export interface ExportFile {
  body: string | Uint8Array;
  contentType: string;
  filename: string;
}

export class ExportRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** True when the request is for this route (whatever its method or parameters). */
export function isExportRoute(pathname: string): boolean {
  return ROUTE.test(pathname);
}

export interface FlameExportMeta {
  title: string;
  subtitle: string;
  hz: number;
  /** What the widths count (absent: cpu, samples); offcpu and wall count µs. */
  type?: ProfileType;
  windowStartMs: number;
  windowEndMs: number;
  version: string;
}

/** One flame tree in one format: the same bytes the UI and the CLI produce for it. */
export function flameFile(tree: FlameNode, format: FlameFormat, meta: FlameExportMeta, stem: string): ExportFile {
  switch (format) {
    case 'svg':
      return {
        body: renderFlameSvg(tree, { title: meta.title, subtitle: meta.subtitle, unit: profileUnit(meta.type) }),
        contentType: 'image/svg+xml; charset=utf-8',
        filename: `${stem}.svg`,
      };
    case 'folded':
      return { body: treeToFolded(tree), contentType: 'text/plain; charset=utf-8', filename: `${stem}.folded` };
    case 'json':
      return { body: JSON.stringify(toD3Json(tree)), contentType: 'application/json', filename: `${stem}.json` };
    case 'speedscope':
      return {
        // offcpu and wall weights are µs: speedscope then shows times, not counts.
        body: JSON.stringify(toSpeedscope(tree, { name: meta.title, exporter: `probeboard@${meta.version}`, ...(profileUnit(meta.type) === 'us' && { unit: 'microseconds' as const }) })),
        contentType: 'application/json',
        filename: `${stem}.speedscope.json`,
      };
    case 'pprof':
      return {
        body: flameTreeToPprof(tree, {
          ...pprofTypeOptions(meta.type, meta.hz),
          timeNanos: meta.windowStartMs * 1e6,
          durationNanos: Math.max(0, meta.windowEndMs - meta.windowStartMs) * 1e6,
          gzip: (data) => gzipSync(data),
        }),
        contentType: 'application/octet-stream',
        filename: `${stem}.pb.gz`,
      };
  }
}

/** Builds the file a request asks for, or throws ExportRequestError. */
export function exportFor(hub: Hub, url: URL, credentials: { token: string | null; view: string | null }, version: string): ExportFile {
  const match = ROUTE.exec(url.pathname);
  if (!match) throw new ExportRequestError(404, 'no such route');
  let sessionId: string;
  try {
    sessionId = decodeURIComponent(match[1]);
  } catch {
    throw new ExportRequestError(400, 'the session id is not valid percent-encoding');
  }
  const admission = hub.admit(sessionId, credentials);
  if (!admission.ok) throw new ExportRequestError(/^no session/.test(admission.error) ? 404 : admission.error.startsWith('session id') ? 400 : 401, admission.error);
  const session = hub.session(sessionId);
  if (!session) throw new ExportRequestError(404, `no session ${sessionId}`);
  // The query's schema: lib/schema/http.ts ExportQuerySchema.
  const query = checkExportQuery(url.searchParams);
  if (!query.ok) throw new ExportRequestError(400, query.error);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');

  if (query.value.kind === 'flame') {
    const { format, view } = query.value;
    const source = session.features.find((feature) => feature.exports?.flame)?.exports?.flame;
    if (!source) throw new ExportRequestError(404, `session ${sessionId} has no flame graph`);
    const picture = source(view);
    const window = view.window === 'all' ? 'since start' : `last ${view.window}`;
    // Widths are samples (cpu) or µs of time (offcpu: blocked; wall: on- and off-CPU).
    const amount =
      picture.type === 'offcpu'
        ? `${formatMicros(picture.totalSamples)} off-CPU`
        : picture.type === 'wall'
          ? `${formatMicros(picture.totalSamples)} on- and off-CPU (on-CPU samples at ${picture.hz} Hz)`
          : `${formatCount(picture.totalSamples)} samples at ${picture.hz} Hz`;
    const subtitle = `${amount}, ${window}, ${view.stackMode} stacks`;
    return flameFile(
      picture.tree,
      format,
      { title: profileTitle(picture.type), subtitle, hz: picture.hz, type: picture.type, windowStartMs: picture.windowStartMs, windowEndMs: picture.windowEndMs, version },
      `probeboard-${sessionId}-flame-${stamp}`,
    );
  }

  const { kind, format, probe } = query.value;
  let frame: LatencyProbeFrame | null = null;
  for (const feature of session.features) frame ??= feature.exports?.latency?.(probe) ?? null;
  if (!frame) throw new ExportRequestError(404, `no latency probe ${JSON.stringify(probe.slice(0, 40))} in session ${sessionId}`);
  const file = latencyExport(frame, kind, format);
  return { ...file, filename: `probeboard-${sessionId}-${probe}-${kind}-${stamp}.${file.extension}` };
}

/** The route handler: answers the request completely. */
export function handleExport(hub: Hub, req: IncomingMessage, res: ServerResponse, version: string): void {
  const url = new URL(req.url ?? '/', 'http://x');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('probeboard: use GET\n');
    return;
  }
  let file: ExportFile;
  try {
    file = exportFor(hub, url, { token: tokenFromRequest(req), view: viewTokenFromRequest(req) }, version);
  } catch (error) {
    const status = error instanceof ExportRequestError ? error.status : 500;
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(`probeboard: ${(error as Error).message}\n`);
    return;
  }
  const body = typeof file.body === 'string' ? Buffer.from(file.body) : Buffer.from(file.body.buffer, file.body.byteOffset, file.body.byteLength);
  res.writeHead(200, {
    'content-type': file.contentType,
    'content-length': body.length,
    'content-disposition': `attachment; filename="${file.filename}"`,
    'cache-control': 'no-store',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
