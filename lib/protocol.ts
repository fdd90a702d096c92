/**
 * The probeboard wire protocol between the hub (server/hub) and browsers, over socket.io.
 *
 * Isomorphic: imported by the server and by the UI; no Node or DOM APIs here.
 * Documented field by field in docs/protocol.md. Bump PROTOCOL_VERSION on any
 * incompatible change; the server sends it in `hello` and a client that does not
 * understand it must say so rather than draw a wrong picture.
 */

export const PROTOCOL_VERSION = 1;

/**
 * One flame graph node in d3-flame-graph's short-key form.
 * `v` is inclusive: this frame's own samples plus all its children's.
 */
export interface FlameNode {
  /** Frame name (symbol, `[unknown] (binary)`, `comm` at depth 1, `all` at the root). */
  n: string;
  /** Samples, inclusive of children. */
  v: number;
  /** Children, sorted by name (stable layout between updates). Omitted for leaves. */
  c?: FlameNode[];
  /** Frame kind, for colouring: see FrameKind. Omitted for the root. */
  k?: FrameKind;
  /** Off-CPU time: the blocking events (switch-out to switch-in) behind `v`, inclusive; omitted when none or not known. */
  e?: number;
  /**
   * The binary of this frame's code: an index into the root's `modules`. Omitted when unknown
   * (process, JIT and synthetic frames) and in trees without a module table.
   */
  m?: number;
  /**
   * Root only: the binaries that nodes' `m` index (each listed once). Omitted when no node
   * has one (e.g. trees read from folded text).
   */
  modules?: FlameModule[];
}

/** A binary that frames' code lies in: what pprof calls a Mapping. */
export interface FlameModule {
  /**
   * Path of the file as the sampled process saw it (its mount namespace), e.g.
   * `/usr/lib/x86_64-linux-gnu/libc.so.6`; `[kernel]` for the kernel.
   */
  file: string;
  /** GNU build-id, lowercase hex (ELF .note.gnu.build-id; the kernel's from /sys/kernel/notes). Omitted when the file has none or it could not be read. */
  buildId?: string;
}

/**
 * u = user code, k = kernel (`_[k]`), j = JIT (perf map), p = process (comm), x = synthetic (lost
 * stacks, pruned, the `--` between a blocked stack and its waker), o = the leaf of an off-CPU
 * stack in a wall (hot/cold) profile (`_[o]`).
 */
export type FrameKind = 'u' | 'k' | 'j' | 'p' | 'x' | 'o';

/** Which part of each stack to show. */
export type StackMode = 'all' | 'user' | 'kernel';
export const STACK_MODES: readonly StackMode[] = ['all', 'user', 'kernel'];

/** Time window the flame graph covers: the last 10 s, the last 60 s, or since profiling started. */
export type TimeWindow = '10s' | '60s' | 'all';
export const TIME_WINDOWS: readonly TimeWindow[] = ['10s', '60s', 'all'];

/** Per-viewer view of the shared profile. Changing it never changes what is sampled. */
export interface ViewSettings {
  window: TimeWindow;
  stackMode: StackMode;
  /** Drop the idle task (pid 0, `swapper/N`). */
  hideIdle: boolean;
  /**
   * Root each stack at its thread, `comm-tid` (e.g. `worker-4242`), rather than at `comm`, so
   * threads with the same name are drawn apart. Samples without a thread id (recordings made
   * before it was sampled) keep `comm`. Optional on the wire: absent means false.
   */
  perThread?: boolean;
}

export const DEFAULT_VIEW: ViewSettings = { window: '10s', stackMode: 'all', hideIdle: true, perThread: false };

/** What is sampled. Shared by every viewer: changing it restarts sampling. */
export type ProfileTarget =
  | { kind: 'all' }
  | { kind: 'pid'; pid: number }
  | { kind: 'comm'; comm: string };

/**
 * What a profile measures:
 * - cpu: on-CPU samples at `hz` (widths are samples);
 * - offcpu: time threads spend switched out, by the stack they blocked in (widths are µs);
 * - wall: both, for one target, on one time axis (widths are µs; on-CPU samples weigh one
 *   sample period; off-CPU stacks end in a leaf of kind 'o').
 */
export type ProfileType = 'cpu' | 'offcpu' | 'wall';
export const PROFILE_TYPES: readonly ProfileType[] = ['cpu', 'offcpu', 'wall'];

/** Which switch-outs count as off-CPU: every one (preempted threads wait on the run queue), or only one kind of sleep. */
export type BlockState = 'all' | 'uninterruptible' | 'interruptible';
export const BLOCK_STATES: readonly BlockState[] = ['all', 'uninterruptible', 'interruptible'];

/** Off-CPU settings (types offcpu and wall). */
export interface OffCpuSettings {
  /** Join each blocked stack to the stack of the thread that woke it (as bcc's offwaketime). */
  wakers: boolean;
  /** Blocked intervals shorter than this are not counted, µs (>= 0). */
  minBlockUs: number;
  /** Nor longer ones, µs; null: no limit. */
  maxBlockUs: number | null;
  state: BlockState;
}

