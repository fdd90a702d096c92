/**
 * The private channel between the web process (unprivileged) and the collector process (holds
 * the BPF privileges; server/privileged/): every command and the request envelope, checked by
 * the collector on every request before it touches anything. A network agent speaking to the
 * collector will use the same schemas.
 *
 * Rules (docs in server/privileged/protocol.ts):
 * - No code and no shell text crosses: probe specs are parsed with the grammars of
 *   lib/probe-spec.ts and lib/event-spec.ts; binaries are absolute, normalized paths or bare
 *   library names (`c`, `pthread`); pids are whole numbers from 1 to 4194304; strings have
 *   maximum lengths and no control characters; kinds come from fixed lists.
 * - Only plain data crosses, at most 4 deep (plainDataProblem), before any field is looked at.
 * Isomorphic: no Node or DOM APIs (the checks run in the collector, a later agent, and tests).
 */
import { parseProbeSpec, PROBE_KINDS } from '../probe-spec.ts';
import { parseEventSpec } from '../event-spec.ts';
import { MAX_SUB_BUCKETS, MIN_SUB_BUCKETS } from '../histogram.ts';
import * as v from 'valibot';
import { check, checkedInPlace, firstRefused, isPlainObject, plainText, record, sentenceMessage, shown, wholeMessage, wholeNumber, type Result } from './core.ts';
import { profileCombinationProblem, CommSchema, HzSchema, OffCpuSettingsSchema, PidSchema, ProfileTargetSchema, ProfileTypeSchema } from './view.ts';
import { MAX_LATENCY_PROBES, MAX_SPEC_LENGTH } from './latency.ts';
import {
  DiscoveredObjectSchema,
  DiscoveredProcessSchema,
  DiscoveredSymbolSchema,
  DiscoveredTracepointSchema,
  DiscoveredUsdtSchema,
  discoveryList,
  EVENT_KINDS,
  EventKindSchema,
  type EventFieldValue,
  MAX_DISCOVERY_TEXT,
  MAX_EVENT_SPEC_LENGTH,
  TransportSchema,
} from './events.ts';

/** Longest absolute path accepted (PATH_MAX). */
export const MAX_PATH_LENGTH = 4096;
/** Largest handle or request id. */
export const MAX_ID = 2 ** 31 - 1;

const LIBRARY_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}$/;

/** True for an absolute path without `.`/`..` segments, doubled or trailing slash (what path.posix.resolve gives back unchanged). */
function isNormalizedAbsolute(path: string): boolean {
  return path === '/' || (path.startsWith('/') && !path.endsWith('/') && path.slice(1).split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..'));
}

/** Why `binary` is not acceptable to the collector, or null. */
export function binaryProblem(binary: string): string | null {
  if (!binary.includes('/')) return LIBRARY_NAME.test(binary) ? null : `binary must be an absolute path or a library name (like c), got ${shown(binary)}`;
  if (!binary.startsWith('/')) return `binary must be an absolute path, got the relative path ${shown(binary)}`;
  if (!isNormalizedAbsolute(binary)) return `binary path ${shown(binary)} is not normalized (no ".", "..", "//" or trailing "/")`;
  return null;
}

/**
 * A binary as the collector accepts it: an absolute, normalized path, or a bare library name
 * (`c`, `libpthread.so.0`) without any slash, which the collector resolves like bcc. Relative
 * paths are refused: they would be resolved against the collector's working directory.
 */
export const BinarySchema = v.pipe(
  plainText(MAX_PATH_LENGTH),
  v.rawCheck<string>(({ dataset, addIssue }) => {
    const problem = dataset.typed ? binaryProblem(dataset.value) : null;
    if (problem) addIssue({ message: sentenceMessage(problem) });
  }),
);

/** A latency spec: parsed with lib/probe-spec.ts (the message is the one LatencyCollector gives); kept as sent. */
export const LatencySpecSchema = v.pipe(
  plainText(MAX_SPEC_LENGTH),
  v.rawCheck<string>(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const parsed = parseProbeSpec(dataset.value);
    if (!parsed.ok) return addIssue({ message: wholeMessage(`bad probe spec "${dataset.value}": ${parsed.error.message} (at character ${parsed.error.position + 1})`) });
    if (!PROBE_KINDS.includes(parsed.spec.kind)) return addIssue({ message: `has an unknown probe kind ${shown(parsed.spec.kind)}` });
    const problem = parsed.spec.kind === 'uprobe' || parsed.spec.kind === 'usdt' ? binaryProblem(parsed.spec.binary) : null;
    if (problem) addIssue({ message: sentenceMessage(problem) });
  }),
);

