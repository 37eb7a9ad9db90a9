/* SPDX-License-Identifier: Apache-2.0 */
/* What repgate-pub and repgate-sub share (common.h). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "keys.h"

#define READ_CHUNK_BYTES (64u << 10)
#define LEN_PREFIX_BYTES 4u

volatile sig_atomic_t rg_cli_stop_signal;
static sigset_t open_mask; /* the mask with SIGINT and SIGTERM let in */

void
rg_cli_common_init(struct rg_cli_common *c, const char *prog)
{
	memset(c, 0, sizeof(*c));
	c->prog = prog;
	rg_client_config_default(&c->cfg);
	c->format = RG_CLI_LINES;
	c->progress_ns = 1000 * RG_CLI_NS_PER_MS;
}

/* ---- parsing ---- */

/* Decimal or 0x-hex, the whole text, no sign, no space: 0 or -EINVAL (why in *why). */
static int
parse_num(const char *text, uint64_t *out, const char **why)
{
	int base = 10;
	const char *p = text;
	char *end;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (!isxdigit((unsigned char)p[0]) || (base == 10 && !isdigit((unsigned char)p[0]))) {
		*why = "not a number";
		return -EINVAL;
	}
	errno = 0;
	*out = strtoull(p, &end, base);
	if (errno == ERANGE) {
		*why = "too large";
		return -EINVAL;
	}
	if (*end != '\0') {
		*why = "not a number (something trails it)";
		return -EINVAL;
	}
	return 0;
}

