/** `probeboard latency`: live latency histograms of one probe, as bcc-style tables or JSON lines. */
import { choiceOption, intOption, parseCommandLine, secondsOption, stringOption, UsageError } from './args.ts';
import { exampleFor, PROBE_KINDS } from '../../lib/probe-spec.ts';
import {
  formatDuration,
  formatFineTable,
  formatLog2Table,
  relativeErrorBound,
  summarize,
  DEFAULT_SUB_BUCKETS,
  MAX_SUB_BUCKETS,
  MIN_SUB_BUCKETS,
  TIME_UNITS,
  type Log2Histogram,
  type TimeUnit,
} from '../../lib/histogram.ts';
import { histogramToJson } from '../../lib/export/histogram.ts';
import { LatencyCollector, LatencyError, type LatencyBatch, type LatencyMisses } from '../collectors/latency.ts';

export const LATENCY_FORMATS = ['text', 'json'] as const;
/** Resolution of the text tables: bcc's log2 buckets, or the log-linear sub-buckets. */
export const LATENCY_TABLES = ['log2', 'sub'] as const;

export const LATENCY_HELP = `usage: probeboard latency SPEC [--pid PID] [--comm NAME] [--duration SEC] [--interval SEC]
                         [--format text|json] [--unit ns|us|ms] [--per-pid] [--per-comm]
                         [--sub-buckets N] [--table log2|sub]

Measures how long something takes, with histograms built in the kernel: log2 buckets
(bcc's convention: bucket i holds [2^(i-1), 2^i - 1] ns), each split into N equal linear
sub-buckets (default ${DEFAULT_SUB_BUCKETS}). Percentiles are read from the sub-buckets, so each is within
1/N of the true value (12.5% by default), and never outside the shortest and longest
duration the kernel saw. Needs root.

SPEC is one of:
  uprobe:BINARY:SYMBOL              user function entry -> return, per thread; BINARY is a
                                    path or a library name (c, libc, pthread); SYMBOL may be
                                    a glob matching a few functions (one histogram each)
  usdt:BINARY:PROVIDER:START,END    two USDT probes on the same thread
  syscall:NAME[,NAME...] | syscall:*
                                    system call enter -> exit; a comma list measures several
                                    as one probe, * every call (one series per syscall)
  block                             block I/O request issue -> completion, per disk
  runq                              run-queue latency: wakeup -> running
  kprobe:FUNCTION                   kernel function via kprobe + kretprobe
  kfunc:FUNCTION                    kernel function via fentry + fexit
Examples: ${PROBE_KINDS.map(exampleFor).join('  ')}

  --pid PID        only this process (ends when it exits)
  --comm NAME      only threads with this command name
  --duration SEC   stop after SEC seconds and print the totals (default: until Ctrl-C)
  --interval SEC   print every SEC seconds (default 1)
  --format F       text (default): bcc-style tables; json: one object per interval:
                   {"probe","unit":"ns","interval_s","count","sum","p50","p90","p99",
                    "min","max","error_bound","buckets":[{"low","high","count"}],
                    "sub_buckets_per_bucket","sub_buckets":[{"low","high","count"}]}
                   (low/high inclusive ns, non-empty buckets only; buckets are log2,
                   sub_buckets the log-linear ones the percentiles come from; error_bound is
                   the largest relative error of a percentile; min/max bound every duration
                   of the interval; probes with several keys add "by": [per-key objects
                   with "key"]); with --duration a last object with "final": true holds the
                   totals (its interval_s is the whole run)
  --unit U         unit of the text tables: ns, us (default), ms
  --sub-buckets N  linear sub-buckets per log2 bucket, ${MIN_SUB_BUCKETS} to ${MAX_SUB_BUCKETS} (default ${DEFAULT_SUB_BUCKETS})
  --table T        rows of the text tables: log2 (default, as bcc) or sub (sub-buckets)
  --per-pid        one histogram per process       --per-comm   one per command name

Misses (a return without a recorded entry, a full map) are printed on stderr. A syscall
probe that sees no calls while the traced tasks enter the syscall their C library uses
for the same function (nanosleep -> clock_nanosleep, open -> openat, ...) says so on
stderr, once.
Exit codes: 0 ok, 1 failure while running, 2 bad usage or bad input (one line on stderr).
`;

