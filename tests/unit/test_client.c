/* SPDX-License-Identifier: Apache-2.0 */
/*
 * librepgate over kernel UDP on loopback, against gateways in software
 * (tests/lib/softgw.h: the real core and relay on a socket):
 *
 *   producer (librepgate) ── A (softgw) ── B (softgw) ── consumer (librepgate)
 *
 * Every wait is a bounded poll loop on the clients' sockets (no sleeping);
 * every test counts what it checked. The key tests run twice: in plaintext
 * and sealed (g_sealed: every gateway and client with its own X25519 key,
 * the clients' private keys in 0600 files of a temporary directory).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "keys.h"
#include "repgate.h"
#include "softgw.h"

#define GW_A     1
#define GW_A2    3
#define GW_B     2
#define PROD     10
#define CONS     20
#define STREAM   ((5ull << 32) | 1)
#define STREAM2  ((5ull << 32) | 2)
#define RECORDS  3000
#define ROUND_NS (2 * RG_NS_PER_MS)
#define ROUNDS   20000 /* 40 s at most: every loop below is bounded by it */
#define IDS_MAX  32    /* key_priv and key_pub are indexed by gateway or client id */
#define OTHER    11    /* a client id nobody lists: its key is a wrong key */

/* Sealed runs: a key per id (gateways 1..3, clients 10, 11, 20), clients' in DIR/ID.key. */
static int g_sealed;
static char g_keydir[64];
static uint8_t key_priv[IDS_MAX][RG_KEY_BYTES], key_pub[IDS_MAX][RG_KEY_BYTES];
static const uint16_t key_ids[] = { GW_A, GW_B, GW_A2, PROD, OTHER, CONS };

struct prod {
	uint64_t next, from, applied;
	unsigned replays;
	unsigned eagain;
};

struct cons {
	uint64_t next[2], applied[2];
	uint64_t got, bytes;
	int block;
	unsigned refused_seen;
};

struct events {
	unsigned n[8];
	uint16_t last_gw;
	int last_status;
};

struct world {
	struct softgw a, a2, b;
	int a2_on;
	struct rg_client *p, *c;
	struct prod pr;
	struct cons co;
	struct events pev, cev;
};

static uint32_t
rec_len(uint64_t seq)
{
	return seq % 50 == 0 ? 4000 + (uint32_t)(seq % 3000) : (uint32_t)(seq * 7 % 600);
}

static uint8_t
rec_byte(uint64_t stream, uint64_t seq, uint32_t i)
{
	return (uint8_t)(stream * 31 + seq * 131 + i * 7);
}

static void
make_rec(uint64_t stream, uint64_t seq, uint8_t *out)
{
	for (uint32_t i = 0; i < rec_len(seq); i++)
		out[i] = rec_byte(stream, seq, i);
}

/* ---- callbacks ---- */

static void
p_replay(void *ctx, uint64_t stream, uint64_t from)
{
	struct world *w = ctx;

	assert_true(stream == STREAM || stream == STREAM2);
	w->pr.from = from;
	w->pr.next = from;
	w->pr.replays++;
}

static void
p_applied(void *ctx, uint64_t stream, uint64_t applied)
{
	struct world *w = ctx;

	assert_int_equal(stream, STREAM);
	assert_true(applied >= w->pr.applied);
	w->pr.applied = applied;
}

static int
c_deliver(void *ctx, uint64_t stream, uint64_t seq, uint32_t version, const void *data,
	  uint32_t len)
{
	struct world *w = ctx;
	int k = stream == STREAM ? 0 : 1;
	uint8_t want[8000];

	assert_true(stream == STREAM || stream == STREAM2);
	if (w->co.block) {
		w->co.refused_seen++;
		return -EAGAIN;
	}
	if (seq != w->co.next[k])
		fail_msg("stream %d: seq %llu, want %llu", k, (unsigned long long)seq,
			 (unsigned long long)w->co.next[k]);
	assert_int_equal(version, 9);
	assert_int_equal(len, rec_len(seq));
	make_rec(stream, seq, want);
	assert_memory_equal(data, want, len);
	w->co.next[k]++;
	w->co.got++;
	w->co.bytes += len;
	/* apply at once, from inside deliver (deferred by the library) */
	assert_int_equal(rg_client_applied(w->c, stream, seq), 0);
	w->co.applied[k] = seq;
	return 0;
}

