// SPDX-License-Identifier: GPL-2.0
/*
 * Programs used only by the loader's own tests (server/libbpf/ringbuf.kernel.test.ts):
 * a perf_event program that reports every sample of one process through a ring buffer.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

const volatile __u32 targ_pid = 0;

/* One record per sample: 16 bytes. */
struct pb_selftest_event {
	__u32 pid;
	__u32 cpu;
	__u64 seq;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} pb_selftest_rb SEC(".maps");

__u64 seq = 0;

SEC("perf_event")
int pb_selftest_ringbuf(void *ctx)
{
	struct pb_selftest_event *event;

	if ((bpf_get_current_pid_tgid() >> 32) != targ_pid)
		return 0;
	event = bpf_ringbuf_reserve(&pb_selftest_rb, sizeof(*event), 0);
	if (!event)
		return 0;
	event->pid = targ_pid;
	event->cpu = bpf_get_smp_processor_id();
	event->seq = __sync_fetch_and_add(&seq, 1);
	bpf_ringbuf_submit(event, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
