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
 * log2 slots (bcc convention): slot 0 holds 0 ns, slot i >= 1 holds [2^(i-1), 2^i - 1] ns;
 * the last slot also takes everything larger.
 */
#define LAT_SLOTS 64
/*
 * Each slot i in 1..LAT_SUB_LAST_SLOT is split into sub_buckets (1..LAT_SUB_MAX, set per probe)
 * equal linear parts: a duration v goes to sub = ((v - 2^(i-1)) * sub_buckets) >> (i - 1).
 * Slots 0 and above LAT_SUB_LAST_SLOT (>= 2^59 ns, 18 years) have one part (sub = 0), which
 * keeps the product below 2^64. Bucket number = slot << LAT_SUB_SHIFT | sub.
 */
#define LAT_SUB_MAX 16
#define LAT_SUB_SHIFT 4
#define LAT_SUB_LAST_SLOT 59
/* Distinct histogram keys (probe x pid x comm x id). */
#define LAT_HIST_MAX_ENTRIES 10240
/* Occupied (key, bucket) pairs: keys x the buckets their durations reach. */
#define LAT_BUCKET_MAX_ENTRIES 65536
/* Syscall numbers a syscall probe can select or count (x86-64 and arm64 use < 512). */
#define LAT_SYSCALL_SLOTS 512
/* Entries in flight (threads inside a traced function, requests, woken tasks). */
#define LAT_START_MAX_ENTRIES 10240

/* Histogram map key. 28 bytes, no padding. Fields not keyed on are zero. */
struct lat_hist_key {
	__u32 probe;             /* probe index: the attach cookie (one per function of a glob), else 0 */
	__u32 pid;               /* tgid, when key_by_pid */
	__u32 id;                /* syscall nr (syscall), dev = major << 20 | minor (block), else 0 */
	char comm[LAT_COMM_LEN]; /* thread command name, when key_by_comm */
};

/* Histogram map value: cumulative since load. 32 bytes. The counts per bucket are in lat_buckets. */
struct lat_hist {
	__u64 count;             /* durations recorded */
	__u64 sum;               /* their sum, ns */
	__u64 min_inverted;      /* ~(shortest duration), ns; 0 while count is 0 (so a zeroed value is "none") */
	__u64 max;               /* longest duration, ns */
};

/* Bucket map key: one bucket of one histogram. 32 bytes, no padding. */
struct lat_bucket_key {
	struct lat_hist_key hist;
	__u32 bucket;            /* slot << LAT_SUB_SHIFT | sub, see LAT_SUB_MAX */
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
