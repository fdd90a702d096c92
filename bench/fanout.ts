/**
 * Fan-out benchmark: what each live viewer of one session costs the server.
 *
 *   node --import tsx bench/fanout.ts [--viewers 1,10,50] [--seconds 20] [--nodes 10000] [--interval 1000] [--prune]
 *
 * For each viewer count (and once more for the largest count plus one stalled client) a fresh
 * server process is forked: a real hub (server/hub/testing.ts startTestHub, loopback, port 0)
 * whose profile feature is fed by SyntheticProfileSource, one update every `--interval` ms
 * carrying a flame graph of exactly `--nodes` nodes. By default the pipeline is told not to prune
 * (maxNodes Infinity, minFraction 0), so every update really ships all the nodes; `--prune`
 * keeps the server's defaults (ProfilePipeline: at most 3,000 nodes, none under 1/4000).
 *
 * This process runs the viewers: real socket.io clients over websocket that ack every
 * `profile:frame` as the dashboard does (components/session/useProfileSession.ts). The server
 * reports its own CPU time (process.cpuUsage) and memory (RSS; heap and external after a forced
 * GC) over IPC, so viewers never count towards the server's figures. Bytes are counted on the
 * client side: the engine.io `packet` event gives each websocket message's text, whose UTF-8
 * length + 1 (the engine.io type byte) is the websocket payload (frame headers, 2-10 bytes, and
 * TCP/IP are not counted).
 *
 * The stalled client is connectStalledClient(): a raw TCP socket that performs the websocket
 * upgrade and the socket.io CONNECT by hand and then stops reading (see there).
 *
 * Also exports the synthetic source and the stalled client for server/hub/fanout.test.ts.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect as tcpConnect, type Socket as TcpSocket } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { seededRandom } from '../lib/random.ts';
import type { ProfileFrame } from '../lib/protocol.ts';
import type { Frame } from '../server/symbolizer/types.ts';
import type { SymbolizedSample } from '../server/symbolizer/types.ts';
import type { CollectorChannel, CollectorCommand, CollectorMessage } from '../server/collectors/types.ts';
import { option } from './proc.ts';

// ---------------------------------------------------------------------------------------------
// Shared with the test: a synthetic profile source and a stalled client.

/** Processes (depth-1 nodes) in the synthetic profile. */
const COMMS = 16;

interface SamplePoint {
  pid: number;
  comm: string;
  /** User frames, root first; shared between intervals. */
  user: Frame[];
  /** Mean samples per interval (skewed: a few wide frames, many narrow ones). */
  weight: number;
}

/**
 * The sample points of a synthetic profile whose flame graph (view `all`, idle hidden) has
 * exactly `nodes` nodes: root, COMMS processes, and `nodes - 1 - COMMS` user frames forming a
 * random recursive tree (each frame's parent drawn uniformly among the nodes before it, so depth
 * grows like ln n: about 17 levels at 10k nodes). Every leaf, and one inner frame in five, is
 * a sample point. Frame names look like C++ symbols (~45 bytes), so sizes on the wire are
 * realistic. Seeded: the same arguments give the same profile.
 */
export function syntheticPoints(nodes: number, seed = 1): SamplePoint[] {
  if (!(nodes >= COMMS + 2)) throw new Error(`a synthetic profile needs at least ${COMMS + 2} nodes`);
  const random = seededRandom(seed);
  const parent: number[] = [];
  const root: number[] = [];
  const path: Frame[][] = [];
  const inner: boolean[] = [];
  for (let i = 0; i < COMMS; i++) {
    parent.push(-1);
    root.push(i);
    path.push([]);
    inner.push(false);
  }
  for (let i = COMMS; i < nodes - 1; i++) {
    const p = Math.floor(random() * i);
    parent.push(p);
    root.push(root[p]);
    inner[p] = true;
    inner.push(false);
    path.push([...path[p], { name: `ns${i % 37}::Class${i % 101}::method_${i}(int, char const*)`, kind: 'u' }]);
  }
  const points: SamplePoint[] = [];
  for (let i = COMMS; i < nodes - 1; i++) {
    if (inner[i] && random() >= 0.2) continue;
    points.push({ pid: 1000 + root[i], comm: `proc${root[i]}`, user: path[i], weight: 1 + 40 * random() ** 3 });
  }
  // A process with no frames would still be a node: give each one a sample of its own.
  for (let c = 0; c < COMMS; c++) if (!inner[c]) points.push({ pid: 1000 + c, comm: `proc${c}`, user: [], weight: 1 });
  return points;
}

