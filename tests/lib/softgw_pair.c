/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rg-softgw-pair: two gateways in software (tests/lib/softgw.h) on 127.0.0.1, A and B, peers
 * of each other, in one process: the stand-in for a pair of repgate daemons in the tests of
 * the language bindings (client/go, client/python), which talk to it as real processes do.
 *
 *   rg-softgw-pair [--a-id 1] [--b-id 2] [--a-port 0] [--b-port 0]
 *                  [--a-clients 10,11] [--b-clients 20,21] [--seconds S] [--keys DIR]
 *
 * A port of 0 picks a free one. Once both listen it prints one line on standard output,
 * `a_port=N b_port=M`, and flushes it; it then runs until SIGTERM or SIGINT, until S seconds
 * have passed (0: no bound), or until its parent dies (PR_SET_PDEATHSIG), and prints its
 * gateways' datagram counts on standard error as it stops. Exit status 0, or 2 for a bad flag,
 * 1 for a gateway that did not start.
 *
 * --keys DIR: sealed (security.mode = "aead"). The pair makes a private key for A, for B
 * and for every client it lists, writes each client's to DIR/ID.key (mode 0600: what a
 * client's key_file names), gives each gateway its peers' public keys, and prints the
 * gateways' public keys on its line: `a_port=N b_port=M a_pubkey=K b_pubkey=L`.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "softgw.h"

#define PAIR_WAIT_NS_MAX (5 * RG_NS_PER_MS) /* the longest sleep between two rounds */

struct side {
	uint16_t id, port;
	uint16_t clients[SOFTGW_PEERS_MAX - 1];
	int nclients;
	uint8_t priv[RG_KEY_BYTES], pub[RG_KEY_BYTES]; /* --keys */
	struct softgw g;
};

static volatile sig_atomic_t stop_asked;

static void
on_signal(int sig)
{
	(void)sig;
	stop_asked = 1;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * RG_NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* A restarted pair must look restarted to the clients: a larger incarnation (wall clock µs). */
static uint64_t
incarnation(uint16_t id)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000) << 8 | id;
}

static int
parse_u16(const char *s, uint16_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v > UINT16_MAX)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

/* "10,11,12": client ids, nonzero, at most SOFTGW_PEERS_MAX - 1 (one peer is the other side). */
static int
parse_clients(char *s, struct side *sd)
{
	sd->nclients = 0;
	for (char *tok = strtok(s, ","); tok != NULL; tok = strtok(NULL, ",")) {
		if (sd->nclients >= SOFTGW_PEERS_MAX - 1 ||
		    parse_u16(tok, &sd->clients[sd->nclients]) != 0 ||
		    sd->clients[sd->nclients] == 0)
			return -EINVAL;
		sd->nclients++;
	}
	return 0;
}

