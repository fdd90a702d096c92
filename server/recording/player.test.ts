import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordingStore } from './store.ts';
import { RecordingPlayer, type PlayedUpdate, type RecordingPlayerOptions } from './player.ts';

/** A clock and timers that move only when told: `advance(ms)` runs due timers in time order. */
class FakeClock {
  private time = 0;
  private nextId = 0;
  private readonly timers = new Map<number, { at: number; callback: () => void }>();

  readonly now = (): number => this.time;
  readonly setTimeout = (callback: () => void, ms: number): unknown => {
    const id = ++this.nextId;
    this.timers.set(id, { at: this.time + Math.max(0, ms), callback });
    return id;
  };
  readonly clearTimeout = (handle: unknown): void => {
    this.timers.delete(handle as number);
  };

  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let due: [number, { at: number; callback: () => void }] | null = null;
      for (const entry of this.timers) {
        if (entry[1].at <= end && (!due || entry[1].at < due[1].at)) due = entry;
      }
      if (!due) break;
      this.timers.delete(due[0]);
      this.time = due[1].at;
      due[1].callback();
    }
    this.time = end;
  }

  get pending(): number {
    return this.timers.size;
  }
}

const root = mkdtempSync(join(tmpdir(), 'probeboard-player-'));
let store: RecordingStore;
/** Recording: starts at 10_000, updates at offsets 0, 100, 250, 1000 (kinds a, b, a, b), ends at 1500. */
let recordingId: string;
const START = 10_000;
const OFFSETS = [0, 100, 250, 1_000];

before(() => {
  store = RecordingStore.open(join(root, 'data'));
  recordingId = store.startRecording({ sessionId: 's', name: 'replay me', startedAtMs: START }).id;
  OFFSETS.forEach((offset, i) => store.append(recordingId, { tMs: START + offset, kind: i % 2 ? 'b' : 'a', payload: { i } }));
  store.stopRecording(recordingId, START + 1_500);
});
after(() => {
  store.close();
  rmSync(root, { recursive: true, force: true });
});

/** A player on a fake clock that logs [clock ms, offset] of every update and 'end'. */
function harness(options: Partial<RecordingPlayerOptions> = {}, id = recordingId) {
  const clock = new FakeClock();
  const log: Array<[number, number | 'end']> = [];
  const updates: PlayedUpdate[] = [];
  const player = new RecordingPlayer(store, id, {
    now: clock.now,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    onUpdate: (update) => {
      log.push([clock.now(), update.offsetMs]);
      updates.push(update);
    },
    onEnd: () => log.push([clock.now(), 'end']),
    ...options,
  });
  return { clock, log, updates, player };
}

for (const speed of [1, 2, 4]) {
  test(`at ${speed}x updates arrive at their relative times divided by ${speed}, then the end`, () => {
    const { clock, log, updates, player } = harness({ speed });
    assert.equal(player.durationMs, 1_500);
    assert.equal(player.state, 'paused');
    player.play();
    clock.advance(10_000);
    assert.deepEqual(log, [...OFFSETS.map((offset) => [offset / speed, offset]), [1_500 / speed, 'end']]);
    assert.deepEqual(updates.map((u) => [u.tMs, u.kind, u.payload]), [
      [START, 'a', { i: 0 }],
      [START + 100, 'b', { i: 1 }],
      [START + 250, 'a', { i: 2 }],
      [START + 1_000, 'b', { i: 3 }],
    ]);
    assert.equal(player.state, 'ended');
    assert.equal(player.position(), 1_500);
    assert.equal(clock.pending, 0, 'no timer left');
  });
}

test('pause keeps the position; play resumes from it', () => {
  const { clock, log, player } = harness();
  player.play();
  clock.advance(120);
  assert.equal(player.position(), 120);
  player.pause();
  assert.equal(player.state, 'paused');
  clock.advance(5_000);
  assert.equal(player.position(), 120);
  assert.deepEqual(log, [[0, 0], [100, 100]]);
  player.play();
  clock.advance(130);
  assert.deepEqual(log.at(-1), [5_250, 250], 'the update at 250 comes 130 ms after resuming');
});

test('seek skips earlier updates, keeps playing, and restarts after the end', () => {
  const { clock, log, player } = harness({ speed: 2 });
  player.play();
  clock.advance(10);
  player.seek(900);
  assert.equal(player.position(), 900);
  clock.advance(50); // (1000 - 900) / 2
  assert.deepEqual(log, [[0, 0], [60, 1_000]]);
  clock.advance(1_000);
  assert.deepEqual(log.at(-1), [310, 'end']);

  // From the end, a seek pauses at the new place; play goes on from there.
  player.seek(200);
  assert.equal(player.state, 'paused');
  assert.equal(player.position(), 200);
  player.play();
  clock.advance(25);
  assert.deepEqual(log.at(-1), [1_085, 250]);
  // Seek beyond the end clamps; play after the end starts over.
  player.seek(99_999);
  assert.equal(player.position(), 1_500);
  clock.advance(0);
  assert.equal(player.state, 'ended');
  log.length = 0;
  player.play();
  clock.advance(750);
  assert.deepEqual(log, [[1_085, 0], [1_135, 100], [1_210, 250], [1_585, 1_000], [1_835, 'end']]);
});

