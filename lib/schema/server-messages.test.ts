/**
 * What the dashboard receives is checked against the schemas of lib/schema/server-messages.ts:
 * good messages pass (the big ones without a copy), a malformed one is refused with the message
 * and the field named, and the in-place checks of the big ones say exactly what their schemas
 * say. Run: node --import tsx --test lib/schema/server-messages.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as v from 'valibot';
import { seededRandom } from '../random.ts';
import { DEFAULT_PROFILE_SETTINGS, DEFAULT_VIEW, type FlameNode, type ProfileFrame } from '../protocol.ts';
import type { EventBatch } from '../protocol-events.ts';
import { checkServerMessage, SERVER_MESSAGES } from './server-messages.ts';
import { check } from './core.ts';
import { FlameNodeSchema, FlameTreeInPlaceSchema } from './view.ts';
import { EventRowSchema, EventRowsInPlaceSchema } from './events.ts';

function frame(tree: FlameNode): ProfileFrame {
  return {
    seq: 4,
    view: DEFAULT_VIEW,
    settings: DEFAULT_PROFILE_SETTINGS,
    tree,
    unit: 'samples',
    totalSamples: tree.v,
    prunedSamples: 0,
    nodeCount: 5,
    windowStartMs: 1000,
    windowEndMs: 11_000,
    sampledAtMs: 10_990,
    health: { userStackErrors: { collision: 0, fault: 1, other: 0 }, kernelStackErrors: { collision: 0, fault: 0, other: 0 }, droppedSamples: 0, unknownFrames: 2 },
  };
}
const tree = (): FlameNode => ({
  n: 'all',
  v: 10,
  modules: [{ file: '/usr/bin/bash', buildId: 'ab' }, { file: '[kernel]' }],
  c: [
    { n: 'bash', v: 7, k: 'p', c: [{ n: 'main', v: 7, k: 'u', m: 0, c: [{ n: 'readline', v: 4, k: 'u', m: 0 }] }] },
    { n: 'swapper/0', v: 3, k: 'p', e: 2 },
  ],
});
const batch = (): EventBatch => ({
  id: 'ev-1',
  rows: [
    { n: 1, t: 1_700_000_000_000.5, pid: 10, tid: 10, comm: 'sh', fields: { filename: '/bin/ls', argv: ['ls', '-l'], ppid: 1, uid: 0 } },
    { n: 2, t: 1_700_000_000_001, pid: 11, tid: 12, comm: 'python3', fields: { arg0: { error: 'could not read' }, arg1: 7 } },
  ],
  skipped: 0,
  total: 2,
  perSecond: 2,
  lost: 0,
  dropped: 0,
  seq: 1,
});

test('good big messages pass, their tree and rows passed on as received', () => {
  const sent = frame(tree());
  const checked = checkServerMessage('profile:frame', JSON.parse(JSON.stringify(sent)));
  assert.ok(checked.ok, checked.ok ? '' : checked.error);
  assert.deepEqual(checked.value, sent);
  const received = JSON.parse(JSON.stringify(sent));
  const again = checkServerMessage('profile:frame', received);
  assert.equal(again.ok && again.value.tree, received.tree, 'the tree is not copied');
  const rows = JSON.parse(JSON.stringify(batch()));
  const events = checkServerMessage('events:batch', rows);
  assert.ok(events.ok, events.ok ? '' : events.error);
  assert.equal(events.value.rows, rows.rows, 'the rows are not copied');
  assert.ok(checkServerMessage('hello', { protocol: 1, version: '1.2.3', canControl: true, role: 'operator', session: 'main' }).ok);
});

test('a malformed message is refused with the message and the field named', () => {
  const error = <E extends keyof typeof SERVER_MESSAGES>(event: E, payload: unknown) => {
    const checked = checkServerMessage(event, payload);
    assert.equal(checked.ok, false, `${event} ${JSON.stringify(payload).slice(0, 200)} was accepted`);
    return checked.ok ? '' : checked.error;
  };
  const deep = tree();
  (deep.c![0].c![0].c![0] as unknown as Record<string, unknown>).v = 'x';
  assert.equal(error('profile:frame', frame(deep)), 'profile:frame: tree.c[0].c[0].c[0].v must be a number, got "x"');
  const kind = tree();
  (kind.c![1] as unknown as Record<string, unknown>).k = 'z';
  assert.match(error('profile:frame', frame(kind)), /^profile:frame: tree\.c\[1\]\.k .*, got "z"$/);
  const root = tree() as unknown as Record<string, unknown>;
  root.n = 5;
  assert.equal(error('profile:frame', frame(root as unknown as FlameNode)), 'profile:frame: tree.n must be a string, got 5');
  const children = tree() as unknown as Record<string, unknown>;
  children.c = { 0: 'a' };
  assert.equal(error('profile:frame', frame(children as unknown as FlameNode)), 'profile:frame: tree.c must be an array of nodes, got {"0":"a"}');
  assert.match(error('profile:frame', { ...frame(tree()), health: null }), /^profile:frame: health /);
  const row = batch();
  (row.rows[1] as unknown as Record<string, unknown>).pid = '11';
  assert.match(error('events:batch', row), /^events:batch: rows\[1\]\.pid .*, got "11"$/);
  const field = batch();
  (field.rows[0].fields as Record<string, unknown>).argv = ['ls', null];
  assert.match(error('events:batch', field), /^events:batch: rows\[0\]\.fields\.argv/);
  assert.match(error('events:batch', { ...batch(), rows: 'none' }), /^events:batch: rows must be an array of rows, got "none"$/);
  assert.match(error('latency:frame', { spec: 'runq', seq: 1 }), /^latency:frame must be a latency probe frame/);
  assert.match(error('session:closed', { id: 'main' }), /^session:closed: reason is required$/);
  assert.match(error('hello', null), /^hello /);
});

/** A random change to one node or row: a field set to a value of some kind, or deleted. */
const ODD_VALUES: unknown[] = [undefined, null, 0, -1, 1.5, NaN, Infinity, '', 'x', 'u', 'p', [], ['a'], [1, 'b'], [null], {}, { error: 'e' }, { error: 1 }, { file: 'f' }, { file: 1 }, true];
function mutate(target: Record<string, unknown>, keys: string[], random: () => number): void {
  const key = keys[Math.floor(random() * keys.length)];
  const value = ODD_VALUES[Math.floor(random() * ODD_VALUES.length)];
  if (value === undefined && random() < 0.5) delete target[key];
  else target[key] = value;
}