export interface SyntheticSourceOptions {
  /** Nodes of the flame graph of every interval (view `all`, idle hidden), root included. */
  nodes: number;
  /** Wall-clock ms between intervals. */
  intervalMs: number;
  /**
   * Profile time (ms) each interval covers. Unset: intervals end at Date.now(), as the kernel
   * collector's do. Set: the source keeps its own clock, advancing this much per interval; give
   * the pipeline `now: source.now` so its windows follow that clock.
   */
  stepMs?: number;
  seed?: number;
}

/**
 * A CollectorChannel that needs no kernel: on `profile.start` it emits one symbolized interval
 * every `intervalMs`, always the same stacks (so the tree keeps its node count) with counts
 * redrawn each time (so every interval changes the widths and no built frame can be reused).
 */
export class SyntheticProfileSource implements CollectorChannel {
  /** Intervals emitted since construction. */
  intervals = 0;
  /** Wall-clock ms (Date.now()) at which each interval, by its endMs, was handed on (newest 512). */
  readonly emittedAt = new Map<number, number>();
  private readonly listeners = new Set<(message: CollectorMessage) => void>();
  private readonly points: SamplePoint[];
  private readonly random: () => number;
  private timer: ReturnType<typeof setInterval> | null = null;
  private lastEndMs = Date.now();

  constructor(private readonly options: SyntheticSourceOptions) {
    this.points = syntheticPoints(options.nodes, options.seed ?? 1);
    this.random = seededRandom((options.seed ?? 1) + 1);
  }

  /** The source's clock: end of the newest interval in stepMs mode, else the wall clock. */
  readonly now = (): number => (this.options.stepMs === undefined ? Date.now() : this.lastEndMs);

  async request(command: CollectorCommand): Promise<void> {
    this.stop();
    if (command.type === 'profile.stop') {
      this.emit({ type: 'profile.stopped' });
      return;
    }
    this.emit({ type: 'profile.started', cpus: 2, hz: command.hz, target: command.target });
    this.timer = setInterval(() => this.tick(command.hz), command.intervalMs ?? this.options.intervalMs);
  }