/** An events spec: parsed with lib/event-spec.ts; kept as sent. */
export const EventSpecSchema = v.pipe(
  plainText(MAX_EVENT_SPEC_LENGTH),
  v.rawCheck<string>(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const parsed = parseEventSpec(dataset.value);
    if (!parsed.ok) return addIssue({ message: wholeMessage(`bad spec "${dataset.value}" at character ${parsed.error.position + 1}: ${parsed.error.message}`) });
    if (!(EVENT_KINDS as readonly string[]).includes(parsed.spec.kind)) return addIssue({ message: `has an unknown event kind ${shown(parsed.spec.kind)}` });
    const problem = parsed.spec.kind === 'uprobe' || parsed.spec.kind === 'usdt' ? binaryProblem(parsed.spec.binary) : null;
    if (problem) addIssue({ message: sentenceMessage(problem) });
  }),
);

const handle = wholeNumber(1, MAX_ID);
const intervalMs = v.optional(wholeNumber(10, 60_000));
const discoveryText = v.optional(plainText(MAX_DISCOVERY_TEXT));
const op = <const T extends string>(name: T) => v.literal(name);

/** Every command, by op. */
export const HOST_COMMANDS = {
  /** A new profile source (sampling + symbolization) under `handle`. */
  'profile.open': v.strictObject({ op: op('profile.open'), handle }),
  /**
   * Starts (or restarts with new settings) sampling. `profileType` absent: cpu; `offcpu` (types
   * offcpu and wall) absent: DEFAULT_OFFCPU_SETTINGS. Wall needs a pid or comm target.
   */
  'profile.start': v.strictObject({
    op: op('profile.start'),
    handle,
    hz: HzSchema,
    target: ProfileTargetSchema,
    intervalMs,
    profileType: v.optional(ProfileTypeSchema),
    offcpu: v.optional(OffCpuSettingsSchema),
  }),
  'profile.stop': v.strictObject({ op: op('profile.stop'), handle }),
  /** A new, empty latency probe set under `handle`. */
  'latency.open': v.strictObject({ op: op('latency.open'), handle, intervalMs, maxProbes: v.optional(wholeNumber(1, MAX_LATENCY_PROBES)) }),
  'latency.add': v.strictObject({
    op: op('latency.add'),
    handle,
    spec: LatencySpecSchema,
    pid: v.optional(PidSchema),
    comm: v.optional(CommSchema),
    subBuckets: v.optional(wholeNumber(MIN_SUB_BUCKETS, MAX_SUB_BUCKETS)),
  }),
  'latency.remove': v.strictObject({
    op: op('latency.remove'),
    handle,
    id: v.pipe(v.string('must be a latency probe id such as "lat-1"'), v.regex(/^lat-\d{1,10}$/, 'must be a latency probe id such as "lat-1"')),
  }),
  /** Opens, loads and attaches one event probe under a new `handle`. */
  'events.start': v.strictObject({ op: op('events.start'), handle, spec: EventSpecSchema, pid: v.optional(PidSchema) }),
  /** Stops the event probe, delivering what the kernel still holds; replies with the final counts. */
  'events.stop': v.strictObject({ op: op('events.stop'), handle }),
  'discover.tracepoints': v.strictObject({ op: op('discover.tracepoints'), glob: discoveryText }),
  'discover.processes': v.strictObject({ op: op('discover.processes'), query: discoveryText }),
  'discover.objects': v.strictObject({ op: op('discover.objects'), pid: PidSchema }),
  'discover.symbols': v.strictObject({ op: op('discover.symbols'), binary: BinarySchema, glob: discoveryText }),
  /** The USDT probes of a binary, or of every object a process maps: exactly one of the two. */
  'discover.usdt': v.strictObject({ op: op('discover.usdt'), binary: v.optional(BinarySchema), pid: v.optional(PidSchema) }),
  /** Closes whatever `handle` is (every BPF object it holds). Unknown handles are fine (idempotent). */
  close: v.strictObject({ op: op('close'), handle }),
  /** The web process's heartbeat: answered from the collector's event loop, so a reply proves that loop still turns. */
  ping: v.strictObject({ op: op('ping') }),
} as const;