int
rg_cli_parse_u64(const struct rg_cli_common *c, const char *opt, const char *text, uint64_t min,
		 uint64_t max, uint64_t *out)
{
	const char *why = NULL;
	uint64_t v;

	if (parse_num(text, &v, &why) != 0) {
		fprintf(stderr, "%s: %s '%s': %s\n", c->prog, opt, text, why);
		return -EINVAL;
	}
	if (v < min || v > max) {
		fprintf(stderr, "%s: %s '%s': out of range %" PRIu64 "..%" PRIu64 "\n", c->prog,
			opt, text, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int
rg_cli_parse_seconds(const struct rg_cli_common *c, const char *opt, const char *text,
		     uint64_t *out_ns)
{
	char *end;
	double s;

	errno = 0;
	s = strtod(text, &end);
	if (end == text || *end != '\0' || errno != 0 || !isfinite(s) || s <= 0 || s > 86400) {
		fprintf(stderr, "%s: %s '%s': want seconds, more than 0 and at most 86400\n",
			c->prog, opt, text);
		return -EINVAL;
	}
	*out_ns = (uint64_t)(s * 1e9);
	if (*out_ns == 0)
		*out_ns = 1;
	return 0;
}

int
rg_cli_parse_stream(const struct rg_cli_common *c, const char *opt, const char *text, uint64_t *out)
{
	const char *colon = strchr(text, ':'), *why = NULL;
	uint64_t ns = 0, k = 0;
	char head[32];

	if (colon == NULL) {
		if (parse_num(text, &k, &why) != 0)
			goto bad;
	} else {
		size_t n = (size_t)(colon - text);

		if (n == 0 || n >= sizeof(head)) {
			why = "want NS:K with a namespace before the colon";
			goto bad;
		}
		memcpy(head, text, n);
		head[n] = '\0';
		if (parse_num(head, &ns, &why) != 0 || parse_num(colon + 1, &k, &why) != 0)
			goto bad;
		if (ns > UINT32_MAX || k > UINT32_MAX) {
			why = "NS and K must each fit in 32 bits";
			goto bad;
		}
		k |= ns << 32;
	}
	if (k == 0) {
		why = "stream 0 is not a stream (ids are nonzero)";
		goto bad;
	}
	*out = k;
	return 0;
bad:
	fprintf(stderr, "%s: %s '%s': %s (want decimal, 0x-hex or NS:K)\n", c->prog, opt, text,
		why);
	return -EINVAL;
}

/* "ID@ADDR:PORT" into g (the part before any ",PUBKEY"); 0 or -EINVAL with why. */
static int
split_gateway(const char *text, size_t len, struct rg_client_gateway *g, const char **why)
{
	const char *end = text + len, *at = memchr(text, '@', len), *colon = NULL;
	char idtxt[16], porttxt[16];
	uint64_t id, port;
	struct in_addr a;
	size_t n;

	for (const char *p = text; p < end; p++) /* the last colon: bounded by len */
		if (*p == ':')
			colon = p;
	if (at == NULL || colon == NULL || colon < at) {
		*why = "no '@', or no ':' after it";
		return -EINVAL;
	}
	n = (size_t)(at - text);
	if (n == 0 || n >= sizeof(idtxt)) {
		*why = "no id";
		return -EINVAL;
	}
	memcpy(idtxt, text, n);
	idtxt[n] = '\0';
	if (parse_num(idtxt, &id, why) != 0 || id == 0 || id > UINT16_MAX) {
		*why = "the gateway id must be 1..65535";
		return -EINVAL;
	}
	n = (size_t)(colon - at - 1);
	if (n == 0 || n >= sizeof(g->addr)) {
		*why = "no address";
		return -EINVAL;
	}
	memcpy(g->addr, at + 1, n);
	g->addr[n] = '\0';
	if (inet_pton(AF_INET, g->addr, &a) != 1) {
		*why = "the address is not a dotted IPv4 address";
		return -EINVAL;
	}
	n = (size_t)(end - colon - 1);
	if (n >= sizeof(porttxt))
		n = sizeof(porttxt) - 1; /* too long for a port: parse_num says so */
	memcpy(porttxt, colon + 1, n);
	porttxt[n] = '\0';
	if (parse_num(porttxt, &port, why) != 0 || port == 0 || port > UINT16_MAX) {
		*why = "the port must be 1..65535";
		return -EINVAL;
	}
	g->id = (uint16_t)id;
	g->port = (uint16_t)port;
	return 0;
}

/* The ",PUBKEY" part: 44 characters of base64 that decode to a key. 0 or -EINVAL with why. */
static int
split_pubkey(const char *text, struct rg_client_gateway *g, const char **why)
{
	uint8_t key[RG_KEY_BYTES];

	if (strlen(text) != RG_CLIENT_PUBKEY_CHARS || rg_key_from_b64(text, key) != 0) {
		*why = "the part after the comma is not a public key (44 characters of base64, "
		       "as `repgatectl pubkey` prints)";
		return -EINVAL;
	}
	memcpy(g->pubkey, text, RG_CLIENT_PUBKEY_CHARS + 1);
	return 0;
}

int
rg_cli_parse_gateway(struct rg_cli_common *c, const char *text)
{
	struct rg_client_gateway g = { 0 };
	const char *comma = strchr(text, ',');
	const char *why = NULL;
	size_t n = comma != NULL ? (size_t)(comma - text) : strlen(text);

	if (c->cfg.ngateways >= RG_CLIENT_GATEWAYS_MAX) {
		fprintf(stderr, "%s: --gateway '%s': at most %d gateways\n", c->prog, text,
			RG_CLIENT_GATEWAYS_MAX);
		return -EINVAL;
	}
	if (split_gateway(text, n, &g, &why) != 0 ||
	    (comma != NULL && split_pubkey(comma + 1, &g, &why) != 0)) {
		fprintf(stderr, "%s: --gateway '%s': %s (want ID@ADDR:PORT[,PUBKEY])\n", c->prog,
			text, why);
		return -EINVAL;
	}
	for (uint16_t i = 0; i < c->cfg.ngateways; i++)
		if (c->cfg.gateways[i].id == g.id) {
			fprintf(stderr, "%s: --gateway '%s': gateway %u is listed twice\n", c->prog,
				text, g.id);
			return -EINVAL;
		}
	c->cfg.gateways[c->cfg.ngateways++] = g;
	return 0;
}

int
rg_cli_parse_key(struct rg_cli_common *c, const char *text)
{
	size_t n = strlen(text);

	if (n == 0 || n >= sizeof(c->cfg.key_file)) {
		fprintf(stderr, "%s: --key '%s': want a file name of 1..%zu bytes\n", c->prog, text,
			sizeof(c->cfg.key_file) - 1);
		return -EINVAL;
	}
	memcpy(c->cfg.key_file, text, n + 1);
	return 0;
}

int
rg_cli_keys_check(const char *prog, const struct rg_client_config *cfg)
{
	int sealed = cfg->key_file[0] != '\0';

	for (uint16_t i = 0; i < cfg->ngateways; i++) {
		const struct rg_client_gateway *g = &cfg->gateways[i];

		if (sealed && g->pubkey[0] == '\0') {
			fprintf(stderr,
				"%s: --gateway %u@%s:%u: with --key every gateway needs its public "
				"key: --gateway ID@ADDR:PORT,PUBKEY (`repgatectl pubkey` of the "
				"gateway's security.key)\n",
				prog, g->id, g->addr, g->port);
			return -EINVAL;
		}
		if (!sealed && g->pubkey[0] != '\0') {
			fprintf(stderr,
				"%s: --gateway %u@%s:%u,%s: a public key without --key: give --key "
				"FILE (this client's private key) to seal, or drop ,PUBKEY for a "
				"gateway in security.mode \"none\"\n",
				prog, g->id, g->addr, g->port, g->pubkey);
			return -EINVAL;
		}
	}
	return 0;
}

void
rg_cli_create_error(const char *prog, const struct rg_client_config *cfg, int rc)
{
	char why[RG_CLIENT_PATH_BYTES + 256];

	if (rg_client_config_check(cfg, why, sizeof(why)) != 0 && why[0] != '\0')
		fprintf(stderr, "%s: cannot start the client: %s: %s\n", prog,
			rg_client_strerror(rc), why);
	else
		fprintf(stderr, "%s: cannot start the client: %s\n", prog, rg_client_strerror(rc));
}

int
rg_cli_parse_format(const struct rg_cli_common *c, const char *text)
{
	if (strcmp(text, "lines") == 0)
		return RG_CLI_LINES;
	if (strcmp(text, "binary") == 0)
		return RG_CLI_BINARY;
	fprintf(stderr, "%s: --format '%s': want lines or binary\n", c->prog, text);
	return -EINVAL;
}

int
rg_cli_common_option(struct rg_cli_common *c, int code, const char *arg)
{
	uint64_t v;
	int rc;

	switch (code) {
	case RG_CLI_OPT_ID:
		rc = rg_cli_parse_u64(c, "--id", arg, 1, UINT16_MAX, &v);
		c->cfg.id = (uint16_t)v;
		return rc == 0 ? 1 : rc;
	case RG_CLI_OPT_GATEWAY:
		rc = rg_cli_parse_gateway(c, arg);
		return rc == 0 ? 1 : rc;
	case RG_CLI_OPT_KEY:
		rc = rg_cli_parse_key(c, arg);
		return rc == 0 ? 1 : rc;
	case RG_CLI_OPT_FORMAT:
		rc = rg_cli_parse_format(c, arg);
		if (rc >= 0)
			c->format = (enum rg_cli_format)rc;
		return rc >= 0 ? 1 : rc;
	case RG_CLI_OPT_CONNECT_TIMEOUT:
		rc = rg_cli_parse_seconds(c, "--connect-timeout", arg, &c->cfg.connect_timeout_ns);
		return rc == 0 ? 1 : rc;
	case RG_CLI_OPT_PROGRESS_MS:
		rc = rg_cli_parse_u64(c, "--progress-ms", arg, 0, 86400000, &v);
		c->progress_ns = v * RG_CLI_NS_PER_MS;
		return rc == 0 ? 1 : rc;
	default:
		return 0;
	}
}

int
rg_cli_common_check(const struct rg_cli_common *c)
{
	if (c->cfg.id == 0) {
		fprintf(stderr,
			"%s: --id is required (this client's id, as its gateway lists it)\n",
			c->prog);
		return -EINVAL;
	}
	if (c->cfg.ngateways == 0) {
		fprintf(stderr, "%s: at least one --gateway ID@ADDR:PORT is required\n", c->prog);
		return -EINVAL;
	}
	for (uint16_t i = 0; i < c->cfg.ngateways; i++)
		if (c->cfg.gateways[i].id == c->cfg.id) {
			fprintf(stderr, "%s: --id %u is also a gateway's id: ids must differ\n",
				c->prog, c->cfg.id);
			return -EINVAL;
		}
	return rg_cli_keys_check(c->prog, &c->cfg);
}

/* ---- words for messages ---- */

void
rg_cli_gateways_str(const struct rg_client_config *cfg, char *buf, size_t cap)
{
	size_t n = 0;

	buf[0] = '\0';
	for (uint16_t i = 0; i < cfg->ngateways && n < cap; i++) {
		int w = snprintf(buf + n, cap - n, "%s%u@%s:%u", i > 0 ? ", " : "",
				 cfg->gateways[i].id, cfg->gateways[i].addr, cfg->gateways[i].port);

		if (w < 0)
			break;
		n += (size_t)w;
	}
}

void
rg_cli_unreachable_str(const struct rg_client_config *cfg, char *buf, size_t cap)
{
	char gws[8 * (RG_CLIENT_ADDR_BYTES + 16)];

	rg_cli_gateways_str(cfg, gws, sizeof(gws));
	snprintf(buf, cap,
		 "no gateway answered within %.1f s (tried %s): is one up there, and does it list "
		 "client id %u?",
		 (double)cfg->connect_timeout_ns / 1e9, gws, cfg->id);
}

void
rg_cli_stream_str(uint64_t stream, char *buf, size_t cap)
{
	snprintf(buf, cap, "0x%016" PRIx64 " (%" PRIu32 ":%" PRIu32 ")", stream,
		 (uint32_t)(stream >> 32), (uint32_t)stream);
}

const char *
rg_cli_refusal_str(int status)
{
	switch (status) {
	case RG_CLIENT_REFUSED_BUSY:
		return "busy: another consumer holds the stream at this gateway";
	case RG_CLIENT_REFUSED_FULL:
		return "full: the gateway's subscription table is full";
	case RG_CLIENT_REFUSED_NOT_ALLOWED:
		return "not allowed: this client may not subscribe at this gateway (is its id a "
		       "consumer client of the gateway?)";
	case RG_CLIENT_REFUSED_UNKNOWN:
		return "unknown: the gateway knows no such stream or namespace";
	default:
		return "refused for a reason this tool does not know";
	}
}

/* ---- signals and waiting ---- */

static void
on_stop(int sig)
{
	rg_cli_stop_signal = sig;
}

int
rg_cli_signals_init(void)
{
	struct sigaction sa = { .sa_handler = on_stop }; /* no SA_RESTART: a stop ends the wait */
	struct sigaction ign = { .sa_handler = SIG_IGN };
	sigset_t block;

	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &block, &open_mask) != 0)
		return -errno;
	sigdelset(&open_mask, SIGINT);
	sigdelset(&open_mask, SIGTERM);
	if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0 ||
	    sigaction(SIGPIPE, &ign, NULL) != 0) /* a closed stdout is an EPIPE we report */
		return -errno;
	return 0;
}