  onMessage(listener: (message: CollectorMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.stop();
    this.listeners.clear();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private tick(hz: number): void {
    const startMs = this.lastEndMs;
    const endMs = this.options.stepMs === undefined ? Math.max(Date.now(), startMs + 1) : startMs + this.options.stepMs;
    this.lastEndMs = endMs;
    const samples: SymbolizedSample[] = this.points.map((point) => ({
      pid: point.pid,
      comm: point.comm,
      user: point.user,
      kernel: [],
      count: 1 + Math.floor(point.weight * this.random()),
    }));
    this.intervals++;
    this.emittedAt.set(endMs, Date.now());
    if (this.emittedAt.size > 512) this.emittedAt.delete(this.emittedAt.keys().next().value!);
    this.emit({ type: 'profile.interval', interval: { startMs, endMs, samples, droppedSamples: 0, unknownFrames: 0 }, hz, cpus: 2 });
  }

  private emit(message: CollectorMessage): void {
    for (const listener of [...this.listeners]) listener(message);
  }
}

/**
 * A client stalled at the transport level: a raw TCP connection that sends a real websocket
 * upgrade (`/socket.io/?EIO=4&transport=websocket`, plus `query`), reads the 101 and the
 * engine.io open packet, sends the socket.io CONNECT packet (`40`, a masked text frame), then
 * pauses the socket and never reads again. Node stops reading from the kernel (readStop once its 16 KiB buffer is full),
 * the client's kernel receive buffer fills (it is not autotuned up while nobody reads), TCP's
 * window closes and the server's writes back up into its own send buffer and then into ws /
 * engine.io. It never acks, never answers a ping, never sends a close frame. Destroy it to end.
 */
export async function connectStalledClient(port: number, query = 'stalled=1'): Promise<TcpSocket> {
  const socket = tcpConnect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(
    `GET /socket.io/?EIO=4&transport=websocket&${query} HTTP/1.1\r\n` +
      `Host: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  // Read the 101 response and the engine.io open packet (`0{"sid":...}`, the first server
  // frame), then send CONNECT and stop reading.
  await new Promise<void>((resolve, reject) => {
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      if (!/^HTTP\/1\.1 101/.test(received.toString('latin1', 0, 12))) {
        socket.off('data', onData);
        reject(new Error(`websocket upgrade refused: ${received.toString('latin1').split('\r\n')[0]}`));
        return;
      }
      const frame = received.subarray(end + 4);
      if (frame.length < 2 || frame.length < 2 + (frame[1] & 0x7f)) return; // the open packet is < 126 bytes
      socket.pause(); // from here on nothing is read
      socket.off('data', onData);
      socket.off('error', reject);
      resolve();
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
  socket.on('error', () => undefined); // the server resets it when it gives up
  socket.write(maskedTextFrame('40'));
  return socket;
}

/** A client-to-server websocket text frame (RFC 6455 5.2: FIN, opcode 1, masked, short length). */
function maskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  if (payload.length > 125) throw new Error('short frames only');
  const mask = randomBytes(4);
  const frame = Buffer.alloc(6 + payload.length);
  frame[0] = 0x81;
  frame[1] = 0x80 | payload.length;
  mask.copy(frame, 2);
  for (let i = 0; i < payload.length; i++) frame[6 + i] = payload[i] ^ mask[i % 4];
  return frame;
}

// ---------------------------------------------------------------------------------------------
// The server process.

type ToServer = { type: 'mark' } | { type: 'sample' } | { type: 'exit' };

/** What the server reports about itself. */
interface ServerSample {
  /** process.cpuUsage() user + system, µs. */
  cpuMicros: number;
  wallMs: number;
  intervals: number;
  rss: number;
  /** After a forced GC. */
  heapUsed: number;
  external: number;
  dropped: number;
  stalled: number;
  sockets: number;
}

async function serve(): Promise<void> {
  const [{ startTestHub }, { profileFeature }, { ProfilePipeline }] = await Promise.all([
    import('../server/hub/testing.ts'),
    import('../server/hub/profile.ts'),
    import('../server/pipeline/profile.ts'),
  ]);
  const nodes = Number(option('nodes', '10000'));
  const intervalMs = Number(option('interval', '1000'));
  const prune = process.argv.includes('--prune');
  const stallMs = Number(option('stall-ms', '20000'));
  const source = new SyntheticProfileSource({ nodes, intervalMs, seed: 7 });
  const pipeline = new ProfilePipeline(source, prune ? {} : { maxNodes: Infinity, minFraction: 0 });
  const hub = await startTestHub([profileFeature(pipeline)], null, { stallMs });
  await pipeline.configure({ running: true });
  const gc = (globalThis as { gc?: () => void }).gc;
  const sample = (): ServerSample => {
    gc?.();
    const cpu = process.cpuUsage();
    const memory = process.memoryUsage();
    return {
      cpuMicros: cpu.user + cpu.system,
      wallMs: performance.now(),
      intervals: source.intervals,
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      external: memory.external,
      dropped: hub.hub.droppedFrames(),
      stalled: hub.hub.stalledConnections(),
      sockets: hub.hub.io.of('/').sockets.size,
    };
  };
  process.on('message', async (message: ToServer) => {
    if (message.type === 'exit') {
      await hub.close();
      await pipeline.close();
      process.exit(0);
    }
    // Measured without the GC a sample forces: 'mark' takes CPU first, then memory.
    const cpu = process.cpuUsage();
    const taken = sample();
    process.send!({ ...taken, cpuMicros: cpu.user + cpu.system });
  });
  process.send!({ type: 'ready', port: hub.port });
}

// ---------------------------------------------------------------------------------------------
// The viewers and the report.

class BenchViewer {
  readonly socket: ClientSocket;
  frames = 0;
  /** Websocket payload bytes received (all messages: frames, status, session state, pings). */
  bytes = 0;
  /** Payload bytes of profile:frame messages only. */
  frameBytes = 0;
  /** ms from the interval's end (sampledAtMs, the server's wall clock = ours) to receipt. */
  latencies: number[] = [];
  /** Largest node count of a frame received. */
  nodeCount = 0;
  constructor(url: string) {
    this.socket = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true });
    const engine = this.socket.io.engine;
    engine.on('packet', (packet: { type: string; data?: unknown }) => {
      if (packet.type !== 'message' || typeof packet.data !== 'string') return;
      const size = Buffer.byteLength(packet.data) + 1;
      this.bytes += size;
      if (packet.data.startsWith('2') && packet.data.includes('["profile:frame"')) this.frameBytes += size;
    });
    this.socket.on('profile:frame', (frame: ProfileFrame, ack: () => void) => {
      try {
        this.frames++;
        this.nodeCount = Math.max(this.nodeCount, frame.nodeCount);
        this.latencies.push(Date.now() - frame.sampledAtMs);
      } finally {
        ack();
      }
    });
  }
  reset(): void {
    this.frames = 0;
    this.bytes = 0;
    this.frameBytes = 0;
    this.latencies = [];
  }
}

interface Row {
  label: string;
  viewers: number;
  cpuPercent: number;
  cpuMsPerUpdate: number;
  rss: number;
  heap: number;
  external: number;
  bytesPerUpdate: number;
  frameBytes: number;
  framesPerViewerPerUpdate: number;
  p50: number;
  p99: number;
  nodes: number;
  dropped: number;
  stalledAttached: boolean;
}

function request(child: ChildProcess, message: ToServer): Promise<ServerSample> {
  return new Promise((resolve) => {
    child.once('message', (reply) => resolve(reply as ServerSample));
    child.send(message);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** ms: the p99 latency (interval end to receipt) a viewer should see at the production 1 s interval. */
const P99_TARGET_MS = 500;

function quantile(sorted: number[], q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function runRow(viewerCount: number, withStalled: boolean, seconds: number, passOn: string[]): Promise<Row> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', ...passOn, '--stall-ms', String((seconds + 30) * 1000)], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
  });
  const [ready] = (await once(child, 'message')) as [{ port: number }];
  const url = `http://127.0.0.1:${ready.port}`;
  const viewers = Array.from({ length: viewerCount }, () => new BenchViewer(url));
  const deadline = Date.now() + 20_000;
  while (viewers.some((viewer) => viewer.frames === 0)) {
    if (Date.now() > deadline) throw new Error('viewers did not all get a first frame within 20 s');
    await sleep(50);
  }
  const stalled = withStalled ? await connectStalledClient(ready.port) : null;
  await sleep(3000); // warm-up: JIT, buffers, the stalled client's first frame stuck in flight
  for (const viewer of viewers) viewer.reset();
  const start = await request(child, { type: 'mark' });
  await sleep(seconds * 1000);
  const end = await request(child, { type: 'sample' });
  const updates = end.intervals - start.intervals;
  const latencies = viewers.flatMap((viewer) => viewer.latencies).sort((a, b) => a - b);
  const sum = (f: (viewer: BenchViewer) => number) => viewers.reduce((total, viewer) => total + f(viewer), 0);
  const cpuMs = (end.cpuMicros - start.cpuMicros) / 1000;
  const row: Row = {
    label: `${viewerCount}${withStalled ? ' + 1 stalled' : ''}`,
    viewers: viewerCount,
    cpuPercent: (100 * cpuMs) / (end.wallMs - start.wallMs),
    cpuMsPerUpdate: cpuMs / updates,
    rss: end.rss,
    heap: end.heapUsed,
    external: end.external,
    bytesPerUpdate: viewerCount ? sum((viewer) => viewer.bytes) / viewerCount / updates : 0,
    frameBytes: sum((viewer) => viewer.frameBytes) / Math.max(1, sum((viewer) => viewer.frames)),
    framesPerViewerPerUpdate: viewerCount ? sum((viewer) => viewer.frames) / viewerCount / updates : 0,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    nodes: Math.max(0, ...viewers.map((viewer) => viewer.nodeCount)),
    dropped: end.dropped - start.dropped,
    stalledAttached: withStalled && end.stalled === 0 && end.sockets === viewerCount + 1,
  };
  for (const viewer of viewers) viewer.socket.close();
  stalled?.destroy();
  child.send({ type: 'exit' } satisfies ToServer);
  await once(child, 'exit');
  return row;
}

async function main(): Promise<void> {
  const counts = option('viewers', '1,10,50').split(',').map(Number);
  const seconds = Number(option('seconds', '20'));
  const nodes = option('nodes', '10000');
  const interval = option('interval', '1000');
  const prune = process.argv.includes('--prune');
  const passOn = ['--nodes', nodes, '--interval', interval, ...(prune ? ['--prune'] : [])];
  console.log(
    `fanout: ${nodes}-node profile, one update every ${interval} ms, ${prune ? 'server pruning defaults' : 'no pruning (every node sent)'}, ` +
      `${seconds} s measured per row (after 3 s warm-up), a fresh server process per row`,
  );
  const rows: Row[] = [];
  for (const count of counts) rows.push(await runRow(count, false, seconds, passOn));
  rows.push(await runRow(Math.max(...counts), true, seconds, passOn));

  const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
  const kb = (bytes: number) => (bytes / 1024).toFixed(1);
  const base = rows.find((row) => row.viewers === 1 && !row.label.includes('stalled'));
  const perViewer = (row: Row, pick: (row: Row) => number, scale: (value: number) => string) =>
    base && row !== base && row.viewers > 1 ? scale((pick(row) - pick(base)) / (row.viewers - 1)) : '';
  const header = [
    'viewers', 'nodes', 'CPU %', 'CPU ms/upd', '+ms/upd/viewer', 'RSS MB', '+RSS KB/viewer', 'heap MB', '+heap KB/viewer',
    'ext MB', 'KB/upd/viewer', 'frame KB', 'frames/upd', 'p50 ms', 'p99 ms', 'dropped',
  ];
  const table = rows.map((row) => [
    row.label,
    String(row.nodes),
    row.cpuPercent.toFixed(1),
    row.cpuMsPerUpdate.toFixed(1),
    perViewer(row, (r) => r.cpuMsPerUpdate, (v) => v.toFixed(2)),
    mb(row.rss),
    perViewer(row, (r) => r.rss, kb),
    mb(row.heap),
    perViewer(row, (r) => r.heap, kb),
    mb(row.external),
    kb(row.bytesPerUpdate),
    kb(row.frameBytes),
    row.framesPerViewerPerUpdate.toFixed(2),
    row.p50.toFixed(0),
    row.p99.toFixed(0),
    String(row.dropped),
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...table.map((cells) => cells[i].length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padStart(widths[i])).join('  ');
  console.log(line(header));
  for (const cells of table) console.log(line(cells));
  const stalledRow = rows.at(-1)!;
  // The latency target (moved here from the unit suite, where it measured the machine's load as
  // much as the hub): at the production 1 s interval, p99 under 500 ms with the stalled client.
  console.log(
    `p99 latency with ${stalledRow.label} viewers: ${stalledRow.p99.toFixed(0)} ms ` +
      `(target: under ${P99_TARGET_MS} ms at a 1000 ms interval: ${stalledRow.p99 < P99_TARGET_MS ? 'met' : 'MISSED'})`,
  );
  console.log(
    `stalled client: ${stalledRow.stalledAttached ? 'still attached at the end of its row' : 'NOT attached at the end (dropped?)'}; ` +
      `'dropped' = frames replaced before they could be sent (hub.droppedFrames) during the measured seconds`,
  );
  console.log(
    'CPU = server process only (process.cpuUsage), per update = per interval emitted; +x/viewer = (row - 1-viewer row) / (viewers - 1); ' +
      'heap/external after a forced GC; KB/upd/viewer = websocket payload bytes received per viewer per update (all messages); ' +
      'frame KB = one profile:frame message; latency = receipt - interval end (sampledAtMs)',
  );
}

const entry = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (entry) {
  if (process.argv.includes('--serve')) await serve();
  else await main();
}
