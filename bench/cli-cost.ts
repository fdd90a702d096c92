/**
 * bench/cli-cost — what one `probeboard profile` command costs, start to exit, next to perf.
 *
 *   sudo node --import tsx bench/cli-cost.ts [--rounds 3] [--durations 15,1] [--hz 99] [--runner auto|bin|tsx] [--checkout DIR] [--compare DIR]
 *
 * While a steady CPU load runs (test/workloads/spin.c: one busy process alternating its two
 * functions), runs for each duration D, interleaved `--rounds` times (the order of the two tools
 * alternates every round, so machine noise and warm caches hit both alike):
 *   probeboard: `bin/probeboard.js profile --hz HZ --duration D --format folded > /dev/null`
 *   perf:       `perf record -F HZ -a -g -q -o TMP -- sleep D`, then `perf script -i TMP > /dev/null`
 * Each command runs under `/usr/bin/time -f "%U %S %M %e"`, which reports what the kernel charged
 * the command and every process it waited for (getrusage of children): user and system CPU
 * seconds, peak RSS (the largest single process, KB) and wall seconds. perf's two commands are
 * summed (CPU, wall) and their peak RSS is the larger of the two.
 *
 * `--runner`: how probeboard is started. `bin` = `bin/probeboard.js` executed, as the `probeboard`
 * command runs (its #! line's node flags apply);
 * `tsx` = `node --import tsx server/cli/main.ts` (the sources through the tsx loader, for when no
 * build exists yet); `auto` (default) = `bin` when dist/cli.js exists (the built bundle), else `tsx`.
 * `--checkout DIR` runs the probeboard of another checkout (with its own dist/), e.g. a copy of an
 * older commit, to compare before and after under the same conditions; default: this one.
 * `--compare DIR` also runs a second checkout's probeboard (same runner) in every round, right
 * next to the first and to perf: before and after in one run.
 *
 * Prints per-round figures on stderr, then for each D the medians and the ratio
 * probeboard CPU / perf CPU (target ≤ 1.0 at D = 15; D = 1 shows what start-up alone costs).
 * Needs root, perf and /usr/bin/time (apt-get install -y time).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWorkload } from '../test/workloads/build.ts';
import { option } from './proc.ts';

const ROOT = path.resolve(option('checkout', path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')));
const ROUNDS = Number(option('rounds', '3'));
const DURATIONS = option('durations', '15,1').split(',').map(Number);
const HZ = option('hz', '99');
const RUNNER = option('runner', 'auto');

/** What /usr/bin/time reported for one command. */
interface Cost {
  /** User + system CPU seconds. */
  cpu: number;
  user: number;
  sys: number;
  /** Peak resident set of the largest process, MB. */
  rssMb: number;
  /** Wall seconds. */
  wall: number;
}

interface Row {
  probeboard: Cost;
  perf: Cost;
  /** perf record and perf script separately. */
  perfRecord: Cost;
  perfScript: Cost;
  /** Samples probeboard reported on stderr. */
  samples: number;
  /** The --compare checkout's probeboard, when given. */
  compare?: Cost;
}

const COMPARE = option('compare', '');

function probeboardCommand(root = ROOT): { argv: string[]; label: string } {
  const built = existsSync(path.join(root, 'dist', 'cli.js'));
  const runner = RUNNER === 'auto' ? (built ? 'bin' : 'tsx') : RUNNER;
  // Executed as users run `probeboard` (npm links bin/probeboard.js), so the V8 flags of its #! line apply.
  if (runner === 'bin') return { argv: [path.join(root, 'bin', 'probeboard.js')], label: `${path.join(root, 'bin', 'probeboard.js')} (executed: its #! line's node flags apply)` };
  if (runner === 'tsx') return { argv: [process.execPath, '--import', 'tsx', path.join(root, 'server', 'cli', 'main.ts')], label: `node --import tsx ${path.join(root, 'server', 'cli', 'main.ts')} (no dist/ build)` };
  throw new Error(`--runner must be auto, bin or tsx, got ${JSON.stringify(RUNNER)}`);
}

/**
 * Runs `argv` under /usr/bin/time with stdout to /dev/null. Resolves with the cost and the
 * command's stderr; rejects when it exits non-zero.
 */
function timed(argv: string[], scratch: string): Promise<{ cost: Cost; stderr: string }> {
  const report = path.join(scratch, 'time.out');
  rmSync(report, { force: true });
  const devNull = openSync('/dev/null', 'w');
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-o', report, '-f', '%U %S %M %e', ...argv], { cwd: ROOT, stdio: ['ignore', devNull, 'pipe'] });
    closeSync(devNull);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`${argv.join(' ')} exited with ${code}: ${stderr.trim()}`));
      const fields = readFileSync(report, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
      const [user, sys, rssKb, wall] = fields;
      if (fields.length !== 4 || fields.some((x) => !Number.isFinite(x))) return reject(new Error(`cannot read /usr/bin/time's report: ${readFileSync(report, 'utf8')}`));
      resolve({ cost: { cpu: user + sys, user, sys, rssMb: rssKb / 1024, wall }, stderr });
    });
  });
}

async function runProbeboard(command: string[], seconds: number, scratch: string): Promise<{ cost: Cost; samples: number }> {
  const { cost, stderr } = await timed([...command, 'profile', '--hz', HZ, '--duration', String(seconds), '--format', 'folded'], scratch);
  const samples = Number(/(\d+) samples in/.exec(stderr)?.[1] ?? NaN);
  return { cost, samples };
}

