/**
 * link:create cost as a session's viewer links pile up: the round trip of each create, first
 * 100 against last 100, through a real hub (server/hub/testing.ts, loopback, port 0) and a real
 * socket.io operator. The hub's clock is moved past every link's minute at each cap (1,000 live
 * links), so creates go on through the purges, as in server/hub/sessions.test.ts, which checks
 * the same run's function (cap, purge, deltas) and leaves the timing to this file.
 *
 *   node --import tsx bench/link-create.ts [--links 10000]
 *
 * Targets (were asserted in the unit suite, where a loaded machine decided them): the median of
 * the last 100 creates at most twice the first 100's + 0.5 ms (no cost growing with the number
 * of links), and under 5 ms.
 */
import { io as connect } from 'socket.io-client';
import { startTestHub } from '../server/hub/testing.ts';
import type { Ack } from '../lib/protocol.ts';
import { option } from './proc.ts';

const TOKEN = 'bench-link-create-token-0123456789';
const CAP = 1000;

const links = Number(option('links', '10000'));
let clock = Date.now();
const h = await startTestHub([], TOKEN, { sessionFeatures: () => [], now: () => clock });
const creator = connect(h.url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token: TOKEN } });
await new Promise<void>((resolve, reject) => {
  creator.once('connect', () => resolve());
  creator.once('connect_error', reject);
});
const ask = (payload: unknown) => new Promise<Ack<unknown>>((resolve) => creator.emit('link:create', payload, resolve));

const roundTripMs: number[] = [];
for (let i = 0; i < links; i++) {
  if (i > 0 && i % CAP === 0) clock += 61_000; // every live link expires: the next create purges them
  const started = performance.now();
  const reply = await ask({ label: `link ${i}`, minutes: 1 });
  roundTripMs.push(performance.now() - started);
  if (!reply.ok) throw new Error(`link ${i} refused: ${JSON.stringify(reply)}`);
}
creator.close();
await h.close();

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const first = median(roundTripMs.slice(0, 100));
const last = median(roundTripMs.slice(-100));
const flat = last <= first * 2 + 0.5;
console.log(`link:create round trip over ${links} links (cap ${CAP}, purged at each cap): median of the first 100 ${first.toFixed(2)} ms, of the last 100 ${last.toFixed(2)} ms`);
console.log(`targets: last <= 2 x first + 0.5 ms: ${flat ? 'met' : 'MISSED'}; last < 5 ms: ${last < 5 ? 'met' : 'MISSED'}`);
