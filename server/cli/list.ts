/**
 * `probeboard list` — what can be probed:
 *   list tracepoints [GLOB] [--verbose]
 *   list usdt BINARY | list usdt --pid PID
 *   list symbols BINARY [GLOB]
 *   list kfuncs [GLOB]
 * `--format text|json` on all (json: one array, one element per line, streamed). The glob is
 * applied before anything is printed; output is written as it is found.
 */
import { UsageError, choiceOption, intOption, parseCommandLine } from './args.ts';
import { KfuncsUnavailable, ProbeInputError, listKfuncs, listSymbols, listTracepoints, listUsdt, type ListedTracepoint, type ListedUsdt } from '../probes/list.ts';
import type { FunctionSymbol, KernelFunction } from '../probes/symbols.ts';

const HELP = `usage: probeboard list KIND [ARGS] [--format text|json]

  tracepoints [GLOB] [--verbose]   kernel tracepoints (CATEGORY:NAME); --verbose adds their fields
  usdt BINARY                      USDT probes of a binary or library (provider, name, argument specs, semaphore)
  usdt --pid PID                   USDT probes of every ELF object a running process has mapped
  symbols BINARY [GLOB]            function symbols a uprobe can attach to (demangled; mangled names match too)
  kfuncs [GLOB]                    kernel functions kprobe/fentry can attach to

BINARY is a path or a library name resolved like bcc (c -> libc, pthread -> libpthread).
GLOB is a shell glob (* ? [abc]); for tracepoints it matches CATEGORY:NAME, or NAME when it has no ':'.

options:
  --format text|json   json prints one JSON array, one element per line (default: text)
  --verbose, -v        tracepoints: show each tracepoint's fields
  --pid PID            usdt: list the probes of a running process
  --help, -h           this help
`;

/** Writes lines to stdout honouring back-pressure; stops quietly when the reader goes away (EPIPE). */
class Output {
  #closed = false;
  #first = true;
  constructor(private readonly json: boolean) {
    process.stdout.on('error', () => {
      this.#closed = true;
    });
    if (json) this.#raw('[');
  }
  get closed(): boolean {
    return this.#closed;
  }
  #pending: Promise<void> | null = null;
  #raw(text: string): void {
    if (this.#closed) return;
    if (!process.stdout.write(text) && this.#pending === null) {
      this.#pending = new Promise((resolve) => process.stdout.once('drain', () => {
        this.#pending = null;
        resolve();
      }));
    }
  }
  /** Awaited between batches so a huge listing does not pile up in memory. */
  async drain(): Promise<void> {
    if (this.#pending) await this.#pending;
  }
  item(value: unknown, text: string): void {
    if (this.json) {
      this.#raw(`${this.#first ? '\n' : ',\n'}${JSON.stringify(value)}`);
      this.#first = false;
    } else {
      this.#raw(`${text}\n`);
    }
  }
  async end(): Promise<void> {
    if (this.json) this.#raw(this.#first ? ']\n' : '\n]\n');
    await this.drain();
  }
}

function tracepointText(t: ListedTracepoint): string {
  if (!t.fields && !t.error) return t.id;
  if (t.error) return `${t.id}\n    (format unreadable: ${t.error})`;
  return [t.id, ...t.fields!.map((f) => `    ${declaration(f.type, f.name)};  offset:${f.offset} size:${f.size} signed:${f.signed ? 1 : 0}`)].join('\n');
}

/** `char[16]` + `comm` -> `char comm[16]` (C order); `__data_loc char[] name` stays as the kernel writes it. */
function declaration(type: string, name: string): string {
  const m = /^(.*?)(\[\w*\])$/.exec(type);
  return m && !type.startsWith('__') ? `${m[1]} ${name}${m[2]}` : `${type} ${name}`;
}

function usdtText(p: ListedUsdt): string {
  const sem = p.semaphore ? ` semaphore=${p.semaphore}` : '';
  return `${p.binary} ${p.provider}:${p.name} address=${p.address}${sem} args=[${p.args.join(' ')}]`;
}

function symbolText(s: FunctionSymbol): string {
  return `${s.address.padStart(18)} ${s.name}${s.name !== s.symbol ? `  (${s.symbol})` : ''}`;
}

function kfuncText(f: KernelFunction): string {
  return f.module ? `${f.name} [${f.module}]` : f.name;
}

export async function runList(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, {
    format: { type: 'string' },
    verbose: { type: 'boolean', short: 'v' },
    pid: { type: 'string' },
  }, 3);
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const format = choiceOption('format', values.format, ['text', 'json'] as const, 'text');
  const [kind, ...args] = positionals;
  if (kind === undefined) throw new UsageError('what to list is missing: tracepoints, usdt, symbols or kfuncs (probeboard list --help)');
  const maxArgs: Record<string, number> = { tracepoints: 1, usdt: 1, symbols: 2, kfuncs: 1 };
  if (!(kind in maxArgs)) throw new UsageError(`unknown list kind "${kind}": expected tracepoints, usdt, symbols or kfuncs`);
  if (args.length > maxArgs[kind]) throw new UsageError(`unexpected argument ${JSON.stringify(args[maxArgs[kind]])}`);
  if (values.verbose && kind !== 'tracepoints') throw new UsageError('--verbose applies to list tracepoints only');
  if (values.pid !== undefined && kind !== 'usdt') throw new UsageError('--pid applies to list usdt only');
  const pid = values.pid === undefined ? undefined : intOption('pid', values.pid, 0, 1, 2 ** 22);
  if (kind === 'usdt' && pid !== undefined && args.length > 0) throw new UsageError('give either BINARY or --pid PID, not both');
  if (kind === 'usdt' && pid === undefined && args.length === 0) throw new UsageError('list usdt needs a BINARY or --pid PID');
  if (kind === 'symbols' && args.length === 0) throw new UsageError('list symbols needs a BINARY (path or library name, e.g. c)');

  const out = new Output(format === 'json');
  let count = 0;
  try {
    switch (kind) {
      case 'tracepoints':
        await listTracepoints(args[0], {
          verbose: values.verbose === true,
          onEach: (t) => {
            count++;
            out.item(t, tracepointText(t));
          },
        });
        break;
      case 'usdt': {
        const warn = (m: string) => process.stderr.write(`probeboard list: ${m}\n`);
        const onEach = (p: ListedUsdt) => {
          count++;
          out.item(p, usdtText(p));
        };
        await listUsdt(pid !== undefined ? { pid } : args[0], { onEach, warn });
        break;
      }
      case 'symbols':
        await listSymbols(args[0], args[1], {
          onEach: (s) => {
            count++;
            out.item(s, symbolText(s));
          },
        });
        break;
      case 'kfuncs':
        await listKfuncs(args[0], {
          onEach: (f) => {
            count++;
            out.item(f, kfuncText(f));
          },
        });
        break;
    }
  } catch (error) {
    if (error instanceof ProbeInputError) throw new UsageError(error.message);
    if (error instanceof KfuncsUnavailable) {
      await out.end();
      process.stderr.write(`probeboard list kfuncs: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  await out.end();
  if (count === 0 && format === 'text' && !out.closed) process.stderr.write(`probeboard list: no ${kind} matched\n`);
  return 0;
}
