/**
 * Composition root: configuration, HTTP, Next.js, socket.io hub and the collectors, wired.
 * No logic of its own beyond the order things start and stop in.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHub, type Hub } from './hub/index.ts';
import type { FeatureFactory } from './hub/feature.ts';
import { replayFeatures } from './hub/replay-features.ts';
import { dashboardBuildProblem } from './dashboard-build.ts';
import { RecordingStore } from './recording/store.ts';
import { handleExport, isExportRoute } from './http/export-route.ts';
import { staticFiles } from './http/static-files.ts';
import { profileFeature } from './hub/profile.ts';
import { latencyFeature } from './hub/latency.ts';
import { eventsFeature } from './hub/events.ts';
import { discoveryFeature } from './hub/discovery.ts';
import { ProfilePipeline } from './pipeline/profile.ts';
import type { CollectorBackend } from './privileged/backend.ts';
import {
  checkHostAndOrigin,
  hostPolicy,
  isLoopbackHost,
  tokenCookie,
  tokenFromRequest,
  tokenMatches,
  TOKEN_ENV,
  viewCookie,
  viewTokenFromRequest,
} from './http/security.ts';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface ServeOptions {
  host: string;
  port: number;
  /** Required from every browser when set. */
  token: string | null;
  /**
   * Where the collectors run: the collector process (`probeboard serve`), or in process (tests,
   * e.g. with a replayed profile). startServer owns it from here: closed with the server.
   */
  backend: CollectorBackend;
  /** Where progress lines go (stderr by default). */
  log?: (line: string) => void;
  /**
   * true (default): refuse (ServeError) when out/ is missing or older than its sources; false: only
   * when it is missing (--no-build). Nothing is ever built here: `npm run build` does, as the user.
   */
  checkBuild?: boolean;
  /** Where recordings and snapshots are kept (`probeboard.db`, created on first use); null: no recording. */
  dataDir?: string | null;
  /** ms without connections before a session stops and detaches its probes (default 10 min). */
  idleStopMs?: number;
  /** Most sessions at once (default 8). */
  maxSessions?: number;
  /** Longest a latency or event probe stays attached, ms (default 4 h). */
  maxProbeMs?: number;
}

export interface RunningServer {
  url: string;
  port: number;
  hub: Hub;
  close(): Promise<void>;
}

export class ServeError extends Error {}

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** The token from `--token` or the PROBEBOARD_TOKEN environment variable. */
export function resolveToken(flag: string | undefined): string | null {
  const token = flag ?? process.env[TOKEN_ENV] ?? '';
  return token.length > 0 ? token : null;
}

/** Refuses a non-loopback bind without a token: anyone on the network could load kernel code. */
export function checkBind(host: string, token: string | null): void {
  if (!isLoopbackHost(host) && token === null) {
    throw new ServeError(
      `refusing to listen on ${host} without a token: anyone who can reach it could run probes as root; ` +
        `pass --token T or set ${TOKEN_ENV}`,
    );
  }
}

/** Where `next build` writes the static export (next.config.js: output 'export'). */
export const DASHBOARD_DIR = path.join(PROJECT_ROOT, 'out');

/**
 * Refuses (ServeError, one line naming `npm run build`) a missing dashboard build, or unless
 * `allowStale`, one older than its sources. The dashboard is built by the user who installs
 * probeboard, never here: `next build` executes next.config.js and writes the checkout.
 */
export function requireDashboardBuild(options: { allowStale?: boolean } = {}): void {
  const problem = dashboardBuildProblem(PROJECT_ROOT, options);
  if (problem !== null) throw new ServeError(problem);
}

