import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { FlameNode, ViewSettings } from '../../lib/protocol.ts';
import { countNodes, treeToFolded } from '../../lib/flame/tree.ts';
import { foldedFromIntervals } from './folded.ts';
import { ProfileWindow, PRUNED_NAME } from './profile-window.ts';
import { interval, sample } from './testing.ts';

const view = (window: ViewSettings['window'], stackMode: ViewSettings['stackMode'] = 'all', hideIdle = false): ViewSettings => ({
  window,
  stackMode,
  hideIdle,
});

const T0 = 1_700_000_000_000;

/** Checks tree invariants: v >= sum of children, children sorted, no zero nodes. */
function checkTree(node: FlameNode): void {
  let sum = 0;
  const kids = node.c ?? [];
  for (let i = 0; i < kids.length; i++) {
    assert.ok(kids[i].v > 0, `zero node ${kids[i].n}`);
    if (i > 0) assert.ok(kids[i - 1].n <= kids[i].n, `unsorted ${kids[i - 1].n} ${kids[i].n}`);
    sum += kids[i].v;
    checkTree(kids[i]);
  }
  assert.ok(node.v >= sum, `${node.n}: ${node.v} < ${sum}`);
}

function mixed(i: number) {
  return [
    sample('bash', 100, 'main;execute_command', 'entry_SYSCALL_64;do_syscall_64', 1 + (i % 3)),
    sample('node', 200, 'main;LazyCompile:*fib_[j]', '', 2),
    sample('swapper/1', 0, '', 'secondary_startup_64;cpu_idle', 10),
    sample('cc1', 300, '', 'asm_exc_page_fault', 1, { user: 'collision' }),
    sample('cc1', 300, `main;f${i % 4}`, '', 1, { kernel: 'fault' }),
  ];
}

test('every view equals folded text of the same samples', () => {
  const pw = new ProfileWindow();
  const intervals = Array.from({ length: 5 }, (_, i) => interval(T0 + (i + 1) * 1000, mixed(i)));
  for (const iv of intervals) pw.push(iv);
  for (const stackMode of ['all', 'user', 'kernel'] as const) {
    for (const hideIdle of [false, true]) {
      const built = pw.build(view('10s', stackMode, hideIdle), T0 + 5000);
      checkTree(built.tree);
      assert.equal(treeToFolded(built.tree), foldedFromIntervals(intervals, { stackMode, hideIdle }), `${stackMode} ${hideIdle}`);
      assert.equal(built.totalSamples, built.tree.v);
      assert.equal(built.nodeCount, countNodes(built.tree));
      assert.equal(built.prunedSamples, 0);
      assert.equal(built.tree.n, 'all');
    }
  }
});

test('snapshot: all frames', () => {
  const pw = new ProfileWindow();
  pw.push(interval(T0 + 1000, mixed(0)));
  const built = pw.build(view('10s', 'all', true), T0 + 1000);
  assert.equal(
    treeToFolded(built.tree),
    `bash;main;execute_command;entry_SYSCALL_64_[k];do_syscall_64_[k] 1
cc1;[lost stack: collision];asm_exc_page_fault_[k] 1
cc1;main;f0;[lost stack: fault] 1
node;main;LazyCompile:*fib 2
`,
  );
  const node = built.tree.c!.find((c) => c.n === 'node')!;
  assert.equal(node.k, 'p');
  assert.equal(node.c![0].c![0].k, 'j');
  const cc1 = built.tree.c!.find((c) => c.n === 'cc1')!;
  assert.deepEqual(cc1.c!.map((c) => [c.n, c.k]), [['[lost stack: collision]', 'x'], ['main', 'u']]);
});

