/**
 * What the commands that load BPF programs share: the kernel collector endpoint and the
 * preflight that says, before anything is loaded, what is missing and how to fix it.
 */
import { LocalCollectorChannel } from '../collectors/local.ts';
import type { CollectorChannel } from '../collectors/types.ts';
import type { Symbolizer } from '../symbolizer/index.ts';
import { ensureTracefs, probeFeature, type FeatureName } from '../libbpf/features.ts';

/** The in-process collector; `symbolizer` names its frames (default: a new one of its own). */
export function createKernelChannel(symbolizer?: Symbolizer): CollectorChannel {
  return new LocalCollectorChannel({ symbolizer });
}

/**
 * Checks privileges, BTF and perf events, and mounts tracefs when it is missing (as root).
 * Returns one line per problem, each naming what is missing and the fix; empty when all is well.
 */
export function preflight(needs: readonly FeatureName[] = ['privileges', 'btf', 'perf_events']): string[] {
  const problems: string[] = [];
  for (const feature of needs) {
    const result = probeFeature(feature);
    if (!result.available) problems.push(fixFor(feature, result.notSupported.message));
  }
  // Tracepoint-based probes need tracefs; mounting it is harmless and libbpf expects it there.
  if (problems.length === 0) {
    const tracefs = ensureTracefs();
    if (!tracefs.mounted && needs.includes('tracepoints')) problems.push(`${tracefs.reason}; run: ${tracefs.command}`);
  }
  return problems;
}

function fixFor(feature: FeatureName, message: string): string {
  switch (feature) {
    case 'privileges':
      return `${message} — run as root (sudo npm start, sudo npx probeboard …) or grant CAP_BPF and CAP_PERFMON`;
    case 'btf':
      return `${message} — probeboard's BPF programs are CO-RE and need a kernel built with CONFIG_DEBUG_INFO_BTF=y`;
    case 'perf_events':
      return `${message} — check /proc/sys/kernel/perf_event_paranoid and that the kernel has CONFIG_PERF_EVENTS`;
    default:
      return message;
  }
}
