/**
 * `probeboard events SPEC [--pid PID] [--duration SEC] [--format text|jsonl]`: one record per
 * event, as it happens. Ends after --duration, on Ctrl-C / SIGTERM, or when stdout closes.
 * Lost events (kernel buffer full) and dropped events (stdout too slow) are reported on
 * stderr as they happen and in a final summary.
 */
import { UsageError, choiceOption, intOption, parseCommandLine, secondsOption } from './args.ts';
import { EventsCollector, EventsInputError, type EventRecord, type EventStats } from '../collectors/events.ts';
import type { FieldValue } from '../probes/tracefs.ts';
import { untilStopped } from './until-stopped.ts';

const HELP = `usage: probeboard events SPEC [--pid PID] [--duration SEC] [--format text|jsonl]

Streams one record per event: time, pid, tid, comm and the probe's data.

SPEC:
  exec                                  every process start: filename and argv (like execsnoop)
  tracepoint:CATEGORY:NAME              every field of a kernel tracepoint, decoded from its format
  tracepoint:CATEGORY:NAME(F1,F2)       only these fields (probeboard list tracepoints -v shows them)
  uprobe:BINARY:SYMBOL                  a user function's first six arguments, as u64
  uprobe:BINARY:SYMBOL(arg0:str, arg1:s64)
                                        chosen arguments with types: u8 u16 u32 u64 s8 s16 s32 s64,
                                        x64 (hex), str (user string, up to 127 bytes, 4 per probe;
                                        an unreadable pointer shows as {"error": "EFAULT: ..."};
                                        so may a valid string on a page the process has not
                                        touched yet: BPF cannot fault pages in, as in bpftrace)
  usdt:BINARY:PROVIDER:NAME             a USDT probe's arguments, sized and signed by their specs
  usdt:BINARY:PROVIDER:NAME(arg0:str)   chosen arguments, arg0..arg7, same types
  (tp: is short for tracepoint:. BINARY is a path or a library name: c -> libc.
   SYMBOL is the ELF name or the demangled C++ name. Quote specs with parentheses in a shell.)

examples:
  probeboard events exec
  probeboard events 'tracepoint:sched:sched_switch(prev_comm,next_comm)' --duration 2
  probeboard events 'uprobe:c:getenv(arg0:str)' --format jsonl
  probeboard events 'usdt:/usr/bin/python3.11:python:function__entry(arg0:str,arg1:str,arg2)'

options:
  --pid PID             only this process (exec: the process and its children)
  --duration SEC        stop after SEC seconds (fractions allowed)
  --format text|jsonl   text (default) or one JSON object per line:
                        {"time": ms since epoch, "probe", "kind", "pid", "tid", "comm", "fields": {...}}
  --queue N             events held for a slow stdout before new ones are dropped (default 10000)
  --transport auto|ringbuf|perfbuf
                        kernel-to-user transport (default auto: ring buffer where the kernel has it)
  --help, -h            this help

Under a flood, events the kernel could not buffer are counted as lost, and events stdout could
not take in time are dropped once --queue is full; both are reported on stderr.
`;

function formatValue(v: FieldValue): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return /^[\x21-\x7e]*$/.test(v) && v !== '' && !v.includes('"') ? v : JSON.stringify(v);
  if (Array.isArray(v)) return JSON.stringify(v.map(String).join(' '));
  return `<${v.error}>`;
}