test('window expiry with an explicit clock', () => {
  const pw = new ProfileWindow();
  // One interval per second for 100 s, each with `i` samples of a frame named after its second.
  for (let i = 1; i <= 100; i++) pw.push(interval(T0 + i * 1000, [sample('app', 1, `s${i}`, '', i)]));
  const now = T0 + 100_000;
  const last10 = pw.build(view('10s'), now);
  assert.equal(last10.totalSamples, [91, 92, 93, 94, 95, 96, 97, 98, 99, 100].reduce((a, b) => a + b));
  assert.equal(last10.intervals, 10);
  assert.equal(last10.windowStartMs, T0 + 90_000);
  assert.equal(last10.windowEndMs, now);
  assert.equal(last10.sampledAtMs, now);
  const last60 = pw.build(view('60s'), now);
  assert.equal(last60.intervals, 60);
  assert.equal(last60.totalSamples, (41 + 100) * 30);
  const all = pw.build(view('all'), now);
  assert.equal(all.totalSamples, 5050);
  assert.equal(all.intervals, 100);
  assert.equal(all.windowStartMs, T0);
  assert.ok(pw.keptIntervals <= 61, `kept ${pw.keptIntervals}`);

  // Time passes without new data: the windows empty out, 'all' does not.
  assert.equal(pw.build(view('10s'), now + 5000).totalSamples, 96 + 97 + 98 + 99 + 100);
  const later = pw.build(view('10s'), now + 10_000);
  assert.equal(later.totalSamples, 0);
  assert.deepEqual(later.tree, { n: 'all', v: 0 });
  assert.equal(later.windowStartMs, now + 10_000);
  assert.equal(pw.build(view('60s'), now + 59_000).totalSamples, 100);
  assert.equal(pw.build(view('all'), now + 1_000_000).totalSamples, 5050);

  // A clock that goes back (tests, or a second viewer built earlier) sees the data again.
  assert.equal(pw.build(view('10s'), now).totalSamples, last10.totalSamples);
  assert.equal(treeToFolded(pw.build(view('10s'), now).tree), treeToFolded(last10.tree));
});

test('health is summed over the window', () => {
  const pw = new ProfileWindow();
  for (let i = 1; i <= 20; i++) {
    pw.push(interval(T0 + i * 1000, mixed(i), { droppedSamples: 1, unknownFrames: 2 }));
  }
  const h10 = pw.build(view('10s', 'all', true), T0 + 20_000).health;
  assert.deepEqual(h10, {
    userStackErrors: { collision: 10, fault: 0, other: 0 },
    kernelStackErrors: { collision: 0, fault: 10, other: 0 },
    droppedSamples: 10,
    unknownFrames: 20,
  });
  assert.equal(pw.build(view('all'), T0 + 20_000).health.droppedSamples, 20);
});

test('pruning into [pruned] keeps totals exact', () => {
  const pw = new ProfileWindow();
  const samples = [sample('big', 1, 'main;work', '', 10_000)];
  for (let i = 0; i < 500; i++) samples.push(sample('big', 1, `main;tiny${String(i).padStart(3, '0')}`, '', 1));
  for (let i = 0; i < 50; i++) samples.push(sample(`p${i}`, 10 + i, 'main', '', 2));
  pw.push(interval(T0 + 1000, samples));
  const full = pw.build(view('10s'), T0 + 1000, { maxNodes: Infinity });
  assert.equal(full.prunedSamples, 0);
  assert.equal(full.nodeCount, 1 + 1 + 1 + 1 + 500 + 50 * 2);

  // minFraction: one pixel of 1920 px.
  const narrow = pw.build(view('10s'), T0 + 1000, { minFraction: 1 / 1920 });
  checkTree(narrow.tree);
  assert.equal(narrow.totalSamples, full.totalSamples);
  assert.equal(narrow.prunedSamples, 500 + 100);
  assert.equal(
    treeToFolded(narrow.tree),
    `[pruned] 100
big;main;[pruned] 500
big;main;work 10000
`,
  );

  // maxNodes: a budget, [pruned] nodes included.
  for (const maxNodes of [2, 3, 5, 50, 200, 600]) {
    const built = pw.build(view('10s'), T0 + 1000, { maxNodes });
    checkTree(built.tree);
    assert.ok(built.nodeCount <= maxNodes, `${built.nodeCount} > ${maxNodes}`);
    assert.equal(built.nodeCount, countNodes(built.tree));
    assert.equal(built.tree.v, full.totalSamples);
    let pruned = 0;
    const walk = (n: FlameNode) => {
      if (n.n === PRUNED_NAME) pruned += n.v;
      n.c?.forEach(walk);
    };
    walk(built.tree);
    assert.equal(pruned, built.prunedSamples);
  }
  const tiny = pw.build(view('10s'), T0 + 1000, { maxNodes: 2 });
  assert.deepEqual(tiny.tree, { n: 'all', v: full.totalSamples, c: [{ n: PRUNED_NAME, v: full.totalSamples, k: 'x' }] });
});