test('setSpeed keeps the position and changes the pace', () => {
  const { clock, log, player } = harness();
  player.play();
  clock.advance(200);
  player.setSpeed(4);
  assert.equal(player.speed, 4);
  clock.advance(200); // recording ms 250 is 12.5 ms later, 1000 is 200 ms later
  assert.deepEqual(log, [[0, 0], [100, 100], [212.5, 250], [400, 1_000]]);
  assert.equal(player.position(), 1_000);
});

test('invalid speeds are refused', () => {
  for (const speed of [3, 0.5, 0, -1, Number.NaN, '2']) {
    assert.throws(() => harness({ speed: speed as number }), /playback speed must be one of 1x, 2x, 4x, not /);
  }
  const { player } = harness();
  assert.throws(() => player.setSpeed(8), /playback speed must be one of 1x, 2x, 4x, not 8/);
  assert.equal(player.speed, 1);
});

test('an unknown recording is refused, naming it', () => {
  assert.throws(() => harness({}, 'nope'), /unknown recording "nope"/);
});

test('kinds filter what is replayed', () => {
  const { clock, log, player } = harness({ kinds: ['b'] });
  player.play();
  clock.advance(2_000);
  assert.deepEqual(log, [[100, 100], [1_000, 1_000], [1_500, 'end']]);
});

test('stop cancels everything; the player refuses to go on', () => {
  const { clock, log, player } = harness();
  player.play();
  clock.advance(150);
  player.stop();
  assert.equal(player.state, 'stopped');
  assert.equal(clock.pending, 0);
  clock.advance(5_000);
  assert.deepEqual(log, [[0, 0], [100, 100]]);
  assert.equal(player.position(), 150);
  assert.throws(() => player.play(), /play: the player of recording ".+" is stopped/);
  assert.throws(() => player.seek(0), /is stopped/);
  player.stop();
});

test('onUpdate may pause the player', () => {
  const clock = new FakeClock();
  const seen: number[] = [];
  const player = new RecordingPlayer(store, recordingId, {
    now: clock.now,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    onUpdate: (update) => {
      seen.push(update.offsetMs);
      if (update.offsetMs === 100) player.pause();
    },
  });
  player.play();
  clock.advance(5_000);
  assert.deepEqual(seen, [0, 100]);
  assert.equal(player.position(), 100);
});

test('long recordings are read page by page and delivered in order', () => {
  const id = store.startRecording({ sessionId: 's', name: 'long', startedAtMs: 0 }).id;
  for (let i = 0; i < 500; i++) store.append(id, { tMs: i * 10, kind: 'k', payload: i });
  store.stopRecording(id, 5_000);
  const { clock, log, updates, player } = harness({ speed: 4 }, id);
  player.play();
  clock.advance(600); // 2400 ms of recording
  assert.equal(updates.length, 241);
  assert.deepEqual(log.filter(([at, offset]) => at !== (offset as number) / 4), [], 'each on time: at = offset / 4 (late or early ones listed)');
  clock.advance(10_000);
  assert.deepEqual(updates.map((u) => u.payload), Array.from({ length: 500 }, (_, i) => i));
  assert.deepEqual(log.at(-1), [1_250, 'end']);
});

test('a failure while playing stops the player and goes to onError', () => {
  const errors: Error[] = [];
  const { clock, player } = harness({
    onUpdate: (update) => {
      if (update.offsetMs === 250) throw new Error('viewer gone');
    },
    onError: (error) => errors.push(error),
  });
  player.play();
  clock.advance(5_000);
  assert.deepEqual(errors.map((e) => e.message), ['viewer gone']);
  assert.equal(player.state, 'stopped');
});

test('real timers by default', async () => {
  const id = store.startRecording({ sessionId: 's', name: 'real', startedAtMs: 0 }).id;
  for (const t of [0, 20, 40]) store.append(id, { tMs: t, kind: 'k', payload: t });
  store.stopRecording(id, 60);
  const seen: unknown[] = [];
  const started = performance.now();
  await new Promise<void>((resolve) => {
    const player = new RecordingPlayer(store, id, { speed: 4, onUpdate: (u) => seen.push(u.payload), onEnd: resolve });
    player.play();
  });
  const elapsed = performance.now() - started;
  assert.deepEqual(seen, [0, 20, 40]);
  assert.ok(elapsed >= 14 && elapsed < 1_000, `60 ms at 4x takes about 15 ms (${elapsed.toFixed(1)})`);
});
