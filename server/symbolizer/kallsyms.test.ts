import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KallsymsTable, resolveKernelAddresses, sharedKallsyms } from './kallsyms.ts';
import { FIXTURES } from './testing.ts';
import { skipOutsideCI } from '../testing/skip.ts';

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
    if (process.getuid?.() !== 0 && /kptr_restrict/.test(String(e))) return skipOutsideCI(t, 'kernel addresses hidden for non-root');
    throw e;
  }
  const lines = readFileSync('/proc/kallsyms', 'utf8').split('\n');
  for (const name of ['schedule', 'do_nanosleep']) {
    const line = lines.find((l) => l.endsWith(` ${name}`) && / [tT] /.test(l));
    assert.ok(line, `${name} in kallsyms`);
    const addr = BigInt('0x' + line.split(' ')[0]);
    assert.ok(addr > BigInt(Number.MAX_SAFE_INTEGER), `kernel addresses exceed 2^53 (${name} at 0x${addr.toString(16)})`);
    assert.equal(table.lookup(addr + 8n)?.name, name);
  }
  assert.ok(table.size > 10000, `over 10000 kernel symbols (${table.size})`);
});

/**
 * The parse the symbolizer used before the compact table (a string and an object per line),
 * kept here as the reference: text symbols, one per address (global over local, then fewer
 * leading underscores, then the first listed), sorted.
 */
function referenceParse(text: string): { addr: bigint; name: string; module?: string }[] {
  const rows: { addr: bigint; name: string; module?: string; global: boolean; line: number }[] = [];
  text.split('\n').forEach((line, index) => {
    const m = /^([0-9a-fA-F]{1,16}) (\S) ([^ \t]+)(?:\t\[([^\]]*)\])?[ \r]*$/.exec(line);
    if (!m || !/^[tTwW]$/.test(m[2])) return;
    rows.push({ addr: BigInt('0x' + m[1]), name: m[3], module: m[4], global: m[2] === 'T' || m[2] === 'W', line: index });
  });
  rows.sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : a.line - b.line));
  const underscores = (name: string) => name.length - name.replace(/^_+/, '').length;
  const kept: typeof rows = [];
  for (const r of rows) {
    const last = kept.at(-1);
    if (last && last.addr === r.addr) {
      if (r.global !== last.global ? r.global : underscores(r.name) < underscores(last.name)) kept[kept.length - 1] = r;
    } else kept.push(r);
  }
  return kept;
}

test('compact table = the reference parse on live /proc/kallsyms (read in chunks), at every symbol and between', (t) => {
  let text: string;
  try {
    text = readFileSync('/proc/kallsyms', 'utf8');
    if (/^0+ /.test(text)) return skipOutsideCI(t, 'kernel addresses hidden for this user');
  } catch (e) {
    return skipOutsideCI(t, `no /proc/kallsyms: ${e}`);
  }
  const loaded = KallsymsTable.load();
  const parsed = KallsymsTable.parse(text);
  const reference = referenceParse(text);
  assert.ok(reference.length > 10000, `reference has over 10000 symbols (${reference.length})`);
  // Modules may load between the two reads: compare where both saw the same symbols.
  assert.ok(Math.abs(loaded.size - reference.length) < 100, `sizes ${loaded.size} and ${reference.length} agree`);
  assert.equal(parsed.size, reference.length);
  reference.forEach((r, i) => {
    for (const addr of [r.addr, r.addr + 1n]) {
      const hit = parsed.lookup(addr);
      const want = i + 1 < reference.length && addr >= reference[i + 1].addr ? reference[i + 1] : r;
      assert.equal(hit?.name, want.name, `0x${addr.toString(16)}`);
      assert.equal(hit?.module, want.module, `module at 0x${addr.toString(16)}`);
      assert.equal(hit?.offset, addr - want.addr);
      assert.equal(loaded.lookup(addr)?.name, hit?.name, `chunked read at 0x${addr.toString(16)}`);
    }
  });
});

test('unsorted input (module symbols in load order) gives the same table as sorted input', () => {
  const lines = readFileSync(join(FIXTURES, 'kallsyms.txt'), 'utf8').split('\n').filter((l) => l);
  const sorted = KallsymsTable.parse(lines.join('\n'));
  const shuffled = KallsymsTable.parse([...lines.slice(8), ...lines.slice(3, 8), ...lines.slice(0, 3)].join('\n'));
  for (const addr of [0xffffffff81000010n, 0xffffffff81001fffn, 0xffffffff81002010n, 0xffffffff81003010n, 0xffffffff81004000n, 0xffffffffc0a01234n, 0xffffffffc0a02010n]) {
    assert.deepEqual(shuffled.lookup(addr), sorted.lookup(addr), `0x${addr.toString(16)}`);
  }
  assert.equal(shuffled.lookup(0xffffffff81002010n)?.name, 'schedule', 'the global alias wins whatever the order');
});