static int
parse_args(int argc, char **argv, struct side *a, struct side *b, unsigned long *seconds,
	   const char **keys)
{
	static const struct option opts[] = {
		{ "a-id", required_argument, NULL, 'a' },
		{ "b-id", required_argument, NULL, 'b' },
		{ "a-port", required_argument, NULL, 'p' },
		{ "b-port", required_argument, NULL, 'q' },
		{ "a-clients", required_argument, NULL, 'c' },
		{ "b-clients", required_argument, NULL, 'd' },
		{ "seconds", required_argument, NULL, 's' },
		{ "keys", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	int o, rc = 0;
	char *end;

	while (rc == 0 && (o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'a':
			rc = parse_u16(optarg, &a->id);
			break;
		case 'b':
			rc = parse_u16(optarg, &b->id);
			break;
		case 'p':
			rc = parse_u16(optarg, &a->port);
			break;
		case 'q':
			rc = parse_u16(optarg, &b->port);
			break;
		case 'c':
			rc = parse_clients(optarg, a);
			break;
		case 'd':
			rc = parse_clients(optarg, b);
			break;
		case 's':
			errno = 0;
			*seconds = strtoul(optarg, &end, 10);
			rc = errno != 0 || end == optarg || *end != '\0' ? -EINVAL : 0;
			break;
		case 'k':
			*keys = optarg;
			break;
		default:
			rc = -EINVAL;
		}
	}
	if (rc == 0 && (optind != argc || a->id == 0 || b->id == 0 || a->id == b->id))
		rc = -EINVAL;
	return rc;
}

/* The clients' public keys made so far: one key per id, whichever sides list it. */
static struct {
	uint16_t id;
	uint8_t pub[RG_KEY_BYTES];
} made[2 * (SOFTGW_PEERS_MAX - 1)];
static int nmade;

/* A client's key: made once, written to DIR/ID.key (0600), its public half given to g. */
static int
client_key(struct softgw *g, const char *dir, uint16_t id)
{
	uint8_t priv[RG_KEY_BYTES], pub[RG_KEY_BYTES];
	char path[4096], line[RG_KEY_B64_CHARS + 2];
	int fd, rc;

	for (int i = 0; i < nmade; i++) /* bounded by the two sides' clients */
		if (made[i].id == id)
			return softgw_peer_key(g, id, made[i].pub);
	if ((rc = rg_key_generate(priv)) != 0 || (rc = rg_key_public(priv, pub)) != 0)
		return rc;
	made[nmade].id = id;
	memcpy(made[nmade++].pub, pub, RG_KEY_BYTES);
	rg_key_to_b64(priv, line);
	strcat(line, "\n");
	snprintf(path, sizeof(path), "%s/%u.key", dir, id);
	unlink(path); /* a key of an earlier run */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	rc = write(fd, line, strlen(line)) == (ssize_t)strlen(line) ? 0 : -EIO;
	close(fd);
	memset(line, 0, sizeof(line));
	memset(priv, 0, sizeof(priv));
	return rc == 0 ? softgw_peer_key(g, id, pub) : rc;
}

static int
start_side(struct side *s, const char *keys)
{
	if (keys == NULL)
		return softgw_start(&s->g, s->id, s->port, incarnation(s->id));
	if (rg_key_generate(s->priv) != 0 || rg_key_public(s->priv, s->pub) != 0)
		return -EIO;
	return softgw_start_sealed(&s->g, s->id, s->port, incarnation(s->id), s->priv);
}

static int
add_clients(struct side *s, const char *keys)
{
	int rc;

	for (int i = 0; i < s->nclients; i++)
		if ((rc = softgw_add_client(&s->g, s->clients[i])) != 0 ||
		    (keys != NULL && (rc = client_key(&s->g, keys, s->clients[i])) != 0))
			return rc;
	return 0;
}

/* Both listen first (so each knows the other's port), then each learns its peers. */
static int
start(struct side *a, struct side *b, const char *keys)
{
	int rc;

	if ((rc = start_side(a, keys)) != 0 || (rc = start_side(b, keys)) != 0 ||
	    (rc = softgw_add_gateway(&a->g, b->id, b->g.port)) != 0 ||
	    (rc = softgw_add_gateway(&b->g, a->id, a->g.port)) != 0)
		return rc;
	if (keys != NULL && ((rc = softgw_peer_key(&a->g, b->id, b->pub)) != 0 ||
			     (rc = softgw_peer_key(&b->g, a->id, a->pub)) != 0))
		return rc;
	if ((rc = add_clients(a, keys)) != 0 || (rc = add_clients(b, keys)) != 0)
		return rc;
	return 0;
}

/* Sleeps until a datagram arrives at either gateway or either core's next deadline. */
static void
wait_round(struct side *a, struct side *b)
{
	struct pollfd pfd[2] = { { .fd = a->g.fd, .events = POLLIN },
				 { .fd = b->g.fd, .events = POLLIN } };
	uint64_t now = now_ns(), d = now + PAIR_WAIT_NS_MAX, wait;
	struct timespec ts;

	d = RG_MIN(d, rg_core_next_deadline(a->g.core, now));
	d = RG_MIN(d, rg_core_next_deadline(b->g.core, now));
	wait = d > now ? d - now : 0;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)wait;
	if (wait > 0)
		ppoll(pfd, 2, &ts, NULL); /* EINTR: a signal, seen by the caller's loop */
}

int
main(int argc, char **argv)
{
	struct side a = { .id = 1 }, b = { .id = 2 };
	struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: ppoll returns */
	unsigned long seconds = 0;
	const char *keys = NULL;
	uint64_t end;
	int rc;
	char ca[] = "10", cb[] = "20";

	parse_clients(ca, &a);
	parse_clients(cb, &b);
	if (parse_args(argc, argv, &a, &b, &seconds, &keys) != 0) {
		fprintf(stderr,
			"usage: rg-softgw-pair [--a-id N] [--b-id N] [--a-port P] [--b-port P] "
			"[--a-clients ID,..] [--b-clients ID,..] [--seconds S] [--keys DIR]\n");
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1) /* the parent died before prctl */
		return 0;
	if ((rc = start(&a, &b, keys)) != 0) {
		fprintf(stderr, "rg-softgw-pair: cannot start the gateways: %s\n", strerror(-rc));
		return 1;
	}
	if (keys != NULL) {
		char ka[RG_KEY_B64_CHARS + 1], kb[RG_KEY_B64_CHARS + 1];

		rg_key_to_b64(a.pub, ka);
		rg_key_to_b64(b.pub, kb);
		printf("a_port=%u b_port=%u a_pubkey=%s b_pubkey=%s\n", a.g.port, b.g.port, ka, kb);
	} else {
		printf("a_port=%u b_port=%u\n", a.g.port, b.g.port);
	}
	fflush(stdout);
	end = seconds > 0 ? now_ns() + seconds * RG_NS_PER_S : UINT64_MAX;
	/* Bounded by --seconds, or by a signal. */
	while (!stop_asked && now_ns() < end) {
		uint64_t now = now_ns();

		softgw_poll(&a.g, now);
		softgw_poll(&b.g, now);
		wait_round(&a, &b);
	}
	fprintf(
	    stderr, "rg-softgw-pair: A rx %llu tx %llu drops %llu; B rx %llu tx %llu drops %llu\n",
	    (unsigned long long)a.g.rx, (unsigned long long)a.g.tx, (unsigned long long)a.g.drops,
	    (unsigned long long)b.g.rx, (unsigned long long)b.g.tx, (unsigned long long)b.g.drops);
	softgw_stop(&a.g);
	softgw_stop(&b.g);
	memset(a.priv, 0, sizeof(a.priv));
	memset(b.priv, 0, sizeof(b.priv));
	return 0;
}