static void
on_event(struct events *e, const struct rg_client_event *ev)
{
	assert_true(ev->type >= 1 && ev->type < 8);
	e->n[ev->type]++;
	e->last_gw = ev->gateway;
	e->last_status = ev->status;
}

static void
p_event(void *ctx, const struct rg_client_event *ev)
{
	on_event(&((struct world *)ctx)->pev, ev);
}

static void
c_event(void *ctx, const struct rg_client_event *ev)
{
	on_event(&((struct world *)ctx)->cev, ev);
}

/* ---- the world ---- */

static void
gateway_cfg(struct rg_client_config *cfg, uint16_t id, const struct softgw *g)
{
	struct rg_client_gateway *x = &cfg->gateways[cfg->ngateways++];

	x->id = id;
	snprintf(x->addr, sizeof(x->addr), "127.0.0.1");
	x->port = g->port;
	if (g_sealed)
		rg_key_to_b64(key_pub[id], x->pubkey);
}

/* The client's key file (sealed runs): key_id's private key, "" in plaintext. */
static void
key_cfg(struct rg_client_config *cfg, uint16_t key_id)
{
	cfg->key_file[0] = '\0';
	if (g_sealed)
		snprintf(cfg->key_file, sizeof(cfg->key_file), "%s/%u.key", g_keydir, key_id);
}

static void
gw_start(struct softgw *g, uint16_t id, uint64_t inc)
{
	assert_int_equal(softgw_start_sealed(g, id, 0, inc, g_sealed ? key_priv[id] : NULL), 0);
}

/* A peer of g, a gateway at port (or a client for port 0), with its public key when sealed. */
static void
gw_peer(struct softgw *g, uint16_t id, uint16_t port)
{
	if (port != 0)
		assert_int_equal(softgw_add_gateway(g, id, port), 0);
	else
		assert_int_equal(softgw_add_client(g, id), 0);
	if (g_sealed)
		assert_int_equal(softgw_peer_key(g, id, key_pub[id]), 0);
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

/* Group setup: the keys and the clients' key files (mode 0600). */
static int
keys_setup(void **state)
{
	char path[128], line[RG_KEY_B64_CHARS + 2];

	(void)state;
	snprintf(g_keydir, sizeof(g_keydir), "/tmp/rg-test-client-XXXXXX");
	if (mkdtemp(g_keydir) == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(key_ids) / sizeof(key_ids[0]); i++) {
		uint16_t id = key_ids[i];

		if (rg_key_generate(key_priv[id]) != 0 || rg_key_public(key_priv[id], key_pub[id]))
			return -1;
		rg_key_to_b64(key_priv[id], line);
		strcat(line, "\n");
		snprintf(path, sizeof(path), "%s/%u.key", g_keydir, id);
		write_file(path, line, 0600);
	}
	return 0;
}

static int
keys_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_keydir);
	return system(cmd) == 0 ? 0 : -1;
}

static int
sealed_on(void **state)
{
	(void)state;
	g_sealed = 1;
	return 0;
}

static int
sealed_off(void **state)
{
	(void)state;
	g_sealed = 0;
	return 0;
}

