/* SPDX-License-Identifier: Apache-2.0 */
/*
 * seal/: the AEAD the core is given (control/keys.c: AES-256-GCM, on ipsec-mb where built in,
 * and on OpenSSL's libcrypto: the *_openssl benchmarks) over
 * one packet body of arg bytes, with a 32-byte header as associated data, as rg_core seals and
 * opens a sealed packet (docs/protocol.md §3a). op = packet; bytes → GB/s, so the cost splits
 * into a per-packet part (nonce, AAD, tag: the 64 B point) and a per-byte part.
 *   seal  encrypt in place and compute the tag; the nonce's packet number grows per call
 *   both  seal, then check the tag and decrypt: open costs both − seal (pausing the timer
 *         around a seal per open would cost more than the open itself)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "common.h"
#include "keys.h"

#define BODY_BYTES 9000
#define AAD_BYTES  32
#define PEER_GW    2
#define SLOT       0

static const int64_t sizes[] = { 64, 1024, 4096, 8960 };
static uint8_t body[BODY_BYTES] __attribute__((aligned(64)));
static uint8_t aad[AAD_BYTES];
static struct rg_aead aead[2]; /* [0] what rg_keyring_create picks, [1] libcrypto */

static void
nonce_for(uint64_t pn, uint8_t nonce[RG_AEAD_NONCE_BYTES])
{
	memset(nonce, 0, RG_AEAD_NONCE_BYTES);
	for (int i = 0; i < 8; i++)
		nonce[2 + i] = (uint8_t)(pn >> (8 * i));
}

static void
bench_seal(struct rg_bench_state *st, const void *ctx)
{
	size_t len = (size_t)rg_bench_arg(st, 0);
	uint8_t nonce[RG_AEAD_NONCE_BYTES], tag[RG_AEAD_TAG_BYTES];
	const struct rg_aead *a = ctx;
	uint64_t pn = 0;

	while (rg_bench_keep_running(st)) {
		nonce_for(++pn, nonce);
		a->seal(a->ctx, SLOT, nonce, aad, sizeof(aad), body, len, tag);
		rg_bench_do_not_optimize(tag);
	}
	rg_bench_set_items(st, rg_bench_iterations(st));
	rg_bench_set_bytes(st, rg_bench_iterations(st) * (int64_t)len);
	rg_bench_set_label(st, "packet");
}

static void
bench_both(struct rg_bench_state *st, const void *ctx)
{
	size_t len = (size_t)rg_bench_arg(st, 0);
	uint8_t nonce[RG_AEAD_NONCE_BYTES], tag[RG_AEAD_TAG_BYTES];
	const struct rg_aead *a = ctx;
	uint64_t pn = 0;
	int bad = 0;

	while (rg_bench_keep_running(st)) {
		nonce_for(++pn, nonce);
		a->seal(a->ctx, SLOT, nonce, aad, sizeof(aad), body, len, tag);
		bad |= a->open(a->ctx, SLOT, nonce, aad, sizeof(aad), body, len, tag);
	}
	if (bad) {
		rg_bench_skip_with_error(st, "a sealed packet did not open");
		return;
	}
	rg_bench_set_items(st, rg_bench_iterations(st));
	rg_bench_set_bytes(st, rg_bench_iterations(st) * (int64_t)len);
	rg_bench_set_label(st, "packet");
}

void
rg_bench_seal_register(void)
{
	static const uint8_t priv[RG_KEY_BYTES] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	static const enum rg_aead_impl impl[2] = { RG_AEAD_AUTO, RG_AEAD_OPENSSL };
	uint8_t pub[RG_KEY_BYTES];
	struct rg_keyring *k;
	uint64_t s = 13;

	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)rg_splitmix64(&s);
	/* Our own public key as the peer's: the DH is then with ourselves, which costs the same. */
	for (int i = 0; i < 2; i++) {
		if (rg_key_public(priv, pub) != 0 ||
		    rg_keyring_create_impl(priv, 1, 1, impl[i], &k) != 0 ||
		    rg_keyring_add_peer(k, PEER_GW, pub) != 0) {
			fprintf(stderr, "bench seal: no keyring (libcrypto without X25519?)\n");
			exit(1);
		}
		aead[i] = rg_keyring_aead(k); /* the keyrings live as long as the process */
		if (rg_keyring_set_key(k, SLOT, body) != 0) { /* any 32 bytes: the same for both */
			fprintf(stderr, "bench seal: the key did not take\n");
			exit(1);
		}
		if (i == 0)
			fprintf(stderr, "bench seal: seal/seal and seal/both run %s\n",
				rg_keyring_impl_name(k));
	}
	rg_bench_register("seal/seal", bench_seal, &aead[0], sizes, (int)RG_ARRAY_SIZE(sizes));
	rg_bench_register("seal/both", bench_both, &aead[0], sizes, (int)RG_ARRAY_SIZE(sizes));
	rg_bench_register("seal/seal_openssl", bench_seal, &aead[1], sizes,
			  (int)RG_ARRAY_SIZE(sizes));
	rg_bench_register("seal/both_openssl", bench_both, &aead[1], sizes,
			  (int)RG_ARRAY_SIZE(sizes));
}
