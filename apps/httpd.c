/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The server runs libmicrohttpd without a thread of its own (MHD_USE_EPOLL,
 * external polling) in one thread of ours, so that between two turns of
 * MHD_run() that same thread can end the connections that are too slow:
 * shutdown() of a socket that nobody else closes meanwhile (no race with
 * libmicrohttpd's own close, which happens on this thread too).
 *
 * Invariants:
 *  1. Every open connection has a struct conn (NOTIFY_CONNECTION STARTED),
 *     in h->conns until CLOSED frees it; only the server thread touches them.
 *  2. A connection between requests (since it opened, or since its last
 *     answer went out) must reach on_request within timeout_s; else it is
 *     shut down (reap). libmicrohttpd's own timeout closes one idle that long.
 */
#include "httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#define TURN_MS_MAX 50 /* the loop's longest wait: how soon it sees stop and reaps */

struct conn {
	struct conn *next;
	int fd;
	bool in_request; /* on_request ran, the answer is not out yet */
	bool reaped;     /* shut down; libmicrohttpd closes it on its next turn */
	uint64_t since_ns;
};

struct rg_httpd {
	struct MHD_Daemon *d;
	struct rg_httpd_config cfg;
	uint16_t port;
	int epoll_fd;
	pthread_t thread;
	atomic_bool stop; /* set by rg_httpd_stop; read by the server thread */
	struct conn *conns;
};

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned status, const char *type, char *body, size_t len,
      enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result rc;

	if (r == NULL) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
	   const char *version, const char *upload, size_t *upload_len, void **con_cls)
{
	static char not_found[] = "repgate: not here\n";
	static char gone[] = "repgate: not running\n";
	const char *text = "text/plain; charset=utf-8";
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct rg_httpd *h = cls;
	size_t len = 0;
	char *body;

	(void)version;
	(void)upload;
	(void)upload_len;
	(void)con_cls;
	if (ci != NULL && ci->socket_context != NULL)
		((struct conn *)ci->socket_context)->in_request = true;
	if (strcmp(method, "GET") != 0 || strcmp(url, h->cfg.path) != 0)
		return reply(c, MHD_HTTP_NOT_FOUND, text, not_found, sizeof(not_found) - 1,
			     MHD_RESPMEM_PERSISTENT);
	body = h->cfg.render(h->cfg.ctx, &len);
	if (body == NULL)
		return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, text, gone, sizeof(gone) - 1,
			     MHD_RESPMEM_PERSISTENT);
	return reply(c, MHD_HTTP_OK, h->cfg.content_type, body, len, MHD_RESPMEM_MUST_FREE);
}

/* A request was answered (or given up): the connection's next one starts its clock. */
static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
	     enum MHD_RequestTerminationCode toe)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	(void)cls;
	(void)con_cls;
	(void)toe;
	if (ci != NULL && ci->socket_context != NULL) {
		struct conn *k = ci->socket_context;

		k->in_request = false;
		k->since_ns = mono_ns();
	}
}

static void
on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
	      enum MHD_ConnectionNotificationCode toe)
{
	struct rg_httpd *h = cls;
	struct conn *k = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

		k = calloc(1, sizeof(*k));
		if (k == NULL)
			return; /* not reaped: the idle timeout still holds */
		k->fd = ci != NULL ? ci->connect_fd : -1;
		k->since_ns = mono_ns();
		k->next = h->conns;
		h->conns = k;
		*socket_context = k;
		return;
	}
	if (k == NULL)
		return;
	for (struct conn **p = &h->conns; *p != NULL; p = &(*p)->next)
		if (*p == k) {
			*p = k->next;
			break;
		}
	free(k);
	*socket_context = NULL;
}

/* Shuts down every connection past its request deadline (invariant 2). Bounded by conns_max. */
static void
reap(struct rg_httpd *h, uint64_t now_ns)
{
	uint64_t limit_ns = (uint64_t)h->cfg.timeout_s * 1000000000u;

	for (struct conn *k = h->conns; k != NULL; k = k->next)
		if (!k->in_request && !k->reaped && k->fd >= 0 && now_ns - k->since_ns > limit_ns) {
			shutdown(k->fd, SHUT_RDWR);
			k->reaped = true;
		}
}

static void *
serve(void *arg)
{
	struct rg_httpd *h = arg;

	/* Bounded per turn: a wait of at most TURN_MS_MAX, one MHD_run, one reap. */
	while (!atomic_load_explicit(&h->stop, memory_order_acquire)) {
		struct pollfd p = { .fd = h->epoll_fd, .events = POLLIN };
		MHD_UNSIGNED_LONG_LONG to = TURN_MS_MAX;

		if (MHD_get_timeout(h->d, &to) != MHD_YES || to > TURN_MS_MAX)
			to = TURN_MS_MAX;
		poll(&p, 1, (int)to);
		MHD_run(h->d);
		reap(h, mono_ns());
	}
	return NULL;
}

struct rg_httpd *
rg_httpd_start(const struct rg_httpd_config *c)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(c->port),
				  .sin_addr.s_addr = htonl(c->addr) };
	const union MHD_DaemonInfo *info;
	struct sockaddr_in bound;
	socklen_t blen = sizeof(bound);
	struct rg_httpd *h;

	if (c->render == NULL || c->path == NULL || c->conns_max == 0 || c->conns_per_ip == 0 ||
	    c->conns_per_ip >= c->conns_max || c->timeout_s == 0) {
		errno = EINVAL;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return NULL;
	h->cfg = *c;
	h->d = MHD_start_daemon(
	    MHD_USE_EPOLL, c->port, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR,
	    (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_LIMIT, c->conns_max,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, c->conns_per_ip, MHD_OPTION_CONNECTION_TIMEOUT,
	    c->timeout_s, MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_END);
	info = h->d != NULL ? MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
	if (info == NULL)
		goto fail;
	h->epoll_fd = info->epoll_fd;
	h->port = c->port;
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_LISTEN_FD);
	if (info != NULL && getsockname(info->listen_fd, (struct sockaddr *)&bound, &blen) == 0)
		h->port = ntohs(bound.sin_port);
	atomic_init(&h->stop, false);
	if ((errno = pthread_create(&h->thread, NULL, serve, h)) == 0)
		return h;
fail:
	if (h->d != NULL)
		MHD_stop_daemon(h->d);
	free(h);
	return NULL;
}

uint16_t
rg_httpd_port(const struct rg_httpd *h)
{
	return h->port;
}

void
rg_httpd_stop(struct rg_httpd *h)
{
	if (h == NULL)
		return;
	atomic_store_explicit(&h->stop, true, memory_order_release); /* serve() acquires it */
	pthread_join(h->thread, NULL);
	MHD_stop_daemon(h->d); /* closes every connection: CLOSED frees each struct conn */
	free(h);
}
