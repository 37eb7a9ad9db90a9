/* SPDX-License-Identifier: Apache-2.0 */
/* control/keys.c: identity keys, their files, and the AEAD the core is given. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "keys.h"

static void
test_keys_b64_round_trip(void **state)
{
	uint8_t k[RG_KEY_BYTES], back[RG_KEY_BYTES];
	char text[RG_KEY_B64_CHARS + 1];

	(void)state;
	assert_int_equal(rg_key_generate(k), 0);
	rg_key_to_b64(k, text);
	assert_int_equal(strlen(text), RG_KEY_B64_CHARS);
	assert_int_equal(rg_key_from_b64(text, back), 0);
	assert_memory_equal(k, back, RG_KEY_BYTES);
	/* Too short, too long, no pad, a character outside base64. */
	assert_int_equal(rg_key_from_b64("abc=", back), -EINVAL);
	text[RG_KEY_B64_CHARS - 1] = 'A';
	assert_int_equal(rg_key_from_b64(text, back), -EINVAL);
	text[RG_KEY_B64_CHARS - 1] = '=';
	text[3] = '*';
	assert_int_equal(rg_key_from_b64(text, back), -EINVAL);
}

/* RFC 7748 §6.1: Alice's private key and its public key. */
static void
test_keys_public_matches_rfc7748(void **state)
{
	static const uint8_t priv[32] = { 0x77, 0x07, 0x6d, 0x0a, 0x73, 0x18, 0xa5, 0x7d,
					  0x3c, 0x16, 0xc1, 0x72, 0x51, 0xb2, 0x66, 0x45,
					  0xdf, 0x4c, 0x2f, 0x87, 0xeb, 0xc0, 0x99, 0x2a,
					  0xb1, 0x77, 0xfb, 0xa5, 0x1d, 0xb9, 0x2c, 0x2a };
	static const uint8_t want[32] = { 0x85, 0x20, 0xf0, 0x09, 0x89, 0x30, 0xa7, 0x54,
					  0x74, 0x8b, 0x7d, 0xdc, 0xb4, 0x3e, 0xf7, 0x5a,
					  0x0d, 0xbf, 0x3a, 0x0d, 0x26, 0x38, 0x1a, 0xf4,
					  0xeb, 0xa4, 0xa9, 0x8e, 0xaa, 0x9b, 0x4e, 0x6a };
	uint8_t pub[32];

	(void)state;
	assert_int_equal(rg_key_public(priv, pub), 0);
	assert_memory_equal(pub, want, 32);
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void
test_keys_file_mode_and_content(void **state)
{
	char dir[] = "/tmp/rg-keys-XXXXXX", path[64], err[256], text[RG_KEY_B64_CHARS + 2];
	uint8_t k[RG_KEY_BYTES], got[RG_KEY_BYTES];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a.key", dir);
	assert_int_equal(rg_key_generate(k), 0);
	rg_key_to_b64(k, text);
	strcat(text, "\n");
	write_file(path, text, 0600);
	assert_int_equal(rg_key_load_file(path, got, err, sizeof(err)), 0);
	assert_memory_equal(k, got, RG_KEY_BYTES);
	write_file(path, text, 0644);
	assert_int_equal(rg_key_load_file(path, got, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "mode 0644"));
	assert_non_null(strstr(err, path));
	write_file(path, "not a key\n", 0600);
	assert_int_equal(rg_key_load_file(path, got, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":1:"));
	assert_int_equal(rg_key_load_file(dir, got, err, sizeof(err)), -EINVAL); /* a directory */
	unlink(path);
	assert_true(rg_key_load_file(path, got, err, sizeof(err)) == -ENOENT);
	rmdir(dir);
}

/*
 * libcrypto's and ipsec-mb's AES-256-GCM are one cipher: under the same key and nonce both
 * give the same ciphertext and tag, each opens what the other sealed, and each refuses a
 * flipped bit, at every length the core seals (empty, partial blocks, 9 KB).
 */
static void
test_keys_aead_impls_interoperate(void **state)
{
	static const size_t lens[] = { 0, 1, 15, 16, 17, 100, 1024, 8960 };
	static uint8_t orig[8960], buf[2][8960];
	uint8_t pa[32], pb[32], pubb[32], aad[32], tag[2][16];
	uint8_t nonce[RG_AEAD_NONCE_BYTES] = { 3, 0, 9, 8, 7 };
	struct rg_keyring *k[2];
	struct rg_aead e[2];
	uint64_t seed = 99, checked = 0;
	int rc;

	(void)state;
	assert_int_equal(rg_key_generate(pa), 0);
	assert_int_equal(rg_key_generate(pb), 0);
	assert_int_equal(rg_key_public(pb, pubb), 0);
	assert_int_equal(rg_keyring_create_impl(pa, 1, 1, RG_AEAD_OPENSSL, &k[0]), 0);
	rc = rg_keyring_create_impl(pa, 1, 1, RG_AEAD_IPSEC_MB, &k[1]);
	if (rc == -ENOTSUP) {
		rg_keyring_destroy(k[0]);
		skip(); /* built without ipsec-mb: one implementation only */
	}
	assert_int_equal(rc, 0);
	assert_string_not_equal(rg_keyring_impl_name(k[0]), rg_keyring_impl_name(k[1]));
	for (int i = 0; i < 2; i++) {
		assert_int_equal(rg_keyring_add_peer(k[i], 2, pubb), 0);
		e[i] = rg_keyring_aead(k[i]);
		assert_int_equal(rg_keyring_set_key(k[i], 0, pubb), 0); /* any 32 bytes, both */
	}
	for (size_t i = 0; i < sizeof(orig); i++)
		orig[i] = (uint8_t)rg_splitmix64(&seed);
	for (size_t i = 0; i < sizeof(aad); i++)
		aad[i] = (uint8_t)rg_splitmix64(&seed);
	for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
		size_t len = lens[li];

		nonce[6] = (uint8_t)li;
		for (int i = 0; i < 2; i++) {
			memcpy(buf[i], orig, len);
			e[i].seal(e[i].ctx, 0, nonce, aad, sizeof(aad), buf[i], len, tag[i]);
		}
		if (len > 0)
			assert_memory_equal(buf[0], buf[1], len);
		assert_memory_equal(tag[0], tag[1], 16);
		for (int i = 0; i < 2; i++) { /* i seals (buf[0] = buf[1]), 1 - i opens */
			struct rg_aead *o = &e[1 - i];
			uint8_t copy[8960];

			memcpy(copy, buf[i], len);
			copy[len ? len / 2 : 0] ^= len ? 0x10 : 0;
			aad[3] ^= len ? 0 : 1; /* empty: flip the header instead */
			assert_int_equal(
			    o->open(o->ctx, 0, nonce, aad, sizeof(aad), copy, len, tag[i]),
			    -EBADMSG);
			aad[3] ^= len ? 0 : 1;
			memcpy(copy, buf[i], len);
			assert_int_equal(
			    o->open(o->ctx, 0, nonce, aad, sizeof(aad), copy, len, tag[i]), 0);
			if (len > 0)
				assert_memory_equal(copy, orig, len);
			checked++;
		}
	}
	assert_int_equal(checked, 2 * sizeof(lens) / sizeof(lens[0]));
	rg_keyring_destroy(k[0]);
	rg_keyring_destroy(k[1]);
}

