/**
 * The private channel between the web process (unprivileged) and the collector process (holds
 * the BPF privileges): every command, reply and event, typed here, and the validator the
 * collector runs on every request before it touches anything.
 *
 * Rules (the collector enforces them, whoever sent the request):
 * - A request is `{ id, command }`: `id` a positive integer, `command` one of the shapes below
 *   and nothing else (an unknown field, op or type is refused by name).
 * - No code and no shell text crosses: probe specs are parsed with the grammars of
 *   lib/probe-spec.ts and lib/event-spec.ts; binaries are absolute, normalized paths or bare
 *   library names (`c`, `pthread`) that the collector resolves itself; pids are whole numbers
 *   from 1 to 4194304; strings have maximum lengths and no control characters; kinds come from
 *   fixed lists. The BPF objects loaded are always the committed ones (bpf/obj/).
 * - Every request gets exactly one reply, `{ type: 'reply', id, ok, value | error }`; a refused
 *   request changes nothing.
 * - Each profile source, latency set and event probe the web process opens has a `handle` (a
 *   positive integer it picks); events from the collector carry it.
 */
import path from 'node:path';
import { parseProbeSpec, PROBE_KINDS, type ProbeSpec } from '../../lib/probe-spec.ts';
import { parseEventSpec, type EventSpec } from '../../lib/event-spec.ts';
import { checkComm, checkHz, checkOffCpu, checkPid, checkProfileCombination, checkProfileType, checkTarget } from '../../lib/validate.ts';
import { MAX_LATENCY_PROBES, MAX_SPEC_LENGTH } from '../../lib/protocol-latency.ts';
import { MAX_SUB_BUCKETS, MIN_SUB_BUCKETS } from '../../lib/histogram.ts';
import { MAX_DISCOVERY_TEXT, MAX_EVENT_SPEC_LENGTH } from '../../lib/protocol-events.ts';
import type {
  DiscoveredObject,
  DiscoveredProcess,
  DiscoveredSymbol,
  DiscoveredTracepoint,
  DiscoveredUsdt,
  DiscoveryList,
  EventRow,
} from '../../lib/protocol-events.ts';
import type { OffCpuSettings, ProfileTarget, ProfileType } from '../../lib/protocol.ts';
import type { LatencyBatch } from '../collectors/latency.ts';
import type { CollectorWireMessage } from '../collectors/types.ts';

/** Longest absolute path accepted (PATH_MAX). */
export const MAX_PATH_LENGTH = 4096;
/** Largest handle or request id. */
export const MAX_ID = 2 ** 31 - 1;

