/**
 * Profile intervals between the collector host and the web side: interned on the way (each
 * frame and stack sent once per handle), rebuilt exactly on arrival.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deserialize, serialize } from 'node:v8';
import type { CollectorChannel, CollectorMessage, CollectorWireMessage } from '../collectors/types.ts';
import { foldedFromIntervals } from '../aggregator/folded.ts';
import { interval, sample } from '../aggregator/testing.ts';
import type { SymbolizedInterval } from '../symbolizer/types.ts';
import { CollectorClient, type CollectorTransport } from './backend.ts';
import { CollectorHost } from './host.ts';
import type { CollectorEvent, CollectorOutput } from './protocol.ts';
import { ProfilePipeline } from '../pipeline/profile.ts';

/** A profile source the test drives: `emit` sends one interval now. */
class ScriptedChannel implements CollectorChannel {
  readonly #listeners = new Set<(message: CollectorMessage) => void>();
  async request(command: Parameters<CollectorChannel['request']>[0]): Promise<void> {
    if (command.type === 'profile.start') this.send({ type: 'profile.started', cpus: 2, hz: command.hz, target: command.target });
  }
  onMessage(listener: (message: CollectorMessage) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  send(message: CollectorMessage): void {
    for (const listener of this.#listeners) listener(message);
  }
  emit(symbolized: SymbolizedInterval): void {
    this.send({ type: 'profile.interval', interval: symbolized, hz: 99, cpus: 2 });
  }
  async close(): Promise<void> {}
}

const INTERVALS = [
  interval(1000, [sample('bash', 12, 'main;readline', 'do_syscall_64;ksys_read', 3), sample('swapper/0', 0, '', 'do_idle', 50)]),
  interval(2000, [sample('bash', 12, 'main;readline', 'do_syscall_64;ksys_read', 4), sample('swapper/0', 0, '', 'do_idle', 45)]),
  interval(3000, [sample('bash', 12, 'main;readline;getc', '', 1, { kernel: 'collision' }), sample('swapper/0', 0, '', 'do_idle', 44)]),
];

/** Host and client joined as over IPC ('advanced' serialization: v8 serialize/deserialize), with every output kept. */
function ipcPair(channel: ScriptedChannel): { client: CollectorClient; wire: CollectorEvent[] } {
  const wire: CollectorEvent[] = [];
  let deliver: (output: CollectorOutput) => void = () => undefined;
  const host = new CollectorHost(
    (event) => {
      const copy = deserialize(serialize(event)) as CollectorEvent;
      wire.push(copy);
      deliver(copy);
    },
    { openProfile: () => channel },
  );
  const transport: CollectorTransport = {
    send: (request) => void host.handle(deserialize(serialize(request))).then((reply) => deliver(deserialize(serialize(reply)) as CollectorOutput)),
    listen: (onOutput) => {
      deliver = onOutput;
    },
    close: () => host.close(),
  };
  return { client: new CollectorClient(transport, 'in-process', process.pid), wire };
}

test('intervals cross the collector channel interned, each frame once, and arrive as the same intervals', async () => {
  const channel = new ScriptedChannel();
  const { client, wire } = ipcPair(channel);
  const profile = client.openProfile();
  const received: SymbolizedInterval[] = [];
  profile.onMessage((message) => {
    if (message.type === 'profile.interval') {
      assert.ok(message.refs, 'the stack ids come along for the window');
      received.push(message.interval);
    }
  });
  await profile.request({ type: 'profile.start', hz: 99, target: { kind: 'all' } });
  for (const symbolized of INTERVALS) channel.emit(symbolized);
  await new Promise((resolve) => setImmediate(resolve));

  assert.equal(received.length, 3);
  assert.deepEqual(received, INTERVALS, 'every field of every interval');
  assert.equal(foldedFromIntervals(received), foldedFromIntervals(INTERVALS));

  const messages = wire.flatMap((event) => (event.type === 'profile' ? [event.message as CollectorWireMessage] : []));
  const interned = messages.flatMap((message) => (message.type === 'profile.interned' ? [message.interval] : []));
  assert.equal(interned.length, 3, `intervals go interned (${messages.map((m) => m.type).join(', ')})`);
  assert.equal(messages.filter((message) => (message.type as string) === 'profile.interval').length, 0, `no plain interval crosses (${messages.map((m) => m.type).join(', ')})`);
  assert.deepEqual(interned.map((i) => i.newFrameNames), [['bash', 'main', 'readline', 'do_syscall_64', 'ksys_read', 'swapper/0', 'do_idle'], [], ['getc']]);
  assert.deepEqual(interned.map((i) => i.newStacks.length > 0), [true, false, true]);
  await profile.close();
  await client.close();
});

test('a pipeline fed through the interned channel draws what one fed directly draws', async () => {
  const channel = new ScriptedChannel();
  const { client } = ipcPair(channel);
  const now = () => 3500;
  const remote = new ProfilePipeline(client.openProfile(), { now });
  const directChannel = new ScriptedChannel();
  const direct = new ProfilePipeline(directChannel, { now });
  await remote.configure({ running: true });
  await direct.configure({ running: true });
  for (const symbolized of INTERVALS) {
    channel.emit(symbolized);
    directChannel.emit(symbolized);
  }
  await new Promise((resolve) => setImmediate(resolve));
  for (const stackMode of ['all', 'user', 'kernel'] as const) {
    const view = { window: '10s' as const, stackMode, hideIdle: false };
    assert.deepEqual(remote.frame(view).tree, direct.frame(view).tree, stackMode);
  }
  assert.equal(remote.frame({ window: 'all', stackMode: 'all', hideIdle: false }).totalSamples, 3 + 50 + 4 + 45 + 1 + 44);
  await remote.close();
  await direct.close();
  await client.close();
});
