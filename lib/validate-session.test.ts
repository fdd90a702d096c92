import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSessionRequest, checkText, SESSION_REQUEST_FIELDS, unprintableProblem } from './validate-session.ts';

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

test('checkText trims, counts code points, names the field', () => {
  assert.deepEqual(checkText('  demo  ', 'name', { min: 1, max: 80 }), { ok: true, value: 'demo' });
  assert.deepEqual(checkText('😀'.repeat(80), 'name', { min: 1, max: 80 }).ok, true, '80 emoji are 80 characters');
  const cases: [unknown, RegExp][] = [
    [42, /^label must be a string, got number/],
    [['x'], /^label must be a string, got an array/],
    [null, /^label must be a string, got null/],
    ['x'.repeat(81), /^label must be at most 80 characters, got 81/],
    ['evil\u202e', /^label must be printable text: U\+202E/],
    ['nul\u0000', /^label must be printable text: U\+0000/],
  ];
  for (const [input, reason] of cases) {
    const checked = checkText(input, 'label', { min: 0, max: 80 });
    assert.equal(checked.ok, false, JSON.stringify(input));
    assert.match((checked as { error: string }).error, reason);
  }
  assert.match((checkText('  ', 'name', { min: 1, max: 80 }) as { error: string }).error, /^name must be 1 to 80 characters, got 0/);
});

test('session requests: plain objects with known fields only; absent payloads are {}', () => {
  assert.deepEqual(checkSessionRequest('link:create', { label: 'x', minutes: 5 }), { ok: true, value: { label: 'x', minutes: 5 } });
  assert.deepEqual(checkSessionRequest('record:stop', undefined), { ok: true, value: {} });
  assert.deepEqual(checkSessionRequest('session:list', null), { ok: true, value: {} });
  for (const event of Object.keys(SESSION_REQUEST_FIELDS)) {
    const extra = checkSessionRequest(event, { sneaky: 1 });
    assert.equal(extra.ok, false, `${event} with an unknown field`);
    assert.match((extra as { error: string }).error, new RegExp(`^${event}: unknown field "sneaky"`));
    for (const [payload, got] of [[['x'], 'an array'], ['x', 'string'], [7, 'number'], [true, 'boolean'], [new Uint8Array(2), 'a non-plain object']] as const) {
      const refused = checkSessionRequest(event, payload);
      assert.equal(refused.ok, false, `${event} with ${got}`);
      assert.match((refused as { error: string }).error, new RegExp(`^${event} takes .*got ${got}`));
    }
  }
  assert.match((checkSessionRequest('link:create', JSON.parse('{"__proto__": {"x": 1}}')) as { error: string }).error, /unknown field "__proto__"/);
  assert.equal(checkSessionRequest('constructor', {}).ok, false, 'a prototype property is not a request');
});