/** Event probe kinds the collector knows (lib/event-spec.ts). */
export const EVENT_KINDS = ['exec', 'tracepoint', 'uprobe', 'usdt'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

// ---------------------------------------------------------------------------------------
// Commands (web -> collector)

/** A command from the web process to the privileged host (not the in-process CollectorChannel.request command: collectors/types.ts CollectorCommand). */
export type HostCommand =
  /** A new profile source (sampling + symbolization) under `handle`. */
  | { op: 'profile.open'; handle: number }
  /**
   * Starts (or restarts with new settings) sampling. `profileType` absent: cpu; `offcpu` (types
   * offcpu and wall) absent: DEFAULT_OFFCPU_SETTINGS. Wall needs a pid or comm target.
   */
  | { op: 'profile.start'; handle: number; hz: number; target: ProfileTarget; intervalMs?: number; profileType?: ProfileType; offcpu?: OffCpuSettings }
  | { op: 'profile.stop'; handle: number }
  /** A new, empty latency probe set under `handle`. */
  | { op: 'latency.open'; handle: number; intervalMs?: number; maxProbes?: number }
  | { op: 'latency.add'; handle: number; spec: string; pid?: number; comm?: string; subBuckets?: number }
  | { op: 'latency.remove'; handle: number; id: string }
  /** Opens, loads and attaches one event probe under a new `handle`. */
  | { op: 'events.start'; handle: number; spec: string; pid?: number }
  /** Stops the event probe, delivering what the kernel still holds; replies with the final counts. */
  | { op: 'events.stop'; handle: number }
  | { op: 'discover.tracepoints'; glob?: string }
  | { op: 'discover.processes'; query?: string }
  | { op: 'discover.objects'; pid: number }
  | { op: 'discover.symbols'; binary: string; glob?: string }
  | { op: 'discover.usdt'; binary: string }
  | { op: 'discover.usdt'; pid: number }
  /** Closes whatever `handle` is (every BPF object it holds). Unknown handles are fine (idempotent). */
  | { op: 'close'; handle: number }
  /**
   * The web process's heartbeat (about once a second): answered from the collector's event loop,
   * so a reply proves that loop still turns. Touches nothing.
   */
  | { op: 'ping' };

export type CollectorOp = HostCommand['op'];

export interface CollectorRequest {
  id: number;
  command: HostCommand;
}

/** Counters of one event probe. */
export interface EventCounts {
  /** Events the kernel could not buffer (ring or perf buffer full). */
  lost: number;
  /** Events dropped in user space (the collector's queue was full). */
  dropped: number;
  transport: 'ringbuf' | 'perfbuf';
}

/** One event as it crosses the channel: a row without its number (the web process numbers them). */
export type EventRowData = Omit<EventRow, 'n'>;

/** What each op replies with when it succeeds. */
export interface CommandResults {
  'profile.open': null;
  'profile.start': null;
  'profile.stop': null;
  'latency.open': null;
  /** The canonical spec and the probe's first (empty) frame. */
  'latency.add': { id: string; spec: string };
  /** false when the id was not live (already ended). */
  'latency.remove': boolean;
  'events.start': { spec: string; kind: EventKind; counts: EventCounts };
  'events.stop': EventCounts;
  'discover.tracepoints': DiscoveryList<DiscoveredTracepoint>;
  'discover.processes': DiscoveryList<DiscoveredProcess>;
  'discover.objects': DiscoveryList<DiscoveredObject>;
  'discover.symbols': DiscoveryList<DiscoveredSymbol>;
  'discover.usdt': DiscoveryList<DiscoveredUsdt>;
  close: null;
  ping: null;
}

export type CollectorReply =
  | { type: 'reply'; id: number; ok: true; value: unknown }
  /** `id` is null when the request was too malformed to carry one. */
  | { type: 'reply'; id: number | null; ok: false; error: string };

// ---------------------------------------------------------------------------------------
// Events (collector -> web)

export type CollectorEvent =
  /** Sent once, when the collector process is ready for requests. */
  | { type: 'ready'; pid: number; uid: number }
  /** A profile handle's message; intervals in interned form. */
  | { type: 'profile'; handle: number; message: CollectorWireMessage }
  /** A latency probe's newest interval (the web process folds it into the probe's frame). */
  | { type: 'latency.interval'; handle: number; id: string; batch: LatencyBatch }
  /** A latency probe ended by itself (its read failed); it is detached. */
  | { type: 'latency.end'; handle: number; id: string; reason: string }
  /** New rows (oldest first) and the probe's counters now. */
  | { type: 'events.rows'; handle: number; rows: EventRowData[]; counts: EventCounts }
  /** The event probe ended by itself (its pid exited, or reading failed); it is detached. */
  | { type: 'events.end'; handle: number; reason: string; counts: EventCounts };

/** Anything the collector sends. */
export type CollectorOutput = CollectorReply | CollectorEvent;

// ---------------------------------------------------------------------------------------
// Validation

export type Validated<T> = { ok: true; value: T } | { ok: false; error: string };

class Refusal extends Error {}

const shown = (value: unknown): string => {
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Uint8Array) return `binary data (${value.byteLength} bytes)`;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  text ??= String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function onlyKeys(where: string, value: Record<string, unknown>, allowed: readonly string[]): void {
  const extra = Object.keys(value).find((key) => !allowed.includes(key));
  if (extra !== undefined) throw new Refusal(`${where}: unknown field ${shown(extra.slice(0, 64))}`);
}

function integer(where: string, name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new Refusal(`${where}: ${name} must be a whole number from ${min} to ${max}, got ${shown(value)}`);
  }
  return value;
}

