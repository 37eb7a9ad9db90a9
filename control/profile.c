/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Config profiles over libconfig (profile.h): one knob table, generic code over it.
 *
 * Every value reaches its field the same way, whatever its origin:
 *
 *   file setting ── value_of() ───┐
 *   --set text ──── text_value() ─┼─▶ convert() ─▶ commit()
 *   table default ─ text_value() ─┘   type, parse,   field and src
 *                                     range
 *
 * rg_profile_validate() checks stored values again with check_stored(), which
 * shares the range functions (check_int, check_float, check_len) with
 * convert(), then applies the cross-field rules (check_peers, check_load,
 * check_sizes). Nothing here allocates memory that outlives a call; libconfig's
 * tree is destroyed before rg_profile_load() returns.
 */
#include "keys.h"
#include "profile.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "core.h"
#include "wire.h"

#define PATH_CHARS     80   /* longest dotted path we build: "peers.[15].udp_port" and typos */
#define MSG_BYTES      320  /* one "what is wrong" */
#define TEXT_BYTES     1024 /* longest --set value */
#define IP_UDP_BYTES   28   /* IPv4 and UDP headers: pkt_bytes_max 0 is port.mtu less these */
#define PEER_PREFIX    "peers.[]."
#define BYTES_PER_MBIT 125000.0
#define RG_STR_(x)     #x
#define RG_STR(x)      RG_STR_(x)

#define REQ     RG_PROFILE_F_REQUIRED
#define POW2    RG_PROFILE_F_POW2
#define ZERO_OK RG_PROFILE_F_ZERO_OK

/* The bytes a type takes in the struct; 0: a char array of any size. */
#define TSIZE_INT    sizeof(int32_t)
#define TSIZE_INT64  sizeof(int64_t)
#define TSIZE_FLOAT  sizeof(double)
#define TSIZE_BOOL   sizeof(bool)
#define TSIZE_STRING 0
#define TSIZE_ENUM   sizeof(int)
#define TSIZE_IPV4   sizeof(uint32_t)
#define TSIZE_MAC    6

#define SCOPE_STRUCT_TOP  struct rg_profile
#define SCOPE_STRUCT_PEER struct rg_profile_peer
#define SCOPE_PREFIX_TOP  ""
#define SCOPE_PREFIX_PEER PEER_PREFIX
#define FIELD_SIZE(S, f)  sizeof(((SCOPE_STRUCT_##S *)0)->f)

