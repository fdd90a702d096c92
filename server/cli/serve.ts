/** `probeboard serve`: the dashboard and its live hub. */
import { choiceOption, intOption, parseCommandLine, stringOption, UsageError } from './args.ts';
import { randomBytes } from 'node:crypto';
import { requireDashboardBuild, resolveToken, ServeError, startServer } from '../index.ts';
import { isLoopbackHost } from '../http/security.ts';
import { preflight } from './kernel.ts';
import type { CollectorBackend } from '../privileged/backend.ts';
import { CollectorStartError, startCollectorProcess } from '../privileged/child.ts';
import { inProcessBackend } from '../privileged/in-process.ts';
import { dropPrivileges, dropTarget, NOBODY, PrivilegeError } from '../privileged/drop.ts';
import { readFileSync } from 'node:fs';
import { createDataDir } from '../privileged/data-dir.ts';
import os from 'node:os';
import path from 'node:path';
import { startMemStats } from '../memstats.ts';

export const SERVE_HELP = `usage: probeboard serve [--host H] [--port P] [--token T | --no-auth] [--collector process|in-process] [--no-build]
                        [--data-dir DIR] [--idle-minutes N] [--max-sessions N] [--max-probe-minutes N]

Runs the dashboard and its live socket.io hub on one port (start it as root: it loads BPF programs).
Every browser must present a token, because a client can attach probes that read any process's
memory: open the printed URL, which carries ?token=… (the page then keeps it in a cookie).

Two processes: a collector process keeps root and loads the BPF programs; the web process
(socket.io and the dashboard) then drops to the user who ran sudo (or nobody) with no
capabilities, and sends the collector only typed, validated commands. If either dies, the other
notices and every probe is detached.

  --host H       address to listen on (default 127.0.0.1)
  --port P       port (default 7070)
  --token T      the token to require; default: a new random one per start. Prefer the environment
                 variable PROBEBOARD_TOKEN: a --token on the command line is visible to every local
                 user (ps) until serve has started and hides it from its command line
  --no-auth      no token (loopback only): anyone who can connect to the port may start probes
  --collector C  process (default): privilege separation as above; in-process: one process that
                 keeps root (debugging only)
  --no-build     serve the dashboard build in out/ even if its sources look newer (default: refuse a
                 stale build; nothing is built at start: \`npm run build\`, as your user, builds it)
  --data-dir DIR where recordings and snapshots are kept (probeboard.db, created on first use;
                 also PROBEBOARD_DATA_DIR); default: ~/.local/share/probeboard of the user who
                 ran sudo, or /var/lib/probeboard
  --idle-minutes N  a session nobody watches (and that is not recording) stops after N minutes,
                 detaching its probes (default 10)
  --max-sessions N  most sessions at once (default 8)
  --max-probe-minutes N  a latency or event probe is detached after N minutes (default 240)

Sessions: the URL printed is the operator's (it carries the token). Operators can open more
sessions, share read-only viewer links (revocable, with an expiry), record a session and replay
it later at 1x/2x/4x (no root needed for a replay), pin snapshots and compare them. Every picture
can be exported from GET /api/sessions/ID/export?kind=flame|histogram|heatmap&format=….
`;

/** The data directory for recordings: the flag, PROBEBOARD_DATA_DIR, or a per-user default. */
export function resolveDataDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const given = flag ?? env.PROBEBOARD_DATA_DIR;
  if (given !== undefined && given !== '') return path.resolve(given);
  const target = dropTarget(env);
  if (process.getuid?.() === 0 && target.uid === NOBODY) return '/var/lib/probeboard';
  const home = process.getuid?.() === 0 ? homeOf(target.uid) : os.homedir();
  return path.join(home ?? '/var/lib', home ? '.local/share/probeboard' : 'probeboard');
}

/** A user's home directory from /etc/passwd, or null. */
function homeOf(uid: number): string | null {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const fields = line.split(':');
      if (Number(fields[2]) === uid && fields[5]) return fields[5];
    }
  } catch {
    // no passwd file: fall back
  }
  return null;
}

/**
 * Creates the data directory (0700) as root, owned by the user the web process becomes, so the
 * unprivileged web process can write its database. Walks the path without following symlinks
 * and refuses components other users could tamper with (privileged/data-dir.ts). Not root: the
 * same checks, for this user.
 */
export function prepareDataDir(dir: string): void {
  const owner = process.getuid?.() === 0 ? dropTarget() : { uid: process.getuid!(), gid: process.getgid!() };
  createDataDir(dir, owner);
}

