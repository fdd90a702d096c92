/**
 * The real profile program through the loader: open, set rodata, load, attach to every CPU,
 * read, close — and afterwards no fd, program or link of ours is left.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BpfObject } from './object.ts';
import { BpfMap } from './map.ts';
import { PerfEvent, onlineCpus } from './perf-event.ts';
import { PROFILE_OBJECT_PATH } from '../collectors/profile.ts';
import { decodeStack, decodeStackKey, encodeControl } from '../abi/profile.ts';
import { bpftoolShow, kernelTestGate, newFds, openFds } from '../testing/kernel.ts';
import { openResourceCount } from './lifetime.ts';

function spin(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // busy: this process gets sampled
  }
}

test('profile program: open, load, attach on every CPU, read, close leaves nothing behind', (t) => {
  if (!kernelTestGate(t, ['btf', 'perf_events'])) return;
  const fdsBefore = openFds();
  const progsBefore = bpftoolShow('prog').map((p) => p.id);
  const linksBefore = bpftoolShow('link').map((l) => l.id);
  const resourcesBefore = openResourceCount();

  const object = BpfObject.open(PROFILE_OBJECT_PATH);
  object.setRodata({ targ_pid: process.pid, filter_pid: true });
  object.load();
  const program = object.program('pb_profile');
  assert.ok(program.fd >= 0, `the program has an fd (${program.fd})`);
  const cpus = onlineCpus();
  const links = cpus.map((cpu) => program.attachPerfEvent(PerfEvent.openCpuClock(cpu, 199)));
  assert.equal(links.length, cpus.length);

  // The kernel sees our program and one link per CPU (perf links; older kernels attach by ioctl).
  const loaded = bpftoolShow('prog').filter((p) => !progsBefore.includes(p.id));
  assert.deepEqual(loaded.map((p) => p.name), ['pb_profile']);
  const newLinks = bpftoolShow('link').filter((l) => !linksBefore.includes(l.id));
  assert.equal(newLinks.length, cpus.length, 'one BPF perf link per CPU (Linux 5.15+)');
  assert.deepEqual(newLinks.map((l) => l.prog_id), newLinks.map(() => loaded[0].id), 'every new link is to the loaded program');

  spin(400);
  object.map('pb_control').update(Buffer.alloc(4), encodeControl(1));
  const counts = object.map('pb_counts0').drain();
  assert.equal(object.map('pb_counts0').batchSupported, true, 'hash maps are read with lookup_and_delete_batch (Linux 5.6+)');
  assert.ok(counts.keys.length > 0, 'samples of this busy process were counted');
  const keys = counts.keys.map(decodeStackKey);
  assert.ok(keys.every((key) => key.pid === process.pid), 'pid filter holds');
  const total = counts.values.reduce((sum, value) => sum + Number(value.readBigUInt64LE(0)), 0);
  assert.ok(total >= 20, `expected ~80 samples at 199 Hz over 400 ms, got ${total}`);
  const withStack = keys.find((key) => key.userStackId >= 0);
  assert.ok(withStack, 'some sample has a user stack');
  const id = Buffer.alloc(4);
  id.writeUInt32LE(withStack.userStackId, 0);
  const frames = decodeStack(object.map('pb_stacks0').lookup(id) ?? Buffer.alloc(0));
  // The leaf is the sampled user instruction pointer, always a user address. The frames above it
  // come from a frame-pointer walk the kernel does not validate: code built without frame
  // pointers (or the JIT mid-prologue) can leave any word there, so only the leaf is checked.
  assert.ok(frames.length >= 1, 'the user stack has at least its leaf');
  assert.ok(frames[0] > 0n && frames[0] < 0x800000000000n, `the leaf is a user address (got 0x${frames[0].toString(16)})`);
  assert.equal(object.map('pb_counts0').drain().keys.length, 0, 'drain cleared the map');

  object.close();
  assert.ok(links.every((link) => link.closed), 'closing the object destroyed its links');
  assert.equal(openResourceCount(), resourcesBefore);
  assert.deepEqual(newFds(fdsBefore, openFds()), [], 'no fd left open');
  assert.deepEqual(bpftoolShow('prog').filter((p) => !progsBefore.includes(p.id)), [], 'no program left loaded');
  assert.deepEqual(bpftoolShow('link').filter((l) => !linksBefore.includes(l.id)), [], 'no link left');
});

test('a link closed by hand detaches, and the object closes cleanly after', (t) => {
  if (!kernelTestGate(t, ['btf', 'perf_events'])) return;
  const fdsBefore = openFds();
  const object = BpfObject.open(PROFILE_OBJECT_PATH);
  object.load();
  const event = PerfEvent.openCpuClock(onlineCpus()[0], 99);
  const link = object.program('pb_profile').attachPerfEvent(event);
  assert.equal(event.fd, -1, 'the link owns the perf fd');
  link.close();
  link.close();
  object.close();
  object.close();
  assert.deepEqual(newFds(fdsBefore, openFds()), []);
});

test('map batch reads: snapshot in chunks smaller than a bucket keeps every entry, drain then empties the map', (t) => {
  if (!kernelTestGate(t, ['btf'])) return;
  const BPF_MAP_TYPE_HASH = 1;
  const map = BpfMap.create(BPF_MAP_TYPE_HASH, 'pb_test_batch', 4, 8, 1024);
  try {
    const written = new Map<number, bigint>();
    for (let k = 0; k < 700; k++) {
      const key = Buffer.alloc(4);
      key.writeUInt32LE(k * 7919);
      const value = Buffer.alloc(8);
      value.writeBigUInt64LE(BigInt(k) * 3n + 1n);
      map.update(key, value);
      written.set(k * 7919, BigInt(k) * 3n + 1n);
    }
    const read = (entries: { keys: Buffer[]; values: Buffer[] }) => new Map(entries.keys.map((key, i) => [key.readUInt32LE(0), entries.values[i].readBigUInt64LE(0)]));
    // chunk 1: any bucket with two entries forces the ENOSPC retry path
    const snapshot = read(map.snapshot(1));
    assert.deepEqual(snapshot, written, `snapshot read ${snapshot.size} of ${written.size} entries`);
    assert.equal(map.keys().length, written.size, 'a snapshot deletes nothing');
    const drained = read(map.drain());
    assert.deepEqual(drained, written, `drain read ${drained.size} of ${written.size} entries`);
    assert.equal(map.batchSupported, true);
    assert.equal(map.keys().length, 0, `entries left after drain: ${map.keys().length}`);
  } finally {
    map.close();
  }
});

test('map batch writes: updateBatch in chunks writes every entry; a key the map refuses throws', (t) => {
  if (!kernelTestGate(t, ['btf'])) return;
  const BPF_MAP_TYPE_ARRAY = 2;
  const map = BpfMap.create(BPF_MAP_TYPE_ARRAY, 'pb_test_upd', 4, 16, 100);
  try {
    const keys = Buffer.alloc(100 * 4);
    const values = Buffer.alloc(100 * 16);
    for (let i = 0; i < 100; i++) {
      keys.writeUInt32LE(99 - i, i * 4);
      values.writeBigUInt64LE(BigInt(i) * 1000n + 7n, i * 16);
      values.writeUInt32LE(i, i * 16 + 12);
    }
    map.updateBatch(keys, values, 100, 0, 7); // chunks of 7: the last one partial
    for (let i = 0; i < 100; i++) {
      const v = map.lookup(keys.subarray(i * 4, i * 4 + 4))!;
      assert.equal(v.readBigUInt64LE(0), BigInt(i) * 1000n + 7n, `entry ${99 - i}`);
      assert.equal(v.readUInt32LE(12), i);
    }
    // Index 100 is past the array: the kernel refuses it, and the error says so.
    const bad = Buffer.alloc(2 * 4);
    bad.writeUInt32LE(5, 0);
    bad.writeUInt32LE(100, 4);
    assert.throws(() => map.updateBatch(bad, Buffer.alloc(2 * 16), 2), /updating map pb_test_upd/);
    assert.throws(() => map.updateBatch(keys, values, 101), RangeError, 'fewer bytes than entries');
  } finally {
    map.close();
  }
});