static void
world_init(struct world *w, int with_a2)
{
	struct rg_client_config pc, cc;
	const struct rg_client_cb pcb = {
		.replay = p_replay, .applied = p_applied, .event = p_event, .ctx = w
	};
	const struct rg_client_cb ccb = { .deliver = c_deliver, .event = c_event, .ctx = w };

	memset(w, 0, sizeof(*w));
	gw_start(&w->a, GW_A, 1000);
	gw_start(&w->b, GW_B, 2000);
	gw_peer(&w->a, GW_B, w->b.port);
	gw_peer(&w->a, PROD, 0);
	gw_peer(&w->b, GW_A, w->a.port);
	gw_peer(&w->b, CONS, 0);
	if (with_a2) {
		gw_start(&w->a2, GW_A2, 3000);
		gw_peer(&w->a2, GW_B, w->b.port);
		gw_peer(&w->a2, PROD, 0);
		gw_peer(&w->b, GW_A2, w->a2.port);
		w->b.route = 0;
		w->a2_on = 1;
	}
	rg_client_config_default(&pc);
	pc.id = PROD;
	pc.dead_after_ns = 400 * RG_NS_PER_MS;
	key_cfg(&pc, PROD);
	gateway_cfg(&pc, GW_A, &w->a);
	if (with_a2)
		gateway_cfg(&pc, GW_A2, &w->a2);
	rg_client_config_default(&cc);
	cc.id = CONS;
	key_cfg(&cc, CONS);
	gateway_cfg(&cc, GW_B, &w->b);
	assert_int_equal(rg_client_create(&pc, &pcb, &w->p), 0);
	assert_int_equal(rg_client_create(&cc, &ccb, &w->c), 0);
	w->co.next[0] = w->co.next[1] = 1;
}

static void
world_fini(struct world *w)
{
	/* A run with the right keys (or none) never fails a tag or meets the other mode. */
	assert_int_equal(
	    softgw_drops(&w->a, RG_DROP_BAD_TAG) + softgw_drops(&w->b, RG_DROP_BAD_TAG), 0);
	assert_int_equal(softgw_drops(&w->a, RG_DROP_MODE_MISMATCH) +
			     softgw_drops(&w->b, RG_DROP_MODE_MISMATCH),
			 0);
	rg_client_destroy(w->p);
	rg_client_destroy(w->c);
	softgw_stop(&w->a);
	softgw_stop(&w->b);
	if (w->a2_on)
		softgw_stop(&w->a2);
	assert_int_equal(w->a.live_pkts + w->b.live_pkts + w->a.live_bufs + w->b.live_bufs, 0);
}

/* One round: everyone polls; the clients wait up to ROUND_NS on their sockets. */
static void
round_once(struct world *w, int a_alive)
{
	uint64_t now = rg_client_now_ns();

	if (a_alive)
		softgw_poll(&w->a, now);
	if (w->a2_on)
		softgw_poll(&w->a2, now);
	softgw_poll(&w->b, now);
	assert_int_equal(rg_client_run(w->p, ROUND_NS / 2), 0);
	assert_int_equal(rg_client_run(w->c, ROUND_NS / 2), 0);
}

/* Publishes what the producer may; counts -EAGAIN. */
static void
produce(struct world *w, uint64_t upto)
{
	uint8_t buf[8000];

	/* Bounded by upto. */
	while (w->pr.replays > 0 && w->pr.next <= upto) {
		int rc;

		make_rec(STREAM, w->pr.next, buf);
		rc = rg_client_publish(w->p, STREAM, w->pr.next, 9, buf, rec_len(w->pr.next));
		if (rc == -EAGAIN) {
			w->pr.eagain++;
			return;
		}
		if (rc == -ENOTCONN)
			return;
		assert_int_equal(rc, 0);
		w->pr.next++;
	}
}

