/**
 * The collector process behind the hub's events and latency features (root): the same
 * features as in server/hub/*.kernel.test.ts, but every command and every row crosses the IPC
 * channel to a real collector process. A flood stays fully accounted for (rows + lost + dropped
 * = fired) across the process boundary; closing the backend ends the process and its probes.
 * Run: node --import tsx --test server/privileged/child.kernel.test.ts
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { startTestHub, TestViewer } from '../hub/testing.ts';
import { eventsFeature } from '../hub/events.ts';
import { discoveryFeature } from '../hub/discovery.ts';
import { kernelTestGate } from '../testing/kernel.ts';
import { compileWorkload, type Compiled } from '../probes/testing.ts';
import { startCollectorProcess } from './child.ts';
import type { EventBatch, EventProbeList, EventsAdded } from '../../lib/protocol-events.ts';

let floodBin: Compiled | undefined;
after(() => floodBin?.cleanup());

class Viewer extends TestViewer {
  list: EventProbeList | undefined;
  batches: EventBatch[] = [];
  constructor(url: string) {
    super(url);
    this.socket.on('events:probes', (list: EventProbeList) => {
      this.list = list;
      this.notify();
    });
    this.socket.on('events:batch', (batch: EventBatch, ack: () => void) => {
      ack();
      this.batches.push(batch);
      this.notify();
    });
  }
}

const alive = (pid: number) => {
  try {
    return !/^State:\s*Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
};

test('an event flood through the collector process: every event accounted for; closing the backend ends the process', async (t) => {
  if (!kernelTestGate(t, ['uprobes'])) return;
  const target = (floodBin ??= compileWorkload('events-target', ['events-target.c']));
  const FIRED = 300_000;
  const backend = await startCollectorProcess();
  assert.equal(backend.kind, 'process');
  assert.notEqual(backend.pid, process.pid);
  const h = await startTestHub([eventsFeature(backend.openEvents(), { intervalMs: 100, batchRows: 1000, ringRows: 2000 }), discoveryFeature(backend.discovery)]);
  const a = new Viewer(h.url);
  try {
    await a.until(() => a.list !== undefined, 'list');
    const tps = await a.request<{ total: number }>('discover:tracepoints', { glob: 'sched:sched_switch' });
    assert.ok(tps.ok && tps.value!.total === 1, JSON.stringify(tps));
    const reply = await a.request<EventsAdded>('events:add', { spec: `usdt:${target.path}:pbev:flood` });
    assert.ok(reply.ok, JSON.stringify(reply));
    const id = reply.value!.id;
    const producer = spawn(target.path, ['flood', String(FIRED)], { stdio: 'ignore' });
    await new Promise((resolve) => producer.once('exit', resolve));
    const accounted = () => {
      const p = a.list!.probes.find((x) => x.id === id);
      return p ? p.total + p.lost + p.dropped : 0;
    };
    await a.until(() => accounted() === FIRED, `total + lost + dropped = ${FIRED}`, 15_000).catch(() => undefined);
    const info = a.list!.probes.find((x) => x.id === id)!;
    assert.equal(info.total + info.lost + info.dropped, FIRED, JSON.stringify(info));
    assert.ok(info.total > 0, `rows crossed the channel (${JSON.stringify(info)})`);
    t.diagnostic(`rows ${info.total}, lost in the kernel ${info.lost}, dropped in the collector ${info.dropped}`);
    await a.until(() => a.batches.at(-1)?.total === info.total, 'the last batch', 5000);
    const rows = a.batches.reduce((sum, b) => sum + b.rows.length, 0);
    const skipped = a.batches.reduce((sum, b) => sum + b.skipped, 0);
    assert.equal(rows + skipped, info.total, 'rows + skipped = rows produced');
    assert.deepEqual(await a.request('events:remove', { id }), { ok: true });
  } finally {
    a.close();
    await h.close();
    await backend.close();
  }
  assert.equal(alive(backend.pid), false, 'the collector process ended with close()');
  await assert.rejects(backend.discovery.tracepoints(), /closed/);
});
