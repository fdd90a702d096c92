/**
 * The one table of `data-testid` values, shared by components and Playwright specs.
 * Components write `data-testid={TEST_IDS.x}`; specs use `page.getByTestId(TEST_IDS.x)`.
 * Rename here, never inline a literal test id elsewhere.
 */
export const TEST_IDS = {
  // header / session
  connectionState: 'connection-state',
  serverVersion: 'server-version',
  protocolBanner: 'protocol-banner',
  statusError: 'status-error',
  notices: 'notices',
  notice: 'notice',
  noticeDismiss: 'notice-dismiss',
  readOnlyHint: 'read-only-hint',

  // sampling controls (shared by all viewers)
  startStop: 'start-stop',
  runningError: 'running-error',
  hzInput: 'hz-input',
  hzApply: 'hz-apply',
  hzError: 'hz-error',
  targetKind: 'target-kind',
  targetPid: 'target-pid',
  targetComm: 'target-comm',
  targetApply: 'target-apply',
  targetError: 'target-error',

  // view controls (per viewer)
  timeWindow: 'time-window',
  stackMode: 'stack-mode',
  hideIdle: 'hide-idle',
  perThread: 'per-thread',
  viewError: 'view-error',

  // flame graph panel
  searchInput: 'search-input',
  searchShare: 'search-share',
  resetZoom: 'reset-zoom',
  zoomPath: 'zoom-path',
  pauseView: 'pause-view',
  pendingUpdates: 'pending-updates',
  orientation: 'orientation',
  exportSvg: 'export-svg',
  flameGraph: 'flame-graph',
  flameEmpty: 'flame-empty',
  tooltip: 'flame-tooltip',

  // status line
  statusLine: 'status-line',
  totalSamples: 'total-samples',
  sampleRate: 'samples-per-second',
  cpus: 'cpus',
  lostStacks: 'lost-stacks',
  prunedSamples: 'pruned-samples',
  nodeCount: 'node-count',
  frameSeq: 'frame-seq',
  lastUpdate: 'last-update',
  drawTime: 'draw-time',
} as const;

/** The latency section's ids (components/latency). */
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
  section: 'latency-section',
  pidInput: 'latency-pid-input',
  probeCount: 'latency-probe-count',
  state: 'latency-state',
  probeError: 'latency-probe-error',
  empty: 'latency-empty',
  commInput: 'latency-comm-input',
  series: 'latency-series',
  subBucketsInput: 'latency-sub-buckets-input',
  hint: 'latency-hint',
} as const;

/** The events section and probe picker ids (components/events, components/picker). */
export const EVENTS_TEST_IDS = {
  section: 'events-section',
  specInput: 'events-spec-input',
  pidInput: 'events-pid-input',
  specAdd: 'events-spec-add',
  specError: 'events-spec-error',
  probeCount: 'events-probe-count',
  empty: 'events-empty',
  rateChart: 'events-rate-chart',
  panel: 'events-panel',
  state: 'events-state',
  probeError: 'events-probe-error',
  remove: 'events-remove',
  pause: 'events-pause',
  filterComm: 'events-filter-comm',
  filterPid: 'events-filter-pid',
  filterText: 'events-filter-text',
  table: 'events-table',
  row: 'events-row',
  perSecond: 'events-per-second',
  skipped: 'events-skipped',
  lost: 'events-lost',
  // picker
  picker: 'picker',
  pickerMode: 'picker-mode',
  pickerError: 'picker-error',
  tracepointQuery: 'picker-tracepoint-query',
  tracepointItem: 'picker-tracepoint-item',
  processQuery: 'picker-process-query',
  processItem: 'picker-process-item',
  objectItem: 'picker-object-item',
  binaryInput: 'picker-binary-input',
  symbolQuery: 'picker-symbol-query',
  symbolItem: 'picker-symbol-item',
  usdtItem: 'picker-usdt-item',
  pickerTotal: 'picker-total',
} as const;

