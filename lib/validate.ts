/**
 * Validation of untrusted client payloads (socket.io messages from browsers).
 *
 * Each validator returns either the typed value or a one-line reason naming the field that
 * is wrong. Nothing here throws on bad input: a malformed message is answered, never fatal.
 */
import {
  BLOCK_STATES,
  MAX_BLOCK_US,
  MAX_COMM_LEN,
  MAX_HZ,
  MIN_HZ,
  PROFILE_TYPES,
  STACK_MODES,
  TIME_WINDOWS,
  type BlockState,
  type OffCpuSettings,
  type ProfileSettings,
  type ProfileTarget,
  type ProfileType,
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

export function checkProfileType(input: unknown, field = 'type'): Checked<ProfileType> {
  if (!PROFILE_TYPES.includes(input as never)) return fail(`${field} must be one of ${PROFILE_TYPES.join(', ')}, got ${JSON.stringify(input)}`);
  return { ok: true, value: input as ProfileType };
}

/** A block-time bound, µs: a whole number from 0 to MAX_BLOCK_US (one day). */
export function checkBlockUs(input: unknown, field: string): Checked<number> {
  if (typeof input !== 'number' || !Number.isInteger(input) || input < 0 || input > MAX_BLOCK_US) {
    return fail(`${field} must be a whole number of µs from 0 to ${MAX_BLOCK_US}, got ${JSON.stringify(input)}`);
  }
  return { ok: true, value: input };
}

/**
 * Off-CPU settings, all four fields (a change sends the whole object: the bounds are checked
 * against each other, so half an object could not be judged). `field` names it in errors.
 */
export function checkOffCpu(input: unknown, field = 'offcpu'): Checked<OffCpuSettings> {
  if (!isRecord(input)) return fail(`${field} must be an object {wakers, minBlockUs, maxBlockUs, state}`);
  const extra = unknownKeys(input, ['wakers', 'minBlockUs', 'maxBlockUs', 'state']);
  if (extra) return fail(`${field}: ${extra}`);
  if (typeof input.wakers !== 'boolean') return fail(`${field}.wakers must be true or false, got ${JSON.stringify(input.wakers)}`);
  const min = checkBlockUs(input.minBlockUs, `${field}.minBlockUs`);
  if (!min.ok) return min;
  let max: number | null = null;
  if (input.maxBlockUs !== null) {
    const checked = checkBlockUs(input.maxBlockUs, `${field}.maxBlockUs`);
    if (!checked.ok) return fail(`${checked.error} (or null: no limit)`);
    max = checked.value;
  }
  if (max !== null && min.value > max) {
    return fail(`${field}.minBlockUs (${min.value} µs) must not exceed ${field}.maxBlockUs (${max} µs)`);
  }
  if (!BLOCK_STATES.includes(input.state as never)) {
    return fail(`${field}.state must be one of ${BLOCK_STATES.join(', ')}, got ${JSON.stringify(input.state)}`);
  }
  return { ok: true, value: { wakers: input.wakers, minBlockUs: min.value, maxBlockUs: max, state: input.state as BlockState } };
}

/**
 * Rules across fields of whole settings (after a change is merged in): a wall profile needs a
 * target, since on- and off-CPU time of every thread of the machine (idle ones included) would
 * be one wide, meaningless block. Returns the reason, or null when the settings hold.
 */
export function checkProfileCombination(settings: { type?: ProfileType; target: ProfileTarget }): string | null {
  if (settings.type === 'wall' && settings.target.kind === 'all') {
    return 'type wall needs a target: a pid or a command name (all processes is only for cpu and offcpu)';
  }
  return null;
}

/** A partial change to the shared sampling settings. */
export function checkProfileChange(input: unknown): Checked<Partial<ProfileSettings>> {
  if (!isRecord(input)) return fail('profile change must be an object');
  const extra = unknownKeys(input, ['running', 'hz', 'target', 'type', 'offcpu']);
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
  if ('type' in input) {
    const type = checkProfileType(input.type);
    if (!type.ok) return type;
    change.type = type.value;
  }
  if ('offcpu' in input) {
    const offcpu = checkOffCpu(input.offcpu);
    if (!offcpu.ok) return offcpu;
    change.offcpu = offcpu.value;
  }
  // Both in one change: judged here already (otherwise the pipeline judges the merged settings).
  if (change.type !== undefined && change.target !== undefined) {
    const problem = checkProfileCombination({ type: change.type, target: change.target });
    if (problem) return fail(problem);
  }
  return { ok: true, value: change };
}
