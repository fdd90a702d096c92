/*
 * Latency workload with calls of fixed, known durations, timed by the program's own clock
 * (see server/collectors/latency-truth.kernel.test.ts).
 *
 * Usage: latency-fixed ROUNDS [libc-sleeps N US]
 *   Each round calls pb_fixed_300us() 5 times, pb_fixed_2ms() twice and pb_fixed_7ms() once;
 *   each busy-waits on CLOCK_MONOTONIC until its time has passed (so it never ends early and
 *   ends late only when preempted). With `libc-sleeps N US` it then calls libc's nanosleep()
 *   N times for US microseconds (glibc issues clock_nanosleep for it).
 * Prints "ready", waits for a line on stdin, runs, then prints one line per function,
 * `NAME d1 d2 ...` with every call's duration in ns as the function measured it from its
 * first to its last statement (so a probe's entry-to-return window always encloses it), and
 * "done".
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Busy-waits ns nanoseconds; returns how long it took by the same clock. */
static long long busy_ns(long long ns) {
  long long start = now_ns(), t;
  while ((t = now_ns()) < start + ns) __asm__ volatile("" ::: "memory");
  return t - start;
}

__attribute__((noinline)) long long pb_fixed_300us(void) { return busy_ns(300000); }
__attribute__((noinline)) long long pb_fixed_2ms(void) { return busy_ns(2000000); }
__attribute__((noinline)) long long pb_fixed_7ms(void) { return busy_ns(7000000); }

#define MAX_CALLS 4096
struct series { const char *name; long long (*fn)(void); int per_round; int n; long long d[MAX_CALLS]; };
static struct series all[] = {
  { "pb_fixed_300us", pb_fixed_300us, 5, 0, {0} },
  { "pb_fixed_2ms", pb_fixed_2ms, 2, 0, {0} },
  { "pb_fixed_7ms", pb_fixed_7ms, 1, 0, {0} },
};

int main(int argc, char **argv) {
  char line[64];
  int rounds = argc > 1 ? atoi(argv[1]) : 10;
  int sleeps = 0, sleep_us = 0;
  if (argc > 4 && strcmp(argv[2], "libc-sleeps") == 0) {
    sleeps = atoi(argv[3]);
    sleep_us = atoi(argv[4]);
  }
  if (rounds * 5 > MAX_CALLS) return 2;
  printf("ready\n");
  fflush(stdout);
  if (!fgets(line, sizeof(line), stdin)) return 1;
  for (int r = 0; r < rounds; r++) {
    for (int s = 0; s < 3; s++) {
      for (int k = 0; k < all[s].per_round; k++) {
        all[s].d[all[s].n++] = all[s].fn();
      }
    }
  }
  for (int i = 0; i < sleeps; i++) {
    struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)sleep_us * 1000 };
    nanosleep(&ts, NULL);
  }
  for (int s = 0; s < 3; s++) {
    printf("%s", all[s].name);
    for (int i = 0; i < all[s].n; i++) printf(" %lld", all[s].d[i]);
    printf("\n");
  }
  printf("done\n");
  fflush(stdout);
  return 0;
}
