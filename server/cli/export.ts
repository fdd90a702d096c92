/**
 * `probeboard export`: turn folded stacks (ours, perf's stackcollapse, bpftrace's) into another
 * format, or compare two profiles as a differential flame graph.
 *
 * Shape: one function per source (where the stacks come from: `readFoldedSource`,
 * `readDiffSource`) and one per output (`renderFlame`, `renderDiff`), so new sources (a running
 * server, a recording file) plug in as another reader that yields a FlameNode tree.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { choiceOption, intOption, parseCommandLine, stringOption, UsageError } from './args.ts';
import { parseFolded } from '../aggregator/folded.ts';
import type { FlameNode } from '../../lib/protocol.ts';
import { renderFlameSvg } from '../../lib/flame/svg.ts';
import { toD3Json } from '../../lib/flame/d3json.ts';
import { speedscopeFromFolded } from '../../lib/flame/speedscope.ts';
import { flameTreeToPprof } from '../../lib/flame/pprof.ts';
import { diffToFolded, diffTrees, renderDiffSvg } from '../../lib/flame/diff.ts';
import { treeToFolded } from '../../lib/flame/tree.ts';
import { RecordingStore } from '../recording/store.ts';
import { flameOfRecording, type RecordingRange } from '../hub/recording.ts';
import { resolveDataDir } from './serve.ts';

export const EXPORT_FORMATS = ['svg', 'json', 'speedscope', 'folded', 'pprof'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
export const DIFF_FORMATS = ['svg', 'folded'] as const;
export type DiffFormat = (typeof DIFF_FORMATS)[number];

export const EXPORT_HELP = `usage: probeboard export [--input FILE] --format svg|json|speedscope|folded|pprof
                        [--output FILE] [--title TEXT] [--icicle] [--static] [--hz HZ]
       probeboard export --diff BEFORE AFTER [--normalize] [--format svg|folded]
                        [--output FILE] [--title TEXT] [--icicle] [--static]
       probeboard export --server URL [--session ID] [--token T | --view LINK]
                        [--kind flame|histogram|heatmap] [--probe ID] [--window 10s|60s|all]
                        --format F [--output FILE]
       probeboard export [--data-dir DIR] --list
       probeboard export [--data-dir DIR] --recording ID [--from MS] [--to MS] [--per-thread] --format F [--output FILE]
       probeboard export [--data-dir DIR] --snapshot ID --format F [--output FILE]

Reads folded stacks ("frame;frame;frame COUNT" per line, root first; kernel frames may end
in _[k]) from FILE or stdin — e.g. saved by \`probeboard profile\` — and writes them as:
  svg          the standalone flame graph the dashboard exports; interactive in a browser
               (hover, click to zoom, Search); --static leaves the script out
  json         the d3-flame-graph tree {name, value, children}
  speedscope   a file speedscope opens
  folded       normalized folded stacks (merged, sorted)
  pprof        a gzipped pprof profile (go tool pprof, Pyroscope); binary: to --output or
               a pipe, never a terminal. --hz HZ (the sampling rate) adds cpu nanoseconds
               per sample. Kernel frames keep their _[k] suffix (file "[kernel]").
               From a recording, a snapshot or a server: time and duration of the
               window, one mapping per binary (file, GNU build-id) and [kernel];
               folded text has neither (time 0, pseudo-mappings by frame kind).

--diff BEFORE AFTER compares two folded files as a differential flame graph: widths from
AFTER, red = grew, blue = shrank (inclusive samples of the frame and its callees), frames
found only in BEFORE counted in the subtitle. --normalize scales BEFORE to AFTER's total
first (compare shares, not counts). --format svg (default) or folded: "stack BEFORE AFTER"
per line, as flamegraph.pl reads for differential graphs (BEFORE rounded when normalized).

--server URL downloads the current picture of a running server's session through
GET /api/sessions/ID/export (the same bytes as the dashboard's export menu). URL may be the
one the server printed or a viewer link: its ?token=, ?view= and ?session= are used. The
token may also come from --token or PROBEBOARD_TOKEN. kind flame takes the formats above
(view: --window, default 60s); histogram and heatmap (with --probe lat-N) take json, csv, svg.

--data-dir DIR (default: as probeboard serve; also PROBEBOARD_DATA_DIR) reads the recordings
database directly, read-only, even while a server records into it:
  --list               recordings and snapshots, with their ids
  --recording ID       the flame graph of a recording's profile (--from/--to: ms from its start);
                       --per-thread roots stacks at comm-tid (also with --server)
  --snapshot ID        a pinned flame graph
In --diff, BEFORE and AFTER may also be snapshot:ID, or FROM-TO (ms) windows of --recording ID.

No root needed; no kernel access.
`;

/** Reads a file, or stdin when `path` is undefined; unreadable is a usage error. */
function readText(path: string | undefined): string {
  try {
    return readFileSync(path ?? 0, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${path ?? 'stdin'}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** Source: folded stacks in a file or stdin, as a tree with root `all`. */
export function readFoldedSource(path: string | undefined): FlameNode {
  const name = path ?? 'stdin';
  let tree: FlameNode;
  try {
    tree = parseFolded(readText(path));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`${name}: ${(error as Error).message}`);
  }
  if (tree.v === 0) throw new UsageError(`${name} holds no samples`);
  return tree;
}

/** Opens the recordings database read-only, with the user's mistake named. */
function openStore(dataDir: string): RecordingStore {
  try {
    return RecordingStore.open(dataDir, { readOnly: true });
  } catch (error) {
    throw new UsageError(`${(error as Error).message} (pass --data-dir)`);
  }
}

/** Source: a recording's profile, whole or between two offsets (ms from its start). */
export function readRecordingSource(store: RecordingStore, id: string, range: RecordingRange | null, perThread = false): FlameNode {
  return readRecordingPicture(store, id, range, perThread).tree;
}

/** A recording's profile with the bounds of the intervals it holds (ms since the epoch). */
export function readRecordingPicture(store: RecordingStore, id: string, range: RecordingRange | null, perThread = false): { tree: FlameNode; time: FlameTime } {
  let built;
  try {
    built = flameOfRecording(store, id, range, { window: 'all', stackMode: 'all', hideIdle: false, perThread });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (built.tree.v === 0) throw new UsageError(`recording ${id}${range ? ` between ${range.fromMs} and ${range.toMs} ms` : ''} holds no profile samples`);
  return { tree: built.tree, time: { startMs: built.windowStartMs, endMs: built.windowEndMs } };
}

/** The span a picture covers, ms since the epoch (pprof's time_nanos and duration_nanos). */
export interface FlameTime {
  startMs: number;
  endMs: number;
}

/** A pinned flame graph with the window it showed, when the snapshot kept it. */
export function readSnapshotPicture(store: RecordingStore, id: string): { tree: FlameNode; time?: FlameTime } {
  const tree = readSnapshotSource(store, id);
  const payload = store.getSnapshot(id)!.payload as { windowStartMs?: unknown; windowEndMs?: unknown };
  const { windowStartMs, windowEndMs } = payload;
  if (typeof windowStartMs === 'number' && typeof windowEndMs === 'number' && windowStartMs > 0) return { tree, time: { startMs: windowStartMs, endMs: windowEndMs } };
  return { tree };
}

/** Source: a pinned flame graph snapshot. */
export function readSnapshotSource(store: RecordingStore, id: string): FlameNode {
  const found = store.getSnapshot(id);
  if (!found) throw new UsageError(`no snapshot ${JSON.stringify(id)} in ${store.file}`);
  if (found.info.kind !== 'flame') throw new UsageError(`snapshot ${id} is a ${found.info.kind}, not a flame graph`);
  return (found.payload as { tree: FlameNode }).tree;
}

/** `FROM-TO` in ms, e.g. 0-30000. */
function parseRange(text: string): RecordingRange | null {
  const match = /^(\d+)-(\d+)$/.exec(text);
  if (!match) return null;
  const range = { fromMs: Number(match[1]), toMs: Number(match[2]) };
  if (range.toMs < range.fromMs) throw new UsageError(`window ${text}: FROM must not be after TO`);
  return range;
}

/** Source of --diff: two folded files, snapshot:ID entries, or FROM-TO windows of a recording. */
export function readDiffSource(
  beforeSpec: string,
  afterSpec: string,
  store: () => RecordingStore = () => {
    throw new UsageError('snapshot: and FROM-TO entries need the recordings database (--data-dir)');
  },
  recordingId?: string,
): { before: FlameNode; after: FlameNode } {
  const read = (spec: string): FlameNode => {
    if (spec.startsWith('snapshot:')) return readSnapshotSource(store(), spec.slice('snapshot:'.length));
    const range = parseRange(spec);
    if (range) {
      if (!recordingId) throw new UsageError(`${spec} is a window: name its recording with --recording ID`);
      return readRecordingSource(store(), recordingId, range);
    }
    return readFoldedSource(spec);
  };
  return { before: read(beforeSpec), after: read(afterSpec) };
}

/** Source: a running server's export route. Returns the bytes as the server sent them. */
export async function readServerSource(request: {
  server: string;
  session?: string;
  token?: string;
  view?: string;
  kind: string;
  format: string;
  probe?: string;
  window?: string;
  perThread?: boolean;
}): Promise<Uint8Array> {
  let base: URL;
  try {
    base = new URL(request.server);
  } catch {
    throw new UsageError(`--server ${JSON.stringify(request.server)} is not a URL (e.g. http://127.0.0.1:7070/)`);
  }
  const session = request.session ?? base.searchParams.get('session') ?? 'main';
  const token = request.token ?? base.searchParams.get('token') ?? process.env.PROBEBOARD_TOKEN ?? undefined;
  const view = request.view ?? base.searchParams.get('view') ?? undefined;
  const url = new URL(`/api/sessions/${encodeURIComponent(session)}/export`, base);
  url.searchParams.set('kind', request.kind);
  url.searchParams.set('format', request.format);
  if (request.probe) url.searchParams.set('probe', request.probe);
  if (request.window) url.searchParams.set('window', request.window);
  if (request.perThread) url.searchParams.set('perThread', '1');
  if (view && !token) url.searchParams.set('view', view);
  let response: Response;
  try {
    response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  } catch (error) {
    throw new UsageError(`cannot reach ${base.origin}: ${(error as Error & { cause?: { code?: string } }).cause?.code ?? (error as Error).message}`);
  }
  const body = new Uint8Array(await response.arrayBuffer());
  if (!response.ok) {
    const reason = Buffer.from(body).toString('utf8').trim().replace(/^probeboard: /, '');
    throw new UsageError(`${base.origin} answered ${response.status}: ${reason}`);
  }
  return body;
}

function listStore(store: RecordingStore): string {
  const lines = ['recordings (id, session, name, start, length, updates, size, note):'];
  for (const r of store.listRecordings()) {
    const length = r.endedAtMs === null ? 'running' : `${((r.endedAtMs - r.startedAtMs) / 1000).toFixed(1)} s`;
    lines.push(`  ${r.id}  ${r.sessionId}  ${JSON.stringify(r.name)}  ${new Date(r.startedAtMs).toISOString()}  ${length}  ${r.updates}  ${r.bytes} B${r.stoppedReason ? `  (${r.stoppedReason})` : ''}`);
  }
  lines.push('snapshots (id, session, kind, name, taken):');
  for (const s of store.listSnapshots()) {
    lines.push(`  ${s.id}  ${s.sessionId}  ${s.kind}  ${JSON.stringify(s.name)}  ${new Date(s.takenAtMs).toISOString()}`);
  }
  return lines.join('\n') + '\n';
}

export interface FlameOutputOptions {
  title: string;
  icicle: boolean;
  interactive: boolean;
  /** Sampling rate, for pprof's cpu nanoseconds. */
  hz?: number;
  /** What the picture covers, for pprof's time and duration; unknown for folded text. */
  time?: FlameTime;
}

/** Output: one tree in one format. */
export function renderFlame(tree: FlameNode, format: ExportFormat, options: FlameOutputOptions): string | Uint8Array {
  switch (format) {
    case 'svg':
      return renderFlameSvg(tree, { title: options.title, subtitle: `${tree.v} samples`, icicle: options.icicle, interactive: options.interactive });
    case 'json':
      return JSON.stringify(toD3Json(tree)) + '\n';
    case 'speedscope':
      return JSON.stringify(speedscopeFromFolded(treeToFolded(tree), { name: options.title })) + '\n';
    case 'folded':
      return treeToFolded(tree);
    case 'pprof':
      return flameTreeToPprof(tree, {
        periodNs: options.hz ? 1e9 / options.hz : undefined,
        ...(options.time && { timeNanos: options.time.startMs * 1e6, durationNanos: Math.max(0, options.time.endMs - options.time.startMs) * 1e6 }),
        gzip: (data) => gzipSync(data),
      });
  }
}

/** Output of --diff: a differential flame graph SVG, or two-column folded text. */
export function renderDiff(before: FlameNode, after: FlameNode, format: DiffFormat, normalize: boolean, options: FlameOutputOptions): string {
  if (format === 'folded') return diffToFolded(before, after, { normalize });
  return renderDiffSvg(diffTrees(before, after, { normalize }), { title: options.title, icicle: options.icicle, interactive: options.interactive });
}

function write(output: string | undefined, data: string | Uint8Array): void {
  if (output) {
    try {
      writeFileSync(output, data);
    } catch (error) {
      throw new UsageError(`cannot write ${output}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  } else {
    process.stdout.write(data);
  }
}

export async function runExport(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(
    argv,
    {
      input: { type: 'string', short: 'i' },
      format: { type: 'string', short: 'f' },
      output: { type: 'string', short: 'o' },
      title: { type: 'string' },
      icicle: { type: 'boolean' },
      static: { type: 'boolean' },
      hz: { type: 'string' },
      diff: { type: 'boolean' },
      normalize: { type: 'boolean' },
      server: { type: 'string' },
      session: { type: 'string' },
      token: { type: 'string' },
      view: { type: 'string' },
      kind: { type: 'string' },
      probe: { type: 'string' },
      window: { type: 'string' },
      'data-dir': { type: 'string' },
      list: { type: 'boolean' },
      recording: { type: 'string' },
      snapshot: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      'per-thread': { type: 'boolean' },
    },
    2,
  );
  if (values.help) {
    process.stdout.write(EXPORT_HELP);
    return 0;
  }
  const output = stringOption(values.output);
  const input = stringOption(values.input);
  const options: FlameOutputOptions = {
    title: stringOption(values.title) ?? (values.diff ? 'probeboard differential flame graph' : 'probeboard flame graph'),
    icicle: values.icicle === true,
    interactive: values.static !== true,
  };

  const perThread = values['per-thread'] === true;
  // Only samples know their thread: folded text and pinned snapshots keep the roots they were saved with.
  if (perThread && (values.recording === undefined || values.diff) && values.server === undefined) {
    throw new UsageError('--per-thread needs thread ids: use it with --recording ID (not --diff) or --server; folded stacks and snapshots keep the roots they were saved with');
  }
  const sources = [input !== undefined, values.server !== undefined, values.list === true, values.snapshot !== undefined, values.recording !== undefined && !values.diff].filter(Boolean).length;
  if (sources > 1) throw new UsageError('give one source: --input, --server, --list, --recording or --snapshot');
  let opened: RecordingStore | null = null;
  const store = () => (opened ??= openStore(resolveDataDir(stringOption(values['data-dir']))));
  try {
    if (values.server !== undefined) {
      const kind = choiceOption('kind', values.kind, ['flame', 'histogram', 'heatmap'] as const, 'flame');
      if (values.format === undefined) throw new UsageError('--format is required');
      const body = await readServerSource({
        server: values.server as string,
        session: stringOption(values.session),
        token: stringOption(values.token),
        view: stringOption(values.view),
        kind,
        format: values.format as string,
        probe: stringOption(values.probe),
        window: stringOption(values.window),
        perThread,
      });
      if (values.format === 'pprof' && !output && process.stdout.isTTY) {
        throw new UsageError('pprof is binary: write it with --output FILE or to a pipe, not to a terminal');
      }
      write(output, body);
      return 0;
    }
    if (values.list) {
      write(output, listStore(store()));
      return 0;
    }

    if (values.diff) {
      if (positionals.length !== 2) throw new UsageError('--diff needs two profiles: --diff BEFORE AFTER');
      if (input !== undefined) throw new UsageError('--input or --diff, not both');
      if (values.hz !== undefined) throw new UsageError('--hz is for --format pprof, not --diff');
      const format = choiceOption('format', values.format, DIFF_FORMATS, 'svg');
      const { before, after } = readDiffSource(positionals[0], positionals[1], store, stringOption(values.recording));
      write(output, renderDiff(before, after, format, values.normalize === true, options));
      return 0;
    }

    if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])} (--input FILE, or --diff BEFORE AFTER)`);
    if (values.normalize) throw new UsageError('--normalize is for --diff');
    if (values.format === undefined) throw new UsageError('--format is required (svg, json, speedscope, folded or pprof)');
    const format = choiceOption('format', values.format, EXPORT_FORMATS, 'svg');
    if (values.hz !== undefined) {
      if (format !== 'pprof') throw new UsageError('--hz is for --format pprof');
      options.hz = intOption('hz', values.hz, 0, 1, 1_000_000);
    }
    if (format === 'pprof' && !output && process.stdout.isTTY) {
      throw new UsageError('pprof is binary: write it with --output FILE or to a pipe, not to a terminal');
    }
    let tree: FlameNode;
    if (values.snapshot !== undefined) {
      const picture = readSnapshotPicture(store(), values.snapshot as string);
      tree = picture.tree;
      options.time = picture.time;
    } else if (values.recording !== undefined) {
      const from = values.from === undefined ? 0 : intOption('from', values.from, 0, 0, Number.MAX_SAFE_INTEGER);
      const to = values.to === undefined ? Number.MAX_SAFE_INTEGER : intOption('to', values.to, 0, 0, Number.MAX_SAFE_INTEGER);
      if (to < from) throw new UsageError('--to must not be before --from');
      const picture = readRecordingPicture(store(), values.recording as string, values.from === undefined && values.to === undefined ? null : { fromMs: from, toMs: to }, perThread);
      tree = picture.tree;
      options.time = picture.time;
    } else tree = readFoldedSource(input);
    write(output, renderFlame(tree, format, options));
    return 0;
  } finally {
    (opened as RecordingStore | null)?.close();
  }
}
