/**
 * CollectorClient's deadlines, without a kernel: a transport in this process that carries
 * requests to a real CollectorHost (fake latency collectors) and can be told to go silent, as
 * a stuck collector process is. Requests past their deadline are rejected naming the op and the
 * deadline and their late replies dropped without a warning; with a heartbeat, a silent
 * collector is declared down (handles told, the channel cut) and an answering one is not. The real process cases are in lifeline.kernel.test.ts.
 * Time is node:test's mock timers plus the client's injected clock: every deadline is checked at
 * the exact ms it falls on, however loaded the machine is.
 * Run: node --import tsx --test server/privileged/deadlines.test.ts
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { CollectorClient, CollectorDeadlineError, collectorStalledReason, type CollectorTransport } from './backend.ts';
import { CollectorHost } from './host.ts';
import type { CollectorOutput, CollectorRequest } from './protocol.ts';

/** Lets promise chains and I/O callbacks run (setImmediate is not mocked). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Mock setTimeout/setInterval and a virtual monotonic clock the client reads; `advance` moves both, in steps, settling between. */
function virtualTime(t: TestContext): { clock: () => number; advance(ms: number, stepMs?: number): Promise<void> } {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  let now = 0;
  return {
    clock: () => now,
    advance: async (ms, stepMs = 10) => {
      for (let done = 0; done < ms; done += stepMs) {
        const step = Math.min(stepMs, ms - done);
        now += step;
        t.mock.timers.tick(step);
        await settle();
      }
    },
  };
}

/** The rejection message of a tracked promise, or what it did instead (for the assertion message). */
function rejection(state: { outcome: { ok: true; value: unknown } | { ok: false; error: Error } | null }): string {
  const outcome = state.outcome;
  if (outcome === null) return 'still pending';
  return outcome.ok ? `resolved with ${JSON.stringify(outcome.value)}` : outcome.error.message;
}

/** Resolves `promise`'s outcome into a value a test can look at without awaiting it. */
function track<T>(promise: Promise<T>): { outcome: { ok: true; value: T } | { ok: false; error: Error } | null } {
  const state: { outcome: { ok: true; value: T } | { ok: false; error: Error } | null } = { outcome: null };
  promise.then(
    (value) => (state.outcome = { ok: true, value }),
    (error: Error) => (state.outcome = { ok: false, error }),
  );
  return state;
}

/** Carries requests to a CollectorHost (nothing attached); while `silent`, requests are held and nothing comes back. */
class GatedTransport implements CollectorTransport {
  silent = false;
  severed = 0;
  sent: CollectorRequest[] = [];
  readonly held: CollectorRequest[] = [];
  #host: CollectorHost | null = null;
  #deliver: ((output: CollectorOutput) => void) | null = null;

  listen(onOutput: (output: CollectorOutput) => void): void {
    this.#deliver = (output) => {
      if (!this.silent) onOutput(output);
    };
    this.#host = new CollectorHost((event) => this.#deliver?.(event));
  }

  send(request: CollectorRequest): void {
    this.sent.push(request);
    if (this.silent) this.held.push(request);
    else this.#carry(request);
  }

  /** Answers what was held (the collector woke up). */
  release(): void {
    this.silent = false;
    for (const request of this.held.splice(0)) this.#carry(request);
  }

  /** Replies carried back so far (delivered or swallowed while silent). */
  replies = 0;
  readonly #replyWaiters: (() => void)[] = [];

  #carry(request: CollectorRequest): void {
    void this.#host!.handle(structuredClone(request)).then((reply) => {
      this.#deliver?.(reply);
      this.replies++;
      for (const wake of this.#replyWaiters.splice(0)) wake();
    });
  }

  /** Resolves once `count` replies in all have been carried back. */
  async untilReplies(count: number): Promise<void> {
    while (this.replies < count) await new Promise<void>((resolve) => this.#replyWaiters.push(resolve));
  }

  sever(): void {
    this.severed++;
  }

  async close(): Promise<void> {
    await this.#host?.close();
  }
}

function captureWarnings(): { warnings: string[]; stop(): void } {
  const warnings: string[] = [];
  // node:test's mock timers announce themselves as experimental: not a warning of the client's.
  const listener = (warning: Error) => {
    if (warning.name !== 'ExperimentalWarning') warnings.push(warning.message);
  };
  process.on('warning', listener);
  return { warnings, stop: () => process.off('warning', listener) };
}

