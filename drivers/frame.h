/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Ethernet / IPv4 / UDP framing of RGP packets (DESIGN §4.3), pure: no DPDK,
 * so tests build frames by hand. A lane's frames use UDP source port
 * src_port_base + lane, the entropy a NIC's RSS hashes to spread lanes over
 * queues; the destination is the peer's configured port.
 *
 * rg_frame_parse() accepts only what is ours: IPv4 without options or
 * fragments, protocol UDP, our address and port, lengths consistent with the
 * frame; every other frame gets a distinct, counted reason (RG_FRAME_DROPS).
 */
#ifndef RG_DRIVERS_FRAME_H
#define RG_DRIVERS_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define RG_ETH_HDR_BYTES   14
#define RG_IP4_HDR_BYTES   20
#define RG_UDP_HDR_BYTES   8
#define RG_FRAME_HDR_BYTES (RG_ETH_HDR_BYTES + RG_IP4_HDR_BYTES + RG_UDP_HDR_BYTES)

#define RG_FRAME_DROPS(X)                                            \
	X(SHORT, "shorter than Ethernet + IPv4 + UDP headers")       \
	X(NOT_IPV4, "not an IPv4 frame")                             \
	X(IP_OPTIONS, "IPv4 header with options, or not version 4")  \
	X(IP_FRAGMENT, "an IPv4 fragment")                           \
	X(NOT_UDP, "not UDP")                                        \
	X(NOT_FOR_US, "another destination address or port")         \
	X(BAD_LENGTH, "IPv4 or UDP length disagrees with the frame") \
	X(BAD_CHECKSUM, "IPv4 header checksum is wrong")

enum rg_frame_drop {
	RG_FRAME_OK = 0,
#define RG_X(name, text) RG_FRAME_DROP_##name,
	RG_FRAME_DROPS(RG_X)
#undef RG_X
	RG_FRAME_DROP_MAX
};

const char *rg_frame_drop_name(enum rg_frame_drop d);

/* One endpoint: MAC, IPv4 address (host order) and UDP port. */
struct rg_endpoint {
	uint8_t mac[6];
	uint32_t ip;
	uint16_t port;
};

/*
 * Writes the 42 header bytes in front of an RGP packet of payload_len bytes.
 * The IPv4 checksum is computed unless ip_csum_offload (the NIC fills it);
 * the UDP checksum is left 0 (optional in IPv4; RGP carries its own CRC32C).
 */
void rg_frame_build(uint8_t *hdr, const struct rg_endpoint *src, const struct rg_endpoint *dst,
		    uint16_t src_port, size_t payload_len, int ip_csum_offload);

/* What rg_frame_parse found in an accepted frame. */
struct rg_frame_info {
	uint32_t src_ip;
	uint16_t src_port;
	size_t payload_off;
	size_t payload_len;
};

/* Checks that a frame is RGP-over-UDP for us; check_ip_csum = 0 when the NIC verified it. */
enum rg_frame_drop rg_frame_parse(const uint8_t *frame, size_t len, const struct rg_endpoint *us,
				  int check_ip_csum, struct rg_frame_info *out);

/* Parses "a.b.c.d" into host order; 0 or -EINVAL. */
int rg_ip4_parse(const char *s, uint32_t *ip);
/* Parses "aa:bb:cc:dd:ee:ff"; 0 or -EINVAL. */
int rg_mac_parse(const char *s, uint8_t mac[6]);

#endif /* RG_DRIVERS_FRAME_H */
