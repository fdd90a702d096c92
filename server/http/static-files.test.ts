import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { staticFiles } from './static-files.ts';

function get(port: number, rawPath: string, method = 'GET'): Promise<{ status: number; type?: string; body: string; cache?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: rawPath, method }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body, cache: res.headers['cache-control'] }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('serves the export: pages by name, assets by type, 404 page, nothing outside the root', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'pb-static-'));
  mkdirSync(path.join(root, '_next', 'static'), { recursive: true });
  mkdirSync(path.join(root, 'bench'));
  writeFileSync(path.join(root, 'index.html'), '<h1>home</h1>');
  writeFileSync(path.join(root, '404.html'), '<h1>missing</h1>');
  writeFileSync(path.join(root, 'bench', 'render.html'), '<h1>bench</h1>');
  writeFileSync(path.join(root, '_next', 'static', 'app.js'), 'console.log(1)');
  writeFileSync(path.join(path.dirname(root), 'pb-secret.txt'), 'secret');
  const server = createServer(staticFiles(root));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    const home = await get(port, '/');
    assert.equal(home.status, 200);
    assert.match(home.type ?? '', /text\/html/);
    assert.equal(home.body, '<h1>home</h1>');
    assert.equal((await get(port, '/bench/render')).body, '<h1>bench</h1>');
    const asset = await get(port, '/_next/static/app.js');
    assert.match(asset.type ?? '', /javascript/);
    assert.match(asset.cache ?? '', /immutable/);
    const missing = await get(port, '/nope');
    assert.equal(missing.status, 404);
    assert.equal(missing.body, '<h1>missing</h1>');
    for (const evil of ['/../pb-secret.txt', '/..%2fpb-secret.txt', '/%2e%2e/pb-secret.txt', '/%00', '/%E0%A4%A']) {
      const res = await get(port, evil);
      assert.equal(res.status, 404, evil);
      assert.doesNotMatch(res.body, /secret/, evil);
    }
    assert.equal((await get(port, '/', 'POST')).status, 405);
    assert.equal((await get(port, '/', 'HEAD')).body, '');
  } finally {
    server.close();
  }
});
