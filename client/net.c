/* SPDX-License-Identifier: Apache-2.0 */
/*
 * librepgate's socket: one non-blocking UDP socket, batched receive
 * (recvmmsg, CL_RX_BATCH datagrams a call) and batched send (sendmmsg), with
 * runs of same-size datagrams to one gateway coalesced into one segmented
 * send (UDP GSO, UDP_SEGMENT) when the kernel offers it.
 *
 * A datagram the socket will not take (its buffer is full) is dropped and
 * counted: the protocol core sees it as lost and sends its frames again,
 * which is what a full queue on the path would do too.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client_impl.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif

#define SOCK_BUF_BYTES (4 << 20)

int
cl_net_open(struct rg_client *c)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(c->cfg.bind_port) };
	int one = 1, bytes = SOCK_BUF_BYTES, gso = 0;
	socklen_t glen = sizeof(gso);

	if (c->cfg.bind_addr[0] != '\0' && inet_pton(AF_INET, c->cfg.bind_addr, &sa.sin_addr) != 1)
		return -EINVAL;
	c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	/* Best effort: a small buffer only costs retransmissions. */
	setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
	(void)one;
	if (bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return -errno;
	/* The kernel segments UDP when it knows UDP_SEGMENT (Linux 4.18 and later). */
	c->gso = getsockopt(c->fd, SOL_UDP, UDP_SEGMENT, &gso, &glen) == 0;
	return 0;
}

int
cl_net_recv(struct rg_client *c)
{
	struct mmsghdr m[CL_RX_BATCH];
	struct iovec iov[CL_RX_BATCH];
	struct sockaddr_in from[CL_RX_BATCH];
	struct cl_rxbuf *b[CL_RX_BATCH];
	int total = 0;

	/* Bounded: CL_RX_BATCHES calls, and fewer when the socket runs dry or buffers do. */
	for (int round = 0; round < CL_RX_BATCHES; round++) {
		unsigned want = 0;
		int n;

		while (want < CL_RX_BATCH && (b[want] = cl_rxbuf_get(c)) != NULL) {
			iov[want] = (struct iovec){ .iov_base = b[want]->data,
						    .iov_len = sizeof(b[want]->data) };
			m[want].msg_hdr = (struct msghdr){ .msg_name = &from[want],
							   .msg_namelen = sizeof(from[want]),
							   .msg_iov = &iov[want],
							   .msg_iovlen = 1 };
			want++;
		}
		if (want == 0)
			return total; /* every buffer is held: the kernel keeps the rest meanwhile */
		n = recvmmsg(c->fd, m, want, MSG_DONTWAIT, NULL);
		for (int i = n < 0 ? 0 : n; i < (int)want; i++)
			cl_rxbuf_put(c, b[i]);
		if (n <= 0)
			return n < 0 && errno != EAGAIN && errno != EINTR ? -errno : total;
		for (int i = 0; i < n; i++) {
			b[i]->len = m[i].msg_len;
			c->st.packets_rx++;
			c->st.bytes_rx += m[i].msg_len;
			if (cl_gw_of(c, &from[i]) < 0 || (m[i].msg_hdr.msg_flags & MSG_TRUNC)) {
				c->st.drops_rx++; /* not from a gateway of ours, or cut short */
				cl_rxbuf_put(c, b[i]);
				continue;
			}
			cl_on_datagram(c, b[i]);
		}
		total += n;
		if (n < (int)want)
			return total;
	}
	return total;
}

/* How many datagrams from i on go in one segmented send: same gateway, same size, the last shorter. */
static uint32_t
gso_run(const struct rg_client *c, uint32_t i)
{
	const struct cl_tx *t = c->tx;
	uint32_t n = 1, bytes = t->len[i];

	if (!c->gso)
		return 1;
	while (i + n < t->n && t->gw[i + n] == t->gw[i] && t->len[i + n - 1] == t->len[i] &&
	       t->len[i + n] <= t->len[i] && bytes + t->len[i + n] <= CL_GSO_BYTES_MAX) {
		bytes += t->len[i + n];
		n++;
	}
	return n;
}

/* Sends the built datagrams; what the socket refuses is dropped (the core resends it). */
static void
flush(struct rg_client *c)
{
	struct cl_tx *t = c->tx;
	struct mmsghdr m[CL_TX_SLOTS];
	struct iovec iov[CL_TX_SLOTS];
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} ctl[CL_TX_SLOTS];
	uint32_t nm = 0, sent_dgrams = 0;
	int n;

	for (uint32_t i = 0; i < t->n;) {
		uint32_t run = gso_run(c, i);
		struct msghdr *h = &m[nm].msg_hdr;

		for (uint32_t k = 0; k < run; k++)
			iov[i + k] =
			    (struct iovec){ .iov_base = t->buf[i + k], .iov_len = t->len[i + k] };
		*h = (struct msghdr){ .msg_name = &c->gws[t->gw[i]].sa,
				      .msg_namelen = sizeof(struct sockaddr_in),
				      .msg_iov = &iov[i],
				      .msg_iovlen = run };
		if (run > 1) {
			struct cmsghdr *cm;
			uint16_t seg = (uint16_t)t->len[i];

			h->msg_control = ctl[nm].buf;
			h->msg_controllen = sizeof(ctl[nm].buf);
			cm = CMSG_FIRSTHDR(h);
			cm->cmsg_level = SOL_UDP;
			cm->cmsg_type = UDP_SEGMENT;
			cm->cmsg_len = CMSG_LEN(sizeof(seg));
			memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
			c->st.gso_sends++;
		}
		nm++;
		i += run;
	}
	n = sendmmsg(c->fd, m, nm, MSG_DONTWAIT);
	for (int k = 0; k < n; k++)
		sent_dgrams += (uint32_t)m[k].msg_hdr.msg_iovlen;
	c->st.send_errors += t->n - sent_dgrams;
	t->n = 0;
}

int
cl_net_send(struct rg_client *c)
{
	struct cl_tx *t = c->tx;
	struct rg_tx_meta meta;
	int total = 0;

	/* Bounded: CL_TX_ROUNDS rounds of CL_TX_SLOTS datagrams; the rest waits for the next poll. */
	for (int round = 0; round < CL_TX_ROUNDS; round++) {
		size_t len = 1;

		while (t->n < CL_TX_SLOTS &&
		       (len = rg_core_send(c->core, t->buf[t->n], c->cfg.pkt_bytes_max, &meta,
					   c->now_ns)) > 0) {
			int g = -1;

			for (uint16_t i = 0; i < c->ngws && g < 0; i++)
				if (c->gws[i].id == meta.peer_gw)
					g = i;
			RG_ASSERT(g >= 0);
			t->len[t->n] = (uint32_t)len;
			t->gw[t->n] = (uint16_t)g;
			t->n++;
			c->st.packets_tx++;
			c->st.bytes_tx += len;
		}
		total += (int)t->n;
		if (t->n > 0)
			flush(c);
		if (len == 0)
			break;
	}
	return total;
}