function describeMisses(m: LatencyMisses): string {
  return `no entry ${m.noEntry}, start map full ${m.startFull}, histogram map full ${m.histFull}`;
}

function missTotal(m: LatencyMisses): number {
  return m.noEntry + m.startFull + m.histFull;
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function summaryLine(h: Log2Histogram, seconds: number): string {
  const s = summarize(h, seconds);
  const bound = relativeErrorBound(h);
  const range = h.count > 0 && h.min !== undefined && h.max !== undefined ? `, min ${formatDuration(h.min)}, max ${formatDuration(h.max)}` : '';
  const error = bound < 1 ? ` (±${Number((bound * 100).toPrecision(3))}%)` : '';
  return `count ${s.count}, avg ${formatDuration(s.avg)}, p50 ${formatDuration(s.p50)}, p90 ${formatDuration(s.p90)}, p99 ${formatDuration(s.p99)}${error}${range}, ${round3(s.rate)}/s`;
}

/** Renders one batch (interval or totals) as text; `table` picks the rows (log2 as bcc, or sub-buckets). */
export function renderText(
  batch: LatencyBatch,
  which: 'interval' | 'total',
  keyed: boolean,
  unit: TimeUnit,
  seconds: number,
  title: string,
  table: (typeof LATENCY_TABLES)[number] = 'log2',
): string {
  const formatTable = table === 'sub' ? formatFineTable : formatLog2Table;
  const out: string[] = [];
  const h = which === 'interval' ? batch.interval : batch.total;
  out.push(`${title}: ${summaryLine(h, seconds)}`);
  if (keyed) {
    for (const s of batch.series) {
      const sh = which === 'interval' ? s.interval : s.total;
      if (sh.count === 0) continue;
      out.push('', `${s.label || '(all)'}: ${summaryLine(sh, seconds)}`, formatTable(sh, unit).trimEnd());
    }
  } else if (h.count > 0) {
    out.push(formatTable(h, unit).trimEnd());
  }
  const m = which === 'interval' ? batch.misses : batch.missesTotal;
  if (missTotal(m) > 0) out.push(`misses: ${describeMisses(m)}`);
  return out.join('\n') + '\n\n';
}

/** The JSON object of one batch; `by` only for keyed probes. */
export function renderJson(probe: string, batch: LatencyBatch, which: 'interval' | 'total', keyed: boolean, intervalS: number, final: boolean): string {
  const h = which === 'interval' ? batch.interval : batch.total;
  const series = keyed ? batch.series.map((s) => ({ label: s.label, histogram: which === 'interval' ? s.interval : s.total })) : undefined;
  return JSON.stringify(histogramToJson(probe, h, intervalS, { series, final })) + '\n';
}

function sleep(ms: number, signal: { stop: boolean; wake?: () => void }): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.wake = () => {
      clearTimeout(t);
      resolve();
    };
  });
}

