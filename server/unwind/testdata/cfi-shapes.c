/* Functions whose call-frame information takes the shapes an unwinder must handle, for the
 * CFI parser's tests (server/unwind/eh-frame.test.ts), which compile this file several ways:
 * an RSP-based CFA that moves with pushes (-O2 without frame pointers), an RBP-based CFA
 * (a variable-length array forces a frame pointer), a frame larger than 32 KiB (a wide CFA
 * offset), early returns in the middle of a function (DW_CFA_remember_state/restore_state),
 * and a callback called from libc's qsort. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile unsigned long sink;

__attribute__((noinline)) unsigned long pb_vla(int n) {
  volatile char buf[n]; /* variable-length: the CFA is computed from RBP */
  for (int i = 0; i < n; i++) buf[i] = (char)i;
  return buf[n / 2];
}

__attribute__((noinline)) unsigned long pb_big_frame(int n) {
  volatile char big[70000]; /* sub $70000,%rsp: CFA = RSP + ~70000 */
  memset((char *)big, n, sizeof big);
  return big[n % sizeof big];
}

__attribute__((noinline)) unsigned long pb_early_returns(unsigned long a, unsigned long b, unsigned long c) {
  if (a == 0) return b; /* an early exit between pushes and pops: remember/restore state */
  unsigned long x = a * b, y = b * c, z = c * a;
  for (unsigned long i = 0; i < (a & 15); i++) {
    x += pb_vla((int)(i + 1));
    if (x == 12345) return y;
    y ^= x + z;
    z += pb_big_frame((int)y);
  }
  return x + y + z;
}

static int pb_compare(const void *a, const void *b) {
  sink++;
  return *(const int *)a - *(const int *)b;
}

int main(int argc, char **argv) {
  int values[64];
  for (int i = 0; i < 64; i++) values[i] = (i * 7919) % 64;
  qsort(values, 64, sizeof values[0], pb_compare);
  printf("%lu\n", pb_early_returns((unsigned long)argc, (unsigned long)values[3], argv[0][0]));
  return 0;
}
