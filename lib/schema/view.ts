/**
 * The profile part of the wire protocol: a viewer's view (`view:set`), the shared sampling
 * settings (`profile:configure`), and what the server sends for them (`hello`,
 * `profile:status`, `profile:frame`, `error:message`). lib/protocol.ts re-exports the types;
 * docs/protocol.md documents them field by field.
 */
import * as v from 'valibot';
import { acrossFieldsMessage, boolean, HERE, insideMessage, oneOf, record, refusalOf, sentenceMessage, variant, wholeNumber } from './core.ts';

/** Which part of each stack to show. */
export const STACK_MODES = ['all', 'user', 'kernel'] as const;
/** Time window the flame graph covers: the last 10 s, the last 60 s, or since profiling started. */
export const TIME_WINDOWS = ['10s', '60s', 'all'] as const;
/**
 * What a profile measures:
 * - cpu: on-CPU samples at `hz` (widths are samples);
 * - offcpu: time threads spend switched out, by the stack they blocked in (widths are µs);
 * - wall: both, for one target, on one time axis (widths are µs; on-CPU samples weigh one
 *   sample period; off-CPU stacks end in a leaf of kind 'o').
 */
export const PROFILE_TYPES = ['cpu', 'offcpu', 'wall'] as const;
/** Which switch-outs count as off-CPU: every one (preempted threads wait on the run queue), or only one kind of sleep. */
export const BLOCK_STATES = ['all', 'uninterruptible', 'interruptible'] as const;

export const MIN_HZ = 1;
export const MAX_HZ = 10000;
/** Longest command name the kernel keeps (TASK_COMM_LEN - 1), bytes. */
export const MAX_COMM_LEN = 15;
/** Largest --min/--max-block-us accepted: one day, µs. */
export const MAX_BLOCK_US = 86_400_000_000;
/** Largest pid Linux hands out (PID_MAX_LIMIT). */
export const MAX_PID = 4194304;

export const StackModeSchema = oneOf(STACK_MODES);
export const TimeWindowSchema = oneOf(TIME_WINDOWS);
export const ProfileTypeSchema = oneOf(PROFILE_TYPES);
export const BlockStateSchema = oneOf(BLOCK_STATES);

/** Per-viewer view of the shared profile (`view:set`). Changing it never changes what is sampled. */
export const ViewSettingsSchema = record({
  window: TimeWindowSchema,
  stackMode: StackModeSchema,
  /** Drop the idle task (pid 0, `swapper/N`). */
  hideIdle: boolean(),
  /**
   * Root each stack at its thread, `comm-tid`, rather than at `comm`. Optional on the wire
   * (absent means false), so that clients from before it keep working.
   */
  perThread: v.optional(boolean()),
});

export const HzSchema = wholeNumber(MIN_HZ, MAX_HZ, 'a whole number of Hz');
export const PidSchema = wholeNumber(1, MAX_PID);

/** Why `comm` is not a command name (1 to 15 bytes of UTF-8, no control characters), or null. */
export function commProblem(comm: string): string | null {
  if (comm.length === 0) return 'must be a non-empty string';
  if (new TextEncoder().encode(comm).length > MAX_COMM_LEN) return `is longer than the kernel's ${MAX_COMM_LEN} bytes`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f]/.test(comm)) return 'must not contain control characters';
  return null;
}

/** A command name: 1 to 15 bytes of UTF-8, no control characters. `emptyAllowed`: '' also passes (no filter). */
export function commSchema(options: { emptyAllowed?: boolean } = {}) {
  return v.pipe(
    v.string('must be a non-empty string'),
    v.rawCheck<string>(({ dataset, addIssue }) => {
      if (!dataset.typed || (options.emptyAllowed && dataset.value === '')) return;
      const problem = commProblem(dataset.value);
      if (problem) addIssue({ message: problem });
    }),
  );
}
export const CommSchema = commSchema();

/** What is sampled. Shared by every viewer: changing it restarts sampling. */
export const ProfileTargetSchema = variant(
  'kind',
  [v.strictObject({ kind: v.literal('all') }), v.strictObject({ kind: v.literal('pid'), pid: PidSchema }), v.strictObject({ kind: v.literal('comm'), comm: CommSchema })],
  'must be all, pid or comm',
);