/** Runs `probeboard latency ARGS`; returns the exit code. Prints bad usage/input as one line on stderr (exit 2). */
export async function runLatency(argv: string[]): Promise<number> {
  let collector: LatencyCollector | null = null;
  try {
    const { values, positionals } = parseCommandLine(
      argv,
      {
        pid: { type: 'string', short: 'p' },
        comm: { type: 'string', short: 'c' },
        duration: { type: 'string', short: 'd' },
        interval: { type: 'string', short: 'i' },
        format: { type: 'string', short: 'f' },
        unit: { type: 'string', short: 'u' },
        'per-pid': { type: 'boolean', short: 'P' },
        'per-comm': { type: 'boolean' },
        'sub-buckets': { type: 'string' },
        table: { type: 'string' },
      },
      1,
    );
    if (values.help) {
      process.stdout.write(LATENCY_HELP);
      return 0;
    }
    const spec = positionals[0]?.trim();
    if (!spec) throw new UsageError(`a probe SPEC is required, e.g. ${exampleFor('uprobe')} (probeboard latency --help)`);
    const pid = values.pid === undefined ? undefined : intOption('pid', values.pid, 0, 1, 4194304);
    const comm = stringOption(values.comm);
    const durationS = secondsOption('duration', values.duration);
    const intervalS = secondsOption('interval', values.interval) ?? 1;
    const format = choiceOption('format', values.format, LATENCY_FORMATS, 'text');
    const unit = choiceOption('unit', values.unit, TIME_UNITS, 'us');
    const subBuckets = values['sub-buckets'] === undefined ? DEFAULT_SUB_BUCKETS : intOption('sub-buckets', values['sub-buckets'], DEFAULT_SUB_BUCKETS, MIN_SUB_BUCKETS, MAX_SUB_BUCKETS);
    const table = choiceOption('table', values.table, LATENCY_TABLES, 'log2');
    if (values.table !== undefined && format === 'json') throw new UsageError('--table applies to --format text only (JSON always has both "buckets" and "sub_buckets")');

    collector = LatencyCollector.open(spec, { pid, comm, keyByPid: !!values['per-pid'], keyByComm: !!values['per-comm'], subBuckets });
    const keyed = collector.keyed;
    if (format === 'text') {
      process.stderr.write(`Tracing ${collector.probe} (${collector.attached.length} attachment${collector.attached.length === 1 ? '' : 's'})${durationS ? ` for ${durationS} s` : '; Ctrl-C to end'}\n`);
    }

    const signal: { stop: boolean; wake?: () => void } = { stop: false };
    const onSignal = () => {
      signal.stop = true;
      signal.wake?.();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const startedMs = Date.now();
    const endMs = durationS === undefined ? Infinity : startedMs + durationS * 1000;
    let last: LatencyBatch | null = null;
    let warnedStale = false;
    let hinted = false;
    let targetExited = false;
    try {
      while (!signal.stop) {
        const wait = Math.min(intervalS * 1000, endMs - Date.now());
        if (wait > 0) await sleep(wait, signal);
        const batch = collector.read();
        last = batch;
        const seconds = (batch.endMs - batch.startMs) / 1000;
        if (format === 'json') process.stdout.write(renderJson(spec, batch, 'interval', keyed, intervalS, false));
        else process.stdout.write(renderText(batch, 'interval', keyed, unit, seconds, new Date(batch.endMs).toISOString().slice(11, 19), table));
        if (batch.hint && !hinted) {
          hinted = true;
          process.stderr.write(`probeboard latency: ${batch.hint}\n`);
        }
        if (format === 'json' && missTotal(batch.misses) > 0) process.stderr.write(`probeboard latency: misses in this interval: ${describeMisses(batch.misses)}\n`);
        if (batch.stale && !warnedStale) {
          warnedStale = true;
          process.stderr.write(`probeboard latency: stale probe: ${batch.stale}\n`);
        }
        if (batch.targetExited) {
          targetExited = true;
          process.stderr.write(`probeboard latency: process ${pid} exited\n`);
          break;
        }
        if (Date.now() >= endMs) break;
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    if (last && (durationS !== undefined || targetExited)) {
      const totalS = round3((last.endMs - startedMs) / 1000);
      if (format === 'json') process.stdout.write(renderJson(spec, last, 'total', keyed, totalS, true));
      else process.stdout.write(renderText(last, 'total', keyed, unit, totalS, `total over ${totalS} s`, table));
    }
    if (last && missTotal(last.missesTotal) > 0) process.stderr.write(`probeboard latency: misses in total: ${describeMisses(last.missesTotal)}\n`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError || (error instanceof LatencyError && error.kind !== 'kernel')) {
      process.stderr.write(`probeboard latency: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`probeboard latency: ${(error as Error).message}\n`);
    if (process.env.PROBEBOARD_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
    return 1;
  } finally {
    collector?.close();
  }
}