test('reset forgets everything', () => {
  const pw = new ProfileWindow();
  pw.push(interval(T0 + 1000, mixed(1)));
  pw.reset();
  assert.equal(pw.build(view('all'), T0 + 1000).totalSamples, 0);
  assert.equal(pw.distinctStacks, 0);
});

test('same name in user and kernel space stays two frames', () => {
  const pw = new ProfileWindow();
  pw.push(interval(T0 + 1000, [sample('a', 1, 'memcpy', '', 1), { pid: 1, comm: 'a', user: [], kernel: [{ name: 'memcpy', kind: 'k' }], count: 2 }]));
  const tree = pw.build(view('10s'), T0 + 1000).tree;
  assert.deepEqual(tree.c![0].c!.map((c) => [c.n, c.k, c.v]), [['memcpy', 'k', 2], ['memcpy', 'u', 1]]);
});

test('random profiles: budgets hold, totals exact, unpruned equals folded text', () => {
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
  for (let round = 0; round < 20; round++) {
    const pw = new ProfileWindow();
    const intervals = [];
    for (let i = 1; i <= 12; i++) {
      const samples = [];
      for (let s = 0; s < 40; s++) {
        const user = Array.from({ length: Math.floor(random() * 6) }, () => `u${Math.floor(random() * 4)}`).join(';');
        const kernel = Array.from({ length: Math.floor(random() * 4) }, () => `k${Math.floor(random() * 3)}`).join(';');
        const errors = random() < 0.1 ? { user: 'collision' as const } : random() < 0.1 ? { kernel: 'other' as const } : {};
        samples.push(sample(`c${Math.floor(random() * 5)}`, Math.floor(random() * 3), user, kernel, 1 + Math.floor(random() * 50), errors));
      }
      const iv = interval(T0 + i * 1000, samples);
      intervals.push(iv);
      pw.push(iv);
    }
    const now = T0 + 12_000;
    for (const stackMode of ['all', 'user', 'kernel'] as const) {
      const v = view('10s', stackMode, round % 2 === 0);
      const full = pw.build(v, now, { maxNodes: Infinity });
      assert.equal(treeToFolded(full.tree), foldedFromIntervals(intervals.slice(2), v));
      for (const maxNodes of [2, 4, 10, 30, 100]) {
        for (const minFraction of [0, 0.01, 0.2]) {
          const built = pw.build(v, now, { maxNodes, minFraction });
          checkTree(built.tree);
          assert.ok(built.nodeCount <= Math.max(maxNodes, 2), `${built.nodeCount} nodes within the limit of ${maxNodes}`);
          assert.equal(built.nodeCount, countNodes(built.tree));
          assert.equal(built.tree.v, full.tree.v);
          if (built.prunedSamples === 0) assert.deepEqual(built.tree, full.tree);
        }
      }
    }
  }
});

test('same view between pushes reuses the snapshot; a push or a moved clock rebuilds', () => {
  const pw = new ProfileWindow();
  pw.push(interval(T0 + 1000, mixed(1)));
  const a = pw.build(view('10s'), T0 + 1000);
  assert.equal(pw.build(view('10s'), T0 + 1500), a);
  assert.notEqual(pw.build(view('10s'), T0 + 1500, { reuse: false }), a);
  assert.notEqual(pw.build(view('10s', 'user'), T0 + 1500), a);
  assert.equal(pw.build(view('10s'), T0 + 11_000).totalSamples, 0);
  pw.push(interval(T0 + 2000, mixed(2)));
  const b = pw.build(view('10s'), T0 + 2000);
  assert.notEqual(b, a);
  assert.equal(b.totalSamples, a.totalSamples * 2 + 1);
});