async function runPerf(seconds: number, scratch: string): Promise<{ record: Cost; script: Cost }> {
  const data = path.join(scratch, 'perf.data');
  const record = await timed(['perf', 'record', '-F', HZ, '-a', '-g', '-q', '-o', data, '--', 'sleep', String(seconds)], scratch);
  const script = await timed(['perf', 'script', '-i', data], scratch);
  rmSync(data, { force: true });
  return { record: record.cost, script: script.cost };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function sum(a: Cost, b: Cost): Cost {
  return { cpu: a.cpu + b.cpu, user: a.user + b.user, sys: a.sys + b.sys, rssMb: Math.max(a.rssMb, b.rssMb), wall: a.wall + b.wall };
}

function describe(label: string, costs: Cost[]): string {
  const m = (f: (c: Cost) => number) => median(costs.map(f));
  return `  ${label.padEnd(26)} CPU ${m((c) => c.cpu).toFixed(3)} s (user ${m((c) => c.user).toFixed(2)}, sys ${m((c) => c.sys).toFixed(2)})  peak RSS ${m((c) => c.rssMb).toFixed(1)} MB  wall ${m((c) => c.wall).toFixed(2)} s`;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root (both profilers need it)');
  for (const tool of ['/usr/bin/time', 'perf']) {
    if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).error) throw new Error(`${tool} is missing (apt-get install -y ${tool === 'perf' ? 'linux-perf' : 'time'})`);
  }
  const command = probeboardCommand();
  const compare = COMPARE ? probeboardCommand(path.resolve(COMPARE)) : undefined;
  const scratch = mkdtempSync(path.join(tmpdir(), 'pb-cli-cost-'));
  const spin = buildWorkload('spin');
  // The steady load: long enough to outlast every round; killed at the end.
  const totalSeconds = Math.ceil(DURATIONS.reduce((a, d) => a + 2 * d + 10, 0) * ROUNDS + 60);
  const load = spawn(spin, [String(totalSeconds)], { stdio: 'ignore' });
  const rows = new Map<number, Row[]>(DURATIONS.map((d) => [d, []]));
  try {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    // One untimed run of each, so that neither pays for cold page caches in the first round.
    await runProbeboard(command.argv, 1, scratch);
    if (compare) await runProbeboard(compare.argv, 1, scratch);
    await runPerf(1, scratch);
    for (let round = 0; round < ROUNDS; round++) {
      for (const seconds of DURATIONS) {
        let pb: Awaited<ReturnType<typeof runProbeboard>> | undefined;
        let other: Awaited<ReturnType<typeof runProbeboard>> | undefined;
        let perf: Awaited<ReturnType<typeof runPerf>> | undefined;
        // Which goes first rotates with the round.
        const steps = [
          async () => (pb = await runProbeboard(command.argv, seconds, scratch)),
          async () => (perf = await runPerf(seconds, scratch)),
          ...(compare ? [async () => (other = await runProbeboard(compare.argv, seconds, scratch))] : []),
        ];
        for (let k = 0; k < steps.length; k++) await steps[(k + round) % steps.length]();
        if (!pb || !perf) throw new Error('a run did not happen');
        const row: Row = { probeboard: pb.cost, perf: sum(perf.record, perf.script), perfRecord: perf.record, perfScript: perf.script, samples: pb.samples, compare: other?.cost };
        rows.get(seconds)!.push(row);
        process.stderr.write(
          `round ${round + 1}/${ROUNDS} D=${seconds}s: probeboard ${row.probeboard.cpu.toFixed(2)} s CPU ${row.probeboard.rssMb.toFixed(0)} MB (${row.samples} samples); ` +
            `perf record ${row.perfRecord.cpu.toFixed(2)} s + script ${row.perfScript.cpu.toFixed(2)} s CPU, ${row.perf.rssMb.toFixed(0)} MB` +
            (row.compare ? `; compare ${row.compare.cpu.toFixed(2)} s CPU ${row.compare.rssMb.toFixed(0)} MB` : '') + '\n',
        );
      }
    }
  } finally {
    load.kill('SIGKILL');
    rmSync(scratch, { recursive: true, force: true });
  }

  console.log(`probeboard: ${command.label}`);
  if (compare) console.log(`compare:    ${compare.label}`);
  console.log(`load: ${path.basename(spin)} (test/workloads/spin.c, one busy process); ${ROUNDS} interleaved rounds; medians; ${HZ} Hz, whole machine, folded to /dev/null`);
  for (const seconds of DURATIONS) {
    const r = rows.get(seconds)!;
    const pbCpu = median(r.map((x) => x.probeboard.cpu));
    const perfCpu = median(r.map((x) => x.perf.cpu));
    console.log(`D = ${seconds} s`);
    console.log(describe('probeboard profile', r.map((x) => x.probeboard)));
    if (compare) console.log(describe('compare probeboard', r.map((x) => x.compare!)));
    console.log(describe('perf record + perf script', r.map((x) => x.perf)));
    console.log(describe('  perf record', r.map((x) => x.perfRecord)));
    console.log(describe('  perf script', r.map((x) => x.perfScript)));
    console.log(`  ratio probeboard / perf CPU: ${(pbCpu / perfCpu).toFixed(2)}  (per round: ${r.map((x) => (x.probeboard.cpu / x.perf.cpu).toFixed(2)).join(', ')})`);
    if (compare) {
      const cmpCpu = median(r.map((x) => x.compare!.cpu));
      console.log(`  ratio compare / perf CPU:    ${(cmpCpu / perfCpu).toFixed(2)}  (per round: ${r.map((x) => (x.compare!.cpu / x.perf.cpu).toFixed(2)).join(', ')})`);
    }
  }
}

await main();