export type CollectorOp = keyof typeof HOST_COMMANDS;
export const COLLECTOR_OPS = Object.keys(HOST_COMMANDS) as CollectorOp[];

/** A command from the web process to the privileged host (not the in-process CollectorChannel.request command: collectors/types.ts CollectorCommand). */
export const HostCommandSchema = v.pipe(
  v.variant(
    'op',
    [
      HOST_COMMANDS['profile.open'],
      HOST_COMMANDS['profile.start'],
      HOST_COMMANDS['profile.stop'],
      HOST_COMMANDS['latency.open'],
      HOST_COMMANDS['latency.add'],
      HOST_COMMANDS['latency.remove'],
      HOST_COMMANDS['events.start'],
      HOST_COMMANDS['events.stop'],
      HOST_COMMANDS['discover.tracepoints'],
      HOST_COMMANDS['discover.processes'],
      HOST_COMMANDS['discover.objects'],
      HOST_COMMANDS['discover.symbols'],
      HOST_COMMANDS['discover.usdt'],
      HOST_COMMANDS.close,
      HOST_COMMANDS.ping,
    ],
    `must be one of ${COLLECTOR_OPS.join(', ')}`,
  ),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const command = dataset.value;
    if (command.op === 'profile.start') {
      const problem = profileCombinationProblem({ type: command.profileType, target: command.target });
      if (problem) addIssue({ message: sentenceMessage(problem) });
    } else if (command.op === 'discover.usdt' && (command.binary === undefined) === (command.pid === undefined)) {
      addIssue({ message: sentenceMessage('give exactly one of binary or pid') });
    }
  }),
  v.transform((command) => stripUndefined(command) as HostCommand),
);

/** The typed commands: one shape per op (discover.usdt: a binary or a pid). */
type CommandOf<K extends CollectorOp> = v.InferOutput<(typeof HOST_COMMANDS)[K]>;
export type HostCommand =
  | { [K in Exclude<CollectorOp, 'discover.usdt' | 'profile.start'>]: CommandOf<K> }[Exclude<CollectorOp, 'discover.usdt' | 'profile.start'>]
  | (Omit<CommandOf<'profile.start'>, 'profileType'> & { profileType?: v.InferOutput<typeof ProfileTypeSchema> })
  | { op: 'discover.usdt'; binary: string }
  | { op: 'discover.usdt'; pid: number };

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T;
}

/**
 * Only plain data crosses: strings, finite numbers, booleans, null, plain objects and arrays,
 * at most 4 deep. Anything else (bigint, Buffer and typed arrays — no bytecode —, Map, Date,
 * functions, class instances) is refused before any field is looked at. Returns why, or null.
 */