#define RUN_UNTIL(w, cond, a_alive)                                                         \
	do {                                                                                \
		unsigned r_ = 0;                                                            \
		while (!(cond)) {                                                           \
			if (r_++ >= ROUNDS)                                                 \
				fail_msg("no progress after %u rounds: %s", ROUNDS, #cond); \
			round_once(w, a_alive);                                             \
		}                                                                           \
	} while (0)

/* ---- tests ---- */

static void
test_client_config_errors(void **state)
{
	struct rg_client_config cfg;
	struct rg_client *c;

	(void)state;
	rg_client_config_default(&cfg);
	assert_int_equal(rg_client_create(&cfg, NULL, &c), -EINVAL); /* id 0, no gateway */
	cfg.id = 7;
	assert_int_equal(rg_client_create(&cfg, NULL, &c), -EINVAL); /* no gateway */
	cfg.ngateways = 1;
	cfg.gateways[0] = (struct rg_client_gateway){ .id = 1, .addr = "10.0.0.300", .port = 9 };
	assert_int_equal(rg_client_create(&cfg, NULL, &c), -EINVAL); /* a bad address */
	cfg.gateways[0] = (struct rg_client_gateway){ .id = 7, .addr = "127.0.0.1", .port = 9 };
	assert_int_equal(rg_client_create(&cfg, NULL, &c), -EINVAL); /* the gateway is us */
	cfg.gateways[0].id = 1;
	cfg.window_records = 100;
	assert_int_equal(rg_client_create(&cfg, NULL, &c), -EINVAL); /* not a power of two */
	cfg.window_records = 128;
	assert_int_equal(rg_client_create(&cfg, NULL, &c), 0);
	assert_true(rg_client_fd(c) >= 0);
	assert_int_equal(rg_client_open(c, 0), -EINVAL);
	assert_int_equal(rg_client_open(c, STREAM), 0);
	assert_int_equal(rg_client_open(c, STREAM), -EEXIST);
	assert_int_equal(rg_client_publish(c, STREAM, 1, 0, "x", 1), -ENOTCONN);
	assert_int_equal(rg_client_publish(c, STREAM2, 1, 0, "x", 1), -ENOENT);
	assert_int_equal(rg_client_publish(c, STREAM, 1, 0, NULL, 1), -EINVAL);
	assert_int_equal(rg_client_subscribe(c, STREAM, 0), -EEXIST);
	assert_int_equal(rg_client_subscribe(c, 0, 0), -EINVAL);
	assert_int_equal(rg_client_subscribe_ns(c, 0), -EINVAL);
	assert_int_equal(rg_client_applied(c, STREAM2, 1), -ENOENT);
	assert_int_equal(rg_client_gateway(c), 0);
	assert_non_null(strstr(rg_client_strerror(-EAGAIN), "EAGAIN"));
	assert_non_null(strstr(rg_client_strerror(RG_CLIENT_ENOTACTIVE), "ENOTACTIVE"));
	rg_client_destroy(c);
}

/* Records published by one process arrive in order, exactly once, at the other; applied comes back. */
static void
test_client_end_to_end_through_two_gateways(void **state)
{
	struct world w;
	struct rg_client_stats ps, cs;

	(void)state;
	world_init(&w, 0);
	assert_int_equal(rg_client_subscribe(w.c, STREAM, 0), 0);
	assert_int_equal(rg_client_open(w.p, STREAM), 0);
	RUN_UNTIL(&w, w.pr.replays == 1, 1);
	assert_int_equal(w.pr.from, 1);
	assert_int_equal(rg_client_gateway(w.p), GW_A);
	assert_int_equal(w.pev.n[RG_CLIENT_EV_CONNECTED], 1);
	assert_int_equal(w.cev.n[RG_CLIENT_EV_SUBSCRIBED], 1);
	assert_int_equal(rg_client_publish(w.p, STREAM, 5, 9, "x", 1), -EINVAL); /* not the next */
	RUN_UNTIL(&w, (produce(&w, RECORDS), w.pr.applied == RECORDS), 1);
	assert_int_equal(w.co.got, RECORDS);
	assert_int_equal(w.co.next[0], RECORDS + 1);
	rg_client_stats(w.p, &ps);
	rg_client_stats(w.c, &cs);
	assert_int_equal(ps.published, RECORDS);
	assert_int_equal(cs.delivered, RECORDS);
	assert_int_equal(ps.applied, RECORDS);
	RUN_UNTIL(&w, (rg_client_stats(w.p, &ps), ps.held_records == 0), 1);
	assert_int_equal(ps.held_bytes, 0);
	assert_true(ps.packets_tx > 0 && cs.packets_rx > 0);
	printf("# end to end: %u records, %llu bytes; producer sent %llu datagrams (%llu with "
	       "GSO), consumer got %llu\n",
	       RECORDS, (unsigned long long)w.co.bytes, (unsigned long long)ps.packets_tx,
	       (unsigned long long)ps.gso_sends, (unsigned long long)cs.packets_rx);
	world_fini(&w);
}

/* A consumer that takes nothing: the producer sees -EAGAIN, and nothing is lost once it reads. */
static void
test_client_slow_consumer_backpressure(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, 0);
	assert_int_equal(rg_client_subscribe(w.c, STREAM, 0), 0);
	assert_int_equal(rg_client_open(w.p, STREAM), 0);
	RUN_UNTIL(&w, w.pr.replays == 1, 1);
	w.co.block = 1;
	/* 1 s of a producer that publishes all it may while the consumer refuses everything */
	for (unsigned r = 0; r < 500; r++) {
		produce(&w, 1000000);
		round_once(&w, 1);
	}
	assert_true(w.co.refused_seen > 0);
	assert_true(w.pr.eagain > 100); /* it kept hitting the full queue: backpressure */
	/* bounded: a send queue (1024) and a window (256) at each of the three hops */
	assert_true(w.pr.next - 1 <= 3 * (1024 + 256));
	printf("# slow consumer: the producer stopped at %llu records; -EAGAIN %u times\n",
	       (unsigned long long)(w.pr.next - 1), w.pr.eagain);
	w.co.block = 0;
	{
		uint64_t upto = w.pr.next - 1;

		RUN_UNTIL(&w, (produce(&w, upto), w.pr.applied == upto), 1);
		assert_int_equal(w.co.got, upto);
	}
	world_fini(&w);
}

