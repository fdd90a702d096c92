/**
 * CollectorClient's deadlines, without a kernel: a transport in this process that carries
 * requests to a real CollectorHost (fake latency collectors) and can be told to go silent, as
 * a stuck collector process is. Requests past their deadline are rejected naming the op and the
 * deadline and their late replies dropped without a warning; with a heartbeat, a silent
 * collector is declared down (handles told, the channel cut) and an answering one is not. The real process cases are in lifeline.kernel.test.ts.
 * Run: node --import tsx --test server/privileged/deadlines.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CollectorClient, CollectorDeadlineError, collectorStalledReason, type CollectorTransport } from './backend.ts';
import { CollectorHost } from './host.ts';
import type { CollectorOutput, CollectorRequest } from './protocol.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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

  #carry(request: CollectorRequest): void {
    void this.#host!.handle(structuredClone(request)).then((reply) => this.#deliver?.(reply));
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
  const listener = (warning: Error) => warnings.push(warning.message);
  process.on('warning', listener);
  return { warnings, stop: () => process.off('warning', listener) };
}

test('a request past its deadline is rejected naming the op and the deadline; its late reply is dropped quietly; the next request works', async () => {
  const transport = new GatedTransport();
  const client = new CollectorClient(transport, 'process', 1, { requestMs: 150 });
  const capture = captureWarnings();
  try {
    transport.silent = true;
    const started = performance.now();
    await assert.rejects(client.discovery.processes('x'), (error: Error) => {
      assert.ok(error instanceof CollectorDeadlineError, `a CollectorDeadlineError: ${error.constructor.name}`);
      assert.equal(error.message, 'the collector did not answer discover.processes within 150 ms: the request was abandoned');
      return true;
    });
    const tookMs = performance.now() - started;
    assert.ok(tookMs >= 140 && tookMs < 1000, `rejected at the deadline (${tookMs.toFixed(0)} ms)`);
    assert.equal(client.down, null, 'a missed deadline alone does not declare the collector down');
    transport.release(); // the late reply arrives
    await sleep(50);
    const list = await client.discovery.processes('no-such-process-name-at-all');
    assert.deepEqual(list, { items: [], total: 0 });
    await sleep(20);
    assert.deepEqual(capture.warnings, [], 'no warning for the late reply');
  } finally {
    capture.stop();
    await client.close();
  }
});

test('per-op deadlines override the default', async () => {
  const transport = new GatedTransport();
  const client = new CollectorClient(transport, 'process', 1, { requestMs: 100, perOpMs: { 'discover.symbols': 400 } });
  try {
    transport.silent = true;
    const started = performance.now();
    const quick = client.discovery.tracepoints().catch((error: Error) => ({ error: error.message, at: performance.now() - started }));
    const slow = client.discovery.symbols('c').catch((error: Error) => ({ error: error.message, at: performance.now() - started }));
    const [a, b] = (await Promise.all([quick, slow])) as { error: string; at: number }[];
    assert.match(a!.error, /did not answer discover\.tracepoints within 100 ms/);
    assert.match(b!.error, /did not answer discover\.symbols within 400 ms/);
    assert.ok(a!.at < 350 && b!.at >= 390, `tracepoints at ${a!.at.toFixed(0)} ms, symbols at ${b!.at.toFixed(0)} ms`);
  } finally {
    await client.close();
  }
});

test('heartbeat: a silent collector is declared down within the deadline; every handle is told, pending and later requests fail with the reason, the channel is cut', async () => {
  const transport = new GatedTransport();
  const client = new CollectorClient(transport, 'process', 1, { heartbeat: { intervalMs: 100, deadlineMs: 500 } });
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
    await sleep(1000);
    assert.equal(client.down, null, 'an answering collector is never declared down');
    const pingsSent = transport.sent.filter((r) => r.command.op === 'ping').length;
    assert.ok(pingsSent >= 5, `pings went out every 100 ms (${pingsSent} in 1 s)`);

    transport.silent = true;
    const silentAt = performance.now();
    const pending = client.discovery.processes();
    await assert.rejects(pending, (error: Error) => error.message === collectorStalledReason(500));
    const tookMs = performance.now() - silentAt;
    assert.ok(tookMs >= 400 && tookMs < 900, `declared down ${tookMs.toFixed(0)} ms after it went silent (deadline 500 ms)`);
    assert.equal(client.down, 'the collector process stopped answering for 500 ms: it was disconnected and every probe ends with it (it is killed, by the web process or its own watchdog, and its probes go with it) — restart probeboard');
    assert.equal(downReason, client.down);
    assert.equal(transport.severed, 1, 'the channel was cut once');
    assert.deepEqual(stopped, [client.down], 'the profile stopped with the reason');
    const before = transport.sent.length;
    await assert.rejects(client.discovery.tracepoints(), (error: Error) => error.message === client.down);
    assert.equal(transport.sent.length, before, 'a later request is refused without being sent');
    await sleep(300);
    assert.equal(transport.sent.length, before, 'no more pings after the verdict');
  } finally {
    await client.close();
  }
});

test('heartbeat: one ping at a time is outstanding; pinging resumes once it is answered', async () => {
  const transport = new GatedTransport();
  const client = new CollectorClient(transport, 'process', 1, { heartbeat: { intervalMs: 50, deadlineMs: 10_000 } });
  try {
    transport.silent = true;
    await sleep(400);
    const pings = transport.sent.filter((r) => r.command.op === 'ping').length;
    assert.equal(pings, 1, `while the first ping is unanswered no other is sent (${pings})`);
    transport.release();
    await sleep(200);
    const pingsAfter = transport.sent.filter((r) => r.command.op === 'ping').length;
    assert.ok(pingsAfter >= 3, `pinging resumes once answered (${pingsAfter} pings in all)`);
    assert.equal(client.down, null);
  } finally {
    await client.close();
  }
});