test('the in-place checks of flame graph nodes and event rows say what their schemas say', () => {
  const random = seededRandom(10);
  const inPlaceTree = v.object({ tree: FlameTreeInPlaceSchema });
  const fullTree = v.object({ tree: FlameNodeSchema });
  const inPlaceRows = v.object({ rows: EventRowsInPlaceSchema });
  const fullRows = v.object({ rows: v.array(EventRowSchema) });
  let refused = 0;
  for (let i = 0; i < 2000; i++) {
    const t = tree();
    const nodes = [t, t.c![0], t.c![0].c![0], t.c![1]] as unknown as Record<string, unknown>[];
    const node = nodes[Math.floor(random() * nodes.length)];
    mutate(node, ['n', 'v', 'c', 'k', 'e', 'm', 'modules'], random);
    const fast = check(inPlaceTree, { tree: t });
    const full = check(fullTree, { tree: t });
    assert.equal(fast.ok, full.ok, `tree ${JSON.stringify(t)}: in place ${fast.ok ? 'accepts' : `refuses (${fast.error})`}, the schema ${full.ok ? 'accepts' : `refuses (${full.error})`}`);
    if (!fast.ok && !full.ok) assert.equal(fast.error, full.error, 'the same reason');
    const b = batch();
    const r = b.rows[Math.floor(random() * 2)] as unknown as Record<string, unknown>;
    if (random() < 0.5) mutate(r, ['n', 't', 'pid', 'tid', 'comm', 'fields'], random);
    else mutate(r.fields as Record<string, unknown>, ['argv', 'arg0', 'uid'], random);
    const fastRows = check(inPlaceRows, { rows: b.rows });
    const fullRowsResult = check(fullRows, { rows: b.rows });
    assert.equal(fastRows.ok, fullRowsResult.ok, `rows ${JSON.stringify(b.rows)}: in place ${fastRows.ok ? 'accepts' : `refuses (${fastRows.error})`}, the schema ${fullRowsResult.ok ? 'accepts' : 'refuses'}`);
    if (!fast.ok) refused++;
  }
  assert.ok(refused > 500, `the mutations exercised refusals (${refused} of 2000 trees refused)`);
});