test('a line split across read chunks, CRLF endings and trailing spaces parse as whole lines', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pb-ks-'));
  const p = join(dir, 'kallsyms');
  // 300 KB of symbols: the 256 KB read chunk ends inside a line.
  const lines: string[] = [];
  for (let i = 0; i < 6000; i++) lines.push(`ffffffff8${(0x1000000 + i * 16).toString(16).padStart(7, '0')} T function_with_a_long_name_${i}${i % 3 === 0 ? '\r' : i % 3 === 1 ? '  ' : ''}`);
  lines.push('ffffffffc0001000 t modfunc\t[somemod]');
  writeFileSync(p, lines.join('\n') + '\n');
  const table = KallsymsTable.load(p);
  assert.equal(table.size, 6001);
  assert.equal(table.badLines, 0);
  for (const i of [0, 1, 2, 2999, 5999]) assert.equal(table.lookup(BigInt(`0xffffffff8${(0x1000000 + i * 16).toString(16).padStart(7, '0')}`) + 3n)?.name, `function_with_a_long_name_${i}`);
  assert.deepEqual(table.lookup(0xffffffffc0001004n), { addr: 0xffffffffc0001000n, name: 'modfunc', module: 'somemod', offset: 4n });
});

test('sharedKallsyms: one table per path for the process, read again only when asked', () => {
  const p = join(FIXTURES, 'kallsyms.txt');
  const first = sharedKallsyms(p);
  assert.equal(sharedKallsyms(p), first, 'the same table the second time');
  const reloaded = sharedKallsyms(p, true);
  assert.notEqual(reloaded, first, 'reload reads it again');
  assert.equal(sharedKallsyms(p), reloaded, 'and shares the new one');
  assert.throws(() => sharedKallsyms('/nonexistent/kallsyms'), /ENOENT/);
});

test('resolveKernelAddresses (one pass, no table) names addresses as the table does: fixture (shuffled too), hidden, live kallsyms', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pb-ks-'));
  const lines = readFileSync(join(FIXTURES, 'kallsyms.txt'), 'utf8').split('\n').filter((l) => l);
  const addrs = [0x1000n, 0xffffffff81000010n, 0xffffffff81001fffn, 0xffffffff81002010n, 0xffffffff81003010n, 0xffffffff81004000n, 0xffffffffc0a01234n, 0xffffffffc0a02010n, 0xffffffffc0b00000n, 0xffffffff81002010n];
  for (const [label, text] of [['sorted', lines.join('\n')], ['shuffled', [...lines.slice(8), ...lines.slice(3, 8), ...lines.slice(0, 3)].join('\n')]]) {
    const p = join(dir, label);
    writeFileSync(p, text + '\n');
    const table = KallsymsTable.parse(text);
    assert.deepEqual(resolveKernelAddresses(addrs, p), addrs.map((a) => table.lookup(a)?.name), label);
  }
  assert.equal(resolveKernelAddresses([0xffffffff81002010n], join(dir, 'sorted'))[0], 'schedule', 'the global alias');
  const hidden = join(dir, 'hidden');
  writeFileSync(hidden, '0000000000000000 T _text\n0000000000000000 T schedule\n');
  assert.throws(() => resolveKernelAddresses([0x10n], hidden), /kptr_restrict/);

  let text: string;
  try {
    text = readFileSync('/proc/kallsyms', 'utf8');
    if (/^0+ /.test(text)) return skipOutsideCI(t, 'kernel addresses hidden for this user');
  } catch (e) {
    return skipOutsideCI(t, `no /proc/kallsyms: ${e}`);
  }
  const table = KallsymsTable.parse(text);
  // Every 50th symbol: its start, inside it, and the byte before it (the previous symbol).
  const live: bigint[] = [];
  for (const line of text.split('\n').filter((_, i) => i % 50 === 0)) {
    const addr = BigInt(`0x${line.split(' ')[0] || '0'}`);
    live.push(addr, addr + 5n, addr - 1n);
  }
  // Modules may load between the two reads: compare only where the table's answer is stable.
  const resolved = resolveKernelAddresses(live);
  let differing = 0;
  live.forEach((a, i) => {
    if (resolved[i] !== table.lookup(a)?.name) differing++;
  });
  assert.ok(live.length > 3000, `over 3000 symbols sampled (${live.length})`);
  assert.ok(differing <= 10, `${differing} of ${live.length} named differently`);
});