/* 0, or a compile error when cond is false: each row is checked against its field. */
#define ZERO_UNLESS(cond) (sizeof(char[(cond) ? 1 : -1]) - 1)
/* A string field holds max characters and the NUL (and fits union storage); others match. */
#define FIELD_FITS(S, f, t, hi)                                                             \
	(TSIZE_##t == 0                                                                     \
	     ? FIELD_SIZE(S, f) > (size_t)(hi) && FIELD_SIZE(S, f) <= RG_PROFILE_PATH_BYTES \
	     : FIELD_SIZE(S, f) == TSIZE_##t)

#define KNOB(S, f, t, fl, d, lo, hi, ch, u, doc_)                                                  \
	{                                                                                          \
		.path = SCOPE_PREFIX_##S #f, .type = RG_PROFILE_T_##t,                             \
		.scope = RG_PROFILE_SCOPE_##S, .flags = (fl), .def = (d), .min = (int64_t)(lo),    \
		.max = (int64_t)(hi), .fmin = (double)(lo), .fmax = (double)(hi), .choices = (ch), \
		.unit = (u), .doc = (doc_), .offset = offsetof(SCOPE_STRUCT_##S, f),               \
		.size = FIELD_SIZE(S, f) + ZERO_UNLESS(FIELD_FITS(S, f, t, hi)),                   \
	}
#define K_INT(S, f, d, lo, hi, fl, u, doc)   KNOB(S, f, INT, fl, d, lo, hi, NULL, u, doc)
#define K_INT64(S, f, d, lo, hi, fl, u, doc) KNOB(S, f, INT64, fl, d, lo, hi, NULL, u, doc)
#define K_FLOAT(S, f, d, lo, hi, u, doc)     KNOB(S, f, FLOAT, 0, d, lo, hi, NULL, u, doc)
#define K_STR(S, f, d, lo, hi, fl, doc)      KNOB(S, f, STRING, fl, d, lo, hi, NULL, "", doc)
#define K_BOOL(S, f, d, doc)                 KNOB(S, f, BOOL, 0, d, 0, 1, NULL, "", doc)
#define K_ENUM(S, f, d, ch, doc)             KNOB(S, f, ENUM, 0, d, 0, 0, ch, "", doc)
#define K_IPV4(S, f, d, fl, doc)             KNOB(S, f, IPV4, fl, d, 0, 0, NULL, "", doc)
#define K_MAC(S, f, d, fl, doc)              KNOB(S, f, MAC, fl, d, 0, 0, NULL, "", doc)

/*
 * Every knob. Columns: field (its path), default (as --set takes it; NULL:
 * required), range (STRING: length), flags, unit, doc. Top-level knobs first,
 * grouped as rg_profile_dump() prints them; then the peer knobs.
 */
static const struct rg_profile_knob knobs[] = {
	K_INT(TOP, gateway.id, NULL, 1, 65534, REQ, "",
	      "this gateway's id, unique over all regions"),
	K_STR(TOP, gateway.region, NULL, 1, 31, REQ, "the region this gateway serves"),
	K_STR(TOP, gateway.name, "", 0, 63, 0, "a name for logs and telemetry"),

	K_STR(TOP, port.device, NULL, 1, 255, REQ,
	      "DPDK device string, e.g. net_memif0,role=server,socket=/run/repgate/demo.sock"),
	K_IPV4(TOP, port.ip, NULL, REQ, "this gateway's IPv4 address on the port"),
	K_MAC(TOP, port.mac, "", 0, "source MAC address; \"\" = the port's own"),
	K_INT(TOP, port.udp_port, "7000", 1, 65535, 0, "",
	      "UDP port RGP is received on and sent from"),
	K_INT(TOP, port.mtu, "1500", 576, 9600, 0, "bytes", "largest IP packet on the link"),
	K_INT(TOP, port.rx_desc, "1024", 64, 16384, 0, "descriptors", "RX ring size of each queue"),
	K_INT(TOP, port.tx_desc, "1024", 64, 16384, 0, "descriptors", "TX ring size of each queue"),
	K_INT(TOP, port.mbufs, "32767", 1024, 1048575, 0, "mbufs",
	      "packet buffers the port receives into"),
	K_INT(TOP, port.tx_mbufs, "16383", 1024, 1048575, 0, "mbufs",
	      "packet buffers the workers build packets in, for every port"),
	K_INT(TOP, port.mbuf_cache, "256", 0, 512, 0, "mbufs", "per-lcore cache of the pool"),
	K_INT(TOP, port.numa_node, "-1", -1, 63, 0, "node",
	      "the port's NUMA node, for the placement warning; -1: ask DPDK (a vdev has none)"),
	K_INT(TOP, port.prefix_len, "24", 0, 32, 0, "bits",
	      "the on-link subnet of port.ip: next hops in it are resolved by ARP directly"),
	K_IPV4(TOP, port.router, "0.0.0.0", 0,
	       "next hop for peers off the subnet; 0.0.0.0 = none (they must be on it)"),

	K_STR(TOP, lan.device, "", 0, 255, 0,
	      "a second port for clients (DPDK device string); \"\" = clients use port"),
	K_IPV4(TOP, lan.ip, "0.0.0.0", 0, "this gateway's IPv4 address on the LAN port"),
	K_MAC(TOP, lan.mac, "", 0, "source MAC address on the LAN port; \"\" = its own"),
	K_INT(TOP, lan.udp_port, "7000", 1, 65535, 0, "", "UDP port clients send RGP to"),
	K_INT(TOP, lan.mtu, "1500", 576, 9600, 0, "bytes",
	      "largest IP packet on the LAN; must carry proto.pkt_bytes_max + 28"),
	K_INT(TOP, lan.mbufs, "8191", 1024, 1048575, 0, "mbufs",
	      "packet buffers the LAN port receives into"),
	K_INT(TOP, lan.prefix_len, "24", 0, 32, 0, "bits", "the on-link subnet of lan.ip"),
	K_IPV4(TOP, lan.router, "0.0.0.0", 0,
	       "next hop for clients off the LAN subnet; 0.0.0.0 = none"),

	K_INT(TOP, arp.retry_ms, "1000", 1, 3600000, 0, "ms",
	      "between ARP requests for a next hop not resolved yet"),
	K_INT(TOP, arp.retries, "3", 1, 255, 0, "requests",
	      "unanswered requests before a next hop is FAILED (counted)"),
	K_INT(TOP, arp.reachable_s, "30", 1, 3600, 0, "s",
	      "a resolved next hop is trusted this long, then refreshed"),
	K_INT(TOP, arp.failed_hold_ms, "5000", 0, 3600000, 0, "ms",
	      "a FAILED next hop is asked for again after this"),

	K_INT(TOP, relay.peer, "0", 0, 65534, 0, "",
	      "the gateway peer that producer clients' streams go to; 0 = the first gateway peer"),
	K_INT(TOP, relay.streams_max, "1024", 1, 1 << 20, 0, "streams",
	      "relayed streams of one worker (each a receive and a send stream of its core)"),
	K_INT(TOP, relay.subs_max, "256", 1, 1 << 16, 0, "subscriptions",
	      "consumer subscriptions one worker keeps"),
	K_INT64(TOP, relay.asm_bytes_max, "67108864", 1 << 20, 1LL << 40, 0, "bytes",
		"memory one worker uses to put together records that arrive in fragments"),

	K_INT(TOP, workers.count, "1", 1, 64, 0, "lcores", "worker lcores"),
	K_INT(TOP, workers.burst, "32", 1, 512, 0, "pkts", "RX and TX burst size"),
	K_ENUM(TOP, workers.idle, "sleep", "spin|pause|sleep",
	       "what a worker does after idle_polls empty polls"),
	K_INT(TOP, workers.idle_polls, "256", 1, 1000000, 0, "polls",
	      "empty polls before the idle policy starts"),
	K_INT(TOP, workers.sleep_us, "50", 1, 100000, 0, "us", "one idle sleep (idle = sleep)"),

	K_INT(TOP, proto.streams_max, "4096", 1, 1 << 24, 0, "streams",
	      "send and receive streams of one core"),
	K_INT(TOP, proto.tx_records_max, "65536", 1, 1 << 24, 0, "records",
	      "queued records over all send streams of one core"),
	K_INT(TOP, proto.tx_stream_records_max, "1024", 1, 1 << 24, 0, "records",
	      "one send stream's queue: publishing past it gets -EAGAIN"),
	K_INT(TOP, proto.rx_window_records, "256", 2, 65536, POW2, "records",
	      "reorder window, and so credit, of each receive stream (a power of two)"),
	K_INT(TOP, proto.rx_frags_max, "65536", 1, 1 << 24, 0, "frags",
	      "buffered out-of-order fragments over all streams of one core"),
	K_INT(TOP, proto.pkt_bytes_max, "0", 256, RG_PKT_BYTES_MAX, ZERO_OK, "bytes",
	      "largest UDP payload built; 0 = port.mtu - 28"),
	K_INT(TOP, proto.inflight_pkts_max, "8192", 1, 1 << 24, POW2, "pkts",
	      "unacked packets per lane (a power of two)"),
	K_INT(TOP, proto.inflight_frames_max, "65536", 1, 1 << 24, POW2, "frames",
	      "unacked frames per lane (a power of two)"),
	K_INT64(TOP, proto.inflight_bytes_max, "8388608", 256, 1LL << 40, 0, "bytes",
		"unacked bytes per lane"),
	K_INT(TOP, proto.ack_every_pkts, "4", 1, 1024, 0, "pkts",
	      "ack after this many ack-eliciting packets"),
	K_INT(TOP, proto.ack_delay_us, "200", 0, 1000000, 0, "us",
	      "... or this long after the first of them"),
	K_FLOAT(TOP, proto.initial_rtt_ms, "100", 0.001, 60000, "ms",
		"RTT assumed before the first sample"),
	K_INT(TOP, proto.granularity_us, "100", 1, 1000000, 0, "us",
	      "timer granularity of loss detection"),
	K_INT(TOP, proto.pto_max_ms, "1000", 1, 600000, 0, "ms", "cap on the probe timeout"),
	K_FLOAT(TOP, proto.pace_mbit_s, "0", 0, 1e6, "Mbit/s",
		"pacing rate of each lane; 0 = unpaced"),
	K_INT(TOP, proto.pace_burst_bytes, "65536", 1, 1 << 30, 0, "bytes", "pacing bucket depth"),
	K_ENUM(TOP, proto.pacing, "fixed", "fixed|adaptive",
	       "fixed: pace at pace_mbit_s; adaptive: BBR-like, pace_mbit_s caps it (0 = no cap)"),
	K_INT(TOP, proto.hello_interval_ms, "100", 1, 60000, 0, "ms",
	      "HELLO period while a peer's incarnation is unknown"),
	K_INT(TOP, proto.ping_interval_ms, "100", 1, 60000, 0, "ms",
	      "PING period on an idle lane (heartbeat)"),

	K_INT(TOP, membership.period_ms, "10", 1, 10000, 0, "ms",
	      "the control thread's period: how often it reads the workers and judges peers"),
	K_FLOAT(TOP, membership.suspect_phi, "5", 0.1, 100, "phi",
		"suspicion at which a peer becomes SUSPECT (logged, counted; nothing moves)"),
	K_FLOAT(TOP, membership.dead_phi, "12", 0.2, 200, "phi",
		"suspicion at which a peer becomes DEAD: its streams fail over within its region"),
	K_INT(TOP, membership.min_stddev_ms, "10", 1, 60000, 0, "ms",
	      "floor of the heartbeat intervals' deviation the detector assumes"),
	K_INT(TOP, membership.acceptable_pause_ms, "300", 0, 600000, 0, "ms",
	      "silence that is normal (a lane going idle waits ping_interval_ms): added to the "
	      "mean interval; at least proto.ping_interval_ms"),
	K_INT(TOP, membership.dead_after_ms, "10000", 1, 3600000, 0, "ms",
	      "a peer silent this long is DEAD whatever phi says (also one never heard from)"),

	K_BOOL(TOP, wan.enabled, "false", "pass traffic through the WAN emulator shim"),
	K_INT64(TOP, wan.seed, "1", 0, INT64_MAX, 0, "", "the emulator's random seed"),
	K_FLOAT(TOP, wan.delay_ms, "0", 0, 10000, "ms", "one-way delay added to each packet"),
	K_FLOAT(TOP, wan.jitter_ms, "0", 0, 10000, "ms", "uniform jitter added to the delay"),
	K_FLOAT(TOP, wan.loss, "0", 0, 1, "probability", "random loss of each packet"),
	K_FLOAT(TOP, wan.burst_enter, "0", 0, 1, "probability",
		"each packet: enter the burst-loss state (Gilbert-Elliott)"),
	K_FLOAT(TOP, wan.burst_exit, "0.2", 0, 1, "probability",
		"each packet: leave the burst-loss state"),
	K_FLOAT(TOP, wan.burst_loss, "0", 0, 1, "probability",
		"loss of each packet in the burst state"),
	K_FLOAT(TOP, wan.dup, "0", 0, 1, "probability", "duplicate a packet"),
	K_FLOAT(TOP, wan.reorder, "0", 0, 1, "probability", "hold a packet back by reorder_ms"),
	K_FLOAT(TOP, wan.reorder_ms, "0", 0, 10000, "ms", "extra delay of a reordered packet"),
	K_FLOAT(TOP, wan.corrupt, "0", 0, 1, "probability", "flip a bit of a packet"),
	K_FLOAT(TOP, wan.rate_mbit_s, "0", 0, 1e6, "Mbit/s", "link rate; 0 = unlimited"),
	K_INT(TOP, wan.queue_pkts, "65536", 1, 4194304, 0, "pkts",
	      "emulator queue; packets past it are dropped"),
	K_INT64(TOP, wan.queue_bytes, "0", 0, 1LL << 36, 0, "bytes",
		"drop-tail buffer ahead of the rate-limited wire; 0 = none (needs rate_mbit_s)"),

	K_ENUM(TOP, load.role, "none", "none|generator|consumer",
	       "what the built-in load tool does"),
	K_INT(TOP, load.peer, "0", 0, 65534, 0, "",
	      "peer gateway id the generator sends to / the consumer receives from"),
	K_INT(TOP, load.streams, "64", 1, 65536, 0, "streams", "streams the generator writes"),
	K_INT(TOP, load.namespaces, "4", 1, 65536, 0, "namespaces",
	      "namespaces the streams are spread over (at most load.streams)"),
	K_INT(TOP, load.record_bytes, "1024", 0, 1 << 20, 0, "bytes",
	      "record size (the smallest one when record_bytes_max is set)"),
	K_INT(TOP, load.record_bytes_max, "0", 0, 1 << 20, 0, "bytes",
	      "0 = fixed size; else sizes uniform in [record_bytes, record_bytes_max]"),
	K_INT(TOP, load.flood_namespaces, "0", 0, 1 << 20, 0, "",
	      "generator: the first N namespaces publish as fast as backpressure allows (a noisy "
	      "neighbour); the others share rate_records_s"),
	K_INT(TOP, load.priority_namespaces, "0", 0, 1 << 20, 0, "",
	      "generator: the last N namespaces' streams are priority class CONTROL (failover, "
	      "metadata): lanes send their data before the BULK class's"),
	K_FLOAT(TOP, load.rate_records_s, "0", 0, 1e9, "records/s",
		"0 = as fast as backpressure allows"),
	K_FLOAT(TOP, load.duration_s, "30", 0, 86400, "s",
		"the generator stops making records after this long"),
	K_INT64(TOP, load.records_max, "0", 0, INT64_MAX, 0, "records",
		"the generator stops after this many; 0 = unlimited"),
	K_INT64(TOP, load.seed, "1", 0, INT64_MAX, 0, "", "the generator's random seed"),
	K_STR(TOP, load.state_file, "", 0, 255, 0,
	      "consumer: file keeping per-stream applied watermarks across restarts"),
	K_STR(TOP, load.report, "", 0, 255, 0,
	      "path of the final JSON verdict; \"\" = stdout only"),
	K_INT(TOP, load.progress_ms, "1000", 0, 3600000, 0, "ms", "progress line period; 0 = none"),
	K_INT(TOP, telemetry.metrics_port, "0", 0, 65535, 0, "",
	      "TCP port of the Prometheus metrics (GET /metrics); 0 = off"),
	K_IPV4(TOP, telemetry.metrics_addr, "127.0.0.1", 0, "address the metrics port binds to"),
	K_INT(TOP, telemetry.metrics_conns_max, "32", 2, 1024, 0, "connections",
	      "HTTP connections the metrics server holds at once; past it one is closed at once"),
	K_INT(TOP, telemetry.metrics_conns_per_ip, "4", 1, 1023, 0, "connections",
	      "... of them from one IP address (less than metrics_conns_max)"),
	K_INT(TOP, telemetry.metrics_timeout_s, "5", 1, 3600, 0, "s",
	      "a metrics connection must send a whole request within this long (of opening, or "
	      "of its last answer), and is closed when it sends nothing this long"),
	K_FLOAT(TOP, telemetry.linger_s, "0", 0, 86400, "s",
		"after the load generator finished: keep serving telemetry until SIGTERM or this "
		"long"),

	K_ENUM(TOP, security.mode, "aead", "aead|none",
	       "aead: every packet sealed with AES-256-GCM under session keys from Noise IK "
	       "handshakes between X25519 identities (security.key, peers.[].pubkey); none: "
	       "plaintext with a CRC32C that anyone can forge, for tests and trusted links only"),
	K_STR(TOP, security.key, "", 0, 255, 0,
	      "this gateway's private key file (`repgatectl keygen`), mode 0600; required with "
	      "security.mode = \"aead\""),
	K_INT(TOP, security.rekey_after_s, "120", 1, 86400, 0, "s",
	      "a lane's session is replaced by a new handshake after this long, without a pause "
	      "in the flow (the gateway with the higher id waits a little longer)"),
	K_INT64(TOP, security.rekey_after_mib, "65536", 1, 1LL << 30, 0, "MiB",
		"... or once it sealed this much, whichever comes first"),
	K_INT(TOP, security.reject_after_s, "180", 2, 86400, 0, "s",
	      "a session this old neither seals nor opens; above security.rekey_after_s"),

	K_INT(PEER, id, NULL, 1, 65534, REQ, "", "the peer's id (a gateway's, or a client's)"),
	K_ENUM(PEER, kind, "gateway", "gateway|client",
	       "gateway: another repgate; client: a producer or consumer allowed to use this one"),
	K_STR(PEER, region, "", 0, 31, 0, "the peer's region (required for a gateway)"),
	K_IPV4(PEER, ip, NULL, REQ, "the peer's IPv4 address"),
	K_MAC(PEER, mac, "", 0, "MAC of the next hop towards the peer; \"\" = resolved by ARP"),
	K_INT(PEER, udp_port, "7000", 1, 65535, ZERO_OK, "",
	      "the peer's RGP UDP port; a client's 0 = learned from its packets"),
	K_INT(PEER, lanes, "1", 1, 256, 0, "lanes", "lanes to the peer, spread over the workers"),
	K_STR(PEER, pubkey, "", 0, 44, 0,
	      "the peer's public key (`repgatectl pubkey`), base64; required with security.mode "
	      "= \"aead\": a packet only that key's holder could seal is taken"),
};

static_assert(RG_ARRAY_SIZE(knobs) <= RG_PROFILE_KNOBS_MAX, "src.knob is indexed by table row");

static const char *const type_names[] = {
#define RG_X(name, text) text,
	RG_PROFILE_TYPES(RG_X)
#undef RG_X
};

/* A value as libconfig or the --set text gives it, before it meets a knob. */
enum vkind {
	V_INT,
	V_FLOAT,
	V_BOOL,
	V_STRING,
	V_GROUP,
	V_LIST,
	V_ARRAY,
};

static const char *const vkind_names[] = {
	"an integer", "a float", "a boolean", "a string", "a group", "a list", "an array",
};

struct value {
	enum vkind kind;
	int64_t i; /* V_INT, V_BOOL */
	double f;
	const char *s;
};

/* A field's bytes between convert() and commit(); every member starts at offset 0. */
union storage {
	int32_t i32;
	int64_t i64;
	double f;
	bool b;
	int e;
	uint32_t ip;
	uint8_t mac[6];
	char s[RG_PROFILE_PATH_BYTES];
};

static int say(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Writes a message; returns -EINVAL so that callers can return it. */
static int
say(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (buf != NULL && len > 0) {
		va_start(ap, fmt);
		vsnprintf(buf, len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static size_t
peer_row0(void)
{
	size_t i = 0;

	while (i < RG_ARRAY_SIZE(knobs) && knobs[i].scope == RG_PROFILE_SCOPE_TOP)
		i++;
	return i;
}

static void *
field(struct rg_profile *p, const struct rg_profile_knob *k, uint32_t peer)
{
	char *base = k->scope == RG_PROFILE_SCOPE_TOP ? (char *)p : (char *)&p->peers[peer];

	return base + k->offset;
}

static const void *
cfield(const struct rg_profile *p, const struct rg_profile_knob *k, uint32_t peer)
{
	return field((struct rg_profile *)p, k, peer); /* only read through the result */
}

static struct rg_profile_src *
src_slot(struct rg_profile *p, const struct rg_profile_knob *k, uint32_t peer)
{
	size_t row = (size_t)(k - knobs);

	if (k->scope == RG_PROFILE_SCOPE_TOP)
		return &p->src.knob[row];
	return &p->src.peer[peer][row - peer_row0()];
}

static const struct rg_profile_knob *
find_knob(const char *canon)
{
	for (size_t i = 0; i < RG_ARRAY_SIZE(knobs); i++)
		if (strcmp(knobs[i].path, canon) == 0)
			return &knobs[i];
	return NULL;
}

/* ENUM: the index of s among the choices, or -1. */
static int
choice_index(const struct rg_profile_knob *k, const char *s)
{
	const char *c = k->choices;
	size_t n = strlen(s);

	for (int i = 0; *c != '\0'; i++) {
		size_t len = strcspn(c, "|");

		if (len == n && strncmp(c, s, n) == 0)
			return i;
		c += len + (c[len] == '|');
	}
	return -1;
}

/* ENUM: choice i (length in *len), or NULL. */
static const char *
choice_name(const struct rg_profile_knob *k, int i, int *len)
{
	const char *c = k->choices;

	for (; i > 0 && *c != '\0'; i--) {
		c += strcspn(c, "|");
		c += *c == '|';
	}
	*len = (int)strcspn(c, "|");
	return i == 0 && *len > 0 ? c : NULL;
}

static int
parse_ipv4(const char *s, uint32_t *ip)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*ip = ntohl(a.s_addr);
	return 0;
}

static int
hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "xx:xx:xx:xx:xx:xx" (hex, either case), or "" for all zero. */
static int
parse_mac(const char *s, uint8_t mac[6])
{
	memset(mac, 0, 6);
	if (*s == '\0')
		return 0;
	if (strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		const char *b = s + 3 * i;
		int hi = hex_nibble(b[0]), lo = hex_nibble(b[1]);

		if (hi < 0 || lo < 0 || (i < 5 && b[2] != ':'))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static bool
mac_is_zero(const uint8_t mac[6])
{
	static const uint8_t zero[6];

	return memcmp(mac, zero, 6) == 0;
}

static int
check_int(const struct rg_profile_knob *k, int64_t v, char *msg, size_t len)
{
	bool zero_ok = (k->flags & ZERO_OK) != 0;

	if (v == 0 && zero_ok)
		return 0;
	if (v < k->min || v > k->max)
		return say(msg, len, "out of range %s%" PRId64 "..%" PRId64, zero_ok ? "0 or " : "",
			   k->min, k->max);
	if ((k->flags & POW2) != 0 && !rg_is_pow2((uint64_t)v))
		return say(msg, len, "%" PRId64 " is not a power of two", v);
	return 0;
}

static int
check_float(const struct rg_profile_knob *k, double v, char *msg, size_t len)
{
	if (!(v >= k->fmin && v <= k->fmax)) /* also refuses NaN */
		return say(msg, len, "out of range %g..%g", k->fmin, k->fmax);
	return 0;
}

static int
check_len(const struct rg_profile_knob *k, size_t n, char *msg, size_t len)
{
	if ((int64_t)n < k->min)
		return k->min == 1 ? say(msg, len, "must not be empty")
				   : say(msg, len, "shorter than %" PRId64 " characters", k->min);
	if ((int64_t)n > k->max)
		return say(msg, len, "longer than %" PRId64 " characters", k->max);
	return 0;
}

/*
 * Strings are printable ASCII, space (0x20) to tilde (0x7e): a name, region
 * or path lands in log lines, Prometheus label values and telemetry JSON,
 * where a control byte, a NUL or a byte that is not UTF-8 breaks the reader.
 */
static int
check_chars(const char *s, char *msg, size_t len)
{
	for (const char *c = s; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
			return say(
			    msg, len,
			    "byte 0x%02x at offset %td: strings are printable ASCII (space to "
			    "~)",
			    (unsigned char)*c, c - s);
	return 0;
}

static int
mismatch(const struct rg_profile_knob *k, const struct value *v, char *msg, size_t len)
{
	static const char *const want[RG_PROFILE_T_MAX] = {
		[RG_PROFILE_T_INT] = "an integer",  [RG_PROFILE_T_INT64] = "an integer",
		[RG_PROFILE_T_FLOAT] = "a number",  [RG_PROFILE_T_BOOL] = "a boolean",
		[RG_PROFILE_T_STRING] = "a string", [RG_PROFILE_T_ENUM] = "a string",
		[RG_PROFILE_T_IPV4] = "a string",   [RG_PROFILE_T_MAC] = "a string",
	};

	return say(msg, len, "expected %s, got %s", want[k->type], vkind_names[v->kind]);
}

/* STRING, ENUM, IPV4, MAC: all come as strings. */
static int
convert_text(const struct rg_profile_knob *k, const struct value *v, union storage *out, char *msg,
	     size_t len)
{
	size_t n;

	if (v->kind != V_STRING)
		return mismatch(k, v, msg, len);
	switch (k->type) {
	case RG_PROFILE_T_STRING:
		n = strlen(v->s);
		if (check_len(k, n, msg, len) != 0 || check_chars(v->s, msg, len) != 0)
			return -EINVAL;
		memset(out->s, 0, sizeof(out->s));
		memcpy(out->s, v->s, n);
		return 0;
	case RG_PROFILE_T_ENUM:
		out->e = choice_index(k, v->s);
		if (out->e < 0)
			return say(msg, len, "\"%s\" is not one of %s", v->s, k->choices);
		return 0;
	case RG_PROFILE_T_IPV4:
		if (parse_ipv4(v->s, &out->ip) != 0)
			return say(msg, len, "not an IPv4 address (\"%s\")", v->s);
		return 0;
	default:
		RG_ASSERT(k->type == RG_PROFILE_T_MAC);
		if (parse_mac(v->s, out->mac) != 0)
			return say(msg, len, "not a MAC address (\"%s\"), want xx:xx:xx:xx:xx:xx",
				   v->s);
		return 0;
	}
}

/* Checks v against k and puts it in out as the field stores it. */
static int
convert(const struct rg_profile_knob *k, const struct value *v, union storage *out, char *msg,
	size_t len)
{
	switch (k->type) {
	case RG_PROFILE_T_INT:
	case RG_PROFILE_T_INT64:
		if (v->kind != V_INT)
			return mismatch(k, v, msg, len);
		if (check_int(k, v->i, msg, len) != 0)
			return -EINVAL;
		if (k->type == RG_PROFILE_T_INT)
			out->i32 = (int32_t)v->i; /* in range, so it fits */
		else
			out->i64 = v->i;
		return 0;
	case RG_PROFILE_T_FLOAT:
		if (v->kind != V_INT && v->kind != V_FLOAT)
			return mismatch(k, v, msg, len);
		out->f = v->kind == V_INT ? (double)v->i : v->f;
		return check_float(k, out->f, msg, len);
	case RG_PROFILE_T_BOOL:
		if (v->kind != V_BOOL)
			return mismatch(k, v, msg, len);
		out->b = v->i != 0;
		return 0;
	default:
		return convert_text(k, v, out, msg, len);
	}
}

static void
commit(struct rg_profile *p, const struct rg_profile_knob *k, uint32_t peer,
       const union storage *val, struct rg_profile_src src)
{
	memcpy(field(p, k, peer), val, k->size);
	*src_slot(p, k, peer) = src;
}

/* Decimal or 0x hex, optional sign, optional L suffix (as libconfig writes int64). */
static int
parse_int(const char *s, int64_t *out)
{
	const char *d = s + (*s == '-' || *s == '+');
	int base = d[0] == '0' && (d[1] == 'x' || d[1] == 'X') ? 16 : 10;
	char *end;

	errno = 0;
	*out = strtoll(s, &end, base);
	if (end == s || errno != 0)
		return -EINVAL;
	end += *end == 'L';
	return *end == '\0' ? 0 : -EINVAL;
}

/* A value from text (a --set value or a table default), read as k's type wants. */
static int
text_value(const struct rg_profile_knob *k, const char *text, struct value *v, char *msg,
	   size_t len)
{
	char *end;

	memset(v, 0, sizeof(*v));
	switch (k->type) {
	case RG_PROFILE_T_INT:
	case RG_PROFILE_T_INT64:
		v->kind = V_INT;
		if (parse_int(text, &v->i) != 0)
			return say(msg, len, "expected an integer");
		return 0;
	case RG_PROFILE_T_FLOAT:
		v->kind = V_FLOAT;
		v->f = strtod(text, &end);
		if (end == text || *end != '\0')
			return say(msg, len, "expected a number");
		return 0;
	case RG_PROFILE_T_BOOL:
		v->kind = V_BOOL;
		v->i = strcasecmp(text, "true") == 0;
		if (!v->i && strcasecmp(text, "false") != 0)
			return say(msg, len, "expected true or false");
		return 0;
	default:
		v->kind = V_STRING;
		v->s = text;
		return 0;
	}
}

static void
apply_default(struct rg_profile *p, const struct rg_profile_knob *k, uint32_t peer)
{
	struct value v;
	union storage out;
	char msg[MSG_BYTES];
	int rc;

	if (k->def == NULL)
		return; /* required: stays zero, which is "not set" */
	rc = text_value(k, k->def, &v, msg, sizeof(msg));
	if (rc == 0)
		rc = convert(k, &v, &out, msg, sizeof(msg));
	RG_ASSERT(rc == 0); /* the table's defaults pass the same checks as any value */
	commit(p, k, peer, &out, (struct rg_profile_src){ 0, 0 });
}

/* Appends a peer with its defaults. The caller checked npeers < RG_PROFILE_PEERS_MAX. */
static void
add_peer(struct rg_profile *p, struct rg_profile_src src)
{
	uint32_t i = p->npeers++;

	memset(&p->peers[i], 0, sizeof(p->peers[i]));
	memset(p->src.peer[i], 0, sizeof(p->src.peer[i]));
	p->src.peer_group[i] = src;
	for (size_t r = peer_row0(); r < RG_ARRAY_SIZE(knobs); r++)
		apply_default(p, &knobs[r], i);
}

void
rg_profile_default(struct rg_profile *p)
{
	size_t row0 = peer_row0();

	/* The table's shape, which src.peer and the dump rely on. */
	RG_ASSERT(RG_ARRAY_SIZE(knobs) - row0 <= RG_PROFILE_PEER_KNOBS_MAX);
	memset(p, 0, sizeof(*p));
	for (size_t r = 0; r < RG_ARRAY_SIZE(knobs); r++) {
		RG_ASSERT((r < row0) == (knobs[r].scope == RG_PROFILE_SCOPE_TOP));
		if (r < row0)
			apply_default(p, &knobs[r], 0);
	}
}

/* ------------------------------------------------------------------------------------------ */
/* Edit distance, for "did you mean". */

static size_t
edit_distance(const char *a, size_t na, const char *b, size_t nb)
{
	size_t row[PATH_CHARS + 1];

	if (na > PATH_CHARS || nb > PATH_CHARS)
		return SIZE_MAX;
	for (size_t j = 0; j <= nb; j++)
		row[j] = j;
	for (size_t i = 1; i <= na; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= nb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);

			best = RG_MIN(best, up + 1);
			row[j] = RG_MIN(best, row[j - 1] + 1);
			diag = up;
		}
	}
	return row[nb];
}

/*
 * "unknown key", with " (did you mean X?)" when a knob (or, for a top-level
 * name, a group) is within two edits of it.
 */
static void
unknown_key(const char *canon, bool top_level, char *msg, size_t len)
{
	const char *best = NULL;
	size_t best_d = 3, best_n = 0;

	for (size_t i = 0; i < RG_ARRAY_SIZE(knobs); i++) {
		const char *path = knobs[i].path;
		size_t n = top_level ? strcspn(path, ".") : strlen(path);
		size_t d = edit_distance(canon, strlen(canon), path, n);

		if (d < best_d) {
			best = path;
			best_d = d;
			best_n = n;
		}
	}
	if (best == NULL)
		say(msg, len, "unknown key");
	else
		say(msg, len, "unknown key (did you mean %.*s?)", (int)best_n, best);
}

/* ------------------------------------------------------------------------------------------ */
/* Loading a file. */

/* What one profile's files used so far (RG_PROFILE_BYTES_MAX, _SETTINGS_MAX), and a line cache. */
struct budget {
	size_t bytes;
	unsigned settings;
	/* read_line's copy of the file it read last, and where its line at_line starts */
	char file[RG_PROFILE_PATH_BYTES];
	char *text;
	size_t len, at;
	unsigned at_line;
};

struct loader {
	struct rg_profile *p;
	const char *path;                /* as given */
	char dir[RG_PROFILE_PATH_BYTES]; /* its directory; "" when it names none */
	char *err;
	size_t errlen;
	struct budget *budget; /* shared by every file of the profile */
};

/*
 * The path of a file libconfig names. libconfig 1.5 keeps an included file's
 * name as written after @include and opened it relative to the include
 * directory; later versions keep the joined path. Either way the result can
 * be opened from the caller's working directory.
 */
static void
file_name(const struct loader *l, const char *name, char *buf, size_t len)
{
	size_t dlen = strlen(l->dir);

	if (name == NULL)
		name = l->path;
	if (dlen == 0 || name[0] == '/' || strcmp(name, l->path) == 0 ||
	    (strncmp(name, l->dir, dlen) == 0 && name[dlen] == '/'))
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "%s/%s", l->dir, name);
}

/* The index (1-based) of a file in p->src.files, adding it; 0 when the table is full. */
static uint16_t
intern_file(struct rg_profile *p, const char *name)
{
	for (uint32_t i = 0; i < p->src.nfiles; i++)
		if (strncmp(p->src.files[i], name, RG_PROFILE_PATH_BYTES - 1) == 0)
			return (uint16_t)(i + 1);
	if (p->src.nfiles == RG_PROFILE_FILES_MAX)
		return 0;
	snprintf(p->src.files[p->src.nfiles], RG_PROFILE_PATH_BYTES, "%s", name);
	return (uint16_t)++p->src.nfiles;
}

static int
fail_at(const struct loader *l, const config_setting_t *s, const char *path, const char *msg)
{
	char file[RG_PROFILE_PATH_BYTES];

	file_name(l, config_setting_source_file(s), file, sizeof(file));
	return say(l->err, l->errlen, "%s:%u: %s: %s", file, config_setting_source_line(s), path,
		   msg);
}

static int
src_of(const struct loader *l, const config_setting_t *s, struct rg_profile_src *src, char *msg,
       size_t len)
{
	char file[RG_PROFILE_PATH_BYTES];

	file_name(l, config_setting_source_file(s), file, sizeof(file));
	src->file = intern_file(l->p, file);
	src->line = (uint16_t)config_setting_source_line(s);
	if (src->file == 0)
		return say(msg, len, "too many files in one profile (at most %d)",
			   RG_PROFILE_FILES_MAX);
	return 0;
}

static void
value_of(const config_setting_t *s, struct value *v)
{
	memset(v, 0, sizeof(*v));
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		v->kind = V_INT;
		v->i = config_setting_get_int64(s);
		break;
	case CONFIG_TYPE_FLOAT:
		v->kind = V_FLOAT;
		v->f = config_setting_get_float(s);
		break;
	case CONFIG_TYPE_BOOL:
		v->kind = V_BOOL;
		v->i = config_setting_get_bool(s);
		break;
	case CONFIG_TYPE_STRING:
		v->kind = V_STRING;
		v->s = config_setting_get_string(s);
		break;
	case CONFIG_TYPE_GROUP:
		v->kind = V_GROUP;
		break;
	case CONFIG_TYPE_LIST:
		v->kind = V_LIST;
		break;
	default:
		v->kind = V_ARRAY;
		break;
	}
}

static int read_text(const char *path, size_t room, char **text, size_t *len, char *msg,
		     size_t msglen);

/*
 * Line number `line` (1-based) of file into buf; -1 when it cannot be read.
 * The file's text stays in l->budget after the first call, with where the
 * line asked last starts: settings come in file order, so the lines of one
 * file's settings are found in about one pass over it (reading the file again
 * from its start each time made a 1 MB profile's integers quadratic).
 */
static int
read_line(const struct loader *l, const char *file, unsigned line, char *buf, size_t len)
{
	struct budget *b = l->budget;
	char msg[MSG_BYTES];
	size_t n;

	if (b->text == NULL || strcmp(b->file, file) != 0) {
		free(b->text);
		b->text = NULL;
		if (read_text(file, RG_PROFILE_BYTES_MAX, &b->text, &b->len, msg, sizeof(msg)) != 0)
			return -1;
		snprintf(b->file, sizeof(b->file), "%s", file);
		b->at = 0;
		b->at_line = 1;
	}
	if (line < b->at_line) {
		b->at = 0;
		b->at_line = 1;
	}
	/* Bounded by the text: each turn moves past one newline. */
	while (b->at_line < line && b->at < b->len) {
		const char *nl = memchr(b->text + b->at, '\n', b->len - b->at);

		if (nl == NULL)
			break;
		b->at = (size_t)(nl - b->text) + 1;
		b->at_line++;
	}
	if (b->at_line != line || len == 0)
		return -1;
	n = RG_MIN(strcspn(b->text + b->at, "\n"), len - 1);
	memcpy(buf, b->text + b->at, n);
	buf[n] = '\0';
	return 0;
}

/* In a line, the text after "name =" or "name :", or NULL. */
static const char *
literal_after(const char *line, const char *name)
{
	size_t n = strlen(name);

	for (const char *c = strstr(line, name); c != NULL; c = strstr(c + 1, name)) {
		const char *e = c + n;

		if (c > line && (isalnum((unsigned char)c[-1]) || c[-1] == '_' || c[-1] == '-'))
			continue;
		e += strspn(e, " \t");
		if (*e != '=' && *e != ':')
			continue;
		return e + 1 + strspn(e + 1, " \t");
	}
	return NULL;
}

/*
 * libconfig 1.5 reads an integer literal without the L suffix into an int
 * and wraps it silently (5000000000 becomes 705032704), and one past 64 bits
 * (9223372036854775808L) it clamps to INT64_MAX, silently too. Read the
 * literal again from the setting's line and refuse it when it is what wrapped
 * or was clamped into the value. Not an error when the literal is not on that
 * line, the file cannot be read again or the text found is not one that
 * becomes the value (say "mtu=5" inside a string before "mtu = 9000").
 */
static int
check_literal(const struct loader *l, const config_setting_t *s, int64_t got, char *msg, size_t len)
{
	char file[RG_PROFILE_PATH_BYTES], line[512], *end;
	const char *name = config_setting_name(s), *lit;
	bool is_int = config_setting_type(s) == CONFIG_TYPE_INT;
	long long want;
	int base, n;

	file_name(l, config_setting_source_file(s), file, sizeof(file));
	if (name == NULL ||
	    read_line(l, file, config_setting_source_line(s), line, sizeof(line)) != 0)
		return 0;
	lit = literal_after(line, name);
	if (lit == NULL)
		return 0;
	base = lit[0] == '0' && (lit[1] == 'x' || lit[1] == 'X') ? 16 : 10;
	errno = 0;
	want = strtoll(lit, &end, base);
	n = (int)(end - lit);
	if (end == lit)
		return 0;
	if (errno == ERANGE && (is_int ? (int32_t)want == got : want == got))
		return say(msg, len, "%.*s does not fit in 64 bits (%" PRId64 "..%" PRId64 ")", n,
			   lit, INT64_MIN, INT64_MAX);
	if (!is_int || *end == 'L' || want == got || (int32_t)want != got)
		return 0;
	return say(msg, len, "%.*s does not fit in 32 bits: write %.*sL", n, lit, n, lit);
}

/*
 * libconfig 1.5 drops a NUL written as \x00 from a string ("a\x00b" reads as
 * "ab"), so the value cannot show it: look for it in the literal on the
 * setting's line (its strings, concatenated ones too), the way check_literal
 * does for integers.
 */
static int
check_nul(const struct loader *l, const config_setting_t *s, char *msg, size_t len)
{
	char file[RG_PROFILE_PATH_BYTES], line[512];
	const char *name = config_setting_name(s), *c;

	file_name(l, config_setting_source_file(s), file, sizeof(file));
	if (name == NULL ||
	    read_line(l, file, config_setting_source_line(s), line, sizeof(line)) != 0)
		return 0;
	c = literal_after(line, name);
	/* Bounded by the line: each step moves c forward. */
	while (c != NULL && *c == '"') {
		for (c++; *c != '\0' && *c != '"'; c++) {
			if (c[0] == '\\' && c[1] == 'x' && c[2] == '0' && c[3] == '0')
				return say(msg, len,
					   "contains a NUL (\\x00): strings are printable "
					   "ASCII");
			c += c[0] == '\\' && c[1] != '\0';
		}
		if (*c != '"')
			break;
		c++;
		c += strspn(c, " \t");
	}
	return 0;
}

/* One scalar setting: canon is its path in the table, disp the one errors show. */
static int
take(const struct loader *l, const config_setting_t *s, uint32_t peer, const char *canon,
     const char *disp)
{
	const struct rg_profile_knob *k = find_knob(canon);
	char msg[MSG_BYTES];
	struct rg_profile_src src;
	union storage out;
	struct value v;

	if (k == NULL) {
		unknown_key(canon, false, msg, sizeof(msg));
		return fail_at(l, s, disp, msg);
	}
	value_of(s, &v);
	if ((config_setting_type(s) == CONFIG_TYPE_INT ||
	     config_setting_type(s) == CONFIG_TYPE_INT64) &&
	    check_literal(l, s, v.i, msg, sizeof(msg)) != 0)
		return fail_at(l, s, disp, msg);
	if (config_setting_type(s) == CONFIG_TYPE_STRING && check_nul(l, s, msg, sizeof(msg)) != 0)
		return fail_at(l, s, disp, msg);
	if (convert(k, &v, &out, msg, sizeof(msg)) != 0 ||
	    src_of(l, s, &src, msg, sizeof(msg)) != 0)
		return fail_at(l, s, disp, msg);
	commit(l->p, k, peer, &out, src);
	return 0;
}

static bool
is_group_name(const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < RG_ARRAY_SIZE(knobs); i++)
		if (knobs[i].scope == RG_PROFILE_SCOPE_TOP &&
		    strncmp(knobs[i].path, name, n) == 0 && knobs[i].path[n] == '.')
			return true;
	return false;
}

static int
walk_group(const struct loader *l, const config_setting_t *g)
{
	const char *name = config_setting_name(g);
	char msg[MSG_BYTES], path[PATH_CHARS];
	struct value v;

	if (!is_group_name(name)) {
		unknown_key(name, true, msg, sizeof(msg));
		return fail_at(l, g, name, msg);
	}
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		value_of(g, &v);
		say(msg, sizeof(msg), "expected a group { ... }, got %s", vkind_names[v.kind]);
		return fail_at(l, g, name, msg);
	}
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		int rc;

		snprintf(path, sizeof(path), "%s.%s", name, config_setting_name(s));
		rc = take(l, s, 0, path, path);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* One element of the peers list: a group of peer knobs. */
static int
walk_peer(const struct loader *l, const config_setting_t *e, uint32_t i)
{
	char msg[MSG_BYTES], canon[PATH_CHARS], disp[PATH_CHARS];
	struct rg_profile_src src;
	struct value v;

	snprintf(disp, sizeof(disp), "peers.[%u]", i);
	if (i >= RG_PROFILE_PEERS_MAX)
		return fail_at(l, e, disp,
			       "too many peers (at most " RG_STR(RG_PROFILE_PEERS_MAX) ")");
	if (config_setting_type(e) != CONFIG_TYPE_GROUP) {
		value_of(e, &v);
		say(msg, sizeof(msg), "expected a group { id = ...; ... }, got %s",
		    vkind_names[v.kind]);
		return fail_at(l, e, disp, msg);
	}
	if (src_of(l, e, &src, msg, sizeof(msg)) != 0)
		return fail_at(l, e, disp, msg);
	add_peer(l->p, src);
	for (int j = 0; j < config_setting_length(e); j++) {
		const config_setting_t *s = config_setting_get_elem(e, (unsigned)j);
		int rc;

		snprintf(canon, sizeof(canon), PEER_PREFIX "%s", config_setting_name(s));
		snprintf(disp, sizeof(disp), "peers.[%u].%s", i, config_setting_name(s));
		rc = take(l, s, i, canon, disp);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
walk_peers(const struct loader *l, const config_setting_t *list)
{
	char msg[MSG_BYTES];
	struct value v;

	if (config_setting_type(list) != CONFIG_TYPE_LIST) {
		value_of(list, &v);
		say(msg, sizeof(msg), "expected a list of groups, peers = ( { ... }, ... ), got %s",
		    vkind_names[v.kind]);
		return fail_at(l, list, "peers", msg);
	}
	if (src_of(l, list, &l->p->src.peers, msg, sizeof(msg)) != 0)
		return fail_at(l, list, "peers", msg);
	for (int i = 0; i < config_setting_length(list); i++) {
		int rc = walk_peer(l, config_setting_get_elem(list, (unsigned)i), (uint32_t)i);

		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
walk_root(const struct loader *l, const config_setting_t *root)
{
	for (int i = 0; i < config_setting_length(root); i++) {
		const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
		const char *name = config_setting_name(s);
		int rc;

		if (strcmp(name, "include") == 0)
			continue; /* loaded before this file's own settings (load_includes) */
		if (strcmp(name, "peers") == 0) {
			l->p->npeers = 0; /* a peers list replaces what an included file had */
			rc = walk_peers(l, s);
		} else {
			rc = walk_group(l, s);
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
parse_error(const struct loader *l, const config_t *cf)
{
	char file[RG_PROFILE_PATH_BYTES];

	file_name(l, config_error_file(cf), file, sizeof(file));
	if (config_error_type(cf) == CONFIG_ERR_FILE_IO)
		return say(l->err, l->errlen, "%s: %s", file, config_error_text(cf));
	return say(l->err, l->errlen, "%s:%d: %s", file, config_error_line(cf),
		   config_error_text(cf));
}

/* ------------------------------------------------------------------------------------------ */
/* Reading files before libconfig does. */

/*
 * libconfig 1.5 opens the profile and every file an @include names with
 * fopen, which blocks on a FIFO, and scans them with flex, which exits the
 * process when a read fails ("input in flex scanner failed": a directory,
 * /proc/self/mem); its parse time grows with the square of a file's size (and
 * so does check_literal's rereading). So every file of a profile is read here
 * first: it must be a regular file that reads to its end, and all of them
 * together hold at most RG_PROFILE_BYTES_MAX bytes. Their text is scanned for
 * @include lines (scan_includes, libconfig's rule), whose files are read the
 * same way. libconfig then reads the files again; one changed in between is
 * not defended against (a profile's files are the operator's own). The scan
 * also counts settings (each `=` or `:`), as libconfig's time grows with the
 * square of their number too: 1 MiB of `kN = N;` took 39 s.
 */
#define AT_INCLUDE_DEPTH_MAX 10 /* libconfig 1.5's own limit on nested @include */

static const char *
file_kind(mode_t m)
{
	return S_ISDIR(m)    ? "a directory"
	       : S_ISFIFO(m) ? "a FIFO"
	       : S_ISCHR(m)  ? "a character device"
	       : S_ISBLK(m)  ? "a block device"
	       : S_ISSOCK(m) ? "a socket"
			     : "not a regular file";
}

/*
 * The whole of path into *text (NUL-terminated, the caller frees it) and its
 * length, when it is a regular file of at most room bytes. 0; -errno when it
 * cannot be opened or read; -EINVAL when it is not a regular file or holds
 * more than room. msg says why. Opened O_NONBLOCK, so a FIFO put in
 * its place after the stat does not block either.
 */
static int
read_text(const char *path, size_t room, char **text, size_t *len, char *msg, size_t msglen)
{
	struct stat st;
	size_t n = 0;
	char *buf;
	int fd, rc = 0;

	*text = NULL;
	if (stat(path, &st) != 0) {
		rc = -errno;
		say(msg, msglen, "cannot open: %s", strerror(-rc));
		return rc;
	}
	if (!S_ISREG(st.st_mode))
		return say(msg, msglen, "%s, not a regular file", file_kind(st.st_mode));
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		say(msg, msglen, "cannot open: %s", strerror(-rc));
		return rc;
	}
	buf = malloc(room + 2);
	if (buf == NULL) {
		rc = -ENOMEM;
		say(msg, msglen, "out of memory");
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = say(msg, msglen, "not a regular file");
		goto out;
	}
	/* Bounded: each turn reads at least one byte, at most room + 1 in all. */
	while (n <= room) {
		ssize_t r = read(fd, buf + n, room + 1 - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			say(msg, msglen, "cannot read: %s", strerror(-rc));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > room) {
		rc = say(
		    msg, msglen,
		    "too large: a profile and the files it includes hold at most %d bytes in all",
		    RG_PROFILE_BYTES_MAX);
		goto out;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return rc;
}

static int read_included(const struct loader *l, const char *file, unsigned line, const char *name,
			 int depth);

/*
 * The name of an `@include "name"` that starts at text[*i] ('@'), or NULL
 * when it is not one. libconfig's scanner takes `@include`, blanks, then a
 * quoted name, only at the start of a line (blanks before it allowed) and
 * outside strings and comments; in the name `\"` and `\\` stand for `"` and
 * `\`. *i ends on the closing quote.
 */
static const char *
include_name(const char *text, size_t len, size_t *i, char *name, size_t namelen)
{
	size_t j = *i + 8, n = 0;

	if (len - *i < 10 || strncmp(text + *i, "@include", 8) != 0 ||
	    (text[j] != ' ' && text[j] != '\t'))
		return NULL;
	j += strspn(text + j, " \t");
	if (text[j] != '"')
		return NULL;
	for (j++; j < len && text[j] != '"'; j++) {
		if (text[j] == '\\' && j + 1 < len && (text[j + 1] == '"' || text[j + 1] == '\\'))
			j++;
		if (n + 1 < namelen)
			name[n++] = text[j];
	}
	name[n] = '\0';
	*i = j;
	return name;
}

/*
 * Reads (read_included) every file the @include lines of text name; file is
 * the text's name in errors. Bounded by len: one pass, each byte looked at a
 * bounded number of times; the recursion by AT_INCLUDE_DEPTH_MAX.
 */
static int
scan_includes(const struct loader *l, const char *file, const char *text, size_t len, int depth)
{
	enum {
		CODE,
		STRING,
		COMMENT
	} st = CODE;
	char name[RG_PROFILE_PATH_BYTES];
	unsigned line = 1;
	bool bol = true; /* only blanks since the start of the line */
	int rc;

	for (size_t i = 0; i < len; i++) {
		char c = text[i], next = i + 1 < len ? text[i + 1] : '\0';

		if (c == '\n') {
			line++;
			bol = true;
			continue;
		}
		if (st == STRING) {
			if (c == '\\' && next != '\0' && next != '\n')
				i++;
			else if (c == '"')
				st = CODE;
			continue;
		}
		if (st == COMMENT) {
			st = c == '*' && next == '/' ? CODE : COMMENT;
			i += st == CODE;
			continue;
		}
		if (bol && (c == ' ' || c == '\t'))
			continue;
		if (bol && c == '@' && include_name(text, len, &i, name, sizeof(name)) != NULL) {
			if ((rc = read_included(l, file, line, name, depth)) != 0)
				return rc;
		} else if (c == '#' || (c == '/' && next == '/')) {
			while (i + 1 < len && text[i + 1] != '\n')
				i++;
		} else if (c == '/' && next == '*') {
			st = COMMENT;
			i++;
		} else if (c == '"') {
			st = STRING;
		} else if ((c == '=' || c == ':') &&
			   ++l->budget->settings > RG_PROFILE_SETTINGS_MAX) {
			return say(l->err, l->errlen,
				   "%s:%u: more than %d settings in one profile (with the files it "
				   "includes)",
				   file, line, RG_PROFILE_SETTINGS_MAX);
		}
		bol = false;
	}
	return 0;
}

/*
 * The file of `@include "name"` at file:line: libconfig opens it as
 * include_dir/name (the directory of the profile, whichever file holds the
 * line), so an absolute name would not be what it says: refused.
 */
static int
read_included(const struct loader *l, const char *file, unsigned line, const char *name, int depth)
{
	char full[RG_PROFILE_PATH_BYTES], msg[MSG_BYTES];
	size_t len;
	char *text;
	int rc;

	if (depth >= AT_INCLUDE_DEPTH_MAX)
		return say(l->err, l->errlen,
			   "%s:%u: @include \"%s\": nested more than %d deep (a file includes "
			   "itself?)",
			   file, line, name, AT_INCLUDE_DEPTH_MAX);
	if (name[0] == '/')
		return say(l->err, l->errlen,
			   "%s:%u: @include \"%s\": an absolute path (libconfig opens every "
			   "@include relative to the profile's directory): write it relative to "
			   "that, or layer with include = \"%s\";",
			   file, line, name, name);
	if (name[0] == '\0')
		return say(l->err, l->errlen, "%s:%u: @include \"\": expected a file name", file,
			   line);
	if (snprintf(full, sizeof(full), "%s%s%s", l->dir, l->dir[0] != '\0' ? "/" : "", name) >=
	    (int)sizeof(full))
		return say(l->err, l->errlen, "%s:%u: @include \"%s\": path too long", file, line,
			   name);
	rc =
	    read_text(full, RG_PROFILE_BYTES_MAX - l->budget->bytes, &text, &len, msg, sizeof(msg));
	if (rc != 0) {
		return say(l->err, l->errlen, "%s:%u: @include \"%s\": %s: %s", file, line, name,
			   full, msg);
	}
	l->budget->bytes += len;
	rc = scan_includes(l, full, text, len, depth + 1);
	free(text);
	return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Layering and loading. */

/*
 * Layering: `include = "base.conf";` (or a list of names) at the top of a
 * profile loads those files first, relative to this one, and this file's
 * settings then override theirs key by key; a `peers` list replaces theirs
 * whole. libconfig's own `@include` pastes text, so it cannot set a group the
 * included file set too: profiles layer with `include`. Nested includes are
 * followed up to INCLUDE_DEPTH_MAX deep (which also stops a cycle).
 */
#define INCLUDE_DEPTH_MAX 8

static int load_file(struct rg_profile *p, struct budget *budget, const char *path, int depth,
		     const char *via, char *err, size_t errlen);

static int
load_include(const struct loader *l, const config_setting_t *s, int depth)
{
	const char *name = config_setting_get_string(s);
	char full[RG_PROFILE_PATH_BYTES], via[RG_PROFILE_PATH_BYTES + 32];
	size_t nd, nn;

	if (name == NULL || name[0] == '\0')
		return fail_at(l, s, "include", "expected a file name, or a list of them");
	if (depth >= INCLUDE_DEPTH_MAX)
		return fail_at(l, s, "include",
			       "nested more than 8 deep (a file includes itself?)");
	nd = name[0] != '/' ? strlen(l->dir) : 0; /* relative to the including file */
	nn = strlen(name);
	if (nd + 1 + nn >= sizeof(full))
		return fail_at(l, s, "include", "path too long");
	if (nd > 0) {
		memcpy(full, l->dir, nd);
		full[nd++] = '/';
	}
	memcpy(full + nd, name, nn + 1);
	file_name(l, config_setting_source_file(s), via, sizeof(via));
	snprintf(via + strlen(via), sizeof(via) - strlen(via), ":%u: include",
		 config_setting_source_line(s));
	return load_file(l->p, l->budget, full, depth + 1, via, l->err, l->errlen);
}

static int
load_includes(const struct loader *l, const config_setting_t *root, int depth)
{
	const config_setting_t *inc = config_setting_get_member(root, "include");
	int n, rc;

	if (inc == NULL)
		return 0;
	if (config_setting_type(inc) == CONFIG_TYPE_STRING)
		return load_include(l, inc, depth);
	if (config_setting_type(inc) != CONFIG_TYPE_LIST &&
	    config_setting_type(inc) != CONFIG_TYPE_ARRAY)
		return fail_at(l, inc, "include", "expected a file name, or a list of them");
	n = config_setting_length(inc);
	for (int i = 0; i < n; i++)
		if ((rc = load_include(l, config_setting_get_elem(inc, (unsigned)i), depth)) != 0)
			return rc;
	return 0;
}

/*
 * One file: read and checked here (read_text, scan_includes), then parsed by
 * libconfig and walked. via is "FILE:LINE: include" when an include setting
 * named it, for errors about the file itself; NULL for the profile.
 */
static int
load_file(struct rg_profile *p, struct budget *budget, const char *path, int depth, const char *via,
	  char *err, size_t errlen)
{
	struct loader l = { .p = p, .path = path, .err = err, .errlen = errlen, .budget = budget };
	const char *slash = strrchr(path, '/');
	char msg[MSG_BYTES], *text;
	config_t cf;
	size_t len;
	int rc;

	if (slash != NULL && (size_t)(slash - path) + 1 >= sizeof(l.dir))
		return say(err, errlen, "%s: path too long", path);
	if (slash != NULL)
		snprintf(l.dir, sizeof(l.dir), "%.*s", slash == path ? 1 : (int)(slash - path),
			 path);
	rc = read_text(path, RG_PROFILE_BYTES_MAX - budget->bytes, &text, &len, msg, sizeof(msg));
	if (rc != 0) {
		if (via != NULL) /* an included file: the profile itself could be read */
			return say(err, errlen, "%s: %s: %s", via, path, msg);
		say(err, errlen, "%s: %s", path, msg);
		return rc;
	}
	budget->bytes += len;
	rc = scan_includes(&l, path, text, len, 0);
	free(text);
	if (rc != 0)
		return rc;
	config_init(&cf);
	if (l.dir[0] != '\0')
		config_set_include_dir(&cf, l.dir);
	if (config_read_file(&cf, path) != CONFIG_TRUE)
		rc = parse_error(&l, &cf);
	else if ((rc = load_includes(&l, config_root_setting(&cf), depth)) == 0)
		rc = walk_root(&l, config_root_setting(&cf));
	config_destroy(&cf);
	return rc;
}

int
rg_profile_load(const char *path, struct rg_profile *p, char *err, size_t errlen)
{
	struct budget budget = { .bytes = 0 };
	int rc;

	rg_profile_default(p);
	intern_file(p, path); /* files[0]: the profile, for errors that have no line */
	rc = load_file(p, &budget, path, 0, NULL, err, errlen);
	free(budget.text);
	return rc;
}

static int
trim_copy(const char *b, const char *e, char *buf, size_t len)
{
	while (b < e && isspace((unsigned char)*b))
		b++;
	while (e > b && isspace((unsigned char)e[-1]))
		e--;
	if ((size_t)(e - b) >= len)
		return -1;
	memcpy(buf, b, (size_t)(e - b));
	buf[e - b] = '\0';
	return 0;
}

/* "peers.[N].key" to "peers.[].key" and N, which may be npeers (a new peer). */
static int
canon_path(const struct rg_profile *p, const char *path, char *canon, size_t len, uint32_t *peer,
	   char *msg, size_t msglen)
{
	static const char pfx[] = "peers.[";
	unsigned long n;
	char *end;

	*peer = 0;
	if (strncmp(path, pfx, sizeof(pfx) - 1) != 0) {
		snprintf(canon, len, "%s", path);
		return 0;
	}
	n = strtoul(path + sizeof(pfx) - 1, &end, 10);
	if (end == path + sizeof(pfx) - 1 || strncmp(end, "].", 2) != 0)
		return say(msg, msglen, "expected peers.[N].key");
	if (n > p->npeers || n >= RG_PROFILE_PEERS_MAX)
		return say(msg, msglen, "no peers.[%lu]: %u configured, peers.[%u] adds one", n,
			   p->npeers, p->npeers);
	snprintf(canon, len, PEER_PREFIX "%s", end + 2);
	*peer = (uint32_t)n;
	return 0;
}

int
rg_profile_set(struct rg_profile *p, const char *assignment, char *err, size_t errlen)
{
	const char *eq = strchr(assignment, '=');
	char path[PATH_CHARS], canon[PATH_CHARS], text[TEXT_BYTES], msg[MSG_BYTES];
	const struct rg_profile_knob *k;
	union storage out;
	struct value v;
	uint32_t peer;
	size_t n;

	if (eq == NULL)
		return say(err, errlen, "--set %s: expected path=value", assignment);
	if (trim_copy(assignment, eq, path, sizeof(path)) != 0 ||
	    trim_copy(eq + 1, eq + 1 + strlen(eq + 1), text, sizeof(text)) != 0) {
		say(msg, sizeof(msg), "too long");
		goto fail;
	}
	n = strlen(text);
	if (n >= 2 && text[0] == '"' && text[n - 1] == '"') {
		memmove(text, text + 1, n - 2);
		text[n - 2] = '\0';
	}
	if (canon_path(p, path, canon, sizeof(canon), &peer, msg, sizeof(msg)) != 0)
		goto fail;
	k = find_knob(canon);
	if (k == NULL) {
		unknown_key(canon, false, msg, sizeof(msg));
		goto fail;
	}
	if (text_value(k, text, &v, msg, sizeof(msg)) != 0 ||
	    convert(k, &v, &out, msg, sizeof(msg)) != 0)
		goto fail;
	if (k->scope == RG_PROFILE_SCOPE_PEER && peer == p->npeers)
		add_peer(p, (struct rg_profile_src){ RG_PROFILE_SRC_SET, 0 });
	commit(p, k, peer, &out, (struct rg_profile_src){ RG_PROFILE_SRC_SET, 0 });
	return 0;
fail:
	return say(err, errlen, "--set %s: %s", assignment, msg);
}

/* ------------------------------------------------------------------------------------------ */
/* Validation */

static bool
is_unset(const struct rg_profile_knob *k, const void *ptr)
{
	const uint8_t *b = ptr;

	if (k->type == RG_PROFILE_T_STRING)
		return b[0] == '\0';
	for (size_t i = 0; i < k->size; i++)
		if (b[i] != 0)
			return false;
	return true;
}

/* A stored value against its knob: what validate repeats for values that code may have set. */
static int
check_stored(const struct rg_profile_knob *k, const void *ptr, char *msg, size_t len)
{
	int32_t i32;
	int64_t i64;
	double f;
	int e, n;

	if ((k->flags & REQ) != 0 && is_unset(k, ptr))
		return say(msg, len, "required, not set");
	switch (k->type) {
	case RG_PROFILE_T_INT:
		memcpy(&i32, ptr, sizeof(i32));
		return check_int(k, i32, msg, len);
	case RG_PROFILE_T_INT64:
		memcpy(&i64, ptr, sizeof(i64));
		return check_int(k, i64, msg, len);
	case RG_PROFILE_T_FLOAT:
		memcpy(&f, ptr, sizeof(f));
		return check_float(k, f, msg, len);
	case RG_PROFILE_T_STRING:
		if (memchr(ptr, '\0', k->size) == NULL)
			return say(msg, len, "not NUL-terminated");
		if (check_chars(ptr, msg, len) != 0)
			return -EINVAL;
		return check_len(k, strlen(ptr), msg, len);
	case RG_PROFILE_T_ENUM:
		memcpy(&e, ptr, sizeof(e));
		if (e < 0 || choice_name(k, e, &n) == NULL)
			return say(msg, len, "%d is not one of %s", e, k->choices);
		return 0;
	default:
		return 0; /* BOOL, IPV4, MAC: every bit pattern is a value */
	}
}

/* "FILE:LINE", "--set", or "" for a default. */
static void
src_text(const struct rg_profile *p, struct rg_profile_src src, char *buf, size_t len)
{
	if (src.file == RG_PROFILE_SRC_SET)
		snprintf(buf, len, "--set");
	else if (src.file >= 1 && src.file <= p->src.nfiles)
		snprintf(buf, len, "%s:%u", p->src.files[src.file - 1], src.line);
	else
		buf[0] = '\0';
}

/* The prefix of an error: "FILE:LINE: ", "--set ", "FILE: " (a default: the profile) or "". */
static void
where(const struct rg_profile *p, struct rg_profile_src src, char *buf, size_t len)
{
	src_text(p, src, buf, len);
	if (src.file == RG_PROFILE_SRC_SET)
		snprintf(buf, len, "--set ");
	else if (buf[0] != '\0')
		strncat(buf, ": ", len - strlen(buf) - 1);
	else if (p->src.nfiles > 0)
		snprintf(buf, len, "%s: ", p->src.files[0]);
}

static int vfail(const struct rg_profile *p, struct rg_profile_src src, const char *key, char *err,
		 size_t errlen, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int
vfail(const struct rg_profile *p, struct rg_profile_src src, const char *key, char *err,
      size_t errlen, const char *fmt, ...)
{
	char at[RG_PROFILE_PATH_BYTES + 16], msg[MSG_BYTES];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	where(p, src, at, sizeof(at));
	return say(err, errlen, "%s%s: %s", at, key, msg);
}

static struct rg_profile_src
top_src(const struct rg_profile *p, size_t offset)
{
	size_t row0 = peer_row0();

	for (size_t r = 0; r < row0; r++)
		if (knobs[r].offset == offset)
			return p->src.knob[r];
	RG_ASSERT(!"no top-level knob at this offset");
	return (struct rg_profile_src){ 0, 0 };
}

/* A peer field's source, or its group's when the field has its default. */
static struct rg_profile_src
peer_src(const struct rg_profile *p, uint32_t i, size_t offset)
{
	size_t row0 = peer_row0();

	for (size_t r = row0; r < RG_ARRAY_SIZE(knobs); r++)
		if (knobs[r].offset == offset && p->src.peer[i][r - row0].file != 0)
			return p->src.peer[i][r - row0];
	return p->src.peer_group[i];
}

#define SRC(p, f)                        top_src(p, offsetof(struct rg_profile, f))
#define TOP_FAIL(p, f, err, errlen, ...) vfail(p, SRC(p, f), #f, err, errlen, __VA_ARGS__)
#define PEER_FAIL(p, i, f, err, errlen, ...) \
	peer_fail(p, i, offsetof(struct rg_profile_peer, f), #f, err, errlen, __VA_ARGS__)

static int peer_fail(const struct rg_profile *p, uint32_t i, size_t offset, const char *name,
		     char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

static int
peer_fail(const struct rg_profile *p, uint32_t i, size_t offset, const char *name, char *err,
	  size_t errlen, const char *fmt, ...)
{
	char key[PATH_CHARS], msg[MSG_BYTES];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(key, sizeof(key), "peers.[%u].%s", i, name);
	return vfail(p, peer_src(p, i, offset), key, err, errlen, "%s", msg);
}

static int
check_knobs(const struct rg_profile *p, char *err, size_t errlen)
{
	size_t row0 = peer_row0();
	char msg[MSG_BYTES], key[PATH_CHARS];

	for (size_t r = 0; r < row0; r++)
		if (check_stored(&knobs[r], cfield(p, &knobs[r], 0), msg, sizeof(msg)) != 0)
			return vfail(p, p->src.knob[r], knobs[r].path, err, errlen, "%s", msg);
	if (p->npeers > RG_PROFILE_PEERS_MAX)
		return vfail(p, p->src.peers, "peers", err, errlen, "more than %d",
			     RG_PROFILE_PEERS_MAX);
	for (uint32_t i = 0; i < p->npeers; i++) {
		for (size_t r = row0; r < RG_ARRAY_SIZE(knobs); r++) {
			const struct rg_profile_knob *k = &knobs[r];

			if (check_stored(k, cfield(p, k, i), msg, sizeof(msg)) == 0)
				continue;
			snprintf(key, sizeof(key), "peers.[%u].%s", i,
				 k->path + sizeof(PEER_PREFIX) - 1);
			return vfail(p, peer_src(p, i, k->offset), key, err, errlen, "%s", msg);
		}
	}
	return 0;
}

static const char *
ip_text(uint32_t ip, char buf[16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
	return buf;
}

/* Peer ids distinct and not ours, addresses distinct and not ours, unicast MACs. */
/* A gateway peer needs a region and a port; a client may leave its port to be learned. */
static int
check_peer_kind(const struct rg_profile *p, uint32_t i, char *err, size_t errlen)
{
	const struct rg_profile_peer *a = &p->peers[i];

	if (a->kind == RG_PROFILE_PEER_GATEWAY && a->region[0] == '\0')
		return PEER_FAIL(p, i, region, err, errlen, "required for a gateway peer");
	if (a->kind == RG_PROFILE_PEER_GATEWAY && a->udp_port == 0)
		return PEER_FAIL(p, i, udp_port, err, errlen,
				 "0 (learned) is for clients; a gateway peer needs its port");
	return 0;
}

/* security.mode = "aead": this gateway's key loads, every peer has a public key. */
static int
check_security(const struct rg_profile *p, char *err, size_t errlen)
{
	uint8_t key[RG_KEY_BYTES];
	char msg[512];
	int rc;

	if (p->security.mode != RG_PROFILE_SECURITY_AEAD)
		return 0;
	if (p->security.key[0] == '\0')
		return TOP_FAIL(p, security.key, err, errlen,
				"required with security.mode = \"aead\" (make one with `repgatectl "
				"keygen > FILE`; or say security.mode = \"none\" for plaintext)");
	rc = rg_key_load_file(p->security.key, key, msg, sizeof(msg));
	memset(key, 0, sizeof(key));
	if (rc != 0)
		return TOP_FAIL(p, security.key, err, errlen, "%s", msg);
	for (uint32_t i = 0; i < p->npeers; i++) {
		if (p->peers[i].pubkey[0] == '\0')
			return PEER_FAIL(p, i, pubkey, err, errlen,
					 "required with security.mode = \"aead\" (the peer's "
					 "`repgatectl pubkey < its.key`)");
		if (rg_key_from_b64(p->peers[i].pubkey, key) != 0)
			return PEER_FAIL(p, i, pubkey, err, errlen,
					 "not a public key (44 characters of base64)");
	}
	return 0;
}

static int
check_peers(const struct rg_profile *p, char *err, size_t errlen)
{
	char ip[16];
	uint32_t gateways = 0;

	for (uint32_t i = 0; i < p->npeers; i++)
		gateways += p->peers[i].kind == RG_PROFILE_PEER_GATEWAY;
	if (gateways == 0)
		return vfail(p, p->src.peers, "peers", err, errlen,
			     "at least one gateway peer is required");
	if ((p->port.mac[0] & 1) != 0)
		return TOP_FAIL(p, port.mac, err, errlen, "a multicast address");
	for (uint32_t i = 0; i < p->npeers; i++) {
		const struct rg_profile_peer *a = &p->peers[i];
		int rc;

		if (a->id == p->gateway.id)
			return PEER_FAIL(p, i, id, err, errlen, "%d is this gateway's own id",
					 a->id);
		if ((rc = check_peer_kind(p, i, err, errlen)) != 0)
			return rc;
		if (a->ip == p->port.ip && a->udp_port == p->port.udp_port)
			return PEER_FAIL(p, i, ip, err, errlen,
					 "%s:%d is this gateway's own address", ip_text(a->ip, ip),
					 a->udp_port);
		if ((a->mac[0] & 1) != 0)
			return PEER_FAIL(p, i, mac, err, errlen, "a multicast address");
		for (uint32_t j = 0; j < i; j++) {
			const struct rg_profile_peer *b = &p->peers[j];

			if (a->id == b->id)
				return PEER_FAIL(p, i, id, err, errlen,
						 "%d is also the id of peers.[%u]", a->id, j);
			if (a->ip == b->ip && a->udp_port == b->udp_port && a->udp_port != 0)
				return PEER_FAIL(p, i, ip, err, errlen,
						 "%s:%d is also the address of peers.[%u]",
						 ip_text(a->ip, ip), a->udp_port, j);
		}
	}
	return 0;
}

/* The LAN port, and where producer clients' streams go. */
static int
check_lan_relay(const struct rg_profile *p, char *err, size_t errlen)
{
	if (p->lan.device[0] != '\0' && p->lan.ip == 0)
		return vfail(p, SRC(p, lan.device), "lan.ip", err, errlen,
			     "required when lan.device is set");
	if ((p->lan.mac[0] & 1) != 0)
		return TOP_FAIL(p, lan.mac, err, errlen, "a multicast address");
	if (p->relay.peer != 0) {
		for (uint32_t i = 0; i < p->npeers; i++)
			if (p->peers[i].id == p->relay.peer)
				return p->peers[i].kind == RG_PROFILE_PEER_GATEWAY
					   ? 0
					   : TOP_FAIL(p, relay.peer, err, errlen,
						      "%d is a client, not a gateway",
						      p->relay.peer);
		return TOP_FAIL(p, relay.peer, err, errlen, "%d is not a configured peer",
				p->relay.peer);
	}
	return 0;
}

static bool
has_peer(const struct rg_profile *p, int32_t id)
{
	for (uint32_t i = 0; i < p->npeers; i++)
		if (p->peers[i].id == id && p->peers[i].kind == RG_PROFILE_PEER_GATEWAY)
			return true;
	return false;
}

static int
check_load(const struct rg_profile *p, char *err, size_t errlen)
{
	const struct rg_profile_knob *role = find_knob("load.role");
	int n = 0;
	const char *name = choice_name(role, (int)p->load.role, &n);

	if (p->load.role != RG_PROFILE_ROLE_NONE && p->load.peer == 0)
		return vfail(p, SRC(p, load.role), "load.peer", err, errlen,
			     "required when load.role is \"%.*s\"", n, name);
	if (p->load.role != RG_PROFILE_ROLE_NONE && !has_peer(p, p->load.peer))
		return TOP_FAIL(p, load.peer, err, errlen, "%d is not a configured gateway peer",
				p->load.peer);
	if (p->load.role == RG_PROFILE_ROLE_GENERATOR)
		for (uint32_t i = 0; i < p->npeers; i++) {
			const struct rg_profile_peer *a = &p->peers[i], *t = NULL;

			for (uint32_t j = 0; j < p->npeers; j++)
				if (p->peers[j].id == p->load.peer)
					t = &p->peers[j];
			if (a->id != t->id && strcmp(a->region, t->region) == 0 &&
			    a->lanes != t->lanes)
				return PEER_FAIL(
				    p, i, lanes, err, errlen,
				    "%d, but peer %d of the same region (load.peer) has "
				    "%d: streams fail over lane for lane",
				    a->lanes, t->id, t->lanes);
		}
	if (p->load.flood_namespaces > p->load.namespaces)
		return TOP_FAIL(p, load.flood_namespaces, err, errlen,
				"%d is more than load.namespaces (%d)", p->load.flood_namespaces,
				p->load.namespaces);
	if (p->load.priority_namespaces > p->load.namespaces)
		return TOP_FAIL(p, load.priority_namespaces, err, errlen,
				"%d is more than load.namespaces (%d)", p->load.priority_namespaces,
				p->load.namespaces);
	if (p->load.namespaces > p->load.streams)
		return TOP_FAIL(p, load.namespaces, err, errlen,
				"%d is more than load.streams (%d)", p->load.namespaces,
				p->load.streams);
	if (p->load.record_bytes_max != 0 && p->load.record_bytes > p->load.record_bytes_max)
		return TOP_FAIL(p, load.record_bytes_max, err, errlen,
				"%d is less than load.record_bytes (%d)", p->load.record_bytes_max,
				p->load.record_bytes);
	return 0;
}

/* The metrics server's limits: one address must not be able to take every connection. */
static int
check_telemetry(const struct rg_profile *p, char *err, size_t errlen)
{
	if (p->telemetry.metrics_conns_per_ip >= p->telemetry.metrics_conns_max)
		return TOP_FAIL(p, telemetry.metrics_conns_per_ip, err, errlen,
				"%d is not less than telemetry.metrics_conns_max (%d): one address "
				"could take every connection",
				p->telemetry.metrics_conns_per_ip, p->telemetry.metrics_conns_max);
	return 0;
}

/* Sessions: the next handshake is made before the last session stops opening. */
static int
check_rekey(const struct rg_profile *p, char *err, size_t errlen)
{
	if (p->security.reject_after_s <= p->security.rekey_after_s)
		return TOP_FAIL(p, security.reject_after_s, err, errlen,
				"%d is not above security.rekey_after_s (%d): a session would stop "
				"opening before the next one is made",
				p->security.reject_after_s, p->security.rekey_after_s);
	return 0;
}

static int
check_membership(const struct rg_profile *p, char *err, size_t errlen)
{
	if (p->membership.dead_phi <= p->membership.suspect_phi)
		return TOP_FAIL(p, membership.dead_phi, err, errlen,
				"%g is not above membership.suspect_phi (%g)",
				p->membership.dead_phi, p->membership.suspect_phi);
	if (p->membership.acceptable_pause_ms < p->proto.ping_interval_ms)
		return TOP_FAIL(p, membership.acceptable_pause_ms, err, errlen,
				"%d is less than proto.ping_interval_ms (%d): an idle lane's "
				"heartbeats would look like a failure",
				p->membership.acceptable_pause_ms, p->proto.ping_interval_ms);
	return 0;
}

static uint32_t
pkt_bytes(const struct rg_profile *p)
{
	if (p->proto.pkt_bytes_max != 0)
		return (uint32_t)p->proto.pkt_bytes_max;
	return (uint32_t)RG_MIN(p->port.mtu - IP_UDP_BYTES, RG_PKT_BYTES_MAX);
}

static uint64_t
no_rng(void *ctx)
{
	(void)ctx;
	return 0;
}

/* Sizes that depend on each other, then what the core itself will check. */
static int
check_sizes(const struct rg_profile *p, char *err, size_t errlen)
{
	uint32_t pkt = pkt_bytes(p);
	struct rg_core_config cfg;
	char msg[MSG_BYTES];

	if (p->proto.pkt_bytes_max > p->port.mtu - IP_UDP_BYTES)
		return TOP_FAIL(p, proto.pkt_bytes_max, err, errlen,
				"%d does not fit port.mtu %d (at most %d)", p->proto.pkt_bytes_max,
				p->port.mtu, p->port.mtu - IP_UDP_BYTES);
	if (p->proto.inflight_bytes_max < pkt)
		return TOP_FAIL(p, proto.inflight_bytes_max, err, errlen,
				"%" PRId64 " does not hold one packet (%u bytes)",
				p->proto.inflight_bytes_max, pkt);
	if (p->proto.pace_mbit_s > 0 && (uint32_t)p->proto.pace_burst_bytes < pkt)
		return TOP_FAIL(p, proto.pace_burst_bytes, err, errlen,
				"%d does not hold one packet (%u bytes)", p->proto.pace_burst_bytes,
				pkt);
	if ((uint64_t)p->proto.streams_max * (uint64_t)p->proto.rx_window_records > (1u << 28))
		return TOP_FAIL(p, proto.rx_window_records, err, errlen,
				"%d times proto.streams_max (%d) is above 2^28",
				p->proto.rx_window_records, p->proto.streams_max);
	if (p->wan.burst_enter > 0 && p->wan.burst_exit == 0)
		return TOP_FAIL(
		    p, wan.burst_exit, err, errlen,
		    "must be above 0 when wan.burst_enter is (else a burst never ends)");
	if (p->wan.queue_bytes > 0 && p->wan.rate_mbit_s == 0)
		return TOP_FAIL(p, wan.queue_bytes, err, errlen,
				"must be 0 when wan.rate_mbit_s is (nothing waits for an unlimited "
				"wire)");
	rg_profile_core_config(p, &cfg);
	cfg.incarnation = 1;
	cfg.rng.next = no_rng;
	if (rg_core_config_check(&cfg, msg, sizeof(msg)) != 0)
		return say(err, errlen, "proto: %s (rg_core_config_check)", msg);
	return 0;
}

int
rg_profile_validate(const struct rg_profile *p, char *err, size_t errlen)
{
	int rc = check_knobs(p, err, errlen);

	if (rc == 0)
		rc = check_peers(p, err, errlen);
	if (rc == 0)
		rc = check_lan_relay(p, err, errlen);
	if (rc == 0)
		rc = check_load(p, err, errlen);
	if (rc == 0)
		rc = check_membership(p, err, errlen);
	if (rc == 0)
		rc = check_rekey(p, err, errlen);
	if (rc == 0)
		rc = check_telemetry(p, err, errlen);
	if (rc == 0)
		rc = check_sizes(p, err, errlen);
	if (rc == 0)
		rc = check_security(p, err, errlen); /* last: it reads the key file */
	return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Dump */

static void
put_string(const char *s, FILE *f)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* The shortest text that reads back to the same double, always with a float's syntax. */
static void
put_float(double v, FILE *f)
{
	char buf[40];

	snprintf(buf, sizeof(buf), "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, sizeof(buf), "%.17g", v);
	fprintf(f, "%s%s", buf, strpbrk(buf, ".e") == NULL ? ".0" : "");
}

static void
put_value(const struct rg_profile_knob *k, const void *ptr, FILE *f)
{
	union storage v;
	char ip[16];
	int n = 0;

	memcpy(&v, ptr, k->size);
	switch (k->type) {
	case RG_PROFILE_T_INT:
		fprintf(f, "%" PRId32, v.i32);
		break;
	case RG_PROFILE_T_INT64:
		fprintf(f, "%" PRId64 "L", v.i64);
		break;
	case RG_PROFILE_T_FLOAT:
		put_float(v.f, f);
		break;
	case RG_PROFILE_T_BOOL:
		fputs(v.b ? "true" : "false", f);
		break;
	case RG_PROFILE_T_STRING:
		put_string(ptr, f);
		break;
	case RG_PROFILE_T_ENUM: {
		const char *c = choice_name(k, v.e, &n);

		fprintf(f, "\"%.*s\"", c == NULL ? 0 : n, c == NULL ? "" : c);
		break;
	}
	case RG_PROFILE_T_IPV4:
		fprintf(f, "\"%s\"", ip_text(v.ip, ip));
		break;
	default:
		if (mac_is_zero(v.mac))
			fputs("\"\"", f);
		else
			fprintf(f, "\"%02x:%02x:%02x:%02x:%02x:%02x\"", v.mac[0], v.mac[1],
				v.mac[2], v.mac[3], v.mac[4], v.mac[5]);
		break;
	}
}

/* "key = value;" with where it came from as a comment; an unset required key commented out. */
static void
dump_knob(const struct rg_profile *p, const struct rg_profile_knob *k, uint32_t peer,
	  struct rg_profile_src src, const char *indent, FILE *f)
{
	const char *key = strrchr(k->path, '.') + 1;
	const void *ptr = cfield(p, k, peer);
	char at[RG_PROFILE_PATH_BYTES + 16];

	if ((k->flags & REQ) != 0 && is_unset(k, ptr)) {
		fprintf(f, "%s# %s: required, not set\n", indent, key);
		return;
	}
	fprintf(f, "%s%s = ", indent, key);
	put_value(k, ptr, f);
	fputc(';', f);
	src_text(p, src, at, sizeof(at));
	if (at[0] != '\0')
		fprintf(f, " # %s", at);
	fputc('\n', f);
}

static void
dump_peers(const struct rg_profile *p, FILE *f)
{
	size_t row0 = peer_row0();

	fputs("peers = (", f);
	for (uint32_t i = 0; i < p->npeers; i++) {
		fprintf(f, "%s\n\t{\n", i == 0 ? "" : ",");
		for (size_t r = row0; r < RG_ARRAY_SIZE(knobs); r++)
			dump_knob(p, &knobs[r], i, p->src.peer[i][r - row0], "\t\t", f);
		fputs("\t}", f);
	}
	fputs("\n);\n", f);
}

void
rg_profile_dump(const struct rg_profile *p, FILE *f)
{
	size_t row0 = peer_row0(), glen = 0;
	const char *group = NULL;

	fputs("# repgate profile: the effective configuration (rg_profile_dump)\n", f);
	for (size_t r = 0; r < row0; r++) {
		const struct rg_profile_knob *k = &knobs[r];
		size_t n = strcspn(k->path, ".");

		if (group == NULL || n != glen || strncmp(group, k->path, n) != 0) {
			fprintf(f, "%s%.*s = {\n", group == NULL ? "" : "};\n\n", (int)n, k->path);
			group = k->path;
			glen = n;
		}
		dump_knob(p, k, 0, p->src.knob[r], "\t", f);
	}
	fputs("};\n\n", f);
	dump_peers(p, f);
}

/* ------------------------------------------------------------------------------------------ */

size_t
rg_profile_knobs(const struct rg_profile_knob **table)
{
	*table = knobs;
	return RG_ARRAY_SIZE(knobs);
}

const char *
rg_profile_type_name(enum rg_profile_type t)
{
	return (unsigned)t < RG_PROFILE_T_MAX ? type_names[t] : "?";
}

static uint64_t
ms_to_ns(double ms)
{
	return (uint64_t)(ms * (double)RG_NS_PER_MS + 0.5); /* ms >= 0: the range says so */
}

int32_t
rg_profile_peer_lanes(const struct rg_profile *p, uint32_t i)
{
	return p->peers[i].kind == RG_PROFILE_PEER_CLIENT ? p->workers.count : p->peers[i].lanes;
}

void
rg_profile_core_config(const struct rg_profile *p, struct rg_core_config *cfg)
{
	uint32_t lanes = 0;

	rg_core_config_default(cfg);
	for (uint32_t i = 0; i < p->npeers && i < RG_PROFILE_PEERS_MAX; i++)
		lanes += (uint32_t)rg_profile_peer_lanes(p, i);
	cfg->gateway_id = (uint16_t)p->gateway.id;
	cfg->peers_max = (uint16_t)RG_MAX(p->npeers, 1u);
	cfg->lanes_max = (uint16_t)RG_MAX(lanes, 1u);
	cfg->streams_max = (uint32_t)p->proto.streams_max;
	cfg->tx_records_max = (uint32_t)p->proto.tx_records_max;
	cfg->tx_stream_records_max = (uint32_t)p->proto.tx_stream_records_max;
	cfg->rx_window_records = (uint32_t)p->proto.rx_window_records;
	cfg->rx_frags_max = (uint32_t)p->proto.rx_frags_max;
	cfg->pkt_bytes_max = pkt_bytes(p);
	cfg->inflight_pkts_max = (uint32_t)p->proto.inflight_pkts_max;
	cfg->inflight_frames_max = (uint32_t)p->proto.inflight_frames_max;
	cfg->inflight_bytes_max = (uint64_t)p->proto.inflight_bytes_max;
	cfg->ack_every_pkts = (uint32_t)p->proto.ack_every_pkts;
	cfg->ack_delay_ns_max = (uint64_t)p->proto.ack_delay_us * RG_NS_PER_US;
	cfg->initial_rtt_ns = ms_to_ns(p->proto.initial_rtt_ms);
	cfg->granularity_ns = (uint64_t)p->proto.granularity_us * RG_NS_PER_US;
	cfg->pto_ns_max = (uint64_t)p->proto.pto_max_ms * RG_NS_PER_MS;
	cfg->pace_rate_bytes_per_s = (uint64_t)(p->proto.pace_mbit_s * BYTES_PER_MBIT + 0.5);
	cfg->pace_burst_bytes = (uint64_t)p->proto.pace_burst_bytes;
	cfg->pacing =
	    p->proto.pacing == RG_PROFILE_PACING_ADAPTIVE ? RG_PACING_ADAPTIVE : RG_PACING_FIXED;
	cfg->hello_interval_ns = (uint64_t)p->proto.hello_interval_ms * RG_NS_PER_MS;
	cfg->ping_interval_ns = (uint64_t)p->proto.ping_interval_ms * RG_NS_PER_MS;
	cfg->ses.rekey_after_ns = (uint64_t)p->security.rekey_after_s * RG_NS_PER_S;
	cfg->ses.rekey_after_bytes = (uint64_t)p->security.rekey_after_mib << 20;
	cfg->ses.reject_after_ns = (uint64_t)p->security.reject_after_s * RG_NS_PER_S;
}