test('20,000 short-lived processes (each its own comm, seen once) keep the stack table bounded; totals stay exact', () => {
  const maxColdStacks = 1000;
  const w = new ProfileWindow({ maxColdStacks });
  const PIDS = 20_000;
  let liveBound = 0;
  let heavy = '';
  for (let i = 0; i < PIDS; i++) {
    const pid = 10_000 + i;
    // One interval per second; process `pid` runs within it only. One of them is heavy.
    const count = i === 123 ? 500 : 1;
    if (i === 123) heavy = `job-${pid}`;
    w.push(interval(T0 + (i + 1) * 1000, [
      sample(`job-${pid}`, pid, 'main;work', 'do_syscall_64', count),
      sample('swapper/0', 0, '', 'cpu_idle', 2),
      sample('cc1', 300, 'main;parse', '', 1, { kernel: 'fault' }),
    ]));
    // Stacks of the last 60 s (61 intervals x 3) plus at most maxColdStacks older ones (and the folded ones).
    liveBound = Math.max(liveBound, w.distinctStacks);
  }
  assert.ok(liveBound <= 61 * 3 + maxColdStacks + 2, `stack table stayed within bound: at most ${liveBound} stacks`);
  assert.ok(w.compactions >= (PIDS - maxColdStacks) / maxColdStacks, `compacted ${w.compactions} times`);

  const endMs = T0 + PIDS * 1000;
  const all = w.build(view('all'), endMs, { maxNodes: Infinity });
  assert.equal(all.totalSamples, PIDS * 4 + 499, 'every sample since start is still counted');
  checkTree(all.tree);
  const folded = all.tree.c!.find((c) => c.n === '[earlier stacks]');
  assert.ok(folded && folded.k === 'x', 'older light stacks are folded under the root');
  assert.equal(all.tree.c!.filter((c) => c.n === '[earlier stacks]').length, 1, 'one folded frame, however many compactions');
  assert.ok(all.tree.c!.some((c) => c.n === heavy && c.v === 500), 'the heaviest older process keeps its own frames');
  assert.ok(all.tree.c!.some((c) => c.n === 'cc1' && c.v === PIDS), 'a process seen all along keeps its frames');
  assert.equal(w.build(view('all', 'user', true), endMs, { maxNodes: Infinity }).totalSamples, PIDS * 2 + 499, 'hideIdle still applies to folded samples');
  assert.equal(w.build(view('all', 'kernel', true), endMs, { maxNodes: Infinity }).totalSamples, PIDS * 2 + 499);

  // The live windows lost nothing: the last 60 processes are there by name.
  const recent = w.build(view('60s'), endMs, { maxNodes: Infinity });
  assert.equal(recent.totalSamples, 60 * 4);
  assert.ok(recent.tree.c!.some((c) => c.n === `job-${10_000 + PIDS - 1}`), `the newest process is in the recent window (${recent.tree.c!.length} processes, last ${recent.tree.c!.at(-1)?.n})`);
  assert.ok(!recent.tree.c!.some((c) => c.n === '[earlier stacks]'), 'folded samples are older than any window but all');
});

test('compaction changes no view: every window, mode and idle setting builds the same tree before and after', () => {
  const w = new ProfileWindow({ maxColdStacks: 1_000_000 }); // compacted by hand below
  const all: ReturnType<typeof interval>[] = [];
  for (let i = 0; i < 90; i++) {
    const it = interval(T0 + (i + 1) * 1000, [...mixed(i), sample(`short-${i}`, 1000 + i, 'main;run', 'do_exit', 1)]);
    all.push(it);
    w.push(it);
  }
  const endMs = T0 + 90 * 1000;
  const views = (['10s', '60s'] as const).flatMap((win) => (['all', 'user', 'kernel'] as const).flatMap((mode) => [view(win, mode, false), view(win, mode, true)]));
  const before = views.map((v) => treeToFolded(w.build(v, endMs, { maxNodes: Infinity, reuse: false }).tree));
  const allBefore = w.build(view('all'), endMs, { maxNodes: Infinity, reuse: false }).totalSamples;
  const stacksBefore = w.distinctStacks;
  w.compact(); // keeps every stack (all are within the bound)
  assert.equal(w.distinctStacks, stacksBefore);
  assert.deepEqual(views.map((v) => treeToFolded(w.build(v, endMs, { maxNodes: Infinity, reuse: false }).tree)), before);
  assert.equal(treeToFolded(w.build(view('all'), endMs, { maxNodes: Infinity }).tree), foldedFromIntervals(all));

  const small = new ProfileWindow({ maxColdStacks: 2 });
  for (const it of all) small.push(it);
  small.compact();
  assert.deepEqual(views.map((v) => treeToFolded(small.build(v, endMs, { maxNodes: Infinity, reuse: false }).tree)), before, 'windows keep every stack of the last 60 s');
  assert.equal(small.build(view('all'), endMs, { maxNodes: Infinity }).totalSamples, allBefore);
  small.push(interval(endMs + 1000, mixed(7)));
  assert.equal(small.build(view('all'), endMs + 1000, { maxNodes: Infinity }).totalSamples, allBefore + mixed(7).reduce((n, s) => n + s.count, 0), 'pushes after a compaction count as before');
});

