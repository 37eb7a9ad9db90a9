/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CRC32C: known vectors for both paths, chaining, and the two paths agreeing
 * on every length and alignment.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "common.h"
#include "crc32c.h"

typedef uint32_t (*crc_fn)(uint32_t crc, const void *buf, size_t len);

struct vector {
	const char *name;
	uint8_t buf[32];
	size_t len;
	uint32_t crc;
};

/* RFC 3720 appendix B.4 and the classic check value. */
static const struct vector vectors[] = {
	{ "empty", { 0 }, 0, 0x00000000u },
	{ "123456789", { '1', '2', '3', '4', '5', '6', '7', '8', '9' }, 9, 0xE3069283u },
	{ "a", { 'a' }, 1, 0xC1D04330u },
	{ "32 zeros", { 0 }, 32, 0x8A9136AAu },
	{ "32 x 0xff",
	  { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
	  32,
	  0x62A8AB43u },
	{ "ascending 0..31",
	  { 0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
	    16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31 },
	  32,
	  0x46DD794Eu },
	{ "descending 31..0",
	  { 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16,
	    15, 14, 13, 12, 11, 10, 9,  8,  7,  6,  5,  4,  3,  2,  1,  0 },
	  32,
	  0x113FDB5Cu },
};

static uint32_t
crc_with(crc_fn fn, const void *buf, size_t len)
{
	return rg_crc32c_final(fn(RG_CRC32C_INIT, buf, len));
}

static void
check_vectors(crc_fn fn)
{
	size_t checked = 0;

	for (size_t i = 0; i < RG_ARRAY_SIZE(vectors); i++) {
		const struct vector *v = &vectors[i];
		uint32_t got = crc_with(fn, v->buf, v->len);

		if (got != v->crc)
			fail_msg("vector %s: got 0x%08x, want 0x%08x", v->name, got, v->crc);
		checked++;
	}
	assert_int_equal(checked, RG_ARRAY_SIZE(vectors));
	assert_true(checked > 0);
}

static void
test_crc32c_sw_known_vectors(void **state)
{
	(void)state;
	check_vectors(rg_crc32c_sw);
}

static void
test_crc32c_hw_known_vectors(void **state)
{
	(void)state;
	if (!rg_crc32c_hw_available())
		skip();
	check_vectors(rg_crc32c_hw);
}

static void
test_crc32c_dispatch_known_vectors(void **state)
{
	(void)state;
	check_vectors(rg_crc32c);
	assert_int_equal(rg_crc32c_of("123456789", 9), 0xE3069283u);
}

static void
check_chaining(crc_fn fn)
{
	uint8_t buf[100];
	size_t checked = 0;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 37 + 11);
	for (size_t split = 0; split <= sizeof(buf); split++) {
		uint32_t one = fn(RG_CRC32C_INIT, buf, sizeof(buf));
		uint32_t two = fn(fn(RG_CRC32C_INIT, buf, split), buf + split, sizeof(buf) - split);

		assert_int_equal(one, two);
		checked++;
	}
	assert_int_equal(checked, sizeof(buf) + 1);
	/* "1234" then "56789" gives the check value. */
	assert_int_equal(rg_crc32c_final(fn(fn(RG_CRC32C_INIT, "1234", 4), "56789", 5)),
			 0xE3069283u);
}

static void
test_crc32c_sw_chaining(void **state)
{
	(void)state;
	check_chaining(rg_crc32c_sw);
}

static void
test_crc32c_hw_chaining(void **state)
{
	(void)state;
	if (!rg_crc32c_hw_available())
		skip();
	check_chaining(rg_crc32c_hw);
}

static void
test_crc32c_sw_equals_hw_all_lengths_and_offsets(void **state)
{
	uint8_t buf[128];
	uint64_t rng = 42;
	size_t checked = 0;

	(void)state;
	if (!rg_crc32c_hw_available())
		skip();
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rg_splitmix64(&rng);
	for (size_t off = 0; off < 8; off++) {
		for (size_t len = 0; len <= 100; len++) {
			uint32_t sw = rg_crc32c_sw(RG_CRC32C_INIT, buf + off, len);
			uint32_t hw = rg_crc32c_hw(RG_CRC32C_INIT, buf + off, len);

			if (sw != hw)
				fail_msg("off %zu len %zu: sw 0x%08x hw 0x%08x", off, len, sw, hw);
			/* A non-initial running value too (chaining into the middle). */
			assert_int_equal(rg_crc32c_sw(0x12345678u, buf + off, len),
					 rg_crc32c_hw(0x12345678u, buf + off, len));
			checked++;
		}
	}
	assert_int_equal(checked, 8 * 101);
}

/* The three-chain path (3 x 256-byte blocks and more) against the table, around block edges. */
static void
test_crc32c_hw_long_buffers_equal_sw(void **state)
{
	static uint8_t buf[9100];
	uint64_t x = 42;
	unsigned checked = 0;

	(void)state;
	if (!rg_crc32c_hw_available())
		skip();
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rg_splitmix64(&x);
	for (size_t len = 700; len <= 9000; len += (len < 1600 ? 1 : 61))
		for (size_t off = 0; off < 3; off++, checked++)
			assert_int_equal(rg_crc32c_hw(0x12345678u, buf + off, len),
					 rg_crc32c_sw(0x12345678u, buf + off, len));
	assert_true(checked > 3000);
}

static void
test_crc32c_detects_single_bit_flip(void **state)
{
	uint8_t buf[64];
	uint32_t base;
	size_t checked = 0;

	(void)state;
	memset(buf, 0x5a, sizeof(buf));
	base = rg_crc32c_of(buf, sizeof(buf));
	for (size_t bit = 0; bit < sizeof(buf) * 8; bit++) {
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_not_equal(rg_crc32c_of(buf, sizeof(buf)), base);
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		checked++;
	}
	assert_int_equal(checked, 512);
	assert_int_equal(rg_crc32c_of(buf, sizeof(buf)), base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c_sw_known_vectors),
		cmocka_unit_test(test_crc32c_hw_long_buffers_equal_sw),
		cmocka_unit_test(test_crc32c_hw_known_vectors),
		cmocka_unit_test(test_crc32c_dispatch_known_vectors),
		cmocka_unit_test(test_crc32c_sw_chaining),
		cmocka_unit_test(test_crc32c_hw_chaining),
		cmocka_unit_test(test_crc32c_sw_equals_hw_all_lengths_and_offsets),
		cmocka_unit_test(test_crc32c_detects_single_bit_flip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
