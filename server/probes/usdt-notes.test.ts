import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { ElfFile } from '../symbolizer/elf.ts';
import { compileWorkload, prng, readelfUsdt, type Compiled } from './testing.ts';
import {
  decodeStapsdtDesc,
  isMalformedInputError,
  parseUsdtArg,
  parseUsdtArgs,
  readUsdtProbes,
  usdtProbesFromBuffer,
  UsdtError,
} from './usdt-notes.ts';

describe('USDT argument specs', () => {
  it('parses registers, memory, constants and sizes', () => {
    assert.deepEqual(parseUsdtArg('-4@%eax'), { text: '-4@%eax', size: 4, signed: true, location: { kind: 'reg', reg: 'rax' } });
    assert.deepEqual(parseUsdtArg('8@%r12'), { text: '8@%r12', size: 8, signed: false, location: { kind: 'reg', reg: 'r12' } });
    assert.deepEqual(parseUsdtArg('1@%r9b').location, { kind: 'reg', reg: 'r9' });
    assert.deepEqual(parseUsdtArg('-8@-16(%rbp)').location, { kind: 'mem', reg: 'rbp', offset: -16n });
    assert.deepEqual(parseUsdtArg('-4@112(%rsp)').location, { kind: 'mem', reg: 'rsp', offset: 112n });
    assert.deepEqual(parseUsdtArg('8@(%rax)').location, { kind: 'mem', reg: 'rax', offset: 0n });
    assert.deepEqual(parseUsdtArg('4@$42'), { text: '4@$42', size: 4, signed: false, location: { kind: 'const', value: 42n } });
    assert.deepEqual(parseUsdtArg('-4@$-1').location, { kind: 'const', value: -1n });
    assert.deepEqual(parseUsdtArg('8@counter+8(%rip)').location, { kind: 'mem', reg: 'rip', offset: 8n, symbol: 'counter' });
    assert.equal(parseUsdtArg('%rdi').size, 8); // old sdt.h: no size
    assert.equal(parseUsdtArgs('').length, 0);
    assert.equal(parseUsdtArgs('8@%rbp 8@%r12 -4@%eax').length, 3);
  });

  it('rejects bad specs with a reason', () => {
    for (const [spec, reason] of [
      ['3@%eax', /size 3/],
      ['x@%eax', /not a number/],
      ['4@%xyz', /unknown register/],
      ['4@', /unrecognised location/],
      ['4@-8(%rbp,%rax,4)', /indexed addressing/],
      ['4@$abc', /unrecognised/],
      ['', /empty/],
    ] as const) {
      assert.throws(() => parseUsdtArg(spec), (e: unknown) => e instanceof UsdtError && reason.test(e.message), spec);
    }
  });

  it('fuzz: random strings never throw anything but UsdtError', () => {
    const rnd = prng(1);
    const alphabet = '-+@%$()0123456789abcdefxrspilq, ';
    for (let i = 0; i < 20000; i++) {
      const n = Math.floor(rnd() * 20);
      let s = '';
      for (let j = 0; j < n; j++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      try {
        parseUsdtArgs(s);
      } catch (e) {
        assert.ok(e instanceof UsdtError, `${JSON.stringify(s)}: ${e}`);
      }
    }
  });
});

describe('stapsdt notes', () => {
  let bin: Compiled;
  before(() => {
    bin = compileWorkload('usdt-list', ['usdt-list.c', 'usdt-list-sem.c']);
  });
  after(() => bin?.cleanup());

  it('lists exactly the probes of the test program, as readelf does', () => {
    const probes = readUsdtProbes(bin.path);
    const reference = readelfUsdt(bin.path);
    assert.deepEqual(probes.map((p) => `${p.provider}:${p.name}`).sort(), ['pbtest:message', 'pbtest:noargs', 'pbtest:start', 'pbtest:withsem']);
    assert.equal(probes.length, reference.length);
    for (const [i, p] of probes.entries()) {
      const r = reference[i];
      assert.equal(`${p.provider}:${p.name}`, `${r.provider}:${r.name}`);
      assert.equal(p.pc, r.location);
      assert.equal(p.base, r.base);
      assert.equal(p.semaphore, r.semaphore);
      assert.equal(p.argsText, r.args);
    }
    const byName = new Map(probes.map((p) => [p.name, p]));
    assert.equal(byName.get('start')!.args.length, 2);
    assert.equal(byName.get('message')!.args.length, 2);
    assert.equal(byName.get('noargs')!.args.length, 0);
    assert.equal(byName.get('withsem')!.args.length, 1);
    assert.notEqual(byName.get('withsem')!.semaphore, 0n, 'withsem has a semaphore address');
    assert.notEqual(byName.get('withsem')!.semaphoreFileOffset, undefined, 'withsem\'s semaphore has a file offset');
    assert.equal(byName.get('start')!.semaphore, 0n);
    for (const p of probes) assert.notEqual(p.fileOffset, undefined, `${p.provider}:${p.name} has a file offset`);
  });

  it("lists Debian's python3.11 probes", { skip: existsSync('/usr/bin/python3.11') ? false : '/usr/bin/python3.11 is not installed' }, () => {
    const probes = readUsdtProbes('/usr/bin/python3.11');
    const names = new Set(probes.map((p) => `${p.provider}:${p.name}`));
    for (const n of ['python:function__entry', 'python:function__return', 'python:gc__start', 'python:gc__done', 'python:line']) {
      assert.ok(names.has(n), `${n} missing`);
    }
    const entry = probes.find((p) => p.name === 'function__entry')!;
    assert.equal(entry.args.length, 3);
    assert.notEqual(entry.semaphore, 0n, 'function__entry has a semaphore address');
    assert.equal(probes.length, readelfUsdt('/usr/bin/python3.11').length);
  });

  it('a binary without probes has none', () => {
    assert.deepEqual(readUsdtProbes('/bin/true'), []);
  });

  it('rejects a truncated file, a 32-bit file, a non-ELF file, a file without sections', () => {
    const good = readFileSync(bin.path);
    assert.throws(() => usdtProbesFromBuffer(good.subarray(0, 40)), /truncated/);
    assert.throws(() => usdtProbesFromBuffer(good.subarray(0, good.length - 200)), /out of range|truncated/);
    const wrongClass = Buffer.from(good);
    wrongClass[4] = 1;
    assert.throws(() => usdtProbesFromBuffer(wrongClass), /wrong class/);
    assert.throws(() => usdtProbesFromBuffer(Buffer.from('#!/bin/sh\necho not an elf\n')), /not an ELF/);
    const noSections = Buffer.from(good);
    noSections.writeBigUInt64LE(0n, 40); // e_shoff
    noSections.writeUInt16LE(0, 60); // e_shnum
    assert.throws(() => usdtProbesFromBuffer(noSections), /no section headers/);
  });

  it('rejects malformed note descriptors', () => {
    const desc = (strings: string) => Buffer.concat([Buffer.alloc(24), Buffer.from(strings, 'latin1')]);
    assert.deepEqual(decodeStapsdtDesc(desc('p\0n\0\0')).name, 'n');
    assert.throws(() => decodeStapsdtDesc(Buffer.alloc(10)), /too short/);
    assert.throws(() => decodeStapsdtDesc(desc('p\0n\0-4@%eax')), /not NUL-terminated/);
    assert.throws(() => decodeStapsdtDesc(desc('p\0n\0')), /missing/);
    assert.throws(() => decodeStapsdtDesc(desc('p q\0n\0\0')), /invalid provider/);
  });

  it('fuzz: mutated files and notes give a result or a clear error, never a crash', () => {
    const good = readFileSync(bin.path);
    const elf = ElfFile.fromBuffer(good);
    const notes = elf.section('.note.stapsdt')!;
    const rnd = prng(42);
    let rejected = 0;
    for (let i = 0; i < 3000; i++) {
      const buf = Buffer.from(good);
      const flips = 1 + Math.floor(rnd() * 8);
      for (let j = 0; j < flips; j++) {
        // mostly in the notes, sometimes in the ELF and section headers
        const r = rnd();
        const at = r < 0.7 ? notes.offset + Math.floor(rnd() * notes.size) : r < 0.85 ? Math.floor(rnd() * 64) : elf.header.shoff + Math.floor(rnd() * elf.header.shnum * 64);
        buf[at] = Math.floor(rnd() * 256);
      }
      const cut = rnd() < 0.1 ? Math.floor(rnd() * buf.length) : buf.length;
      try {
        const probes = usdtProbesFromBuffer(buf.subarray(0, cut));
        assert.ok(Array.isArray(probes), `iteration ${i}: a list of probes or a refusal (${typeof probes})`);
      } catch (e) {
        assert.ok(isMalformedInputError(e), `iteration ${i}: unexpected ${(e as Error).stack}`);
        assert.ok((e as Error).message.length > 10, `iteration ${i}: the refusal says why (${JSON.stringify((e as Error).message)})`);
        rejected++;
      }
    }
    assert.ok(rejected > 100, `only ${rejected} mutated files were rejected`);
    for (let i = 0; i < 5000; i++) {
      const d = Buffer.alloc(Math.floor(rnd() * 64));
      for (let j = 0; j < d.length; j++) d[j] = rnd() < 0.3 ? 0 : Math.floor(rnd() * 256);
      try {
        decodeStapsdtDesc(d);
      } catch (e) {
        assert.ok(e instanceof UsdtError, `a UsdtError for ${d.toString('hex')}: ${(e as Error).stack}`);
      }
    }
  });
});
