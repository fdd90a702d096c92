/*
 * Off-CPU workload with blocked time of known length in known functions, measured by the
 * program's own clock (see server/collectors/offcpu.kernel.test.ts).
 *
 * Usage: offcpu-work MODE SECONDS
 *   split  the main thread (comm pb-oc-main) loops: pb_sleep_part() sleeps 6 ms in nanosleep;
 *          pb_pipe_part() blocks in read() on a pipe until the waker thread (comm pb-oc-waker)
 *          writes to it from pb_wake_reader(), 4 ms after being asked
 *   wall   the main thread (comm pb-wall-main) loops: pb_compute_part() computes 2.5 ms,
 *          pb_rest_part() sleeps 7.5 ms
 *   storm  two threads (comm pb-storm) ping-pong one byte over two pipes as fast as they can
 * System calls are issued inline (not through libc), so the blocked thread's user stack leaf is
 * the workload's own function even when walked with frame pointers only.
 * Prints "ready", waits for a line on stdin, runs for SECONDS, then prints what it measured
 * (`sleep_ns N`, `pipe_ns N`, `compute_ns N`, `rest_ns N`, `round_trips N`) and "done".
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static inline long raw3(long n, long a, long b, long c) {
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return ret;
}

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int ask[2], answer[2];
static volatile int stop;

__attribute__((noinline)) void pb_sleep_part(void) {
  struct timespec ts = { 0, 6000000 };
  raw3(SYS_nanosleep, (long)&ts, 0, 0);
}

__attribute__((noinline)) void pb_pipe_part(void) {
  char c = 'q';
  raw3(SYS_write, ask[1], (long)&c, 1);
  raw3(SYS_read, answer[0], (long)&c, 1);
}

__attribute__((noinline)) void pb_wake_reader(void) {
  char c = 'a';
  raw3(SYS_write, answer[1], (long)&c, 1);
}

static void *waker(void *arg) {
  (void)arg;
  prctl(PR_SET_NAME, "pb-oc-waker", 0, 0, 0);
  char c;
  while (raw3(SYS_read, ask[0], (long)&c, 1) == 1) {
    struct timespec ts = { 0, 4000000 };
    raw3(SYS_nanosleep, (long)&ts, 0, 0);
    pb_wake_reader();
  }
  return NULL;
}

__attribute__((noinline)) void pb_compute_part(void) {
  long long end = now_ns() + 2500000;
  while (now_ns() < end) __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void pb_rest_part(void) {
  struct timespec ts = { 0, 7500000 };
  raw3(SYS_nanosleep, (long)&ts, 0, 0);
}

static void *storm_peer(void *arg) {
  (void)arg;
  prctl(PR_SET_NAME, "pb-storm", 0, 0, 0);
  char c;
  while (raw3(SYS_read, ask[0], (long)&c, 1) == 1) raw3(SYS_write, answer[1], (long)&c, 1);
  return NULL;
}

int main(int argc, char **argv) {
  char line[64];
  if (argc < 3) return 2;
  const char *mode = argv[1];
  double seconds = atof(argv[2]);
  if (pipe(ask) || pipe(answer)) return 1;
  pthread_t thread;
  if (strcmp(mode, "split") == 0) {
    prctl(PR_SET_NAME, "pb-oc-main", 0, 0, 0);
    pthread_create(&thread, NULL, waker, NULL);
  } else if (strcmp(mode, "wall") == 0) {
    prctl(PR_SET_NAME, "pb-wall-main", 0, 0, 0);
  } else if (strcmp(mode, "storm") == 0) {
    prctl(PR_SET_NAME, "pb-storm", 0, 0, 0);
    pthread_create(&thread, NULL, storm_peer, NULL);
  } else {
    return 2;
  }
  printf("ready\n");
  fflush(stdout);
  if (!fgets(line, sizeof(line), stdin)) return 1;
  long long end = now_ns() + (long long)(seconds * 1e9);
  long long a = 0, b = 0, rounds = 0;
  while (now_ns() < end) {
    long long t0 = now_ns();
    if (mode[0] == 's' && mode[1] == 'p') {
      pb_sleep_part();
      long long t1 = now_ns();
      pb_pipe_part();
      a += t1 - t0;
      b += now_ns() - t1;
    } else if (mode[0] == 'w') {
      pb_compute_part();
      long long t1 = now_ns();
      pb_rest_part();
      a += t1 - t0;
      b += now_ns() - t1;
    } else {
      char c = 'x';
      raw3(SYS_write, ask[1], (long)&c, 1);
      raw3(SYS_read, answer[0], (long)&c, 1);
    }
    rounds++;
  }
  if (mode[0] == 's' && mode[1] == 'p') printf("sleep_ns %lld\npipe_ns %lld\n", a, b);
  else if (mode[0] == 'w') printf("compute_ns %lld\nrest_ns %lld\n", a, b);
  printf("round_trips %lld\ndone\n", rounds);
  fflush(stdout);
  return 0;
}
