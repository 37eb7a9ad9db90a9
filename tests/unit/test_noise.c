/* SPDX-License-Identifier: Apache-2.0 */
/*
 * control/noise.c: Noise_IK_25519_AESGCM_SHA256 against the cacophony test
 * vector (github.com/haskell-cryptography/cacophony, vectors/cacophony.txt,
 * the one vector of that protocol name: both messages, the handshake hash
 * and four transport messages), then what a forged or broken message does.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "keys.h"
#include "noise.h"

/* The vector, as cacophony gives it (hex). */
static const char *const V_PROLOGUE = "4a6f686e2047616c74";
static const char *const V_INIT_STATIC =
    "e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1";
static const char *const V_INIT_EPHEMERAL =
    "893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a";
static const char *const V_INIT_REMOTE_STATIC =
    "31e0303fd6418d2f8c0e78b91f22e8caed0fbe48656dcf4767e4834f701b8f62";
static const char *const V_RESP_STATIC =
    "4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893";
static const char *const V_RESP_EPHEMERAL =
    "bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b";
static const char *const V_HASH =
    "669c8640d9e42a3cda2f232f78597ceefb01daa6e3df81181ccce6fc6b5026bf";
static const struct {
	const char *payload, *ciphertext;
} V_MSG[] = {
	{ "4c756477696720766f6e204d69736573",
	  "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c79444e417bc55c7a8166c99335"
	  "6c1be41ef67818a292426f301556c7f26b21d25ddb097153891a9a956cff47b83e63ad8d701c1342c209cf"
	  "f1ca5ecd43402762ac249e3bd3a4c0a145fe07cb5dae28ea13a3" },
	{ "4d757272617920526f746862617264",
	  "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f144808843af2ccf9972e22afc67aeaf"
	  "cd25162f7f98c363b7762e3e4cb7d272e39f27a5" },
	{ "462e20412e20486179656b", "66acfc92e3197de166809e6d4d5d003dcc819a84bc3522ca53c9d9" },
	{ "4361726c204d656e676572", "71f89aa6533a6de70b0826864dd75f60806ee40170c16290189eb3" },
	{ "4a65616e2d426170746973746520536179",
	  "4795a3423550c8bf00386bd496a3e2c76c10669d2a75ab8f79b5094c5412a25705" },
	{ "457567656e2042f6686d20766f6e2042617765726b",
	  "aa0bb39097555c918e40be82abc2b909eb79d9eb87adb07e268fc37323a6cf904fd01fb391" },
};