function optionalInteger(where: string, name: string, value: unknown, min: number, max: number): number | undefined {
  return value === undefined ? undefined : integer(where, name, value, min, max);
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

function text(where: string, name: string, value: unknown, maxLength: number): string {
  if (typeof value !== 'string') throw new Refusal(`${where}: ${name} must be a string, got ${shown(value)}`);
  if (value.length === 0) throw new Refusal(`${where}: ${name} must not be empty`);
  if (value.length > maxLength) throw new Refusal(`${where}: ${name} is longer than ${maxLength} characters (${value.length})`);
  if (CONTROL.test(value)) throw new Refusal(`${where}: ${name} contains control characters`);
  return value;
}

function optionalText(where: string, name: string, value: unknown, maxLength: number): string | undefined {
  return value === undefined ? undefined : text(where, name, value, maxLength);
}

function pidOf(where: string, value: unknown): number {
  const pid = checkPid(value);
  if (!pid.ok) throw new Refusal(`${where}: ${pid.error}`);
  return pid.value;
}

const LIBRARY_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}$/;

/**
 * A binary as the collector accepts it: an absolute, normalized path (no `.`/`..` segments, no
 * doubled or trailing slash), or a bare library name (`c`, `libpthread.so.0`) without any
 * slash, which the collector resolves like bcc. Relative paths are refused: they would be
 * resolved against the collector's working directory, not the user's.
 */
export function checkBinary(where: string, value: unknown): string {
  const binary = text(where, 'binary', value, MAX_PATH_LENGTH);
  if (!binary.includes('/')) {
    if (!LIBRARY_NAME.test(binary)) throw new Refusal(`${where}: binary must be an absolute path or a library name (like c), got ${shown(binary)}`);
    return binary;
  }
  if (!binary.startsWith('/')) throw new Refusal(`${where}: binary must be an absolute path, got the relative path ${shown(binary)}`);
  if (path.posix.resolve(binary) !== binary) throw new Refusal(`${where}: binary path ${shown(binary)} is not normalized (no ".", "..", "//" or trailing "/")`);
  return binary;
}

/** A latency spec: parsed with lib/probe-spec.ts (the message is the one LatencyCollector gives). */
export function checkLatencySpec(where: string, value: unknown): ProbeSpec {
  const spec = text(where, 'spec', value, MAX_SPEC_LENGTH);
  const parsed = parseProbeSpec(spec);
  if (!parsed.ok) throw new Refusal(`bad probe spec "${spec}": ${parsed.error.message} (at character ${parsed.error.position + 1})`);
  if (!PROBE_KINDS.includes(parsed.spec.kind)) throw new Refusal(`${where}: unknown probe kind ${shown(parsed.spec.kind)}`);
  if (parsed.spec.kind === 'uprobe' || parsed.spec.kind === 'usdt') checkBinary(where, parsed.spec.binary);
  return parsed.spec;
}

/** An events spec: parsed with lib/event-spec.ts. */
export function checkEventSpec(where: string, value: unknown): EventSpec {
  const spec = text(where, 'spec', value, MAX_EVENT_SPEC_LENGTH);
  const parsed = parseEventSpec(spec);
  if (!parsed.ok) throw new Refusal(`bad spec "${spec}" at character ${parsed.error.position + 1}: ${parsed.error.message}`);
  if (!(EVENT_KINDS as readonly string[]).includes(parsed.spec.kind)) throw new Refusal(`${where}: unknown event kind ${shown(parsed.spec.kind)}`);
  if (parsed.spec.kind === 'uprobe' || parsed.spec.kind === 'usdt') checkBinary(where, parsed.spec.binary);
  return parsed.spec;
}

const handleOf = (where: string, value: unknown) => integer(where, 'handle', value, 1, MAX_ID);

const OPS: readonly CollectorOp[] = [
  'profile.open',
  'profile.start',
  'profile.stop',
  'latency.open',
  'latency.add',
  'latency.remove',
  'events.start',
  'events.stop',
  'discover.tracepoints',
  'discover.processes',
  'discover.objects',
  'discover.symbols',
  'discover.usdt',
  'close',
  'ping',
];

/**
 * Only plain data crosses: strings, finite numbers, booleans, null, plain objects and arrays,
 * at most 4 deep. Anything else (bigint, Buffer and typed arrays — no bytecode —, Map, Date,
 * functions, class instances) is refused before any field is looked at.
 */
