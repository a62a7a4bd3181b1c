/*
 * bench_noise.c: what the Noise layer costs. Prints only "name: value" lines:
 * full IK handshakes (both sides, with key setup) per second, 600-byte
 * transport messages (encrypt and decrypt) per second, and the same on the
 * bare AEAD, to show what the Noise layer adds over libsodium.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "key.h"
#include "noise.h"

#define RUN_SECONDS 1.0
#define MSG_LEN     600

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench-noise: %s failed\n", what);
	exit(1);
}

struct keys {
	uint8_t i_sk[32], r_sk[32], r_pk[32];
};

static void one_handshake(const struct keys *k, struct ag_noise_cs cs[4])
{
	static const uint8_t prologue[] = "agora/1";
	struct ag_noise_hs *i = NULL, *r = NULL;
	uint8_t msg[128], pay[1];
	size_t n, p;

	if (ag_noise_hs_new(&i, AG_NOISE_IK, 1, prologue, 7, k->i_sk, k->r_pk) != 0 ||
	    ag_noise_hs_new(&r, AG_NOISE_IK, 0, prologue, 7, k->r_sk, NULL) != 0)
		die("handshake setup");
	if (ag_noise_write_message(i, NULL, 0, msg, sizeof(msg), &n) != 0 ||
	    ag_noise_read_message(r, msg, n, pay, sizeof(pay), &p) != 0 ||
	    ag_noise_write_message(r, NULL, 0, msg, sizeof(msg), &n) != 0 ||
	    ag_noise_read_message(i, msg, n, pay, sizeof(pay), &p) != 0 ||
	    ag_noise_split(i, &cs[0], &cs[1]) != 0 || ag_noise_split(r, &cs[2], &cs[3]) != 0)
		die("handshake");
	ag_noise_hs_free(i);
	ag_noise_hs_free(r);
}

static double bench_handshakes(const struct keys *k, struct ag_noise_cs cs[4])
{
	double start = now(), t;
	unsigned long count = 0;

	do {
		one_handshake(k, cs);
		count++;
	} while ((t = now() - start) < RUN_SECONDS);
	return (double)count / t;
}

static double bench_transport(struct ag_noise_cs *send, struct ag_noise_cs *recv)
{
	static uint8_t plain[MSG_LEN], ct[MSG_LEN + AG_NOISE_TAG_LEN], back[MSG_LEN];
	double start = now(), t;
	unsigned long count = 0;
	size_t n, m;

	do {
		for (int j = 0; j < 256; j++, count++)
			if (ag_noise_encrypt(send, plain, MSG_LEN, ct, sizeof(ct), &n) != 0 ||
			    ag_noise_decrypt(recv, ct, n, back, sizeof(back), &m) != 0)
				die("transport");
	} while ((t = now() - start) < RUN_SECONDS);
	return (double)count / t;
}

static double bench_bare_aead(void)
{
	static uint8_t plain[MSG_LEN], ct[MSG_LEN + AG_NOISE_TAG_LEN], back[MSG_LEN];
	uint8_t key[32], nonce[12] = {0};
	double start = now(), t;
	unsigned long count = 0;

	randombytes_buf(key, sizeof(key));
	do {
		for (int j = 0; j < 256; j++, count++) {
			nonce[4] = (uint8_t)j;
			crypto_aead_chacha20poly1305_ietf_encrypt(ct, NULL, plain, MSG_LEN, NULL, 0,
			                                          NULL, nonce, key);
			if (crypto_aead_chacha20poly1305_ietf_decrypt(
			        back, NULL, NULL, ct, sizeof(ct), NULL, 0, nonce, key) != 0)
				die("aead");
		}
	} while ((t = now() - start) < RUN_SECONDS);
	return (double)count / t;
}

int main(void)
{
	struct ag_noise_cs cs[4];
	struct keys k;

	if (ag_init() != 0)
		die("ag_init");
	randombytes_buf(k.i_sk, 32);
	randombytes_buf(k.r_sk, 32);
	crypto_scalarmult_base(k.r_pk, k.r_sk);
	printf("noise.handshakes_per_s: %.0f\n", bench_handshakes(&k, cs));
	printf("noise.transport_msgs_per_s: %.0f\n", bench_transport(&cs[0], &cs[3]));
	printf("noise.bare_aead_msgs_per_s: %.0f\n", bench_bare_aead());
	for (int j = 0; j < 4; j++)
		ag_noise_cs_clear(&cs[j]);
	return 0;
}
