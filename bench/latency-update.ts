/**
 * bench/latency-update: user-space CPU of the histogram update path with 10 latency probes
 * live, read once per second (the dashboard's default), compared with the target: under 1%
 * of one core beyond the probes' own kernel cost.
 *
 *   sudo node --import tsx bench/latency-update.ts [--seconds 20]
 *
 * Prints the wall time of each read of all probes and this process's CPU time (user + system)
 * per second of run. The system part includes BPF programs that fire on this process's own
 * syscalls (syscall:*, runq), so it over-states the update path, never under-states it.
 */
import { LatencyCollector } from '../server/collectors/latency.ts';

const i = process.argv.indexOf('--seconds');
const seconds = i > 0 ? Number(process.argv[i + 1]) : 20;
const specs = [
  'syscall:read',
  'syscall:write',
  'syscall:futex',
  'syscall:epoll_wait',
  'syscall:nanosleep',
  'syscall:openat',
  'syscall:*',
  'runq',
  'block',
  'uprobe:c:nanosleep',
];
const probes = specs.map((s) => LatencyCollector.open(s));
const readMs: number[] = [];
let keys = 0;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await new Promise<void>((resolve) => {
  let n = 0;
  const timer = setInterval(() => {
    const a = performance.now();
    keys = 0;
    for (const p of probes) keys += p.read().series.length;
    readMs.push(performance.now() - a);
    if (++n >= seconds) {
      clearInterval(timer);
      resolve();
    }
  }, 1000);
});
const wallS = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
for (const p of probes) p.close();
readMs.sort((a, b) => a - b);
const pct = ((cpu.user + cpu.system) / 1e6 / wallS) * 100;
console.log(`${probes.length} probes (${specs.join(', ')}), read every 1 s for ${wallS.toFixed(1)} s, ${keys} histogram keys at the end`);
console.log(`read of all probes: median ${readMs[Math.floor(readMs.length / 2)].toFixed(2)} ms, max ${readMs[readMs.length - 1].toFixed(2)} ms`);
console.log(`process CPU: user ${(cpu.user / 1e3).toFixed(0)} ms + system ${(cpu.system / 1e3).toFixed(0)} ms = ${pct.toFixed(2)}% of one core (target < 1%)`);