/** A block-time bound, µs: a whole number from 0 to MAX_BLOCK_US (one day). */
export const BlockUsSchema = wholeNumber(0, MAX_BLOCK_US, 'a whole number of µs');

/**
 * Off-CPU settings (types offcpu and wall), all four fields: a change sends the whole object,
 * since the bounds are checked against each other.
 */
export const OffCpuSettingsSchema = v.pipe(
  record({
    /** Join each blocked stack to the stack of the thread that woke it (as bcc's offwaketime). */
    wakers: boolean(),
    /** Blocked intervals shorter than this are not counted, µs. */
    minBlockUs: BlockUsSchema,
    /** Nor longer ones, µs; null: no limit. */
    maxBlockUs: v.nullable(wholeNumber(0, MAX_BLOCK_US, 'null (no limit) or a whole number of µs')),
    state: BlockStateSchema,
  }),
  v.check(
    (o) => o.maxBlockUs === null || o.minBlockUs <= o.maxBlockUs,
    (issue) => {
      const { minBlockUs, maxBlockUs } = issue.input as { minBlockUs: number; maxBlockUs: number };
      return acrossFieldsMessage(`{}.minBlockUs (${minBlockUs} µs) must not exceed {}.maxBlockUs (${maxBlockUs} µs)`);
    },
  ),
);

/**
 * Rules across fields of whole settings (after a change is merged in): a wall profile needs a
 * target, since on- and off-CPU time of every thread of the machine (idle ones included) would
 * be one wide, meaningless block. Returns the reason, or null when the settings hold.
 */
export function profileCombinationProblem(settings: { type?: ProfileType; target: ProfileTarget }): string | null {
  if (settings.type === 'wall' && settings.target.kind === 'all') {
    return 'type wall needs a target: a pid or a command name (all processes is only for cpu and offcpu)';
  }
  return null;
}

/** The rule above as a check on a value with `type` and `target` (either may be absent). */
export function combinationCheck<T extends { type?: ProfileType; target?: ProfileTarget }>() {
  return v.rawCheck<T>(({ dataset, addIssue }) => {
    if (!dataset.typed || dataset.value.target === undefined) return;
    const problem = profileCombinationProblem({ type: dataset.value.type, target: dataset.value.target });
    if (problem) addIssue({ message: sentenceMessage(problem) });
  });
}

/** The shared sampling settings. */
export const ProfileSettingsSchema = record({
  running: boolean(),
  /** Sampling frequency per CPU, Hz; types cpu and wall. */
  hz: HzSchema,
  target: ProfileTargetSchema,
  /** Absent: cpu (settings from before profile types existed). */
  type: v.optional(ProfileTypeSchema),
  /** Types offcpu and wall; absent: DEFAULT_OFFCPU_SETTINGS. */
  offcpu: v.optional(OffCpuSettingsSchema),
});

/** `profile:configure`: a partial change to the shared sampling settings (both type and target: judged together). */
export const ProfileChangeSchema = v.pipe(
  record({
    running: v.optional(boolean()),
    hz: v.optional(HzSchema),
    target: v.optional(ProfileTargetSchema),
    type: v.optional(ProfileTypeSchema),
    offcpu: v.optional(OffCpuSettingsSchema),
  }),
  combinationCheck(),
);

export type StackMode = v.InferOutput<typeof StackModeSchema>;
export type TimeWindow = v.InferOutput<typeof TimeWindowSchema>;
export type ProfileType = v.InferOutput<typeof ProfileTypeSchema>;
export type BlockState = v.InferOutput<typeof BlockStateSchema>;
export type ViewSettings = v.InferOutput<typeof ViewSettingsSchema>;
export type ProfileTarget = v.InferOutput<typeof ProfileTargetSchema>;
export type OffCpuSettings = v.InferOutput<typeof OffCpuSettingsSchema>;
export type ProfileSettings = v.InferOutput<typeof ProfileSettingsSchema>;
export type ProfileChange = v.InferOutput<typeof ProfileChangeSchema>;

// ---------------------------------------------------------------------------------------
// Server -> client

/**
 * u = user code, k = kernel (`_[k]`), j = JIT (perf map), p = process (comm), x = synthetic (lost
 * stacks, pruned, the `--` between a blocked stack and its waker), o = the leaf of an off-CPU
 * stack in a wall (hot/cold) profile (`_[o]`).
 */
