/**
 * The discovery and live-events parts of the wire protocol (hub features server/hub/discovery.ts
 * and server/hub/events.ts <-> the dashboard's probe picker and events section). Isomorphic: no
 * Node or DOM APIs. Documented field by field in docs/protocol.md.
 *
 * Event probes are shared by every viewer (like latency probes): one viewer adds a probe,
 * everyone sees its rows. Times are wall-clock ms since the epoch.
 */
import type { Ack } from './protocol.ts';

/** Most event probes live at once on one server (a further add is refused). */
export const MAX_EVENT_PROBES = 8;
/** Longest spec text accepted. */
export const MAX_EVENT_SPEC_LENGTH = 512;
/** Most items a discovery answer carries (`total` says how many matched). */
export const DISCOVERY_LIMIT = 200;
/** Longest glob, query or path accepted by discovery requests. */
export const MAX_DISCOVERY_TEXT = 256;
/** The server sends each viewer at most one batch per probe this often (ms). */
export const EVENTS_BATCH_INTERVAL_MS = 250;
/** Most rows in one batch (the newest ones; the rest are counted in `skipped`). */
export const EVENTS_BATCH_ROWS = 2500;
/** Rows the server keeps per probe (a ring: the newest ones). */
export const EVENTS_RING_ROWS = 5000;

/** A decoded value: number, string, list (argv), or an error for a value that could not be read. */
export type EventFieldValue = number | string | (number | string)[] | { error: string };

/** One event as sent to the browser (the probe is the batch's). */
export interface EventRow {
  /** Row number within its probe: 1, 2, 3… (gaps are rows a viewer did not get). */
  n: number;
  /** Wall-clock time of the event, ms since the epoch (µs resolution). */
  t: number;
  pid: number;
  tid: number;
  /** Thread command name. */
  comm: string;
  /** The probe's data by name (exec: filename, argv, ppid, uid; tracepoint: its fields; uprobe/usdt: arg0…). */
  fields: Record<string, EventFieldValue>;
}

/** running: attached; ended: detached by the server (its pid exited, or reading failed): `error` says why. */
export type EventProbeState = 'running' | 'ended';

/** One probe in `events:probes`. */
export interface EventProbeInfo {
  /** Server-assigned id (`ev-N`). */
  id: string;
  /** Canonical spec text (lib/event-spec.ts). */
  spec: string;
  kind: 'exec' | 'tracepoint' | 'uprobe' | 'usdt';
  /** The pid filter, or null. */
  pid: number | null;
  state: EventProbeState;
  error: string | null;
  addedAtMs: number;
  /** Events received from the kernel since added. */
  total: number;
  /** Events the kernel could not buffer (ring/perf buffer full). */
  lost: number;
  /** Events dropped in the server's collector queue (consumer behind). */
  dropped: number;
  transport: 'ringbuf' | 'perfbuf';
}

/** Server -> client `events:probes`: the whole list, on connection, on every change, and every 2 s while counts move. */
export interface EventProbeList {
  probes: EventProbeInfo[];
  max: number;
}

/** Server -> client `events:batch`: newest rows of one probe for one viewer, flow-controlled per probe. */
export interface EventBatch {
  id: string;
  /** Oldest first, at most EVENTS_BATCH_ROWS. */
  rows: EventRow[];
  /** Rows produced since the previous batch to this viewer that are not in this one (the viewer was behind). */
  skipped: number;
  /** Events received from the kernel since the probe was added. */
  total: number;
  /** Events per second over the last whole second. */
  perSecond: number;
  lost: number;
  dropped: number;
  /** 1, 2, 3… per connection and probe. */
  seq: number;
}

/** Client -> server `events:add`. */
export interface EventsAddRequest {
  spec: string;
  /** Only this process (exec: it and its children); it must exist. */
  pid?: number;
}

export interface EventsAdded {
  id: string;
  spec: string;
}

export interface EventsRemoveRequest {
  id: string;
}

/** A capped discovery answer. */
export interface DiscoveryList<T> {
  items: T[];
  /** How many matched (items holds the first DISCOVERY_LIMIT). */
  total: number;
}

export interface DiscoverTracepointsRequest {
  /** Shell glob over `category:name` or name; empty or absent: all. */
  glob?: string;
}
export interface DiscoveredTracepoint {
  id: string;
  category: string;
  name: string;
}

export interface DiscoverProcessesRequest {
  /** Substring of the pid, comm, executable or command line; empty or absent: all. */
  query?: string;
}
export interface DiscoveredProcess {
  pid: number;
  comm: string;
  /** The executable (`/proc/PID/exe`). */
  exe: string;
  /** Command line, space-joined, cut at 200 characters. */
  cmdline: string;
}

export interface DiscoverObjectsRequest {
  pid: number;
}
export interface DiscoveredObject {
  /** Path as the process sees it. */
  path: string;
  executable: boolean;
  deleted: boolean;
}

export interface DiscoverSymbolsRequest {
  /** Path or library name (`c` -> libc). */
  binary: string;
  glob?: string;
}
export interface DiscoveredSymbol {
  /** Resolved path of the binary. */
  binary: string;
  /** Demangled name. */
  name: string;
  /** ELF name (use in a spec). */
  symbol: string;
  /** `uprobe:BINARY:SYMBOL`. */
  spec: string;
}

export type DiscoverUsdtRequest = { binary: string } | { pid: number };
export interface DiscoveredUsdt {
  binary: string;
  provider: string;
  name: string;
  /** Argument specs, e.g. `-4@%eax`. */
  args: string[];
  semaphore: boolean;
  /** `usdt:BINARY:PROVIDER:NAME`. */
  spec: string;
}

export interface EventsServerToClientEvents {
  'events:probes': (list: EventProbeList) => void;
  'events:batch': (batch: EventBatch, ack: () => void) => void;
}

export interface EventsClientToServerEvents {
  'events:add': (request: EventsAddRequest, ack?: (reply: Ack<EventsAdded>) => void) => void;
  'events:remove': (request: EventsRemoveRequest, ack?: (reply: Ack) => void) => void;
  'discover:tracepoints': (request: DiscoverTracepointsRequest, ack: (reply: Ack<DiscoveryList<DiscoveredTracepoint>>) => void) => void;
  'discover:processes': (request: DiscoverProcessesRequest, ack: (reply: Ack<DiscoveryList<DiscoveredProcess>>) => void) => void;
  'discover:objects': (request: DiscoverObjectsRequest, ack: (reply: Ack<DiscoveryList<DiscoveredObject>>) => void) => void;
  'discover:symbols': (request: DiscoverSymbolsRequest, ack: (reply: Ack<DiscoveryList<DiscoveredSymbol>>) => void) => void;
  'discover:usdt': (request: DiscoverUsdtRequest, ack: (reply: Ack<DiscoveryList<DiscoveredUsdt>>) => void) => void;
}
