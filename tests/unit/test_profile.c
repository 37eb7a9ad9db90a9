/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Config profiles: the knob table, defaults, loading with @include, every
 * error class with its exact "FILE:LINE: key: what" text, --set overrides,
 * cross-field validation, dump → load round trip and the core config.
 *
 * Usage: test_profile [FIXTURES_DIR] (default: $RG_PROFILE_FIXTURES, else
 * tests/unit/profiles). Error messages name fixture files by that directory,
 * so the expected texts below are relative to it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "core.h"
#include "keys.h"
#include "profile.h"

/* The top-level knobs in the table: a row lost or added shows here (update it on purpose). */
#define KNOBS_TOP 103

#define ERR_BYTES 1024

static const char *fixtures = "tests/unit/profiles";

static const char *
fixture(const char *name)
{
	static char buf[512];

	snprintf(buf, sizeof(buf), "%s/%s", fixtures, name);
	return buf;
}

/* The expected error: a text naming fixture files, with "@/" standing for the fixtures dir. */
static const char *
expected(const char *text)
{
	static char buf[ERR_BYTES];
	size_t n = 0;

	for (const char *c = text; *c != '\0' && n + 1 < sizeof(buf); c++) {
		if (c[0] == '@' && c[1] == '/') {
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s/", fixtures);
			c++;
		} else {
			buf[n++] = *c;
		}
	}
	buf[RG_MIN(n, sizeof(buf) - 1)] = '\0';
	return buf;
}

static void
load_good(struct rg_profile *p)
{
	char err[ERR_BYTES] = "";

	if (rg_profile_load(fixture("good.conf"), p, err, sizeof(err)) != 0)
		fail_msg("good.conf: %s", err);
	if (rg_profile_validate(p, err, sizeof(err)) != 0)
		fail_msg("good.conf: %s", err);
}

static void
set_ok(struct rg_profile *p, const char *assignment)
{
	char err[ERR_BYTES] = "";

	if (rg_profile_set(p, assignment, err, sizeof(err)) != 0)
		fail_msg("%s", err);
}

static const struct rg_profile_knob *
knob(const char *path)
{
	const struct rg_profile_knob *t;
	size_t n = rg_profile_knobs(&t);

	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].path, path) == 0)
			return &t[i];
	fail_msg("no knob %s", path);
	return NULL;
}

/* ------------------------------------------------------------------------------------------ */

static void
test_profile_table_well_formed(void **state)
{
	const struct rg_profile_knob *t;
	size_t n = rg_profile_knobs(&t), checked = 0, peers = 0;
	struct rg_profile p;
	char err[ERR_BYTES], a[512];

	(void)state;
	rg_profile_default(&p);
	set_ok(&p, "peers.[0].id=2"); /* a peer to set the peer knobs on */
	for (size_t i = 0; i < n; i++) {
		const struct rg_profile_knob *k = &t[i];
		bool peer = k->scope == RG_PROFILE_SCOPE_PEER;

		assert_true(k->path[0] != '\0' && k->doc[0] != '\0' && k->unit != NULL);
		assert_string_not_equal(rg_profile_type_name(k->type), "?");
		assert_true(k->size > 0);
		assert_true((k->def == NULL) == ((k->flags & RG_PROFILE_F_REQUIRED) != 0));
		assert_true((k->type == RG_PROFILE_T_ENUM) == (k->choices != NULL));
		assert_true(peer == (strncmp(k->path, "peers.[].", 9) == 0));
		if (i > 0 && !peer) /* top-level rows first, then the peer rows */
			assert_int_equal(t[i - 1].scope, RG_PROFILE_SCOPE_TOP);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(k->path, t[j].path);
		if (k->def != NULL) { /* a default is a value --set takes */
			snprintf(a, sizeof(a), "%s%s=%s", peer ? "peers.[0]." : k->path,
				 peer ? k->path + 9 : "", k->def);
			if (rg_profile_set(&p, a, err, sizeof(err)) != 0)
				fail_msg("%s", err);
		}
		peers += peer;
		checked++;
	}
	assert_int_equal(checked, KNOBS_TOP + 8);
	assert_int_equal(peers, 8);
	assert_true(n <= RG_PROFILE_KNOBS_MAX && peers <= RG_PROFILE_PEER_KNOBS_MAX);
	assert_int_equal(knob("port.mtu")->min, 576);
	assert_int_equal(knob("port.mtu")->max, 9600);
	assert_string_equal(knob("port.mtu")->unit, "bytes");
	assert_int_equal(knob("proto.pkt_bytes_max")->flags, RG_PROFILE_F_ZERO_OK);
	assert_string_equal(knob("workers.idle")->choices, "spin|pause|sleep");
}

