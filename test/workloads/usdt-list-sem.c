/* The semaphore-guarded probe of the usdt-list workload (semaphores are per translation unit). */
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

unsigned short pbtest_withsem_semaphore __attribute__((unused)) __attribute__((section(".probes")));

void fire_withsem(int value) {
  if (pbtest_withsem_semaphore) DTRACE_PROBE1(pbtest, withsem, value);
}
