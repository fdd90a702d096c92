import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RowRing, rowPredicate, toShown } from './rows.ts';

const row = (n: number, comm = 'bash', pid = 100, fields: Record<string, never> | Record<string, unknown> = { arg0: n }) =>
  toShown({ n, t: 0, pid, tid: pid + 1, comm, fields: fields as never });

test('toShown formats fields once: strings quoted, lists, errors flagged', () => {
  const r = toShown({ n: 1, t: 0, pid: 1, tid: 1, comm: 'x', fields: { filename: '/bin/ls', argv: ['ls', '-l'], arg2: { error: 'EFAULT: cannot read a string at 0x10' }, n: 5 } });
  assert.equal(r.text, 'filename="/bin/ls"  argv=["ls", "-l"]  arg2=⚠ EFAULT: cannot read a string at 0x10  n=5');
  assert.equal(r.hasError, true);
});

test('RowRing keeps the newest `capacity` rows, newest first', () => {
  const ring = new RowRing(3);
  for (let n = 1; n <= 5; n++) ring.push(row(n));
  assert.equal(ring.size, 3);
  assert.equal(ring.pushed, 5);
  assert.deepEqual(ring.newestFirst().map((r) => r.n), [5, 4, 3]);
  assert.deepEqual(ring.newestFirst((r) => r.n % 2 === 1).map((r) => r.n), [5, 3]);
});

test('rowPredicate: comm substring (any case), exact pid or tid, field text', () => {
  assert.equal(rowPredicate({ comm: '', pid: '', text: ' ' }), null);
  const rows = [row(1, 'Bash', 10), row(2, 'python3', 20, { arg0: 'hello' }), row(3, 'bash', 30)];
  const pick = (f: { comm?: string; pid?: string; text?: string }) => rows.filter(rowPredicate({ comm: '', pid: '', text: '', ...f })!).map((r) => r.n);
  assert.deepEqual(pick({ comm: 'bash' }), [1, 3]);
  assert.deepEqual(pick({ pid: '20' }), [2]);
  assert.deepEqual(pick({ pid: '31' }), [3]); // tid
  assert.deepEqual(pick({ text: 'HELLO' }), [2]);
  assert.deepEqual(pick({ comm: 'bash', text: 'arg0=3' }), [3]);
});
