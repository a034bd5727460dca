/* An outside deadline for unit tests that wait on something the code under
 * test must stop (a hanging child, a timeout): when the code fails to stop
 * it, SIGALRM ends the test binary with a failure at the deadline instead
 * of blocking the suite. Elapsed time is measured here, on the monotonic
 * clock, not taken from the code's own report. */
#ifndef SPARKMON_TEST_DEADLINE_H
#define SPARKMON_TEST_DEADLINE_H

#include <signal.h>
#include <time.h>
#include <unistd.h>

static void deadline_expired(int sig)
{
	static const char msg[] = "FAIL: the outside deadline passed: the code under test "
	                          "did not stop waiting\n";

	(void)sig;
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(125);
	_exit(124);
}

static double deadline_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Arms a deadline `seconds` from now; returns the start time. */
static double deadline_start(unsigned seconds)
{
	struct sigaction sa = {.sa_handler = deadline_expired};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	alarm(seconds);
	return deadline_now();
}

/* Disarms it; returns the seconds since `start`. */
static double deadline_stop(double start)
{
	alarm(0);
	return deadline_now() - start;
}

#endif