function clock(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

function textLine(e: EventRecord): string {
  const fields = Object.entries(e.fields).map(([k, v]) => `${k}=${formatValue(v)}`).join(' ');
  return `${clock(e.time)} ${e.comm.padEnd(16)} ${String(e.pid).padStart(7)} ${String(e.tid).padStart(7)}  ${fields}\n`;
}

function summary(stats: EventStats): string {
  return `${stats.delivered} events; ${stats.lost} lost in the kernel (buffer full); ${stats.dropped} dropped (output too slow)${stats.truncated ? `; ${stats.truncated} records truncated` : ''}; transport ${stats.transport}`;
}

const STDOUT_HIGH_WATER = 1 << 20;

export async function runEvents(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, {
    pid: { type: 'string' },
    duration: { type: 'string' },
    format: { type: 'string' },
    queue: { type: 'string' },
    transport: { type: 'string' },
  }, 1);
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const spec = positionals[0];
  if (spec === undefined) throw new UsageError('SPEC is missing: e.g. exec, tracepoint:sched:sched_switch, uprobe:c:malloc (probeboard events --help)');
  const pid = values.pid === undefined ? undefined : intOption('pid', values.pid, 0, 1, 2 ** 22);
  const duration = secondsOption('duration', values.duration);
  const format = choiceOption('format', values.format, ['text', 'jsonl'] as const, 'text');
  const queueLimit = intOption('queue', values.queue, 10000, 1, 10_000_000);
  const transport = choiceOption('transport', values.transport, ['auto', 'ringbuf', 'perfbuf'] as const, 'auto');
  if (pid !== undefined) {
    try {
      process.kill(pid, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') throw new UsageError(`no process with pid ${pid}`);
    }
  }

  let stdoutClosed = false;
  process.stdout.on('error', () => {
    stdoutClosed = true;
  });
  const write = (text: string) => {
    if (!stdoutClosed) process.stdout.write(text);
  };

  let collector: EventsCollector;
  try {
    collector = new EventsCollector(spec, {
      pid,
      queueLimit,
      transport,
      canDeliver: () => process.stdout.writableLength < STDOUT_HIGH_WATER,
      onEvent: (e) => write(format === 'jsonl' ? `${JSON.stringify(e)}\n` : textLine(e)),
    });
  } catch (error) {
    if (error instanceof EventsInputError) throw new UsageError(error.message);
    throw error;
  }
  try {
    collector.start();
  } catch (error) {
    if (error instanceof EventsInputError) throw new UsageError(error.message);
    throw error;
  }
  process.stdout.on('drain', () => collector.flush());
  if (format === 'text') write(`${'TIME'.padEnd(12)} ${'COMM'.padEnd(16)} ${'PID'.padStart(7)} ${'TID'.padStart(7)}  DATA\n`);
  process.stderr.write(`probeboard events: tracing ${collector.probe}${pid ? ` in pid ${pid}` : ''}${duration ? ` for ${duration}s` : ''}; Ctrl-C to stop\n`);

  // Ends early when stdout is closed or the collector failed (checked with the loss report).
  let endEarly!: () => void;
  const endedEarly = new Promise<void>((resolve) => (endEarly = resolve));
  let reported = { lost: 0, dropped: 0 };
  let lastReport = Date.now();
  const tick = setInterval(() => {
    if (stdoutClosed || collector.error) return endEarly();
    const now = Date.now();
    if (now - lastReport < 1000) return;
    lastReport = now;
    const s = collector.stats();
    if (s.lost > reported.lost || s.dropped > reported.dropped) {
      process.stderr.write(`probeboard events: ${s.lost - reported.lost} lost in the kernel (buffer full), ${s.dropped - reported.dropped} dropped in user space (output too slow) in the last second\n`);
      reported = { lost: s.lost, dropped: s.dropped };
    }
  }, 100);
  try {
    await untilStopped(duration || undefined, endedEarly);
  } finally {
    clearInterval(tick);
  }
  const final = collector.stop();
  // What stdout still holds is written before the process exits (main.ts calls process.exit).
  if (!stdoutClosed && process.stdout.writableLength > 0) await new Promise((r) => process.stdout.once('drain', r));
  process.stderr.write(`probeboard events: ${summary(final)}\n`);
  if (collector.error) {
    process.stderr.write(`probeboard events: stopped: ${collector.error.message}\n`);
    return 1;
  }
  return 0;
}