export const DEFAULT_OFFCPU_SETTINGS: OffCpuSettings = { wakers: false, minBlockUs: 1, maxBlockUs: null, state: 'all' };
/** Largest --min/--max-block-us accepted: one day. */
export const MAX_BLOCK_US = 86_400_000_000;

export interface ProfileSettings {
  running: boolean;
  /** Sampling frequency per CPU, in Hz (1..10000); types cpu and wall. */
  hz: number;
  target: ProfileTarget;
  /** Absent: cpu (settings from before profile types existed). */
  type?: ProfileType;
  /** Types offcpu and wall; absent: DEFAULT_OFFCPU_SETTINGS. */
  offcpu?: OffCpuSettings;
}

/** Unit of a flame graph's widths: samples (cpu), or µs of time (offcpu, wall). */
export type ProfileUnit = 'samples' | 'us';

/** Unit of a flame graph's widths (FlameNode.v) for a profile type: samples, or µs of time. */
export function profileUnit(type: ProfileType | undefined): ProfileUnit {
  return type === 'offcpu' || type === 'wall' ? 'us' : 'samples';
}

export const DEFAULT_PROFILE_SETTINGS: ProfileSettings = { running: true, hz: 99, target: { kind: 'all' } };
export const MIN_HZ = 1;
export const MAX_HZ = 10000;
/** Longest command name the kernel keeps (TASK_COMM_LEN - 1). */
export const MAX_COMM_LEN = 15;

/**
 * Samples whose stack the kernel could not record, by cause. The samples themselves are
 * still counted in the flame graph (under a `[lost stack: …]` frame), so totals stay true.
 */
export interface StackErrorCounts {
  /** bpf_get_stackid returned -EEXIST: the stack map bucket held another stack (hash collision). */
  collision: number;
  /** -EFAULT: the stack could not be walked (e.g. no user stack for a kernel thread, page fault). */
  fault: number;
  /** -ENOMEM or any other error, or a stack id that vanished before it was read. */
  other: number;
}

/** Counters that tell how complete the picture is, over the frame's window. */
export interface ProfileHealth {
  userStackErrors: StackErrorCounts;
  kernelStackErrors: StackErrorCounts;
  /** Samples dropped in the kernel because the counts map was full. */
  droppedSamples: number;
  /** Frames whose address matched no symbol (shown as `[unknown]`). */
  unknownFrames: number;
}

/** Server -> client `profile:frame`: the whole flame graph for the viewer's view. */
export interface ProfileFrame {
  /** Increases by one per frame sent on this connection. */
  seq: number;
  view: ViewSettings;
  settings: ProfileSettings;
  /** Root node: `n` = 'all', `v` = total samples (or µs: see `unit`) in the window. */
  tree: FlameNode;
  /**
   * What every width of this frame counts (tree's `v`, totalSamples, prunedSamples): 'samples'
   * for a cpu profile, 'us' (µs of time) for offcpu and wall: profileUnit(settings.type).
   */
  unit: ProfileUnit;
  /** Samples (or µs: see `unit`) in the window (equals tree.v). */
  totalSamples: number;
  /** Samples (or µs) folded into `[pruned]` nodes because their frames were too narrow to draw. */
  prunedSamples: number;
  /** Number of nodes in `tree`. */
  nodeCount: number;
  /** Wall-clock bounds of the window, in ms since the epoch. */
  windowStartMs: number;
  windowEndMs: number;
  /** Wall-clock ms when the newest interval in this frame was read from the kernel. */
  sampledAtMs: number;
  health: ProfileHealth;
}

/** Server -> client `profile:status`: the shared sampling state, sent on change and on join. */
export interface ProfileStatus {
  settings: ProfileSettings;
  /** Empty when sampling works; otherwise what is wrong and how to fix it. */
  error: string | null;
  /** Number of CPUs sampled. */
  cpus: number;
}

/** Server -> client `hello`, first message on every connection. */
export interface Hello {
  protocol: number;
  version: string;
  /** Whether this connection may change what is sampled (start/stop, rate, target). */
  canControl: boolean;
  /** operator (the server's token) or viewer (a read-only viewer link); see lib/protocol-session.ts. */
  role?: 'operator' | 'viewer';
  /** The session this connection joined. */
  session?: string;
}

/** Reply to every client request (socket.io acknowledgement). */
export type Ack<T = undefined> = { ok: true; value?: T } | { ok: false; error: string };

/** Server -> client `error:message`: a request was refused. The connection stays open. */
export interface ErrorMessage {
  /** The event the client sent. */
  event: string;
  message: string;
}

/** Events the server emits. */
export interface ServerToClientEvents {
  hello: (hello: Hello) => void;
  'profile:status': (status: ProfileStatus) => void;
  /** Flow-controlled: the client must call `ack` when it has applied the frame. */
  'profile:frame': (frame: ProfileFrame, ack: () => void) => void;
  'error:message': (error: ErrorMessage) => void;
}

/** Events a client may send. Payloads are untrusted and validated by lib/validate.ts. */
export interface ClientToServerEvents {
  'view:set': (view: ViewSettings, ack?: (reply: Ack) => void) => void;
  'profile:configure': (change: Partial<ProfileSettings>, ack?: (reply: Ack<ProfileSettings>) => void) => void;
}