export function plainDataProblem(value: unknown, where: string, depth = 0): string | null {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return null;
    case 'number':
      return Number.isFinite(value) ? null : `${where} must be a finite number, got ${shown(value)}`;
    case 'object': {
      if (value === null) return null;
      if (depth >= 4) return `${where} is nested too deeply`;
      if (Array.isArray(value)) {
        if (value.length > 64) return `${where} has more than 64 items`;
        for (let i = 0; i < value.length; i++) {
          const problem = plainDataProblem(value[i], `${where}[${i}]`, depth + 1);
          if (problem) return problem;
        }
        return null;
      }
      if (!isPlainObject(value)) return `${where} must be plain data, got ${shown(value)}`;
      if (Object.keys(value).length > 16) return `${where} has more than 16 fields`;
      for (const [key, item] of Object.entries(value)) {
        const problem = plainDataProblem(item, `${where}.${key.slice(0, 64)}`, depth + 1);
        if (problem) return problem;
      }
      return null;
    }
    default:
      return `${where} must be plain data, got ${shown(value)} (${typeof value})`;
  }
}

/** Checks one command; returns a fresh, typed copy (never the input object). */
export function checkHostCommand(input: unknown): Result<HostCommand> {
  if (!isPlainObject(input)) return { ok: false, error: `a command must be an object {op, ...}, got ${shown(input)}` };
  const known = typeof input.op === 'string' && Object.hasOwn(HOST_COMMANDS, input.op);
  const problem = plainDataProblem(input, known ? (input.op as string) : 'command');
  if (problem) return { ok: false, error: problem };
  if (!known) return { ok: false, error: `unknown command op ${shown(input.op)} (known: ${COLLECTOR_OPS.join(', ')})` };
  return check(HostCommandSchema, input, { context: input.op as string });
}

// ---------------------------------------------------------------------------------------
// Replies (collector -> web)

/** Counters of one event probe. */
export const EventCountsSchema = v.object({
  /** Events the kernel could not buffer (ring or perf buffer full). */
  lost: v.number(),
  /** Events dropped in user space (the collector's queue was full). */
  dropped: v.number(),
  transport: TransportSchema,
});
export type EventCounts = v.InferOutput<typeof EventCountsSchema>;

/** What each op replies with when it succeeds (the `value` of its reply). */
export const HOST_REPLIES = {
  'profile.open': v.null(),
  'profile.start': v.null(),
  'profile.stop': v.null(),
  'latency.open': v.null(),
  /** The probe's id and canonical spec. */
  'latency.add': v.object({ id: v.string(), spec: v.string() }),
  /** false when the id was not live (already ended). */
  'latency.remove': v.boolean(),
  'events.start': v.object({ spec: v.string(), kind: EventKindSchema, counts: EventCountsSchema }),
  'events.stop': EventCountsSchema,
  'discover.tracepoints': discoveryList(DiscoveredTracepointSchema),
  'discover.processes': discoveryList(DiscoveredProcessSchema),
  'discover.objects': discoveryList(DiscoveredObjectSchema),
  'discover.symbols': discoveryList(DiscoveredSymbolSchema),
  'discover.usdt': discoveryList(DiscoveredUsdtSchema),
  close: v.null(),
  ping: v.null(),
} as const satisfies Record<CollectorOp, v.GenericSchema>;
export type CommandResults = { [K in CollectorOp]: v.InferOutput<(typeof HOST_REPLIES)[K]> };

/** Every request gets exactly one reply; `id` is null when the request was too malformed to carry one. */
export const CollectorReplySchema = v.variant('ok', [
  v.object({ type: v.literal('reply'), id: v.number(), ok: v.literal(true), value: v.unknown() }),
  v.object({ type: v.literal('reply'), id: v.nullable(v.number()), ok: v.literal(false), error: v.string() }),
]);
export type CollectorReply = v.InferOutput<typeof CollectorReplySchema>;

/** A request is `{ id, command }`. */
const RequestIdSchema = wholeNumber(1, MAX_ID);
export const CollectorRequestSchema = record({ id: RequestIdSchema, command: v.unknown() });
export interface CollectorRequest {
  id: number;
  command: HostCommand;
}

