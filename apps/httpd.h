/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small HTTP server for one GET path (the Prometheus metrics, apps/metrics.c),
 * libmicrohttpd driven by a thread of its own. Every other method or path
 * gets 404.
 *
 * Limits, because a scraper shares the server with whoever can reach its port
 * (20 clients dribbling header bytes once held every connection, so /metrics
 * answered nobody for as long as they stayed):
 *  - at most conns_max connections, and at most conns_per_ip of them from one
 *    IP address (conns_per_ip < conns_max, so one address never takes them all);
 *    a connection past a limit is accepted and closed at once;
 *  - a connection must bring a whole request within timeout_s of opening (or
 *    of its last answer), however it trickles its bytes, and one that sends
 *    nothing for timeout_s is closed (libmicrohttpd's own timeout is only the
 *    idle one, which a byte every few seconds defeats).
 * So slow clients hold a connection at most timeout_s, and a scraper waits at
 * most that long for one even when they come from many addresses.
 */
#ifndef RG_APPS_HTTPD_H
#define RG_APPS_HTTPD_H

#include <stddef.h>
#include <stdint.h>

struct rg_httpd;

struct rg_httpd_config {
	uint32_t addr; /* IPv4, host byte order */
	uint16_t port; /* 0: the kernel picks one (rg_httpd_port) */
	const char *path;
	const char *content_type;
	unsigned conns_max, conns_per_ip, timeout_s;
	/*
	 * The body of a GET of path, in a malloc'd buffer the server frees, or
	 * NULL for a 503 ("not running"). Called on the server's thread.
	 */
	char *(*render)(void *ctx, size_t *len);
	void *ctx;
};

/* Starts the server. NULL (errno set by libmicrohttpd or EINVAL) when it cannot. */
struct rg_httpd *rg_httpd_start(const struct rg_httpd_config *c);
/* The port it listens on (the one picked when the config said 0). */
uint16_t rg_httpd_port(const struct rg_httpd *h);
/* Stops it and waits for its thread (safe with NULL). */
void rg_httpd_stop(struct rg_httpd *h);

#endif /* RG_APPS_HTTPD_H */