static size_t
unhex(const char *hex, uint8_t *out)
{
	size_t n = strlen(hex) / 2;

	for (size_t i = 0; i < n; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

static void
test_noise_ik_matches_cacophony(void **state)
{
	uint8_t prologue[16], is[32], ie[32], irs[32], rs[32], re[32], want_h[32];
	uint8_t payload[RG_NOISE_PAYLOAD_MAX], msg[512], want[512], got[RG_NOISE_PAYLOAD_MAX];
	uint8_t i_tx[32], i_rx[32], r_tx[32], r_rx[32], i_h[32], r_h[32];
	struct rg_noise ini, res;
	size_t plen, n, checked = 0;
	int len;

	(void)state;
	plen = unhex(V_PROLOGUE, prologue);
	unhex(V_INIT_STATIC, is);
	unhex(V_INIT_EPHEMERAL, ie);
	unhex(V_INIT_REMOTE_STATIC, irs);
	unhex(V_RESP_STATIC, rs);
	unhex(V_RESP_EPHEMERAL, re);
	unhex(V_HASH, want_h);
	assert_int_equal(rg_noise_initiator(&ini, is, irs, prologue, plen, ie), 0);
	assert_int_equal(rg_noise_responder(&res, rs, prologue, plen, re), 0);

	/* INIT: initiator → responder; the responder learns the initiator's static key. */
	n = unhex(V_MSG[0].payload, payload);
	len = rg_noise_write_init(&ini, payload, n, msg);
	assert_int_equal(len, (int)RG_NOISE_INIT_BYTES(n));
	assert_int_equal(unhex(V_MSG[0].ciphertext, want), (size_t)len);
	assert_memory_equal(msg, want, (size_t)len);
	assert_int_equal(rg_noise_read_init(&res, msg, (size_t)len, got), (int)n);
	assert_memory_equal(got, payload, n);
	{
		uint8_t ipub[32];

		assert_int_equal(rg_key_public(is, ipub), 0);
		assert_memory_equal(res.rs, ipub, 32);
	}
	checked++;

	/* RESP: responder → initiator. */
	n = unhex(V_MSG[1].payload, payload);
	len = rg_noise_write_resp(&res, payload, n, msg);
	assert_int_equal(len, (int)RG_NOISE_RESP_BYTES(n));
	assert_int_equal(unhex(V_MSG[1].ciphertext, want), (size_t)len);
	assert_memory_equal(msg, want, (size_t)len);
	assert_int_equal(rg_noise_read_resp(&ini, msg, (size_t)len, got), (int)n);
	assert_memory_equal(got, payload, n);
	checked++;

	assert_int_equal(rg_noise_split(&ini, i_tx, i_rx, i_h), 0);
	assert_int_equal(rg_noise_split(&res, r_tx, r_rx, r_h), 0);
	assert_memory_equal(i_h, want_h, 32);
	assert_memory_equal(r_h, want_h, 32);
	assert_memory_equal(i_tx, r_rx, 32);
	assert_memory_equal(i_rx, r_tx, 32);

	/* Transport: initiator, responder, initiator, responder; each direction counts from 0. */
	for (size_t m = 2; m < sizeof(V_MSG) / sizeof(V_MSG[0]); m++) {
		const uint8_t *tx = (m % 2 == 0) ? i_tx : r_tx;
		const uint8_t *rx = (m % 2 == 0) ? r_rx : i_rx;
		uint64_t nonce = (m - 2) / 2;

		n = unhex(V_MSG[m].payload, payload);
		assert_int_equal(rg_noise_encrypt(tx, nonce, NULL, 0, payload, n, msg), 0);
		assert_int_equal(unhex(V_MSG[m].ciphertext, want), n + RG_NOISE_TAG_BYTES);
		assert_memory_equal(msg, want, n + RG_NOISE_TAG_BYTES);
		assert_int_equal(
		    rg_noise_decrypt(rx, nonce, NULL, 0, msg, n + RG_NOISE_TAG_BYTES, got), 0);
		assert_memory_equal(got, payload, n);
		checked++;
	}
	assert_int_equal(checked, sizeof(V_MSG) / sizeof(V_MSG[0]));
}

struct pair {
	uint8_t is[32], ipub[32], rs[32], rpub[32];
};

static void
make_pair(struct pair *p)
{
	assert_int_equal(rg_key_generate(p->is), 0);
	assert_int_equal(rg_key_public(p->is, p->ipub), 0);
	assert_int_equal(rg_key_generate(p->rs), 0);
	assert_int_equal(rg_key_public(p->rs, p->rpub), 0);
}

/* Fresh ephemerals: the two sides agree, and two runs of the same pair give other keys. */
static void
test_noise_fresh_ephemerals_agree_and_differ(void **state)
{
	uint8_t msg[512], got[RG_NOISE_PAYLOAD_MAX], tx[2][32], rx[32];
	struct rg_noise ini, res;
	struct pair p;
	int len;

	(void)state;
	make_pair(&p);
	for (int run = 0; run < 2; run++) {
		assert_int_equal(
		    rg_noise_initiator(&ini, p.is, p.rpub, (const uint8_t *)"x", 1, NULL), 0);
		assert_int_equal(rg_noise_responder(&res, p.rs, (const uint8_t *)"x", 1, NULL), 0);
		len = rg_noise_write_init(&ini, NULL, 0, msg);
		assert_int_equal(len, RG_NOISE_INIT_BYTES(0));
		assert_int_equal(rg_noise_read_init(&res, msg, (size_t)len, got), 0);
		assert_memory_equal(res.rs, p.ipub, 32);
		len = rg_noise_write_resp(&res, (const uint8_t *)"inc-0001", 8, msg);
		assert_int_equal(len, RG_NOISE_RESP_BYTES(8));
		assert_int_equal(rg_noise_read_resp(&ini, msg, (size_t)len, got), 8);
		assert_memory_equal(got, "inc-0001", 8);
		assert_int_equal(rg_noise_split(&ini, tx[run], rx, NULL), 0);
		assert_int_equal(ini.step, RG_NOISE_SPLIT);
		{
			uint8_t rtx[32], rrx[32];

			assert_int_equal(rg_noise_split(&res, rtx, rrx, NULL), 0);
			assert_memory_equal(rrx, tx[run], 32);
			assert_memory_equal(rtx, rx, 32);
		}
	}
	assert_memory_not_equal(tx[0], tx[1], 32);
}

/* Every flipped bit of INIT or RESP fails it, and the failed side refuses to go on. */
static void
test_noise_any_flipped_bit_fails(void **state)
{
	uint8_t init[512], resp[512], msg[512], got[RG_NOISE_PAYLOAD_MAX];
	struct rg_noise ini, res, ini_ok;
	struct pair p;
	int ilen, rlen;
	size_t flips = 0;

	(void)state;
	make_pair(&p);
	assert_int_equal(rg_noise_initiator(&ini, p.is, p.rpub, NULL, 0, NULL), 0);
	ilen = rg_noise_write_init(&ini, (const uint8_t *)"hello", 5, init);
	ini_ok = ini;
	for (int i = 0; i < ilen * 8; i += 7) { /* every 7th bit: all bytes, all bit positions */
		memcpy(msg, init, (size_t)ilen);
		msg[i / 8] ^= (uint8_t)(1u << (i % 8));
		assert_int_equal(rg_noise_responder(&res, p.rs, NULL, 0, NULL), 0);
		assert_int_equal(rg_noise_read_init(&res, msg, (size_t)ilen, got), -EBADMSG);
		assert_int_equal(res.step, RG_NOISE_FAILED);
		assert_int_equal(rg_noise_write_resp(&res, NULL, 0, resp), -EINVAL);
		flips++;
	}
	/* The real INIT still works; now RESP's bits. */
	assert_int_equal(rg_noise_responder(&res, p.rs, NULL, 0, NULL), 0);
	assert_int_equal(rg_noise_read_init(&res, init, (size_t)ilen, got), 5);
	rlen = rg_noise_write_resp(&res, NULL, 0, resp);
	assert_int_equal(rlen, RG_NOISE_RESP_BYTES(0));
	for (int i = 0; i < rlen * 8; i += 5) {
		memcpy(msg, resp, (size_t)rlen);
		msg[i / 8] ^= (uint8_t)(1u << (i % 8));
		ini = ini_ok;
		assert_int_equal(rg_noise_read_resp(&ini, msg, (size_t)rlen, got), -EBADMSG);
		assert_int_equal(ini.step, RG_NOISE_FAILED);
		flips++;
	}
	ini = ini_ok;
	assert_int_equal(rg_noise_read_resp(&ini, resp, (size_t)rlen, got), 0);
	assert_true(flips > 100);
}

/* An INIT for another responder, short and long messages, calls out of turn, a low-order key. */
static void
test_noise_refuses_what_it_must(void **state)
{
	uint8_t msg[1024], got[RG_NOISE_PAYLOAD_MAX], big[RG_NOISE_PAYLOAD_MAX + 1] = { 0 };
	uint8_t zero[32] = { 0 }, tx[32], rx[32];
	struct rg_noise ini, res;
	struct pair p, other;
	int len;

	(void)state;
	make_pair(&p);
	make_pair(&other);
	/* Meant for `other`'s responder key: p's responder cannot read it. */
	assert_int_equal(rg_noise_initiator(&ini, p.is, other.rpub, NULL, 0, NULL), 0);
	len = rg_noise_write_init(&ini, NULL, 0, msg);
	assert_int_equal(rg_noise_responder(&res, p.rs, NULL, 0, NULL), 0);
	assert_int_equal(rg_noise_read_init(&res, msg, (size_t)len, got), -EBADMSG);
	/* A different prologue (another header) fails too. */
	assert_int_equal(rg_noise_initiator(&ini, p.is, p.rpub, (const uint8_t *)"a", 1, NULL), 0);
	len = rg_noise_write_init(&ini, NULL, 0, msg);
	assert_int_equal(rg_noise_responder(&res, p.rs, (const uint8_t *)"b", 1, NULL), 0);
	assert_int_equal(rg_noise_read_init(&res, msg, (size_t)len, got), -EBADMSG);
	/* Lengths outside what the messages can be. */
	assert_int_equal(rg_noise_responder(&res, p.rs, NULL, 0, NULL), 0);
	assert_int_equal(rg_noise_read_init(&res, msg, RG_NOISE_INIT_BYTES(0) - 1, got), -EBADMSG);
	assert_int_equal(rg_noise_responder(&res, p.rs, NULL, 0, NULL), 0);
	assert_int_equal(
	    rg_noise_read_init(&res, msg, RG_NOISE_INIT_BYTES(RG_NOISE_PAYLOAD_MAX) + 1, got),
	    -EBADMSG);
	/* Out of turn, and a payload too long. */
	assert_int_equal(rg_noise_initiator(&ini, p.is, p.rpub, NULL, 0, NULL), 0);
	assert_int_equal(rg_noise_read_resp(&ini, msg, RG_NOISE_RESP_BYTES(0), got), -EINVAL);
	assert_int_equal(rg_noise_write_resp(&ini, NULL, 0, msg), -EINVAL);
	assert_int_equal(rg_noise_split(&ini, tx, rx, NULL), -EINVAL);
	assert_int_equal(rg_noise_write_init(&ini, big, sizeof(big), msg), -EINVAL);
	assert_int_equal(rg_noise_write_init(&ini, big, RG_NOISE_PAYLOAD_MAX, msg),
			 RG_NOISE_INIT_BYTES(RG_NOISE_PAYLOAD_MAX));
	assert_int_equal(rg_noise_write_init(&ini, NULL, 0, msg), -EINVAL); /* twice */
	/* A low-order (all-zero) ephemeral in INIT: the DH refuses it. */
	assert_int_equal(rg_noise_initiator(&ini, p.is, p.rpub, NULL, 0, NULL), 0);
	len = rg_noise_write_init(&ini, NULL, 0, msg);
	memcpy(msg, zero, 32);
	assert_int_equal(rg_noise_responder(&res, p.rs, NULL, 0, NULL), 0);
	assert_int_equal(rg_noise_read_init(&res, msg, (size_t)len, got), -EBADMSG);
	/* An initiator whose peer key is low-order cannot even write. */
	assert_int_equal(rg_noise_initiator(&ini, p.is, zero, NULL, 0, NULL), 0);
	assert_int_equal(rg_noise_write_init(&ini, NULL, 0, msg), -EBADMSG);
	assert_int_equal(ini.step, RG_NOISE_FAILED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_noise_ik_matches_cacophony),
		cmocka_unit_test(test_noise_fresh_ephemerals_agree_and_differ),
		cmocka_unit_test(test_noise_any_flipped_bit_fails),
		cmocka_unit_test(test_noise_refuses_what_it_must),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