/* Seals 64 bytes with tx of one side and opens them with rx of the other: 1 when it opens. */
static int
opens(struct rg_aead *tx, uint32_t tx_slot, struct rg_aead *rx, uint32_t rx_slot)
{
	uint8_t nonce[RG_AEAD_NONCE_BYTES] = { 4, 0, 1 }, aad[32] = { 9 }, buf[64], copy[64];
	uint8_t tag[16];

	memset(buf, 0x5a, sizeof(buf));
	tx->seal(tx->ctx, tx_slot, nonce, aad, sizeof(aad), buf, sizeof(buf), tag);
	memcpy(copy, buf, sizeof(copy));
	aad[7] ^= 1; /* the header is authenticated: a changed one never opens */
	if (rx->open(rx->ctx, rx_slot, nonce, aad, sizeof(aad), copy, sizeof(copy), tag) == 0)
		fail_msg("a changed header opened");
	aad[7] ^= 1;
	return rx->open(rx->ctx, rx_slot, nonce, aad, sizeof(aad), buf, sizeof(buf), tag) == 0;
}

/*
 * Handshakes per lane (rg_keyring_hs_*): a (gw 1) initiates to b (gw 2) on lane 3, each
 * direction's session key opens only at the other side's matching slot; a second
 * handshake is a new key while the old slots still work; b refuses an INIT from c (gw 3, a
 * listed peer) that claims to be gw 1, and one from a stranger; a forged RESP leaves a's
 * INIT pending; calls out of turn are refused.
 */
