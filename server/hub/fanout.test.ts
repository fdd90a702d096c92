/**
 * Load: 50 real socket.io viewers on one live session plus one client stalled at the transport
 * level, against a real hub on loopback port 0, fed by a synthetic profile (no kernel).
 * Functional checks only: every viewer receives, in order, large frames; the stalled client
 * holds one frame and one pending, the rest counted as dropped; server memory does not grow
 * with it; the stall sweep drops it. The latency it prints is not asserted: a wall-clock bound
 * measures the machine's load as much as the hub, so it lives in bench/fanout.ts (its p99 line).
 *
 * - Source: bench/fanout.ts SyntheticProfileSource, a seeded 6,000-node flame graph with new
 *   widths every interval. The pipeline keeps its defaults, so what viewers get is what the
 *   server really ships: frames pruned to at most 3,000 nodes (~165 KB of JSON each).
 * - Interval: 1 s, the production rate, which is what the 500 ms bound is about. A faster
 *   interval was tried to shorten the test: at 200-400 ms the hub's work for 50 viewers (it
 *   encodes each ~165 KB frame once per socket, ~2.5 ms each: ~125 ms per update) no longer fit
 *   in the CPU share this shared 2-core machine gives one process, intervals slipped and p99
 *   measured the machine's load (1.6-3 s), not the hub. Each interval stands for 20 s of profile
 *   time (the source's own clock, given to the pipeline): the aggregator keeps 60 s of intervals,
 *   which would grow through the whole test and hide what the memory check is about; with 20 s
 *   steps its window is full after 3 updates.
 * - Viewers ack every `profile:frame` on receipt, as the dashboard does. Latency = receipt time
 *   minus the wall-clock time the source handed that frame's newest interval to the pipeline
 *   (frames carry sampledAtMs = that interval's end; the source remembers when it emitted it).
 *   The viewers run in a worker thread of this process (this same file, `isMainThread` false):
 *   the hub keeps its own event loop, as with remote browsers, and this thread's V8 heap is the
 *   server's alone, so `heapUsed` after a forced GC measures the server and nothing else.
 * - The stalled client (bench/fanout.ts connectStalledClient) is a raw TCP socket that does the
 *   websocket upgrade and the socket.io CONNECT by hand, then pauses: it never reads again,
 *   never acks and never answers pings, so its kernel buffers fill and the server's writes back
 *   up, as with a frozen tab on a dead network.
 */
import { test, type TestContext } from 'node:test';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { Socket as TcpSocket } from 'node:net';
import { io as connect } from 'socket.io-client';
import { startTestHub, type TestHub } from './testing.ts';
import { profileFeature } from './profile.ts';
import type { HubSocket } from './feature.ts';
import { ProfilePipeline } from '../pipeline/profile.ts';
import type { ProfileFrame } from '../../lib/protocol.ts';
import { connectStalledClient, SyntheticProfileSource } from '../../bench/fanout.ts';

const VIEWERS = 50;
const INTERVAL_MS = 1000;
/**
 * Server memory is read after a forced GC at these ms after the stalled client's first frame
 * (warm-up, then two equal spans): wall-clock points, so that the stall sweep (STALL_MS) cannot
 * race them when a loaded machine stretches the intervals. Each span must hold >= 3 updates.
 */
const READINGS_MS = [2000, 5500, 9000] as const;
const STALL_MS = 13_000;
const NODES = 6000;

/** What the viewer thread reports about one viewer. */
interface ViewerReport {
  frames: number;
  /** Date.now() of the last frame received (0: none yet). */
  lastAt: number;
  nodeCount: number;
  /** [frame.sampledAtMs, Date.now() at receipt] of every frame received. */
  receipts: [number, number][];
}

interface WorkerRole {
  role: 'fanout-viewers';
  url: string;
  count: number;
}

/** The viewer thread: dashboard-like socket.io clients that ack each frame on receipt. */
function runViewers({ url, count }: WorkerRole): void {
  const viewers = Array.from({ length: count }, () => {
    const report: ViewerReport = { frames: 0, lastAt: 0, nodeCount: 0, receipts: [] };
    const socket = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true });
    socket.on('profile:frame', (frame: ProfileFrame, ack: () => void) => {
      ack();
      const now = Date.now();
      report.frames++;
      report.lastAt = now;
      report.nodeCount = frame.nodeCount;
      report.receipts.push([frame.sampledAtMs, now]);
    });
    return { socket, report };
  });
  parentPort!.on('message', (message: 'report' | 'close') => {
    if (message === 'report') parentPort!.postMessage(viewers.map((viewer) => viewer.report));
    else for (const viewer of viewers) viewer.socket.close();
  });
}

