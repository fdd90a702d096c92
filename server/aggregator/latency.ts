/**
 * Latency view of one probe: folds the collector's batches (server/collectors/latency.ts) into
 * what the dashboard draws (lib/latency-view.ts LatencyProbeFrame): newest interval, totals,
 * scrolling heatmap columns, per-key totals, misses, stale notice. Pure and deterministic:
 * no I/O, the batch carries its own timestamps.
 */
import { emptyProbeFrame, HEATMAP_COLUMNS, pushColumn, type HeatmapColumn, type LatencyProbeFrame } from '../../lib/latency-view.ts';
import type { LatencyBatch } from '../collectors/latency.ts';

export class LatencyView {
  readonly id: string;
  readonly spec: string;
  readonly #maxColumns: number;
  #columns: HeatmapColumn[] = [];
  #last: LatencyProbeFrame;

  constructor(id: string, spec: string, maxColumns = HEATMAP_COLUMNS) {
    this.id = id;
    this.spec = spec;
    this.#maxColumns = maxColumns;
    this.#last = emptyProbeFrame(id, spec);
  }

  /** Adds one interval; returns the frame to send. */
  apply(batch: LatencyBatch): LatencyProbeFrame {
    this.#columns = pushColumn(
      this.#columns,
      columnOf(batch),
      this.#maxColumns,
    );
    const keyed = batch.series.length > 1 || (batch.series.length === 1 && batch.series[0].label !== '');
    this.#last = {
      id: this.id,
      spec: this.spec,
      interval: batch.interval,
      total: batch.total,
      columns: this.#columns,
      series: keyed ? batch.series.map((s) => ({ label: s.label, total: s.total })) : [],
      misses: batch.missesTotal,
      stale: batch.stale,
      targetExited: batch.targetExited,
      hint: batch.hint,
      sampledAtMs: batch.endMs,
    };
    return this.#last;
  }

  /** The newest frame (for a viewer that joins late). */
  get frame(): LatencyProbeFrame {
    return this.#last;
  }
}

/** The heatmap column of one interval: its log2 and fine counts and its bounds. */
function columnOf(batch: LatencyBatch): HeatmapColumn {
  const { interval } = batch;
  const column: HeatmapColumn = { endMs: batch.endMs, durationMs: Math.max(0, batch.endMs - batch.startMs), buckets: interval.buckets };
  if (interval.fine) column.fine = interval.fine;
  if (interval.min !== undefined) column.min = interval.min;
  if (interval.max !== undefined) column.max = interval.max;
  return column;
}
