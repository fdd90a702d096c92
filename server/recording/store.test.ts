import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { DATABASE_FILE, RecordingStore, SCHEMA_VERSION, type RecordedUpdate, type RecordingInfo } from './store.ts';

const root = mkdtempSync(join(tmpdir(), 'probeboard-recording-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
/** A data directory that does not exist yet. */
function dataDir(): string {
  return join(root, `data-${++dirs}`);
}

function flame(i: number): unknown {
  // Large enough (several KiB of JSON) to be stored deflated.
  return { n: 'all', v: i, c: Array.from({ length: 60 }, (_, j) => ({ n: `frame_${j}`, v: j + i, k: 'u' })) };
}

test('updates round-trip in time order, filtered by kind and time range', () => {
  const store = RecordingStore.open(dataDir());
  try {
    const info = store.startRecording({ sessionId: 'session-1', name: '  first run  ', startedAtMs: 1_000 });
    assert.match(info.id, /^[A-Za-z0-9_-]{22}$/);
    assert.equal(info.name, 'first run');
    assert.equal(info.endedAtMs, null);
    const appended: RecordedUpdate[] = [];
    for (let i = 0; i < 200; i++) {
      // Three kinds; every 10th update carries a big, compressible payload; times go 1000, 1005, …
      const kind = ['profile.interval', 'latency.frame', 'events.batch'][i % 3]!;
      const update = { tMs: 1_000 + 5 * i, kind, payload: i % 10 === 0 ? flame(i) : { i, text: 'é✓', list: [i, null, true] } };
      appended.push(update);
      assert.equal(store.append(info.id, update), true);
    }
    // Out of order and equal times: read back by time, ties in the order appended.
    store.append(info.id, { tMs: 1_002, kind: 'profile.status', payload: 'late' });
    store.append(info.id, { tMs: 1_002, kind: 'profile.status', payload: 'later' });

    const all = [...store.readUpdates(info.id)];
    assert.equal(all.length, 202);
    assert.deepEqual(all.slice(0, 4).map((u) => [u.tMs, u.payload]), [
      [1_000, appended[0]!.payload],
      [1_002, 'late'],
      [1_002, 'later'],
      [1_005, appended[1]!.payload],
    ]);
    assert.deepEqual(all.filter((u) => u.kind !== 'profile.status'), appended);

    const latency = [...store.readUpdates(info.id, { kinds: ['latency.frame'], fromMs: 1_100, toMs: 1_400 })];
    assert.deepEqual(
      latency,
      appended.filter((u) => u.kind === 'latency.frame' && u.tMs >= 1_100 && u.tMs <= 1_400),
    );
    assert.ok(latency.length > 10, `the range holds several latency frames (${latency.length})`);
    assert.deepEqual([...store.readUpdates(info.id, { kinds: [] })], []);
    assert.deepEqual([...store.readUpdates(info.id, { fromMs: 2_000, toMs: 1_000 })], []);

    const stopped = store.stopRecording(info.id, 2_500);
    assert.equal(stopped.endedAtMs, 2_500);
    assert.equal(stopped.updates, 202);
    assert.equal(stopped.stoppedReason, null);
    assert.equal(stopped.lastUpdateAtMs, 1_995);
    assert.ok(stopped.bytes > 0, `a stopped recording has a size (${stopped.bytes} bytes)`);
    const raw = appended.reduce((sum, u) => sum + JSON.stringify(u.payload).length + u.kind.length, 0);
    assert.ok(stopped.bytes < raw * 0.8, `big payloads are stored deflated (${stopped.bytes} of ${raw} bytes)`);
    assert.equal(store.append(info.id, { tMs: 3_000, kind: 'x', payload: 1 }), false, 'a stopped recording takes no more updates');
    assert.deepEqual(store.listRecordings(), [stopped]);
  } finally {
    store.close();
  }
});

test('the iterator may be consumed slowly while appends and flushes go on', () => {
  const store = RecordingStore.open(dataDir(), { flushRows: 1 });
  try {
    const { id } = store.startRecording({ sessionId: 's', name: 'slow reader', startedAtMs: 0 });
    for (let i = 0; i < 100; i++) store.append(id, { tMs: i, kind: 'k', payload: i });
    const iterator = store.readUpdates(id)[Symbol.iterator]();
    const seen: unknown[] = [];
    for (let i = 0; i < 150; i++) {
      const next = iterator.next();
      if (next.done) break;
      seen.push(next.value.payload);
      store.append(id, { tMs: 1_000 + i, kind: 'k', payload: 1_000 + i }); // flushed at once (flushRows 1)
    }
    assert.equal(seen.length, 150);
    assert.deepEqual(seen.slice(0, 100), Array.from({ length: 100 }, (_, i) => i));
  } finally {
    store.close();
  }
});

test('buffered appends are written by the flush timer', (t) => {
  // The store's flush is a setTimeout: mocked, so the test moves time instead of waiting for it.
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const dir = dataDir();
  const store = RecordingStore.open(dir, { flushIntervalMs: 20 });
  const reader = new Database(join(dir, DATABASE_FILE), { readonly: true });
  try {
    const { id } = store.startRecording({ sessionId: 's', name: 'timer', startedAtMs: 0 });
    store.append(id, { tMs: 1, kind: 'k', payload: 1 });
    const count = reader.prepare('SELECT count(*) FROM updates').pluck();
    assert.equal(count.get(), 0, 'buffered, not yet written');
    t.mock.timers.tick(19);
    assert.equal(count.get(), 0, 'still buffered 1 ms before the 20 ms flush interval');
    t.mock.timers.tick(1);
    assert.equal(count.get(), 1, 'written once the 20 ms flush interval passed');
  } finally {
    reader.close();
    store.close();
  }
});

test('reopening keeps recordings and snapshots; the directory is 0700 and the file 0600', () => {
  const dir = dataDir();
  let store = RecordingStore.open(dir);
  const { id } = store.startRecording({ sessionId: 's', name: 'kept', startedAtMs: 10 });
  store.append(id, { tMs: 11, kind: 'a', payload: { x: 1 } });
  store.append(id, { tMs: 12, kind: 'b', payload: flame(3) });
  const stopped = store.stopRecording(id, 20);
  const snapshot = store.pinSnapshot({ sessionId: 's', name: 'pinned', kind: 'flame', takenAtMs: 15, payload: flame(4) });
  // Left recording: closing ends it with a reason.
  const open = store.startRecording({ sessionId: 's', name: 'left open', startedAtMs: 30 });
  store.append(open.id, { tMs: 31, kind: 'a', payload: 1 });
  store.close();
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.equal(statSync(join(dir, DATABASE_FILE)).mode & 0o777, 0o600);

  store = RecordingStore.open(dir);
  try {
    assert.deepEqual(store.getRecording(id), stopped);
    assert.deepEqual([...store.readUpdates(id)], [
      { tMs: 11, kind: 'a', payload: { x: 1 } },
      { tMs: 12, kind: 'b', payload: flame(3) },
    ]);
    assert.deepEqual(store.getSnapshot(snapshot.id), { info: snapshot, payload: flame(4) });
    const closed = store.getRecording(open.id);
    assert.equal(closed.endedAtMs, 31);
    assert.equal(closed.updates, 1);
    assert.match(closed.stoppedReason ?? '', /^closed: /);
    assert.deepEqual(store.listRecordings().map((r) => r.id), [open.id, id], 'newest first');
  } finally {
    store.close();
  }
  assert.throws(() => store.listRecordings(), /the recording store is closed/);
  store.close(); // idempotent
});

test('a crash loses only the updates not yet flushed; the recording is marked interrupted', () => {
  const dir = dataDir();
  const storeUrl = new URL('./store.ts', import.meta.url).href;
  const script = `
    import { RecordingStore } from ${JSON.stringify(storeUrl)};
    const store = RecordingStore.open(${JSON.stringify(dir)});
    const { id } = store.startRecording({ sessionId: 's', name: 'crash', startedAtMs: 100 });
    for (let i = 0; i < 3; i++) store.append(id, { tMs: 101 + i, kind: 'k', payload: i });
    store.flush();
    for (let i = 3; i < 5; i++) store.append(id, { tMs: 101 + i, kind: 'k', payload: i });
    process.kill(process.pid, 'SIGKILL');
  `;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    encoding: 'utf8',
  });
  assert.equal(child.signal, 'SIGKILL', child.stderr);
  const store = RecordingStore.open(dir);
  try {
    const [info] = store.listRecordings();
    assert.ok(info, `the interrupted recording is listed (${JSON.stringify(store.listRecordings())})`);
    assert.equal(info.updates, 3);
    assert.equal(info.endedAtMs, 103);
    assert.match(info.stoppedReason ?? '', /^interrupted: /);
    assert.deepEqual([...store.readUpdates(info.id)].map((u) => u.payload), [0, 1, 2]);
  } finally {
    store.close();
  }
});