/** Sessions, roles, viewer links and follow mode (components/dashboard/SessionBar.tsx and friends). */
export const SESSION_TEST_IDS = {
  bar: 'session-bar',
  name: 'session-name',
  role: 'session-role',
  watching: 'session-watching',
  shareOpen: 'share-open',
  shareLifetime: 'share-lifetime',
  shareLabel: 'share-label',
  shareCreate: 'share-create',
  shareUrl: 'share-url',
  shareCopy: 'share-copy',
  shareError: 'share-error',
  links: 'viewer-links',
  link: 'viewer-link',
  linkRevoke: 'viewer-link-revoke',
  follow: 'follow-state',
  followStop: 'follow-stop',
  rejoin: 'follow-rejoin',
  closed: 'session-closed',
  reconnecting: 'reconnecting',
  readOnly: 'read-only-note',
  sessionsOpen: 'sessions-open',
  sessionsList: 'sessions-list',
  sessionItem: 'sessions-item',
  sessionsName: 'sessions-new-name',
  sessionsCreate: 'sessions-create',
  sessionsClose: 'sessions-close',
  sessionsError: 'sessions-error',
} as const;

/** Recording, replay, snapshots, compare and exports (components/dashboard, components/snapshots, components/flamegraph/ExportMenu.tsx). */
export const RECORDING_TEST_IDS = {
  // flame graph export menu (the SVG of what is on screen keeps TEST_IDS.exportSvg)
  exportMenu: 'export-menu',
  exportFormat: 'export-format',
  flamePin: 'flame-pin',
  pinName: 'pin-name',
  pinSave: 'pin-save',
  pinError: 'pin-error',
  // latency panel exports and pin
  latencyExport: 'latency-export',
  latencyPin: 'latency-pin',
  // recording
  recordOpen: 'record-open',
  recordName: 'record-name',
  recordStart: 'record-start',
  recordStop: 'record-stop',
  recordError: 'record-error',
  recIndicator: 'rec-indicator',
  recordingsOpen: 'recordings-open',
  recordingsList: 'recordings-list',
  recordingItem: 'recordings-item',
  recordingReplay: 'recordings-replay',
  recordingDelete: 'recordings-delete',
  recordingCompare: 'recordings-compare',
  recordingsError: 'recordings-error',
  // replay transport
  replayBar: 'replay-bar',
  replayBadge: 'replay-badge',
  replayPlay: 'replay-play',
  replaySeek: 'replay-seek',
  replayPosition: 'replay-position',
  replaySpeed: 'replay-speed',
  replayError: 'replay-error',
  // snapshots
  snapshotsOpen: 'snapshots-open',
  snapshotsPanel: 'snapshots-panel',
  snapshotsClose: 'snapshots-close',
  snapshotItem: 'snapshots-item',
  snapshotView: 'snapshots-view',
  snapshotDelete: 'snapshots-delete',
  snapshotA: 'snapshots-a',
  snapshotB: 'snapshots-b',
  snapshotsError: 'snapshots-error',
  snapshotViewer: 'snapshot-viewer',
  snapshotDownload: 'snapshot-download',
  snapshotFlame: 'snapshot-flame-graph',
  // compare
  comparePanel: 'compare-panel',
  compareRun: 'compare-run',
  compareNormalize: 'compare-normalize',
  compareBeforeFrom: 'compare-before-from',
  compareBeforeTo: 'compare-before-to',
  compareAfterFrom: 'compare-after-from',
  compareAfterTo: 'compare-after-to',
  compareGraph: 'compare-graph',
  compareSummary: 'compare-summary',
  compareDownload: 'compare-download',
  compareError: 'compare-error',
  compareHover: 'compare-hover',
  snapshotsCompare: 'snapshots-compare',
} as const;

export type TestId =
  | (typeof TEST_IDS)[keyof typeof TEST_IDS]
  | (typeof LATENCY_TEST_IDS)[keyof typeof LATENCY_TEST_IDS]
  | (typeof EVENTS_TEST_IDS)[keyof typeof EVENTS_TEST_IDS]
  | (typeof SESSION_TEST_IDS)[keyof typeof SESSION_TEST_IDS]
  | (typeof RECORDING_TEST_IDS)[keyof typeof RECORDING_TEST_IDS];
