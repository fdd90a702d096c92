/*
 * USDT latency workload (see server/collectors/latency.kernel.test.ts): provider "pblat",
 * probes req__start(int id) and req__done(int id) around a sleep of US microseconds.
 * Both are guarded by semaphores, as in real programs (Python, PostgreSQL): they fire only
 * while a tracer has raised the semaphore, so a test counting every pair also checks that
 * the semaphores are handled.
 * Usage: latency-usdt N US   prints "ready", waits for a line on stdin, fires N pairs, prints "done".
 */
#define _GNU_SOURCE
#define _SDT_HAS_SEMAPHORES 1
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/sdt.h>
#include <time.h>

unsigned short pblat_req__start_semaphore __attribute__((unused)) __attribute__((section(".probes")));
unsigned short pblat_req__done_semaphore __attribute__((unused)) __attribute__((section(".probes")));

__attribute__((noinline)) static void request(int id, unsigned us) {
  struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000 };
  if (pblat_req__start_semaphore) DTRACE_PROBE1(pblat, req__start, id);
  nanosleep(&ts, NULL);
  if (pblat_req__done_semaphore) DTRACE_PROBE1(pblat, req__done, id);
}

int main(int argc, char **argv) {
  char line[64];
  int n = argc > 1 ? atoi(argv[1]) : 10;
  unsigned us = argc > 2 ? (unsigned)atoi(argv[2]) : 100;
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  printf("ready\n");
  fflush(stdout);
  if (!fgets(line, sizeof(line), stdin)) return 1;
  for (int i = 0; i < n; i++) request(i, us);
  printf("done\n");
  fflush(stdout);
  return 0;
}