/* A gateway nobody answers for: the client says so within its connect timeout. */
static void
test_client_unreachable_gateway(void **state)
{
	struct world w;
	struct rg_client_config cfg;
	const struct rg_client_cb cb = { .event = p_event, .ctx = &w };
	struct rg_client *c;
	struct softgw dead;
	uint64_t t0;
	unsigned rounds = 0;

	(void)state;
	memset(&w, 0, sizeof(w));
	assert_int_equal(softgw_start(&dead, 9, 0, 1), 0); /* a bound port that never answers */
	rg_client_config_default(&cfg);
	cfg.id = 11;
	cfg.connect_timeout_ns = 300 * RG_NS_PER_MS;
	gateway_cfg(&cfg, 9, &dead);
	t0 = rg_client_now_ns();
	assert_int_equal(rg_client_create(&cfg, &cb, &c), 0);
	while (w.pev.n[RG_CLIENT_EV_UNREACHABLE] == 0 && rounds++ < 1000)
		assert_int_equal(rg_client_run(c, 5 * RG_NS_PER_MS), 0);
	printf("# unreachable said after %.3f s, %u rounds\n",
	       (double)(rg_client_now_ns() - t0) / 1e9, rounds);
	assert_int_equal(w.pev.n[RG_CLIENT_EV_UNREACHABLE], 1);
	assert_true(rg_client_now_ns() - t0 >= 300 * RG_NS_PER_MS); /* not before the timeout */
	assert_true(rg_client_now_ns() - t0 < 2 * RG_NS_PER_S);
	assert_int_equal(rg_client_gateway(c), 0);
	rg_client_destroy(c);
	softgw_stop(&dead);
}

