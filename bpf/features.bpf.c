// SPDX-License-Identifier: GPL-2.0
/*
 * Tiny programs for runtime feature probes (server/libbpf/features.ts).
 * User space enables one program at a time with bpf_program__set_autoload, so each
 * feature is loaded, attached and judged on its own.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("kprobe/vfs_read")
int pb_feat_kprobe(struct pt_regs *ctx)
{
	return 0;
}

SEC("fentry/vfs_read")
int BPF_PROG(pb_feat_fentry)
{
	return 0;
}

/* Attached by user space to a libc function in its own process. */
SEC("uprobe")
int pb_feat_uprobe(struct pt_regs *ctx)
{
	return 0;
}

SEC("tracepoint/sched/sched_process_exec")
int pb_feat_tracepoint(void *ctx)
{
	return 0;
}

SEC("perf_event")
int pb_feat_perf_event(struct bpf_perf_event_data *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
