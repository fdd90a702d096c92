/**
 * The collector's command validator: malformed commands are refused with a message naming the
 * problem, good ones come back as fresh typed copies. Run: node --import tsx --test server/privileged/protocol.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkCommand, checkRequest } from './protocol.ts';
import { CollectorHost } from './host.ts';
import { inProcessBackend } from './in-process.ts';
import type { CollectorChannel, CollectorCommand as ChannelCommand } from '../collectors/types.ts';

function refused(command: unknown, expected: RegExp): void {
  const checked = checkCommand(command);
  assert.equal(checked.ok, false, `refused: ${JSON.stringify(command, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))?.slice(0, 200)}`);
  assert.match(checked.ok ? '' : checked.error, expected);
}

test('good commands pass and come back as copies', () => {
  const cases: unknown[] = [
    { op: 'profile.open', handle: 1 },
    { op: 'profile.start', handle: 1, hz: 99, target: { kind: 'all' } },
    { op: 'profile.start', handle: 1, hz: 49, target: { kind: 'pid', pid: 1 }, intervalMs: 250 },
    { op: 'profile.start', handle: 1, hz: 99, target: { kind: 'all' }, profileType: 'offcpu', offcpu: { wakers: true, minBlockUs: 10, maxBlockUs: null, state: 'all' } },
    { op: 'profile.start', handle: 1, hz: 99, target: { kind: 'comm', comm: 'pb' }, profileType: 'wall', offcpu: { wakers: false, minBlockUs: 0, maxBlockUs: 1000, state: 'interruptible' } },
    { op: 'profile.start', handle: 1, hz: 99, target: { kind: 'all' }, profileType: 'cpu' },
    { op: 'latency.open', handle: 2, intervalMs: 200, maxProbes: 2 },
    { op: 'latency.add', handle: 2, spec: 'uprobe:c:malloc', pid: 1, comm: 'bash' },
    { op: 'latency.add', handle: 2, spec: 'uprobe:/usr/lib/x86_64-linux-gnu/libc.so.6:mall*' },
    { op: 'latency.add', handle: 2, spec: 'syscall:read' },
    { op: 'latency.remove', handle: 2, id: 'lat-12' },
    { op: 'events.start', handle: 3, spec: 'exec' },
    { op: 'events.start', handle: 3, spec: 'usdt:/usr/bin/python3:python:function__entry(arg0:str)', pid: 42 },
    { op: 'events.stop', handle: 3 },
    { op: 'discover.tracepoints' },
    { op: 'discover.tracepoints', glob: 'sched:*' },
    { op: 'discover.processes', query: 'node' },
    { op: 'discover.objects', pid: 4194304 },
    { op: 'discover.symbols', binary: 'c', glob: 'ma*' },
    { op: 'discover.usdt', binary: '/usr/bin/python3.11' },
    { op: 'discover.usdt', pid: 7 },
    { op: 'close', handle: 2 },
    { op: 'ping' },
  ];
  for (const command of cases) {
    const checked = checkCommand(command);
    assert.ok(checked.ok, `${JSON.stringify(command)}: ${checked.ok ? '' : checked.error}`);
    assert.deepEqual(checked.value, command);
    assert.notEqual(checked.value, command, 'a fresh copy');
  }
});

test('wrong shapes and types are refused by name', () => {
  refused(null, /must be an object/);
  refused('profile.open', /must be an object/);
  refused([{ op: 'close', handle: 1 }], /must be an object/);
  refused(new Map([['op', 'close']]), /must be an object/);
  refused({ op: 'exec', handle: 1 }, /unknown command op "exec"/);
  refused({ op: 'shell', cmd: 'rm -rf /' }, /unknown command op "shell"/);
  refused({ op: 'bpf.load', bytecode: Buffer.from([0xb7, 0, 0, 0]) }, /command.bytecode must be plain data, got binary data \(4 bytes\)/);
  refused({ op: 'bpf.load', bytecode: 'b7000000' }, /unknown command op "bpf.load"/);
  refused({ op: 'events.start', handle: 1, spec: Buffer.from('exec') }, /events.start.spec must be plain data, got binary data \(4 bytes\)/);
  refused({ op: 'latency.add', handle: 1, spec: 'runq', pid: { valueOf: () => 1 } }, /latency.add.pid.valueOf must be plain data/);
  refused({ op: 'profile.start', handle: 1, hz: 99, target: { kind: 'pid', pid: 7n } }, /profile.start.target.pid must be plain data, got 7n/);
  refused({ op: 'close', handle: 1, nested: [[[[[1]]]]] }, /nested too deeply/);
  refused({ handle: 1 }, /unknown command op undefined/);
  refused({ op: 'close', handle: 1, extra: true }, /close: unknown field "extra"/);
  refused({ op: 'ping', handle: 1 }, /ping: unknown field "handle"/);
  refused({ op: 'latency.add', handle: 1, spec: 'syscall:read', objectPath: '/tmp/evil.bpf.o' }, /unknown field "objectPath"/);
  refused({ op: 'events.start', handle: 1, spec: 'exec', program: Buffer.alloc(8) }, /events.start.program must be plain data/);
  refused({ op: 'events.start', handle: 1, spec: 'exec', program: 'x' }, /events.start: unknown field "program"/);
  refused({ op: 'close', handle: '1' }, /handle must be a whole number from 1 to 2147483647, got "1"/);
  refused({ op: 'close', handle: 1.5 }, /handle must be a whole number/);
  refused({ op: 'close', handle: 0 }, /handle must be a whole number/);
  refused({ op: 'close', handle: 2 ** 40 }, /handle must be a whole number/);
  refused({ op: 'close', handle: 1n }, /close.handle must be plain data, got 1n \(bigint\)/);
  refused({ op: 'profile.start', handle: 1, hz: '99', target: { kind: 'all' } }, /^profile\.start: hz must be a whole number of Hz from 1 to 10000, got "99"$/);
  refused({ op: 'profile.start', handle: 1, hz: 1e9, target: { kind: 'all' } }, /^profile\.start: hz must be a whole number of Hz from 1 to 10000, got 1000000000$/);
  refused({ op: 'profile.start', handle: 1, hz: 99, target: { kind: 'cgroup', path: '/' } }, /target.kind must be all, pid or comm/);
  refused({ op: 'profile.start', handle: 1, hz: 99, target: { kind: 'all' }, intervalMs: 1 }, /intervalMs must be a whole number from 10/);
  refused({ op: 'latency.open', handle: 1, maxProbes: 1000 }, /maxProbes must be a whole number from 1 to 16/);
  refused({ op: 'latency.remove', handle: 1, id: '../lat-1' }, /id must be a latency probe id/);
  refused({ op: 'discover.usdt', binary: '/bin/true', pid: 1 }, /exactly one of binary or pid/);
  refused({ op: 'discover.usdt' }, /exactly one of binary or pid/);
});

test('pids are whole numbers from 1 to 4194304', () => {
  for (const pid of [-1, 0, 1.5, 4194305, '42', null, [42], true]) {
    refused({ op: 'discover.objects', pid }, /pid must be a whole number from 1 to 4194304/);
    refused({ op: 'latency.add', handle: 1, spec: 'runq', pid }, /pid must be a whole number from 1 to 4194304/);
    refused({ op: 'events.start', handle: 1, spec: 'exec', pid }, /pid must be a whole number from 1 to 4194304/);
  }
  for (const pid of [NaN, Infinity, -Infinity]) refused({ op: 'discover.objects', pid }, /must be a finite number/);
  refused({ op: 'discover.objects', pid: 42n }, /must be plain data, got 42n/);
  refused({ op: 'profile.start', handle: 1, hz: 99, target: { kind: 'pid', pid: -5 } }, /pid must be a whole number/);
});

test('binaries: absolute normalized paths or library names; relative paths and traversal refused', () => {
  refused({ op: 'discover.symbols', binary: 'bin/true' }, /binary must be an absolute path, got the relative path "bin\/true"/);
  refused({ op: 'discover.symbols', binary: './true' }, /relative path/);
  refused({ op: 'discover.symbols', binary: '../../bin/true' }, /relative path/);
  refused({ op: 'discover.symbols', binary: '/usr/lib/../bin/true' }, /is not normalized/);
  refused({ op: 'discover.symbols', binary: '/usr//bin/true' }, /is not normalized/);
  refused({ op: 'discover.symbols', binary: '/usr/bin/' }, /is not normalized/);
  refused({ op: 'discover.symbols', binary: '/usr/./bin/true' }, /is not normalized/);
  refused({ op: 'discover.usdt', binary: '$(reboot)' }, /binary must be an absolute path or a library name/);
  refused({ op: 'discover.usdt', binary: 'c; rm -rf /' }, /binary must be an absolute path/);
  refused({ op: 'discover.usdt', binary: 'c && reboot' }, /binary must be an absolute path or a library name/);
  refused({ op: 'discover.usdt', binary: '' }, /binary must not be empty/);
  refused({ op: 'discover.usdt', binary: 7 }, /binary must be a string/);
  refused({ op: 'latency.add', handle: 1, spec: 'uprobe:./a.out:main' }, /binary must be an absolute path, got the relative path "\.\/a\.out"/);
  refused({ op: 'latency.add', handle: 1, spec: 'usdt:/opt/../x:p:a,b' }, /not normalized/);
  refused({ op: 'events.start', handle: 1, spec: 'uprobe:tmp/x:main' }, /relative path/);
  refused({ op: 'discover.symbols', binary: `/${'a'.repeat(5000)}` }, /binary is longer than 4096 characters/);
});

test('specs are parsed with the probe grammars; strings have limits and no control characters', () => {
  refused({ op: 'latency.add', handle: 1, spec: 'nonsense' }, /^bad probe spec "nonsense": .*\(at character \d+\)$/);
  refused({ op: 'latency.add', handle: 1, spec: 'uprobe:' }, /^bad probe spec "uprobe:"/);
  refused({ op: 'latency.add', handle: 1, spec: 'kprobe:vfs_read; reboot' }, /^bad probe spec/);
  refused({ op: 'events.start', handle: 1, spec: 'tracepoint:sched' }, /^bad spec "tracepoint:sched" at character/);
  refused({ op: 'events.start', handle: 1, spec: 'bytecode:b7000000' }, /^bad spec/);
  refused({ op: 'latency.add', handle: 1, spec: `uprobe:/bin/true:${'x'.repeat(1000)}` }, /spec is longer than 512 characters/);
  refused({ op: 'events.start', handle: 1, spec: 'x'.repeat(100_000) }, /spec is longer than 512 characters \(100000\)/);
  refused({ op: 'latency.add', handle: 1, spec: 'syscall:read\n' }, /spec contains control characters/);
  refused({ op: 'latency.add', handle: 1, spec: 42 }, /spec must be a string/);
  refused({ op: 'latency.add', handle: 1, spec: 'runq', comm: 'a-very-long-command-name' }, /longer than the kernel's 15 bytes/);
  refused({ op: 'discover.processes', query: 'q'.repeat(257) }, /query is longer than 256 characters/);
  refused({ op: 'discover.tracepoints', glob: 'sched:\u0000' }, /glob contains control characters/);
});

test('requests: ids are checked, and the host answers each with exactly one reply without touching anything', async () => {
  assert.deepEqual(checkRequest({ id: 1, command: { op: 'close', handle: 3 } }), { ok: true, value: { id: 1, command: { op: 'close', handle: 3 } } });
  assert.deepEqual(checkRequest({ command: { op: 'close', handle: 3 } }), { ok: false, id: null, error: 'request id must be a whole number from 1 to 2147483647, got undefined' });
  assert.deepEqual(checkRequest({ id: 2, command: { op: 'close', handle: 3 }, sudo: true }), { ok: false, id: 2, error: 'request: unknown field "sudo"' });
  const events: unknown[] = [];
  const host = new CollectorHost((event) => events.push(event));
  try {
    const replies = await Promise.all([
      host.handle({ id: 5, command: { op: 'latency.add', handle: 9, spec: 'uprobe:./x:main' } }),
      host.handle({ id: 6, command: { op: 'latency.add', handle: 9, spec: 'syscall:read' } }),
      host.handle({ id: 7, command: { op: 'events.stop', handle: 9 } }),
      host.handle('garbage'),
    ]);
    assert.deepEqual(replies, [
      { type: 'reply', id: 5, ok: false, error: 'latency.add: binary must be an absolute path, got the relative path "./x"' },
      { type: 'reply', id: 6, ok: false, error: 'no latency handle 9 is open' },
      { type: 'reply', id: 7, ok: false, error: 'no events handle 9 is open' },
      { type: 'reply', id: null, ok: false, error: 'a request must be an object {id, command}, got "garbage"' },
    ]);
    assert.deepEqual(await host.handle({ id: 8, command: { op: 'latency.open', handle: 9 } }), { type: 'reply', id: 8, ok: true, value: null });
    assert.deepEqual(await host.handle({ id: 9, command: { op: 'profile.start', handle: 9, hz: 99, target: { kind: 'all' } } }), {
      type: 'reply', id: 9, ok: false, error: 'handle 9 is a latency handle, not a profile one',
    });
    assert.deepEqual(await host.handle({ id: 10, command: { op: 'latency.open', handle: 9 } }), { type: 'reply', id: 10, ok: false, error: 'handle 9 is already open' });
    assert.equal(host.handles, 1);
    assert.deepEqual(events, []);
  } finally {
    await host.close();
  }
});

test('profile.start: the profile type and off-CPU settings are checked as the hub checks them', () => {
  const offcpu = { wakers: false, minBlockUs: 1, maxBlockUs: null, state: 'all' };
  const start = { op: 'profile.start', handle: 1, hz: 99, target: { kind: 'all' } };
  refused({ ...start, profileType: 'oncpu' }, /^profile\.start: profileType must be one of cpu, offcpu, wall, got "oncpu"$/);
  refused({ ...start, profileType: 'wall', offcpu }, /^profile\.start: type wall needs a target/);
  refused({ ...start, profileType: 'offcpu', offcpu: { ...offcpu, minBlockUs: 10, maxBlockUs: 5 } }, /^profile\.start: offcpu\.minBlockUs \(10 µs\) must not exceed offcpu\.maxBlockUs \(5 µs\)$/);
  refused({ ...start, profileType: 'offcpu', offcpu: { ...offcpu, minBlockUs: -1 } }, /offcpu\.minBlockUs must be a whole number/);
  refused({ ...start, profileType: 'offcpu', offcpu: { ...offcpu, maxBlockUs: 1e12 } }, /offcpu\.maxBlockUs must be null \(no limit\) or a whole number of µs from 0 to 86400000000, got 1000000000000/);
  refused({ ...start, profileType: 'offcpu', offcpu: { ...offcpu, state: 'stopped' } }, /offcpu\.state must be one of all, uninterruptible, interruptible, got "stopped"/);
  refused({ ...start, profileType: 'offcpu', offcpu: { ...offcpu, bpf: 'x' } }, /offcpu: unknown field "bpf"/);
});

test('profile.start: the type and off-CPU settings reach the collector channel through the client and host', async () => {
  const seen: ChannelCommand[] = [];
  const channel: CollectorChannel = {
    request: async (command) => {
      seen.push(command);
    },
    onMessage: () => () => undefined,
    close: async () => undefined,
  };
  const backend = inProcessBackend({ openProfile: () => channel });
  try {
    const profile = backend.openProfile();
    const offcpu = { wakers: true, minBlockUs: 50, maxBlockUs: 2000, state: 'uninterruptible' as const };
    await profile.request({ type: 'profile.start', hz: 49, target: { kind: 'pid', pid: 4242 }, profileType: 'wall', offcpu });
    await profile.request({ type: 'profile.start', hz: 99, target: { kind: 'all' } });
    assert.deepEqual(
      seen,
      [
        { type: 'profile.start', hz: 49, target: { kind: 'pid', pid: 4242 }, profileType: 'wall', offcpu },
        { type: 'profile.start', hz: 99, target: { kind: 'all' } },
      ],
      `the channel got ${JSON.stringify(seen)}`,
    );
    await assert.rejects(
      profile.request({ type: 'profile.start', hz: 99, target: { kind: 'all' }, profileType: 'wall', offcpu }),
      /type wall needs a target/,
      'the host refuses wall of all processes before the channel sees it',
    );
    assert.equal(seen.length, 2, `nothing more reached the channel: ${JSON.stringify(seen.slice(2))}`);
  } finally {
    await backend.close();
  }
});
