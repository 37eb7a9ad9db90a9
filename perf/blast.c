/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rg-blast: the bare forwarder that measures a port's raw packet rate, the
 * physical limit repgate is compared with (DESIGN §6). One side sends frames
 * of a fixed size as fast as the port takes them (reusing each mbuf's
 * bytes: no per-packet work but the PMD's), the other receives and counts.
 *
 *   rg-blast --tx|--rx --device DEV [--size BYTES] [--seconds S] [--burst N] [EAL args...]
 *
 * Prints one JSON line: {"mode","seconds","packets","bytes","mpps","gbps"} where
 * bytes and gbps count whole frames (Ethernet header included, no preamble).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "port.h"

#define BURST_MAX 256

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct opts {
	int tx;
	const char *device;
	unsigned size, burst;
	double seconds;
};

static int
parse(int argc, char **argv, struct opts *o)
{
	int i;

	*o = (struct opts){ .tx = -1, .size = 1024, .burst = 32, .seconds = 5 };
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--tx") == 0 || strcmp(argv[i], "--rx") == 0)
			o->tx = strcmp(argv[i], "--tx") == 0;
		else if (strcmp(argv[i], "--device") == 0 && i + 1 < argc)
			o->device = argv[++i];
		else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc)
			o->size = (unsigned)atoi(argv[++i]);
		else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			o->seconds = atof(argv[++i]);
		else if (strcmp(argv[i], "--burst") == 0 && i + 1 < argc)
			o->burst = (unsigned)atoi(argv[++i]);
		else
			break;
	}
	if (o->tx < 0 || o->device == NULL || o->size < 60 || o->size > 9600 || o->burst == 0 ||
	    o->burst > BURST_MAX || o->seconds <= 0) {
		fprintf(stderr,
			"usage: rg-blast --tx|--rx --device DEV [--size 60..9600] "
			"[--seconds S] [--burst 1..%d] [EAL args...]\n",
			BURST_MAX);
		return -1;
	}
	return i;
}

/* Sends size-byte frames until the time is up; the same mbufs go out again and again. */
static void
run_tx(const struct rg_port *p, struct rte_mempool *pool, const struct opts *o, uint64_t *pkts,
       uint64_t end)
{
	struct rte_mbuf *m[BURST_MAX];

	while (!stop && rte_rdtsc() < end) {
		uint16_t sent;

		if (rte_pktmbuf_alloc_bulk(pool, m, o->burst) != 0)
			continue;
		for (unsigned i = 0; i < o->burst; i++) {
			uint8_t *d = rte_pktmbuf_mtod(m[i], uint8_t *);

			memset(d, 0xff, 12);        /* broadcast dst, src */
			d[12] = 0x88, d[13] = 0xb5; /* local experimental EtherType */
			m[i]->data_len = m[i]->pkt_len = o->size;
		}
		sent = rte_eth_tx_burst(p->id, 0, m, (uint16_t)o->burst);
		*pkts += sent;
		if (sent < o->burst)
			rte_pktmbuf_free_bulk(m + sent, o->burst - sent);
	}
}

/* Receives until the time is up; the rate counts from the first packet to the last. */
static void
run_rx(const struct rg_port *p, const struct opts *o, uint64_t *pkts, uint64_t *bytes, uint64_t end,
       uint64_t *first, uint64_t *last)
{
	struct rte_mbuf *m[BURST_MAX];

	while (!stop && rte_rdtsc() < end) {
		uint16_t n = rte_eth_rx_burst(p->id, 0, m, (uint16_t)o->burst);

		if (n == 0)
			continue;
		*last = rte_rdtsc();
		if (*first == 0)
			*first = *last;
		for (uint16_t i = 0; i < n; i++)
			*bytes += rte_pktmbuf_pkt_len(m[i]);
		*pkts += n;
		rte_pktmbuf_free_bulk(m, n);
	}
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct rg_port port;
	struct rte_mempool *pool;
	char err[256] = "";
	uint64_t pkts = 0, bytes = 0, t0, t1, first = 0, last = 0;
	int n = parse(argc, argv, &o);
	double secs;

	if (n < 0)
		return 2;
	argv[n - 1] = argv[0];
	if (rte_eal_init(argc - n + 1, argv + n - 1) < 0) {
		fprintf(stderr, "rg-blast: EAL init: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	pool = rte_pktmbuf_pool_create("blast", 16383, 256, 0,
				       (uint16_t)(RTE_PKTMBUF_HEADROOM + RTE_MAX(o.size, 2048u)),
				       (int)rte_socket_id());
	if (pool == NULL ||
	    rg_port_open(&port,
			 &(struct rg_port_config){ .device = o.device,
						   .queues = 1,
						   .rx_desc = 1024,
						   .tx_desc = 1024,
						   .mtu = (uint16_t)RTE_MAX(o.size, 1500u),
						   .pool = pool },
			 err, sizeof(err)) != 0) {
		fprintf(stderr, "rg-blast: %s\n", pool == NULL ? "no mbuf pool" : err);
		return 1;
	}
	t0 = rte_rdtsc();
	t1 = t0 + (uint64_t)(o.seconds * rte_get_tsc_hz());
	if (o.tx) {
		run_tx(&port, pool, &o, &pkts, t1);
		bytes = pkts * o.size;
	} else {
		run_rx(&port, &o, &pkts, &bytes, t1, &first, &last);
	}
	secs = (double)(o.tx ? rte_rdtsc() - t0 : last - first) / rte_get_tsc_hz();
	if (secs <= 0)
		secs = 1e-9;
	printf("{\"mode\":\"%s\",\"seconds\":%.3f,\"packets\":%llu,\"bytes\":%llu,\"mpps\":%.3f,"
	       "\"gbps\":%.3f}\n",
	       o.tx ? "tx" : "rx", secs, (unsigned long long)pkts, (unsigned long long)bytes,
	       pkts / secs / 1e6, bytes * 8 / secs / 1e9);
	fflush(stdout);
	rg_port_close(&port);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return 0;
}
