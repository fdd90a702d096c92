/**
 * The typed message interface between collectors and the rest of the server.
 *
 * Commands go in, messages come out; every value is plain data (numbers, strings, arrays) so
 * that collectors can run in the separate privileged collector process (server/privileged,
 * child_process IPC with `serialization: 'advanced'`) while the web-facing process runs
 * unprivileged. Collectors themselves (ProfileCollector) emit addresses and counts
 * (ProfileBatch); a CollectorChannel names them before they leave (CollectorMessage).
 */
import type { OffCpuSettings, ProfileTarget, ProfileType } from '../../lib/protocol.ts';
import type { SymbolizedInterval } from '../symbolizer/types.ts';
import type { InternedInterval, StackRefs } from '../symbolizer/interned.ts';

import type { StackErrorKind } from '../symbolizer/types.ts';

export type { StackErrorKind } from '../symbolizer/types.ts';

/** One distinct (process, user stack, kernel stack) with the samples that hit it in one interval. */
export interface RawStackSample {
  /** Process id (tgid); 0 for the idle task. */
  pid: number;
  /**
   * Thread id, when the collector counts threads apart (it does unless started with
   * keyByTid: false); 0 or absent when threads of one process are counted together.
   */
  tid?: number;
  /** Command name of the sampled thread (at most 15 bytes). */
  comm: string;
  /** User-space instruction pointers, leaf first. Empty when there is none or it was lost. */
  userStack: bigint[];
  /** Kernel instruction pointers, leaf first. Empty when there is none or it was lost. */
  kernelStack: bigint[];
  /**
   * Set when the user stack should exist but the kernel could not record it.
   * Not set for an expected absence (a kernel thread has no user stack).
   */
  userStackError?: StackErrorKind;
  /** Same for the kernel stack (not set when the sample hit user mode). */
  kernelStackError?: StackErrorKind;
  /**
   * Weight: samples (cpu profiles), or µs of time (off-CPU and wall profiles: blocked time, or
   * on-CPU samples times the sample period).
   */
  count: number;
  /** Off-CPU samples: the blocking events (switch-out to switch-in) behind `count`. */
  events?: number;
  /** Set on off-CPU samples (blocked time rather than running time). */
  offCpu?: boolean;
  /** Off-CPU samples with wakers: the thread that woke the blocked one, and its stacks at that moment. */
  waker?: RawWaker;
}

/** Who woke a blocked thread (sched_waking), with its stacks, leaf first. */
export interface RawWaker {
  pid: number;
  /** 0 when threads are not counted apart. */
  tid: number;
  comm: string;
  userStack: bigint[];
  kernelStack: bigint[];
  userStackError?: StackErrorKind;
  kernelStackError?: StackErrorKind;
}

/** Everything one profile collector read from the kernel for one interval. */
export interface ProfileBatch {
  /** Wall-clock ms since the epoch: interval start and the moment it was read. */
  startMs: number;
  endMs: number;
  /** Sampling frequency in Hz per CPU used for this interval. */
  hz: number;
  /** CPUs sampled. */
  cpus: number;
  samples: RawStackSample[];
  /** Samples the kernel could not count (counts map full). */
  droppedSamples: number;
}

export type CollectorCommand =
  | {
      type: 'profile.start';
      hz: number;
      target: ProfileTarget;
      intervalMs?: number;
      /** What to measure (default cpu); offcpu and wall weigh stacks in µs (lib/protocol.ts ProfileType). */
      profileType?: ProfileType;
      /** offcpu and wall: filters and wakers (default DEFAULT_OFFCPU_SETTINGS). */
      offcpu?: OffCpuSettings;
    }
  | { type: 'profile.stop' };

/**
 * What a profile source emits. Intervals arrive symbolized (names, not addresses): the
 * symbolizer runs where the collector runs, next to /proc and the binaries it must read, so the
 * web-facing process needs no access to other processes.
 */
export type CollectorMessage =
  /**
   * `refs`: set when the interval came interned (from the collector process): each sample's
   * stack id in the sender's table, so the window finds known stacks without walking frames.
   */
  | { type: 'profile.interval'; interval: SymbolizedInterval; hz: number; cpus: number; refs?: StackRefs }
  /** `profileType` absent means cpu; `offCpuVia`: how the scheduler is traced for offcpu/wall (`tp_btf/sched_switch` or `raw_tp/sched_switch`). */
  | { type: 'profile.started'; cpus: number; hz: number; target: ProfileTarget; profileType?: ProfileType; offCpuVia?: string }
  | { type: 'profile.stopped'; reason?: string };

/**
 * What a profile handle sends from the collector process to the web process: the same messages,
 * but each interval interned (server/aggregator/interned.ts: only frames and stacks not sent
 * before, then ids and counts). The web side's CollectorClient turns it back into CollectorMessage.
 */
export type CollectorWireMessage =
  | Exclude<CollectorMessage, { type: 'profile.interval' }>
  | { type: 'profile.interned'; interval: InternedInterval; hz: number; cpus: number };

/** A profile source: in process (LocalCollectorChannel, ReplayChannel) or in the collector process (server/privileged). */
export interface CollectorChannel {
  /** Carries out a command. Rejects with an Error whose message is meant for the user. */
  request(command: CollectorCommand): Promise<void>;
  /** Subscribes to messages; returns the unsubscribe function. */
  onMessage(listener: (message: CollectorMessage) => void): () => void;
  /** Stops everything and releases every kernel object. Idempotent. */
  close(): Promise<void>;
}
