/**
 * The discovery and live-events parts of the wire protocol (hub features server/hub/discovery.ts
 * and server/hub/events.ts <-> the dashboard's probe picker and events section):
 * `events:add`, `events:remove`, `discover:*`, `events:probes`, `events:batch`.
 * lib/protocol-events.ts re-exports the types. Times are wall-clock ms since the epoch.
 *
 * An events spec is parsed with the grammar the collector uses (lib/event-spec.ts); what only
 * the server can know (unknown tracepoint, binary, USDT probe, field) is checked when the probe
 * is opened.
 */
import { formatEventSpec, parseEventSpec } from '../event-spec.ts';
import * as v from 'valibot';
import { checkedInPlace, CONTROL_CHARACTERS, PROBE_ID, record, wholeMessage } from './core.ts';
import { PidSchema } from './view.ts';

/** Most event probes live at once on one server (a further add is refused). */
export const MAX_EVENT_PROBES = 8;
/** Longest spec text accepted, characters. */
export const MAX_EVENT_SPEC_LENGTH = 512;
/** Most items a discovery answer carries (`total` says how many matched). */
export const DISCOVERY_LIMIT = 200;
/** Longest glob, query or path accepted by discovery requests, characters. */
export const MAX_DISCOVERY_TEXT = 256;

const SPEC_EXAMPLE = 'must be a non-empty string, e.g. exec or tracepoint:sched:sched_switch';

/** An events spec text, checked by the events grammar and given back in canonical form. */
export const EventSpecTextSchema = v.pipe(
  v.string(SPEC_EXAMPLE),
  v.check((spec: string) => spec.trim() !== '', SPEC_EXAMPLE),
  v.check((spec: string) => spec.length <= MAX_EVENT_SPEC_LENGTH, `is longer than ${MAX_EVENT_SPEC_LENGTH} characters`),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const text = dataset.value.trim();
    const parsed = parseEventSpec(text);
    if (parsed.ok) return formatEventSpec(parsed.spec);
    addIssue({ message: wholeMessage(`bad spec "${text}" at character ${parsed.error.position + 1}: ${parsed.error.message}`) });
    return NEVER;
  }),
);

/** A discovery text (glob, query, binary): trimmed; absent, null or blank: undefined. */
const discoveryText = v.pipe(
  v.nullish(v.string('must be a string')),
  v.check((text) => text == null || text.length <= MAX_DISCOVERY_TEXT, `is longer than ${MAX_DISCOVERY_TEXT} characters`),
  v.check((text) => text == null || !CONTROL_CHARACTERS.test(text.replace(/\u007f/g, '')), 'contains control characters'),
  v.transform((text) => (text == null || text.trim() === '' ? undefined : text.trim())),
);