/** Checks a whole request. A request without a usable id gets `id: null` in the refusal. */
export function checkCollectorRequest(input: unknown): { ok: true; value: CollectorRequest } | { ok: false; id: number | null; error: string } {
  if (!isPlainObject(input)) return { ok: false, id: null, error: `a request must be an object {id, command}, got ${shown(input)}` };
  const id = check(RequestIdSchema, input.id, { root: 'request id' });
  if (!id.ok) return { ok: false, id: null, error: id.error };
  const envelope = check(CollectorRequestSchema, input, { root: 'request' });
  if (!envelope.ok) return { ok: false, id: id.value, error: envelope.error };
  const command = checkHostCommand(input.command);
  if (!command.ok) return { ok: false, id: id.value, error: command.error };
  return { ok: true, value: { id: id.value, command: command.value } };
}

// ---------------------------------------------------------------------------------------
// Events (collector -> web)
//
// What the collector sends unasked, every interval: profile intervals (interned), latency
// batches, event rows, and the ends of probes. The web process checks each one where it
// receives it (server/privileged/backend.ts CollectorClient, via event-check.ts) and drops one
// that does not fit, so a collector of another version, or a bug, cannot put a wrong value into
// the hub's aggregates.
//
// Cost: these flow every interval (a profile interval after a table reset carries every frame
// and stack, 10^5 numbers; a latency batch of syscall:* up to a few hundred histograms; up to
// 2,500 event rows every 25 ms). So the envelope and every object's shape are checked strictly
// (known fields only, each of the right kind, named in the refusal), but the bulk arrays are
// checked the cheap way: walked once in place, without valibot copying them — the interned
// typed arrays by class only (O(1): IntervalMirror.decode checks every id and length against its
// tables), frame names and histogram counts by one loop over the items, latency series and event
// rows by plain predicates that say what LatencySeriesSchema and EventRowDataSchema say (the
// schema then explains the first item refused; tests check that both say the same). On one
// machine (bench/collector-events.ts, which prints both, next to what receiving the event costs
// anyway) a full valibot check of every item cost 507 µs against 30 for an interval after a
// table reset, 4.9 ms against 0.15 for 200 latency series, 5.6 ms against 0.23 for 2,500 rows,
// while deserializing each of them takes 2 to 4 ms.

/** A finite number (what every count, time and size in an event is). */
const finiteNumber = v.pipe(v.number('must be a number'), v.finite('must be a finite number'));
const handleField = wholeNumber(1, MAX_ID, 'a handle');
const eventText = v.string('must be a string');

/**
 * An array of many items of one simple kind, checked in place (one pass, no copy): the value
 * passed on is the array received. The refusal names the first bad item: `[12] is "x"`.
 */
function bulkArray<T>(what: string, isItem: (item: unknown) => boolean) {
  return v.pipe(
    v.custom<unknown[]>((value) => Array.isArray(value), `must be an array of ${what}`),
    v.rawCheck<unknown[]>(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      const at = firstRefused(dataset.value, isItem);
      if (at >= 0) addIssue({ message: `must be an array of ${what}: [${at}] is ${shown(dataset.value[at])}` });
    }),
    v.transform((value) => value as T[]),
  );
}
const isFiniteNumber = (item: unknown) => typeof item === 'number' && Number.isFinite(item);
const isString = (item: unknown) => typeof item === 'string';
/** Histogram counts and the like: checked in place. */
const numberArray = bulkArray<number>('finite numbers', isFiniteNumber);
/** Typed arrays, checked by class only (O(1): their items are numbers by construction). */
const uint32Array = v.custom<Uint32Array>((value) => value instanceof Uint32Array, 'must be a Uint32Array');
const float64Array = v.custom<Float64Array>((value) => value instanceof Float64Array, 'must be a Float64Array');

