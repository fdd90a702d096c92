/**
 * The collector's events (collector -> web process): a good event of each kind passes; a
 * malformed one of each kind is refused with one line naming the event and the field.
 * Run: node --import tsx --test lib/schema/collector-events.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as v from 'valibot';
import { checkCollectorEvent, COLLECTOR_EVENT_TYPES, COLLECTOR_EVENTS, EventRowDataSchema, LatencySeriesSchema } from './collector.ts';
import { check } from './core.ts';
import { seededRandom } from '../random.ts';
import { goodEvents } from './collector-testing.ts';


test('a good event of each kind passes, with its bulk arrays passed on as received', () => {
  const events = goodEvents();
  assert.deepEqual(Object.keys(events).sort(), [...COLLECTOR_EVENT_TYPES].sort(), 'one fixture per kind');
  for (const [kind, event] of Object.entries(events)) {
    const checked = checkCollectorEvent(event);
    assert.ok(checked.ok, `${kind}: ${checked.ok ? '' : checked.error}`);
    assert.deepEqual(checked.value, event, `${kind}: the checked event equals the one sent`);
  }
  const profile = events.profile as { message: { interval: { newStacks: Uint32Array; newFrameNames: string[] } } };
  const checked = checkCollectorEvent(profile);
  const interval = checked.ok && checked.value.type === 'profile' && checked.value.message.type === 'profile.interned' ? checked.value.message.interval : null;
  assert.equal(interval?.newStacks, profile.message.interval.newStacks, 'typed arrays are not copied');
  assert.equal(interval?.newFrameNames, profile.message.interval.newFrameNames, 'bulk arrays are not copied');
  for (const message of [
    { type: 'profile.started', cpus: 2, hz: 99, target: { kind: 'pid', pid: 7 }, profileType: 'wall', offCpuVia: 'tp_btf/sched_switch' },
    { type: 'profile.stopped' },
    { type: 'profile.stopped', reason: 'the collector is gone' },
  ]) {
    const result = checkCollectorEvent({ type: 'profile', handle: 1, message });
    assert.ok(result.ok, `${message.type}: ${result.ok ? '' : result.error}`);
  }
});

/** `event` with the value at `path` (dot-separated, numbers index arrays) replaced, or deleted when `value` is DELETE. */
const DELETE = Symbol('delete');
function changed(event: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(event);
  const keys = path.split('.');
  let at = copy as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) at = at[key] as Record<string, unknown>;
  if (value === DELETE) delete at[keys.at(-1)!];
  else at[keys.at(-1)!] = value;
  return copy;
}

test('a malformed event of each kind is refused with the event and the field named', () => {
  const events = goodEvents();
  const cases: [kind: string, path: string, value: unknown, expected: RegExp][] = [
    ['ready', 'pid', 'one', /^collector event ready: pid must be a number, got "one"$/],
    ['ready', 'extra', 1, /^collector event ready: unknown field "extra"$/],
    ['profile', 'handle', 0, /^collector event profile: handle must be a handle from 1 to 2147483647, got 0$/],
    ['profile', 'message.type', 'profile.interval', /^collector event profile: message\.type must be profile\.interned, profile\.started or profile\.stopped, got "profile\.interval"$/],
    ['profile', 'message.interval.newStacks', [12, 0, 0], /^collector event profile: message\.interval\.newStacks must be a Uint32Array, got \[12,0,0\]$/],
    ['profile', 'message.interval.counts', Uint32Array.from([3]), /^collector event profile: message\.interval\.counts must be a Float64Array/],
    ['profile', 'message.interval.newFrameNames', ['bash', 7, 'x'], /^collector event profile: message\.interval\.newFrameNames must be an array of strings: \[1\] is 7, got/],
    ['profile', 'message.interval.newModules', [{ file: 3 }], /^collector event profile: message\.interval\.newModules\[0\]\.file must be a string, got 3$/],
    ['profile', 'message.interval.reset', DELETE, /^collector event profile: message\.interval\.reset is required$/],
    ['profile', 'message.hz', Infinity, /^collector event profile: message\.hz must be a finite number, got Infinity$/],
    ['latency.interval', 'batch.series.0.total.buckets', [0, 1, 'x'], /^collector event latency\.interval: batch\.series\[0\]\.total\.buckets must be an array of finite numbers: \[2\] is "x", got \[0,1,"x"\]$/],
    ['latency.interval', 'batch.interval.fine.parts', 40, /^collector event latency\.interval: batch\.interval\.fine\.parts must be a whole number from 1 to 16, got 40$/],
    ['latency.interval', 'batch.misses.noEntry', -Infinity, /^collector event latency\.interval: batch\.misses\.noEntry must be a finite number, got -Infinity$/],
    ['latency.interval', 'batch.stale', undefined, /^collector event latency\.interval: batch\.stale must be a string, got undefined$/],
    ['latency.interval', 'batch.series.0.key.comm', null, /^collector event latency\.interval: batch\.series\[0\]\.key\.comm must be a string, got null$/],
    ['latency.end', 'reason', DELETE, /^collector event latency\.end: reason is required$/],
    ['events.rows', 'rows.1.fields.arg0', { error: 'x', code: 1 }, /^collector event events\.rows: rows\[1\]\.fields must map names to .*: "arg0" is \{"error":"x","code":1\}/],
    ['events.rows', 'rows.0.fields.argv', ['ls', null], /^collector event events\.rows: rows\[0\]\.fields must map names to .*: "argv" is \["ls",null\]/],
    ['events.rows', 'rows.0.tid', '11', /^collector event events\.rows: rows\[0\]\.tid must be a number, got "11"$/],
    ['events.rows', 'counts.transport', 'pipe', /^collector event events\.rows: counts\.transport must be ringbuf or perfbuf, got "pipe"$/],
    ['events.end', 'counts', DELETE, /^collector event events\.end: counts is required$/],
  ];
  const kindsCovered = new Set<string>();
  for (const [kind, path, value, expected] of cases) {
    const checked = checkCollectorEvent(changed(events[kind], path, value));
    assert.equal(checked.ok, false, `${kind} with ${path} = ${String(value)} was accepted`);
    assert.match(checked.ok ? '' : checked.error, expected, `${kind} with ${path} changed`);
    kindsCovered.add(kind);
  }
  assert.deepEqual([...kindsCovered].sort(), [...COLLECTOR_EVENT_TYPES].sort(), 'every kind has a malformed case');
});

