/* SPDX-License-Identifier: Apache-2.0 */
/* Ethernet / IPv4 / UDP framing: a round trip and every drop reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "frame.h"

static const struct rg_endpoint a = { { 2, 0, 0, 0, 0, 1 }, 0x0a000001, 7000 };
static const struct rg_endpoint b = { { 2, 0, 0, 0, 0, 2 }, 0x0a000002, 7001 };

static size_t
build(uint8_t *f, size_t payload)
{
	rg_frame_build(f, &a, &b, 40003, payload, 0);
	for (size_t i = 0; i < payload; i++)
		f[RG_FRAME_HDR_BYTES + i] = (uint8_t)i;
	return RG_FRAME_HDR_BYTES + payload;
}

static void
test_frame_round_trip(void **state)
{
	uint8_t f[256];
	struct rg_frame_info fi;
	size_t len = build(f, 100);

	(void)state;
	assert_int_equal(rg_frame_parse(f, len, &b, 1, &fi), RG_FRAME_OK);
	assert_int_equal(fi.src_ip, a.ip);
	assert_int_equal(fi.src_port, 40003);
	assert_int_equal(fi.payload_off, 42);
	assert_int_equal(fi.payload_len, 100);
	assert_memory_equal(f, b.mac, 6);
	assert_memory_equal(f + 6, a.mac, 6);
	/* Ethernet padding after the IP datagram is allowed. */
	assert_int_equal(rg_frame_parse(f, len + 10, &b, 1, &fi), RG_FRAME_OK);
	assert_int_equal(fi.payload_len, 100);
}

/* Each row: a byte to change (offset, new value) and the reason the parser must give. */
static void
test_frame_drops_each_reason(void **state)
{
	static const struct {
		int off;
		uint8_t val;
		enum rg_frame_drop want;
	} rows[] = {
		{ 12, 0x86, RG_FRAME_DROP_NOT_IPV4 },    /* EtherType IPv6 */
		{ 14, 0x46, RG_FRAME_DROP_IP_OPTIONS },  /* IHL 6 */
		{ 20, 0x20, RG_FRAME_DROP_IP_FRAGMENT }, /* MF flag */
		{ 21, 0x01, RG_FRAME_DROP_IP_FRAGMENT }, /* fragment offset */
		{ 23, 6, RG_FRAME_DROP_NOT_UDP },        /* TCP */
		{ 33, 3, RG_FRAME_DROP_NOT_FOR_US },     /* another destination address */
		{ 37, 0x5a, RG_FRAME_DROP_NOT_FOR_US },  /* another destination port */
		{ 17, 0xff, RG_FRAME_DROP_BAD_LENGTH },  /* IP length past the frame */
		{ 39, 0x05, RG_FRAME_DROP_BAD_LENGTH },  /* UDP length disagrees */
		{ 22, 1, RG_FRAME_DROP_BAD_CHECKSUM },   /* TTL changed: checksum wrong */
	};
	unsigned checked = 0;

	(void)state;
	for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint8_t f[256];
		struct rg_frame_info fi;
		size_t len = build(f, 64);

		f[rows[i].off] = rows[i].val;
		assert_int_equal(rg_frame_parse(f, len, &b, 1, &fi), rows[i].want);
		checked++;
	}
	assert_int_equal(checked, 10);
	{
		uint8_t f[256];
		struct rg_frame_info fi;

		build(f, 64);
		assert_int_equal(rg_frame_parse(f, 41, &b, 1, &fi), RG_FRAME_DROP_SHORT);
	}
}

static void
test_frame_checksum_offload_skips_check(void **state)
{
	uint8_t f[256];
	struct rg_frame_info fi;

	(void)state;
	rg_frame_build(f, &a, &b, 40000, 10, 1); /* the NIC would fill the checksum */
	assert_int_equal(f[24] | f[25], 0);
	assert_int_equal(rg_frame_parse(f, 52, &b, 0, &fi), RG_FRAME_OK);
	assert_int_equal(rg_frame_parse(f, 52, &b, 1, &fi), RG_FRAME_DROP_BAD_CHECKSUM);
}

static void
test_frame_parse_addresses(void **state)
{
	uint32_t ip;
	uint8_t mac[6];

	(void)state;
	assert_int_equal(rg_ip4_parse("10.0.0.2", &ip), 0);
	assert_int_equal(ip, 0x0a000002);
	assert_int_equal(rg_ip4_parse("10.0.0.256", &ip), -22);
	assert_int_equal(rg_ip4_parse("10.0.0", &ip), -22);
	assert_int_equal(rg_ip4_parse("10.0.0.1x", &ip), -22);
	assert_int_equal(rg_mac_parse("02:00:00:00:00:0a", mac), 0);
	assert_int_equal(mac[5], 10);
	assert_int_equal(rg_mac_parse("02:00:00:00:00", mac), -22);
	assert_int_equal(rg_mac_parse("02:00:00:00:00:100", mac), -22);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_round_trip),
		cmocka_unit_test(test_frame_drops_each_reason),
		cmocka_unit_test(test_frame_checksum_offload_skips_check),
		cmocka_unit_test(test_frame_parse_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
