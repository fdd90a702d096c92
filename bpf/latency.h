/* SPDX-License-Identifier: MIT */
/*
 * probeboard latency histograms: layouts shared by latency.bpf.c and server/abi/latency.ts.
 * Fixed-width types only; server/abi/latency.test.ts checks the TypeScript mirror
 * against the offsets a C compiler gives for this file.
 */
#ifndef PROBEBOARD_LATENCY_H
#define PROBEBOARD_LATENCY_H

#define LAT_COMM_LEN 16
/*
 * log2 buckets per histogram (bcc convention): slot 0 holds 0 ns, slot i >= 1 holds
 * [2^(i-1), 2^i - 1] ns; the last slot also takes everything larger.
 */
#define LAT_SLOTS 64
/* Distinct histogram keys (probe x pid x comm x id). */
#define LAT_HIST_MAX_ENTRIES 10240
/* Entries in flight (threads inside a traced function, requests, woken tasks). */
#define LAT_START_MAX_ENTRIES 10240

/* Histogram map key. 28 bytes, no padding. Fields not keyed on are zero. */
struct lat_hist_key {
	__u32 probe;             /* probe index: the attach cookie (one per function of a glob), else 0 */
	__u32 pid;               /* tgid, when key_by_pid */
	__u32 id;                /* syscall nr (syscall), dev = major << 20 | minor (block), else 0 */
	char comm[LAT_COMM_LEN]; /* thread command name, when key_by_comm */
};

/* Histogram map value: cumulative since load. 528 bytes. */
struct lat_hist {
	__u64 count;             /* durations recorded */
	__u64 sum;               /* their sum, ns */
	__u64 slots[LAT_SLOTS];  /* log2 buckets, see LAT_SLOTS */
};

/* Start map value: what the entry event saw. 32 bytes. */
struct lat_start {
	__u64 ts;                /* bpf_ktime_get_ns() at entry */
	__u32 pid;               /* tgid of the task the latency belongs to */
	__u32 id;                /* copied into lat_hist_key.id */
	char comm[LAT_COMM_LEN];
};

/* Index into the per-CPU lat_stats array: cumulative counters since load. */
enum lat_stat {
	LAT_STAT_NO_ENTRY = 0,   /* return/end seen without a recorded entry (not counted for runq) */
	LAT_STAT_START_FULL = 1, /* entry lost: start map full */
	LAT_STAT_HIST_FULL = 2,  /* duration lost: histogram map full */
	LAT_STAT_MAX = 3,
};

#endif /* PROBEBOARD_LATENCY_H */
