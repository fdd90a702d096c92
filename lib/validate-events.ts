/**
 * Validation of untrusted `events:*` and `discover:*` payloads (lib/protocol-events.ts), in
 * lib/validate.ts style: the typed value or a one-line reason naming the field. The events
 * spec is parsed with the grammar the collector uses, so a malformed spec is refused before
 * anything touches the kernel; what only the server can know (unknown tracepoint, binary,
 * USDT probe, field) is checked when the probe is opened.
 */
import { formatEventSpec, parseEventSpec } from './event-spec.ts';
import {
  MAX_DISCOVERY_TEXT,
  MAX_EVENT_SPEC_LENGTH,
  type DiscoverObjectsRequest,
  type DiscoverProcessesRequest,
  type DiscoverSymbolsRequest,
  type DiscoverTracepointsRequest,
  type DiscoverUsdtRequest,
  type EventsAddRequest,
  type EventsRemoveRequest,
} from './protocol-events.ts';
import { checkPid, type Checked } from './validate.ts';

const fail = (error: string): { ok: false; error: string } => ({ ok: false, error });

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unknownKey(event: string, value: Record<string, unknown>, allowed: readonly string[]): string | null {
  const extra = Object.keys(value).find((key) => !allowed.includes(key));
  return extra === undefined ? null : `${event}: unknown field ${JSON.stringify(extra.slice(0, 64))}`;
}

/** Short JSON of a bad value for a message. */
const shown = (value: unknown) => (JSON.stringify(value) ?? String(value)).slice(0, 80);

/** An optional text field (glob, query): absent/null/'' -> undefined. */
function optionalText(event: string, name: string, value: unknown): Checked<string | undefined> {
  if (value === undefined || value === null) return { ok: true, value: undefined };
  if (typeof value !== 'string') return fail(`${event}: ${name} must be a string, got ${shown(value)}`);
  if (value.length > MAX_DISCOVERY_TEXT) return fail(`${event}: ${name} is longer than ${MAX_DISCOVERY_TEXT} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f]/.test(value)) return fail(`${event}: ${name} contains control characters`);
  const trimmed = value.trim();
  return { ok: true, value: trimmed === '' ? undefined : trimmed };
}

function requiredText(event: string, name: string, value: unknown, example: string): Checked<string> {
  const text = optionalText(event, name, value);
  if (!text.ok) return text;
  if (text.value === undefined) return fail(`${event}: ${name} is required (e.g. ${example})`);
  return { ok: true, value: text.value };
}

function pidOf(event: string, value: unknown): Checked<number> {
  const pid = checkPid(value);
  return pid.ok ? pid : fail(`${event}: ${pid.error}`);
}

/** `events:add`; `spec` comes back in canonical form. */
export function checkEventsAdd(input: unknown): Checked<EventsAddRequest> {
  if (!isRecord(input)) return fail('events:add needs an object {spec, pid?}');
  const extra = unknownKey('events:add', input, ['spec', 'pid']);
  if (extra) return fail(extra);
  if (typeof input.spec !== 'string' || input.spec.trim() === '') return fail('events:add: spec must be a non-empty string, e.g. exec or tracepoint:sched:sched_switch');
  if (input.spec.length > MAX_EVENT_SPEC_LENGTH) return fail(`events:add: spec is longer than ${MAX_EVENT_SPEC_LENGTH} characters`);
  const text = input.spec.trim();
  const parsed = parseEventSpec(text);
  if (!parsed.ok) return fail(`bad spec "${text}" at character ${parsed.error.position + 1}: ${parsed.error.message}`);
  const value: EventsAddRequest = { spec: formatEventSpec(parsed.spec) };
  if (input.pid !== undefined && input.pid !== null) {
    const pid = pidOf('events:add', input.pid);
    if (!pid.ok) return pid;
    value.pid = pid.value;
  }
  return { ok: true, value };
}

export function checkEventsRemove(input: unknown): Checked<EventsRemoveRequest> {
  if (!isRecord(input)) return fail('events:remove needs an object {id}');
  const extra = unknownKey('events:remove', input, ['id']);
  if (extra) return fail(extra);
  if (typeof input.id !== 'string' || !/^[\w-]{1,64}$/.test(input.id)) return fail(`events:remove: id must be a probe id such as "ev-1", got ${shown(input.id)}`);
  return { ok: true, value: { id: input.id } };
}

export function checkDiscoverTracepoints(input: unknown): Checked<DiscoverTracepointsRequest> {
  if (input === undefined || input === null) return { ok: true, value: {} };
  if (!isRecord(input)) return fail('discover:tracepoints needs an object {glob?}');
  const extra = unknownKey('discover:tracepoints', input, ['glob']);
  if (extra) return fail(extra);
  const glob = optionalText('discover:tracepoints', 'glob', input.glob);
  if (!glob.ok) return glob;
  return { ok: true, value: glob.value === undefined ? {} : { glob: glob.value } };
}

export function checkDiscoverProcesses(input: unknown): Checked<DiscoverProcessesRequest> {
  if (input === undefined || input === null) return { ok: true, value: {} };
  if (!isRecord(input)) return fail('discover:processes needs an object {query?}');
  const extra = unknownKey('discover:processes', input, ['query']);
  if (extra) return fail(extra);
  const query = optionalText('discover:processes', 'query', input.query);
  if (!query.ok) return query;
  return { ok: true, value: query.value === undefined ? {} : { query: query.value } };
}

export function checkDiscoverObjects(input: unknown): Checked<DiscoverObjectsRequest> {
  if (!isRecord(input)) return fail('discover:objects needs an object {pid}');
  const extra = unknownKey('discover:objects', input, ['pid']);
  if (extra) return fail(extra);
  const pid = pidOf('discover:objects', input.pid);
  return pid.ok ? { ok: true, value: { pid: pid.value } } : pid;
}

export function checkDiscoverSymbols(input: unknown): Checked<DiscoverSymbolsRequest> {
  if (!isRecord(input)) return fail('discover:symbols needs an object {binary, glob?}');
  const extra = unknownKey('discover:symbols', input, ['binary', 'glob']);
  if (extra) return fail(extra);
  const binary = requiredText('discover:symbols', 'binary', input.binary, '/usr/bin/bash or c');
  if (!binary.ok) return binary;
  const glob = optionalText('discover:symbols', 'glob', input.glob);
  if (!glob.ok) return glob;
  return { ok: true, value: glob.value === undefined ? { binary: binary.value } : { binary: binary.value, glob: glob.value } };
}

export function checkDiscoverUsdt(input: unknown): Checked<DiscoverUsdtRequest> {
  if (!isRecord(input)) return fail('discover:usdt needs an object {binary} or {pid}');
  const extra = unknownKey('discover:usdt', input, ['binary', 'pid']);
  if (extra) return fail(extra);
  const hasBinary = input.binary !== undefined && input.binary !== null;
  const hasPid = input.pid !== undefined && input.pid !== null;
  if (hasBinary === hasPid) return fail('discover:usdt needs exactly one of binary or pid');
  if (hasPid) {
    const pid = pidOf('discover:usdt', input.pid);
    return pid.ok ? { ok: true, value: { pid: pid.value } } : pid;
  }
  const binary = requiredText('discover:usdt', 'binary', input.binary, '/usr/bin/python3');
  return binary.ok ? { ok: true, value: { binary: binary.value } } : binary;
}
