/**
 * Profile types through the hub: `profile:configure` takes `type` and `offcpu`, checks them (and
 * wall's need of a target on the merged settings), restarts the collector with them, tells every
 * viewer (status and frames carry the type; frames the unit), and exports and replays keep them.
 * A real socket.io hub; the collector is a scripted channel (no kernel).
 * Run: node --import tsx --test server/hub/profile-types.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestHub, TestViewer } from './testing.ts';
import { profileFeature } from './profile.ts';
import { ReplayProfileChannel } from './replay-features.ts';
import { PROFILE_INTERVAL, PROFILE_STATUS } from './recording.ts';
import type { ReplaySource } from './replay-source.ts';
import { ProfilePipeline } from '../pipeline/profile.ts';
import type { CollectorChannel, CollectorCommand, CollectorMessage } from '../collectors/types.ts';
import { interval, sample } from '../aggregator/testing.ts';
import { recordedInterval } from '../symbolizer/interned.ts';
import { DEFAULT_OFFCPU_SETTINGS, type OffCpuSettings, type ProfileFrame, type ProfileSettings, type ProfileStatus, type ViewSettings } from '../../lib/protocol.ts';

const ALL: ViewSettings = { window: 'all', stackMode: 'all', hideIdle: false };

/** A collector the test drives: keeps every command, answers starts, sends intervals on demand. */
class ScriptedChannel implements CollectorChannel {
  readonly commands: CollectorCommand[] = [];
  readonly #listeners = new Set<(message: CollectorMessage) => void>();
  async request(command: CollectorCommand): Promise<void> {
    this.commands.push(structuredClone(command));
    if (command.type === 'profile.start') this.send({ type: 'profile.started', cpus: 2, hz: command.hz, target: command.target });
    else this.send({ type: 'profile.stopped' });
  }
  onMessage(listener: (message: CollectorMessage) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  send(message: CollectorMessage): void {
    for (const listener of [...this.#listeners]) listener(message);
  }
  async close(): Promise<void> {}
  starts(): CollectorCommand[] {
    return this.commands.filter((c) => c.type === 'profile.start');
  }
}

class Viewer extends TestViewer {
  readonly statuses: ProfileStatus[] = [];
  readonly frames: ProfileFrame[] = [];
  constructor(url: string) {
    super(url);
    this.socket.on('profile:status', (status: ProfileStatus) => {
      this.statuses.push(status);
      this.notify();
    });
    this.socket.on('profile:frame', (frame: ProfileFrame, ack: () => void) => {
      ack();
      this.frames.push(frame);
      this.notify();
    });
  }
  status(): ProfileStatus | undefined {
    return this.statuses.at(-1);
  }
  frame(): ProfileFrame | undefined {
    return this.frames.at(-1);
  }
}

const OFFCPU: OffCpuSettings = { wakers: true, minBlockUs: 100, maxBlockUs: 2_000_000, state: 'interruptible' };

test('profile:configure carries the type and off-CPU settings to the collector and to every viewer', async () => {
  const channel = new ScriptedChannel();
  let nowMs = 10_000;
  const pipeline = new ProfilePipeline(channel, { now: () => nowMs });
  const hub = await startTestHub([profileFeature(pipeline)]);
  const presenter = new Viewer(hub.url);
  const follower = new Viewer(hub.url);
  try {
    await pipeline.configure({ running: true });
    assert.deepEqual(channel.starts(), [{ type: 'profile.start', hz: 99, target: { kind: 'all' } }], `a cpu start is as before: ${JSON.stringify(channel.starts())}`);
    await presenter.until(() => presenter.status()?.settings.running === true, 'the presenter to see sampling run');
    const first = presenter.status()!.settings;
    assert.deepEqual([first.type, first.offcpu], ['cpu', DEFAULT_OFFCPU_SETTINGS], `settings always carry the type and off-CPU settings: ${JSON.stringify(first)}`);

    // Off-CPU of all processes.
    const reply = await presenter.request<ProfileSettings>('profile:configure', { type: 'offcpu', offcpu: OFFCPU });
    assert.equal(reply.ok, true, `offcpu accepted: ${JSON.stringify(reply)}`);
    assert.deepEqual(
      channel.starts().at(-1),
      { type: 'profile.start', hz: 99, target: { kind: 'all' }, profileType: 'offcpu', offcpu: OFFCPU },
      `the collector was restarted with the type and filters: ${JSON.stringify(channel.starts().at(-1))}`,
    );
    // The follower did nothing: the type is a shared sampling setting, it arrives by itself.
    await follower.until(() => follower.status()?.settings.type === 'offcpu', 'the follower to see offcpu');
    assert.deepEqual(follower.status()!.settings.offcpu, OFFCPU, `the follower has the filters: ${JSON.stringify(follower.status())}`);

    // Frames of an off-CPU profile count µs.
    nowMs = 11_000;
    channel.send({ type: 'profile.interval', interval: interval(11_000, [sample('sleeper', 77, 'main;nap;clock_nanosleep', 'schedule', 250_000)]), hz: 99, cpus: 2 });
    await follower.until(() => follower.frame()?.totalSamples === 250_000, 'an off-CPU frame');
    const frame = follower.frame()!;
    assert.deepEqual([frame.unit, frame.settings.type], ['us', 'offcpu'], `frame unit and type: ${frame.unit}, ${frame.settings.type}`);

    // Wall of all processes is refused, naming why; nothing reaches the collector.
    const startsBefore = channel.starts().length;
    const wallAll = await presenter.request('profile:configure', { type: 'wall' });
    assert.equal(wallAll.ok, false, `wall of all processes refused: ${JSON.stringify(wallAll)}`);
    assert.match((wallAll as { error: string }).error, /type wall needs a target: a pid or a command name/);
    const both = await presenter.request('profile:configure', { type: 'wall', target: { kind: 'all' } });
    assert.match((both as { error?: string }).error ?? '', /type wall needs a target/, `in one change too: ${JSON.stringify(both)}`);
    assert.equal(channel.starts().length, startsBefore, `no start for a refused change: ${JSON.stringify(channel.starts().slice(startsBefore))}`);
    assert.equal(pipeline.status().settings.type, 'offcpu', 'the previous settings stay');

    // Bad filters are refused with the field named.
    const bad = await presenter.request('profile:configure', { offcpu: { ...OFFCPU, minBlockUs: 5000, maxBlockUs: 10 } });
    assert.equal(bad.ok, false, `min > max refused: ${JSON.stringify(bad)}`);
    assert.match((bad as { error: string }).error, /^profile:configure: offcpu\.minBlockUs \(5000 µs\) must not exceed offcpu\.maxBlockUs \(10 µs\)$/);
    const state = await presenter.request('profile:configure', { offcpu: { ...OFFCPU, state: 'zombie' } });
    assert.match((state as { error?: string }).error ?? '', /offcpu\.state must be one of/, `bad state: ${JSON.stringify(state)}`);
    const type = await presenter.request('profile:configure', { type: 'hot' });
    assert.match((type as { error?: string }).error ?? '', /^profile:configure: type must be one of cpu, offcpu, wall, got "hot"$/, `bad type: ${JSON.stringify(type)}`);

    // Wall of one pid: restarts, the window starts over (no off-CPU µs of another target in it).
    const wall = await presenter.request('profile:configure', { type: 'wall', target: { kind: 'pid', pid: 4242 } });
    assert.equal(wall.ok, true, `wall of a pid: ${JSON.stringify(wall)}`);
    assert.deepEqual(channel.starts().at(-1), { type: 'profile.start', hz: 99, target: { kind: 'pid', pid: 4242 }, profileType: 'wall', offcpu: OFFCPU });
    assert.equal(pipeline.frame(ALL).totalSamples, 0, `a new window after the restart, got ${pipeline.frame(ALL).totalSamples}`);
    assert.equal(pipeline.frame(ALL).unit, 'us');
    // Changing the target back to all while wall: refused on the merged settings.
    const allAgain = await presenter.request('profile:configure', { target: { kind: 'all' } });
    assert.match((allAgain as { error?: string }).error ?? '', /type wall needs a target/, `target all under wall: ${JSON.stringify(allAgain)}`);

    // A filter change restarts an off-CPU or wall profile...
    const wakersOff = { ...OFFCPU, wakers: false };
    await presenter.request('profile:configure', { offcpu: wakersOff });
    assert.deepEqual(channel.starts().at(-1), { type: 'profile.start', hz: 99, target: { kind: 'pid', pid: 4242 }, profileType: 'wall', offcpu: wakersOff });

    // ...but not a cpu one (the collector ignores them there); back to the defaults.
    const back = await presenter.request('profile:configure', { type: 'cpu', target: { kind: 'all' } });
    assert.equal(back.ok, true, `back to cpu: ${JSON.stringify(back)}`);
    assert.deepEqual(channel.starts().at(-1), { type: 'profile.start', hz: 99, target: { kind: 'all' } });
    const starts = channel.starts().length;
    const defaults = await presenter.request('profile:configure', { offcpu: DEFAULT_OFFCPU_SETTINGS });
    assert.equal(defaults.ok, true);
    assert.equal(channel.starts().length, starts, `off-CPU settings alone do not restart a cpu profile: ${JSON.stringify(channel.starts().slice(starts))}`);
    await follower.until(() => follower.status()?.settings.type === 'cpu' && follower.status()?.settings.offcpu?.wakers === false, 'the follower back at cpu');
    assert.equal(pipeline.frame(ALL).unit, 'samples');
  } finally {
    presenter.close();
    follower.close();
    await hub.close();
    await pipeline.close();
  }
});

test('the flame export and snapshots know the type; a stop keeps it', async () => {
  const channel = new ScriptedChannel();
  const pipeline = new ProfilePipeline(channel);
  const exports: { type: string }[] = [];
  const hub = await startTestHub([
    profileFeature(pipeline),
    (context) => {
      const feature = profileFeature(pipeline)(context);
      return { handlers: {}, onConnect: () => exports.push(feature.exports!.flame!(ALL)) };
    },
  ]);
  try {
    await pipeline.configure({ running: true, type: 'offcpu', offcpu: OFFCPU });
    const viewer = new Viewer(hub.url);
    await viewer.until(() => exports.length === 1, 'the export on connect');
    assert.equal(exports[0].type, 'offcpu', `flame export type: ${JSON.stringify(exports[0])}`);
    await pipeline.configure({ running: false });
    assert.equal(pipeline.status().settings.type, 'offcpu', 'stopping keeps the type');
    assert.equal(channel.commands.at(-1)?.type, 'profile.stop');
    await pipeline.configure({ running: true });
    assert.deepEqual(channel.starts().at(-1), { type: 'profile.start', hz: 99, target: { kind: 'all' }, profileType: 'offcpu', offcpu: OFFCPU }, 'starting again starts the same type');
    viewer.close();
  } finally {
    await hub.close();
    await pipeline.close();
  }
});

/** A recording played by hand: `play` hands the channel one recorded update. */
function fakeSource(): { source: ReplaySource; play(kind: string, payload: unknown): void } {
  const listeners = new Set<{ update(update: { kind: string; payload: unknown }, catchUp: boolean): void; reset(): void }>();
  const source = {
    now: () => 50_000,
    subscribe: (listener: never) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  } as unknown as ReplaySource;
  return { source, play: (kind, payload) => listeners.forEach((l) => l.update({ kind, payload }, false)) };
}

test('replay: a recorded type comes back; a recording from before profile types is a cpu one', async () => {
  for (const [recorded, unit] of [
    [{ running: true, hz: 99, target: { kind: 'pid', pid: 9 }, type: 'wall', offcpu: OFFCPU }, 'us'],
    [{ running: true, hz: 49, target: { kind: 'all' } }, 'samples'],
  ] as const) {
    const { source, play } = fakeSource();
    let pipeline: ProfilePipeline | null = null;
    const channel = new ReplayProfileChannel(source, { reset: () => pipeline?.reset(), settings: (settings, cpus) => pipeline?.adopt(settings, cpus) });
    pipeline = new ProfilePipeline(channel, { now: () => 50_000 });
    try {
      play(PROFILE_STATUS, { settings: recorded, error: null, cpus: 4 });
      play(PROFILE_INTERVAL, recordedInterval(interval(50_000, [sample('sleeper', 9, 'main;nap', '', 1234)])));
      const frame = pipeline.frame(ALL);
      assert.deepEqual(
        [frame.settings.type, frame.unit, frame.totalSamples, frame.settings.hz],
        [recorded.type ?? 'cpu', unit, 1234, recorded.hz],
        `replay of ${JSON.stringify(recorded)}: ${JSON.stringify(frame.settings)} ${frame.unit}`,
      );
      if (recorded.type === 'wall') assert.deepEqual(frame.settings.offcpu, OFFCPU, 'the recorded filters come back');
    } finally {
      await pipeline.close();
    }
  }
});
