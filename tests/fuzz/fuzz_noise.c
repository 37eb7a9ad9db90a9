/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the Noise IK handshake messages (control/noise.c) on
 * arbitrary bytes, with the real X25519, SHA-256 and AES-256-GCM.
 *
 * The first byte picks a mode; what must hold, or the target aborts:
 *   0. the rest, as an INIT, to a responder with a fixed identity: no read
 *      outside it (ASan: a heap copy of exactly its length); a refused one
 *      leaves the state FAILED; an accepted one can be answered.
 *   1. the rest, as a RESP, to an initiator that sent a real INIT (fixed
 *      identities and ephemerals): accepted only if it is byte for byte the
 *      RESP the real responder writes for the payload it carried — nobody
 *      without a responder's keys makes a RESP that opens.
 *   2. a whole handshake with the ephemerals, prologue and payloads taken
 *      from the input, then one byte of INIT or RESP changed by an amount
 *      from the input: unchanged, both sides agree on the transport keys
 *      and the payloads arrive; changed, the message is refused.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "noise.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Fixed identities: any valid X25519 private keys (clamping is the library's). */
static const uint8_t I_STATIC[32] = { 1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
				      12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
				      23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };
static const uint8_t R_STATIC[32] = { 99, 98, 97, 96, 95, 94, 93, 92, 91, 90, 89,
				      88, 87, 86, 85, 84, 83, 82, 81, 80, 79, 78,
				      77, 76, 75, 74, 73, 72, 71, 70, 69, 68 };
static const uint8_t I_EPH[32] = { 7 };
static const uint8_t R_EPH[32] = { 8 };
static const uint8_t PROLOGUE[] = "repgate fuzz";

static uint8_t *
copy(const uint8_t *p, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);

	if (c == NULL)
		abort();
	memcpy(c, p, n);
	return c;
}

static void
raw_init(const uint8_t *msg, size_t len)
{
	uint8_t payload[RG_NOISE_PAYLOAD_MAX], out[RG_NOISE_RESP_BYTES(0)];
	struct rg_noise r;
	int n;

	if (rg_noise_responder(&r, R_STATIC, PROLOGUE, sizeof(PROLOGUE), NULL) != 0)
		abort();
	n = rg_noise_read_init(&r, msg, len, payload);
	if (n < 0) {
		if (r.step != RG_NOISE_FAILED)
			abort();
		return;
	}
	if (r.step != RG_NOISE_WRITE_RESP || rg_noise_write_resp(&r, NULL, 0, out) < 0)
		abort();
	rg_noise_wipe(&r);
}

static void
raw_resp(const uint8_t *msg, size_t len)
{
	uint8_t init[RG_NOISE_INIT_BYTES(0)], payload[RG_NOISE_PAYLOAD_MAX],
	    scratch[RG_NOISE_PAYLOAD_MAX];
	uint8_t real[RG_NOISE_RESP_BYTES(RG_NOISE_PAYLOAD_MAX)], rpub[32];
	struct rg_noise i, r;
	int ilen, n;

	if (rg_key_public(R_STATIC, rpub) != 0 ||
	    rg_noise_initiator(&i, I_STATIC, rpub, PROLOGUE, sizeof(PROLOGUE), I_EPH) != 0)
		abort();
	ilen = rg_noise_write_init(&i, NULL, 0, init);
	if (ilen != (int)sizeof(init))
		abort();
	n = rg_noise_read_resp(&i, msg, len, payload);
	if (n < 0) {
		if (i.step != RG_NOISE_FAILED)
			abort();
		return;
	}
	/* Accepted: it must be what the real responder writes for that payload. */
	if (rg_noise_responder(&r, R_STATIC, PROLOGUE, sizeof(PROLOGUE), R_EPH) != 0 ||
	    rg_noise_read_init(&r, init, sizeof(init), scratch) != 0 ||
	    rg_noise_write_resp(&r, payload, (size_t)n, real) != (int)len ||
	    memcmp(real, msg, len) != 0)
		abort();
	rg_noise_wipe(&i);
	rg_noise_wipe(&r);
}

/* Input: ie[32] re[32] at[2] xor[1] which[1] plen[1] then prologue and payloads. */
static void
round_trip(const uint8_t *d, size_t size)
{
	uint8_t init[RG_NOISE_INIT_BYTES(RG_NOISE_PAYLOAD_MAX)];
	uint8_t resp[RG_NOISE_RESP_BYTES(RG_NOISE_PAYLOAD_MAX)];
	uint8_t got[RG_NOISE_PAYLOAD_MAX], rpub[32], itx[32], irx[32], rtx[32], rrx[32];
	const uint8_t *eph = d, *prologue, *p1, *p2;
	size_t at, plen, l1, l2, rest;
	uint8_t xor, which;
	struct rg_noise i, r;
	int ilen, rlen, n;

	if (size < 69)
		return;
	at = (size_t)d[64] | (size_t)d[65] << 8;
	xor = d[66];
	which = d[67] & 1;
	plen = d[68];
	d += 69;
	rest = size - 69;
	plen = plen < rest ? plen : rest;
	prologue = d;
	d += plen;
	rest -= plen;
	l1 = rest / 2 < RG_NOISE_PAYLOAD_MAX ? rest / 2 : RG_NOISE_PAYLOAD_MAX;
	p1 = d;
	l2 = rest - rest / 2 < RG_NOISE_PAYLOAD_MAX ? rest - rest / 2 : RG_NOISE_PAYLOAD_MAX;
	p2 = d + rest / 2;

	if (rg_key_public(R_STATIC, rpub) != 0 ||
	    rg_noise_initiator(&i, I_STATIC, rpub, prologue, plen, eph) != 0 ||
	    rg_noise_responder(&r, R_STATIC, prologue, plen, eph + 32) != 0)
		abort();
	ilen = rg_noise_write_init(&i, p1, l1, init);
	if (ilen < 0) /* an ephemeral X25519 takes: only a library failure */
		abort();
	if (which == 0 && xor != 0) {
		init[at % (size_t)ilen] ^= xor;
		if (rg_noise_read_init(&r, init, (size_t)ilen, got) != -EBADMSG)
			abort();
		return;
	}
	n = rg_noise_read_init(&r, init, (size_t)ilen, got);
	if (n != (int)l1 || memcmp(got, p1, l1) != 0)
		abort();
	rlen = rg_noise_write_resp(&r, p2, l2, resp);
	if (rlen < 0)
		abort();
	if (which == 1 && xor != 0) {
		resp[at % (size_t)rlen] ^= xor;
		if (rg_noise_read_resp(&i, resp, (size_t)rlen, got) != -EBADMSG)
			abort();
		return;
	}
	n = rg_noise_read_resp(&i, resp, (size_t)rlen, got);
	if (n != (int)l2 || memcmp(got, p2, l2) != 0)
		abort();
	if (rg_noise_split(&i, itx, irx, NULL) != 0 || rg_noise_split(&r, rtx, rrx, NULL) != 0 ||
	    memcmp(itx, rrx, 32) != 0 || memcmp(irx, rtx, 32) != 0 || memcmp(itx, irx, 32) == 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *c;

	if (size < 1)
		return 0;
	c = copy(data + 1, size - 1);
	switch (data[0] % 3) {
	case 0:
		raw_init(c, size - 1);
		break;
	case 1:
		raw_resp(c, size - 1);
		break;
	default:
		round_trip(c, size - 1);
		break;
	}
	free(c);
	return 0;
}
