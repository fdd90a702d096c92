import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kernelTestGate, openFds, newFds } from '../testing/kernel.ts';
import { LatencyProbeSet, type LatencyReading } from './latency-probes.ts';

const bpfFds = () => [...openFds().values()].filter((t) => /bpf|perf_event/.test(t)).length;

test('several probes live at once; a bad one changes nothing; remove detaches at once', async (t) => {
  if (!kernelTestGate(t, ['tracepoints', 'uprobes'])) return;
  const before = openFds();
  const set = new LatencyProbeSet({ intervalMs: 300 });
  try {
    const a = set.add('syscall:nanosleep');
    const b = set.add('uprobe:c:nanosleep');
    const bad = set.add('uprobe:/nonexistent/x:f');
    assert.ok(a.ok && b.ok, `adds: ${JSON.stringify([a, b])}`);
    assert.deepEqual(bad, { ok: false, error: 'binary /nonexistent/x not found', kind: 'input' });
    assert.equal(set.list().length, 2);

    // Readings of both probes arrive (the set reads every 300 ms); waited for, not slept.
    const readings: LatencyReading[] = [];
    await new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error(`readings within 10 s came only from ${[...new Set(readings.map((r) => r.id))]}`)), 10_000);
      set.onReading((reading) => {
        readings.push(reading);
        const ids = new Set(readings.map((r) => r.id));
        if (a.ok && b.ok && ids.has(a.id) && ids.has(b.id)) {
          clearTimeout(deadline);
          resolve();
        }
      });
    });
    for (const { id, batch } of readings) {
      assert.equal(batch.probe, id === (a.ok && a.id) ? a.ok && a.spec : b.ok && b.spec, `reading of ${id} names its probe`);
      assert.ok(batch.endMs >= batch.startMs, `interval of ${id}: ${batch.startMs}..${batch.endMs} ms`);
    }

    const fdsWithTwo = bpfFds();
    assert.equal(a.ok && set.remove(a.id), true);
    assert.ok(bpfFds() < fdsWithTwo, 'removing a probe closes its BPF fds at once');
    assert.equal(set.list().length, 1);
    assert.equal(set.remove('nope'), false);
  } finally {
    set.close();
  }
  assert.deepEqual(newFds(before, openFds()).filter((f) => /bpf|perf_event/.test(f)), []);
});
