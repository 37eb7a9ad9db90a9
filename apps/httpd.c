/* SPDX-License-Identifier: Apache-2.0 */
#include "httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

struct rg_httpd {
	struct MHD_Daemon *d;
	struct rg_httpd_config cfg;
	uint16_t port;
};

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
	struct rg_httpd *h = cls;
	size_t len = 0;
	char *body;

	(void)version;
	(void)upload;
	(void)upload_len;
	(void)con_cls;
	if (strcmp(method, "GET") != 0 || strcmp(url, h->cfg.path) != 0)
		return reply(c, MHD_HTTP_NOT_FOUND, text, not_found, sizeof(not_found) - 1,
			     MHD_RESPMEM_PERSISTENT);
	body = h->cfg.render(h->cfg.ctx, &len);
	if (body == NULL)
		return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, text, gone, sizeof(gone) - 1,
			     MHD_RESPMEM_PERSISTENT);
	return reply(c, MHD_HTTP_OK, h->cfg.content_type, body, len, MHD_RESPMEM_MUST_FREE);
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
	h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, c->port, NULL,
				NULL, on_request, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				MHD_OPTION_CONNECTION_LIMIT, c->conns_max,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, c->conns_per_ip,
				MHD_OPTION_CONNECTION_TIMEOUT, c->timeout_s, MHD_OPTION_END);
	if (h->d == NULL) {
		free(h);
		return NULL;
	}
	h->port = c->port;
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_LISTEN_FD);
	if (info != NULL && getsockname(info->listen_fd, (struct sockaddr *)&bound, &blen) == 0)
		h->port = ntohs(bound.sin_port);
	return h;
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
	MHD_stop_daemon(h->d);
	free(h);
}
