/**
 * Test fixtures of the collector channel: one good event of each kind (lib/schema/collector.ts
 * COLLECTOR_EVENTS), as the collector sends them. Used by lib/schema/collector-events.test.ts,
 * server/privileged/event-check.test.ts and bench/collector-events.ts.
 */

const histogram = () => ({ count: 3, sum: 4200, buckets: [0, 0, 1, 2], fine: { parts: 8, start: 16, counts: [1, 0, 2] }, min: 900, max: 1800 });

/** One good event of each kind, as the collector sends them. */
export function goodEvents(): Record<string, Record<string, unknown>> {
  return {
    ready: { type: 'ready', pid: 4242, uid: 0 },
    profile: {
      type: 'profile',
      handle: 1,
      message: {
        type: 'profile.interned',
        hz: 99,
        cpus: 2,
        interval: {
          startMs: 1000,
          endMs: 2000,
          droppedSamples: 0,
          unknownFrames: 1,
          reset: true,
          frameBase: 0,
          stackBase: 0,
          moduleBase: 0,
          newModules: [{ file: '/usr/bin/bash', buildId: 'ab12' }, { file: '[kernel]' }],
          newFrameNames: ['bash', 'main', 'do_syscall_64'],
          newFrameKinds: 'puk',
          newFrameModules: Uint32Array.from([0, 1, 2]),
          newStacks: Uint32Array.from([12, 0, 0, 0, 0, 1, 1, 0, 0, 1, 2]),
          stackIds: Uint32Array.from([0]),
          counts: Float64Array.from([3]),
        },
      },
    },
    'latency.interval': {
      type: 'latency.interval',
      handle: 2,
      id: 'lat-1',
      batch: {
        probe: 'syscall:read',
        startMs: 1000,
        endMs: 2000,
        series: [{ label: 'pid 12', key: { probe: 0, pid: 12, id: 0, comm: '' }, interval: histogram(), total: histogram() }],
        interval: histogram(),
        total: { count: 0, sum: 0, buckets: [] },
        misses: { noEntry: 0, startFull: 0, histFull: 0 },
        missesTotal: { noEntry: 1, startFull: 0, histFull: 0 },
        stale: null,
        targetExited: false,
        hint: null,
      },
    },
    'latency.end': { type: 'latency.end', handle: 2, id: 'lat-1', reason: 'reading failed: EBADF' },
    'events.rows': {
      type: 'events.rows',
      handle: 3,
      rows: [
        { t: 1700000000000.123, pid: 10, tid: 11, comm: 'sh', fields: { filename: '/bin/ls', argv: ['ls', '-l'], ppid: 1, uid: 0 } },
        { t: 1700000000001, pid: 10, tid: 11, comm: 'sh', fields: { arg0: { error: 'could not read' } } },
      ],
      counts: { lost: 0, dropped: 2, transport: 'ringbuf' },
    },
    'events.end': { type: 'events.end', handle: 3, reason: 'process 10 exited', counts: { lost: 1, dropped: 0, transport: 'perfbuf' } },
  };
}
