/**
 * Serves the dashboard: Next's static export (`out/`, built by `next build` with
 * `output: 'export'`). The dashboard is a client-side app that talks to the hub over socket.io,
 * so no Next server runs in the backend: less memory and CPU in a root process, and less code
 * reachable from the network.
 */
import { createReadStream, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

/** A request handler for the files under `root`; never serves anything outside it. */
export function staticFiles(root: string): (req: IncomingMessage, res: ServerResponse) => void {
  const base = path.resolve(root);
  const fileFor = (urlPath: string): string | null => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(urlPath);
    } catch {
      return null;
    }
    if (decoded.includes('\0')) return null;
    const candidates = decoded.endsWith('/')
      ? [path.join(decoded, 'index.html')]
      : [decoded, `${decoded}.html`, path.join(decoded, 'index.html')];
    for (const candidate of candidates) {
      const full = path.resolve(base, '.' + path.posix.normalize('/' + candidate));
      if (full !== base && !full.startsWith(base + path.sep)) return null;
      try {
        if (statSync(full).isFile()) return full;
      } catch {
        // try the next candidate
      }
    }
    return null;
  };

  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const urlPath = new URL(req.url ?? '/', 'http://x').pathname;
    const file = fileFor(urlPath);
    const notFound = file === null;
    const served = file ?? path.join(base, '404.html');
    let size: number;
    try {
      size = statSync(served).size;
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    res.writeHead(notFound ? 404 : 200, {
      'content-type': TYPES[path.extname(served)] ?? 'application/octet-stream',
      'content-length': size,
      // Hashed build assets never change; pages must be re-read after a rebuild.
      'cache-control': urlPath.startsWith('/_next/static/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    if (req.method === 'HEAD') res.end();
    else createReadStream(served).pipe(res);
  };
}
