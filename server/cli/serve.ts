/** `probeboard serve`: the dashboard and its live hub. */
import { intOption, parseCommandLine, stringOption, UsageError } from './args.ts';
import { resolveToken, ServeError, startServer } from '../index.ts';
import { createKernelChannel, preflight } from './kernel.ts';

export const SERVE_HELP = `usage: probeboard serve [--host H] [--port P] [--token T]

Runs the dashboard and its live socket.io hub on one port (needs root: it loads BPF programs).

  --host H    address to listen on (default 127.0.0.1). A non-loopback address needs a token.
  --port P    port (default 7070)
  --token T   require this token from every browser (also PROBEBOARD_TOKEN); open the
              printed URL, which carries ?token=T
`;

export async function runServe(argv: string[]): Promise<number> {
  const { values } = parseCommandLine(
    argv,
    { host: { type: 'string' }, port: { type: 'string', short: 'p' }, token: { type: 'string' } },
    0,
  );
  if (values.help) {
    process.stdout.write(SERVE_HELP);
    return 0;
  }
  const host = stringOption(values.host) ?? '127.0.0.1';
  const port = intOption('port', values.port, 7070, 0, 65535);
  const token = resolveToken(stringOption(values.token));
  if (token !== null && token.length < 8) throw new UsageError('--token must be at least 8 characters');

  const problems = preflight();
  if (problems.length > 0) {
    for (const problem of problems) process.stderr.write(`probeboard serve: ${problem}\n`);
    return 1;
  }

  let server;
  try {
    server = await startServer({ host, port, token, channel: createKernelChannel() });
  } catch (error) {
    if (error instanceof ServeError) throw new UsageError(error.message);
    throw error;
  }
  process.stdout.write(`probeboard: dashboard at ${server.url}\n`);

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  process.stderr.write('probeboard: stopping (detaching every probe)…\n');
  await server.close();
  return 0;
}
