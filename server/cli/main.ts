/**
 * `probeboard` — the command line. Dispatches to one module per command.
 * Exit codes: 0 success, 1 a failure while running, 2 bad usage or bad input (one-line reason on stderr).
 */
// First: SIGUSR1 must never open the inspector (see the module; bin/probeboard.js does it too).
import '../no-inspector-signal.ts';
import { UsageError } from './args.ts';

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  serve: { summary: 'run the dashboard (default http://127.0.0.1:7070)', load: async () => (await import('./serve.ts')).runServe },
  profile: { summary: 'sample CPU stacks and print a flame graph (folded, svg, json, speedscope)', load: async () => (await import('./profile.ts')).runProfile },
  latency: { summary: 'latency histograms of a probe (uprobe, usdt, syscall, block, runq, kprobe, kfunc)', load: async () => (await import('./latency.ts')).runLatency },
  events: { summary: 'stream events of a probe, one record per event', load: async () => (await import('./events.ts')).runEvents },
  list: { summary: 'list what can be probed: tracepoints, usdt, symbols, kfuncs', load: async () => (await import('./list.ts')).runList },
  doctor: { summary: 'show what this kernel and these privileges allow', load: async () => (await import('./doctor.ts')).runDoctor },
  export: { summary: 'flame graphs, histograms and diffs as files: from folded stacks, a running server or a recording', load: async () => (await import('./export.ts')).runExport },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  return [
    'usage: probeboard COMMAND [OPTIONS]   (probeboard COMMAND --help for its options)',
    '',
    ...Object.entries(COMMANDS).map(([name, { summary }]) => `  ${name.padEnd(width)}  ${summary}`),
    '',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write('probeboard: missing COMMAND (probeboard --help lists them)\n');
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`probeboard: unknown command ${JSON.stringify(name)} (probeboard --help lists them)\n`);
    return 2;
  }
  try {
    return await (await command.load())(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`probeboard ${name}: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`probeboard ${name}: ${(error as Error).message}\n`);
    if (process.env.PROBEBOARD_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
// Exit only once everything written is flushed: a large profile piped to another program must
// not be cut short (stdout can be asynchronous, e.g. when it is a pipe under load).
await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
await new Promise<void>((resolve) => process.stderr.write('', () => resolve()));
process.exit(code);
