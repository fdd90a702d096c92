/* A CPU-bound workload with a known split of its time between two functions.
 *
 *   spin SECONDS [SHARE_A_PERCENT]
 *
 * Runs for SECONDS of wall time, alternating 10 ms slices of its own CPU time: SHARE_A_PERCENT of
 * each 100 ms of CPU goes to pb_work_alpha, the rest to pb_work_beta (default 75/25). Slicing by
 * CPU time, not wall time, keeps the truth exact on a loaded machine: a CPU profiler samples
 * on-CPU time, and time spent descheduled must not count for whichever slice it fell into. Both loop on volatile arithmetic
 * so the compiler cannot fold them. Built with -fno-omit-frame-pointer -fno-optimize-sibling-calls
 * so user stacks are complete. With SECONDS = 0 and a third argument N, it instead runs N fixed
 * iterations of work and exits (for overhead benchmarks, where runtime is what is measured).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile unsigned long sink;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* This thread's CPU time, s. */
static double cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) void pb_work_alpha(double until) {
  while (cpu_s() < until)
    for (int i = 0; i < 20000; i++) sink += (unsigned long)i * 2654435761u;
}

__attribute__((noinline)) void pb_work_beta(double until) {
  while (cpu_s() < until)
    for (int i = 0; i < 20000; i++) sink ^= (unsigned long)i * 40503u + sink;
}

__attribute__((noinline)) void pb_fixed_work(long iterations) {
  for (long i = 0; i < iterations; i++) sink += (unsigned long)i * 2654435761u;
}

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 5;
  int share_a = argc > 2 ? atoi(argv[2]) : 75;
  if (seconds == 0 && argc > 3) {
    pb_fixed_work(atol(argv[3]));
    return 0;
  }
  double end = now_s() + seconds;
  while (now_s() < end) {
    double t = cpu_s();
    /* 100 ms (CPU) cycles of 10 slices keep the split exact over any window longer than a cycle. */
    for (int slice = 0; slice < 10; slice++) {
      double slice_end = t + (slice + 1) * 0.010;
      if (slice * 10 < share_a) pb_work_alpha(slice_end);
      else pb_work_beta(slice_end);
    }
  }
  printf("%lu\n", (unsigned long)(sink & 1));
  return 0;
}