/** The main thread's handle on the viewer thread. */
class ViewerThread {
  private readonly worker: Worker;
  constructor(url: string, count: number) {
    // Workers do not inherit the tsx loader: register it, then load this file again.
    const tsx = import.meta.resolve('tsx/esm/api');
    const source = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(import.meta.url)}); })`;
    this.worker = new Worker(source, { eval: true, workerData: { role: 'fanout-viewers', url, count } satisfies WorkerRole });
    this.worker.on('error', (error) => {
      throw error;
    });
  }
  report(): Promise<ViewerReport[]> {
    return new Promise((resolve) => {
      this.worker.once('message', resolve);
      this.worker.postMessage('report');
    });
  }
  async close(): Promise<void> {
    // terminate() ends the thread and with it the viewers' sockets; the hub sees them disconnect.
    await this.worker.terminate();
  }
}

interface Fanout extends TestHub {
  source: SyntheticProfileSource;
  pipeline: ProfilePipeline;
  viewers: ViewerThread;
  stalled: TcpSocket;
  /** The server side of the stalled connection (null once the hub dropped it). */
  stalledSocket(): HubSocket | null;
  /** Date.now() when the hub sent the stalled client its one frame. */
  stalledSince: number;
  /** Worst values seen on the stalled connection, checked after every interval. */
  watch: {
    maxSeq: number;
    maxWriteBuffer: number;
    pendingSeen: number;
    intervalsAttached: number;
    /** Per interval, ms from the source's emit to every frame handed to socket.io (synchronous). */
    fanOutMs: number[];
  };
}

async function startFanout(stallMs: number): Promise<Fanout> {
  const source = new SyntheticProfileSource({ nodes: NODES, intervalMs: INTERVAL_MS, stepMs: 20_000, seed: 42 });
  const pipeline = new ProfilePipeline(source, { now: source.now });
  const started = await startTestHub([profileFeature(pipeline)], null, { stallMs });
  await pipeline.configure({ running: true });
  const viewers = new ViewerThread(started.url, VIEWERS);
  let stalled: TcpSocket | null = null;
  // A failure while starting closes what was started: an open hub would keep the test process alive.
  const abandon = async (error: unknown): Promise<never> => {
    await viewers.close();
    stalled?.destroy();
    await started.close();
    await pipeline.close();
    throw error;
  };
  try {
    // A safety net, not a bound: on a loaded machine the viewer thread alone (tsx, 50 sockets) took over 20 s to start.
    await afterIntervalsUntil(pipeline, async () => (await viewers.report()).every((report) => report.frames > 0), 'a first frame on every viewer', 60_000);
    stalled = await connectStalledClient(started.port, 'stalled=1');
  } catch (error) {
    return abandon(error);
  }
  const stalledSocket = () => {
    for (const socket of started.hub.io.of('/').sockets.values()) {
      if (socket.handshake.query.stalled === '1') return socket as unknown as HubSocket;
    }
    return null;
  };
  await afterIntervalsUntil(pipeline, () => stalledSocket()?.data.streams?.get('profile') !== undefined, 'the stalled client to get its first frame').catch(abandon);
  const stalledSince = stalledSocket()!.data.streams.get('profile')!.sentAtMs;
  const watch = { maxSeq: 0, maxWriteBuffer: 0, pendingSeen: 0, intervalsAttached: 0, fanOutMs: [] as number[] };
  // Registered after the profile feature's listener: runs once this interval's frames are sent.
  pipeline.onInterval((endMs) => {
    watch.fanOutMs.push(Date.now() - (source.emittedAt.get(endMs) ?? NaN));
    const socket = stalledSocket();
    const stream = socket?.data.streams.get('profile');
    if (!socket || !stream) return;
    watch.intervalsAttached++;
    watch.maxSeq = Math.max(watch.maxSeq, stream.seq);
    if (stream.pending) watch.pendingSeen++;
    const buffered = (socket.conn as unknown as { writeBuffer?: unknown[] }).writeBuffer?.length ?? 0;
    watch.maxWriteBuffer = Math.max(watch.maxWriteBuffer, buffered);
  });
  return {
    ...started,
    source,
    pipeline,
    viewers,
    stalled,
    stalledSocket,
    stalledSince,
    watch,
    close: async () => {
      await viewers.close();
      stalled.destroy();
      await started.close();
      await pipeline.close();
    },
  };
}

/**
 * Resolves once `condition` holds, checked now and after every interval the pipeline fans out
 * (what the hub sends, and so what can change, happens on those); fails after `timeoutMs` (ms).
 */
function afterIntervalsUntil(pipeline: ProfilePipeline, condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let checking = false;
    let done = false;
    const finish = (error?: Error) => {
      done = true;
      stop();
      clearTimeout(timer);
      if (error) reject(error);
      else resolve();
    };
    const check = async () => {
      if (checking || done) return;
      checking = true;
      try {
        if (await condition()) finish();
      } catch (error) {
        finish(error as Error);
      } finally {
        checking = false;
      }
    };
    const stop = pipeline.onInterval(() => void check());
    const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
    void check();
  });
}

/** Each viewer's latencies (ms) for the frames whose newest interval was emitted at or after `fromMs`. */
function latenciesSince(f: Fanout, reports: ViewerReport[], fromMs: number): number[][] {
  return reports.map((report) => {
    const latencies: number[] = [];
    for (const [sampledAtMs, receivedAt] of report.receipts) {
      const emitted = f.source.emittedAt.get(sampledAtMs);
      if (emitted !== undefined && emitted >= fromMs) latencies.push(receivedAt - emitted);
    }
    return latencies;
  });
}

/**
 * Bytes waiting in the kernel on both ends of the stalled connection, from /proc/net/tcp (man 5
 * proc: local and remote address:port, then tx_queue:rx_queue in hex): what the client never
 * read (its rx_queue) and what the server's kernel could not deliver yet (its tx_queue).
 */
function kernelQueues(clientPort: number): { clientUnread: number; serverUnsent: number } {
  const port = clientPort.toString(16).toUpperCase().padStart(4, '0');
  let clientUnread = NaN;
  let serverUnsent = NaN;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const [, local, remote, state, queues] = line.trim().split(/\s+/);
    // Only the live connection: an old TIME_WAIT entry may reuse the same ephemeral port.
    if (!queues || state !== '01') continue;
    const [tx, rx] = queues.split(':').map((hex) => parseInt(hex, 16));
    if (local.endsWith(`:${port}`)) clientUnread = rx;
    if (remote.endsWith(`:${port}`)) serverUnsent = tx;
  }
  return { clientUnread, serverUnsent };
}

async function loadTest(t: TestContext): Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const f = await startFanout(STALL_MS);
  const heap = () => {
    gc();
    return process.memoryUsage().heapUsed;
  };
  // Each reading right after the first interval fanned out at or past its time point: the same
  // place in the update cycle every time, and the wall-clock points keep clear of the stall sweep.
  const reading = async (ms: number) => {
    await afterIntervalsUntil(f.pipeline, () => Date.now() >= f.stalledSince + ms, `the interval after ${ms} ms`, ms + 10_000);
    return { heap: heap(), updates: f.source.intervals, buffered: stalledBuffered() };
  };
  const stalledBuffered = () => {
    const transport = (f.stalledSocket()?.conn as unknown as { transport?: { socket?: { bufferedAmount?: number } } } | undefined)?.transport;
    return transport?.socket?.bufferedAmount ?? NaN;
  };
  try {
    const fromMs = Date.now();
    const droppedBefore = f.hub.droppedFrames();
    const warm = await reading(READINGS_MS[0]);
    const first = await reading(READINGS_MS[1]);
    const queues = kernelQueues(f.stalled.localPort!);
    const second = await reading(READINGS_MS[2]);
    const attachedThrough = f.stalledSocket() !== null;
    const frameBytes = JSON.stringify(f.pipeline.frame({ window: '10s', stackMode: 'all', hideIdle: true })).length;
    const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MB`;
    const n1 = first.updates - warm.updates;
    const n2 = second.updates - first.updates;
    t.diagnostic(
      `server heap after GC: ${mb(warm.heap)} after warm-up, ${mb(first.heap)} ${n1} updates later, ${mb(second.heap)} ${n2} more later; ` +
        `stalled connection's ws bufferedAmount ${first.buffered} then ${second.buffered} bytes; one frame = ${frameBytes} bytes; ` +
        `in the kernel: ${queues.clientUnread} bytes the client never read, ${queues.serverUnsent} bytes the server could not send yet; ` +
        `client read ${f.stalled.bytesRead} bytes, ${f.stalled.readableLength} buffered in it; client port ${f.stalled.localPort}`,
    );
    // The kernel queues are reported above, not asserted: when the first frame reaches the
    // paused client, ~60 KB sit unread in its kernel buffer and the rest waits in the server's
    // (window closed). In this harness the first frame sometimes never reaches the raw client
    // (the server's socket shows it written in a standalone run, not always here; unexplained).
    // What the hub must guarantee is asserted below: its own buffers for the stalled client stay
    // bounded, it keeps one pending frame, and the stall sweep drops it.
    assert.ok(attachedThrough, `the stalled client stayed attached through the memory readings (dropped by the sweep: ${f.hub.stalledConnections()})`);
    assert.ok(n1 >= 3 && n2 >= 3, `updates between readings: ${n1}, ${n2} (want >= 3 each: is the machine overloaded?)`);
    // Had the hub kept each frame for the stalled client (as a pending queue, or encoded in its
    // engine.io write buffer), each update would keep one more frame: n2 * ~165 KB, ~0.7 MB
    // or more here. After a full GC this thread's heap moves by ~0.1 MB between readings.
    const growth = second.heap - first.heap;
    assert.ok(growth < (n2 * frameBytes) / 2, `server heap grew ${mb(growth)} over ${n2} updates (queueing would add ${mb(n2 * frameBytes)})`);
    // What the server's transport holds for the stalled client does not grow either: at most
    // the one frame it was sent, stuck behind the full kernel buffers.
    assert.ok(second.buffered <= first.buffered + 4096, `stalled ws buffer grew from ${first.buffered} to ${second.buffered} bytes`);
    assert.ok(second.buffered < 2 * frameBytes, `stalled ws buffer holds ${second.buffered} bytes`);

    const stalledServerSide = f.stalledSocket();
    if (stalledServerSide) {
      await Promise.race([
        new Promise((resolve) => stalledServerSide.once('disconnect', resolve)),
        new Promise((_, reject) => setTimeout(() => reject(new Error('the stall sweep did not drop the stalled client')), STALL_MS + 10_000).unref()),
      ]);
    }
    assert.equal(f.hub.stalledConnections(), 1, 'dropped by the stall sweep, not for another reason');
    // While it was attached: only its first frame was ever sent to it; after every interval the
    // newest frame waited in the single pending slot (older ones dropped, hub.droppedFrames).
    assert.equal(f.watch.maxSeq, 1, 'one frame sent to the stalled client, never a second');
    assert.ok(f.watch.intervalsAttached >= second.updates - warm.updates, `watched over ${f.watch.intervalsAttached} intervals`);
    assert.equal(f.watch.pendingSeen, f.watch.intervalsAttached, 'one pending frame held after each interval');
    assert.ok(f.watch.maxWriteBuffer <= 4, `its engine.io write buffer held up to ${f.watch.maxWriteBuffer} packets`);
    assert.ok(
      f.hub.droppedFrames() - droppedBefore >= f.watch.intervalsAttached - 2,
      `frames it could not take were dropped, not queued (${f.hub.droppedFrames() - droppedBefore} dropped over ${f.watch.intervalsAttached} intervals attached)`,
    );

    // The others carried on before, during and after: every healthy viewer got >= 10 updates,
    // large ones, including one emitted after the stalled client was dropped.
    const droppedAt = Date.now();
    let reports: ViewerReport[] = [];
    await afterIntervalsUntil(
      f.pipeline,
      async () => latenciesSince(f, (reports = await f.viewers.report()), droppedAt).every((after) => after.length > 0),
      'every viewer to get a frame emitted after the stalled client was dropped',
      6 * INTERVAL_MS,
    );
    const perViewer = latenciesSince(f, reports, fromMs);
    perViewer.forEach((latencies, i) => assert.ok(latencies.length >= 10, `viewer ${i} got ${latencies.length} updates (want >= 10)`));
    reports.forEach((report, i) => assert.ok(report.nodeCount > 2000, `viewer ${i} gets large frames (${report.nodeCount} nodes)`));
    // In order: each viewer's frames carry strictly newer intervals (a replaced frame is skipped, never sent late).
    reports.forEach((report, i) => {
      const outOfOrder = report.receipts.findIndex(([sampledAtMs], k) => k > 0 && sampledAtMs <= report.receipts[k - 1][0]);
      assert.equal(outOfOrder, -1, `viewer ${i}'s frame ${outOfOrder} is not newer than the one before (${JSON.stringify(report.receipts.slice(Math.max(0, outOfOrder - 1), outOfOrder + 1))})`);
    });
    const latencies = perViewer.flat().sort((a, b) => a - b);
    const quantile = (q: number) => latencies[Math.floor(q * latencies.length)];
    const fanOut = [...f.watch.fanOutMs].sort((a, b) => a - b);
    t.diagnostic(
      `latency p50 ${quantile(0.5)} ms, p99 ${quantile(0.99)} ms, max ${latencies.at(-1)} ms over ${latencies.length} frames ` +
        `(${Math.min(...perViewer.map((l) => l.length))}+ per viewer); server fan-out per update (tree build + one emit per socket, ` +
        `synchronous): median ${fanOut[fanOut.length >> 1]} ms, max ${fanOut.at(-1)} ms; stalled client attached for ` +
        `${f.watch.intervalsAttached} intervals; ${f.hub.droppedFrames() - droppedBefore} frames dropped in all`,
    );
  } finally {
    await f.close();
  }
}

if (isMainThread) {
  test('50 viewers keep receiving large frames in order, drops are counted, and server memory stays bounded while one client stalls', { timeout: 120_000 }, loadTest);
} else if ((workerData as WorkerRole | null)?.role === 'fanout-viewers') {
  runViewers(workerData as WorkerRole);
}
