/**
 * The session, recording, replay, snapshot and compare requests' schemas: the cases
 * lib/validate-session.test.ts had (printable text, plain objects with known fields only).
 * Run: node --import tsx --test lib/schema/session.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check } from './core.ts';
import { checkRequest, CLIENT_REQUESTS, type RequestName } from './messages.ts';
import { printableText, unprintableProblem } from './session.ts';

test('printable text: controls, bidi overrides and isolates, separators and lone surrogates are refused, naming the character', () => {
  for (const good of ['team call', 'équipe 東京 😀', 'a-b_c.d (1)', '']) assert.equal(unprintableProblem(good), null, JSON.stringify(good));
  const bad: [string, RegExp][] = [
    ['a\u0000b', /U\+0000 at character 2 is a control character/],
    ['\u001b[31mred', /U\+001B at character 1/],
    ['tab\there', /U\+0009/],
    ['del\u007f', /U\+007F/],
    ['c1\u0085', /U\+0085/],
    ['evil\u202etxt.exe', /U\+202E .*bidirectional/],
    ['\u202aembed', /U\+202A/],
    ['iso\u2066late', /U\+2066/],
    ['pop\u2069', /U\+2069/],
    ['line\u2028break', /U\+2028/],
    ['half\ud800', /U\+D800 .*unpaired surrogate/],
  ];
  for (const [text, reason] of bad) assert.match(unprintableProblem(text) ?? 'accepted', reason, JSON.stringify(text));
});

test('printable text trims, counts code points, names the field', () => {
  const name = printableText(1, 80);
  const label = printableText(0, 80);
  assert.deepEqual(check(name, '  demo  '), { ok: true, value: 'demo' });
  assert.equal(check(name, '😀'.repeat(80)).ok, true, '80 emoji are 80 characters');
  const cases: [unknown, RegExp][] = [
    [42, /^label must be a string, got 42$/],
    [['x'], /^label must be a string, got \["x"\]$/],
    [null, /^label must be a string, got null$/],
    ['x'.repeat(81), /^label must be at most 80 characters \(it has 81\)/],
    ['evil\u202e', /^label must be printable text: U\+202E/],
    ['nul\u0000', /^label must be printable text: U\+0000/],
  ];
  for (const [input, reason] of cases) {
    const checked = check(label, input, { root: 'label' });
    assert.match(checked.ok ? `accepted: ${JSON.stringify(checked.value)}` : checked.error, reason, JSON.stringify(input));
  }
  const blank = check(name, '  ', { root: 'name' });
  assert.match(blank.ok ? 'accepted' : blank.error, /^name must be 1 to 80 characters \(it has 0\)/);
});

const SESSION_LEVEL: RequestName[] = [
  'session:state', 'session:list', 'session:create', 'session:close', 'link:create', 'link:revoke', 'record:start', 'record:stop',
  'recordings:list', 'recording:delete', 'replay:open', 'replay:control', 'snapshot:pin', 'snapshots:list', 'snapshot:get',
  'snapshot:delete', 'compare:windows', 'follow:set',
];

test('session requests: plain objects with known fields only; absent payloads of requests without fields are {}', () => {
  assert.deepEqual(checkRequest('link:create', { label: 'x', minutes: 5 }), { ok: true, value: { label: 'x', minutes: 5 } });
  assert.deepEqual(checkRequest('record:stop', undefined), { ok: true, value: {} });
  assert.deepEqual(checkRequest('session:list', null), { ok: true, value: {} });
  assert.deepEqual(checkRequest('record:start', undefined), { ok: true, value: {} });
  for (const event of SESSION_LEVEL) {
    const extra = checkRequest(event, { sneaky: 1 });
    assert.match(extra.ok ? 'accepted' : extra.error, new RegExp(`^${event}: unknown field "sneaky"$`), `${event} with an unknown field`);
    for (const payload of [['x'], 'x', 7, true, new Uint8Array(2)]) {
      const refused = checkRequest(event, payload);
      assert.match(refused.ok ? 'accepted' : refused.error, new RegExp(`^${event} takes .*, got `), `${event} with ${JSON.stringify(payload)}`);
    }
  }
  const proto = checkRequest('link:create', JSON.parse('{"__proto__": {"x": 1}}'));
  assert.match(proto.ok ? 'accepted' : proto.error, /^link:create: unknown field "__proto__"$/);
  assert.equal(Object.hasOwn(CLIENT_REQUESTS, 'constructor'), false, 'a prototype property is not a request');
});

test('session requests: each field checked and named', () => {
  const cases: [RequestName, unknown, RegExp][] = [
    ['session:create', {}, /^session:create: name must be a string, got undefined$/],
    ['session:create', { name: 'demo\u202e' }, /^session:create: name must be printable text: U\+202E/],
    ['link:create', { minutes: 0 }, /^link:create: minutes must be a number of minutes, more than 0 and at most 10080, got 0$/],
    ['link:create', { minutes: 1e9 }, /^link:create: minutes must be a number of minutes/],
    ['link:create', { label: ['team'] }, /^link:create: label must be a string, got \["team"\]$/],
    ['link:revoke', { id: 5 }, /^link:revoke: id must be a string, got 5$/],
    ['record:start', { name: 'rec\u0007' }, /^record:start: name must be printable text: U\+0007/],
    ['replay:open', { recordingId: 'r', speed: 3 }, /^replay:open: speed must be 1, 2 or 4, got 3$/],
    ['replay:control', { action: 'rewind' }, /^replay:control: action must be play, pause, seek or speed, got "rewind"$/],
    ['replay:control', { action: 'seek', positionMs: -1 }, /^replay:control: positionMs must be a number of ms from the start \(>= 0\), got -1$/],
    ['replay:control', { action: 'play', positionMs: 3 }, /^replay:control: unknown field "positionMs"$/],
    ['snapshot:pin', { name: 'x', kind: 'pie' }, /^snapshot:pin: kind must be flame or histogram, got "pie"$/],
    ['snapshot:pin', { name: 'x', kind: 'flame', probe: 'lat-1' }, /^snapshot:pin: unknown field "probe"$/],
    ['snapshot:pin', { name: '', kind: 'flame' }, /^snapshot:pin: name must be 1 to 80 characters \(it has 0\)/],
    ['snapshot:get', {}, /^snapshot:get: id must be a string, got undefined$/],
    ['compare:windows', { recordingId: 'r', before: { fromMs: 5, toMs: 1 }, after: { fromMs: 0, toMs: 1 } }, /^compare:windows: before\.toMs must not be before fromMs, got 1$/],
    ['compare:windows', { recordingId: 'r', before: { fromMs: 0, toMs: 1, x: 1 }, after: { fromMs: 0, toMs: 1 } }, /^compare:windows: before: unknown field "x"$/],
    ['follow:set', { window: '10s', stackMode: 'all', hideIdle: true, icicle: false, zoom: 'all', search: '', selected: null, focus: null }, /^follow:set: zoom must be an array of frame names, got "all"$/],
    ['follow:set', { window: '10s', stackMode: 'all', hideIdle: true, icicle: false, zoom: [], search: 'x'.repeat(201), selected: null, focus: null }, /^follow:set: search must be at most 200 characters/],
    ['follow:set', { window: '10s', stackMode: 'all', hideIdle: true, icicle: false, zoom: Array(129).fill('f'), search: '', selected: null, focus: null }, /^follow:set: zoom is deeper than 128 frames/],
  ];
  for (const [event, payload, reason] of cases) {
    const checked = checkRequest(event, payload);
    assert.match(checked.ok ? `accepted: ${JSON.stringify(checked.value)}` : checked.error, reason, `${event} ${JSON.stringify(payload).slice(0, 100)}`);
  }
});