/** A latency histogram (lib/histogram.ts Log2Histogram): durations in ns. */
export const Log2HistogramSchema = v.strictObject({
  count: finiteNumber,
  sum: finiteNumber,
  buckets: numberArray,
  fine: v.optional(v.strictObject({ parts: wholeNumber(MIN_SUB_BUCKETS, MAX_SUB_BUCKETS), start: finiteNumber, counts: numberArray })),
  min: v.optional(finiteNumber),
  max: v.optional(finiteNumber),
});

/** Missed durations of a latency probe (server/collectors/latency.ts LatencyMisses). */
export const LatencyMissesSchema = v.strictObject({ noEntry: finiteNumber, startFull: finiteNumber, histFull: finiteNumber });

/** One histogram key's series (server/collectors/latency.ts LatencySeries; key as server/abi/latency.ts LatHistKey). */
export const LatencySeriesSchema = v.strictObject({
  label: eventText,
  key: v.strictObject({ probe: finiteNumber, pid: finiteNumber, id: finiteNumber, comm: eventText }),
  interval: Log2HistogramSchema,
  total: Log2HistogramSchema,
});

/** True when every key of `value` is one of `allowed` (strict objects, checked without an array of keys). */
function onlyKeys(value: object, allowed: ReadonlySet<string>): boolean {
  for (const key in value) if (!allowed.has(key)) return false;
  return true;
}
const HISTOGRAM_KEYS = new Set(['count', 'sum', 'buckets', 'fine', 'min', 'max']);
const FINE_KEYS = new Set(['parts', 'start', 'counts']);
const SERIES_KEYS = new Set(['label', 'key', 'interval', 'total']);
const HIST_KEY_KEYS = new Set(['probe', 'pid', 'id', 'comm']);
const ROW_KEYS = new Set(['t', 'pid', 'tid', 'comm', 'fields']);
const isFiniteArray = (value: unknown) => Array.isArray(value) && firstRefused(value, isFiniteNumber) < 0;
const isOptionalFinite = (value: unknown) => value === undefined || isFiniteNumber(value);

/** Log2HistogramSchema as a plain predicate. */
function isLog2Histogram(value: unknown): boolean {
  if (!isPlainObject(value)) return false;
  const { count, sum, buckets, fine, min, max } = value;
  if (!onlyKeys(value, HISTOGRAM_KEYS) || !isFiniteNumber(count) || !isFiniteNumber(sum) || !isFiniteArray(buckets) || !isOptionalFinite(min) || !isOptionalFinite(max)) return false;
  if (fine === undefined) return true;
  if (!isPlainObject(fine) || !onlyKeys(fine, FINE_KEYS)) return false;
  const { parts, start, counts } = fine;
  return Number.isInteger(parts) && (parts as number) >= MIN_SUB_BUCKETS && (parts as number) <= MAX_SUB_BUCKETS && isFiniteNumber(start) && isFiniteArray(counts);
}

/** LatencySeriesSchema as a plain predicate (a syscall:* probe keyed by pid has hundreds of series). */
function isLatencySeries(value: unknown): boolean {
  if (!isPlainObject(value) || !onlyKeys(value, SERIES_KEYS) || typeof value.label !== 'string') return false;
  const key = value.key;
  if (!isPlainObject(key) || !onlyKeys(key, HIST_KEY_KEYS) || !isFiniteNumber(key.probe) || !isFiniteNumber(key.pid) || !isFiniteNumber(key.id) || typeof key.comm !== 'string') return false;
  return isLog2Histogram(value.interval) && isLog2Histogram(value.total);
}

/** One read of a latency probe (server/collectors/latency.ts LatencyBatch; its docs there). */
export const LatencyBatchSchema = v.strictObject({
  probe: eventText,
  startMs: finiteNumber,
  endMs: finiteNumber,
  series: checkedInPlace(LatencySeriesSchema, isLatencySeries, 'must be an array of series'),
  interval: Log2HistogramSchema,
  total: Log2HistogramSchema,
  misses: LatencyMissesSchema,
  missesTotal: LatencyMissesSchema,
  stale: v.nullable(eventText),
  targetExited: v.boolean('must be true or false'),
  hint: v.nullable(eventText),
});

