/**
 * GET /api/sessions/:id/export against a real HTTP server and hub: who may download, what bad
 * requests get, and every format read back by an independent reader (XML check, folded parser,
 * d3 JSON, speedscope's shape, pprof through protobufjs, CSV).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { io as connect } from 'socket.io-client';
import { createHub, type Hub } from '../hub/index.ts';
import { profileFeature } from '../hub/profile.ts';
import type { FeatureFactory } from '../hub/feature.ts';
import { ProfilePipeline } from '../pipeline/profile.ts';
import { ReplayChannel } from '../collectors/replay.ts';
import type { ProfileBatch } from '../collectors/types.ts';
import { hostPolicy } from './security.ts';
import { handleExport, isExportRoute } from './export-route.ts';
import { checkXml } from '../../lib/flame/xml-check.ts';
import { treeFromFolded, treeToFolded } from '../../lib/flame/tree.ts';
import { decodePprof, foldedOfPprof } from '../../lib/flame/pprof-reader.ts';
import { emptyProbeFrame, type LatencyProbeFrame } from '../../lib/latency-view.ts';
import { histogramOf } from '../../lib/histogram.ts';
import type { ViewerLinkCreated } from '../../lib/protocol-session.ts';

const TOKEN = 'export-token-0123456789';

const BATCH: ProfileBatch = {
  startMs: 0,
  endMs: 0,
  hz: 99,
  cpus: 2,
  droppedSamples: 0,
  samples: [
    { pid: 11, comm: 'exp-a', userStack: [], kernelStack: [], count: 7 },
    { pid: 12, comm: 'exp-b', userStack: [], kernelStack: [], count: 5 },
  ],
};

function latencyFrame(): LatencyProbeFrame {
  const frame = emptyProbeFrame('lat-1', 'syscall:read');
  const total = histogramOf([100, 150, 900, 5000, 5100, 70_000]);
  return { ...frame, total, interval: total, columns: [{ endMs: 1_700_000_000_000, durationMs: 1000, buckets: total.buckets }] };
}

interface Harness {
  base: string;
  hub: Hub;
  pipeline: ProfilePipeline;
  close(): Promise<void>;
}

async function start(): Promise<Harness> {
  const pipeline = new ProfilePipeline(new ReplayChannel([BATCH], { intervalMs: 30 }));
  const latency: FeatureFactory = () => ({ handlers: {}, exports: { latency: (id) => (id === 'lat-1' ? latencyFrame() : null) } });
  let hub: Hub | null = null;
  const http: Server = createServer((req, res) => {
    if (isExportRoute(new URL(req.url ?? '/', 'http://x').pathname)) handleExport(hub!, req, res, 'test');
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  hub = createHub(http, { token: TOKEN, hostPolicy: hostPolicy('127.0.0.1', port), version: 'test', features: [profileFeature(pipeline), latency] });
  await pipeline.configure({ running: true });
  const end = Date.now() + 5000;
  while (pipeline.frame({ window: 'all', stackMode: 'all', hideIdle: true }).totalSamples < 24) {
    if (Date.now() > end) throw new Error('no intervals');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await pipeline.configure({ running: false });
  return {
    base: `http://127.0.0.1:${port}`,
    hub,
    pipeline,
    close: async () => {
      await hub!.close();
      await pipeline.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string; disposition: string; body: Buffer }> {
  const response = await fetch(url, { headers });
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    disposition: response.headers.get('content-disposition') ?? '',
    body: Buffer.from(await response.arrayBuffer()),
  };
}

const bearer = { authorization: `Bearer ${TOKEN}` };

test('every flame format reads back to the same stacks as the session shows', async () => {
  const h = await start();
  try {
    const expected = treeToFolded(h.pipeline.frame({ window: 'all', stackMode: 'all', hideIdle: true }).tree);
    assert.match(expected, /exp-a \d+/, 'the session has the replayed stacks');
    const url = (format: string) => `${h.base}/api/sessions/main/export?kind=flame&format=${format}&window=all`;

    const folded = await get(url('folded'), bearer);
    assert.equal(folded.status, 200);
    assert.match(folded.disposition, /attachment; filename="probeboard-main-flame-.*\.folded"/);
    assert.equal(treeToFolded(treeFromFolded(folded.body.toString())), expected, 'folded round trip');

    const svg = await get(url('svg'), bearer);
    assert.equal(svg.type, 'image/svg+xml; charset=utf-8');
    const svgText = svg.body.toString();
    assert.equal(checkXml(svgText), null, 'the SVG is well-formed XML');
    assert.match(svgText, /<g class="frame[^"]*"[^>]*data-name="exp-a"/);
    assert.match(svgText, /<script/, 'interactive when opened alone');

    const json = JSON.parse((await get(url('json'), bearer)).body.toString()) as { name: string; value: number; children: { name: string }[] };
    assert.equal(json.value, h.pipeline.frame({ window: 'all', stackMode: 'all', hideIdle: true }).totalSamples);
    assert.deepEqual(json.children.map((c) => c.name).sort(), ['exp-a', 'exp-b']);

    const speedscope = JSON.parse((await get(url('speedscope'), bearer)).body.toString()) as {
      $schema: string;
      shared: { frames: { name: string }[] };
      profiles: { type: string; weights: number[] }[];
    };
    assert.equal(speedscope.$schema, 'https://www.speedscope.app/file-format-schema.json');
    assert.ok(speedscope.shared.frames.some((f) => f.name === 'exp-b'), 'speedscope has the frames');
    assert.equal(speedscope.profiles[0].weights.reduce((a, b) => a + b, 0), json.value);

    const pprof = await get(url('pprof'), bearer);
    assert.equal(pprof.body[0], 0x1f, 'gzip magic');
    const decoded = decodePprof(pprof.body);
    assert.equal(foldedOfPprof(decoded), expected, 'pprof read back by protobufjs gives the same stacks');
    assert.equal(decoded.period, Math.round(1e9 / 99), 'period from the sampling rate');
  } finally {
    await h.close();
  }
});

test('histogram and heatmap exports: CSV rows equal the buckets; JSON and SVG parse', async () => {
  const h = await start();
  try {
    const url = (kind: string, format: string, probe = 'lat-1') => `${h.base}/api/sessions/main/export?kind=${kind}&format=${format}&probe=${probe}`;
    const csv = (await get(url('histogram', 'csv'), bearer)).body.toString().trim().split('\n');
    assert.equal(csv[0], 'low_ns,high_ns,count');
    const counted = csv.slice(1).reduce((sum, line) => sum + Number(line.split(',')[2]), 0);
    assert.equal(counted, 6, 'every duration is in one CSV row');
    const json = JSON.parse((await get(url('histogram', 'json'), bearer)).body.toString()) as { count: number; buckets: { count: number }[] };
    assert.equal(json.count, 6);
    assert.equal(checkXml((await get(url('heatmap', 'svg'), bearer)).body.toString()), null);
    const heatCsv = (await get(url('heatmap', 'csv'), bearer)).body.toString().trim().split('\n');
    assert.equal(heatCsv[0], 'time_ms,low_ns,high_ns,count');
    assert.equal(heatCsv.length - 1, latencyFrame().total.buckets.filter((c) => c > 0).length, 'one row per non-empty cell');

    const missing = await get(url('histogram', 'csv', 'lat-9'), bearer);
    assert.equal(missing.status, 404);
    assert.match(missing.body.toString(), /no latency probe "lat-9"/);
  } finally {
    await h.close();
  }
});

test('access: the token or a viewer link of that session; bad requests say what is wrong', async () => {
  const h = await start();
  const operator = connect(h.base, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token: TOKEN } });
  try {
    await new Promise<void>((resolve) => operator.once('connect', () => resolve()));
    const link = await new Promise<ViewerLinkCreated>((resolve) =>
      operator.emit('link:create', { minutes: 5 }, (reply: { value: ViewerLinkCreated }) => resolve(reply.value)),
    );
    const flame = `${h.base}/api/sessions/main/export?kind=flame&format=folded`;
    const cases: [string, Record<string, string>, number, RegExp][] = [
      [flame, {}, 401, /requires a token/],
      [flame, { authorization: 'Bearer wrong-token-012345' }, 401, /requires a token/],
      [`${flame}&view=${encodeURIComponent(link.token)}`, {}, 200, /exp-a/],
      [flame, { cookie: `pb_view=${encodeURIComponent(link.token)}` }, 200, /exp-a/],
      [`${flame}&view=${encodeURIComponent(link.token.slice(0, -1) + 'A')}`, {}, 401, /not valid/],
      [`${h.base}/api/sessions/nope/export?kind=flame&format=svg`, bearer, 404, /no session nope/],
      [`${h.base}/api/sessions/main/export?kind=pie&format=svg`, bearer, 400, /kind must be one of flame, histogram, heatmap/],
      [`${h.base}/api/sessions/main/export?kind=flame&format=png`, bearer, 400, /format must be one of svg, folded, json, speedscope, pprof/],
      [`${flame}&window=5m`, bearer, 400, /window must be one of 10s, 60s, all/],
      [`${h.base}/api/sessions/main/export?kind=histogram&format=csv`, bearer, 400, /needs probe=/],
      [`${h.base}/api/sessions/%E0%A4%A/export?kind=flame&format=svg`, bearer, 400, /percent-encoding/],
    ];
    for (const [url, headers, status, body] of cases) {
      const response = await get(url, headers);
      assert.equal(response.status, status, url);
      assert.match(response.body.toString(), body, url);
    }
    const post = await fetch(flame, { method: 'POST', headers: bearer });
    assert.equal(post.status, 405);
  } finally {
    operator.close();
    await h.close();
  }
});

test('pprof of offcpu and wall profiles: µs sample types and no period; cpu keeps samples and cpu/nanoseconds', async () => {
  const h = await start();
  try {
    const url = `${h.base}/api/sessions/main/export?kind=flame&format=pprof&window=all`;
    const cpu = decodePprof((await get(url, bearer)).body);
    const typesOf = (p: typeof cpu) => p.sample_type.map((t) => `${p.string_table[t.type]}/${p.string_table[t.unit]}`);
    assert.deepEqual(typesOf(cpu), ['samples/count', 'cpu/nanoseconds'], `cpu sample types: ${typesOf(cpu)}`);
    for (const [type, target] of [
      ['offcpu', { kind: 'all' }],
      ['wall', { kind: 'comm', comm: 'exp-a' }],
    ] as const) {
      await h.pipeline.configure({ running: true, type, target });
      const end = Date.now() + 5000;
      while (h.pipeline.frame({ window: 'all', stackMode: 'all', hideIdle: true }).totalSamples < 12) {
        if (Date.now() > end) throw new Error(`no ${type} intervals`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await h.pipeline.configure({ running: false });
      const expected = treeToFolded(h.pipeline.frame({ window: 'all', stackMode: 'all', hideIdle: true }).tree);
      const response = await get(url, bearer);
      assert.equal(response.status, 200, `${type}: ${response.body.toString().slice(0, 200)}`);
      const decoded = decodePprof(response.body);
      assert.deepEqual(typesOf(decoded), [`${type}/microseconds`], `${type} sample types: ${typesOf(decoded)}`);
      assert.equal(decoded.period, 0, `${type}: no period (widths are µs already), got ${decoded.period}`);
      assert.equal(foldedOfPprof(decoded), expected, `${type}: the same stacks, in µs`);
      const speedscope = JSON.parse((await get(`${h.base}/api/sessions/main/export?kind=flame&format=speedscope&window=all`, bearer)).body.toString()) as { profiles: { unit: string }[] };
      assert.equal(speedscope.profiles[0].unit, 'microseconds', `${type}: speedscope weights in µs, got ${speedscope.profiles[0].unit}`);
      const svg = (await get(`${h.base}/api/sessions/main/export?kind=flame&format=svg&window=all`, bearer)).body.toString();
      const title = type === 'offcpu' ? 'Off-CPU flame graph' : 'Wall-clock (hot/cold) flame graph';
      assert.ok(svg.includes(title), `${type}: the SVG is titled ${title}: ${svg.slice(0, 600)}`);
    }
  } finally {
    await h.pipeline.configure({ type: 'cpu', target: { kind: 'all' } }).catch(() => undefined);
    await h.close();
  }
});