test('memory per new process does not accumulate: the heap after 40,000 short-lived processes is that after 20,000', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const w = new ProfileWindow({ maxColdStacks: 1000 });
  const run = (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      w.push(interval(T0 + (i + 1) * 1000, [sample(`job-${i}`, 10_000 + i, 'main;work;step', 'entry_SYSCALL_64;do_syscall_64', 1)]));
    }
  };
  run(0, 20_000);
  gc();
  const at20k = process.memoryUsage().heapUsed;
  run(20_000, 40_000);
  gc();
  const at40k = process.memoryUsage().heapUsed;
  const perProcess = (at40k - at20k) / 20_000;
  console.log(`heap: ${(at20k / 2 ** 20).toFixed(1)} MiB after 20,000 processes, ${(at40k / 2 ** 20).toFixed(1)} MiB after 40,000 (${perProcess.toFixed(0)} bytes per process), ${w.distinctStacks} stacks kept`);
  assert.ok(perProcess < 100, `${perProcess.toFixed(0)} bytes kept per new process (unbounded, this was ~2,300)`);
});

test('per-thread view: two threads with one name are two roots `comm-tid`; the merged view sums them', () => {
  const w = new ProfileWindow({ maxColdStacks: 4 });
  const samples = (i: number) => [
    sample('worker', 50, 'main;spin', '', 3, { tid: 51 }),
    sample('worker', 50, 'main;spin', 'do_syscall_64', 2, { tid: 52 }),
    sample('worker', 50, 'main;idle', '', 1 + i, { tid: 52 }),
    sample('swapper/0', 0, '', 'cpu_idle', 5),
    sample('old', 9, 'main', '', 1), // no tid (a recording from before): stays `old`
  ];
  for (let i = 0; i < 3; i++) w.push(interval(T0 + (i + 1) * 1000, samples(i)));
  const merged = treeToFolded(w.build({ window: 'all', stackMode: 'all', hideIdle: true }, T0 + 3000).tree);
  assert.equal(merged, 'old;main 3\nworker;main;idle 6\nworker;main;spin 9\nworker;main;spin;do_syscall_64_[k] 6\n', `merged:\n${merged}`);
  const perThread = w.build({ window: 'all', stackMode: 'all', hideIdle: true, perThread: true }, T0 + 3000);
  const folded = treeToFolded(perThread.tree);
  assert.equal(folded, 'old;main 3\nworker-51;main;spin 9\nworker-52;main;idle 6\nworker-52;main;spin;do_syscall_64_[k] 6\n', `per thread:\n${folded}`);
  assert.equal(perThread.totalSamples, 24, `per-thread total ${perThread.totalSamples}`);
  checkTree(perThread.tree);
  // The same with user stacks only, and after new stacks arrive once the per-thread tries exist.
  w.push(interval(T0 + 4000, [sample('worker', 50, 'main;spin', '', 1, { tid: 53 })]));
  const user = treeToFolded(w.build({ window: '10s', stackMode: 'user', hideIdle: true, perThread: true }, T0 + 4000).tree);
  assert.match(user, /^worker-53;main;spin 1$/m, `a thread seen after the first per-thread build:\n${user}`);
  // Compaction keeps thread ids: build per thread again after it ran.
  for (let i = 0; i < 8; i++) w.push(interval(T0 + 70_000 + i * 1000, [sample(`p${i}`, 100 + i, 'main', '', 1, { tid: 200 + i })]));
  assert.ok(w.compactions > 0, `compactions ${w.compactions}`);
  const after = treeToFolded(w.build({ window: 'all', stackMode: 'all', hideIdle: true, perThread: true }, T0 + 80_000).tree);
  assert.match(after, /^p7-207;main 1$/m, `after compaction:\n${after}`);
});

