/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "softgw.h"

struct softpkt {
	struct softgw *g;
	uint32_t refs;
	uint32_t len;
	uint8_t data[RG_PKT_BYTES_MAX];
};

static void
pkt_hold(void *ctx, void *h)
{
	(void)ctx;
	((struct softpkt *)h)->refs++;
}

static void
pkt_release(void *ctx, void *h)
{
	struct softpkt *p = h;

	(void)ctx;
	if (--p->refs == 0) {
		p->g->live_pkts--;
		free(p);
	}
}

static uint8_t *
buf_alloc(void *ctx, uint32_t len, void **handle)
{
	struct softgw *g = ctx;
	uint8_t *b = malloc(len + 1);

	if (b != NULL)
		g->live_bufs++;
	*handle = b;
	return b;
}

static void
buf_free(void *ctx, void *h)
{
	struct softgw *g = ctx;

	g->live_bufs--;
	free(h);
}

static uint16_t
route(void *ctx, uint16_t client, uint64_t stream)
{
	(void)client, (void)stream;
	return ((struct softgw *)ctx)->route;
}

static uint64_t
rng_next(void *ctx)
{
	return rg_splitmix64(ctx);
}

int
softgw_start(struct softgw *g, uint16_t id, uint16_t port, uint64_t incarnation)
{
	return softgw_start_sealed(g, id, port, incarnation, NULL);
}