const FrameModuleSchema = v.strictObject({ file: eventText, buildId: v.optional(eventText) });

/**
 * A profile interval in interned form (server/symbolizer/interned.ts InternedInterval, whose
 * docs say what each field holds). The typed arrays are checked by class; IntervalMirror.decode
 * checks every id and length against its tables (and refuses, with a warning, what does not fit).
 */
export const InternedIntervalSchema = v.strictObject({
  startMs: finiteNumber,
  endMs: finiteNumber,
  droppedSamples: finiteNumber,
  unknownFrames: finiteNumber,
  reset: v.boolean('must be true or false'),
  frameBase: finiteNumber,
  stackBase: finiteNumber,
  moduleBase: finiteNumber,
  newModules: v.array(FrameModuleSchema, 'must be an array of binaries {file, buildId?}'),
  newFrameNames: bulkArray<string>('strings', isString),
  newFrameKinds: eventText,
  newFrameModules: uint32Array,
  newStacks: uint32Array,
  stackIds: uint32Array,
  counts: float64Array,
  events: v.optional(float64Array),
});

/** What a profile handle sends (server/collectors/types.ts CollectorWireMessage): intervals interned. */
export const ProfileWireMessageSchema = v.variant(
  'type',
  [
    v.strictObject({ type: v.literal('profile.interned'), interval: InternedIntervalSchema, hz: finiteNumber, cpus: finiteNumber }),
    v.strictObject({
      type: v.literal('profile.started'),
      cpus: finiteNumber,
      hz: finiteNumber,
      target: ProfileTargetSchema,
      profileType: v.optional(ProfileTypeSchema),
      offCpuVia: v.optional(eventText),
    }),
    v.strictObject({ type: v.literal('profile.stopped'), reason: v.optional(eventText) }),
  ],
  'must be profile.interned, profile.started or profile.stopped',
);

const fieldValueError = v.strictObject({ error: eventText });
/** An event field's value (lib/schema/events.ts EventFieldValue), checked in place. */
function isFieldValue(value: unknown): boolean {
  if (typeof value === 'string' || isFiniteNumber(value)) return true;
  if (Array.isArray(value)) return value.every((item) => typeof item === 'string' || isFiniteNumber(item));
  return isPlainObject(value) && v.is(fieldValueError, value);
}

/** An event row's fields, checked in place (no copy): names to field values. */
function fieldsProblem(fields: Record<string, unknown>): string | null {
  for (const name in fields) {
    if (!isFieldValue(fields[name])) return `must map names to a number, a string, a list of them or {error}: ${shown(name)} is ${shown(fields[name])}`;
  }
  return null;
}

/** One event row without its number (the web process numbers rows): lib/schema/events.ts EventRow. */
export const EventRowDataSchema = v.strictObject({
  t: finiteNumber,
  pid: finiteNumber,
  tid: finiteNumber,
  comm: eventText,
  fields: v.pipe(
    v.custom<Record<string, unknown>>(isPlainObject, 'must be an object of field values'),
    v.rawCheck<Record<string, unknown>>(({ dataset, addIssue }) => {
      const problem = dataset.typed ? fieldsProblem(dataset.value) : null;
      if (problem) addIssue({ message: problem });
    }),
    v.transform((value) => value as Record<string, EventFieldValue>),
  ),
});

/** EventRowDataSchema as a plain predicate, for the thousands of rows of a batch (no copy, no issue objects). */
function isEventRowData(row: unknown): boolean {
  if (!isPlainObject(row)) return false;
  return (
    onlyKeys(row, ROW_KEYS) &&
    isFiniteNumber(row.t) &&
    isFiniteNumber(row.pid) &&
    isFiniteNumber(row.tid) &&
    typeof row.comm === 'string' &&
    isPlainObject(row.fields) &&
    fieldsProblem(row.fields) === null
  );
}