function plainData(value: unknown, where: string, depth: number): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new Refusal(`${where} must be a finite number, got ${shown(value)}`);
      return;
    case 'object':
      if (value === null) return;
      if (depth >= 4) throw new Refusal(`${where} is nested too deeply`);
      if (Array.isArray(value)) {
        if (value.length > 64) throw new Refusal(`${where} has more than 64 items`);
        value.forEach((item, i) => plainData(item, `${where}[${i}]`, depth + 1));
        return;
      }
      if (!isPlainObject(value)) throw new Refusal(`${where} must be plain data, got ${shown(value)}`);
      if (Object.keys(value).length > 16) throw new Refusal(`${where} has more than 16 fields`);
      for (const [key, item] of Object.entries(value)) plainData(item, `${where}.${key.slice(0, 64)}`, depth + 1);
      return;
    default:
      throw new Refusal(`${where} must be plain data, got ${shown(value)} (${typeof value})`);
  }
}

/** Checks one command; returns a fresh, typed copy (never the input object). */
export function checkCommand(input: unknown): Validated<HostCommand> {
  try {
    if (isPlainObject(input)) plainData(input, typeof input.op === 'string' && (OPS as readonly string[]).includes(input.op) ? input.op : 'command', 0);
    return { ok: true, value: command(input) };
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, error: error.message };
    throw error;
  }
}

