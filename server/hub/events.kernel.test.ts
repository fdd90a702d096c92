/**
 * The events and discovery hub features end to end on the real kernel (root): a real socket.io
 * server on port 0, real socket.io clients, real BPF programs.
 * Run: node --import tsx --test server/hub/events.kernel.test.ts
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { startTestHub, TestViewer, type TestHub } from './testing.ts';
import { eventsFeature, type EventsFeatureOptions } from './events.ts';
import { discoveryFeature } from './discovery.ts';
import { inProcessBackend } from '../privileged/in-process.ts';
import { kernelTestGate, newFds, openFds } from '../testing/kernel.ts';
import { compileWorkload, type Compiled } from '../probes/testing.ts';
import type { Ack } from '../../lib/protocol.ts';
import type {
  DiscoveredObject,
  DiscoveredProcess,
  DiscoveredSymbol,
  DiscoveredTracepoint,
  DiscoveredUsdt,
  DiscoveryList,
  EventBatch,
  EventProbeList,
  EventRow,
  EventsAdded,
} from '../../lib/protocol-events.ts';

const bpfFds = () => new Map([...openFds()].filter(([, target]) => /bpf|perf_event/.test(target)));

let usdtBin: Compiled | undefined;
let floodBin: Compiled | undefined;
after(() => {
  usdtBin?.cleanup();
  floodBin?.cleanup();
});
const usdtList = () => (usdtBin ??= compileWorkload('usdt-list', ['usdt-list.c', 'usdt-list-sem.c'])).path;

/** usdt-list firing its probes every 10 ms until killed (stderr not inherited: a leftover must not hold the runner's pipes). */
async function startUsdtList(): Promise<ChildProcess> {
  const child = spawn(usdtList(), ['wait'], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('usdt-list did not get ready')), 10_000);
    child.once('error', reject);
    child.stdout!.once('data', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return child;
}

function startHub(options: EventsFeatureOptions = {}): Promise<TestHub> {
  const backend = inProcessBackend();
  return startTestHub([eventsFeature(backend.openEvents(), { intervalMs: 100, ...options }), discoveryFeature(backend.discovery)]);
}

/** A viewer that acks every batch (unless told to stall) and keeps every row per probe. */
class Viewer extends TestViewer {
  lists: EventProbeList[] = [];
  rows = new Map<string, EventRow[]>();
  batches = new Map<string, EventBatch[]>();
  stalled: (() => void)[] = [];
  stall = false;

  constructor(url: string) {
    super(url);
    this.socket.on('events:probes', (list: EventProbeList) => {
      this.lists.push(list);
      this.notify();
    });
    this.socket.on('events:batch', (batch: EventBatch, ack: () => void) => {
      if (this.stall) this.stalled.push(ack);
      else ack();
      if (!this.batches.has(batch.id)) this.batches.set(batch.id, []);
      this.batches.get(batch.id)!.push(batch);
      if (!this.rows.has(batch.id)) this.rows.set(batch.id, []);
      this.rows.get(batch.id)!.push(...batch.rows);
      this.notify();
    });
  }

  get list(): EventProbeList | undefined {
    return this.lists.at(-1);
  }

}

function value<T>(reply: Ack<T>, what: string): T {
  assert.ok(reply.ok, `${what}: ${JSON.stringify(reply)}`);
  return reply.value as T;
}

