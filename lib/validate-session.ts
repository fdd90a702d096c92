/**
 * Validation of the session messages a browser sends (lib/protocol-session.ts).
 * Like lib/validate.ts: a typed value or a one-line reason naming the wrong field; never throws.
 */
import { STACK_MODES, TIME_WINDOWS, type StackMode, type TimeWindow } from './protocol.ts';
import { MAX_FOLLOW_NAME, MAX_FOLLOW_PATH, MAX_SEARCH, type FollowView } from './protocol-session.ts';
import { isRecord, unknownKeys, type Checked } from './validate.ts';

const fail = (error: string): { ok: false; error: string } => ({ ok: false, error });

function checkPath(input: unknown, field: string): Checked<string[]> {
  if (!Array.isArray(input)) return fail(`follow.${field} must be an array of frame names`);
  if (input.length > MAX_FOLLOW_PATH) return fail(`follow.${field} is deeper than ${MAX_FOLLOW_PATH} frames`);
  for (const name of input) {
    if (typeof name !== 'string' || name.length > MAX_FOLLOW_NAME) {
      return fail(`follow.${field} must hold frame names of at most ${MAX_FOLLOW_NAME} characters`);
    }
  }
  return { ok: true, value: input as string[] };
}

/** The presenter's view (`follow:set`). */
export function checkFollowView(input: unknown): Checked<FollowView> {
  if (!isRecord(input)) return fail('follow view must be an object');
  const extra = unknownKeys(input, ['window', 'stackMode', 'hideIdle', 'perThread', 'zoom', 'search', 'selected', 'focus', 'icicle']);
  if (extra) return fail(`follow view: ${extra}`);
  if (!TIME_WINDOWS.includes(input.window as TimeWindow)) return fail(`follow.window must be one of ${TIME_WINDOWS.join(', ')}`);
  if (!STACK_MODES.includes(input.stackMode as StackMode)) return fail(`follow.stackMode must be one of ${STACK_MODES.join(', ')}`);
  if (typeof input.hideIdle !== 'boolean') return fail('follow.hideIdle must be true or false');
  if (typeof input.icicle !== 'boolean') return fail('follow.icicle must be true or false');
  if (input.perThread !== undefined && typeof input.perThread !== 'boolean') return fail('follow.perThread must be true or false');
  const zoom = checkPath(input.zoom, 'zoom');
  if (!zoom.ok) return zoom;
  let selected: string[] | null = null;
  if (input.selected !== null) {
    const checked = checkPath(input.selected, 'selected');
    if (!checked.ok) return checked;
    selected = checked.value;
  }
  if (typeof input.search !== 'string' || input.search.length > MAX_SEARCH) {
    return fail(`follow.search must be a string of at most ${MAX_SEARCH} characters`);
  }
  if (input.focus !== null && (typeof input.focus !== 'string' || input.focus.length > 64)) {
    return fail('follow.focus must be null or a probe id');
  }
  return {
    ok: true,
    value: {
      window: input.window as TimeWindow,
      stackMode: input.stackMode as StackMode,
      hideIdle: input.hideIdle,
      ...(input.perThread === true && { perThread: true }),
      icicle: input.icicle,
      zoom: zoom.value,
      search: input.search,
      selected,
      focus: input.focus as string | null,
    },
  };
}

/*
 * Text a person types (session names, link labels, recording and snapshot names) is shown to
 * other people, in the dashboard and in terminals: it must be printable. Refused: C0 and C1
 * controls (NUL, ESC, …) and DEL, the line and paragraph separators U+2028/U+2029, the
 * bidirectional embeddings and overrides U+202A–U+202E and isolates U+2066–U+2069 (they make
 * text read differently from how it is stored), and unpaired surrogates (not text at all).
 */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udfff]/u;

/** Why `text` is not printable (naming the character and where), or null when it is. */
export function unprintableProblem(text: string): string | null {
  const match = UNPRINTABLE.exec(text);
  if (!match) return null;
  const code = match[0].codePointAt(0)!;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  const what = code >= 0xd800 && code <= 0xdfff ? 'an unpaired surrogate' : code >= 0x2028 ? 'a line separator or bidirectional control' : 'a control character';
  return `${hex} at character ${match.index + 1} is ${what}`;
}

/**
 * A name or label: a string, trimmed, from `min` to `max` characters (code points), printable.
 * `field` names it in the error (`label`, `name`).
 */
export function checkText(input: unknown, field: string, limits: { min: number; max: number }): Checked<string> {
  if (typeof input !== 'string') return fail(`${field} must be a string, got ${input === null ? 'null' : Array.isArray(input) ? 'an array' : typeof input}`);
  const trimmed = input.trim();
  const length = [...trimmed].length;
  if (length < limits.min || length > limits.max) {
    return fail(`${field} must be ${limits.min === 0 ? 'at most' : `${limits.min} to`} ${limits.max} characters, got ${length}`);
  }
  const problem = unprintableProblem(trimmed);
  if (problem) return fail(`${field} must be printable text: ${problem}`);
  return { ok: true, value: trimmed };
}

/**
 * The fields each session-level request may carry (docs/protocol.md, "Session requests" and
 * "Recording, replay, snapshots, compare"). `follow:set` has its own check (checkFollowView).
 * Which fields are required, and their types, is checked by the request's handler.
 */
export const SESSION_REQUEST_FIELDS: Readonly<Record<string, readonly string[]>> = {
  'session:state': [],
  'session:list': [],
  'session:create': ['name'],
  'session:close': ['id'],
  'link:create': ['label', 'minutes'],
  'link:revoke': ['id'],
  'record:start': ['name'],
  'record:stop': [],
  'recordings:list': [],
  'recording:delete': ['id'],
  'replay:open': ['recordingId', 'speed'],
  'replay:control': ['action', 'positionMs', 'speed'],
  'snapshot:pin': ['name', 'kind', 'view', 'probe'],
  'snapshots:list': [],
  'snapshot:get': ['id'],
  'snapshot:delete': ['id'],
  'compare:windows': ['recordingId', 'before', 'after', 'view'],
};

/** True for `{…}` as JSON makes it (not an array, a Buffer, a Date, a class instance). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * The payload of a session-level request as a plain object: absent (undefined or null, what a
 * request without a payload sends) becomes `{}`; anything but a plain object, and any field
 * the request does not take, is refused with the request and the field named.
 */
export function checkSessionRequest(event: string, payload: unknown): Checked<Record<string, unknown>> {
  const allowed = Object.hasOwn(SESSION_REQUEST_FIELDS, event) ? SESSION_REQUEST_FIELDS[event] : undefined;
  if (!allowed) return fail(`${event} is not a session request`);
  const shape = allowed.length === 0 ? 'no payload' : `{${allowed.join(', ')}}`;
  if (payload === undefined || payload === null) return { ok: true, value: {} };
  if (!isPlainObject(payload)) {
    const got = Array.isArray(payload) ? 'an array' : typeof payload === 'object' ? 'a non-plain object' : typeof payload;
    return fail(`${event} takes ${shape}, got ${got}`);
  }
  const extra = unknownKeys(payload, allowed);
  if (extra) return fail(`${event}: ${extra} (it takes ${shape})`);
  return { ok: true, value: payload };
}
