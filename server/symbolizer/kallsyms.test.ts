import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KallsymsTable } from './kallsyms.ts';
import { FIXTURES } from './testing.ts';

test('fixture: text symbols only, aliases resolved, modules kept apart, bad lines counted', () => {
  const t = KallsymsTable.parse(readFileSync(join(FIXTURES, 'kallsyms.txt'), 'utf8'));
  assert.equal(t.badLines, 1);
  assert.equal(t.hidden, false);
  assert.equal(t.lookup(0xffffffff81000010n)?.name, '_text'); // _text vs _stext: same rank, first kept
  assert.equal(t.lookup(0xffffffff81001fffn)?.name, 'do_one_initcall');
  // schedule (global, no underscore) wins over the local alias.
  const s = t.lookup(0xffffffff81002010n);
  assert.equal(s?.name, 'schedule');
  assert.equal(s?.offset, 0x10n);
  // Data symbol 'some_data' is not text: the address falls to the previous text symbol.
  assert.equal(t.lookup(0xffffffff81003010n)?.name, 'schedule');
  assert.equal(t.lookup(0xffffffff81004000n)?.name, 'weak_func');
  const m = t.lookup(0xffffffffc0a01234n);
  assert.equal(m?.name, 'ext4_fill_super');
  assert.equal(m?.module, 'ext4');
  assert.equal(t.lookup(0xffffffffc0a02010n)?.name, 'ext4_sync_fs');
  assert.equal(t.lookup(0x1000n), undefined, 'below the first symbol');
  assert.equal(t.lookup(0xffffffffc0b00000n), undefined, 'far past the last symbol');
});

test('hidden addresses (kptr_restrict) give an error that says so', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pb-ks-'));
  const p = join(dir, 'kallsyms');
  writeFileSync(p, '0000000000000000 T _text\n0000000000000000 T schedule\n0000000000000000 t foo\t[mod]\n');
  assert.equal(KallsymsTable.parse(readFileSync(p, 'utf8')).hidden, true);
  assert.throws(() => KallsymsTable.load(p), /kptr_restrict/);
});

test('live /proc/kallsyms (root): schedule and do_nanosleep resolve', (t) => {
  let table: KallsymsTable;
  try {
    table = KallsymsTable.load();
  } catch (e) {
    if (process.getuid?.() !== 0 && /kptr_restrict/.test(String(e))) return t.skip('kernel addresses hidden for non-root');
    throw e;
  }
  const lines = readFileSync('/proc/kallsyms', 'utf8').split('\n');
  for (const name of ['schedule', 'do_nanosleep']) {
    const line = lines.find((l) => l.endsWith(` ${name}`) && / [tT] /.test(l));
    assert.ok(line, `${name} in kallsyms`);
    const addr = BigInt('0x' + line.split(' ')[0]);
    assert.ok(addr > BigInt(Number.MAX_SAFE_INTEGER), 'kernel addresses exceed 2^53');
    assert.equal(table.lookup(addr + 8n)?.name, name);
  }
  assert.ok(table.size > 10000, 'table.size > 10000');
});