test('exec: a process the test starts arrives with its argv; a bad spec is refused while the good probe runs; remove frees every BPF fd', async (t) => {
  if (!kernelTestGate(t, ['tracepoints'])) return;
  const fdsBefore = bpfFds();
  const h = await startHub();
  const a = new Viewer(h.url);
  try {
    await a.until(() => a.list !== undefined, 'the probe list on connect');
    assert.deepEqual(structuredClone(a.list), { probes: [], max: 8 });

    const added = value(await a.request<EventsAdded>('events:add', { spec: 'exec' }), 'add exec');
    assert.equal(added.spec, 'exec');
    assert.equal(a.list!.probes.find((p) => p.id === added.id)?.state, 'running', 'the list arrives before the ack');
    assert.notDeepEqual(newFds(fdsBefore, bpfFds()), [], 'the probe holds BPF fds');

    const marker = `pb-hub-exec-${process.pid}-${Date.now()}`;
    const hasMarker = () => (a.rows.get(added.id) ?? []).some((r) => Array.isArray(r.fields.argv) && r.fields.argv.includes(marker));
    for (let i = 0; i < 20 && !hasMarker(); i++) {
      spawnSync('/bin/echo', ['hello', marker], { stdio: 'ignore' });
      await a.until(hasMarker, 'the exec row', 500).catch(() => undefined);
    }
    const row = (a.rows.get(added.id) ?? []).find((r) => Array.isArray(r.fields.argv) && r.fields.argv.includes(marker));
    assert.ok(row, `the echo exec arrived (${(a.rows.get(added.id) ?? []).length} exec rows, none with ${marker})`);
    assert.deepEqual(row.fields.argv, ['/bin/echo', 'hello', marker]);
    assert.equal(row.fields.filename, '/bin/echo');
    assert.ok(row.pid > 0 && row.n >= 1 && Math.abs(row.t - Date.now()) < 60_000, JSON.stringify(row));

    // A bad spec: refused with a reason, the good probe keeps running.
    const bad = await a.request('events:add', { spec: 'tracepoint:nosuchcat:nosuchtp' });
    assert.equal(bad.ok, false);
    assert.match(bad.ok ? '' : bad.error, /nosuchcat:nosuchtp/);
    const badField = await a.request('events:add', { spec: 'tracepoint:sched:sched_switch(no_such_field)' });
    assert.equal(badField.ok, false);
    assert.match(badField.ok ? '' : badField.error, /no_such_field/);
    const malformed = await a.request('events:add', { spec: 'uprobe:' });
    assert.equal(malformed.ok, false);
    assert.match(malformed.ok ? '' : malformed.error, /bad spec/);
    const noBinary = await a.request('events:add', { spec: 'usdt:/no/such/binary:p:n' });
    assert.equal(noBinary.ok, false);
    assert.match(noBinary.ok ? '' : noBinary.error, /no\/such\/binary/);
    assert.equal((await a.request('events:add', { spec: 'exec', pid: 'x' })).ok, false);
    assert.deepEqual(a.list!.probes.map((p) => [p.id, p.state]), [[added.id, 'running']]);
    const before = (a.rows.get(added.id) ?? []).length;
    spawnSync('/bin/true', [], { stdio: 'ignore' });
    await a.until(() => (a.rows.get(added.id) ?? []).length > before, 'rows after the refusals');

    // The same probe twice is refused.
    const twin = await a.request('events:add', { spec: 'exec' });
    assert.match(twin.ok ? '' : twin.error, new RegExp(`already live as ${added.id}`));

    // Remove: the collector is stopped, no BPF or perf_event fd left.
    assert.deepEqual(await a.request('events:remove', { id: added.id }), { ok: true });
    assert.deepEqual(newFds(fdsBefore, bpfFds()), [], 'no BPF fd left once removed');
    await a.until(() => a.list!.probes.length === 0, 'the empty list');
    const again = await a.request('events:remove', { id: added.id });
    assert.equal(again.ok, false);
  } finally {
    a.close();
    await h.close();
  }
  assert.deepEqual(newFds(fdsBefore, bpfFds()), []);
});