const TOKEN_PAGE =
  '<!doctype html><meta charset="utf-8"><title>probeboard: token required</title>' +
  '<body style="font-family:sans-serif;margin:3em"><h1>probeboard needs its token</h1>' +
  '<p>This dashboard was started with a token. Open the URL it printed, which ends in <code>?token=…</code>.</p>';

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  checkBind(options.host, options.token);
  requireDashboardBuild({ allowStale: options.checkBuild === false });

  const serveDashboard = staticFiles(DASHBOARD_DIR);

  const { backend } = options;
  const version = packageVersion();
  /** Each session owns its probes: a profile source, a latency set and event probes of its own. */
  const sessionFeatures = (sessionId: string): FeatureFactory[] => {
    const pipeline = new ProfilePipeline(backend.openProfile());
    pipeline.configure({ running: true }).catch((error: Error) => log(`probeboard: session ${sessionId}: profiling could not start: ${error.message}`));
    const profile = profileFeature(pipeline);
    return [
      (hub) => {
        const feature = profile(hub);
        return { ...feature, close: async () => { await feature.close?.(); await pipeline.close(); } };
      },
      latencyFeature(backend.openLatency(), { maxProbeMs: options.maxProbeMs }),
      eventsFeature(backend.openEvents(), { maxProbeMs: options.maxProbeMs }),
      discoveryFeature(backend.discovery),
    ];
  };
  // One policy object shared by the page handler and the hub; refreshed in place once the port is known.
  const policy = hostPolicy(options.host, options.port);

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const refusal = checkHostAndOrigin(policy, req);
    if (refusal) {
      res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' }).end(`probeboard: ${refusal}\n`);
      return;
    }
    if (options.token !== null) {
      // The page and its assets need the operator token or a live viewer link; the socket
      // handshake then decides the role (server/hub/index.ts).
      const given = tokenFromRequest(req);
      const view = viewTokenFromRequest(req);
      if (tokenMatches(options.token, given)) {
        res.setHeader('set-cookie', tokenCookie(options.token));
      } else if (view !== null && hub.admitViewer(view)) {
        res.setHeader('set-cookie', viewCookie(view));
      } else {
        res.writeHead(401, { 'content-type': 'text/html; charset=utf-8' }).end(TOKEN_PAGE);
        return;
      }
    }
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('x-frame-options', 'DENY');
    res.setHeader('referrer-policy', 'no-referrer');
    serveDashboard(req, res);
  };
  const onAnyRequest = (req: IncomingMessage, res: ServerResponse) => {
    // The export API does its own auth: the token or a viewer link of that very session.
    if (isExportRoute(new URL(req.url ?? '/', 'http://x').pathname)) {
      const refusal = checkHostAndOrigin(policy, req);
      if (refusal) {
        res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' }).end(`probeboard: ${refusal}\n`);
        return;
      }
      res.setHeader('x-content-type-options', 'nosniff');
      handleExport(hub, req, res, version);
      return;
    }
    onRequest(req, res);
  };

  const http = createServer(onAnyRequest);
  const dataDir = options.dataDir ?? null;
  const hub = createHub(http, {
    token: options.token,
    hostPolicy: policy,
    version,
    sessionFeatures,
    idleStopMs: options.idleStopMs,
    maxSessions: options.maxSessions,
    ...(dataDir !== null && { recordings: () => RecordingStore.open(dataDir) }),
    replayFeatures: (_id, source) => replayFeatures(source),
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new ServeError(
          error.code === 'EADDRINUSE'
            ? `port ${options.port} on ${options.host} is already in use (pass --port)`
            : `cannot listen on ${options.host}:${options.port}: ${error.message}`,
        ),
      ),
    );
    http.listen(options.port, options.host, () => resolve());
  });
  const address = http.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  if (port !== options.port) policy.allowedHosts = hostPolicy(options.host, port).allowedHosts;

  const shownHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `http://${shownHost}:${port}/` + (options.token ? `?token=${encodeURIComponent(options.token)}` : '');
  let closed = false;
  return {
    url,
    port,
    hub,
    close: async () => {
      if (closed) return;
      closed = true;
      await hub.close();
      await backend.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections();
    },
  };
}