static void
test_keys_lane_handshakes(void **state)
{
	uint8_t priv[4][32], pub[4][32], init[256], resp[256], pl[RG_NOISE_PAYLOAD_MAX];
	const uint8_t prologue[] = "hdr";
	struct rg_keyring *a, *b, *c, *x;
	struct rg_aead ea, eb;
	int n, ilen, rlen;
	unsigned checked = 0;

	(void)state;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(rg_key_generate(priv[i]), 0);
		assert_int_equal(rg_key_public(priv[i], pub[i]), 0);
	}
	assert_int_equal(rg_keyring_create(priv[1], 2, 4, &a), 0);
	assert_int_equal(rg_keyring_create(priv[2], 2, 4, &b), 0);
	assert_int_equal(rg_keyring_create(priv[3], 2, 4, &c), 0);
	assert_int_equal(rg_keyring_create(priv[0], 2, 4, &x), 0);
	assert_int_equal(rg_keyring_create(priv[0], 2, 0, &x), -EINVAL);
	assert_int_equal(rg_keyring_set_key(a, RG_AEAD_SLOTS(4), pub[0]), -EINVAL);
	assert_int_equal(rg_keyring_add_peer(a, 2, pub[2]), 0);
	assert_int_equal(rg_keyring_add_peer(b, 1, pub[1]), 0);
	assert_int_equal(rg_keyring_add_peer(b, 3, pub[3]), 0);
	assert_int_equal(rg_keyring_add_peer(c, 2, pub[2]), 0);
	assert_int_equal(rg_keyring_add_peer(x, 2, pub[2]), 0);
	ea = rg_keyring_aead(a);
	eb = rg_keyring_aead(b);

	for (int round = 0; round < 2; round++) { /* round 1 rekeys into slots 2, 3 */
		uint32_t tx = 2u * (uint32_t)round, rx = tx + 1;

		ilen = rg_keyring_hs_initiate(a, 3, 2, prologue, sizeof(prologue),
					      (const uint8_t *)"inc+ctr", 7, init);
		assert_int_equal(ilen, RG_NOISE_INIT_BYTES(7));
		n = rg_keyring_hs_read_init(b, 3, 1, prologue, sizeof(prologue), init, (size_t)ilen,
					    pl);
		assert_int_equal(n, 7);
		assert_memory_equal(pl, "inc+ctr", 7);
		rlen = rg_keyring_hs_answer(b, 3, tx, rx, (const uint8_t *)"binc", 4, resp);
		assert_int_equal(rlen, RG_NOISE_RESP_BYTES(4));
		/* A forged RESP (one bit) is refused and the real one still finishes. */
		resp[rlen - 1] ^= 1;
		assert_int_equal(rg_keyring_hs_finish(a, 3, 2, tx, rx, resp, (size_t)rlen, pl),
				 -EBADMSG);
		resp[rlen - 1] ^= 1;
		assert_int_equal(rg_keyring_hs_finish(a, 3, 2, tx, rx, resp, (size_t)rlen, pl), 4);
		assert_memory_equal(pl, "binc", 4);
		/* Replayed: nothing pending any more. */
		assert_int_equal(rg_keyring_hs_finish(a, 3, 2, tx, rx, resp, (size_t)rlen, pl),
				 -EINVAL);
		assert_true(opens(&ea, tx, &eb, rx));
		assert_true(opens(&eb, tx, &ea, rx));
		assert_false(opens(&ea, tx, &eb, tx)); /* each direction its own key */
		checked += 3;
	}
	assert_false(opens(&ea, 0, &eb, 3)); /* the rekeyed session is another key */
	assert_true(opens(&ea, 0, &eb, 1));  /* and the old one still opens */
	assert_int_equal(rg_keyring_forget(b, 1), 0);
	assert_false(opens(&ea, 0, &eb, 1)); /* until it is forgotten */
	assert_int_equal(rg_keyring_forget(b, RG_AEAD_SLOTS(4)), -EINVAL);

	/* c is a listed peer of b (gw 3), but its INIT says gw 1: refused after it checks. */
	ilen = rg_keyring_hs_initiate(c, 0, 2, prologue, sizeof(prologue), NULL, 0, init);
	assert_int_equal(ilen, RG_NOISE_INIT_BYTES(0));
	assert_int_equal(
	    rg_keyring_hs_read_init(b, 0, 1, prologue, sizeof(prologue), init, (size_t)ilen, pl),
	    -EACCES);
	assert_int_equal(rg_keyring_hs_answer(b, 0, 4, 5, NULL, 0, resp), -EINVAL);
	/* As itself it is fine. */
	assert_int_equal(
	    rg_keyring_hs_read_init(b, 0, 3, prologue, sizeof(prologue), init, (size_t)ilen, pl),
	    0);
	/* A stranger (x, not listed at b) claiming gw 1. */
	ilen = rg_keyring_hs_initiate(x, 1, 2, prologue, sizeof(prologue), NULL, 0, init);
	assert_int_equal(
	    rg_keyring_hs_read_init(b, 1, 1, prologue, sizeof(prologue), init, (size_t)ilen, pl),
	    -EACCES);
	/* Unknown gateways, lanes and slots out of range, answer with nothing read. */
	assert_int_equal(rg_keyring_hs_initiate(a, 0, 9, NULL, 0, NULL, 0, init), -ENOENT);
	assert_int_equal(rg_keyring_hs_initiate(a, 4, 2, NULL, 0, NULL, 0, init), -EINVAL);
	assert_int_equal(rg_keyring_hs_read_init(b, 0, 9, NULL, 0, init, (size_t)ilen, pl),
			 -ENOENT);
	assert_int_equal(rg_keyring_hs_answer(b, 2, 4, 5, NULL, 0, resp), -EINVAL);
	assert_int_equal(rg_keyring_hs_answer(b, 0, 4, 4, NULL, 0, resp), -EINVAL);
	assert_int_equal(rg_keyring_hs_finish(a, 2, 2, 4, 5, resp, (size_t)rlen, pl), -EINVAL);
	assert_int_equal(checked, 6);
	rg_keyring_destroy(a);
	rg_keyring_destroy(b);
	rg_keyring_destroy(c);
	rg_keyring_destroy(x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_b64_round_trip),
		cmocka_unit_test(test_keys_public_matches_rfc7748),
		cmocka_unit_test(test_keys_file_mode_and_content),
		cmocka_unit_test(test_keys_aead_impls_interoperate),
		cmocka_unit_test(test_keys_lane_handshakes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
