/*
 * Events workload (server/collectors/events.kernel.test.ts):
 *   events-target calls N     calls pb_target_fn(text, n) and fires usdt pbev:tick(i, text, big)
 *                             N times (1 ms apart), then once pb_target_fn with an invalid pointer
 *   events-target flood N     fires usdt pbev:flood(i) N times as fast as it can
 *   events-target rate R S    fires usdt pbev:flood(i) R times a second for S seconds (paced in
 *                             1 ms steps); prints how many it fired
 * Strings passed: "hello-<i>"; big = 0x123456789ab + i; n = i * 10 - 5.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <sys/sdt.h>

static volatile long sink;

__attribute__((noinline)) long pb_target_fn(const char *text, long n) {
  asm volatile("" ::: "memory");
  sink += n + (text != 0);
  return sink;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: events-target calls|flood N\n");
    return 2;
  }
  long count = atol(argv[2]);
  if (strcmp(argv[1], "calls") == 0) {
    char text[32];
    for (long i = 0; i < count; i++) {
      snprintf(text, sizeof text, "hello-%ld", i);
      long big = 0x123456789abL + i;
      int small = (int)i;
      pb_target_fn(text, i * 10 - 5);
      DTRACE_PROBE3(pbev, tick, small, text, big);
      usleep(1000);
    }
    pb_target_fn((const char *)16, -1); /* invalid pointer: its string read must fail */
    return 0;
  }
  if (strcmp(argv[1], "rate") == 0 && argc > 3) {
    double seconds = atof(argv[3]);
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    long fired = 0;
    for (;;) {
      clock_gettime(CLOCK_MONOTONIC, &now);
      double elapsed = (now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9;
      if (elapsed >= seconds) break;
      long due = (long)(elapsed * count);
      while (fired < due) {
        DTRACE_PROBE1(pbev, flood, fired);
        fired++;
      }
      struct timespec pause = {0, 200000};
      nanosleep(&pause, 0);
    }
    printf("%ld\n", fired);
    return 0;
  }
  if (strcmp(argv[1], "flood") == 0) {
    for (long i = 0; i < count; i++) DTRACE_PROBE1(pbev, flood, i);
    return 0;
  }
  return 2;
}
