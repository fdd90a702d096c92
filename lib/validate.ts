/**
 * Validation of untrusted client payloads (socket.io messages from browsers).
 *
 * Each validator returns either the typed value or a one-line reason naming the field that
 * is wrong. Nothing here throws on bad input: a malformed message is answered, never fatal.
 */
import {
  MAX_COMM_LEN,
  MAX_HZ,
  MIN_HZ,
  STACK_MODES,
  TIME_WINDOWS,
  type ProfileSettings,
  type ProfileTarget,
  type ViewSettings,
} from './protocol.ts';

export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

const fail = (error: string): { ok: false; error: string } => ({ ok: false, error });

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function unknownKeys(value: Record<string, unknown>, allowed: readonly string[]): string | null {
  const extra = Object.keys(value).filter((key) => !allowed.includes(key));
  return extra.length > 0 ? `unknown field ${JSON.stringify(extra[0])}` : null;
}

export function checkView(input: unknown): Checked<ViewSettings> {
  if (!isRecord(input)) return fail('view must be an object');
  const extra = unknownKeys(input, ['window', 'stackMode', 'hideIdle', 'perThread']);
  if (extra) return fail(`view: ${extra}`);
  const { window, stackMode, hideIdle, perThread } = input;
  if (!TIME_WINDOWS.includes(window as never)) {
    return fail(`view.window must be one of ${TIME_WINDOWS.join(', ')}, got ${JSON.stringify(window)}`);
  }
  if (!STACK_MODES.includes(stackMode as never)) {
    return fail(`view.stackMode must be one of ${STACK_MODES.join(', ')}, got ${JSON.stringify(stackMode)}`);
  }
  if (typeof hideIdle !== 'boolean') return fail('view.hideIdle must be true or false');
  // Optional (absent = false), so that clients from before it keep working.
  if (perThread !== undefined && typeof perThread !== 'boolean') return fail(`view.perThread must be true or false, got ${JSON.stringify(perThread)}`);
  const view = { window, stackMode, hideIdle } as ViewSettings;
  if (perThread !== undefined) view.perThread = perThread;
  return { ok: true, value: view };
}

export function checkHz(input: unknown): Checked<number> {
  if (typeof input !== 'number' || !Number.isInteger(input) || input < MIN_HZ || input > MAX_HZ) {
    return fail(`sample rate must be a whole number of Hz from ${MIN_HZ} to ${MAX_HZ}, got ${JSON.stringify(input)}`);
  }
  return { ok: true, value: input };
}

export function checkPid(input: unknown): Checked<number> {
  if (typeof input !== 'number' || !Number.isInteger(input) || input < 1 || input > 4194304) {
    return fail(`pid must be a whole number from 1 to 4194304, got ${JSON.stringify(input)}`);
  }
  return { ok: true, value: input };
}

export function checkComm(input: unknown): Checked<string> {
  if (typeof input !== 'string' || input.length === 0) return fail('command name must be a non-empty string');
  if (new TextEncoder().encode(input).length > MAX_COMM_LEN) {
    return fail(`command name ${JSON.stringify(input)} is longer than the kernel's ${MAX_COMM_LEN} bytes`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f]/.test(input)) return fail('command name must not contain control characters');
  return { ok: true, value: input };
}

export function checkTarget(input: unknown): Checked<ProfileTarget> {
  if (!isRecord(input)) return fail('target must be an object');
  switch (input.kind) {
    case 'all': {
      const extra = unknownKeys(input, ['kind']);
      return extra ? fail(`target: ${extra}`) : { ok: true, value: { kind: 'all' } };
    }
    case 'pid': {
      const extra = unknownKeys(input, ['kind', 'pid']);
      if (extra) return fail(`target: ${extra}`);
      const pid = checkPid(input.pid);
      return pid.ok ? { ok: true, value: { kind: 'pid', pid: pid.value } } : pid;
    }
    case 'comm': {
      const extra = unknownKeys(input, ['kind', 'comm']);
      if (extra) return fail(`target: ${extra}`);
      const comm = checkComm(input.comm);
      return comm.ok ? { ok: true, value: { kind: 'comm', comm: comm.value } } : comm;
    }
    default:
      return fail(`target.kind must be all, pid or comm, got ${JSON.stringify(input.kind)}`);
  }
}

/** A partial change to the shared sampling settings. */
export function checkProfileChange(input: unknown): Checked<Partial<ProfileSettings>> {
  if (!isRecord(input)) return fail('profile change must be an object');
  const extra = unknownKeys(input, ['running', 'hz', 'target']);
  if (extra) return fail(`profile change: ${extra}`);
  const change: Partial<ProfileSettings> = {};
  if ('running' in input) {
    if (typeof input.running !== 'boolean') return fail('running must be true or false');
    change.running = input.running;
  }
  if ('hz' in input) {
    const hz = checkHz(input.hz);
    if (!hz.ok) return hz;
    change.hz = hz.value;
  }
  if ('target' in input) {
    const target = checkTarget(input.target);
    if (!target.ok) return target;
    change.target = target.value;
  }
  return { ok: true, value: change };
}
