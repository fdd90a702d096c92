/**
 * The picker's discovery lookups as the collector runs them (they read /proc of every user's
 * processes, tracefs and binaries, so they live in the privileged process): each returns the
 * first DISCOVERY_LIMIT matches and how many matched in all, as plain data. Inputs were
 * validated by protocol.ts; errors carry what the user must fix (unknown binary, not ELF, no
 * such pid, …).
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
import { listProcessObjects, listSymbols, listTracepoints, listUsdt } from '../probes/list.ts';

function capped<T>(all: T[]): DiscoveryList<T> {
  return { items: all.slice(0, DISCOVERY_LIMIT), total: all.length };
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

export async function discoverTracepoints(glob?: string): Promise<DiscoveryList<DiscoveredTracepoint>> {
  const all = await listTracepoints(glob);
  return capped(all.map((t) => ({ id: t.id, category: t.category, name: t.name })));
}

export function discoverObjects(pid: number): DiscoveryList<DiscoveredObject> {
  return capped(listProcessObjects(pid).map((o) => ({ path: o.path, executable: o.executable, deleted: o.deleted })));
}

export async function discoverSymbols(binary: string, glob?: string): Promise<DiscoveryList<DiscoveredSymbol>> {
  const all = await listSymbols(binary, glob);
  const seen = new Set<string>();
  const unique = all.filter((s) => (seen.has(s.symbol) ? false : (seen.add(s.symbol), true)));
  return capped(unique.map((s) => ({ binary: s.binary, name: s.name, symbol: s.symbol, spec: `uprobe:${s.binary}:${s.symbol}` })));
}

export async function discoverUsdt(target: { binary: string } | { pid: number }): Promise<DiscoveryList<DiscoveredUsdt>> {
  const all = await listUsdt('pid' in target ? { pid: target.pid } : target.binary);
  // One entry per provider:name per binary (a probe may have several sites).
  const seen = new Set<string>();
  const unique = all.filter((p) => (seen.has(p.spec) ? false : (seen.add(p.spec), true)));
  return capped(unique.map((p) => ({ binary: p.binary, provider: p.provider, name: p.name, args: p.args, semaphore: p.semaphore !== undefined, spec: p.spec })));
}
