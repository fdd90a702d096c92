/**
 * The HTTP queries: `GET /api/sessions/:id/export?kind=…&format=…` (server/http/export-route.ts).
 * Query parameters are strings; each is checked here and turned into the typed request (a
 * flame graph export with its view, or a latency probe's histogram or heatmap). Parameters not
 * named here are left alone: the same query may carry credentials (`token`, `view`).
 */
import { LATENCY_EXPORT_FORMATS } from '../export/latency.ts';
import * as v from 'valibot';
import { check, oneOf, type Result } from './core.ts';
import { StackModeSchema, TimeWindowSchema, type ViewSettings } from './view.ts';

export const FLAME_FORMATS = ['svg', 'folded', 'json', 'speedscope', 'pprof'] as const;
export type FlameFormat = (typeof FLAME_FORMATS)[number];
export const EXPORT_KINDS = ['flame', 'histogram', 'heatmap'] as const;

const flag = (what: string) => v.optional(v.picklist(['0', '1'], `must be 0 or 1 (${what})`));

/** The export query, by kind. Defaults: window 60s, stackMode all, hideIdle 1, perThread 0. */
export const ExportQuerySchema = v.pipe(
  v.variant(
    'kind',
    [
      v.object({
        kind: v.literal('flame'),
        format: oneOf(FLAME_FORMATS),
        window: v.optional(TimeWindowSchema, '60s'),
        stackMode: v.optional(StackModeSchema, 'all'),
        hideIdle: flag('1 hides the idle task'),
        perThread: flag('1 roots stacks at comm-tid'),
      }),
      v.object({
        kind: v.picklist(['histogram', 'heatmap']),
        format: oneOf(LATENCY_EXPORT_FORMATS),
        probe: v.pipe(v.optional(v.string(), ''), v.minLength(1, 'is missing: the export needs probe=<latency probe id>')),
      }),
    ],
    `must be one of ${EXPORT_KINDS.join(', ')}`,
  ),
  v.transform((query) =>
    query.kind === 'flame'
      ? {
          kind: query.kind,
          format: query.format,
          view: { window: query.window, stackMode: query.stackMode, hideIdle: query.hideIdle !== '0', perThread: query.perThread === '1' } satisfies ViewSettings,
        }
      : { kind: query.kind, format: query.format, probe: query.probe },
  ),
);
export type ExportQuery = v.InferOutput<typeof ExportQuerySchema>;

/** Checks an export query (the first value of each parameter counts). */
export function checkExportQuery(params: URLSearchParams): Result<ExportQuery> {
  const query: Record<string, string> = {};
  for (const name of ['kind', 'format', 'window', 'stackMode', 'hideIdle', 'perThread', 'probe']) {
    const value = params.get(name);
    if (value !== null) query[name] = value;
  }
  return check(ExportQuerySchema, query);
}
