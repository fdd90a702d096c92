/**
 * data-testid values of the latency panel. To be merged into lib/test-ids.ts (the one shared
 * table) by its owner; kept here meanwhile so this panel adds no edits to shared files.
 */
export const LATENCY_TEST_IDS = {
  specInput: 'latency-spec-input',
  specAdd: 'latency-spec-add',
  specError: 'latency-spec-error',
  panel: 'latency-panel',
  remove: 'latency-remove',
  unit: 'latency-unit',
  histogram: 'latency-histogram',
  histogramRow: 'latency-histogram-row',
  percentiles: 'latency-percentiles',
  heatmap: 'latency-heatmap',
  heatmapCell: 'latency-heatmap-cell',
  stale: 'latency-stale',
  misses: 'latency-misses',
} as const;
