/*
 * Two threads that both name themselves "pbworker" (pthread_setname_np, i.e. prctl PR_SET_NAME
 * on the thread) and burn CPU in pb_thread_spin until argv[1] seconds have passed. Prints
 * "tids A B" once both have named themselves, so a test knows which thread ids to expect.
 * The main thread sleeps (it keeps the workload's own name and takes no samples).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double seconds = 60;
static volatile pid_t tids[2];

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* noinline: the frame must stay on the sampled stacks. */
__attribute__((noinline)) static unsigned long pb_thread_spin(double until)
{
	unsigned long x = 1;
	while (now() < until)
		for (int i = 0; i < 100000; i++)
			x = x * 6364136223846793005UL + 1442695040888963407UL;
	return x;
}

static void *worker(void *arg)
{
	long index = (long)arg;
	pthread_setname_np(pthread_self(), "pbworker");
	tids[index] = (pid_t)syscall(SYS_gettid);
	return (void *)pb_thread_spin(now() + seconds);
}

int main(int argc, char **argv)
{
	pthread_t threads[2];
	if (argc > 1)
		seconds = atof(argv[1]);
	for (long i = 0; i < 2; i++)
		pthread_create(&threads[i], NULL, worker, (void *)i);
	while (tids[0] == 0 || tids[1] == 0)
		usleep(1000);
	printf("tids %d %d\n", tids[0], tids[1]);
	fflush(stdout);
	for (int i = 0; i < 2; i++)
		pthread_join(threads[i], NULL);
	return 0;
}
