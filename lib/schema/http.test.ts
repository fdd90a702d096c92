/**
 * The export route's query schema: defaults, each refusal naming the parameter and the value,
 * and credentials in the same query left alone. Run: node --import tsx --test lib/schema/http.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkExportQuery } from './http.ts';

const query = (text: string) => checkExportQuery(new URLSearchParams(text));

test('a flame export gets the documented defaults; credentials in the query are not its business', () => {
  assert.deepEqual(query('kind=flame&format=svg&token=secret'), {
    ok: true,
    value: { kind: 'flame', format: 'svg', view: { window: '60s', stackMode: 'all', hideIdle: true, perThread: false } },
  });
  assert.deepEqual(query('kind=flame&format=pprof&window=all&stackMode=user&hideIdle=0&perThread=1'), {
    ok: true,
    value: { kind: 'flame', format: 'pprof', view: { window: 'all', stackMode: 'user', hideIdle: false, perThread: true } },
  });
  assert.deepEqual(query('kind=heatmap&format=csv&probe=lat-2&view=abc.def'), { ok: true, value: { kind: 'heatmap', format: 'csv', probe: 'lat-2' } });
  assert.deepEqual(query('kind=flame&format=json&window=10s&window=all'), {
    ok: true,
    value: { kind: 'flame', format: 'json', view: { window: '10s', stackMode: 'all', hideIdle: true, perThread: false } },
  }, 'the first value of a repeated parameter counts');
});

test('each bad parameter is named with the value received', () => {
  const cases: [string, RegExp][] = [
    ['format=svg', /^kind must be one of flame, histogram, heatmap, got undefined$/],
    ['kind=pie&format=svg', /^kind must be one of flame, histogram, heatmap, got "pie"$/],
    ['kind=flame&format=png', /^format must be one of svg, folded, json, speedscope, pprof, got "png"$/],
    ['kind=histogram&format=pprof&probe=lat-1', /^format must be one of json, csv, svg, got "pprof"$/],
    ['kind=flame&format=svg&window=5m', /^window must be one of 10s, 60s, all, got "5m"$/],
    ['kind=flame&format=svg&stackMode=both', /^stackMode must be one of all, user, kernel, got "both"$/],
    ['kind=flame&format=svg&hideIdle=yes', /^hideIdle must be 0 or 1 \(1 hides the idle task\), got "yes"$/],
    ['kind=flame&format=svg&perThread=2', /^perThread must be 0 or 1 \(1 roots stacks at comm-tid\), got "2"$/],
    ['kind=histogram&format=csv', /^probe is missing: the export needs probe=<latency probe id>, got ""$/],
  ];
  for (const [text, reason] of cases) {
    const checked = query(text);
    assert.match(checked.ok ? `accepted: ${JSON.stringify(checked.value)}` : checked.error, reason, text);
  }
});
