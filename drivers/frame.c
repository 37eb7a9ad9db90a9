/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "frame.h"

static const char *const drop_names[RG_FRAME_DROP_MAX] = { [RG_FRAME_OK] = "ok",
#define RG_X(name, text) [RG_FRAME_DROP_##name] = #name,
							   RG_FRAME_DROPS(RG_X)
#undef RG_X
};

const char *
rg_frame_drop_name(enum rg_frame_drop d)
{
	return (unsigned)d < RG_FRAME_DROP_MAX ? drop_names[d] : "?";
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* RFC 1071 checksum of the 20-byte IPv4 header. */
static uint16_t
ip4_csum(const uint8_t *ip)
{
	uint32_t sum = 0;

	for (int i = 0; i < RG_IP4_HDR_BYTES; i += 2)
		sum += get16(ip + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

void
rg_frame_build(uint8_t *hdr, const struct rg_endpoint *src, const struct rg_endpoint *dst,
	       uint16_t src_port, size_t payload_len, int ip_csum_offload)
{
	uint8_t *ip = hdr + RG_ETH_HDR_BYTES, *udp = ip + RG_IP4_HDR_BYTES;
	size_t udp_len = RG_UDP_HDR_BYTES + payload_len;

	memcpy(hdr, dst->mac, 6);
	memcpy(hdr + 6, src->mac, 6);
	put16(hdr + 12, 0x0800);
	ip[0] = 0x45; /* version 4, 5 words */
	ip[1] = 0;
	put16(ip + 2, (uint16_t)(RG_IP4_HDR_BYTES + udp_len));
	put16(ip + 4, 0);      /* id: never fragmented */
	put16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = 17;
	put16(ip + 10, 0);
	put32(ip + 12, src->ip);
	put32(ip + 16, dst->ip);
	if (!ip_csum_offload)
		put16(ip + 10, ip4_csum(ip));
	put16(udp, src_port);
	put16(udp + 2, dst->port);
	put16(udp + 4, (uint16_t)udp_len);
	put16(udp + 6, 0);
}

enum rg_frame_drop
rg_frame_parse(const uint8_t *f, size_t len, const struct rg_endpoint *us, int check_ip_csum,
	       struct rg_frame_info *out)
{
	const uint8_t *ip = f + RG_ETH_HDR_BYTES, *udp = ip + RG_IP4_HDR_BYTES;
	size_t ip_len, udp_len;

	if (len < RG_FRAME_HDR_BYTES)
		return RG_FRAME_DROP_SHORT;
	if (get16(f + 12) != 0x0800)
		return RG_FRAME_DROP_NOT_IPV4;
	if (ip[0] != 0x45)
		return RG_FRAME_DROP_IP_OPTIONS;
	if ((get16(ip + 6) & 0x3fff) != 0) /* MF flag or a fragment offset */
		return RG_FRAME_DROP_IP_FRAGMENT;
	if (ip[9] != 17)
		return RG_FRAME_DROP_NOT_UDP;
	if (get32(ip + 16) != us->ip || get16(udp + 2) != us->port)
		return RG_FRAME_DROP_NOT_FOR_US;
	ip_len = get16(ip + 2);
	udp_len = get16(udp + 4);
	/* Ethernet may pad short frames: the IP length may be less than what is left, never more. */
	if (ip_len > len - RG_ETH_HDR_BYTES || udp_len != ip_len - RG_IP4_HDR_BYTES ||
	    udp_len < RG_UDP_HDR_BYTES)
		return RG_FRAME_DROP_BAD_LENGTH;
	if (check_ip_csum && ip4_csum(ip) != 0)
		return RG_FRAME_DROP_BAD_CHECKSUM;
	out->src_ip = get32(ip + 12);
	out->src_port = get16(udp);
	out->payload_off = RG_FRAME_HDR_BYTES;
	out->payload_len = udp_len - RG_UDP_HDR_BYTES;
	return RG_FRAME_OK;
}

int
rg_ip4_parse(const char *s, uint32_t *ip)
{
	unsigned a, b, c, d;
	char tail;

	if (sscanf(s, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) != 4 || a > 255 || b > 255 ||
	    c > 255 || d > 255)
		return -EINVAL;
	*ip = a << 24 | b << 16 | c << 8 | d;
	return 0;
}

int
rg_mac_parse(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 255)
			return -EINVAL;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}
