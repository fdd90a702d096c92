import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kernelTestGate, openFds, newFds } from '../testing/kernel.ts';
import { LatencyProbeSet } from './latency-probes.ts';
import type { LatencyProbeFrame } from '../../lib/latency-view.ts';

const bpfFds = () => [...openFds().values()].filter((t) => /bpf|perf_event/.test(t)).length;

test('several probes live at once; a bad one changes nothing; remove detaches at once', async (t) => {
  if (!kernelTestGate(t, ['tracepoints', 'uprobes'])) return;
  const before = openFds();
  const set = new LatencyProbeSet({ intervalMs: 300 });
  try {
    const a = set.add('syscall:nanosleep');
    const b = set.add('uprobe:c:nanosleep');
    const bad = set.add('uprobe:/nonexistent/x:f');
    assert.ok(a.ok && b.ok, 'a.ok && b.ok');
    assert.deepEqual(bad, { ok: false, error: 'binary /nonexistent/x not found', kind: 'input' });
    assert.equal(set.list().length, 2);

    const frames: LatencyProbeFrame[] = [];
    set.onFrame((f) => frames.push(f));
    await new Promise((r) => setTimeout(r, 800));
    const ids = new Set(frames.map((f) => f.id));
    assert.ok(a.ok && ids.has(a.id) && b.ok && ids.has(b.id), `frames from both probes: ${[...ids]}`);
    assert.ok(frames.every((f) => f.columns.length >= 1), 'frames.every((f) => f.columns.length >= 1)');

    const fdsWithTwo = bpfFds();
    assert.ok(a.ok && set.remove(a.id), 'a.ok && set.remove(a.id)');
    assert.ok(bpfFds() < fdsWithTwo, 'removing a probe closes its BPF fds at once');
    assert.equal(set.list().length, 1);
    assert.equal(set.remove('nope'), false);
  } finally {
    set.close();
  }
  assert.deepEqual(newFds(before, openFds()).filter((f) => /bpf|perf_event/.test(f)), []);
});