/** Drops the fields whose value is undefined (so a checked request has only what was given). */
function defined<T extends Record<string, unknown>>(value: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

/** `events:add`; `spec` comes back canonical. */
export const EventsAddRequestSchema = v.pipe(
  record({
    spec: EventSpecTextSchema,
    /** Only this process (exec: it and its children); it must exist. */
    pid: v.nullish(PidSchema),
  }, 'takes {spec, pid?}'),
  v.transform(({ spec, pid }) => ({ spec, ...(pid != null && { pid }) })),
);
export type EventsAddRequest = v.InferOutput<typeof EventsAddRequestSchema>;

export const EventsRemoveRequestSchema = record({ id: v.pipe(v.string('must be a probe id such as "ev-1"'), v.regex(PROBE_ID, 'must be a probe id such as "ev-1"')) }, 'takes {id}');
export type EventsRemoveRequest = v.InferOutput<typeof EventsRemoveRequestSchema>;

/** `discover:tracepoints`: `glob` over `category:name` or name; absent or blank: all. No payload: `{}`. */
export const DiscoverTracepointsRequestSchema = v.pipe(
  v.nullish(record({ glob: discoveryText }, 'takes {glob?}'), {}),
  v.transform((request): { glob?: string } => defined(request)),
);
/** `discover:processes`: `query` a substring of the pid, comm, executable or command line; absent or blank: all. */
export const DiscoverProcessesRequestSchema = v.pipe(
  v.nullish(record({ query: discoveryText }, 'takes {query?}'), {}),
  v.transform((request): { query?: string } => defined(request)),
);
/** `discover:objects`: the files mapped by a process. */
export const DiscoverObjectsRequestSchema = record({ pid: PidSchema }, 'takes {pid}');
/** `discover:symbols`: `binary` a path or library name (`c` -> libc); `glob` over symbol names. */
export const DiscoverSymbolsRequestSchema = v.pipe(
  record({ binary: discoveryText, glob: discoveryText }, 'takes {binary, glob?}'),
  v.forward(
    v.check((request) => request.binary !== undefined, 'is required (e.g. /usr/bin/bash or c)'),
    ['binary'],
  ),
  v.transform((request): { binary: string; glob?: string } => defined(request) as { binary: string; glob?: string }),
);
/** `discover:usdt`: the USDT probes of a binary, or of every object a process maps. Exactly one of the two. */
export const DiscoverUsdtRequestSchema = v.pipe(
  record({ binary: discoveryText, pid: v.nullish(PidSchema) }, 'takes {binary} or {pid}'),
  v.check((request) => (request.binary === undefined) !== (request.pid == null), 'needs exactly one of binary or pid'),
  v.transform((request): { binary: string } | { pid: number } => (request.pid != null ? { pid: request.pid } : { binary: request.binary! })),
);
export type DiscoverTracepointsRequest = v.InferOutput<typeof DiscoverTracepointsRequestSchema>;
export type DiscoverProcessesRequest = v.InferOutput<typeof DiscoverProcessesRequestSchema>;
export type DiscoverObjectsRequest = v.InferOutput<typeof DiscoverObjectsRequestSchema>;
export type DiscoverSymbolsRequest = v.InferOutput<typeof DiscoverSymbolsRequestSchema>;
export type DiscoverUsdtRequest = v.InferOutput<typeof DiscoverUsdtRequestSchema>;

// ---------------------------------------------------------------------------------------
// Server -> client

/** A decoded value: number, string, list (argv), or an error for a value that could not be read. */
export const EventFieldValueSchema = v.union([v.number(), v.string(), v.array(v.union([v.number(), v.string()])), v.object({ error: v.string() })]);
export type EventFieldValue = v.InferOutput<typeof EventFieldValueSchema>;

/** One event as sent to the browser (the probe is the batch's). */
export const EventRowSchema = v.object({
  /** Row number within its probe: 1, 2, 3… (gaps are rows a viewer did not get). */
  n: v.number(),
  /** Wall-clock time of the event, ms since the epoch (µs resolution). */
  t: v.number(),
  pid: v.number(),
  tid: v.number(),
  /** Thread command name. */
  comm: v.string(),
  /** The probe's data by name (exec: filename, argv, ppid, uid; tracepoint: its fields; uprobe/usdt: arg0…). */
  fields: v.pipe(
    v.custom<Record<string, unknown>>((value) => typeof value === 'object' && value !== null && !Array.isArray(value), 'must be an object of field values'),
    v.record(v.string(), EventFieldValueSchema),
  ),
});
export type EventRow = v.InferOutput<typeof EventRowSchema>;

const isNumber = (value: unknown) => typeof value === 'number' && !Number.isNaN(value);
/** EventFieldValueSchema as a plain predicate. */
function isEventFieldValue(value: unknown): boolean {
  if (typeof value === 'string' || isNumber(value)) return true;
  if (Array.isArray(value)) return value.every((item) => typeof item === 'string' || isNumber(item));
  return typeof value === 'object' && value !== null && typeof (value as { error?: unknown }).error === 'string';
}
/** EventRowSchema as a plain predicate (checkedInPlace: thousands of rows a second). */
function isEventRow(row: unknown): boolean {
  if (typeof row !== 'object' || row === null || Array.isArray(row)) return false;
  const { n, t, pid, tid, comm, fields } = row as Record<string, unknown>;
  if (!(isNumber(n) && isNumber(t) && isNumber(pid) && isNumber(tid) && typeof comm === 'string')) return false;
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) return false;
  for (const name in fields) if (!isEventFieldValue((fields as Record<string, unknown>)[name])) return false;
  return true;
}
/**
 * An `events:batch`'s rows as the dashboard receives them (up to 2,500 every 250 ms), checked in
 * place: a full valibot check of every row cost about 4 times JSON.parse of the batch, this
 * check 4% of it (bench/collector-events.ts); the schema explains the first row refused.
 */
export const EventRowsInPlaceSchema = checkedInPlace(EventRowSchema, isEventRow, 'must be an array of rows');

/** running: attached; ended: detached by the server (its pid exited, or reading failed): `error` says why. */
export const EventProbeStateSchema = v.picklist(['running', 'ended']);
export type EventProbeState = v.InferOutput<typeof EventProbeStateSchema>;