int
softgw_start_sealed(struct softgw *g, uint16_t id, uint16_t port, uint64_t incarnation,
		    const uint8_t priv[RG_KEY_BYTES])
{
	const struct rg_relay_config rc = {
		.streams_max = 256, .subs_max = 64, .stage_max = 1024, .peers_max = SOFTGW_PEERS_MAX
	};
	const struct rg_relay_ops ops = { .route = route,
					  .buf_alloc = buf_alloc,
					  .buf_free = buf_free,
					  .pkt_hold = pkt_hold,
					  .pkt_release = pkt_release,
					  .ctx = g };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	socklen_t len = sizeof(sa);
	struct rg_core_config cc;
	struct rg_core_cb cb;
	int rc2;

	memset(g, 0, sizeof(*g));
	g->id = id;
	g->rng = incarnation;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	g->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (g->fd < 0 || bind(g->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(g->fd, (struct sockaddr *)&sa, &len) != 0)
		return -errno;
	g->port = ntohs(sa.sin_port);
	if ((rc2 = rg_relay_create(&rc, &ops, NULL, rg_mem_default(), &g->relay)) != 0)
		return rc2;
	rg_relay_core_cb(g->relay, &cb);
	rg_core_config_default(&cc);
	cc.incarnation = incarnation;
	cc.gateway_id = id;
	cc.streams_max = 512;
	cc.ack_delay_ns_max = RG_NS_PER_MS;
	cc.initial_rtt_ns = 10 * RG_NS_PER_MS;
	cc.granularity_ns = RG_NS_PER_MS;
	cc.rng = (struct rg_rng){ .next = rng_next, .ctx = &g->rng };
	cc.peers_max = SOFTGW_PEERS_MAX;
	if (priv != NULL) {
		if ((rc2 = rg_keyring_create(priv, SOFTGW_PEERS_MAX, cc.lanes_max, &g->kr)) != 0)
			return rc2;
		cc.aead = rg_keyring_aead(g->kr);
	}
	if ((rc2 = rg_core_create(&cc, &cb, &g->core)) != 0)
		return rc2;
	rg_relay_attach(g->relay, g->core);
	return 0;
}

static int
add_peer(struct softgw *g, uint16_t id, int client, uint16_t port)
{
	struct softgw_peer *p;
	int rc;

	if (g->npeers >= SOFTGW_PEERS_MAX)
		return -ENOSPC;
	p = &g->peers[g->npeers];
	memset(p, 0, sizeof(*p));
	p->id = id;
	p->client = client;
	p->sa.sin_family = AF_INET;
	p->sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p->sa.sin_port = htons(port);
	p->known = !client;
	if ((rc = rg_core_add_peer(g->core, id, 1)) != 0 ||
	    (rc = rg_core_add_lane(g->core, id, 0, 0)) != 0 ||
	    (rc = rg_relay_add_peer(g->relay, id, client ? RG_RELAY_CLIENT : RG_RELAY_GATEWAY)))
		return rc;
	if (client && (rc = rg_core_peer_set_passive(g->core, id, 1)) != 0)
		return rc;
	g->npeers++;
	return 0;
}

int
softgw_add_gateway(struct softgw *g, uint16_t id, uint16_t port)
{
	g->route = id;
	return add_peer(g, id, 0, port);
}

int
softgw_add_client(struct softgw *g, uint16_t id)
{
	return add_peer(g, id, 1, 0);
}

int
softgw_peer_key(struct softgw *g, uint16_t id, const uint8_t pub[RG_KEY_BYTES])
{
	return g->kr == NULL ? -EINVAL : rg_keyring_add_peer(g->kr, id, pub);
}

uint64_t
softgw_drops(const struct softgw *g, enum rg_core_drop d)
{
	struct rg_core_stats st;

	rg_core_stats(g->core, &st);
	return st.drop[d];
}

static struct softgw_peer *
peer(struct softgw *g, uint16_t id)
{
	for (int i = 0; i < g->npeers; i++)
		if (g->peers[i].id == id)
			return &g->peers[i];
	return NULL;
}

static void
recv_all(struct softgw *g, uint64_t now_ns)
{
	/* Bounded: 4096 datagrams a round. */
	for (int n = 0; n < 4096; n++) {
		struct softpkt *p = malloc(sizeof(*p));
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		ssize_t len;
		int rc;

		if (p == NULL)
			return;
		len = recvfrom(g->fd, p->data, sizeof(p->data), 0, (struct sockaddr *)&from, &flen);
		if (len < 0) {
			free(p);
			return;
		}
		p->g = g;
		p->refs = 1;
		p->len = (uint32_t)len;
		g->live_pkts++;
		g->rx++;
		if (g->drop_rx) {
			pkt_release(NULL, p);
			continue;
		}
		rc = rg_core_recv(g->core, p->data, p->len, p, now_ns);
		rg_relay_flush(g->relay, now_ns);
		if (rc == 0 && len >= (ssize_t)RG_HDR_BYTES) { /* a client's address, learned */
			struct softgw_peer *q = peer(g, (uint16_t)(p->data[6] | p->data[7] << 8));

			if (q != NULL && q->client) {
				q->sa = from;
				q->known = 1;
			}
		}
		g->drops += rc != 0;
		pkt_release(NULL, p);
	}
}

void
softgw_poll(struct softgw *g, uint64_t now_ns)
{
	uint8_t buf[RG_PKT_BYTES_MAX];
	struct rg_tx_meta meta;
	size_t len;

	recv_all(g, now_ns);
	rg_core_drain(g->core);
	rg_relay_flush(g->relay, now_ns);
	if (rg_core_next_deadline(g->core, now_ns) <= now_ns) {
		rg_core_on_timer(g->core, now_ns);
		rg_relay_flush(g->relay, now_ns);
	}
	/* Bounded: 4096 datagrams a round. */
	for (int n = 0; n < 4096; n++) {
		struct softgw_peer *q;

		len = rg_core_send(g->core, buf, sizeof(buf), &meta, now_ns);
		if (len == 0)
			break;
		q = peer(g, meta.peer_gw);
		if (q == NULL || !q->known)
			continue;
		if (sendto(g->fd, buf, len, 0, (struct sockaddr *)&q->sa, sizeof(q->sa)) > 0)
			g->tx++;
	}
}

void
softgw_stop(struct softgw *g)
{
	rg_core_destroy(g->core);
	rg_keyring_destroy(g->kr); /* after the core, its user */
	rg_relay_destroy(g->relay);
	if (g->fd >= 0)
		close(g->fd);
	g->core = NULL;
	g->kr = NULL;
	g->relay = NULL;
	g->fd = -1;
}
