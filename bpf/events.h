/* SPDX-License-Identifier: MIT */
/*
 * probeboard event streams: layouts shared by events.bpf.c and server/abi/events.ts.
 * Every record sent to user space is a struct pb_event_header followed by `data_size`
 * bytes whose layout depends on `kind`. Fixed-width types only; server/abi/events.test.ts
 * checks the TypeScript mirror against the offsets a C compiler gives for this file.
 */
#ifndef PROBEBOARD_EVENTS_H
#define PROBEBOARD_EVENTS_H

#define PB_EV_COMM_LEN 16
/* Probes one object can serve (index = BPF cookie); sizes pb_ev_lost. */
#define PB_EV_MAX_PROBES 64
/* exec: bytes of the command line kept (arguments NUL-separated, as in /proc/PID/cmdline). */
#define PB_EV_ARGS_SIZE 2048
/* exec: bytes of the filename kept. */
#define PB_EV_FILENAME_SIZE 256
/* tracepoint: bytes of a raw record kept (fixed part and __data_loc data). */
#define PB_EV_TP_MAX 2048
/* uprobe/usdt: integer arguments captured, and how many of them may be read as strings. */
#define PB_EV_MAX_ARGS 8
#define PB_EV_MAX_STRS 4
#define PB_EV_STR_SIZE 128

enum pb_event_kind {
	PB_EV_EXEC = 1,
	PB_EV_TRACEPOINT = 2,
	PB_EV_UPROBE = 3,
	PB_EV_USDT = 4,
};

/* What user space wants of argument i (uprobe/usdt): rodata arg_kind[i]. */
enum pb_arg_kind {
	PB_ARG_NONE = 0, /* not captured */
	PB_ARG_INT = 1,  /* the 64-bit value */
	PB_ARG_STR = 2,  /* the value, and the NUL-terminated user string it points to */
};

/* 40 bytes, no padding. */
struct pb_event_header {
	__u64 ts_ns;     /* bpf_ktime_get_ns(): CLOCK_MONOTONIC, ns */
	__u32 pid;       /* tgid */
	__u32 tid;       /* thread id */
	__u32 probe_id;  /* which probe fired (attach cookie) */
	__u16 kind;      /* enum pb_event_kind */
	__u16 data_size; /* bytes following the header */
	char comm[PB_EV_COMM_LEN];
};

/* PB_EV_EXEC (sched_process_exec): 24 bytes + filename + command line. */
struct pb_exec_data {
	__u32 ppid;         /* parent tgid */
	__u32 uid;
	__u32 old_pid;      /* tid that called execve (differs from pid when a non-leader thread exec'd) */
	__u16 filename_len; /* bytes in filename, NUL included */
	__u16 args_len;     /* bytes in args, last NUL included */
	__u32 args_truncated; /* 1 when the command line was longer than PB_EV_ARGS_SIZE */
	__u32 pad;
	char filename[PB_EV_FILENAME_SIZE];
	char args[PB_EV_ARGS_SIZE]; /* argv[0]\0argv[1]\0...; only args_len bytes are sent */
};

/* PB_EV_UPROBE / PB_EV_USDT. Only the string slots in use are sent (data_size says how many bytes). */
struct pb_call_data {
	__u64 args[PB_EV_MAX_ARGS];   /* raw values, zero where not captured */
	__s32 arg_err[PB_EV_MAX_ARGS]; /* 0, or -errno when the argument could not be read (usdt) */
	__s32 str_len[PB_EV_MAX_STRS]; /* bytes read (NUL included) of string slot i, or -errno (e.g. -14 EFAULT) */
	char str[PB_EV_MAX_STRS][PB_EV_STR_SIZE];
};

/* PB_EV_TRACEPOINT: the raw tracepoint record (data_size bytes), decoded in user space from its format file. */

/* Index into pb_ev_stats (per-CPU array): cumulative since load. */
enum pb_ev_stat {
	PB_EV_STAT_SEEN = 0,     /* events that passed the filter */
	PB_EV_STAT_SENT = 1,     /* events handed to the ring/perf buffer */
	PB_EV_STAT_LOST = 2,     /* ring/perf buffer full (also counted per probe in pb_ev_lost) */
	PB_EV_STAT_TRUNCATED = 3, /* tracepoint records longer than PB_EV_TP_MAX, cut */
	PB_EV_STAT_MAX = 4,
};

#endif /* PROBEBOARD_EVENTS_H */