static void
test_profile_defaults_filled(void **state)
{
	struct rg_profile p;
	char err[ERR_BYTES];

	(void)state;
	rg_profile_default(&p);
	assert_int_equal(p.gateway.id, 0); /* required: unset */
	assert_string_equal(p.gateway.name, "");
	assert_int_equal(p.port.ip, 0);
	assert_int_equal(p.port.udp_port, 7000);
	assert_int_equal(p.port.mtu, 1500);
	assert_int_equal(p.port.rx_desc, 1024);
	assert_int_equal(p.port.tx_desc, 1024);
	assert_int_equal(p.port.mbufs, 32767);
	assert_int_equal(p.port.mbuf_cache, 256);
	assert_int_equal(p.npeers, 0);
	assert_int_equal(p.workers.count, 1);
	assert_int_equal(p.workers.burst, 32);
	assert_int_equal(p.workers.idle, RG_PROFILE_IDLE_SLEEP);
	assert_int_equal(p.workers.idle_polls, 256);
	assert_int_equal(p.workers.sleep_us, 50);
	assert_int_equal(p.proto.streams_max, 4096);
	assert_int_equal(p.proto.tx_records_max, 65536);
	assert_int_equal(p.proto.tx_stream_records_max, 1024);
	assert_int_equal(p.proto.rx_window_records, 256);
	assert_int_equal(p.proto.rx_frags_max, 65536);
	assert_int_equal(p.proto.pkt_bytes_max, 0);
	assert_int_equal(p.proto.inflight_pkts_max, 8192);
	assert_int_equal(p.proto.inflight_frames_max, 65536);
	assert_int_equal(p.proto.inflight_bytes_max, 8388608);
	assert_int_equal(p.proto.ack_every_pkts, 4);
	assert_int_equal(p.proto.ack_delay_us, 200);
	assert_true(p.proto.initial_rtt_ms == 100.0);
	assert_int_equal(p.proto.granularity_us, 100);
	assert_int_equal(p.proto.pto_max_ms, 1000);
	assert_true(p.proto.pace_mbit_s == 0.0);
	assert_int_equal(p.proto.pace_burst_bytes, 65536);
	assert_int_equal(p.proto.hello_interval_ms, 100);
	assert_int_equal(p.proto.ping_interval_ms, 100);
	assert_false(p.wan.enabled);
	assert_int_equal(p.wan.seed, 1);
	assert_true(p.wan.delay_ms == 0.0 && p.wan.loss == 0.0 && p.wan.rate_mbit_s == 0.0);
	assert_true(p.wan.burst_exit == 0.2);
	assert_int_equal(p.wan.queue_pkts, 65536);
	assert_int_equal(p.wan.queue_bytes, 0);
	assert_int_equal(p.load.role, RG_PROFILE_ROLE_NONE);
	assert_int_equal(p.load.peer, 0);
	assert_int_equal(p.load.streams, 64);
	assert_int_equal(p.load.namespaces, 4);
	assert_int_equal(p.load.record_bytes, 1024);
	assert_int_equal(p.load.record_bytes_max, 0);
	assert_true(p.load.rate_records_s == 0.0 && p.load.duration_s == 30.0);
	assert_int_equal(p.load.records_max, 0);
	assert_int_equal(p.load.seed, 1);
	assert_string_equal(p.load.report, "");
	assert_int_equal(p.load.progress_ms, 1000);
	/* No file: the error has no FILE prefix. */
	assert_int_equal(rg_profile_validate(&p, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "gateway.id: required, not set");
}

static void
test_profile_load_good_with_include(void **state)
{
	struct rg_profile p;
	char want[512];

	(void)state;
	load_good(&p);
	/* From base.conf (included). */
	assert_int_equal(p.workers.count, 2);
	assert_int_equal(p.workers.idle, RG_PROFILE_IDLE_PAUSE);
	assert_int_equal(p.proto.rx_window_records, 512);
	assert_true(p.proto.initial_rtt_ms == 50.0);
	assert_true(p.proto.pace_mbit_s == 1000.0);
	assert_true(p.wan.enabled);
	assert_true(p.wan.loss == 0.01);
	assert_int_equal(p.wan.seed, 7000000000LL);
	/* From good.conf. */
	assert_int_equal(p.gateway.id, 1);
	assert_string_equal(p.gateway.region, "A");
	assert_string_equal(p.port.device, "net_memif0,role=server,socket=/run/repgate/demo.sock");
	assert_int_equal(p.port.ip, 0x0a000001);
	assert_memory_equal(p.port.mac, ((uint8_t[6]){ 2, 0, 0, 0, 0, 1 }), 6);
	assert_int_equal(p.port.mtu, 9000);
	assert_int_equal(p.npeers, 2);
	assert_int_equal(p.peers[0].id, 2);
	assert_int_equal(p.peers[0].udp_port, 7000); /* peer defaults */
	assert_int_equal(p.peers[0].lanes, 1);
	assert_int_equal(p.peers[1].ip, 0x0a000003);
	assert_memory_equal(p.peers[1].mac, ((uint8_t[6]){ 2, 0, 0, 0, 0, 0x0a }), 6);
	assert_int_equal(p.peers[1].udp_port, 7001);
	assert_int_equal(p.peers[1].lanes, 2);
	assert_int_equal(p.load.role, RG_PROFILE_ROLE_GENERATOR);
	assert_int_equal(p.load.records_max, 5000000000LL);
	assert_string_equal(p.load.report, "/tmp/repgate-report.json");
	/* Untouched: defaults. */
	assert_int_equal(p.port.udp_port, 7000);
	assert_int_equal(p.proto.streams_max, 4096);
	assert_true(p.wan.burst_exit == 0.2);
	/* Where values came from: files[0] is the profile, base.conf named by its path. */
	assert_int_equal(p.src.nfiles, 2);
	assert_string_equal(p.src.files[0], fixture("good.conf"));
	snprintf(want, sizeof(want), "%s", fixture("base.conf"));
	assert_string_equal(p.src.files[1], want);
	assert_int_equal(p.src.knob[knob("workers.count") - knob("gateway.id")].file, 2);
	assert_int_equal(p.src.knob[knob("workers.count") - knob("gateway.id")].line, 4);
	assert_int_equal(p.src.knob[knob("port.mtu") - knob("gateway.id")].line, 14);
	assert_int_equal(p.src.knob[knob("port.udp_port") - knob("gateway.id")].file, 0);
}

struct error_case {
	const char *file;
	int rc;
	const char *want; /* "@/" is the fixtures dir */
};

/* Loads (and, for validate cases, validates) each file; the message must match exactly. */
static size_t
run_error_cases(const struct error_case *cases, size_t n, bool validate)
{
	size_t checked = 0;

	for (size_t i = 0; i < n; i++) {
		const struct error_case *c = &cases[i];
		char err[ERR_BYTES] = "";
		struct rg_profile p;
		int rc = rg_profile_load(fixture(c->file), &p, err, sizeof(err));

		if (validate) {
			if (rc != 0)
				fail_msg("%s: %s", c->file, err);
			rc = rg_profile_validate(&p, err, sizeof(err));
		}
		if (rc != c->rc || strcmp(err, expected(c->want)) != 0)
			fail_msg("%s: rc %d (want %d)\n  got:  %s\n  want: %s", c->file, rc, c->rc,
				 err, expected(c->want));
		checked++;
	}
	return checked;
}

static void
test_profile_load_errors_cite_file_and_line(void **state)
{
	static const struct error_case cases[] = {
		{ "typo_key.conf", -EINVAL,
		  "@/typo_key.conf:4: port.mtuu: unknown key (did you mean port.mtu?)" },
		{ "negative_rate.conf", -EINVAL,
		  "@/negative_rate.conf:4: load.rate_records_s: out of range 0..1e+09" },
		{ "typo_group.conf", -EINVAL,
		  "@/typo_group.conf:5: portt: unknown key (did you mean port?)" },
		{ "float_for_int.conf", -EINVAL,
		  "@/float_for_int.conf:4: workers.burst: expected an integer, got a float" },
		{ "string_for_int.conf", -EINVAL,
		  "@/string_for_int.conf:3: port.mtu: expected an integer, got a string" },
		{ "mtu_range.conf", -EINVAL,
		  "@/mtu_range.conf:4: port.mtu: out of range 576..9600" },
		{ "bad_ipv4.conf", -EINVAL,
		  "@/bad_ipv4.conf:5: peers.[0].ip: not an IPv4 address (\"10.0.0.256\")" },
		{ "bad_mac.conf", -EINVAL,
		  "@/bad_mac.conf:4: port.mac: not a MAC address (\"02:00:00:00:00:zz\"), want "
		  "xx:xx:xx:xx:xx:xx" },
		{ "bad_enum.conf", -EINVAL,
		  "@/bad_enum.conf:4: workers.idle: \"nap\" is not one of spin|pause|sleep" },
		{ "include_error.conf", -EINVAL,
		  "@/broken_base.conf:4: workers.burst: out of range 1..512" },
		{ "syntax_error.conf", -EINVAL, "@/syntax_error.conf:4: syntax error" },
		{ "include_syntax.conf", -EINVAL, "@/syntax_base.conf:5: syntax error" },
		{ "wrapped_int.conf", -EINVAL,
		  "@/wrapped_int.conf:3: load.records_max: 5000000000 does not fit in 32 bits: "
		  "write 5000000000L" },
		{ "peers_group.conf", -EINVAL,
		  "@/peers_group.conf:2: peers: expected a list of groups, peers = ( { ... }, ... "
		  "), "
		  "got a group" },
		{ "too_many_peers.conf", -EINVAL,
		  "@/too_many_peers.conf:67: peers.[64]: too many peers (at most 64)" },
		{ "nope.conf", -ENOENT, "@/nope.conf: cannot open: No such file or directory" },
		{ "int64_overflow.conf", -EINVAL,
		  "@/int64_overflow.conf:3: load.records_max: 9223372036854775808 does not fit in "
		  "64 "
		  "bits (-9223372036854775808..9223372036854775807)" },
		{ "name_nul.conf", -EINVAL,
		  "@/name_nul.conf:3: gateway.name: contains a NUL (\\x00): strings are printable "
		  "ASCII" },
		{ "name_bytes.conf", -EINVAL,
		  "@/name_bytes.conf:3: gateway.name: byte 0xff at offset 3: strings are printable "
		  "ASCII (space to ~)" },
		{ "at_include_dir.conf", -EINVAL,
		  "@/at_include_dir.conf:2: @include \".\": @/.: a directory, not a regular file" },
		{ "at_include_abs.conf", -EINVAL,
		  "@/at_include_abs.conf:2: @include \"/etc/hostname\": an absolute path "
		  "(libconfig "
		  "opens every @include relative to the profile's directory): write it relative to "
		  "that, or layer with include = \"/etc/hostname\";" },
		{ "include_mem.conf", -EINVAL,
		  "@/include_mem.conf:2: include: /proc/self/mem: cannot read: Input/output "
		  "error" },
		{ "", -EINVAL, "@/: a directory, not a regular file" },
	};

	(void)state;
	assert_int_equal(run_error_cases(cases, RG_ARRAY_SIZE(cases), false), 23);
}

/* A file in TMPDIR (or /tmp) named name, holding text; its path in path. */
static void
tmp_file(const char *name, const char *text, char *path, size_t len)
{
	const char *dir = getenv("TMPDIR");
	FILE *f;

	snprintf(path, len, "%s/rg-test-profile-%d-%s", dir != NULL ? dir : "/tmp", (int)getpid(),
		 name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* n bytes of a comment line (n >= 2, ends in a newline), then tail; the caller frees it. */
static char *
padded(size_t n, const char *tail)
{
	size_t t = strlen(tail);
	char *s = malloc(n + t + 1);

	assert_non_null(s);
	memset(s, 'x', n);
	s[0] = '#';
	s[n - 1] = '\n';
	memcpy(s + n, tail, t + 1);
	return s;
}

/*
 * A FIFO as the profile, or named by @include or include =, is refused at
 * once with FILE:LINE (libconfig's fopen would block until a writer came): an
 * alarm fails the test if the load blocks.
 */
static void
test_profile_fifo_refused(void **state)
{
	static const char *const includers[] = { "@include \"%s\"\n", "include = \"%s\";\n" };
	char fifo[512], top[512], text[600], err[ERR_BYTES], want[1200];
	const char *base;
	struct rg_profile p;

	(void)state;
	tmp_file("fifo", "", fifo, sizeof(fifo));
	assert_int_equal(unlink(fifo), 0);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	base = strrchr(fifo, '/') + 1;
	alarm(20);
	assert_int_equal(rg_profile_load(fifo, &p, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s: a FIFO, not a regular file", fifo);
	assert_string_equal(err, want);
	for (unsigned i = 0; i < RG_ARRAY_SIZE(includers); i++) {
		snprintf(text, sizeof(text), includers[i], base);
		tmp_file("top.conf", text, top, sizeof(top));
		assert_int_equal(rg_profile_load(top, &p, err, sizeof(err)), -EINVAL);
		snprintf(want, sizeof(want),
			 i == 0 ? "%s:1: @include \"%s\": %s: a FIFO, not a regular file"
				: "%s:1: include: %s: a FIFO, not a regular file",
			 top, i == 0 ? base : fifo, fifo);
		assert_string_equal(err, want);
		unlink(top);
	}
	alarm(0);
	unlink(fifo);
}

/*
 * RG_PROFILE_BYTES_MAX over the profile and its includes, RG_PROFILE_SETTINGS_MAX
 * settings: past either, refused with the file (and the include's line); just
 * under, loaded. The alarm bounds the time (4096 settings parse in well under
 * a second; 1 MiB of them took 39 s before the cap).
 */
static void
test_profile_size_capped(void **state)
{
	char top[512], half[512], good[512], err[ERR_BYTES], want[1200], *text;
	struct rg_profile p;
	size_t n = 0;

	(void)state;
	alarm(20);
	text = padded(RG_PROFILE_BYTES_MAX + 1, "");
	tmp_file("big.conf", text, top, sizeof(top));
	free(text);
	assert_int_equal(rg_profile_load(top, &p, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s: too large: a profile and the files it includes hold at most %d bytes in all",
		 top, RG_PROFILE_BYTES_MAX);
	assert_string_equal(err, want);
	unlink(top);

	text = padded(RG_PROFILE_BYTES_MAX / 2 + 1, "");
	tmp_file("half.conf", text, half, sizeof(half));
	free(text);
	snprintf(want, sizeof(want), "@include \"%s\"\n@include \"%s\"\n", strrchr(half, '/') + 1,
		 strrchr(half, '/') + 1);
	tmp_file("top.conf", want, top, sizeof(top));
	assert_int_equal(rg_profile_load(top, &p, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:2: @include \"%s\": %s: too large: ", top,
		 strrchr(half, '/') + 1, half);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("got \"%s\", want \"%s...\"", err, want);
	unlink(half);
	unlink(top);

	text = malloc(16 * (RG_PROFILE_SETTINGS_MAX + 2));
	assert_non_null(text);
	n += (size_t)sprintf(text, "gateway = {\n");
	for (int i = 0; i < RG_PROFILE_SETTINGS_MAX; i++)
		n += (size_t)sprintf(text + n, "k%d = %d;\n", i, i);
	sprintf(text + n, "};\n");
	tmp_file("many.conf", text, top, sizeof(top));
	free(text);
	assert_int_equal(rg_profile_load(top, &p, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s:%d: more than %d settings in one profile (with the files it includes)", top,
		 RG_PROFILE_SETTINGS_MAX + 1, RG_PROFILE_SETTINGS_MAX);
	assert_string_equal(err, want);
	unlink(top);

	/* Just under the byte cap: a good profile after a long comment loads. */
	assert_non_null(
	    realpath(fixture("good.conf"), half)); /* the include is relative to TMPDIR */
	snprintf(want, sizeof(want), "include = \"%s\";\n", half);
	text = padded(RG_PROFILE_BYTES_MAX - 64 * 1024, want);
	tmp_file("good.conf", text, good, sizeof(good));
	free(text);
	if (rg_profile_load(good, &p, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(p.gateway.id, 1);
	unlink(good);
	alarm(0);
}

static void
test_profile_validate_errors_cite_file_and_line(void **state)
{
	static const struct error_case cases[] = {
		{ "no_peer.conf", -EINVAL,
		  "@/no_peer.conf:4: peers: at least one gateway peer is required" },
		{ "unknown_load_peer.conf", -EINVAL,
		  "@/unknown_load_peer.conf:10: load.peer: 9 is not a configured gateway peer" },
		{ "dup_peer.conf", -EINVAL,
		  "@/dup_peer.conf:8: peers.[1].id: 2 is also the id of peers.[0]" },
		/* A required peer field that is absent: the line of its peer's "{". */
		{ "peer_no_ip.conf", -EINVAL,
		  "@/peer_no_ip.conf:6: peers.[1].ip: required, not set" },
		/* A required key that is absent: the profile, no line. */
		{ "missing_required.conf", -EINVAL,
		  "@/missing_required.conf: gateway.id: required, not set" },
	};

	(void)state;
	assert_int_equal(run_error_cases(cases, RG_ARRAY_SIZE(cases), true), 5);
}

struct set_case {
	const char *sets[4];
	const char *want;
};

static void
test_profile_validate_cross_field_rules(void **state)
{
	static const struct set_case cases[] = {
		{ { "load.namespaces=200" },
		  "--set load.namespaces: 200 is more than load.streams (128)" },
		{ { "load.record_bytes_max=100" },
		  "--set load.record_bytes_max: 100 is less than load.record_bytes (256)" },
		{ { "load.peer=0" },
		  "@/good.conf:30: load.peer: required when load.role is \"generator\"" },
		{ { "load.role=consumer", "load.peer=3", "peers.[1].id=4" },
		  "--set load.peer: 3 is not a configured gateway peer" },
		{ { "proto.pkt_bytes_max=9000" },
		  "--set proto.pkt_bytes_max: 9000 does not fit port.mtu 9000 (at most 8972)" },
		{ { "proto.inflight_bytes_max=1000" },
		  "--set proto.inflight_bytes_max: 1000 does not hold one packet (8972 bytes)" },
		{ { "proto.pace_burst_bytes=4096" },
		  "--set proto.pace_burst_bytes: 4096 does not hold one packet (8972 bytes)" },
		{ { "proto.streams_max=1048576" },
		  "@/base.conf:9: proto.rx_window_records: 512 times proto.streams_max (1048576) "
		  "is "
		  "above 2^28" },
		{ { "wan.burst_enter=0.1", "wan.burst_exit=0" },
		  "--set wan.burst_exit: must be above 0 when wan.burst_enter is (else a burst "
		  "never "
		  "ends)" },
		{ { "wan.queue_bytes=250000", "wan.rate_mbit_s=0" },
		  "--set wan.queue_bytes: must be 0 when wan.rate_mbit_s is (nothing waits for an "
		  "unlimited wire)" },
		{ { "security.reject_after_s=120" },
		  "--set security.reject_after_s: 120 is not above security.rekey_after_s (120): "
		  "a session would stop opening before the next one is made" },
		{ { "peers.[1].id=1" }, "--set peers.[1].id: 1 is this gateway's own id" },
		{ { "peers.[1].ip=10.0.0.2", "peers.[1].udp_port=7000" },
		  "--set peers.[1].ip: 10.0.0.2:7000 is also the address of peers.[0]" },
		{ { "peers.[1].ip=10.0.0.1", "peers.[1].udp_port=7000" },
		  "--set peers.[1].ip: 10.0.0.1:7000 is this gateway's own address" },
		{ { "peers.[0].mac=03:00:00:00:00:02" },
		  "--set peers.[0].mac: a multicast address" },
		{ { "port.mac=01:00:5e:00:00:01" }, "--set port.mac: a multicast address" },
		{ { "peers.[2].id=5" }, "--set peers.[2].ip: required, not set" },
		{ { "peers.[2].id=5", "peers.[2].ip=10.9.9.9" },
		  "--set peers.[2].region: required for a gateway peer" },
		{ { "peers.[2].id=5", "peers.[2].ip=10.9.9.9", "peers.[2].region=C",
		    "peers.[2].udp_port=0" },
		  "--set peers.[2].udp_port: 0 (learned) is for clients; a gateway peer needs its "
		  "port" },
		{ { "peers.[2].id=5", "peers.[2].ip=10.9.9.9", "peers.[2].kind=client",
		    "relay.peer=5" },
		  "--set relay.peer: 5 is a client, not a gateway" },
		{ { "relay.peer=77" }, "--set relay.peer: 77 is not a configured peer" },
		{ { "lan.device=net_tap0" }, "--set lan.ip: required when lan.device is set" },
		{ { "peers.[0].kind=client", "peers.[1].kind=client" },
		  "@/good.conf:17: peers: at least one gateway peer is required" },
		{ { "telemetry.metrics_conns_max=8", "telemetry.metrics_conns_per_ip=8" },
		  "--set telemetry.metrics_conns_per_ip: 8 is not less than "
		  "telemetry.metrics_conns_max (8): one address could take every connection" },
	};
	size_t checked = 0;

	(void)state;
	for (size_t i = 0; i < RG_ARRAY_SIZE(cases); i++) {
		const struct set_case *c = &cases[i];
		char err[ERR_BYTES] = "";
		struct rg_profile p;

		load_good(&p);
		for (size_t j = 0; j < RG_ARRAY_SIZE(c->sets) && c->sets[j] != NULL; j++)
			set_ok(&p, c->sets[j]);
		if (rg_profile_validate(&p, err, sizeof(err)) != -EINVAL ||
		    strcmp(err, expected(c->want)) != 0)
			fail_msg("case %zu (%s)\n  got:  %s\n  want: %s", i, c->sets[0], err,
				 expected(c->want));
		checked++;
	}
	assert_int_equal(checked, RG_ARRAY_SIZE(cases));
}

/* Validate checks what code wrote into the struct too, citing where the knob was set. */
static void
test_profile_validate_rechecks_stored_values(void **state)
{
	struct rg_profile p;
	char err[ERR_BYTES];

	(void)state;
	load_good(&p);
	p.port.mtu = 100000;
	assert_int_equal(rg_profile_validate(&p, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, expected("@/good.conf:14: port.mtu: out of range 576..9600"));

	load_good(&p);
	p.workers.idle = (enum rg_profile_idle)7;
	assert_int_equal(rg_profile_validate(&p, err, sizeof(err)), -EINVAL);
	assert_string_equal(
	    err, expected("@/base.conf:5: workers.idle: 7 is not one of spin|pause|sleep"));

	load_good(&p);
	memset(p.gateway.region, 'x', sizeof(p.gateway.region));
	assert_int_equal(rg_profile_validate(&p, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, expected("@/good.conf:6: gateway.region: not NUL-terminated"));

	load_good(&p);
	p.proto.inflight_pkts_max = 1000;
	assert_int_equal(rg_profile_validate(&p, err, sizeof(err)), -EINVAL);
	assert_string_equal(
	    err, expected("@/good.conf: proto.inflight_pkts_max: 1000 is not a power of two"));
}

static void
test_profile_set_overrides(void **state)
{
	struct rg_profile p;
	char err[ERR_BYTES];

	(void)state;
	load_good(&p);
	set_ok(&p, "port.mtu=1500");
	set_ok(&p, " peers.[1].lanes = 4 ");
	set_ok(&p, "workers.idle=spin");
	set_ok(&p, "wan.enabled=false");
	set_ok(&p, "load.report=\"out dir/r=1.json\"");
	set_ok(&p, "proto.inflight_bytes_max=0x10000000");
	set_ok(&p, "load.records_max=5000000000L");
	set_ok(&p, "port.ip=192.168.1.20");
	set_ok(&p, "wan.delay_ms=7");
	set_ok(&p, "peers.[2].id=4");
	assert_int_equal(p.port.mtu, 1500);
	assert_int_equal(p.peers[1].lanes, 4);
	assert_int_equal(p.workers.idle, RG_PROFILE_IDLE_SPIN);
	assert_false(p.wan.enabled);
	assert_string_equal(p.load.report, "out dir/r=1.json");
	assert_int_equal(p.proto.inflight_bytes_max, 0x10000000);
	assert_int_equal(p.load.records_max, 5000000000LL);
	assert_int_equal(p.port.ip, 0xc0a80114);
	assert_true(p.wan.delay_ms == 7.0);
	assert_int_equal(p.npeers, 3);
	assert_int_equal(p.peers[2].id, 4);
	assert_int_equal(p.peers[2].udp_port, 7000);
	assert_int_equal(p.peers[2].lanes, 1);
	assert_int_equal(p.src.knob[knob("port.mtu") - knob("gateway.id")].file,
			 RG_PROFILE_SRC_SET);
	/* The new peer lacks its required fields until they are set too. */
	assert_int_equal(rg_profile_validate(&p, err, sizeof(err)), -EINVAL);
	set_ok(&p, "peers.[2].region=D");
	set_ok(&p, "peers.[2].ip=10.0.0.4");
	set_ok(&p, "peers.[2].mac=02:00:00:00:00:04");
	if (rg_profile_validate(&p, err, sizeof(err)) != 0)
		fail_msg("%s", err);
}

static void
test_profile_set_errors_change_nothing(void **state)
{
	static const struct {
		const char *set, *want;
	} cases[] = {
		{ "port.mtu=99999", "--set port.mtu=99999: out of range 576..9600" },
		{ "port.mtuu=9000", "--set port.mtuu=9000: unknown key (did you mean port.mtu?)" },
		{ "prot.mtu=9000", "--set prot.mtu=9000: unknown key (did you mean port.mtu?)" },
		{ "port.mtu=abc", "--set port.mtu=abc: expected an integer" },
		{ "port.mtu=", "--set port.mtu=: expected an integer" },
		{ "port.mtu", "--set port.mtu: expected path=value" },
		{ "workers.idle=nap",
		  "--set workers.idle=nap: \"nap\" is not one of spin|pause|sleep" },
		{ "wan.enabled=yes", "--set wan.enabled=yes: expected true or false" },
		{ "wan.loss=1.5", "--set wan.loss=1.5: out of range 0..1" },
		{ "wan.loss=nan", "--set wan.loss=nan: out of range 0..1" },
		{ "proto.rx_window_records=300",
		  "--set proto.rx_window_records=300: 300 is not a power of two" },
		{ "proto.pkt_bytes_max=100",
		  "--set proto.pkt_bytes_max=100: out of range 0 or 256..9000" },
		{ "gateway.region=0123456789012345678901234567890123456789",
		  "--set gateway.region=0123456789012345678901234567890123456789: longer than 31 "
		  "characters" },
		{ "gateway.region=", "--set gateway.region=: must not be empty" },
		{ "port.ip=10.0.0", "--set port.ip=10.0.0: not an IPv4 address (\"10.0.0\")" },
		{ "peers.[5].id=7",
		  "--set peers.[5].id=7: no peers.[5]: 2 configured, peers.[2] adds one" },
		{ "peers.[2].ip=1.2.3",
		  "--set peers.[2].ip=1.2.3: not an IPv4 address (\"1.2.3\")" },
		{ "peers.[x].id=7", "--set peers.[x].id=7: expected peers.[N].key" },
		{ "peers.[0].lanse=2",
		  "--set peers.[0].lanse=2: unknown key (did you mean peers.[].lanes?)" },
	};
	struct rg_profile p, before;
	size_t checked = 0;

	(void)state;
	load_good(&p);
	before = p;
	for (size_t i = 0; i < RG_ARRAY_SIZE(cases); i++) {
		char err[ERR_BYTES] = "";
		int rc = rg_profile_set(&p, cases[i].set, err, sizeof(err));

		if (rc != -EINVAL || strcmp(err, cases[i].want) != 0)
			fail_msg("%s: rc %d\n  got:  %s\n  want: %s", cases[i].set, rc, err,
				 cases[i].want);
		assert_memory_equal(&p, &before, sizeof(p));
		checked++;
	}
	assert_int_equal(checked, RG_ARRAY_SIZE(cases));
}

/* Every knob's field, top level and each peer; returns how many it compared. */
static size_t
assert_same_values(const struct rg_profile *a, const struct rg_profile *b)
{
	const struct rg_profile_knob *t;
	size_t n = rg_profile_knobs(&t), compared = 0;

	assert_int_equal(a->npeers, b->npeers);
	for (size_t i = 0; i < n; i++) {
		const struct rg_profile_knob *k = &t[i];
		uint32_t copies = k->scope == RG_PROFILE_SCOPE_TOP ? 1 : a->npeers;

		for (uint32_t j = 0; j < copies; j++) {
			const char *fa = (const char *)a + k->offset,
				   *fb = (const char *)b + k->offset;

			if (k->scope == RG_PROFILE_SCOPE_PEER) {
				fa = (const char *)&a->peers[j] + k->offset;
				fb = (const char *)&b->peers[j] + k->offset;
			}
			if (memcmp(fa, fb, k->size) != 0)
				fail_msg("%s (peer %u) differs after the round trip", k->path, j);
			compared++;
		}
	}
	return compared;
}

static void
test_profile_dump_round_trip(void **state)
{
	struct rg_profile p, q;
	char err[ERR_BYTES], path[256], text[16384];
	const char *dir = getenv("TMPDIR");
	FILE *f;
	size_t len;
	int fd, rc;

	(void)state;
	load_good(&p);
	set_ok(&p, "gateway.name=we \"quote\" \\ and # not a comment");
	set_ok(&p, "port.mtu=1500");
	set_ok(&p, "port.mac=");
	set_ok(&p, "proto.initial_rtt_ms=0.1");
	set_ok(&p, "wan.loss=0.33333333333333331");
	set_ok(&p, "wan.jitter_ms=1e-3");
	set_ok(&p, "load.seed=9223372036854775807");
	set_ok(&p, "load.role=consumer");
	set_ok(&p, "peers.[2].id=4");
	set_ok(&p, "peers.[2].region=D");
	set_ok(&p, "peers.[2].ip=255.255.255.254");
	set_ok(&p, "peers.[2].mac=02:ff:00:00:00:04");
	if (rg_profile_validate(&p, err, sizeof(err)) != 0)
		fail_msg("%s", err);

	snprintf(path, sizeof(path), "%s/rg_profile_dump_XXXXXX", dir != NULL ? dir : "/tmp");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w+");
	assert_non_null(f);
	rg_profile_dump(&p, f);
	rewind(f);
	len = fread(text, 1, sizeof(text) - 1, f);
	text[len] = '\0';
	fclose(f);
	rc = rg_profile_load(path, &q, err, sizeof(err));
	unlink(path);
	if (rc != 0)
		fail_msg("%s\n%s", err, text);
	assert_int_equal(assert_same_values(&p, &q), KNOBS_TOP + 3 * 8);
	if (rg_profile_validate(&q, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	/* The dump says where each value came from. */
	assert_non_null(strstr(text, "\tmtu = 1500; # --set\n"));
	assert_non_null(strstr(text, "\tcount = 2; # "));
	assert_non_null(strstr(text, "base.conf:4\n"));
	assert_non_null(strstr(text, "\tseed = 9223372036854775807L; # --set\n"));
}

static void
test_profile_dump_of_defaults_loads(void **state)
{
	struct rg_profile p, q;
	char err[ERR_BYTES], path[256];
	const char *dir = getenv("TMPDIR");
	FILE *f;
	int fd, rc;

	(void)state;
	rg_profile_default(&p); /* required keys unset: dumped as comments */
	snprintf(path, sizeof(path), "%s/rg_profile_dump_XXXXXX", dir != NULL ? dir : "/tmp");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	rg_profile_dump(&p, f);
	fclose(f);
	rc = rg_profile_load(path, &q, err, sizeof(err));
	unlink(path);
	if (rc != 0)
		fail_msg("%s", err);
	assert_int_equal(assert_same_values(&p, &q), KNOBS_TOP);
}

static uint64_t
zero_rng(void *ctx)
{
	(void)ctx;
	return 0;
}

static void
test_profile_core_config_conversions(void **state)
{
	struct rg_core_config cfg, def;
	struct rg_profile p;
	char err[ERR_BYTES];

	(void)state;
	load_good(&p);
	rg_profile_core_config(&p, &cfg);
	assert_int_equal(cfg.gateway_id, 1);
	assert_int_equal(cfg.peers_max, 2);
	assert_int_equal(cfg.lanes_max, 3);
	assert_int_equal(cfg.streams_max, 4096);
	assert_int_equal(cfg.tx_records_max, 65536);
	assert_int_equal(cfg.tx_stream_records_max, 1024);
	assert_int_equal(cfg.rx_window_records, 512);
	assert_int_equal(cfg.rx_frags_max, 65536);
	assert_int_equal(cfg.pkt_bytes_max, 9000 - 28);
	assert_int_equal(cfg.inflight_pkts_max, 8192);
	assert_int_equal(cfg.inflight_frames_max, 65536);
	assert_int_equal(cfg.inflight_bytes_max, 8388608);
	assert_int_equal(cfg.ack_every_pkts, 4);
	assert_int_equal(cfg.ack_delay_ns_max, 250000);
	assert_int_equal(cfg.initial_rtt_ns, 50000000);
	assert_int_equal(cfg.granularity_ns, 100000);
	assert_int_equal(cfg.pto_ns_max, 1000000000);
	assert_int_equal(cfg.pace_rate_bytes_per_s, 125000000); /* 1000 Mbit/s */
	assert_int_equal(cfg.pace_burst_bytes, 65536);
	assert_int_equal(cfg.pacing, RG_PACING_FIXED);
	assert_int_equal(cfg.hello_interval_ns, 100000000);
	assert_int_equal(cfg.ping_interval_ns, 100000000);
	assert_int_equal(cfg.ses.rekey_after_ns, 120 * RG_NS_PER_S);
	assert_int_equal(cfg.ses.rekey_after_bytes, 64ull << 30);
	assert_int_equal(cfg.ses.reject_after_ns, 180 * RG_NS_PER_S);
	rg_core_config_default(&def); /* pn_start_max is not a profile knob: the default */
	assert_int_equal(cfg.pn_start_max, def.pn_start_max);
	cfg.incarnation = 1;
	cfg.rng.next = zero_rng;
	if (rg_core_config_check(&cfg, err, sizeof(err)) != 0)
		fail_msg("%s", err);

	set_ok(&p, "proto.initial_rtt_ms=12.5");
	set_ok(&p, "proto.pace_mbit_s=0.008");
	set_ok(&p, "proto.ack_delay_us=0");
	set_ok(&p, "proto.pto_max_ms=60000");
	set_ok(&p, "proto.pacing=adaptive");
	set_ok(&p, "security.rekey_after_s=5");
	set_ok(&p, "security.rekey_after_mib=3");
	set_ok(&p, "security.reject_after_s=6");
	rg_profile_core_config(&p, &cfg);
	assert_int_equal(cfg.ses.rekey_after_ns, 5 * RG_NS_PER_S);
	assert_int_equal(cfg.ses.rekey_after_bytes, 3u << 20);
	assert_int_equal(cfg.ses.reject_after_ns, 6 * RG_NS_PER_S);
	assert_int_equal(cfg.initial_rtt_ns, 12500000);
	assert_int_equal(cfg.pace_rate_bytes_per_s, 1000);
	assert_int_equal(cfg.ack_delay_ns_max, 0);
	assert_int_equal(cfg.pto_ns_max, 60000000000ull);
	assert_int_equal(cfg.pacing, RG_PACING_ADAPTIVE);
}

static void
test_profile_core_config_pkt_bytes_from_mtu(void **state)
{
	static const struct {
		const char *mtu, *pkt;
		uint32_t want;
	} cases[] = {
		{ "port.mtu=1500", "proto.pkt_bytes_max=0", 1472 },
		{ "port.mtu=576", "proto.pkt_bytes_max=0", 548 },
		{ "port.mtu=9000", "proto.pkt_bytes_max=0", 8972 },
		{ "port.mtu=9600", "proto.pkt_bytes_max=0", 9000 }, /* at most RG_PKT_BYTES_MAX */
		{ "port.mtu=9000", "proto.pkt_bytes_max=1200", 1200 },
	};
	struct rg_core_config cfg;
	struct rg_profile p;
	char err[ERR_BYTES];
	size_t checked = 0;

	(void)state;
	for (size_t i = 0; i < RG_ARRAY_SIZE(cases); i++) {
		load_good(&p);
		set_ok(&p, cases[i].mtu);
		set_ok(&p, cases[i].pkt);
		if (rg_profile_validate(&p, err, sizeof(err)) != 0)
			fail_msg("%s", err);
		rg_profile_core_config(&p, &cfg);
		assert_int_equal(cfg.pkt_bytes_max, cases[i].want);
		checked++;
	}
	assert_int_equal(checked, RG_ARRAY_SIZE(cases));
}

/* Layering: include loads the base first; this file's keys override; peers are replaced whole. */
static void
test_profile_include_overrides_and_inherits(void **state)
{
	struct rg_profile p;
	char err[512] = "", path[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/layer_top.conf", fixtures);
	assert_int_equal(rg_profile_load(path, &p, err, sizeof(err)), 0);
	assert_int_equal(p.port.mtu, 1500);      /* overridden */
	assert_int_equal(p.port.udp_port, 7100); /* inherited */
	assert_int_equal(p.workers.burst, 64);   /* inherited group */
	assert_int_equal(p.npeers, 1);           /* replaced, not appended */
	assert_int_equal(p.peers[0].id, 4);
	assert_int_equal(rg_profile_validate(&p, err, sizeof(err)), 0);
}

static void
test_profile_include_errors(void **state)
{
	static const struct {
		const char *file, *want;
	} rows[] = {
		{ "layer_missing.conf", "layer_missing.conf:3: include: " },
		{ "layer_cycle.conf", "layer_cycle.conf:2: include: nested more than 8 deep" },
		{ "layer_bad.conf", "layer_bad.conf:2: include: expected a file name" },
	};
	unsigned checked = 0;

	(void)state;
	for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++, checked++) {
		struct rg_profile p;
		char err[512] = "", path[512];

		snprintf(path, sizeof(path), "%s/%s", fixtures, rows[i].file);
		assert_int_not_equal(rg_profile_load(path, &p, err, sizeof(err)), 0);
		if (strstr(err, rows[i].want) == NULL)
			fail_msg("%s: got \"%s\", want \"%s\"", rows[i].file, err, rows[i].want);
	}
	assert_int_equal(checked, 3);
}

/* security.mode = "aead": the key file, its mode, and every peer's public key, with FILE:LINE. */
static void
test_profile_security_keys(void **state)
{
	char dir[] = "/tmp/rg-prof-keys-XXXXXX", key[128], prof[160], text[512], err[512];
	char a[256], b64[RG_KEY_B64_CHARS + 1];
	uint8_t priv[RG_KEY_BYTES], pub[RG_KEY_BYTES];
	struct rg_profile p;
	FILE *f;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(key, sizeof(key), "%s/gw.key", dir);
	assert_int_equal(rg_key_generate(priv), 0);
	assert_int_equal(rg_key_public(priv, pub), 0);
	rg_key_to_b64(priv, b64);
	fd = open(key, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, b64, strlen(b64)), (ssize_t)strlen(b64));
	close(fd);
	/* A profile that asks for aead and names a key others can read: FILE:LINE of the key. */
	snprintf(prof, sizeof(prof), "%s/p.conf", dir);
	f = fopen(prof, "w");
	assert_non_null(f);
	fprintf(
	    f,
	    "include = \"%s/good.conf\";\nsecurity: {\n  mode = \"aead\";\n  key = \"%s\";\n};\n",
	    realpath(fixtures, text), key);
	fclose(f);
	assert_int_equal(rg_profile_load(prof, &p, err, sizeof(err)), 0);
	assert_int_equal(rg_profile_validate(&p, err, sizeof(err)), -EINVAL);
	snprintf(text, sizeof(text), "%s:4: security.key: %s: mode 0644", prof, key);
	if (strstr(err, text) == NULL)
		fail_msg("got: %s\nwant: %s...", err, text);
	/* 0600: the peers' public keys are next. */
	assert_int_equal(chmod(key, 0600), 0);
	assert_int_equal(rg_profile_validate(&p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "peers.[0].pubkey: required"));
	set_ok(&p, "peers.[0].pubkey=not-a-key");
	assert_int_equal(rg_profile_validate(&p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--set peers.[0].pubkey: not a public key"));
	rg_key_to_b64(pub, b64);
	for (uint32_t i = 0; i < p.npeers; i++) {
		snprintf(a, sizeof(a), "peers.[%u].pubkey=%s", i, b64);
		set_ok(&p, a);
	}
	if (rg_profile_validate(&p, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	/* No key at all: said, with how to make one. */
	set_ok(&p, "security.key=");
	assert_int_equal(rg_profile_validate(&p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "security.key: required with security.mode = \"aead\""));
	/* Plaintext must be said: then no key is needed. */
	set_ok(&p, "security.mode=none");
	assert_int_equal(rg_profile_validate(&p, err, sizeof(err)), 0);
	unlink(key);
	unlink(prof);
	rmdir(dir);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profile_include_overrides_and_inherits),
		cmocka_unit_test(test_profile_security_keys),
		cmocka_unit_test(test_profile_include_errors),
		cmocka_unit_test(test_profile_table_well_formed),
		cmocka_unit_test(test_profile_defaults_filled),
		cmocka_unit_test(test_profile_load_good_with_include),
		cmocka_unit_test(test_profile_load_errors_cite_file_and_line),
		cmocka_unit_test(test_profile_fifo_refused),
		cmocka_unit_test(test_profile_size_capped),
		cmocka_unit_test(test_profile_validate_errors_cite_file_and_line),
		cmocka_unit_test(test_profile_validate_cross_field_rules),
		cmocka_unit_test(test_profile_validate_rechecks_stored_values),
		cmocka_unit_test(test_profile_set_overrides),
		cmocka_unit_test(test_profile_set_errors_change_nothing),
		cmocka_unit_test(test_profile_dump_round_trip),
		cmocka_unit_test(test_profile_dump_of_defaults_loads),
		cmocka_unit_test(test_profile_core_config_conversions),
		cmocka_unit_test(test_profile_core_config_pkt_bytes_from_mtu),
	};

	if (argc > 1)
		fixtures = argv[1];
	else if (getenv("RG_PROFILE_FIXTURES") != NULL)
		fixtures = getenv("RG_PROFILE_FIXTURES");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
