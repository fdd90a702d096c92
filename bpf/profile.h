/* SPDX-License-Identifier: MIT */
/*
 * probeboard CPU profiler: layouts shared by profile.bpf.c and server/abi/profile.ts.
 * Fixed-width types only; server/abi/profile.test.ts checks the TypeScript mirror
 * against the offsets a C compiler gives for this file.
 */
#ifndef PROBEBOARD_PROFILE_H
#define PROBEBOARD_PROFILE_H

#define PB_COMM_LEN 16
/* Frames kept per stack (the kernel's default perf_event_max_stack). */
#define PB_MAX_STACK_DEPTH 127
/* Distinct (pid, tid, comm, user stack, kernel stack) keys per interval and buffer. */
#define PB_COUNTS_MAX_ENTRIES 16384
/* Stack trace map entries per buffer (the bucket count is this rounded up to a power of two). */
#define PB_STACKS_MAX_ENTRIES 16384

/*
 * Stack id sentinel: the stack does not exist for this sample and nothing was lost
 * (a kernel thread has no user stack; a sample taken in user mode has no kernel stack).
 * Any other negative id is the negative errno bpf_get_stackid returned
 * (-EEXIST: bucket collision, -EFAULT: stack could not be walked, other: e.g. -ENOMEM).
 */
#define PB_STACK_NONE (-2147483647 - 1) /* INT32_MIN */

/* Counts map key: one distinct stack of one process (or thread). 32 bytes, no padding. */
struct pb_stack_key {
	__u32 pid;             /* tgid; 0 for the idle task */
	__u32 tid;             /* thread id when key_by_tid is set, else 0 (one key per process) */
	__s32 user_stack_id;   /* >= 0: id in the stack map; PB_STACK_NONE; or -errno */
	__s32 kernel_stack_id; /* same, for the kernel half */
	char comm[PB_COMM_LEN]; /* thread command name, NUL padded */
};

/* Index into the per-CPU pb_stats array: cumulative counters since load. */
enum pb_stat {
	PB_STAT_SAMPLES = 0,      /* samples that passed the target filter */
	PB_STAT_DROPPED = 1,      /* samples lost: counts map full */
	PB_STAT_USER_EEXIST = 2,  /* user stack lost: stack map bucket collision */
	PB_STAT_USER_EFAULT = 3,  /* user stack lost: could not be walked */
	PB_STAT_USER_OTHER = 4,   /* user stack lost: any other error */
	PB_STAT_KERN_EEXIST = 5,
	PB_STAT_KERN_EFAULT = 6,
	PB_STAT_KERN_OTHER = 7,
	PB_STAT_MAX = 8,
};

/* pb_control array, key 0: which buffer (0 or 1) the program writes to. User space flips it. */
struct pb_control {
	__u32 active_buffer;
};

#endif /* PROBEBOARD_PROFILE_H */
