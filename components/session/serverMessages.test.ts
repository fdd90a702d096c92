/**
 * The dashboard's receiving place (serverMessages.ts deliver, as useProfileSession runs it): a
 * malformed server message is dropped and reported once per name with its reason, a dropped
 * flow-controlled one is still acknowledged, and the messages after it arrive as usual.
 * Run: node --import tsx --test components/session/serverMessages.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deliver, ServerMessageCheck, type MessageHandlers } from './serverMessages.ts';

const status = { settings: { running: true, hz: 99, target: { kind: 'all' } }, error: null, cpus: 4 };
const list = { probes: [], max: 16 };
const batch = (seq: number, pid: unknown = 10) => ({
  id: 'ev-1',
  rows: [{ n: seq, t: 1000, pid, tid: 10, comm: 'sh', fields: { filename: '/bin/ls' } }],
  skipped: 0,
  total: seq,
  perSecond: 1,
  lost: 0,
  dropped: 0,
  seq,
});

test('a bad message is dropped, told once per name, acknowledged; the stream goes on', () => {
  const reports: string[] = [];
  const check = new ServerMessageCheck((event, reason) => reports.push(`${event}: ${reason}`));
  const statuses: unknown[] = [];
  const handlers: MessageHandlers = { 'profile:status': (s) => statuses.push(s.cpus) };
  const rows: number[] = [];
  const lists: unknown[] = [];
  const subscribers = {
    'events:batch': [(payload: unknown, ack: unknown) => (rows.push((payload as { seq: number }).seq), (ack as () => void)())],
    'events:probes': [(payload: unknown) => lists.push(payload)],
  } as Record<string, ((payload: unknown, ...rest: unknown[]) => void)[]>;
  let acks = 0;
  const ack = () => acks++;
  const receive = (event: string, ...args: unknown[]) => deliver(check, handlers, subscribers[event], event, args);

  receive('profile:status', status);
  receive('profile:status', { ...status, cpus: 'four' });
  receive('profile:status', { ...status, cpus: 'eight' });
  receive('profile:status', { ...status, cpus: 8 });
  receive('events:batch', batch(1), ack);
  receive('events:batch', batch(2, 'ten'), ack);
  receive('events:batch', batch(3), ack);
  receive('events:probes', { probes: 'none', max: 16 });
  receive('events:probes', list);
  receive('latency:frame', { spec: 'runq', seq: 1 }, ack);
  receive('latency:frame', { id: 'lat-1', spec: 'runq', seq: 2, columns: [] }, ack);
  receive('probe:explode', {});

  assert.deepEqual(statuses, [4, 8], 'good statuses before and after the bad ones');
  assert.deepEqual(rows, [1, 3], 'good batches before and after the bad one');
  assert.deepEqual(lists, [list]);
  assert.equal(acks, 5, 'every flow-controlled message acknowledged: by its subscriber, dropped, or taken by nobody');
  assert.deepEqual(Object.fromEntries(check.refused), { 'profile:status': 2, 'events:batch': 1, 'events:probes': 1, 'latency:frame': 1, 'probe:explode': 1 });
  assert.equal(reports.length, 5, `one report per name:\n${reports.join('\n')}`);
  assert.match(reports[0], /^profile:status: profile:status: cpus .*, got "four"$/);
  assert.match(reports[1], /^events:batch: events:batch: rows\[0\]\.pid .*, got "ten"$/);
  assert.match(reports[2], /^events:probes: events:probes: probes .*, got "none"$/);
  assert.match(reports[3], /^latency:frame: latency:frame must be a latency probe frame/);
  assert.match(reports[4], /^probe:explode: unknown message "probe:explode" from the server$/);
});

test('the check never throws, whatever arrives, and a throwing report does not stop it', () => {
  const check = new ServerMessageCheck(() => {
    throw new Error('console is gone');
  });
  for (const payload of [undefined, null, 0, 'x', [], {}, Object.create(null), { tree: { c: [null] } }]) {
    assert.equal(check.admit('profile:frame', payload), null, `refused: ${JSON.stringify(payload)}`);
  }
  assert.equal(check.admit('x'.repeat(10_000), {}), null);
  assert.equal(check.refused.get('profile:frame'), 8);
  assert.ok(check.admit('link:removed', { id: 'l1', reason: 'revoked' }), 'a good message after all of them still passes');
});
