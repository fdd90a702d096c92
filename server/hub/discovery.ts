/**
 * Hub feature: probe discovery for the dashboard's picker (docs/protocol.md, lib/protocol-events.ts).
 *
 * Each `discover:*` request is validated here (lib/validate-events.ts), looked up by the
 * collector (server/privileged/discovery.ts: it reads /proc, tracefs and binaries, which the
 * unprivileged web process cannot) and answered through its acknowledgement with the first
 * DISCOVERY_LIMIT matches and how many matched in all, or an error naming what was wrong (bad
 * payload, unknown binary, not ELF, no such pid, the collector gone, …). Nothing is kept
 * between requests.
 */
import {
  checkDiscoverObjects,
  checkDiscoverProcesses,
  checkDiscoverSymbols,
  checkDiscoverTracepoints,
  checkDiscoverUsdt,
} from '../../lib/validate-events.ts';
import type { Checked } from '../../lib/validate.ts';
import type { Discovery } from '../privileged/backend.ts';
import { RequestError, type FeatureFactory } from './feature.ts';

function valueOf<T>(checked: Checked<T>): T {
  if (!checked.ok) throw new RequestError(checked.error);
  return checked.value;
}

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
      'discover:tracepoints': (_socket, payload) => {
        const { glob } = valueOf(checkDiscoverTracepoints(payload));
        return asRequest(discovery.tracepoints(glob));
      },
      'discover:processes': (_socket, payload) => {
        const { query } = valueOf(checkDiscoverProcesses(payload));
        return asRequest(discovery.processes(query));
      },
      'discover:objects': (_socket, payload) => {
        const { pid } = valueOf(checkDiscoverObjects(payload));
        return asRequest(discovery.objects(pid));
      },
      'discover:symbols': (_socket, payload) => {
        const { binary, glob } = valueOf(checkDiscoverSymbols(payload));
        return asRequest(discovery.symbols(binary, glob));
      },
      'discover:usdt': (_socket, payload) => {
        const target = valueOf(checkDiscoverUsdt(payload));
        return asRequest(discovery.usdt('pid' in target ? { pid: target.pid } : { binary: target.binary }));
      },
    },
  });
}
