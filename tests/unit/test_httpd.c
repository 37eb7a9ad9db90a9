/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The metrics HTTP server (apps/httpd.c) on 127.0.0.1 against clients on
 * 127.0.0.2 and up (the loopback holds all of 127/8): slow clients that
 * dribble header bytes do not keep a scraper from /metrics, from one address
 * or from many, a silent connection is closed after the timeout, other paths
 * get 404. Every wait
 * polls with a bound.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "httpd.h"

#define BODY     "repgate_up 1\n"
#define SLOW_MAX 20

static char *
render(void *ctx, size_t *len)
{
	char *b = strdup(BODY);

	(void)ctx;
	*len = b != NULL ? strlen(b) : 0;
	return b;
}

static struct rg_httpd *
start(unsigned conns_max, unsigned per_ip, unsigned timeout_s)
{
	const struct rg_httpd_config c = {
		.addr = 0x7f000001,
		.path = "/metrics",
		.content_type = "text/plain",
		.conns_max = conns_max,
		.conns_per_ip = per_ip,
		.timeout_s = timeout_s,
		.render = render,
	};
	struct rg_httpd *h = rg_httpd_start(&c);

	assert_non_null(h);
	assert_true(rg_httpd_port(h) != 0);
	return h;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A connection from src to 127.0.0.1:port (connected: the kernel completes it at once). */
static int
dial(const char *src, uint16_t port)
{
	struct sockaddr_in from = { .sin_family = AF_INET }, to = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(inet_pton(AF_INET, src, &from.sin_addr), 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&from, sizeof(from)), 0);
	to.sin_port = htons(port);
	to.sin_addr.s_addr = htonl(0x7f000001);
	assert_int_equal(connect(fd, (struct sockaddr *)&to, sizeof(to)), 0);
	return fd;
}

/* 1 when the server closed fd (EOF or reset) within bound_ms, else 0; data read is dropped. */
static int
closed_within(int fd, int bound_ms)
{
	int64_t end = now_ms() + bound_ms;
	char buf[512];

	/* Bounded by end: each turn waits at most the time left. */
	for (int64_t left = bound_ms; left > 0; left = end - now_ms()) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, (int)left) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return 1;
	}
	return 0;
}

/*
 * GET path from src; the status, with the body in body. -1 when the server
 * did not answer in full within bound_ms (refused, closed, or too slow).
 */
static int
get(const char *src, uint16_t port, const char *path, int bound_ms, char *body, size_t len)
{
	char req[128], resp[4096];
	int64_t end = now_ms() + bound_ms;
	size_t have = 0;
	const char *b;
	int fd = dial(src, port), status = -1;

	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\n\r\n", path);
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req))
		goto out;
	/* Bounded by end, and by resp's size. */
	for (int64_t left = bound_ms; left > 0 && have + 1 < sizeof(resp); left = end - now_ms()) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, (int)left) <= 0)
			continue;
		n = recv(fd, resp + have, sizeof(resp) - 1 - have, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	resp[have] = '\0';
	b = strstr(resp, "\r\n\r\n");
	if (now_ms() > end || b == NULL || sscanf(resp, "HTTP/1.%*d %d", &status) != 1) {
		status = -1;
		goto out;
	}
	snprintf(body, len, "%s", b + 4);
out:
	close(fd);
	return status;
}

/*
 * 20 clients on one address send a request line and then a header byte
 * every 200 ms, more often than the idle timeout, for 3 s (less than the
 * 10 s request deadline). Throughout, a scraper on another address gets its
 * answer within 2 s: the per-address limit (4) closed all but 4 of the slow
 * ones, which the connection limit (16) alone would not have (they would have
 * held every connection).
 */
static void
test_httpd_slow_clients_do_not_deny_scrape(void **state)
{
	static const char line[] = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ";
	struct rg_httpd *h = start(16, 4, 10);
	int fd[SLOW_MAX], open_n = 0, scrapes = 0;
	int64_t t0 = now_ms(), next_scrape = t0 + 500;
	char body[256];

	(void)state;
	for (int i = 0; i < SLOW_MAX; i++) {
		fd[i] = dial("127.0.0.2", rg_httpd_port(h));
		assert_int_equal(send(fd[i], line, sizeof(line) - 1, MSG_NOSIGNAL),
				 (ssize_t)sizeof(line) - 1);
	}
	/* Bounded: 3 s of 200 ms turns (and three gets of at most 2 s). */
	while (now_ms() - t0 < 3000) {
		struct pollfd none = { .fd = -1 };

		poll(&none, 1, 200); /* the dribble's pace, not a wait for the server */
		for (int i = 0; i < SLOW_MAX; i++)
			if (fd[i] >= 0 && send(fd[i], "a", 1, MSG_NOSIGNAL) != 1) {
				close(fd[i]);
				fd[i] = -1;
			}
		if (now_ms() >= next_scrape) {
			assert_int_equal(get("127.0.0.1", rg_httpd_port(h), "/metrics", 2000, body,
					     sizeof(body)),
					 200);
			assert_string_equal(body, BODY);
			scrapes++;
			next_scrape = now_ms() + 1000;
		}
	}
	for (int i = 0; i < SLOW_MAX; i++) {
		if (fd[i] >= 0 && closed_within(fd[i], 10) == 0)
			open_n++;
		if (fd[i] >= 0)
			close(fd[i]);
	}
	assert_true(scrapes >= 3);
	assert_int_equal(open_n, 4); /* the slow ones kept what the limit gave them */
	rg_httpd_stop(h);
}