/** Event probe kinds (lib/event-spec.ts). */
export const EVENT_KINDS = ['exec', 'tracepoint', 'uprobe', 'usdt'] as const;
export const EventKindSchema = v.picklist(EVENT_KINDS);
export type EventKind = v.InferOutput<typeof EventKindSchema>;
export const TransportSchema = v.picklist(['ringbuf', 'perfbuf']);

/** One probe in `events:probes`. */
export const EventProbeInfoSchema = v.object({
  /** Server-assigned id (`ev-N`). */
  id: v.string(),
  /** Canonical spec text (lib/event-spec.ts). */
  spec: v.string(),
  kind: EventKindSchema,
  /** The pid filter, or null. */
  pid: v.nullable(v.number()),
  state: EventProbeStateSchema,
  error: v.nullable(v.string()),
  addedAtMs: v.number(),
  /** Events received from the kernel since added. */
  total: v.number(),
  /** Events the kernel could not buffer (ring/perf buffer full). */
  lost: v.number(),
  /** Events dropped in the server's collector queue (consumer behind). */
  dropped: v.number(),
  transport: TransportSchema,
});
export type EventProbeInfo = v.InferOutput<typeof EventProbeInfoSchema>;

/** `events:probes`: the whole list, on connection, on every change, and every 2 s while counts move. */
export const EventProbeListSchema = v.object({ probes: v.array(EventProbeInfoSchema), max: v.number() });
export type EventProbeList = v.InferOutput<typeof EventProbeListSchema>;

/** `events:batch`: newest rows of one probe for one viewer, flow-controlled per probe. */
export const EventBatchSchema = v.object({
  id: v.string(),
  /** Oldest first, at most EVENTS_BATCH_ROWS. */
  rows: v.array(EventRowSchema),
  /** Rows produced since the previous batch to this viewer that are not in this one (the viewer was behind). */
  skipped: v.number(),
  /** Events received from the kernel since the probe was added. */
  total: v.number(),
  /** Events per second over the last whole second. */
  perSecond: v.number(),
  lost: v.number(),
  dropped: v.number(),
  /** 1, 2, 3… per connection and probe. */
  seq: v.number(),
});
export type EventBatch = v.InferOutput<typeof EventBatchSchema>;

export const EventsAddedSchema = v.object({ id: v.string(), spec: v.string() });
export type EventsAdded = v.InferOutput<typeof EventsAddedSchema>;

/** A capped discovery answer: `items` holds the first DISCOVERY_LIMIT, `total` how many matched. */
export const discoveryList = <S extends v.GenericSchema>(item: S) => v.object({ items: v.array(item), total: v.number() });
export interface DiscoveryList<T> {
  items: T[];
  total: number;
}

export const DiscoveredTracepointSchema = v.object({ id: v.string(), category: v.string(), name: v.string() });
export const DiscoveredProcessSchema = v.object({
  pid: v.number(),
  comm: v.string(),
  /** The executable (`/proc/PID/exe`). */
  exe: v.string(),
  /** Command line, space-joined, cut at 200 characters. */
  cmdline: v.string(),
});
/** A file a process maps, as the process sees it. */
export const DiscoveredObjectSchema = v.object({ path: v.string(), executable: v.boolean(), deleted: v.boolean() });
export const DiscoveredSymbolSchema = v.object({
  /** Resolved path of the binary. */
  binary: v.string(),
  /** Demangled name. */
  name: v.string(),
  /** ELF name (use in a spec). */
  symbol: v.string(),
  /** `uprobe:BINARY:SYMBOL`. */
  spec: v.string(),
});
export const DiscoveredUsdtSchema = v.object({
  binary: v.string(),
  provider: v.string(),
  name: v.string(),
  /** Argument specs, e.g. `-4@%eax`. */
  args: v.array(v.string()),
  semaphore: v.boolean(),
  /** `usdt:BINARY:PROVIDER:NAME`. */
  spec: v.string(),
});
export type DiscoveredTracepoint = v.InferOutput<typeof DiscoveredTracepointSchema>;
export type DiscoveredProcess = v.InferOutput<typeof DiscoveredProcessSchema>;
export type DiscoveredObject = v.InferOutput<typeof DiscoveredObjectSchema>;
export type DiscoveredSymbol = v.InferOutput<typeof DiscoveredSymbolSchema>;
export type DiscoveredUsdt = v.InferOutput<typeof DiscoveredUsdtSchema>;
