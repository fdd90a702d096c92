/*
 * Workload for bench/probe-cost.ts: times N calls of a tiny user function (for uprobe +
 * uretprobe cost) or N getppid() system calls (for syscall tracepoint cost).
 * Usage: probe-cost-workload fn|sys N   prints the nanoseconds per call.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile long sink;

__attribute__((noinline)) long pb_bench_fn(long x) {
  __asm__ volatile("" ::: "memory");
  return x * 3 + 1;
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  long n = atol(argv[2]);
  int sys = strcmp(argv[1], "sys") == 0;
  double t0 = now_ns();
  for (long i = 0; i < n; i++) {
    if (sys) sink += syscall(SYS_getppid);
    else sink += pb_bench_fn(i);
  }
  double t1 = now_ns();
  printf("%.3f\n", (t1 - t0) / n);
  return 0;
}