export const FrameKindSchema = v.picklist(['u', 'k', 'j', 'p', 'x', 'o']);
export type FrameKind = v.InferOutput<typeof FrameKindSchema>;

/** A binary that frames' code lies in: what pprof calls a Mapping. */
export const FlameModuleSchema = v.object({
  /** Path of the file as the sampled process saw it, e.g. `/usr/lib/x86_64-linux-gnu/libc.so.6`; `[kernel]` for the kernel. */
  file: v.string(),
  /** GNU build-id, lowercase hex; omitted when the file has none or it could not be read. */
  buildId: v.optional(v.string()),
});
export type FlameModule = v.InferOutput<typeof FlameModuleSchema>;

/**
 * One flame graph node in d3-flame-graph's short-key form. Recursive, so its type is written
 * here once (TypeScript cannot infer a recursive schema) and the schema is checked against it.
 */
export interface FlameNode {
  /** Frame name (symbol, `binary+0xOFFSET` for unnamed code in a binary, `[unknown]`, `comm` at depth 1, `all` at the root). */
  n: string;
  /** Samples (or µs), inclusive of children. */
  v: number;
  /** Children, sorted by name (stable layout between updates). Omitted for leaves. */
  c?: FlameNode[];
  /** Frame kind, for colouring. Omitted for the root. */
  k?: FrameKind;
  /** Off-CPU time: the blocking events behind `v`, inclusive; omitted when none or not known. */
  e?: number;
  /** The binary of this frame's code: an index into the root's `modules`; omitted when unknown. */
  m?: number;
  /** Root only: the binaries that nodes' `m` index (each listed once). */
  modules?: FlameModule[];
}
export const FlameNodeSchema: v.GenericSchema<FlameNode> = v.object({
  n: v.string('must be a string'),
  v: v.number('must be a number'),
  c: v.optional(v.array(v.lazy(() => FlameNodeSchema), 'must be an array of nodes')),
  k: v.optional(FrameKindSchema),
  e: v.optional(v.number('must be a number')),
  m: v.optional(v.number('must be a number')),
  modules: v.optional(v.array(FlameModuleSchema, 'must be an array of binaries {file, buildId?}')),
});

const FRAME_KINDS: ReadonlySet<unknown> = new Set(FrameKindSchema.options);
const isNumber = (value: unknown) => typeof value === 'number' && !Number.isNaN(value);
const isOptionalNumber = (value: unknown) => value === undefined || isNumber(value);
function isModule(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const { file, buildId } = value as Record<string, unknown>;
  return typeof file === 'string' && (buildId === undefined || typeof buildId === 'string');
}

/** One node's own fields as FlameNodeSchema judges them (its children's are theirs). */
function isFlameNodeItself(node: unknown): node is FlameNode {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return false;
  const { n, v: value, c, k, e, m, modules } = node as Record<string, unknown>;
  return (
    typeof n === 'string' &&
    isNumber(value) &&
    (c === undefined || Array.isArray(c)) &&
    (k === undefined || FRAME_KINDS.has(k)) &&
    isOptionalNumber(e) &&
    isOptionalNumber(m) &&
    (modules === undefined || (Array.isArray(modules) && modules.every(isModule)))
  );
}

/**
 * A whole flame graph checked in place, for `profile:frame` as the dashboard receives it (every
 * second, up to 10^4 nodes): every node is walked once with the rule of FlameNodeSchema written
 * as a predicate, nothing is copied, and the tree received is the value passed on. The first
 * node refused is explained by FlameNodeSchema (`tree.c[2].c[0].v must be a number, got "x"`).
 * A full valibot check rebuilt every node and cost 1.3 to 1.5 times JSON.parse of the frame,
 * this walk an eighth of it (bench/collector-events.ts: 130 µs for 3,000 nodes, 0.8 ms for 10,000).
 */