test('what is not an event at all is refused by what it is', () => {
  const error = (input: unknown) => {
    const checked = checkCollectorEvent(input);
    return checked.ok ? 'accepted' : checked.error;
  };
  assert.match(error(null), /^a collector event must be an object \{type, \.\.\.\}, got null$/);
  assert.match(error([1, 2]), /^a collector event must be an object/);
  assert.match(error({ type: 'profile.interval', handle: 1 }), /^unknown collector event type "profile\.interval" \(known: ready, profile, /);
  assert.match(error({ handle: 1 }), /^unknown collector event type undefined/);
  assert.match(error({ type: 'reply', id: 1, ok: true }), /^unknown collector event type "reply"/);
});

test('the in-place checks of latency series and event rows say what their schemas say', () => {
  const random = seededRandom(11);
  const odd: unknown[] = [undefined, null, 0, -1, 1.5, 3, 40, NaN, Infinity, '', 'x', [], [1, 2], [1, 'b'], ['a'], {}, { error: 'e' }, { error: 'e', code: 1 }, { error: 1 }, true];
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  const inPlace = { series: COLLECTOR_EVENTS['latency.interval'].entries.batch.entries.series, rows: COLLECTOR_EVENTS['events.rows'].entries.rows };
  const full = { series: v.array(LatencySeriesSchema), rows: v.array(EventRowDataSchema) };
  let refused = 0;
  for (let i = 0; i < 3000; i++) {
    const events = goodEvents();
    const series = (events['latency.interval'].batch as { series: Record<string, unknown>[] }).series;
    const rows = events['events.rows'].rows as Record<string, unknown>[];
    const targets: Record<string, unknown>[] = [
      series[0],
      series[0].key as Record<string, unknown>,
      series[0].interval as Record<string, unknown>,
      (series[0].total as Record<string, unknown>).fine as Record<string, unknown>,
      rows[0],
      rows[1].fields as Record<string, unknown>,
    ];
    const target = pick(targets);
    const key = pick([...Object.keys(target), 'extra']);
    const value = pick(odd);
    if (value === undefined && random() < 0.5) delete target[key];
    else target[key] = value;
    for (const which of ['series', 'rows'] as const) {
      const input = which === 'series' ? series : rows;
      const fast = check(inPlace[which], input);
      const slow = check(full[which], input);
      assert.equal(fast.ok, slow.ok, `${which} ${JSON.stringify(input)}: in place ${fast.ok ? 'accepts' : `refuses (${fast.error})`}, the schema ${slow.ok ? 'accepts' : `refuses (${slow.error})`}`);
      if (!fast.ok) refused++;
    }
  }
  assert.ok(refused > 1000, `the changes exercised refusals (${refused})`);
});