test('nodes carry their binary as an index into the root\'s module table; `main` of two binaries stays two frames', () => {
  const app = { file: '/opt/app', buildId: 'ab12' };
  const libc = { file: '/lib/libc.so.6', buildId: 'cd34' };
  const kernel = { file: '[kernel]', buildId: 'ef56' };
  const w = new ProfileWindow();
  w.push(interval(T0 + 1000, [
    sample('app', 1, 'main;work', 'do_syscall_64', 2, { module: app, kernelModule: kernel }),
    sample('app', 1, 'main', '', 3, { module: { ...libc } }),
    sample('app', 1, 'main;run_[j]', '', 1, { module: app }),
  ]));
  const { tree } = w.build({ window: 'all', stackMode: 'all', hideIdle: false }, T0 + 1000);
  const modules = tree.modules ?? [];
  const app1 = tree.c![0];
  const mains = app1.c!.filter((n) => n.n === 'main');
  const described = mains.map((n) => `${n.n}@${n.m === undefined ? '-' : modules[n.m].file}:${n.v}`).sort();
  assert.deepEqual(described, ['main@/lib/libc.so.6:3', 'main@/opt/app:3'], `mains: ${JSON.stringify(described)}, modules ${JSON.stringify(modules)}`);
  assert.equal(app1.m, undefined, `the comm frame has no binary: ${JSON.stringify(app1.m)}`);
  const work = mains.find((n) => n.v === 3 && modules[n.m!].file === '/opt/app')!.c!.find((n) => n.n === 'work')!;
  const sys = work.c![0];
  assert.deepEqual(modules[sys.m!], kernel, `kernel frame's binary: ${JSON.stringify(sys)} in ${JSON.stringify(modules)}`);
  const jit = mains.find((n) => modules[n.m!].file === '/opt/app')!.c!.find((n) => n.n === 'run')!;
  assert.equal(jit.m, undefined, `JIT frame without a binary: ${JSON.stringify(jit)}`);
  assert.equal(new Set(modules.map((m) => m.file)).size, modules.length, `each binary once: ${JSON.stringify(modules)}`);
});

test('off-CPU blocking events are summed per frame like the time (FlameNode.e), through pruning, windows and the IPC form', async () => {
  const { IntervalInterner, IntervalMirror } = await import('../symbolizer/interned.ts');
  const blocked = (events: number, us: number, leaf: string) => ({ ...sample('app', 10, `main;${leaf}`, 'schedule', us, { tid: 11 }), events });
  const window = new ProfileWindow();
  const interner = new IntervalInterner();
  const mirror = new IntervalMirror();
  const intervals = [
    interval(1000, [blocked(3, 3000, 'read_config'), blocked(5, 500, 'poll_socket')]),
    interval(2000, [blocked(2, 2000, 'read_config'), blocked(1, 1, 'rare_wait')]),
  ];
  for (const i of intervals) {
    const decoded = mirror.decode(interner.intern(i));
    window.push(decoded.interval, decoded.refs);
  }
  const view = { window: 'all' as const, stackMode: 'all' as const, hideIdle: true };
  const { tree } = window.build(view, 2000, { minFraction: 0.001 }); // 1 µs of 5501 is pruned
  const find = (node: FlameNode, name: string): FlameNode | undefined => (node.n === name ? node : node.c?.map((c) => find(c, name)).find(Boolean));
  assert.equal(find(tree, 'read_config')?.e, 5, JSON.stringify(find(tree, 'read_config')));
  assert.equal(find(tree, 'poll_socket')?.e, 5);
  assert.equal(find(tree, 'main')?.e, 11, 'a parent holds its children\'s events');
  assert.equal(find(tree, '[pruned]')?.e, 1, `the pruned frame keeps its events: ${JSON.stringify(find(tree, 'main'))}`);
  assert.equal(find(tree, 'app')?.v, 5501);
  // CPU samples carry none
  const cpu = new ProfileWindow();
  cpu.push(interval(1000, [sample('app', 10, 'main;spin', '', 7)]));
  assert.equal(find(cpu.build(view, 1000).tree, 'spin')?.e, undefined);
});