int
rg_cli_signal_exit(void)
{
	return RG_CLI_EXIT_SIGNAL + rg_cli_stop_signal;
}

const char *
rg_cli_signal_name(void)
{
	return rg_cli_stop_signal == SIGINT ? "SIGINT" : "SIGTERM";
}

int
rg_cli_wait(struct rg_client *cl, int fd2, uint64_t max_ns, int *fd2_ready)
{
	struct pollfd pfd[2] = { { .fd = rg_client_fd(cl), .events = POLLIN },
				 { .fd = fd2, .events = POLLIN } };
	uint64_t now = rg_client_now_ns(), d = rg_client_next_deadline_ns(cl);
	uint64_t wait = d > now ? d - now : 0;
	struct timespec ts;

	*fd2_ready = 0;
	if (max_ns > RG_CLI_WAIT_NS_MAX)
		max_ns = RG_CLI_WAIT_NS_MAX;
	if (wait > max_ns)
		wait = max_ns;
	ts.tv_sec = (time_t)(wait / RG_CLI_NS_PER_S);
	ts.tv_nsec = (long)(wait % RG_CLI_NS_PER_S);
	/* A zero wait still looks: a stop signal pending is taken here, fd2 is checked. An
	 * error (EINTR for a stop; EINVAL, ENOMEM cannot be helped) ends the wait early. */
	if (ppoll(pfd, fd2 >= 0 ? 2 : 1, &ts, &open_mask) < 0)
		pfd[1].revents = 0;
	*fd2_ready = fd2 >= 0 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0;
	return rg_client_poll(cl, rg_client_now_ns());
}