/*
 * The producer's gateway dies: the client moves its stream to the other gateway of the
 * region and resumes from what the consumer applied (B's control thread would move B's
 * receive stream when it judges A dead; the test does that by hand).
 */
static void
test_client_moves_to_a_live_gateway(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, 1);
	w.b.route = GW_A; /* unused: B has no producer clients */
	assert_int_equal(rg_client_subscribe(w.c, STREAM, 0), 0);
	assert_int_equal(rg_client_open(w.p, STREAM), 0);
	RUN_UNTIL(&w, w.pr.replays == 1, 1);
	RUN_UNTIL(&w, (produce(&w, 1000), w.co.got >= 500), 1);
	/* A goes silent: it is not polled any more (as if killed). */
	RUN_UNTIL(&w, (produce(&w, 1000), w.pev.n[RG_CLIENT_EV_MOVED] == 1), 0);
	assert_int_equal(rg_client_gateway(w.p), GW_A2);
	assert_true(rg_core_peer_failover(w.b.core, GW_A, GW_A2, rg_client_now_ns()) >= 0);
	RUN_UNTIL(&w, (produce(&w, 2000), w.pr.applied == 2000), 0);
	assert_int_equal(w.co.got, 2000);
	assert_true(w.pr.replays >= 2);
	world_fini(&w);
}

/*
 * A gateway that goes quiet after a burst is not dead: an idle lane hears a PING every 100 ms
 * where a busy one heard a packet every few ms, and the accrual detector must take that
 * pause as normal, or the client fails its streams over to the other gateway for nothing.
 */
static void
test_client_idle_gateway_keeps_serving(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, 1);
	assert_int_equal(rg_client_subscribe(w.c, STREAM, 0), 0);
	assert_int_equal(rg_client_open(w.p, STREAM), 0);
	RUN_UNTIL(&w, w.pr.replays == 1, 1);
	RUN_UNTIL(&w, (produce(&w, 500), w.pr.applied == 500), 1); /* a burst */
	for (unsigned r = 0; r < 500; r++) /* then 1 s of silence but for the PINGs */
		round_once(&w, 1);
	assert_int_equal(w.pev.n[RG_CLIENT_EV_MOVED], 0);
	assert_int_equal(w.pev.n[RG_CLIENT_EV_UNREACHABLE], 0);
	assert_int_equal(w.cev.n[RG_CLIENT_EV_UNREACHABLE], 0);
	assert_int_equal(rg_client_gateway(w.p), GW_A);
	RUN_UNTIL(&w, (produce(&w, 600), w.pr.applied == 600), 1); /* and it still flows */
	assert_int_equal(w.co.got, 600);
	world_fini(&w);
}

/* ---- sealed mode ---- */

static int
config_check(const struct rg_client_config *cfg, const char *want_in_msg)
{
	char why[512];
	int rc = rg_client_config_check(cfg, why, sizeof(why));

	if (want_in_msg != NULL && strstr(why, want_in_msg) == NULL)
		fail_msg("rg_client_config_check said %d '%s'; want '%s' in it", rc, why,
			 want_in_msg);
	return rc;
}

