/** RingBuffer with a real producer: bpf/selftest.bpf.c reports samples of this process. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { BpfObject } from './object.ts';
import { PerfEvent, onlineCpus } from './perf-event.ts';
import { RingBuffer } from './ringbuf.ts';
import { kernelTestGate, newFds, openFds } from '../testing/kernel.ts';

const SELFTEST = fileURLToPath(new URL('../../bpf/obj/selftest.bpf.o', import.meta.url));

function spin(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // busy: this process gets sampled
  }
}

test('records arrive in order through consume on a timer; close releases everything', async (t) => {
  if (!kernelTestGate(t, ['btf', 'perf_events', 'ringbuf'])) return;
  const fdsBefore = openFds();
  const object = BpfObject.open(SELFTEST);
  object.setRodata({ targ_pid: process.pid });
  object.load();
  const program = object.program('pb_selftest_ringbuf');
  for (const cpu of onlineCpus()) program.attachPerfEvent(PerfEvent.openCpuClock(cpu, 499));
  const records: { pid: number; cpu: number; seq: bigint }[] = [];
  const ring = new RingBuffer(object.map('pb_selftest_rb'), (record) => {
    records.push({ pid: record.readUInt32LE(0), cpu: record.readUInt32LE(4), seq: record.readBigUInt64LE(8) });
  }, { intervalMs: 20 });
  try {
    for (let i = 0; i < 4; i++) {
      spin(100);
      await sleep(25); // let the timer run
    }
    ring.consume();
    assert.ok(records.length >= 20, `about 200 samples at 499 Hz over 400 ms of spinning, got ${records.length}`);
    assert.deepEqual([...new Set(records.map((r) => r.pid))], [process.pid], 'every record is from this process');
    // The ring keeps reservation order. The program reserves, then numbers the record: two threads
    // of this process sampled at once on two CPUs may number theirs the other way round, so order
    // is asserted per CPU (one CPU runs one program at a time), and no record is lost or doubled.
    const seqs = records.map((r) => r.seq);
    assert.equal(new Set(seqs).size, seqs.length, `every record once: ${seqs.length} records, ${new Set(seqs).size} distinct`);
    for (const cpu of new Set(records.map((r) => r.cpu))) {
      const onCpu = records.filter((r) => r.cpu === cpu).map((r) => r.seq);
      assert.deepEqual(onCpu, [...onCpu].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), `records of CPU ${cpu} in submission order`);
    }
    // An exception in the handler surfaces from consume() and does not wedge the ring buffer.
    const failing = new RingBuffer(object.map('pb_selftest_rb'), () => {
      throw new Error('handler failed');
    }, { intervalMs: 0 });
    spin(50);
    assert.throws(() => failing.consume(), /handler failed/);
    failing.close();
  } finally {
    ring.close();
    ring.close();
    object.close();
  }
  assert.deepEqual(newFds(fdsBefore, openFds()), []);
});
