/**
 * Events from the collector are checked where the web process receives them (CollectorClient):
 * a malformed one is dropped, counted and reported once per kind with its reason; the good ones
 * before and after it reach their handles as if nothing happened.
 * Run: node --import tsx --test server/privileged/event-check.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deserialize, serialize } from 'node:v8';
import { CollectorClient, type CollectorTransport } from './backend.ts';
import { CollectorEventCheck } from './event-check.ts';
import type { CollectorOutput, CollectorRequest } from './protocol.ts';
import { goodEvents } from '../../lib/schema/collector-testing.ts';
import { IntervalInterner } from '../symbolizer/interned.ts';
import { interval, sample } from '../aggregator/testing.ts';
import type { CollectorMessage } from '../collectors/types.ts';
import type { EventRowData } from './protocol.ts';

/** A collector the test speaks for: replies to every request at once, and `send` delivers an event as over IPC. */
function scriptedCollector(): { client: CollectorClient; send(event: unknown): void; warnings: string[] } {
  let deliver: (output: CollectorOutput) => void = () => undefined;
  const warnings: string[] = [];
  const replyValue = (request: CollectorRequest): unknown => {
    switch (request.command.op) {
      case 'latency.add':
        return { id: 'lat-1', spec: 'syscall:read' };
      case 'events.start':
        return { spec: 'exec', kind: 'exec', counts: { lost: 0, dropped: 0, transport: 'ringbuf' } };
      default:
        return null;
    }
  };
  const transport: CollectorTransport = {
    send: (request) => queueMicrotask(() => deliver({ type: 'reply', id: request.id, ok: true, value: replyValue(request) })),
    listen: (onOutput) => {
      deliver = onOutput;
    },
    close: async () => undefined,
  };
  const client = new CollectorClient(transport, 'in-process', process.pid, {}, (message) => warnings.push(message));
  // 'advanced' IPC serialization, as child.ts: typed arrays arrive as typed arrays.
  return { client, send: (event) => deliver(deserialize(serialize(event)) as CollectorOutput), warnings };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

test('a malformed event of each kind is dropped, counted and told once; the stream goes on', async () => {
  const { client, send, warnings } = scriptedCollector();
  const good = goodEvents();

  const profileMessages: CollectorMessage[] = [];
  const profile = client.openProfile(); // handle 1
  profile.onMessage((message) => profileMessages.push(message));
  const latency = client.openLatency(); // handle 2
  const frames: number[] = [];
  const ends: string[] = [];
  latency.onFrame(() => frames.push(frames.length + 1));
  latency.onEnd((id, reason) => ends.push(`${id}: ${reason}`));
  const added = await latency.add('syscall:read');
  assert.equal(added.ok, true, JSON.stringify(added));
  const rows: EventRowData[][] = [];
  const endings: string[] = [];
  await client.openEvents().start('exec', undefined, { rows: (batch) => rows.push(batch), ended: (reason) => endings.push(reason) }); // handle 3

  // A real interned interval (the fixture's tables would not continue the mirror's across two events).
  const interner = new IntervalInterner();
  const profileEvent = (endMs: number) => ({
    type: 'profile',
    handle: 1,
    message: { type: 'profile.interned', hz: 99, cpus: 2, interval: interner.intern(interval(endMs, [sample('bash', 12, 'main;readline', 'do_syscall_64', 3)])) },
  });
  const bad = (event: Record<string, unknown>, change: (copy: Record<string, any>) => void) => {
    const copy = structuredClone(event) as Record<string, any>;
    change(copy);
    return copy;
  };

  send(profileEvent(1000));
  send(bad(profileEvent(2000), (e) => (e.message.interval.counts = [3])));
  send(bad(profileEvent(2000), (e) => (e.message.hz = 'fast')));
  send(profileEvent(2000));

  send(good['latency.interval']);
  send(bad(good['latency.interval'], (e) => (e.batch.series[0].interval.buckets = [1, null])));
  send(good['latency.interval']);

  send(good['events.rows']);
  send(bad(good['events.rows'], (e) => delete e.rows[0].comm));
  send(good['events.rows']);

  send(bad(good.ready, (e) => (e.uid = 'root')));
  send(good.ready);
  send({ type: 'latency.frame', handle: 2 });
  send(bad(good['latency.end'], (e) => (e.reason = 42)));
  send(good['latency.end']);
  send(bad(good['events.end'], (e) => (e.counts.lost = 'many')));
  send(good['events.end']);
  await settle();

  const intervals = profileMessages.flatMap((message) => (message.type === 'profile.interval' ? [message.interval.endMs] : []));
  assert.deepEqual(intervals, [1000, 2000], 'both good intervals rebuilt, the bad ones never reached the mirror');
  assert.equal(frames.length, 2, `both good latency batches folded into frames (${frames.length})`);
  assert.deepEqual(ends, ['lat-1: reading failed: EBADF']);
  assert.deepEqual(rows.map((batch) => batch.length), [2, 2], 'both good row batches delivered');
  assert.deepEqual(endings, ['process 10 exited']);

  assert.deepEqual(
    Object.fromEntries(client.refusedEvents),
    { profile: 2, 'latency.interval': 1, 'events.rows': 1, ready: 1, 'latency.frame': 1, 'latency.end': 1, 'events.end': 1 },
    'every refusal counted by kind',
  );
  assert.equal(warnings.length, 7, `one warning per kind, not per event:\n${warnings.join('\n')}`);
  const warned = (kind: string) => warnings.find((w) => w.includes(`collector event ${kind}:`) || w.includes(`type "${kind}"`)) ?? `(no warning for ${kind})`;
  assert.match(warned('profile'), /malformed profile events .*: collector event profile: message\.interval\.counts must be a Float64Array, got \[3\]$/);
  assert.match(warned('latency.interval'), /batch\.series\[0\]\.interval\.buckets must be an array of finite numbers: \[1\] is null/);
  assert.match(warned('events.rows'), /rows\[0\]\.comm is required$/);
  assert.match(warned('ready'), /uid must be a number, got "root"$/);
  assert.match(warned('latency.frame'), /unknown collector event type "latency\.frame"/);
  assert.match(warned('latency.end'), /reason must be a string, got 42$/);
  assert.match(warned('events.end'), /counts\.lost must be a number, got "many"$/);
  await profile.close();
  await latency.close();
  await client.close();
});

test('the check itself never throws, whatever arrives, and a throwing logger does not stop it', () => {
  const check = new CollectorEventCheck(() => {
    throw new Error('log is gone');
  });
  const hostile: unknown[] = [undefined, null, 0, 'profile', Symbol('x'), () => 1, [], { type: {} }, { type: 'x'.repeat(1000) }, Object.create(null), { type: 'profile', handle: 1, message: null }];
  for (const input of hostile) assert.equal(check.admit(input), null, `refused: ${String(typeof input)}`);
  assert.equal(check.refused.get('unknown'), hostile.length - 1, 'inputs without a known type counted as unknown');
  assert.equal(check.refused.get('profile'), 1);
  assert.ok(check.admit(goodEvents()['latency.end']), 'a good event after all of them still passes');
});