test('usdt rows carry the arguments; a viewer that does not ack is not queued for: it gets the newest rows and the count it missed', async (t) => {
  if (!kernelTestGate(t, ['uprobes'])) return;
  const bin = usdtList();
  const child = await startUsdtList();
  const h = await startHub({ batchRows: 20, ringRows: 50 });
  const a = new Viewer(h.url);
  const slow = new Viewer(h.url);
  try {
    await a.until(() => a.list !== undefined, 'list');
    const added = value(await a.request<EventsAdded>('events:add', { spec: `usdt:${bin}:pbtest:start`, pid: child.pid }), 'add usdt');
    await a.until(() => (a.rows.get(added.id) ?? []).length >= 5, 'usdt rows');
    for (const r of a.rows.get(added.id)!) {
      assert.equal(r.pid, child.pid);
      assert.equal(r.fields.arg1, (r.fields.arg0 as number) * 1000, JSON.stringify(r.fields));
    }

    // The slow viewer holds its acks: no more batches come to it until it acks.
    slow.stall = true;
    await slow.until(() => slow.stalled.length === 1, 'the first batch');
    const got = slow.batches.get(added.id)!.length;
    // The acking viewer's batches mark the intervals (100 ms each) in which the slow one had rows too.
    const aBatches = a.batches.get(added.id)!.length;
    await a.until(() => a.batches.get(added.id)!.length >= aBatches + 8, 'eight more batches to the acking viewer');
    assert.equal(slow.batches.get(added.id)!.length, got, 'nothing sent while a batch is unacknowledged');
    slow.stall = false;
    const totalBefore = slow.batches.get(added.id)!.at(-1)!.total;
    slow.stalled.splice(0).forEach((ack) => ack());
    await slow.until(() => slow.batches.get(added.id)!.length > got, 'the next batch');
    const next = slow.batches.get(added.id)!.at(-1)!;
    assert.ok(next.rows.length <= 20, `${next.rows.length} rows in one batch`);
    assert.equal(next.skipped + next.rows.length, next.total - totalBefore, 'rows sent + skipped = rows produced since');
    assert.equal(next.rows.at(-1)!.n, next.total, 'the newest rows');
    // The rate agrees with the totals: the workload fires at most 100 a second (one every
    // 10 ms; fewer on a slow or loaded machine, e.g. the emulated test VM), and perSecond must
    // match what the totals grew by over the same time, measured here.
    await a.until(() => (a.batches.get(added.id)!.at(-1)!.perSecond ?? 0) > 0, 'a rate', 4000);
    const first = { total: a.batches.get(added.id)!.at(-1)!.total, at: Date.now(), batches: a.batches.get(added.id)!.length };
    // About 2 s of batches (100 ms each; fewer a second on a loaded machine, which the measured time follows).
    await a.until(() => a.batches.get(added.id)!.length >= first.batches + 20, 'twenty more batches', 10_000);
    const last = a.batches.get(added.id)!.at(-1)!;
    const observed = ((last.total - first.total) * 1000) / (Date.now() - first.at);
    assert.ok(last.perSecond > 0 && last.perSecond <= 110, `perSecond ${last.perSecond} (at most 100 fire a second)`);
    assert.ok(Math.abs(last.perSecond - observed) <= observed * 0.5 + 5, `perSecond ${last.perSecond} vs ${observed.toFixed(1)} measured from the totals`);

    // The process exits: the probe ends, its rows stay.
    child.kill('SIGKILL');
    await a.until(() => a.list!.probes[0]?.state === 'ended', 'ended', 5000);
    assert.match(a.list!.probes[0].error ?? '', /exited/);
    assert.deepEqual(await a.request('events:remove', { id: added.id }), { ok: true });
  } finally {
    child.kill('SIGKILL');
    a.close();
    slow.close();
    await h.close();
  }
});

test('a flood: every event is accounted for (rows + lost + dropped = fired), every viewer gets rows + skipped = total, batches stay capped', async (t) => {
  if (!kernelTestGate(t, ['uprobes'])) return;
  const target = (floodBin ??= compileWorkload('events-target', ['events-target.c']));
  const FIRED = 300_000;
  const h = await startHub({ batchRows: 1000, ringRows: 2000 });
  const a = new Viewer(h.url);
  try {
    await a.until(() => a.list !== undefined, 'list');
    const added = value(await a.request<EventsAdded>('events:add', { spec: `usdt:${target.path}:pbev:flood` }), 'add flood');
    const producer = spawn(target.path, ['flood', String(FIRED)], { stdio: 'ignore' });
    await new Promise((resolve) => producer.once('exit', resolve));
    const accounted = () => {
      const p = a.list!.probes.find((x) => x.id === added.id);
      return p ? p.total + p.lost + p.dropped : 0;
    };
    await a.until(() => accounted() === FIRED, `total + lost + dropped = ${FIRED}`, 10_000).catch(() => undefined);
    const info = a.list!.probes.find((x) => x.id === added.id)!;
    assert.equal(info.total + info.lost + info.dropped, FIRED, JSON.stringify(info));
    await a.until(() => a.batches.get(added.id)?.at(-1)?.total === info.total, 'the last batch', 5000);
    const batches = a.batches.get(added.id)!;
    const rows = batches.reduce((sum, b) => sum + b.rows.length, 0);
    const skipped = batches.reduce((sum, b) => sum + b.skipped, 0);
    assert.equal(rows + skipped, info.total, 'rows + skipped = rows produced');
    assert.ok(batches.every((b) => b.rows.length <= 1000), `batches capped at 1000 rows (largest ${Math.max(...batches.map((b) => b.rows.length))})`);
    assert.ok(rows > 0, `rows arrived (${rows} in ${batches.length} batches)`);
    // Row numbers only grow: newest rows, no repeats.
    const ns = a.rows.get(added.id)!.map((r) => r.n);
    const notIncreasing = ns.findIndex((n, i) => i > 0 && n <= ns[i - 1]);
    assert.equal(notIncreasing, -1, `row numbers increase (row ${notIncreasing}: ${ns[notIncreasing]} after ${ns[notIncreasing - 1]})`);
  } finally {
    a.close();
    await h.close();
  }
});