int
rg_cli_write_all(int fd, const void *buf, size_t len, size_t *written)
{
	const uint8_t *p = buf;
	sigset_t blocked;
	int rc = 0;

	*written = 0;
	sigprocmask(SIG_SETMASK, &open_mask, &blocked);
	/* Bounded: each round writes at least a byte, or ends on an error. A stop signal that
	 * came before does not stop it (a stop writes out what it has); one that comes while a
	 * write is blocked (a reader that does not read) ends it with EINTR. */
	while (*written < len) {
		ssize_t n = write(fd, p + *written, len - *written);

		if (n < 0) {
			rc = -errno;
			break;
		}
		*written += (size_t)n;
	}
	sigprocmask(SIG_SETMASK, &blocked, NULL);
	return rc;
}

/* ---- progress ---- */

void
rg_cli_tick_init(struct rg_cli_tick *t, uint64_t period_ns, uint64_t now_ns)
{
	memset(t, 0, sizeof(*t));
	t->period_ns = period_ns;
	t->next_ns = period_ns == 0 ? UINT64_MAX : now_ns + period_ns;
	t->last_ns = now_ns;
}

int
rg_cli_tick_due(struct rg_cli_tick *t, uint64_t now_ns, uint64_t count, uint64_t bytes,
		double *rate, double *bps)
{
	double dt;

	if (now_ns < t->next_ns)
		return 0;
	dt = (double)(now_ns - t->last_ns) / 1e9;
	*rate = dt > 0 ? (double)(count - t->last_count) / dt : 0;
	*bps = dt > 0 ? (double)(bytes - t->last_bytes) / dt : 0;
	t->last_ns = now_ns;
	t->last_count = count;
	t->last_bytes = bytes;
	t->next_ns = now_ns + t->period_ns;
	return 1;
}

