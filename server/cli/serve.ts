/** `probeboard serve`: the dashboard and its live hub. */
import { choiceOption, intOption, parseCommandLine, stringOption, UsageError } from './args.ts';
import { randomBytes } from 'node:crypto';
import { ensureNextBuild, resolveToken, ServeError, startServer } from '../index.ts';
import { isLoopbackHost } from '../http/security.ts';
import { preflight } from './kernel.ts';
import type { CollectorBackend } from '../privileged/backend.ts';
import { CollectorStartError, startCollectorProcess } from '../privileged/child.ts';
import { inProcessBackend } from '../privileged/in-process.ts';
import { dropPrivileges, PrivilegeError } from '../privileged/drop.ts';

export const SERVE_HELP = `usage: probeboard serve [--host H] [--port P] [--token T | --no-auth] [--collector process|in-process] [--no-build]

Runs the dashboard and its live socket.io hub on one port (start it as root: it loads BPF programs).
Every browser must present a token, because a client can attach probes that read any process's
memory: open the printed URL, which carries ?token=… (the page then keeps it in a cookie).

Two processes: a collector process keeps root and loads the BPF programs; the web process
(socket.io and the dashboard) then drops to the user who ran sudo (or nobody) with no
capabilities, and sends the collector only typed, validated commands. If either dies, the other
notices and every probe is detached.

  --host H       address to listen on (default 127.0.0.1)
  --port P       port (default 7070)
  --token T      the token to require (also PROBEBOARD_TOKEN); default: a new random one per start
  --no-auth      no token (loopback only): anyone who can connect to the port may start probes
  --collector C  process (default): privilege separation as above; in-process: one process that
                 keeps root (debugging only)
  --no-build     serve the dashboard build in out/ as it is (default: rebuild it first when its
                 sources changed)
`;

/** Where progress lines go. */
const log = (line: string) => process.stderr.write(line + '\n');

/**
 * The collectors, and the web process's own privileges: with `process`, forks the collector
 * (as root) and then drops this process's root for good (after the dashboard build, which
 * writes out/ as root). Exported for tests that want the same split without the CLI.
 */
export async function prepareBackend(mode: 'process' | 'in-process', build = true): Promise<CollectorBackend> {
  if (build) ensureNextBuild(log);
  if (mode === 'in-process') {
    log('probeboard: collectors run in this process (--collector in-process): no privilege separation');
    return inProcessBackend();
  }
  const backend = await startCollectorProcess();
  try {
    const dropped = dropPrivileges();
    log(
      `probeboard: collector process ${backend.pid} keeps the BPF privileges; web process ${process.pid} runs as ` +
        `uid ${dropped.uid} gid ${dropped.gid} with no capabilities${dropped.dropped ? '' : ' (it was not root)'}`,
    );
  } catch (error) {
    await backend.close();
    throw error;
  }
  backend.onDown((reason) => log(`probeboard: ${reason}`));
  return backend;
}

export async function runServe(argv: string[]): Promise<number> {
  const { values } = parseCommandLine(
    argv,
    { host: { type: 'string' }, port: { type: 'string', short: 'p' }, token: { type: 'string' }, 'no-auth': { type: 'boolean' }, collector: { type: 'string' }, 'no-build': { type: 'boolean' } },
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
  const mode = choiceOption('collector', values.collector, ['process', 'in-process'] as const, 'process');

  const problems = preflight();
  if (problems.length > 0) {
    for (const problem of problems) process.stderr.write(`probeboard serve: ${problem}\n`);
    return 1;
  }

  let backend: CollectorBackend | undefined;
  let server;
  try {
    backend = await prepareBackend(mode, !values['no-build']);
    // Built above, as root if at all: the web process may no longer write out/.
    server = await startServer({ host, port, token, backend, build: false });
  } catch (error) {
    await backend?.close();
    if (error instanceof ServeError) throw new UsageError(error.message);
    if (error instanceof PrivilegeError || error instanceof CollectorStartError) {
      process.stderr.write(`probeboard serve: ${error.message}\n`);
      return 1;
    }
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
