/*
 * bench_verify.c: the machine's bare Ed25519 verify rate on all its cores
 * (one thread per online CPU), on ~600-byte messages. Other benchmarks
 * measure against it. Prints "verify.bare_all_cores_per_s: N", and
 * "verify.bare_per_cpu_s: N": verifies per second of CPU time, which a
 * neighbour taking a core for a while does not change.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define N 20000

static uint8_t pk[32], sk[64], msg[600], sig[64];

static void *verify_n(void *arg)
{
	(void)arg;
	for (int i = 0; i < N; i++)
		if (crypto_sign_verify_detached(sig, msg, sizeof(msg), pk) != 0)
			return (void *)1;
	return NULL;
}

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	pthread_t t[64];
	double t0, c0;

	if (sodium_init() < 0 || cpus < 1)
		return 1;
	if (cpus > 64)
		cpus = 64;
	crypto_sign_keypair(pk, sk);
	randombytes_buf(msg, sizeof(msg));
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk);
	t0 = clock_s(CLOCK_MONOTONIC);
	c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	for (long i = 0; i < cpus; i++)
		pthread_create(&t[i], NULL, verify_n, NULL);
	for (long i = 0; i < cpus; i++)
		pthread_join(t[i], NULL);
	printf("verify.bare_all_cores_per_s: %.0f\n",
	       (double)N * (double)cpus / (clock_s(CLOCK_MONOTONIC) - t0));
	printf("verify.bare_per_cpu_s: %.0f\n",
	       (double)N * (double)cpus / (clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0));
	return 0;
}