test('discovery: tracepoints, processes, objects, symbols, usdt; malformed payloads get error replies', async (t) => {
  if (!kernelTestGate(t, ['tracepoints'])) return;
  const bin = usdtList();
  const child = await startUsdtList();
  const h = await startHub();
  const a = new Viewer(h.url);
  try {
    const tps = value(await a.request<DiscoveryList<DiscoveredTracepoint>>('discover:tracepoints', { glob: 'sched:sched_sw*' }), 'tracepoints');
    assert.ok(tps.items.some((x) => x.id === 'sched:sched_switch'), JSON.stringify(tps));
    const all = value(await a.request<DiscoveryList<DiscoveredTracepoint>>('discover:tracepoints', {}), 'all tracepoints');
    assert.equal(all.items.length, 200, 'capped');
    assert.ok(all.total > 200, `total ${all.total}`);

    const procs = value(await a.request<DiscoveryList<DiscoveredProcess>>('discover:processes', { query: String(child.pid) }), 'processes');
    const me = procs.items.find((p) => p.pid === child.pid);
    assert.ok(me, JSON.stringify(procs));
    assert.equal(me.exe, bin);
    assert.match(me.cmdline, /wait/);

    const objects = value(await a.request<DiscoveryList<DiscoveredObject>>('discover:objects', { pid: child.pid }), 'objects');
    assert.ok(objects.items.some((o) => o.path === bin && o.executable), JSON.stringify(objects));
    assert.ok(objects.items.some((o) => /libc/.test(o.path)), JSON.stringify(objects));

    const byPid = value(await a.request<DiscoveryList<DiscoveredUsdt>>('discover:usdt', { pid: child.pid }), 'usdt by pid');
    const names = byPid.items.filter((p) => p.binary === bin).map((p) => `${p.provider}:${p.name}`).sort();
    assert.deepEqual(names, ['pbtest:message', 'pbtest:noargs', 'pbtest:start', 'pbtest:withsem']);
    const byBinary = value(await a.request<DiscoveryList<DiscoveredUsdt>>('discover:usdt', { binary: bin }), 'usdt by binary');
    const start = byBinary.items.find((p) => p.name === 'start')!;
    assert.equal(start.spec, `usdt:${bin}:pbtest:start`);
    assert.equal(start.args.length, 2);
    assert.equal(byBinary.items.find((p) => p.name === 'withsem')!.semaphore, true);

    const symbols = value(await a.request<DiscoveryList<DiscoveredSymbol>>('discover:symbols', { binary: bin, glob: 'ma*' }), 'symbols');
    assert.ok(symbols.items.some((s) => s.symbol === 'main' && s.spec === `uprobe:${bin}:main`), JSON.stringify(symbols));

    // Malformed or impossible requests: an error naming what is wrong, the connection carries on.
    const refusals: [string, unknown, RegExp][] = [
      ['discover:tracepoints', 'sched', /discover:tracepoints takes \{glob\?\}, got "sched"/],
      ['discover:tracepoints', { glob: 7 }, /glob must be a string/],
      ['discover:tracepoints', { glob: 'x', extra: 1 }, /unknown field "extra"/],
      ['discover:processes', { query: 'a'.repeat(1000) }, /longer than/],
      ['discover:objects', { pid: -1 }, /pid/],
      ['discover:objects', { pid: 4194000 }, /no process with pid 4194000/],
      ['discover:symbols', { glob: 'x' }, /binary is required/],
      ['discover:symbols', { binary: '/no/such/file' }, /\/no\/such\/file/],
      ['discover:symbols', { binary: '/etc/passwd' }, /not an ELF file/],
      ['discover:usdt', {}, /exactly one of binary or pid/],
      ['discover:usdt', { binary: bin, pid: child.pid }, /exactly one/],
      ['discover:usdt', { pid: 1.5 }, /pid/],
    ];
    for (const [event, payload, expected] of refusals) {
      const reply = await a.request(event, payload);
      assert.equal(reply.ok, false, `${event} ${JSON.stringify(payload)}`);
      assert.match(reply.ok ? '' : reply.error, expected, `${event} ${JSON.stringify(payload)}`);
    }
    assert.ok(a.socket.connected, 'still connected');
  } finally {
    child.kill('SIGKILL');
    a.close();
    await h.close();
  }
});