test('a request past its deadline is rejected naming the op and the deadline; its late reply is dropped quietly; the next request works', async (t) => {
  const time = virtualTime(t);
  const transport = new GatedTransport();
  const client = new CollectorClient(transport, 'process', 1, { requestMs: 150, clock: time.clock });
  const capture = captureWarnings();
  try {
    transport.silent = true;
    const request = track(client.discovery.processes('x'));
    await time.advance(149);
    assert.equal(request.outcome, null, `1 ms before the deadline: ${JSON.stringify(request.outcome)}`);
    await time.advance(1);
    const outcome = request.outcome as { ok: false; error: Error } | null;
    assert.ok(outcome && !outcome.ok && outcome.error instanceof CollectorDeadlineError, `at the deadline a CollectorDeadlineError: ${outcome && !outcome.ok ? outcome.error.constructor.name : JSON.stringify(outcome)}`);
    assert.equal(outcome.error.message, 'the collector did not answer discover.processes within 150 ms: the request was abandoned');
    assert.equal(client.down, null, 'a missed deadline alone does not declare the collector down');
    const repliesBefore = transport.replies;
    transport.release(); // the late reply arrives
    await transport.untilReplies(repliesBefore + 1);
    const list = await client.discovery.processes('no-such-process-name-at-all');
    assert.deepEqual(list, { items: [], total: 0 });
    assert.deepEqual(capture.warnings, [], 'no warning for the late reply');
  } finally {
    capture.stop();
    await client.close();
  }
});

test('per-op deadlines override the default', async (t) => {
  const time = virtualTime(t);
  const transport = new GatedTransport();
  const client = new CollectorClient(transport, 'process', 1, { requestMs: 100, perOpMs: { 'discover.symbols': 400 }, clock: time.clock });
  try {
    transport.silent = true;
    const quick = track(client.discovery.tracepoints());
    const slow = track(client.discovery.symbols('c'));
    await time.advance(99);
    assert.deepEqual([quick.outcome, slow.outcome], [null, null], 'nothing rejected at 99 ms');
    await time.advance(1);
    assert.match(rejection(quick), /did not answer discover\.tracepoints within 100 ms/);
    assert.equal(slow.outcome, null, `symbols still waits at 100 ms: ${JSON.stringify(slow.outcome)}`);
    await time.advance(299);
    assert.equal(slow.outcome, null, `symbols still waits at 399 ms: ${JSON.stringify(slow.outcome)}`);
    await time.advance(1);
    assert.match(rejection(slow), /did not answer discover\.symbols within 400 ms/);
  } finally {
    await client.close();
  }
});

test('heartbeat: a silent collector is declared down at the deadline; every handle is told, pending and later requests fail with the reason, the channel is cut', async (t) => {
  const time = virtualTime(t);
  const transport = new GatedTransport();
  const client = new CollectorClient(transport, 'process', 1, { heartbeat: { intervalMs: 100, deadlineMs: 500 }, clock: time.clock });
  try {
    // (Probes ending with the reason: lifeline.kernel.test.ts, on real probes.)
    const profile = client.openProfile();
    const stopped: string[] = [];
    profile.onMessage((message) => {
      if (message.type === 'profile.stopped') stopped.push(message.reason ?? '');
    });
    let downReason: string | null = null;
    client.onDown((reason) => (downReason = reason));

    // Answering: no verdict, however long.
    await time.advance(1000);
    assert.equal(client.down, null, 'an answering collector is never declared down');
    const pingsSent = transport.sent.filter((r) => r.command.op === 'ping').length;
    assert.equal(pingsSent, 10, `one ping every 100 ms: ${pingsSent} in 1 s`);

    // Silent from 1000 ms on (the last ping, sent at 1000 ms, was answered at once).
    transport.silent = true;
    const pending = track(client.discovery.processes());
    await time.advance(490);
    assert.equal(client.down, null, `not down 490 ms into the silence: ${client.down}`);
    await time.advance(10);
    assert.equal(client.down, 'the collector process stopped answering for 500 ms: it was disconnected and every probe ends with it (it is killed, by the web process or its own watchdog, and its probes go with it) — restart probeboard');
    assert.equal(rejection(pending), collectorStalledReason(500));
    assert.equal(downReason, client.down);
    assert.equal(transport.severed, 1, 'the channel was cut once');
    assert.deepEqual(stopped, [client.down], 'the profile stopped with the reason');
    const before = transport.sent.length;
    await assert.rejects(client.discovery.tracepoints(), (error: Error) => error.message === client.down);
    assert.equal(transport.sent.length, before, 'a later request is refused without being sent');
    await time.advance(300);
    assert.equal(transport.sent.length, before, `no more pings after the verdict: ${transport.sent.length - before} sent`);
  } finally {
    await client.close();
  }
});

test('heartbeat: one ping at a time is outstanding; pinging resumes once it is answered', async (t) => {
  const time = virtualTime(t);
  const transport = new GatedTransport();
  const client = new CollectorClient(transport, 'process', 1, { heartbeat: { intervalMs: 50, deadlineMs: 10_000 }, clock: time.clock });
  try {
    transport.silent = true;
    await time.advance(400);
    const pings = transport.sent.filter((r) => r.command.op === 'ping').length;
    assert.equal(pings, 1, `while the first ping is unanswered no other is sent (${pings})`);
    transport.release();
    await transport.untilReplies(1);
    await time.advance(200);
    const pingsAfter = transport.sent.filter((r) => r.command.op === 'ping').length;
    assert.equal(pingsAfter, 5, `pinging resumes once answered, one every 50 ms: ${pingsAfter} pings in all`);
    assert.equal(client.down, null);
  } finally {
    await client.close();
  }
});