/*
 * 20 slow clients from 20 addresses (127.0.0.10 to .29) take all 16
 * connections, so the per-address limit does not help; each still dribbles a
 * byte every 200 ms, more often than the idle timeout. The request deadline
 * (2 s) shuts each down, and a scraper that retries gets its answer within
 * 2 s + 2 s of the attack's start; every slow one is closed by then too.
 */
static void
test_httpd_slow_clients_from_many_addresses_cut_off(void **state)
{
	static const char line[] = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ";
	struct rg_httpd *h = start(16, 4, 2);
	int fd[SLOW_MAX], status = -1, open_n = 0;
	int64_t t0 = now_ms(), answered = -1;
	char body[256], src[16];

	(void)state;
	for (int i = 0; i < SLOW_MAX; i++) {
		snprintf(src, sizeof(src), "127.0.0.%d", 10 + i);
		fd[i] = dial(src, rg_httpd_port(h));
		if (send(fd[i], line, sizeof(line) - 1, MSG_NOSIGNAL) !=
		    (ssize_t)sizeof(line) - 1) {
			close(fd[i]);
			fd[i] = -1;
		}
	}
	/* Bounded: at most 4 s of turns, each at most 200 ms of dribble and a 200 ms get. */
	while (now_ms() - t0 < 4000 && status != 200) {
		struct pollfd none = { .fd = -1 };

		poll(&none, 1, 200); /* the dribble's pace, not a wait for the server */
		for (int i = 0; i < SLOW_MAX; i++)
			if (fd[i] >= 0 && send(fd[i], "a", 1, MSG_NOSIGNAL) != 1) {
				close(fd[i]);
				fd[i] = -1;
			}
		status = get("127.0.0.1", rg_httpd_port(h), "/metrics", 200, body, sizeof(body));
		if (status == 200)
			answered = now_ms() - t0;
	}
	assert_int_equal(status, 200);
	assert_string_equal(body, BODY);
	assert_true(answered >= 1500); /* the slow ones held every connection until the deadline */
	/*
	 * Those the kernel held in the listen backlog while all 16 were taken got
	 * a connection when the first ones were cut off, and their own 2 s from
	 * then: all are closed within 3 s of the answer.
	 */
	for (int i = 0; i < SLOW_MAX; i++) {
		if (fd[i] >= 0 && closed_within(fd[i], 3000) == 0)
			open_n++;
		if (fd[i] >= 0)
			close(fd[i]);
	}
	assert_int_equal(open_n, 0);
	rg_httpd_stop(h);
}

/* A connection that sends half a request and then nothing is closed after timeout_s (1 s). */
static void
test_httpd_idle_connection_timed_out(void **state)
{
	static const char part[] = "GET /metr";
	struct rg_httpd *h = start(16, 4, 1);
	int fd = dial("127.0.0.3", rg_httpd_port(h));
	int64_t t0 = now_ms();

	(void)state;
	assert_int_equal(send(fd, part, sizeof(part) - 1, MSG_NOSIGNAL), (ssize_t)sizeof(part) - 1);
	assert_int_equal(closed_within(fd, 5000), 1);
	assert_true(now_ms() - t0 >= 500); /* by the timeout, not at once */
	close(fd);
	rg_httpd_stop(h);
}

static void
test_httpd_other_paths_and_bad_limits(void **state)
{
	struct rg_httpd_config c = { .addr = 0x7f000001,
				     .path = "/metrics",
				     .conns_max = 4,
				     .conns_per_ip = 4,
				     .timeout_s = 1,
				     .render = render };
	struct rg_httpd *h = start(4, 2, 1);
	char body[256];

	(void)state;
	assert_int_equal(get("127.0.0.1", rg_httpd_port(h), "/other", 2000, body, sizeof(body)),
			 404);
	assert_int_equal(get("127.0.0.1", rg_httpd_port(h), "/metrics", 2000, body, sizeof(body)),
			 200);
	rg_httpd_stop(h);
	errno = 0;
	assert_null(rg_httpd_start(&c)); /* one address could take every connection */
	assert_int_equal(errno, EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_httpd_slow_clients_do_not_deny_scrape),
		cmocka_unit_test(test_httpd_slow_clients_from_many_addresses_cut_off),
		cmocka_unit_test(test_httpd_idle_connection_timed_out),
		cmocka_unit_test(test_httpd_other_paths_and_bad_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
