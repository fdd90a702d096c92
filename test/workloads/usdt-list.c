/*
 * USDT listing workload: known probes of provider "pbtest" (see usdt-list.test.ts).
 *   pbtest:start    (int a, long b)
 *   pbtest:message  (const char *text, int length)
 *   pbtest:noargs   ()
 *   pbtest:withsem  (int value)        -- with a semaphore, from usdt-list-sem.c
 * Usage: usdt-list [wait]   "wait": print "ready", fire the probes every 10 ms until killed.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/sdt.h>

void fire_withsem(int value);

static volatile int sink;

__attribute__((noinline)) static void fire(int i) {
  const char *text = "hello usdt";
  long b = (long)i * 1000;
  DTRACE_PROBE2(pbtest, start, i, b);
  DTRACE_PROBE2(pbtest, message, text, (int)strlen(text));
  DTRACE_PROBE(pbtest, noargs);
  fire_withsem(i);
  sink = i;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "wait") == 0) {
    printf("ready\n");
    fflush(stdout);
    for (int i = 0;; i++) {
      fire(i);
      usleep(10000);
    }
  }
  fire(1);
  return 0;
}