/* ---- standard input as records ---- */

int
rg_cli_input_init(struct rg_cli_input *in, int fd, enum rg_cli_format format)
{
	memset(in, 0, sizeof(*in));
	in->fd = fd;
	in->format = format;
	/* a whole largest record with its prefix (and a line's newline), then a chunk to read */
	in->cap = RG_CLIENT_RECORD_MAX + LEN_PREFIX_BYTES + 1 + READ_CHUNK_BYTES;
	in->buf = malloc(in->cap);
	return in->buf == NULL ? -ENOMEM : 0;
}

void
rg_cli_input_fini(struct rg_cli_input *in)
{
	free(in->buf);
	in->buf = NULL;
}

static int
peek_line(struct rg_cli_input *in, const uint8_t **data, uint32_t *len)
{
	const uint8_t *p = in->buf + in->start;
	size_t have = in->end - in->start;
	const uint8_t *nl = memchr(p, '\n', have);
	size_t n = nl != NULL ? (size_t)(nl - p) : have;

	if (n > RG_CLIENT_RECORD_MAX) {
		snprintf(in->err, sizeof(in->err),
			 "the line at byte offset %" PRIu64 " is longer than 1 MiB (%u bytes)",
			 in->offset, RG_CLIENT_RECORD_MAX);
		return -EINVAL;
	}
	if (nl == NULL && (!in->eof || have == 0))
		return 0; /* more to read, or the end */
	*data = p;
	*len = (uint32_t)n;
	return 1;
}

static int
peek_binary(struct rg_cli_input *in, const uint8_t **data, uint32_t *len)
{
	const uint8_t *p = in->buf + in->start;
	size_t have = in->end - in->start;
	uint32_t n;

	if (have < LEN_PREFIX_BYTES) {
		if (in->eof && have > 0) {
			snprintf(in->err, sizeof(in->err),
				 "the input ends inside the length of the record at byte offset "
				 "%" PRIu64 " (%zu of 4 bytes)",
				 in->offset, have);
			return -EINVAL;
		}
		return 0;
	}
	n = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	if (n > RG_CLIENT_RECORD_MAX) {
		snprintf(in->err, sizeof(in->err),
			 "the record at byte offset %" PRIu64 " says it has %" PRIu32
			 " bytes: more than 1 MiB (%u)",
			 in->offset, n, RG_CLIENT_RECORD_MAX);
		return -EINVAL;
	}
	if (have - LEN_PREFIX_BYTES < n) {
		if (in->eof) {
			snprintf(in->err, sizeof(in->err),
				 "the input ends inside the record at byte offset %" PRIu64
				 " (%zu of its %" PRIu32 " bytes)",
				 in->offset, have - LEN_PREFIX_BYTES, n);
			return -EINVAL;
		}
		return 0;
	}
	*data = p + LEN_PREFIX_BYTES;
	*len = n;
	return 1;
}

int
rg_cli_input_peek(struct rg_cli_input *in, const uint8_t **data, uint32_t *len)
{
	return in->format == RG_CLI_LINES ? peek_line(in, data, len) : peek_binary(in, data, len);
}

void
rg_cli_input_take(struct rg_cli_input *in)
{
	const uint8_t *data = NULL;
	uint32_t len = 0;
	size_t used;

	if (rg_cli_input_peek(in, &data, &len) != 1)
		return;
	used = in->format == RG_CLI_LINES ? len + (in->start + len < in->end) /* its newline */
					  : LEN_PREFIX_BYTES + len;
	in->start += used;
	in->offset += used;
}

int
rg_cli_input_read(struct rg_cli_input *in)
{
	size_t room;
	ssize_t n;

	if (in->start > 0 &&
	    in->cap - in->end < READ_CHUNK_BYTES) { /* move the rest to the front */
		memmove(in->buf, in->buf + in->start, in->end - in->start);
		in->end -= in->start;
		in->start = 0;
	}
	room = in->cap - in->end;
	if (room > READ_CHUNK_BYTES)
		room = READ_CHUNK_BYTES;
	if (room == 0)
		return 0; /* not reached: a whole record always fits (cap) */
	n = read(in->fd, in->buf + in->end, room);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -errno;
	if (n == 0)
		in->eof = 1;
	in->end += (size_t)n;
	return 0;
}