/** Counters of an event probe, in an event (strict: EventCountsSchema is the reply's, which is not checked field by field). */
const EventCountsFieldSchema = v.strictObject({ lost: finiteNumber, dropped: finiteNumber, transport: v.picklist(['ringbuf', 'perfbuf'], 'must be ringbuf or perfbuf') });

/** Every event, by type. */
export const COLLECTOR_EVENTS = {
  /** Sent once, when the collector process is ready for requests (uid -1: not known). */
  ready: v.strictObject({ type: v.literal('ready'), pid: finiteNumber, uid: finiteNumber }),
  /** A profile handle's message; intervals in interned form. */
  profile: v.strictObject({ type: v.literal('profile'), handle: handleField, message: ProfileWireMessageSchema }),
  /** A latency probe's newest interval (the web process folds it into the probe's frame). */
  'latency.interval': v.strictObject({ type: v.literal('latency.interval'), handle: handleField, id: eventText, batch: LatencyBatchSchema }),
  /** A latency probe ended by itself (its read failed); it is detached. */
  'latency.end': v.strictObject({ type: v.literal('latency.end'), handle: handleField, id: eventText, reason: eventText }),
  /** New rows (oldest first) and the probe's counters now. */
  'events.rows': v.strictObject({
    type: v.literal('events.rows'),
    handle: handleField,
    rows: checkedInPlace(EventRowDataSchema, isEventRowData, 'must be an array of rows'),
    counts: EventCountsFieldSchema,
  }),
  /** The event probe ended by itself (its pid exited, or reading failed); it is detached. */
  'events.end': v.strictObject({ type: v.literal('events.end'), handle: handleField, reason: eventText, counts: EventCountsFieldSchema }),
} as const;

export type CollectorEventType = keyof typeof COLLECTOR_EVENTS;
export const COLLECTOR_EVENT_TYPES = Object.keys(COLLECTOR_EVENTS) as CollectorEventType[];

/** Anything the collector sends unasked. */
export const CollectorEventSchema = v.variant(
  'type',
  [
    COLLECTOR_EVENTS.ready,
    COLLECTOR_EVENTS.profile,
    COLLECTOR_EVENTS['latency.interval'],
    COLLECTOR_EVENTS['latency.end'],
    COLLECTOR_EVENTS['events.rows'],
    COLLECTOR_EVENTS['events.end'],
  ],
  `must be one of ${COLLECTOR_EVENT_TYPES.join(', ')}`,
);
export type CollectorEvent = v.InferOutput<typeof CollectorEventSchema>;
export type LatencyBatchData = v.InferOutput<typeof LatencyBatchSchema>;
export type InternedIntervalData = v.InferOutput<typeof InternedIntervalSchema>;
export type ProfileWireMessage = v.InferOutput<typeof ProfileWireMessageSchema>;
export type EventRowData = v.InferOutput<typeof EventRowDataSchema>;

/**
 * Checks one event from the collector: the typed event (the bulk arrays are the ones received,
 * the objects around them fresh copies), or one line naming the event's type and the field:
 * `collector event latency.interval: batch.series[0].total.buckets must be an array of finite numbers: [3] is "x", got [...]`.
 */
export function checkCollectorEvent(input: unknown): Result<CollectorEvent> {
  if (!isPlainObject(input)) return { ok: false, error: `a collector event must be an object {type, ...}, got ${shown(input)}` };
  const type = input.type;
  if (typeof type !== 'string' || !Object.hasOwn(COLLECTOR_EVENTS, type)) {
    return { ok: false, error: `unknown collector event type ${shown(type)} (known: ${COLLECTOR_EVENT_TYPES.join(', ')})` };
  }
  return check(COLLECTOR_EVENTS[type as CollectorEventType], input, { context: `collector event ${type}` }) as Result<CollectorEvent>;
}
