/**
 * The session registry on its own (a socket.io Server with no connections, an injected clock):
 * how a session's features are assembled, what its recording tap does, the order of closing,
 * and the state it reports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Server } from 'socket.io';
import type { FeatureFactory, HubContext } from '../feature.ts';
import { createLink } from '../sessions.ts';
import { SessionRegistry, type RegistryOptions } from './registry.ts';

function registry(featuresOf: RegistryOptions['featuresOf'], clock: { ms: number }, appended: unknown[] = []): SessionRegistry {
  return new SessionRegistry({
    io: new Server(),
    connectionOf: () => undefined,
    now: () => clock.ms,
    idleStopMs: 60_000,
    sendLatest: () => {},
    appendToRecording: (recordingId, kind, payload) => appended.push({ recordingId, kind, payload }),
    featuresOf,
  });
}

test('two features of one session handling the same event are refused when the session opens', () => {
  const handles = (event: string): FeatureFactory => () => ({ handlers: { [event]: () => 'x' } });
  const sessions = registry(() => [handles('a:b'), handles('c:d'), handles('a:b')], { ms: 0 });
  assert.throws(() => sessions.open('main', 'main'), /two hub features handle a:b/);
  assert.equal(sessions.has('main'), false, 'a session that failed to open is not registered');
});

test("a session's record tap appends only while it records; viewer handlers are collected", () => {
  const appended: unknown[] = [];
  let context: HubContext | null = null;
  const clock = { ms: 1000 };
  const sessions = registry(() => [(ctx) => ((context = ctx), { handlers: { 'v:set': () => 1, 'p:set': () => 2 }, viewerHandlers: ['v:set'] })], clock, appended);
  const session = sessions.open('s1', 'first');
  assert.deepEqual([...session.viewerEvents], ['v:set']);
  assert.deepEqual([...session.handlers.keys()].sort(), ['p:set', 'v:set']);
  context!.record('profile.interval', { n: 1 });
  assert.equal(context!.recording(), false);
  session.recording = { id: 'rec-1', name: 'r', startedAtMs: 1000 };
  context!.record('profile.interval', { n: 2 });
  assert.equal(context!.recording(), true);
  assert.deepEqual(appended, [{ recordingId: 'rec-1', kind: 'profile.interval', payload: { n: 2 } }]);
});

test('closing runs the close hooks, then closes the features; the session leaves the registry first', async () => {
  const steps: string[] = [];
  const sessions = registry(() => [() => ({ handlers: {}, close: async () => void steps.push('feature closed') })], { ms: 0 });
  sessions.onSessionClose((session) => steps.push(`hook ${session.id} registered=${sessions.has(session.id)}`));
  const one = sessions.open('one', 'one');
  sessions.open('two', 'two');
  await sessions.close(one, 'bye');
  assert.deepEqual(steps, ['hook one registered=false', 'feature closed']);
  assert.deepEqual(sessions.all().map((s) => s.id), ['two']);
  steps.length = 0;
  await sessions.closeAll();
  assert.deepEqual(steps, ['hook two registered=false', 'feature closed']);
  assert.equal(sessions.size, 0);
});

test('state: links only for an operator who asks for them, and only live ones', () => {
  const clock = { ms: 1_000_000 };
  const sessions = registry(() => [], clock);
  const session = sessions.open('main', 'main');
  const short = createLink(session, { label: 'short', minutes: 1 }, clock.ms);
  const long = createLink(session, { label: 'long', minutes: 60 }, clock.ms);
  assert.deepEqual(sessions.stateFor(session, 'operator', true).links?.map((l) => l.id), [short.id, long.id]);
  assert.equal(sessions.stateFor(session, 'operator', false).links, undefined);
  assert.equal(sessions.stateFor(session, 'viewer', true).links, undefined);
  clock.ms += 2 * 60_000;
  const state = sessions.stateFor(session, 'operator', true);
  assert.deepEqual(state.links?.map((l) => l.id), [long.id], `after 2 minutes: ${JSON.stringify(state.links)}`);
  assert.deepEqual([state.viewers, state.operators, state.idleStopMs, state.recording, state.replay], [0, 0, 60_000, null, null]);
});
