/** `probeboard serve`: the dashboard and its live hub. */
import { intOption, parseCommandLine, stringOption, UsageError } from './args.ts';
import { randomBytes } from 'node:crypto';
import { resolveToken, ServeError, startServer } from '../index.ts';
import { isLoopbackHost } from '../http/security.ts';
import { createKernelChannel, preflight } from './kernel.ts';

export const SERVE_HELP = `usage: probeboard serve [--host H] [--port P] [--token T | --no-auth]

Runs the dashboard and its live socket.io hub on one port (needs root: it loads BPF programs).
Every browser must present a token, because a client can attach probes that read any process's
memory: open the printed URL, which carries ?token=… (the page then keeps it in a cookie).

  --host H    address to listen on (default 127.0.0.1)
  --port P    port (default 7070)
  --token T   the token to require (also PROBEBOARD_TOKEN); default: a new random one per start
  --no-auth   no token (loopback only): anyone who can connect to the port may start probes
`;

export async function runServe(argv: string[]): Promise<number> {
  const { values } = parseCommandLine(
    argv,
    { host: { type: 'string' }, port: { type: 'string', short: 'p' }, token: { type: 'string' }, 'no-auth': { type: 'boolean' } },
    0,
  );
  if (values.help) {
    process.stdout.write(SERVE_HELP);
    return 0;
  }
  const host = stringOption(values.host) ?? '127.0.0.1';
  const port = intOption('port', values.port, 7070, 0, 65535);
  const given = resolveToken(stringOption(values.token));
  if (given !== null && values['no-auth']) throw new UsageError('give --token or --no-auth, not both');
  if (given !== null && given.length < 8) throw new UsageError('--token must be at least 8 characters');
  if (values['no-auth'] && !isLoopbackHost(host)) throw new UsageError(`--no-auth is for loopback addresses only, not ${host}`);
  const token = values['no-auth'] ? null : (given ?? randomBytes(18).toString('base64url'));

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
