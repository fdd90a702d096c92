/**
 * One latency probe's pictures as files: the histogram (totals since the probe was added) or
 * the heatmap (the frame's columns) in JSON, CSV or SVG. Used by the session export route
 * (server/http/export-route.ts); isomorphic, pure.
 */
import type { LatencyProbeFrame } from '../latency-view.ts';
import type { TimeUnit } from '../histogram.ts';
import { histogramToCsv, histogramToJson, histogramToSvg } from './histogram.ts';
import { heatmapToCsv, heatmapToJson, heatmapToSvg } from './heatmap.ts';

export const LATENCY_EXPORT_KINDS = ['histogram', 'heatmap'] as const;
export type LatencyExportKind = (typeof LATENCY_EXPORT_KINDS)[number];
export const LATENCY_EXPORT_FORMATS = ['json', 'csv', 'svg'] as const;
export type LatencyExportFormat = (typeof LATENCY_EXPORT_FORMATS)[number];

export interface LatencyExportFile {
  body: string;
  contentType: string;
  /** File name extension without the dot: json, csv, svg. */
  extension: LatencyExportFormat;
}

export interface LatencyExportOptions {
  /** Seconds the histogram covers (its JSON `interval_s`). Default 0: not known from the frame. */
  seconds?: number;
  /** Unit of the SVG axis labels. Default 'us'. */
  unit?: TimeUnit;
}

const CONTENT_TYPES: Record<LatencyExportFormat, string> = {
  json: 'application/json',
  csv: 'text/csv; charset=utf-8',
  svg: 'image/svg+xml; charset=utf-8',
};

/**
 * The file for one probe frame. histogram: `frame.total` (JSON: the object `probeboard latency
 * --format json` prints for totals, `"final": true`, with `by` per key for keyed probes);
 * heatmap: `frame.columns`.
 */
export function latencyExport(frame: LatencyProbeFrame, kind: LatencyExportKind, format: LatencyExportFormat, options: LatencyExportOptions = {}): LatencyExportFile {
  const file = (body: string): LatencyExportFile => ({ body, contentType: CONTENT_TYPES[format], extension: format });
  const subtitle = frame.sampledAtMs > 0 ? `as of ${new Date(frame.sampledAtMs).toISOString().replace('T', ' ').slice(0, 19)} UTC` : undefined;
  if (kind === 'histogram') {
    switch (format) {
      case 'json': {
        const series = frame.series.length > 0 ? frame.series.map((s) => ({ label: s.label, histogram: s.total })) : undefined;
        return file(JSON.stringify(histogramToJson(frame.spec, frame.total, options.seconds ?? 0, { series, final: true })) + '\n');
      }
      case 'csv':
        return file(histogramToCsv(frame.total));
      case 'svg':
        return file(histogramToSvg(frame.total, { title: `Latency of ${frame.spec} (${frame.total.count} since added)`, subtitle, unit: options.unit }));
    }
  }
  switch (format) {
    case 'json':
      return file(JSON.stringify(heatmapToJson(frame.spec, frame.columns)) + '\n');
    case 'csv':
      return file(heatmapToCsv(frame.columns));
    case 'svg':
      return file(heatmapToSvg(frame.columns, { title: `Latency heatmap of ${frame.spec}`, subtitle, unit: options.unit }));
  }
}