/** `argv` with the value of every --token replaced (both `--token T` and `--token=T`). */
export function withTokenHidden(argv: readonly string[]): string[] {
  return argv.map((arg, i) => (arg.startsWith('--token=') ? '--token=<hidden>' : argv[i - 1] === '--token' ? '<hidden>' : arg));
}

/**
 * /proc/PID/cmdline is readable by every local user, so once the arguments are parsed a --token is
 * replaced there: on Linux, setting process.title overwrites the memory that file reads (the new
 * title is cut to the original command line's length and the rest zeroed). The command line then
 * reads as before, as one string, with the token's value hidden. Until then (the first fraction of
 * a second) `ps` shows it, hence the help's advice to use PROBEBOARD_TOKEN.
 */
function hideTokenFromCommandLine(argv: readonly string[]): void {
  const hidden = withTokenHidden(argv);
  if (hidden.every((arg, i) => arg === argv[i])) return;
  process.title = [process.argv0, ...process.execArgv, process.argv[1] ?? 'probeboard', 'serve', ...hidden].join(' ');
}

/** Where progress lines go. */
const log = (line: string) => process.stderr.write(line + '\n');

/**
 * The collectors, and the web process's own privileges: with `process`, forks the collector
 * (as root) and then drops this process's root for good. The dashboard build is only checked
 * here, never run (it would execute the checkout's code as root). Exported for tests that want
 * the same split without the CLI.
 */
export async function prepareBackend(mode: 'process' | 'in-process', checkBuild = true, dataDir: string | null = null): Promise<CollectorBackend> {
  // Before anything runs as root: a missing (or, unless --no-build, stale) dashboard build is refused.
  requireDashboardBuild({ allowStale: !checkBuild });
  if (dataDir !== null) {
    try {
      prepareDataDir(dataDir);
    } catch (error) {
      throw new ServeError(`cannot create the data directory ${dataDir}: ${(error as Error).message} (pass --data-dir)`);
    }
  }
  if (mode === 'in-process') {
    log('probeboard: collectors run in this process (--collector in-process): no privilege separation');
    return inProcessBackend();
  }
  // The collector accepts signals from the uid this process drops to: its death signal (the
  // collector dies with this process) and a kill when it stops answering (lifeline.ts).
  const backend = await startCollectorProcess(process.geteuid?.() === 0 ? { peerUid: dropTarget().uid } : {});
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
    {
      host: { type: 'string' },
      port: { type: 'string', short: 'p' },
      token: { type: 'string' },
      'no-auth': { type: 'boolean' },
      collector: { type: 'string' },
      'no-build': { type: 'boolean' },
      'data-dir': { type: 'string' },
      'idle-minutes': { type: 'string' },
      'max-sessions': { type: 'string' },
      'max-probe-minutes': { type: 'string' },
    },
    0,
  );
  hideTokenFromCommandLine(argv);
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
  const idleMinutes = intOption('idle-minutes', values['idle-minutes'], 10, 1, 7 * 24 * 60);
  const maxSessions = intOption('max-sessions', values['max-sessions'], 8, 1, 64);
  const maxProbeMinutes = intOption('max-probe-minutes', values['max-probe-minutes'], 240, 1, 7 * 24 * 60);
  const dataDir = resolveDataDir(stringOption(values['data-dir']));

  // First of all (before the kernel checks and anything done as root): is there a build to serve?
  // Nothing is built at start; the line names `npm run build`. prepareBackend checks again for its
  // other callers.
  try {
    requireDashboardBuild({ allowStale: values['no-build'] === true });
  } catch (error) {
    if (error instanceof ServeError) throw new UsageError(error.message);
    throw error;
  }

  const problems = preflight();
  if (problems.length > 0) {
    for (const problem of problems) process.stderr.write(`probeboard serve: ${problem}\n`);
    return 1;
  }

  let backend: CollectorBackend | undefined;
  let server;
  try {
    backend = await prepareBackend(mode, !values['no-build'], dataDir);
    // Checked above (before the fork): here only a build that vanished since is refused.
    server = await startServer({ host, port, token, backend, checkBuild: false, dataDir, idleStopMs: idleMinutes * 60_000, maxSessions, maxProbeMs: maxProbeMinutes * 60_000 });
  } catch (error) {
    await backend?.close();
    if (error instanceof ServeError) throw new UsageError(error.message);
    if (error instanceof PrivilegeError || error instanceof CollectorStartError) {
      process.stderr.write(`probeboard serve: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  startMemStats('web');
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
