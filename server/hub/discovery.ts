/**
 * Hub feature: probe discovery for the dashboard's picker (docs/protocol.md, lib/protocol-events.ts).
 *
 * Each `discover:*` request is answered through its acknowledgement with the first
 * DISCOVERY_LIMIT matches and how many matched in all, or an error naming what was wrong
 * (bad payload, unknown binary, not ELF, no such pid, …). Nothing is kept between requests.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import {
  DISCOVERY_LIMIT,
  type DiscoveredObject,
  type DiscoveredProcess,
  type DiscoveredSymbol,
  type DiscoveredTracepoint,
  type DiscoveredUsdt,
  type DiscoveryList,
} from '../../lib/protocol-events.ts';
import {
  checkDiscoverObjects,
  checkDiscoverProcesses,
  checkDiscoverSymbols,
  checkDiscoverTracepoints,
  checkDiscoverUsdt,
} from '../../lib/validate-events.ts';
import type { Checked } from '../../lib/validate.ts';
import { listProcessObjects, listSymbols, listTracepoints, listUsdt, ProbeInputError } from '../probes/list.ts';
import { RequestError, type FeatureFactory } from './feature.ts';

function capped<T>(all: T[]): DiscoveryList<T> {
  return { items: all.slice(0, DISCOVERY_LIMIT), total: all.length };
}

function valueOf<T>(checked: Checked<T>): T {
  if (!checked.ok) throw new RequestError(checked.error);
  return checked.value;
}

/** Turns the probes' input errors into refusals; anything else keeps its message. */
async function asRequest<T>(run: () => Promise<T> | T): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ProbeInputError || error instanceof Error) throw new RequestError(error.message);
    throw error;
  }
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** User-space processes (those with an executable) whose pid, comm, exe or command line contains `query`. */
export function listProcesses(query?: string): DiscoveryList<DiscoveredProcess> {
  const needle = query?.toLowerCase();
  const all: DiscoveredProcess[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let exe: string;
    try {
      exe = readlinkSync(`/proc/${name}/exe`);
    } catch {
      continue; // kernel thread, gone, or not ours to read
    }
    const comm = (readText(`/proc/${name}/comm`) ?? '').replace(/\n$/, '');
    const cmdline = (readText(`/proc/${name}/cmdline`) ?? '').replace(/\0+$/, '').replace(/\0/g, ' ').slice(0, 200);
    const pid = Number(name);
    if (needle && ![name, comm, exe, cmdline].some((s) => s.toLowerCase().includes(needle))) continue;
    all.push({ pid, comm, exe, cmdline });
  }
  // Newest (highest pid) first: what a user just started is what they look for.
  all.sort((a, b) => b.pid - a.pid);
  return capped(all);
}

export function discoveryFeature(): FeatureFactory {
  return () => ({
    handlers: {
      'discover:tracepoints': (_socket, payload) => {
        const { glob } = valueOf(checkDiscoverTracepoints(payload));
        return asRequest(async (): Promise<DiscoveryList<DiscoveredTracepoint>> => {
          const all = await listTracepoints(glob);
          return capped(all.map((t) => ({ id: t.id, category: t.category, name: t.name })));
        });
      },
      'discover:processes': (_socket, payload) => {
        const { query } = valueOf(checkDiscoverProcesses(payload));
        return asRequest(() => listProcesses(query));
      },
      'discover:objects': (_socket, payload) => {
        const { pid } = valueOf(checkDiscoverObjects(payload));
        return asRequest((): DiscoveryList<DiscoveredObject> =>
          capped(listProcessObjects(pid).map((o) => ({ path: o.path, executable: o.executable, deleted: o.deleted }))),
        );
      },
      'discover:symbols': (_socket, payload) => {
        const { binary, glob } = valueOf(checkDiscoverSymbols(payload));
        return asRequest(async (): Promise<DiscoveryList<DiscoveredSymbol>> => {
          const all = await listSymbols(binary, glob);
          const seen = new Set<string>();
          const unique = all.filter((s) => (seen.has(s.symbol) ? false : (seen.add(s.symbol), true)));
          return capped(unique.map((s) => ({ binary: s.binary, name: s.name, symbol: s.symbol, spec: `uprobe:${s.binary}:${s.symbol}` })));
        });
      },
      'discover:usdt': (_socket, payload) => {
        const target = valueOf(checkDiscoverUsdt(payload));
        return asRequest(async (): Promise<DiscoveryList<DiscoveredUsdt>> => {
          const all = await listUsdt('pid' in target ? { pid: target.pid } : target.binary);
          // One entry per provider:name per binary (a probe may have several sites).
          const seen = new Set<string>();
          const unique = all.filter((p) => (seen.has(p.spec) ? false : (seen.add(p.spec), true)));
          return capped(unique.map((p) => ({ binary: p.binary, provider: p.provider, name: p.name, args: p.args, semaphore: p.semaphore !== undefined, spec: p.spec })));
        });
      },
    },
  });
}