function command(input: unknown): HostCommand {
  if (!isPlainObject(input)) throw new Refusal(`a command must be an object {op, ...}, got ${shown(input)}`);
  const op = input.op;
  if (typeof op !== 'string' || !(OPS as readonly string[]).includes(op)) throw new Refusal(`unknown command op ${shown(op)} (known: ${OPS.join(', ')})`);
  const where = op;
  switch (op as CollectorOp) {
    case 'profile.open':
    case 'profile.stop':
    case 'events.stop':
    case 'close':
      onlyKeys(where, input, ['op', 'handle']);
      return { op, handle: handleOf(where, input.handle) } as HostCommand;
    case 'profile.start': {
      onlyKeys(where, input, ['op', 'handle', 'hz', 'target', 'intervalMs', 'profileType', 'offcpu']);
      const handle = handleOf(where, input.handle);
      const hz = checkHz(input.hz);
      if (!hz.ok) throw new Refusal(`${where}: ${hz.error}`);
      const target = checkTarget(input.target);
      if (!target.ok) throw new Refusal(`${where}: ${target.error}`);
      const intervalMs = optionalInteger(where, 'intervalMs', input.intervalMs, 10, 60_000);
      let profileType: ProfileType | undefined;
      if (input.profileType !== undefined) {
        const checked = checkProfileType(input.profileType, 'profileType');
        if (!checked.ok) throw new Refusal(`${where}: ${checked.error}`);
        profileType = checked.value;
      }
      let offcpu: OffCpuSettings | undefined;
      if (input.offcpu !== undefined) {
        const checked = checkOffCpu(input.offcpu);
        if (!checked.ok) throw new Refusal(`${where}: ${checked.error}`);
        offcpu = checked.value;
      }
      const problem = checkProfileCombination({ type: profileType, target: target.value });
      if (problem) throw new Refusal(`${where}: ${problem}`);
      return {
        op: 'profile.start',
        handle,
        hz: hz.value,
        target: target.value,
        ...(intervalMs !== undefined && { intervalMs }),
        ...(profileType !== undefined && { profileType }),
        ...(offcpu !== undefined && { offcpu }),
      };
    }
    case 'latency.open': {
      onlyKeys(where, input, ['op', 'handle', 'intervalMs', 'maxProbes']);
      const handle = handleOf(where, input.handle);
      const intervalMs = optionalInteger(where, 'intervalMs', input.intervalMs, 10, 60_000);
      const maxProbes = optionalInteger(where, 'maxProbes', input.maxProbes, 1, MAX_LATENCY_PROBES);
      return { op: 'latency.open', handle, ...(intervalMs !== undefined && { intervalMs }), ...(maxProbes !== undefined && { maxProbes }) };
    }
    case 'latency.add': {
      onlyKeys(where, input, ['op', 'handle', 'spec', 'pid', 'comm', 'subBuckets']);
      const handle = handleOf(where, input.handle);
      checkLatencySpec(where, input.spec);
      const pid = input.pid === undefined ? undefined : pidOf(where, input.pid);
      let comm: string | undefined;
      if (input.comm !== undefined) {
        const checked = checkComm(input.comm);
        if (!checked.ok) throw new Refusal(`${where}: ${checked.error}`);
        comm = checked.value;
      }
      const subBuckets = optionalInteger(where, 'subBuckets', input.subBuckets, MIN_SUB_BUCKETS, MAX_SUB_BUCKETS);
      return {
        op: 'latency.add',
        handle,
        spec: input.spec as string,
        ...(pid !== undefined && { pid }),
        ...(comm !== undefined && { comm }),
        ...(subBuckets !== undefined && { subBuckets }),
      };
    }
    case 'latency.remove': {
      onlyKeys(where, input, ['op', 'handle', 'id']);
      const handle = handleOf(where, input.handle);
      if (typeof input.id !== 'string' || !/^lat-\d{1,10}$/.test(input.id)) throw new Refusal(`${where}: id must be a latency probe id such as "lat-1", got ${shown(input.id)}`);
      return { op: 'latency.remove', handle, id: input.id };
    }
    case 'events.start': {
      onlyKeys(where, input, ['op', 'handle', 'spec', 'pid']);
      const handle = handleOf(where, input.handle);
      checkEventSpec(where, input.spec);
      const pid = input.pid === undefined ? undefined : pidOf(where, input.pid);
      return { op: 'events.start', handle, spec: input.spec as string, ...(pid !== undefined && { pid }) };
    }
    case 'discover.tracepoints': {
      onlyKeys(where, input, ['op', 'glob']);
      const glob = optionalText(where, 'glob', input.glob, MAX_DISCOVERY_TEXT);
      return { op: 'discover.tracepoints', ...(glob !== undefined && { glob }) };
    }
    case 'discover.processes': {
      onlyKeys(where, input, ['op', 'query']);
      const query = optionalText(where, 'query', input.query, MAX_DISCOVERY_TEXT);
      return { op: 'discover.processes', ...(query !== undefined && { query }) };
    }
    case 'discover.objects':
      onlyKeys(where, input, ['op', 'pid']);
      return { op: 'discover.objects', pid: pidOf(where, input.pid) };
    case 'discover.symbols': {
      onlyKeys(where, input, ['op', 'binary', 'glob']);
      const binary = checkBinary(where, input.binary);
      const glob = optionalText(where, 'glob', input.glob, MAX_DISCOVERY_TEXT);
      return { op: 'discover.symbols', binary, ...(glob !== undefined && { glob }) };
    }
    case 'ping':
      onlyKeys(where, input, ['op']);
      return { op: 'ping' };
    case 'discover.usdt': {
      onlyKeys(where, input, ['op', 'binary', 'pid']);
      if ((input.binary === undefined) === (input.pid === undefined)) throw new Refusal(`${where}: give exactly one of binary or pid`);
      if (input.pid !== undefined) return { op: 'discover.usdt', pid: pidOf(where, input.pid) };
      return { op: 'discover.usdt', binary: checkBinary(where, input.binary) };
    }
  }
}

/** Checks a whole request. A request without a usable id gets `id: null` in the refusal. */
export function checkRequest(input: unknown): { ok: true; value: CollectorRequest } | { ok: false; id: number | null; error: string } {
  if (!isPlainObject(input)) return { ok: false, id: null, error: `a request must be an object {id, command}, got ${shown(input)}` };
  const id = typeof input.id === 'number' && Number.isInteger(input.id) && input.id >= 1 && input.id <= MAX_ID ? input.id : null;
  if (id === null) return { ok: false, id: null, error: `request id must be a whole number from 1 to ${MAX_ID}, got ${shown(input.id)}` };
  const extra = Object.keys(input).find((key) => key !== 'id' && key !== 'command');
  if (extra !== undefined) return { ok: false, id, error: `request: unknown field ${shown(extra.slice(0, 64))}` };
  const checked = checkCommand(input.command);
  if (!checked.ok) return { ok: false, id, error: checked.error };
  return { ok: true, value: { id, command: checked.value } };
}