/* What rg_client_create refuses in a sealed config, with the code repgate.h says. */
static void
test_client_key_config_errors(void **state)
{
	struct rg_client_config cfg;
	struct rg_client *c;
	char path[128], line[RG_KEY_B64_CHARS + 2];

	(void)state;
	rg_client_config_default(&cfg);
	cfg.id = PROD;
	cfg.ngateways = 1;
	cfg.gateways[0] = (struct rg_client_gateway){ .id = GW_A, .addr = "127.0.0.1", .port = 9 };
	rg_key_to_b64(key_pub[GW_A], cfg.gateways[0].pubkey);
	/* a pubkey without key_file: plaintext was asked for, yet a key given */
	assert_int_equal(config_check(&cfg, "key_file is not set"), -EINVAL);
	assert_int_equal(rg_client_create(&cfg, NULL, &c), -EINVAL);
	assert_null(c);
	snprintf(cfg.key_file, sizeof(cfg.key_file), "%s/%u.key", g_keydir, PROD);
	assert_int_equal(config_check(&cfg, NULL), 0);
	assert_int_equal(rg_client_create(&cfg, NULL, &c), 0); /* the good one */
	rg_client_destroy(c);
	/* the gateway's pubkey missing, cut short, or a point X25519 refuses (all zero) */
	cfg.gateways[0].pubkey[0] = '\0';
	assert_int_equal(config_check(&cfg, "has no pubkey"), -EINVAL);
	assert_int_equal(rg_client_create(&cfg, NULL, &c), -EINVAL);
	rg_key_to_b64(key_pub[GW_A], cfg.gateways[0].pubkey);
	cfg.gateways[0].pubkey[10] = '\0';
	assert_int_equal(config_check(&cfg, "is not a public key"), -EINVAL);
	assert_int_equal(rg_client_create(&cfg, NULL, &c), -EINVAL);
	snprintf(cfg.gateways[0].pubkey, sizeof(cfg.gateways[0].pubkey), "%s",
		 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	assert_int_equal(config_check(&cfg, "refused by X25519"), -EINVAL);
	assert_int_equal(rg_client_create(&cfg, NULL, &c), -EINVAL);
	rg_key_to_b64(key_pub[GW_A], cfg.gateways[0].pubkey);
	/* the key file: missing, readable by others, not a key, a directory */
	snprintf(cfg.key_file, sizeof(cfg.key_file), "%s/none.key", g_keydir);
	assert_int_equal(config_check(&cfg, "none.key"), -ENOENT);
	assert_int_equal(rg_client_create(&cfg, NULL, &c), -ENOENT);
	rg_key_to_b64(key_priv[PROD], line);
	snprintf(path, sizeof(path), "%s/open.key", g_keydir);
	write_file(path, line, 0644);
	snprintf(cfg.key_file, sizeof(cfg.key_file), "%s", path);
	assert_int_equal(config_check(&cfg, "chmod 600"), -EPERM);
	assert_int_equal(rg_client_create(&cfg, NULL, &c), -EPERM);
	assert_non_null(strstr(rg_client_strerror(-EPERM), "EPERM"));
	snprintf(path, sizeof(path), "%s/junk.key", g_keydir);
	write_file(path, "not a key\n", 0600);
	snprintf(cfg.key_file, sizeof(cfg.key_file), "%s", path);
	assert_int_equal(config_check(&cfg, "not a private key"), -EINVAL);
	assert_int_equal(rg_client_create(&cfg, NULL, &c), -EINVAL);
	snprintf(cfg.key_file, sizeof(cfg.key_file), "%s", g_keydir);
	assert_int_equal(config_check(&cfg, "not a regular file"), -EINVAL);
	assert_int_equal(rg_client_create(&cfg, NULL, &c), -EINVAL);
}

/*
 * A producer alone with gateway A (sealed or not), its key file and the pubkey it has for A:
 * it must say UNREACHABLE within its connect timeout and never CONNECTED, and A must have
 * dropped its packets for reason d and sent it nothing (it never learned where it is).
 */
static void
lone_producer_gets_nothing(int a_sealed, int key_id, const uint8_t *a_pub, enum rg_core_drop d)
{
	struct world w;
	struct rg_client_config cfg;
	const struct rg_client_cb cb = { .event = p_event, .ctx = &w };
	struct rg_client *c;
	struct softgw a;
	unsigned rounds = 0;

	memset(&w, 0, sizeof(w));
	assert_int_equal(softgw_start_sealed(&a, GW_A, 0, 1000, a_sealed ? key_priv[GW_A] : NULL),
			 0);
	assert_int_equal(softgw_add_client(&a, PROD), 0);
	if (a_sealed)
		assert_int_equal(softgw_peer_key(&a, PROD, key_pub[PROD]), 0);
	rg_client_config_default(&cfg);
	cfg.id = PROD;
	cfg.connect_timeout_ns = 300 * RG_NS_PER_MS;
	g_sealed = key_id != 0;
	key_cfg(&cfg, (uint16_t)key_id);
	gateway_cfg(&cfg, GW_A, &a);
	if (a_pub != NULL)
		rg_key_to_b64(a_pub, cfg.gateways[0].pubkey);
	g_sealed = 0;
	assert_int_equal(rg_client_create(&cfg, &cb, &c), 0);
	/* Bounded: 1000 rounds of at most 5 ms. */
	while (w.pev.n[RG_CLIENT_EV_UNREACHABLE] == 0 && rounds++ < 1000) {
		softgw_poll(&a, rg_client_now_ns());
		assert_int_equal(rg_client_run(c, 5 * RG_NS_PER_MS), 0);
	}
	printf("# %s gateway, client key %d: unreachable after %u rounds; the gateway dropped %llu "
	       "(%s), sent %llu\n",
	       a_sealed ? "sealed" : "plaintext", key_id, rounds,
	       (unsigned long long)softgw_drops(&a, d), rg_core_drop_name(d),
	       (unsigned long long)a.tx);
	assert_int_equal(w.pev.n[RG_CLIENT_EV_UNREACHABLE], 1);
	assert_int_equal(w.pev.n[RG_CLIENT_EV_CONNECTED], 0);
	assert_int_equal(rg_client_gateway(c), 0);
	assert_true(softgw_drops(&a, d) > 0);
	assert_int_equal(a.tx, 0);
	rg_client_destroy(c);
	softgw_stop(&a);
}

/*
 * A client with a wrong key gets nothing through: its handshake INIT does not check
 * (BAD_HANDSHAKE), so no session, so no packet of it is even opened.
 */
static void
test_client_sealed_wrong_key_gets_nothing(void **state)
{
	(void)state;
	/* the client's private key is not the one A knows for it: another identity */
	lone_producer_gets_nothing(1, OTHER, key_pub[GW_A], RG_DROP_BAD_HANDSHAKE);
	/* the client's key is right, the public key it has for A is B's: A cannot read it */
	lone_producer_gets_nothing(1, PROD, key_pub[GW_B], RG_DROP_BAD_HANDSHAKE);
}

/* A plaintext client and a sealed gateway, or the reverse, never talk (MODE_MISMATCH). */
static void
test_client_mode_mismatch_gets_nothing(void **state)
{
	(void)state;
	lone_producer_gets_nothing(1, 0, NULL, RG_DROP_MODE_MISMATCH);
	lone_producer_gets_nothing(0, PROD, key_pub[GW_A], RG_DROP_MODE_MISMATCH);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_config_errors),
		cmocka_unit_test(test_client_end_to_end_through_two_gateways),
		cmocka_unit_test(test_client_slow_consumer_backpressure),
		cmocka_unit_test(test_client_unreachable_gateway),
		cmocka_unit_test(test_client_moves_to_a_live_gateway),
		cmocka_unit_test(test_client_idle_gateway_keeps_serving),
		/* sealed: the same runs with every packet under AES-256-GCM */
		cmocka_unit_test_setup_teardown(test_client_end_to_end_through_two_gateways,
						sealed_on, sealed_off),
		cmocka_unit_test_setup_teardown(test_client_slow_consumer_backpressure, sealed_on,
						sealed_off),
		cmocka_unit_test_setup_teardown(test_client_moves_to_a_live_gateway, sealed_on,
						sealed_off),
		cmocka_unit_test(test_client_key_config_errors),
		cmocka_unit_test(test_client_sealed_wrong_key_gets_nothing),
		cmocka_unit_test(test_client_mode_mismatch_gets_nothing),
	};

	return cmocka_run_group_tests(tests, keys_setup, keys_teardown);
}
