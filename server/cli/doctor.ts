/** `probeboard doctor`: what this kernel and these privileges allow, each with why not. */
import { release } from 'node:os';
import { choiceOption, parseCommandLine } from './args.ts';
import { ensureTracefs, FEATURE_NAMES, probeFeature, type FeatureName } from '../libbpf/features.ts';
import { OffCpuCollector } from '../collectors/offcpu.ts';
import { DEFAULT_OFFCPU_SETTINGS } from '../../lib/protocol.ts';

export const DOCTOR_HELP = `usage: probeboard doctor [--format text|json]

Probes, for real, what this kernel and these privileges allow: privileges, BTF, perf events,
tracepoints (and tracefs, mounted when missing and running as root), uprobes, kprobes, fentry,
ring buffer, and off-CPU profiles (the scheduler switch traced with tp_btf or raw_tp: which
one, loaded and attached for a moment). Each line says available, or why not. Exit code 0 when what the dashboard needs
(privileges, BTF, perf events) is there, 1 otherwise.
`;

const LABELS: Record<FeatureName, string> = {
  privileges: 'privileges (root or CAP_BPF+CAP_PERFMON)',
  btf: 'BTF (/sys/kernel/btf/vmlinux)',
  perf_events: 'perf events (CPU sampling)',
  tracepoints: 'tracepoints',
  uprobes: 'uprobes / uretprobes / USDT',
  kprobes: 'kprobes / kretprobes',
  fentry: 'fentry / fexit',
  ringbuf: 'BPF ring buffer',
};

const NEEDED: readonly FeatureName[] = ['privileges', 'btf', 'perf_events'];

export async function runDoctor(argv: string[]): Promise<number> {
  const { values } = parseCommandLine(argv, { format: { type: 'string' } }, 0);
  if (values.help) {
    process.stdout.write(DOCTOR_HELP);
    return 0;
  }
  const format = choiceOption('format', values.format, ['text', 'json'] as const, 'text');
  const tracefs = ensureTracefs();
  const rows = FEATURE_NAMES.map((feature) => {
    let result;
    try {
      result = probeFeature(feature);
    } catch (error) {
      return { feature, available: false, reason: `could not be probed: ${(error as Error).message}` };
    }
    return result.available
      ? { feature, available: true, reason: null }
      : { feature, available: false, reason: result.notSupported.reason };
  });
  const tracefsRow = tracefs.mounted
    ? { feature: 'tracefs', available: true, reason: tracefs.mountedNow ? `mounted now at ${tracefs.path}` : null }
    : { feature: 'tracefs', available: false, reason: `${tracefs.reason}; run: ${tracefs.command}` };
  const all = [...rows, tracefsRow, offCpuRow()];
  if (format === 'json') {
    process.stdout.write(JSON.stringify({ kernel: release(), features: all }, null, 2) + '\n');
  } else {
    process.stdout.write(`kernel ${release()}\n`);
    const extra: Record<string, string> = { tracefs: 'tracefs (/sys/kernel/tracing)', offcpu: 'off-CPU profiles (sched_switch)' };
    const width = Math.max(...Object.values(LABELS).map((label) => label.length), ...Object.values(extra).map((label) => label.length));
    for (const row of all) {
      const label = extra[row.feature] ?? LABELS[row.feature as FeatureName];
      const state = row.available ? 'yes' : 'NO ';
      process.stdout.write(`  ${state}  ${row.reason ? `${label.padEnd(width)}  ${row.reason}` : label}\n`);
    }
  }
  return rows.every((row) => row.available || !NEEDED.includes(row.feature as FeatureName)) ? 0 : 1;
}

/** Off-CPU profiles, probed for real: the program loaded and attached (on this process only), then closed. */
function offCpuRow(): { feature: string; available: boolean; reason: string | null } {
  try {
    const collector = OffCpuCollector.open({ kind: 'pid', pid: process.pid }, DEFAULT_OFFCPU_SETTINGS);
    const via = collector.attachedVia;
    collector.close();
    return { feature: 'offcpu', available: true, reason: `via ${via}` };
  } catch (error) {
    return { feature: 'offcpu', available: false, reason: (error as Error).message };
  }
}
