/*
 * Latency workload with durations the caller controls (see server/collectors/latency.kernel.test.ts).
 *
 * Usage: latency-sleep STEP...   where STEP is
 *   s:N:US   call pb_sleep_us(US) N times   (nanosleep via syscall(SYS_nanosleep))
 *   n:N:US   call pb_nap_us(US) N times     (same, a second function for glob tests)
 *   r:N      N read() calls of 1 byte from /dev/zero
 *   x:N:US   one call of pb_recurse(N - 1, US): N nested calls, the one at depth k (0 = innermost)
 *            sleeping US after its child returned, so it lasts about (k + 1) * US
 * Prints "ready" once set up, waits for a line on stdin, runs the steps, prints "done".
 * Timer slack is set to 1 ns so sleeps last close to what was asked.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void sleep_us(unsigned us) {
  struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000 };
  syscall(SYS_nanosleep, &ts, NULL);
}

__attribute__((noinline)) void pb_sleep_us(unsigned us) {
  sleep_us(us);
  __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void pb_nap_us(unsigned us) {
  sleep_us(us);
  __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void pb_recurse(int depth, unsigned us) {
  if (depth > 0) pb_recurse(depth - 1, us);
  sleep_us(us); /* after the child: not a tail call */
  __asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv) {
  char line[64];
  int zero = open("/dev/zero", O_RDONLY);
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  printf("ready\n");
  fflush(stdout);
  if (!fgets(line, sizeof(line), stdin)) return 1;
  for (int i = 1; i < argc; i++) {
    char kind = argv[i][0];
    unsigned n = 0, us = 0;
    if (kind == 'r') {
      n = (unsigned)strtoul(argv[i] + 2, NULL, 10);
      for (unsigned j = 0; j < n; j++) {
        char c;
        if (read(zero, &c, 1) != 1) return 1;
      }
      continue;
    }
    if (sscanf(argv[i] + 2, "%u:%u", &n, &us) != 2) return 2;
    if (kind == 'x') {
      if (n > 0) pb_recurse((int)n - 1, us);
      continue;
    }
    for (unsigned j = 0; j < n; j++) {
      if (kind == 's') pb_sleep_us(us);
      else pb_nap_us(us);
    }
  }
  printf("done\n");
  fflush(stdout);
  return 0;
}