export const FlameTreeInPlaceSchema = v.pipe(
  v.custom<FlameNode>((value) => typeof value === 'object' && value !== null && !Array.isArray(value), 'must be a flame graph node {n, v, c?, …}'),
  v.rawCheck<FlameNode>(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    if (!isFlameNodeItself(dataset.value)) {
      addIssue({ message: insideMessage(refusalOf(FlameNodeSchema, dataset.value, HERE, 'is not a flame graph node')) });
      return;
    }
    // Breadth first, without recursion (a deep tree must not overflow the stack); the path is built only for the node refused.
    const nodes: FlameNode[] = [dataset.value];
    const parents: number[] = [-1];
    const indexes: number[] = [-1];
    for (let at = 0; at < nodes.length; at++) {
      const children = nodes[at].c;
      if (children === undefined) continue;
      for (let i = 0; i < children.length; i++) {
        if (!isFlameNodeItself(children[i])) {
          let path = `.c[${i}]`;
          for (let up = at; parents[up] !== -1; up = parents[up]) path = `.c[${indexes[up]}]${path}`;
          addIssue({ message: insideMessage(refusalOf(FlameNodeSchema, children[i], `${HERE}${path}`, 'is not a flame graph node')) });
          return;
        }
        nodes.push(children[i]);
        parents.push(at);
        indexes.push(i);
      }
    }
  }),
);

/** Unit of a flame graph's widths: samples (cpu), or µs of time (offcpu, wall). */
export const ProfileUnitSchema = v.picklist(['samples', 'us']);
export type ProfileUnit = v.InferOutput<typeof ProfileUnitSchema>;

/**
 * Samples whose stack the kernel could not record, by cause (counted in the flame graph under a
 * `[lost stack: …]` frame, so totals stay true): -EEXIST hash collision, -EFAULT, anything else.
 */
export const StackErrorCountsSchema = v.object({ collision: v.number(), fault: v.number(), other: v.number() });
export type StackErrorCounts = v.InferOutput<typeof StackErrorCountsSchema>;

/** Counters that tell how complete the picture is, over the frame's window. */
export const ProfileHealthSchema = v.object({
  userStackErrors: StackErrorCountsSchema,
  kernelStackErrors: StackErrorCountsSchema,
  /** Samples dropped in the kernel because the counts map was full. */
  droppedSamples: v.number(),
  /** Frames whose address matched no symbol (shown as `[unknown]`). */
  unknownFrames: v.number(),
});
export type ProfileHealth = v.InferOutput<typeof ProfileHealthSchema>;

/** `profile:frame`: the whole flame graph for the viewer's view (flow-controlled). */
export const ProfileFrameSchema = v.object({
  /** Increases by one per frame sent on this connection. */
  seq: v.number(),
  view: ViewSettingsSchema,
  settings: ProfileSettingsSchema,
  /** Root node: `n` = 'all', `v` = total samples (or µs: see `unit`) in the window. */
  tree: FlameNodeSchema,
  /** What every width counts: profileUnit(settings.type). */
  unit: ProfileUnitSchema,
  /** Samples (or µs) in the window (equals tree.v). */
  totalSamples: v.number(),
  /** Samples (or µs) folded into `[pruned]` nodes because their frames were too narrow to draw. */
  prunedSamples: v.number(),
  /** Number of nodes in `tree`. */
  nodeCount: v.number(),
  /** Wall-clock bounds of the window, ms since the epoch. */
  windowStartMs: v.number(),
  windowEndMs: v.number(),
  /** Wall-clock ms when the newest interval in this frame was read from the kernel. */
  sampledAtMs: v.number(),
  health: ProfileHealthSchema,
});
export type ProfileFrame = v.InferOutput<typeof ProfileFrameSchema>;

/** `profile:status`: the shared sampling state, sent on change and on join. */
export const ProfileStatusSchema = v.object({
  settings: ProfileSettingsSchema,
  /** null when sampling works; otherwise what is wrong and how to fix it. */
  error: v.nullable(v.string()),
  /** Number of CPUs sampled. */
  cpus: v.number(),
});
export type ProfileStatus = v.InferOutput<typeof ProfileStatusSchema>;

/** `hello`, first message on every connection. */
export const HelloSchema = v.object({
  protocol: v.number(),
  version: v.string(),
  /** Whether this connection may change what is sampled. */
  canControl: v.boolean(),
  /** operator (the server's token) or viewer (a read-only viewer link). */
  role: v.optional(v.picklist(['operator', 'viewer'])),
  /** The session this connection joined. */
  session: v.optional(v.string()),
});
export type Hello = v.InferOutput<typeof HelloSchema>;

/** `error:message`: a request was refused. The connection stays open. */
export const ErrorMessageSchema = v.object({
  /** The event the client sent. */
  event: v.string(),
  message: v.string(),
});
export type ErrorMessage = v.InferOutput<typeof ErrorMessageSchema>;
