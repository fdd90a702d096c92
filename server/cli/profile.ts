/** `probeboard profile`: sample CPU stacks headless and write a flame graph. */
import { writeFileSync, existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { hostname } from 'node:os';
import { choiceOption, intOption, parseCommandLine, secondsOption, stringOption, UsageError } from './args.ts';
import { createKernelChannel, preflight } from './kernel.ts';
import { Symbolizer } from '../symbolizer/index.ts';
import { foldedFromIntervals, parseFolded } from '../aggregator/folded.ts';
import { intervalHealth, sumHealth } from '../aggregator/health.ts';
import type { SymbolizedInterval } from '../symbolizer/types.ts';
import type { OffCpuSettings, ProfileTarget, ProfileType, StackMode, StackErrorCounts } from '../../lib/protocol.ts';
import { BLOCK_STATES, DEFAULT_OFFCPU_SETTINGS, MAX_BLOCK_US, MAX_HZ, MIN_HZ, PROFILE_TYPES } from '../../lib/protocol.ts';
import { offCpuSettingsError } from '../collectors/offcpu.ts';
import { check } from '../../lib/schema/core.ts';
import { CommSchema } from '../../lib/schema/view.ts';
import { renderFlameSvg } from '../../lib/flame/svg.ts';
import { toD3Json } from '../../lib/flame/d3json.ts';
import { speedscopeFromFolded } from '../../lib/flame/speedscope.ts';
import { flameTreeToPprof, pprofTypeOptions } from '../../lib/flame/pprof.ts';
import { ProfileWindow } from '../aggregator/profile-window.ts';
import { CfiProfileCollector, addOutcome, cfiWalkerUnsupported, describeOutcome, emptyOutcome, type UnwindOutcome } from '../collectors/cfi-profile.ts';
import { untilStopped } from './until-stopped.ts';

export const UNWIND_MODES = ['auto', 'fp', 'cfi'] as const;
export type UnwindMode = (typeof UNWIND_MODES)[number];

export const PROFILE_FORMATS = ['folded', 'svg', 'json', 'speedscope', 'pprof'] as const;
export type ProfileFormat = (typeof PROFILE_FORMATS)[number];

export const PROFILE_HELP = `usage: probeboard profile [--type cpu|offcpu|wall] [--pid PID | --comm NAME] [--hz 99]
                         [--duration SEC] [--format folded|svg|json|speedscope|pprof]
                         [--output FILE] [--user-only | --kernel-only] [--include-idle]
                         [--per-thread] [--wakers] [--min-block-us N] [--max-block-us N]
                         [--state all|uninterruptible|interruptible]
                         [--unwind auto|fp|cfi]

Writes a flame graph of the whole run when it ends (after --duration, or on Ctrl-C), counted
in the kernel. Needs root.
  --type cpu        (default) where threads run: stacks sampled on every CPU at --hz by a
                    perf_event BPF program; counts are samples
  --type offcpu     where threads wait: the scheduler switch is traced (tp_btf, else raw_tp
                    sched_switch) and each blocked interval, switch-out to switch-in, is
                    added to the stack the thread blocked in; counts are microseconds
  --type wall       both, for one --pid or --comm, on one time axis: counts are microseconds
                    (an on-CPU sample weighs one sample period, 1e6/hz); the leaf of every
                    off-CPU stack is marked _[o] (as _[k] marks kernel frames)
  --wakers          offcpu/wall: follow each blocked stack by a -- frame and the stack of
                    the thread that woke it (kernel then user frames, leaf first) and its
                    name, as bcc's offwaketime prints them
  --min-block-us N  offcpu/wall: leave out blocked intervals shorter than N µs (default 1)
  --max-block-us N  offcpu/wall: and longer than N µs (default: no limit)
  --state S         offcpu/wall: all (default: every switch-out, preemption included),
                    interruptible (S: sleeps) or uninterruptible (D: mostly disk I/O)

  --pid PID         only this process          --comm NAME    only threads with this name
  --hz N            samples per second per CPU (default 99)
  --duration SEC    stop after SEC seconds (default: run until Ctrl-C)
  --format F        folded (default): Brendan Gregg's folded stacks, one line per stack,
                    root first: comm;user frames;kernel frames_[k] COUNT (COUNT in µs
                    for offcpu and wall)
                    svg: a standalone flame graph (the dashboard's Export SVG)
                    json: the d3-flame-graph tree {name, value, children}
                    speedscope: a file speedscope opens
                    pprof: a gzipped pprof profile (go tool pprof, Pyroscope) with the
                    run's start time and length, and one mapping per binary (file name
                    and build-id; [kernel] for kernel frames); sample type samples/count
                    (cpu), offcpu/microseconds or wall/microseconds; binary: --output or a pipe
  --output FILE     write there instead of stdout
  -U, --user-only   user frames only           -K, --kernel-only   kernel frames only
  --include-idle    keep the idle task (swapper); dropped by default, like bcc's profile
  --per-thread      root each stack at its thread, comm-tid (e.g. worker-4242), instead of
                    comm: threads with the same name are shown apart
  --unwind M        how user stacks are walked (cpu profiles):
                    fp: frame pointers (bpf_get_stackid), user and kernel frames; stacks
                    are cut or skip callers in code built without frame pointers (most
                    distribution libraries, -O2 builds)
                    cfi: from the binaries' call-frame information (.eh_frame,
                    .debug_frame), walked in BPF, with one frame-pointer step where code
                    has none (JIT, vDSO); needs --pid PID (tables are loaded per process,
                    re-read every second so dlopen'd libraries get theirs); kernel frames
                    (bpf_get_stackid, as fp) on top of the walked user frames;
                    a stack the walk could not finish is rooted at an [unwind: REASON]
                    frame (truncated, no table, read fault, unsupported, bad frame);
                    outcome counts per interval and in total on stderr; Linux 5.17+
                    (bpf_loop, ring buffer); not for --type offcpu or wall yet
                    auto (default): cfi when --pid is given (and not --kernel-only) and
                    the kernel can run the walker, else fp; stderr says which and why

Lost stacks (the kernel could not record them) are counted, shown in the output as
[lost stack: …] frames, and summed up on stderr.
`;

export async function runProfile(argv: string[]): Promise<number> {
  const { values } = parseCommandLine(
    argv,
    {
      pid: { type: 'string', short: 'p' },
      comm: { type: 'string' },
      hz: { type: 'string', short: 'F' },
      duration: { type: 'string', short: 'd' },
      format: { type: 'string', short: 'f' },
      output: { type: 'string', short: 'o' },
      'user-only': { type: 'boolean', short: 'U' },
      'kernel-only': { type: 'boolean', short: 'K' },
      'include-idle': { type: 'boolean' },
      'per-thread': { type: 'boolean' },
      type: { type: 'string', short: 't' },
      wakers: { type: 'boolean' },
      'min-block-us': { type: 'string' },
      'max-block-us': { type: 'string' },
      state: { type: 'string' },
      unwind: { type: 'string' },
    },
    0,
  );
  if (values.help) {
    process.stdout.write(PROFILE_HELP);
    return 0;
  }
  if (values.pid !== undefined && values.comm !== undefined) throw new UsageError('give --pid or --comm, not both');
  if (values['user-only'] && values['kernel-only']) throw new UsageError('give --user-only or --kernel-only, not both');
  const hz = intOption('hz', values.hz, 99, MIN_HZ, MAX_HZ);
  const durationS = secondsOption('duration', values.duration);
  const format = choiceOption('format', values.format, PROFILE_FORMATS, 'folded');
  const output = stringOption(values.output);
  const stackMode: StackMode = values['user-only'] ? 'user' : values['kernel-only'] ? 'kernel' : 'all';
  const hideIdle = !values['include-idle'];
  const perThread = values['per-thread'] === true;
  const profileType: ProfileType = choiceOption('type', values.type, PROFILE_TYPES, 'cpu');
  const offCpu: OffCpuSettings = {
    wakers: values.wakers === true,
    minBlockUs: intOption('min-block-us', values['min-block-us'], DEFAULT_OFFCPU_SETTINGS.minBlockUs, 0, MAX_BLOCK_US),
    maxBlockUs: values['max-block-us'] === undefined ? null : intOption('max-block-us', values['max-block-us'], 0, 0, MAX_BLOCK_US),
    state: choiceOption('state', values.state, BLOCK_STATES, 'all'),
  };
  if (profileType === 'cpu') {
    const offCpuOnly = ['wakers', 'min-block-us', 'max-block-us', 'state'].find((name) => values[name as keyof typeof values] !== undefined);
    if (offCpuOnly) throw new UsageError(`--${offCpuOnly} applies to --type offcpu or wall, not to the cpu profile`);
  } else {
    const bad = offCpuSettingsError(offCpu);
    if (bad) throw new UsageError(bad);
  }
  if (profileType === 'wall' && values.pid === undefined && values.comm === undefined) {
    throw new UsageError('--type wall needs --pid PID or --comm NAME: on- and off-CPU time of one target on one time axis');
  }
  const unwindAsked: UnwindMode = choiceOption('unwind', values.unwind, UNWIND_MODES, 'auto');
  if (unwindAsked === 'cfi') {
    if (profileType !== 'cpu') throw new UsageError(`--unwind cfi walks cpu samples only, not --type ${profileType} (yet): use --unwind fp or auto`);
    if (values.pid === undefined) throw new UsageError('--unwind cfi needs a target process: add --pid PID (or use --unwind fp for the whole machine or --comm)');
    if (values['kernel-only']) throw new UsageError('--unwind cfi walks user stacks, which --kernel-only leaves out (kernel stacks are the same with fp): use --unwind fp with --kernel-only');
  }
  if (format === 'pprof' && !output && process.stdout.isTTY) {
    throw new UsageError('pprof is binary: write it with --output FILE or to a pipe, not to a terminal');
  }
  let target: ProfileTarget = { kind: 'all' };
  if (values.pid !== undefined) {
    const pid = intOption('pid', values.pid, 0, 1, 4194304);
    if (!existsSync(`/proc/${pid}`)) throw new UsageError(`no process with pid ${pid}`);
    target = { kind: 'pid', pid };
  } else if (values.comm !== undefined) {
    const comm = check(CommSchema, values.comm, { root: '--comm' });
    if (!comm.ok) throw new UsageError(comm.error);
    target = { kind: 'comm', comm: comm.value };
  }

  const problems = preflight();
  if (problems.length > 0) throw new Error(problems.join('; '));
  const unwind = chooseUnwind(unwindAsked, profileType, target, stackMode);

  const intervals: SymbolizedInterval[] = [];
  // One shot: user addresses are named once, at the end, per binary from a partial index of
  // just the addresses sampled (processes are snapshotted when first seen, as always).
  const symbolizer = new Symbolizer({ deferLookups: true });
  let stoppedEarly: string | undefined;
  let offCpuVia: string | undefined;
  let unwindTotal: UnwindOutcome | undefined;
  let startedMs = Date.now();
  let framePointers = unwind === 'fp';
  if (unwind === 'cfi') {
    // The run's length counts from the first sample: loading the walker and its tables takes seconds.
    const run = await sampleWithCfi((target as { pid: number }).pid, hz, durationS, symbolizer, intervals, (ms) => (startedMs = ms), unwindAsked === 'auto');
    if (run) {
      stoppedEarly = run.stoppedEarly;
      unwindTotal = run.total;
    } else {
      framePointers = true;
      startedMs = Date.now();
    }
  }
  if (framePointers) {
    const channel = createKernelChannel(symbolizer);
    channel.onMessage((message) => {
      // Intervals arrive symbolized (the channel names frames while the processes are alive).
      if (message.type === 'profile.interval') intervals.push(message.interval);
      if (message.type === 'profile.stopped' && message.reason) stoppedEarly = message.reason;
      if (message.type === 'profile.started' && message.offCpuVia) offCpuVia = message.offCpuVia;
    });
    try {
      await channel.request({ type: 'profile.start', hz, target, ...(profileType !== 'cpu' && { profileType, offcpu: offCpu }) });
      await untilStopped(durationS);
      await channel.request({ type: 'profile.stop' });
    } finally {
      await channel.close();
      symbolizer.settle();
    }
  }
  if (stoppedEarly) process.stderr.write(`probeboard profile: sampling stopped early: ${stoppedEarly}\n`);

  const seconds = (Date.now() - startedMs) / 1000;
  const folded = foldedFromIntervals(intervals, { stackMode, hideIdle, perThread });
  // The tree only for the formats drawn from it; folded and speedscope need only the text.
  const tree = format === 'svg' || format === 'json' ? parseFolded(folded) : undefined;
  const sampleCount = tree ? tree.v : foldedSampleCount(folded);
  // Sampling span: first interval's start to last interval's end (ms since the epoch).
  const spanStartMs = intervals.length > 0 ? Math.min(...intervals.map((i) => i.startMs)) : startedMs;
  const spanEndMs = intervals.length > 0 ? Math.max(...intervals.map((i) => i.endMs)) : Date.now();
  const targetText = target.kind === 'all' ? 'all processes' : target.kind === 'pid' ? `pid ${target.pid}` : `comm ${target.comm}`;
  const timed = profileType !== 'cpu';
  const title = profileType === 'cpu' ? 'probeboard CPU flame graph' : profileType === 'offcpu' ? 'probeboard off-CPU flame graph' : 'probeboard wall-clock (hot/cold) flame graph';
  const amount = timed ? `${formatUs(sampleCount)} ${profileType === 'offcpu' ? 'blocked' : 'on + off CPU'}` : `${sampleCount} samples`;
  const rate = profileType === 'offcpu' ? '' : ` · ${hz} Hz`;
  const subtitle = `${hostname()} · ${targetText}${rate} · ${seconds.toFixed(1)} s · ${amount} · ${new Date(startedMs).toISOString()}`;
  const text = format === 'pprof'
    ? flameTreeToPprof(treeWithBinaries(intervals, { stackMode, hideIdle, perThread }, spanEndMs), {
      ...pprofTypeOptions(profileType, hz),
      timeNanos: spanStartMs * 1e6,
      durationNanos: Math.max(0, spanEndMs - spanStartMs) * 1e6,
      gzip: (data) => gzipSync(data),
    })
    : render(format, folded, tree, title, subtitle, timed);
  if (output) writeFileSync(output, text);
  else process.stdout.write(text);

  const health = sumHealth(intervals.map(intervalHealth));
  process.stderr.write(`probeboard profile: ${amount} in ${seconds.toFixed(1)} s (${targetText}${rate.replace(' · ', ', ')}${offCpuVia ? `, ${offCpuVia}` : ''})` +
    `; lost stacks: user ${describeLost(health.userStackErrors)}, kernel ${describeLost(health.kernelStackErrors)}` +
    `; dropped ${timed ? 'samples or blocked intervals' : 'samples'}: ${health.droppedSamples}\n`);
  if (unwindTotal) process.stderr.write(`probeboard profile: unwind total: ${describeOutcome(unwindTotal)}\n`);
  return 0;
}

/**
 * Which walker runs. cfi was checked against the options already (UsageError); here only
 * whether the kernel can run it. auto: cfi for a cpu profile of one --pid (not --kernel-only)
 * on a kernel that can run the walker, else fp; one line on stderr says which and why.
 */
function chooseUnwind(asked: UnwindMode, profileType: ProfileType, target: ProfileTarget, stackMode: StackMode): 'fp' | 'cfi' {
  if (asked === 'fp') return 'fp';
  if (asked === 'cfi') {
    const unsupported = cfiWalkerUnsupported();
    if (unsupported) throw new Error(`--unwind cfi: the kernel cannot run the CFI stack walker: ${unsupported} (use --unwind fp)`);
    return 'cfi';
  }
  const say = (mode: 'fp' | 'cfi', why: string) => {
    process.stderr.write(`probeboard profile: --unwind auto: ${mode === 'cfi' ? 'CFI' : 'frame pointers'} (${why})\n`);
    return mode;
  };
  if (profileType !== 'cpu') return say('fp', `--type ${profileType} walks frame pointers only`);
  if (target.kind !== 'pid') return say('fp', 'CFI needs --pid PID');
  if (stackMode === 'kernel') return say('fp', '--kernel-only: CFI walks user stacks, kernel stacks are the same either way');
  const unsupported = cfiWalkerUnsupported();
  if (unsupported) return say('fp', `the kernel cannot run the CFI walker: ${unsupported}`);
  return say('cfi', '--pid given and the kernel has bpf_loop and ring buffers');
}


/**
 * --unwind cfi: samples `pid` with the CFI walker until --duration or a signal (or a read error),
 * pushing each interval into `intervals` and printing its outcome counts on stderr. Everything is
 * detached and closed before it returns or throws; the symbolizer is settled.
 */
async function sampleWithCfi(
  pid: number, hz: number, durationS: number | undefined, symbolizer: Symbolizer, intervals: SymbolizedInterval[],
  onSampling: (startedMs: number) => void, fallBack: boolean,
): Promise<{ total: UnwindOutcome; stoppedEarly?: string } | null> {
  const total = emptyOutcome();
  let stoppedEarly: string | undefined;
  let failed!: () => void;
  const failure = new Promise<void>((resolve) => (failed = resolve));
  let collector: CfiProfileCollector | undefined;
  try {
    try {
      collector = new CfiProfileCollector({
        pid,
        hz,
        symbolizer,
        onInterval: (interval, outcome) => {
          intervals.push(interval);
          addOutcome(total, outcome);
          // An interval without a sample of the target (idle, or the short tail at the end) says nothing: left out; the total has it.
          if (outcome.stacks + outcome.lost + outcome.noRegs === 0) return;
          const seconds = ((interval.endMs - interval.startMs) / 1000).toFixed(1);
          process.stderr.write(`probeboard profile: unwind ${new Date(interval.endMs).toISOString().slice(11, 19)} (${seconds} s): ${describeOutcome(outcome)}\n`);
        },
        onError: (error) => {
          stoppedEarly = error.message;
          failed();
        },
      });
    } catch (error) {
      // auto: a walker that passed the feature probe but does not load or attach here (a
      // verifier that refuses it, memory limits) leaves the frame-pointer walk, said on stderr.
      if (!fallBack) throw error;
      process.stderr.write(`probeboard profile: --unwind auto: the CFI walker did not start (${error instanceof Error ? error.message : String(error)}): frame pointers instead\n`);
      return null;
    }
    const report = collector.firstReport;
    const without = report.mappings.filter((m) => m.tableId === undefined && m.path !== '');
    const stats = collector.tablesStats;
    process.stderr.write(`probeboard profile: CFI tables for pid ${pid}: ${report.mappings.filter((m) => m.tableId !== undefined).length} mappings with tables` +
      ` (${stats.tables} tables, ${stats.rowsUsed} of ${stats.rowsCapacity} rows)` +
      `${without.length > 0 ? `; frame pointers in ${without.map((m) => (m.reason?.startsWith(m.path) ? m.reason : `${m.path}: ${m.reason}`)).join('; ')}` : ''}\n`);
    onSampling(Date.now());
    await untilStopped(durationS, failure);
  } finally {
    collector?.stop();
    symbolizer.settle();
  }
  if (collector.refreshError) process.stderr.write(`probeboard profile: re-reading the mappings of pid ${pid}: ${collector.refreshError}\n`);
  return { total, stoppedEarly };
}

/** µs as a short human duration (the total of an off-CPU or wall profile). */
function formatUs(us: number): string {
  if (us < 1000) return `${us} µs`;
  if (us < 1e6) return `${(us / 1000).toFixed(1)} ms`;
  return `${(us / 1e6).toFixed(2)} s`;
}

/**
 * The whole run as a tree whose nodes know their binaries (FlameNode.m), for pprof's mappings:
 * folded text has no room for them. Exact: nothing pruned or folded.
 */
function treeWithBinaries(intervals: SymbolizedInterval[], view: { stackMode: StackMode; hideIdle: boolean; perThread: boolean }, nowMs: number) {
  const window = new ProfileWindow({ maxColdStacks: Infinity });
  for (const interval of intervals) window.push(interval);
  return window.build({ window: 'all', ...view }, nowMs, { maxNodes: Infinity, minFraction: 0 }).tree;
}

function describeLost(counts: StackErrorCounts): string {
  const total = counts.collision + counts.fault + counts.other;
  return total === 0 ? '0' : `${total} (collision ${counts.collision}, fault ${counts.fault}, other ${counts.other})`;
}

/** Samples in folded text: the sum of each line's trailing count. */
export function foldedSampleCount(folded: string): number {
  let total = 0;
  for (let end = folded.indexOf('\n'); end >= 0; ) {
    const space = folded.lastIndexOf(' ', end);
    total += Number(folded.slice(space + 1, end)) || 0;
    const next = folded.indexOf('\n', end + 1);
    if (next < 0) break;
    end = next;
  }
  return total;
}

function render(format: Exclude<ProfileFormat, 'pprof'>, folded: string, tree: ReturnType<typeof parseFolded> | undefined, title: string, subtitle: string, timed: boolean): string {
  switch (format) {
    case 'folded':
      return folded;
    case 'svg':
      return renderFlameSvg(tree ?? parseFolded(folded), { title, subtitle, ...(timed && { unit: 'us' as const }) });
    case 'json':
      return JSON.stringify(toD3Json(tree ?? parseFolded(folded))) + '\n';
    case 'speedscope':
      return JSON.stringify(speedscopeFromFolded(folded, { name: `${title} (${subtitle})`, ...(timed && { unit: 'microseconds' as const }) })) + '\n';
  }
}