test('a database of a newer schema version is refused', () => {
  const dir = dataDir();
  RecordingStore.open(dir).close();
  const db = new Database(join(dir, DATABASE_FILE));
  db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  db.close();
  assert.throws(
    () => RecordingStore.open(dir),
    (error: Error) => error.message.includes(join(dir, DATABASE_FILE)) && /written by a newer probeboard \(schema version 2; this one reads up to 1\)/.test(error.message),
  );
});

test('a file that is not a probeboard database is refused', () => {
  for (const content of ['hello, this is not a database\n'.repeat(20), 'tiny']) {
    const dir = dataDir();
    RecordingStore.open(dir).close();
    rmSync(join(dir, DATABASE_FILE));
    rmSync(join(dir, `${DATABASE_FILE}-wal`), { force: true });
    rmSync(join(dir, `${DATABASE_FILE}-shm`), { force: true });
    writeFileSync(join(dir, DATABASE_FILE), content);
    assert.throws(() => RecordingStore.open(dir), /probeboard\.db is not a probeboard database \(not an SQLite file\)/);
  }
  // An SQLite database of another application.
  const other = dataDir();
  RecordingStore.open(other).close();
  rmSync(join(other, DATABASE_FILE));
  const db = new Database(join(other, DATABASE_FILE));
  db.exec('CREATE TABLE notes (body TEXT)');
  db.close();
  assert.throws(() => RecordingStore.open(other), /is not a probeboard database \(an SQLite file of another application/);
});

test('the size limit stops the recording and saves the reason', () => {
  const stoppedByStore: RecordingInfo[] = [];
  const store = RecordingStore.open(dataDir(), { maxRecordingBytes: 1_000, onRecordingStopped: (info) => stoppedByStore.push(info) });
  try {
    const { id } = store.startRecording({ sessionId: 's', name: 'capped', startedAtMs: 0 });
    let accepted = 0;
    while (store.append(id, { tMs: 10 + accepted, kind: 'events.batch', payload: { row: accepted, text: 'x'.repeat(80) } })) accepted++;
    assert.ok(accepted >= 9 && accepted < 12, `about 1000 bytes of ~100-byte updates (${accepted})`);
    const info = store.getRecording(id);
    assert.equal(info.updates, accepted);
    assert.ok(info.bytes <= 1_000, `a capped recording stays within its 1000 bytes (${info.bytes})`);
    assert.equal(info.endedAtMs, 10 + accepted - 1);
    assert.match(info.stoppedReason ?? '', /^size limit: .*would exceed the limit of 1000 bytes/);
    assert.deepEqual(stoppedByStore, [info]);
    assert.equal([...store.readUpdates(id)].length, accepted, 'what fit is kept');
    assert.equal(store.append(id, { tMs: 100, kind: 'k', payload: 1 }), false);
    assert.deepEqual(store.stopRecording(id, 200), info, 'stopping again changes nothing');
  } finally {
    store.close();
  }
});

test('the number of recordings is limited', () => {
  const store = RecordingStore.open(dataDir(), { maxRecordings: 2 });
  try {
    const first = store.startRecording({ sessionId: 's', name: 'one', startedAtMs: 0 });
    store.startRecording({ sessionId: 's', name: 'two', startedAtMs: 0 });
    assert.throws(
      () => store.startRecording({ sessionId: 's', name: 'three', startedAtMs: 0 }),
      /cannot start recording "three": the store already holds 2 recordings \(the limit is 2\)/,
    );
    store.deleteRecording(first.id);
    store.startRecording({ sessionId: 's', name: 'three', startedAtMs: 0 });
  } finally {
    store.close();
  }
});

test('delete removes a recording and its updates; unknown ids are named', () => {
  const store = RecordingStore.open(dataDir());
  try {
    const { id } = store.startRecording({ sessionId: 's', name: 'doomed', startedAtMs: 0 });
    for (let i = 0; i < 50; i++) store.append(id, { tMs: i, kind: 'k', payload: flame(i) });
    store.deleteRecording(id);
    assert.deepEqual(store.listRecordings(), []);
    for (const call of [
      () => store.getRecording(id),
      () => store.append(id, { tMs: 1, kind: 'k', payload: 1 }),
      () => store.readUpdates(id),
      () => store.stopRecording(id, 1),
      () => store.deleteRecording(id),
    ]) {
      assert.throws(call, new RegExp(`unknown recording "${id}"`));
    }
  } finally {
    store.close();
  }
});

test('invalid requests and updates are refused with a clear error', () => {
  const store = RecordingStore.open(dataDir());
  try {
    assert.throws(() => store.startRecording({ sessionId: '', name: 'x', startedAtMs: 0 }), /startRecording: sessionId must be a string of 1 to 200 characters, got ""$/);
    assert.throws(() => store.startRecording({ sessionId: 's', name: 'x', startedAtMs: Number.NaN }), /startRecording: startedAtMs must be a time in ms since the epoch \(a finite number >= 0\), got NaN$/);
    assert.throws(() => store.startRecording({ sessionId: 's', name: '', startedAtMs: 0 }), /startRecording: name must be 1 to 80 characters \(it has 0\), got ""$/);
    const { id } = store.startRecording({ sessionId: 's', name: 'x', startedAtMs: 0 });
    assert.throws(() => store.append(id, { tMs: -1, kind: 'k', payload: 1 }), /: tMs must be a time in ms since the epoch \(a finite number >= 0\), got -1$/);
    assert.throws(() => store.append(id, { tMs: 1, kind: 'has space', payload: 1 }), /: kind must be 1 to 64 of A-Z a-z 0-9 \. _ : -, got "has space"$/);
    assert.throws(() => store.append(id, { tMs: 1, kind: 'k', payload: undefined }), /payload is not JSON-serialisable \(undefined\)/);
    assert.throws(() => store.append(id, { tMs: 1, kind: 'k', payload: { n: 1n } }), /update of kind "k": the payload is not JSON-serialisable: .*BigInt/);
    assert.throws(() => store.stopRecording(id, -5), /stopRecording: endedAtMs must be a time in ms since the epoch \(a finite number >= 0\), got -5$/);
    assert.throws(() => store.readUpdates(id, { kinds: ['ok', ''] }), /readUpdates: kinds\[1\] must be 1 to 64 of A-Z a-z 0-9 \. _ : -, got ""$/);
    assert.throws(() => store.readUpdates(id, { fromMs: Number.NaN }), /readUpdates: fromMs must be a number \(ms since the epoch\), got NaN$/);
    assert.throws(() => RecordingStore.open(dataDir(), { flushRows: 0 }), /option flushRows must be a positive integer/);
  } finally {
    store.close();
  }
});

test('snapshots: pin, list, get, delete; names validated', () => {
  const store = RecordingStore.open(dataDir(), { maxSnapshots: 3 });
  try {
    const a = store.pinSnapshot({ sessionId: 's1', name: 'before fix', kind: 'flame', takenAtMs: 100, payload: flame(1) });
    const b = store.pinSnapshot({ sessionId: 's1', name: 'p99 spike', kind: 'histogram', takenAtMs: 200, payload: { buckets: [1, 2, 3] } });
    const c = store.pinSnapshot({ sessionId: 's2', name: '🔥'.repeat(80), kind: 'flame', takenAtMs: 150, payload: [] });
    assert.match(a.id, /^[A-Za-z0-9_-]{22}$/);
    assert.notEqual(a.id, b.id);
    assert.deepEqual(b, { id: b.id, sessionId: 's1', name: 'p99 spike', kind: 'histogram', takenAtMs: 200, bytes: 19 });
    assert.deepEqual(store.listSnapshots(), [b, c, a]);
    assert.deepEqual(store.listSnapshots('s1'), [b, a]);
    assert.deepEqual(store.listSnapshots('nobody'), []);
    assert.deepEqual(store.getSnapshot(a.id), { info: a, payload: flame(1) });
    assert.equal(store.getSnapshot('no-such-id'), null);
    assert.throws(
      () => store.pinSnapshot({ sessionId: 's1', name: 'one more', kind: 'flame', takenAtMs: 1, payload: 1 }),
      /cannot pin snapshot "one more": the store already holds 3 snapshots \(the limit is 3\)/,
    );
    store.deleteSnapshot(a.id);
    assert.equal(store.getSnapshot(a.id), null);
    assert.throws(() => store.deleteSnapshot(a.id), new RegExp(`unknown snapshot "${a.id}"`));

    const pin = (name: unknown, kind: unknown = 'flame') =>
      store.pinSnapshot({ sessionId: 's1', name: name as string, kind: kind as 'flame', takenAtMs: 1, payload: 1 });
    assert.throws(() => pin(''), /pinSnapshot: name must be 1 to 80 characters \(it has 0\), got ""$/);
    assert.throws(() => pin('   '), /pinSnapshot: name must be 1 to 80 characters \(it has 0\), got "   "$/);
    assert.throws(() => pin('x'.repeat(81)), /pinSnapshot: name must be 1 to 80 characters \(it has 81\)/);
    assert.throws(() => pin('line\nbreak'), /pinSnapshot: name must be printable text: U\+000A at character 5 is a control character/);
    assert.throws(() => pin(42), /pinSnapshot: name must be a string, got 42$/);
    assert.throws(() => pin('ok', 'heatmap'), /pinSnapshot: kind must be one of flame, histogram, got "heatmap"$/);
    assert.throws(
      () => store.pinSnapshot({ sessionId: 's1', name: 'ok', kind: 'flame', takenAtMs: 1, payload: () => 1 }),
      /snapshot "ok": the payload is not JSON-serialisable/,
    );
  } finally {
    store.close();
  }
});

test('a read-only open (the CLI) reads what a running writer stored, marks nothing interrupted and writes nothing', () => {
  const dir = dataDir();
  assert.throws(() => RecordingStore.open(dir, { readOnly: true }), /no recordings database/);
  const writer = RecordingStore.open(dir);
  try {
    const recording = writer.startRecording({ sessionId: 'main', name: 'live', startedAtMs: 1000 });
    writer.append(recording.id, { tMs: 1100, kind: 'profile.interval', payload: { n: 1 } });
    writer.flush();
    const reader = RecordingStore.open(dir, { readOnly: true });
    try {
      const seen = reader.getRecording(recording.id);
      assert.equal(seen.endedAtMs, null, 'still running: not marked interrupted by the reader');
      assert.deepEqual([...reader.readUpdates(recording.id)].map((u) => u.payload), [{ n: 1 }]);
      assert.throws(() => reader.startRecording({ sessionId: 'main', name: 'x', startedAtMs: 1 }), /readonly|read-only/i);
    } finally {
      reader.close();
    }
    assert.equal(writer.getRecording(recording.id).endedAtMs, null, 'the writer carries on');
    writer.append(recording.id, { tMs: 1200, kind: 'profile.interval', payload: { n: 2 } });
    writer.stopRecording(recording.id, 1300);
  } finally {
    writer.close();
  }
});
