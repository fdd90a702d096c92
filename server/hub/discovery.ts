/**
 * Hub feature: probe discovery for the dashboard's picker (docs/protocol.md, lib/protocol-events.ts).
 *
 * Each `discover:*` request, checked by the hub (lib/schema/events.ts), is looked up by the
 * collector (server/privileged/discovery.ts: it reads /proc, tracefs and binaries, which the
 * unprivileged web process cannot) and answered through its acknowledgement with the first
 * DISCOVERY_LIMIT matches and how many matched in all, or an error naming what was wrong (bad
 * payload, unknown binary, not ELF, no such pid, the collector gone, …). Nothing is kept
 * between requests.
 */
import type { Discovery } from '../privileged/backend.ts';
import { RequestError, type FeatureFactory } from './feature.ts';

/** Turns every lookup error into a refusal carrying its message. */
async function asRequest<T>(lookup: Promise<T>): Promise<T> {
  try {
    return await lookup;
  } catch (error) {
    throw new RequestError(error instanceof Error ? error.message : String(error));
  }
}

/** `discovery`: the backend's lookups (backend.discovery). */
export function discoveryFeature(discovery: Discovery): FeatureFactory {
  return () => ({
    handlers: {
      'discover:tracepoints': (_socket, { glob }) => asRequest(discovery.tracepoints(glob)),
      'discover:processes': (_socket, { query }) => asRequest(discovery.processes(query)),
      'discover:objects': (_socket, { pid }) => asRequest(discovery.objects(pid)),
      'discover:symbols': (_socket, { binary, glob }) => asRequest(discovery.symbols(binary, glob)),
      'discover:usdt': (_socket, target) => asRequest(discovery.usdt('pid' in target ? { pid: target.pid } : { binary: target.binary })),
    },
  });
}
