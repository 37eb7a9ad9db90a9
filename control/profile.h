/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Config profiles (DESIGN §4.9): libconfig files with @include layering,
 * command-line overrides and line-numbered errors.
 *
 * Every knob is one row of the table in profile.c: its dotted path, type,
 * default, range, unit, one-line doc and the offset of its field in struct
 * rg_profile. The loader, --set, the range checks, dump and the docs walk that
 * table; only rg_profile_validate() (cross-field rules) and
 * rg_profile_core_config() name knobs in code.
 *
 * Invariants:
 *  1. struct rg_profile holds no pointers and owns no memory: copy it with =.
 *  2. Every value in it passed its knob's type and range check, whichever way
 *     it came in (default, file, --set); rg_profile_validate() checks them all
 *     again, so a profile built by code gets the same checks.
 *  3. src records where each value came from, so that any later error (a
 *     cross-field rule, a dump comment) can cite FILE:LINE.
 *  4. On failure rg_profile_set() changes nothing; rg_profile_load() leaves
 *     the profile partly filled (the caller stops).
 *
 * Use: rg_profile_load(), then rg_profile_set() for each --set, then
 * rg_profile_validate(), then read the struct.
 *
 * Files: a profile is a libconfig file whose top level holds the groups
 * gateway, port, workers, proto, wan, load and the list peers. @include
 * "base.conf" is resolved against the directory of the file given to
 * rg_profile_load(). libconfig includes textually, so a group may appear only
 * once over all included files (a second one is a "duplicate setting name"
 * error): put shared groups in the base, per-gateway groups in the top file,
 * and override single values with --set. Integers above 2^31 - 1 need the L
 * suffix (5000000000L): libconfig 1.5 wraps them otherwise, which the loader
 * detects and reports; past 64 bits it clamps them, which the loader refuses
 * too. Strings are printable ASCII (0x20..0x7e). Every file is read and
 * checked before libconfig sees it (a regular file; RG_PROFILE_BYTES_MAX).
 */
#ifndef RG_CONTROL_PROFILE_H
#define RG_CONTROL_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct rg_core_config;

#define RG_PROFILE_PEERS_MAX      64
#define RG_PROFILE_NAME_BYTES     32     /* region names: 31 characters and the NUL */
#define RG_PROFILE_PATH_BYTES     256    /* device strings and file paths */
#define RG_PROFILE_FILES_MAX      8      /* distinct files of one profile (it and its includes) */
#define RG_PROFILE_KNOBS_MAX      128    /* rows of the knob table (src.knob is indexed by row) */
#define RG_PROFILE_PEER_KNOBS_MAX 8      /* rows with scope RG_PROFILE_SCOPE_PEER */
#define RG_PROFILE_SRC_SET        0xFFFF /* rg_profile_src.file of a value set by --set */
/*
 * Bytes of one profile: the file and everything it includes (@include and
 * include =), read before libconfig parses them; a profile past it is refused.
 * libconfig 1.5's parse time grows with the square of the size (10 MB took
 * 43 s) and of the settings in a group (1 MiB of them: 39 s); a real profile
 * is a few KiB with a few hundred settings.
 */
#define RG_PROFILE_BYTES_MAX    (1 << 20)
#define RG_PROFILE_SETTINGS_MAX 4096 /* settings (each = or :) of one profile, likewise */

/* X-macro: knob value types and the names the docs use. */
#define RG_PROFILE_TYPES(X)                                               \
	X(INT, "int")       /* int32_t */                                 \
	X(INT64, "int64")   /* int64_t (write values >= 2^31 with L) */   \
	X(FLOAT, "float")   /* double; an integer is accepted too */      \
	X(BOOL, "bool")     /* bool */                                    \
	X(STRING, "string") /* char[N], NUL-terminated */                 \
	X(ENUM, "enum")     /* an enum (int): a string, one of choices */ \
	X(IPV4, "ipv4")     /* uint32_t, host byte order */               \
	X(MAC, "mac")       /* uint8_t[6]; "" = all zero */

enum rg_profile_type {
#define RG_X(name, text) RG_PROFILE_T_##name,
	RG_PROFILE_TYPES(RG_X)
#undef RG_X
	RG_PROFILE_T_MAX
};

/* Which struct a knob's offset is into. */
enum rg_profile_scope {
	RG_PROFILE_SCOPE_TOP,  /* struct rg_profile; path "group.key" */
	RG_PROFILE_SCOPE_PEER, /* struct rg_profile_peer; path "peers.[].key" */
};

#define RG_PROFILE_F_REQUIRED 0x1 /* no default: the profile must set it */
#define RG_PROFILE_F_POW2     0x2 /* a power of two */
#define RG_PROFILE_F_ZERO_OK  0x4 /* 0 is allowed besides min..max (it means "off" or "auto") */

struct rg_profile_knob {
	const char *path; /* "port.mtu", "peers.[].ip" */
	enum rg_profile_type type;
	enum rg_profile_scope scope;
	uint32_t flags;      /* RG_PROFILE_F_* */
	const char *def;     /* the default as --set would take it; NULL when required */
	int64_t min, max;    /* INT, INT64: the value; STRING: the length in characters */
	double fmin, fmax;   /* FLOAT */
	const char *choices; /* ENUM: "spin|pause|sleep", in the order of the C enum */
	const char *unit;    /* "bytes", "ms", ...; "" when it has none */
	const char *doc;     /* one line */
	size_t offset;       /* of the field in its scope's struct */
	size_t size;         /* of the field */
};

enum rg_profile_idle {
	RG_PROFILE_IDLE_SPIN,
	RG_PROFILE_IDLE_PAUSE,
	RG_PROFILE_IDLE_SLEEP,
};

/* proto.pacing; the same order as enum rg_pacing (core.h, cc.h). */
enum rg_profile_pacing {
	RG_PROFILE_PACING_FIXED,
	RG_PROFILE_PACING_ADAPTIVE,
};

enum rg_profile_role {
	RG_PROFILE_ROLE_NONE,
	RG_PROFILE_ROLE_GENERATOR,
	RG_PROFILE_ROLE_CONSUMER,
};

/* security.mode */
enum rg_profile_security {
	RG_PROFILE_SECURITY_AEAD,
	RG_PROFILE_SECURITY_NONE,
};

/* peers.[].kind */
enum rg_profile_peer_kind {
	RG_PROFILE_PEER_GATEWAY,
	RG_PROFILE_PEER_CLIENT,
};

/* Where a value came from. */
struct rg_profile_src {
	uint16_t file; /* 0: default; 1..RG_PROFILE_FILES_MAX: src.files[file - 1]; or _SRC_SET */
	uint16_t line; /* 1-based, when file names a file */
};

struct rg_profile_peer {
	int32_t id;
	enum rg_profile_peer_kind kind;
	char region[RG_PROFILE_NAME_BYTES]; /* gateways: required; clients: "" */
	uint32_t ip;                        /* host byte order: 10.0.0.2 is 0x0a000002 */
	uint8_t mac[6];                     /* all zero: resolved by ARP */
	int32_t udp_port;                   /* clients: 0 = learned from their packets */
	int32_t lanes;
	char pubkey[45]; /* base64 X25519 public key; security.mode = "aead" needs it */
};

/* Field comments give the unit; the table in profile.c has ranges and docs. */
struct rg_profile {
	struct {
		int32_t id;
		char region[RG_PROFILE_NAME_BYTES];
		char name[64];
	} gateway;
	struct {
		char device[RG_PROFILE_PATH_BYTES]; /* DPDK device string */
		uint32_t ip;                        /* host byte order */
		uint8_t mac[6];                     /* all zero: the port's own */
		int32_t udp_port;
		int32_t mtu; /* bytes */
		int32_t rx_desc;
		int32_t tx_desc;
		int32_t mbufs;    /* the port's receive pool */
		int32_t tx_mbufs; /* the pool the workers build packets in, every port */
		int32_t mbuf_cache;
		int32_t numa_node;  /* -1: ask DPDK */
		int32_t prefix_len; /* the on-link subnet of ip */
		uint32_t router;    /* next hop off the subnet; 0: none */
	} port;
	struct {
		char device[RG_PROFILE_PATH_BYTES]; /* "": clients come on port */
		uint32_t ip;
		uint8_t mac[6];
		int32_t udp_port;
		int32_t mtu;
		int32_t mbufs; /* the LAN port's receive pool */
		int32_t prefix_len;
		uint32_t router;
	} lan;
	struct {
		int32_t retry_ms;
		int32_t retries;
		int32_t reachable_s;
		int32_t failed_hold_ms;
	} arp;
	struct {
		int32_t peer; /* 0: the first gateway peer */
		int32_t streams_max;
		int32_t subs_max;
		int64_t asm_bytes_max;
	} relay;
	struct {
		int32_t count;
		int32_t burst; /* packets */
		enum rg_profile_idle idle;
		int32_t idle_polls;
		int32_t sleep_us;
	} workers;
	struct {
		int32_t streams_max;
		int32_t tx_records_max;
		int32_t tx_stream_records_max;
		int32_t rx_window_records;
		int32_t rx_frags_max;
		int32_t pkt_bytes_max; /* 0: port.mtu - 28 */
		int32_t inflight_pkts_max;
		int32_t inflight_frames_max;
		int64_t inflight_bytes_max;
		int32_t ack_every_pkts;
		int32_t ack_delay_us;
		double initial_rtt_ms;
		int32_t granularity_us;
		int32_t pto_max_ms;
		double pace_mbit_s; /* per lane; 0: unpaced */
		int32_t pace_burst_bytes;
		enum rg_profile_pacing pacing;
		int32_t hello_interval_ms;
		int32_t ping_interval_ms;
	} proto;
	struct {
		bool enabled;
		int64_t seed;
		double delay_ms;
		double jitter_ms;
		double loss; /* probabilities: 0..1 */
		double burst_enter;
		double burst_exit;
		double burst_loss;
		double dup;
		double reorder;
		double reorder_ms;
		double corrupt;
		double rate_mbit_s; /* 0: unlimited */
		int32_t queue_pkts;
		int64_t queue_bytes; /* 0: no byte limit */
	} wan;
	struct {
		enum rg_profile_role role;
		int32_t peer; /* a peers.[].id */
		int32_t streams;
		int32_t namespaces;
		int32_t record_bytes;
		int32_t record_bytes_max;    /* 0: every record is record_bytes */
		double rate_records_s;       /* 0: as fast as backpressure allows */
		int32_t flood_namespaces;    /* the first N namespaces ignore rate_records_s */
		int32_t priority_namespaces; /* the last N namespaces' streams are class CONTROL */
		double duration_s;
		int64_t records_max; /* 0: unlimited */
		int64_t seed;
		char state_file[RG_PROFILE_PATH_BYTES];
		char report[RG_PROFILE_PATH_BYTES];
		int32_t progress_ms;
	} load;
	struct {
		int32_t period_ms; /* the control thread's */
		double suspect_phi;
		double dead_phi;
		int32_t min_stddev_ms;
		int32_t acceptable_pause_ms;
		int32_t dead_after_ms;
	} membership;
	struct {
		int32_t metrics_port;  /* 0: no HTTP metrics */
		uint32_t metrics_addr; /* host byte order */
		int32_t metrics_conns_max;
		int32_t metrics_conns_per_ip;
		int32_t metrics_timeout_s;
		double linger_s; /* serve telemetry this long after the load finished */
	} telemetry;
	struct {
		enum rg_profile_security mode;
		char key[RG_PROFILE_PATH_BYTES]; /* this gateway's private key file */
		int32_t rekey_after_s;
		int64_t rekey_after_mib;
		int32_t reject_after_s;
	} security;
	struct rg_profile_peer peers[RG_PROFILE_PEERS_MAX];
	uint32_t npeers;

	/* Filled by load and set; read by validate and dump. */
	struct {
		struct rg_profile_src knob[RG_PROFILE_KNOBS_MAX]; /* by table row */
		struct rg_profile_src peer[RG_PROFILE_PEERS_MAX][RG_PROFILE_PEER_KNOBS_MAX];
		struct rg_profile_src peer_group[RG_PROFILE_PEERS_MAX];  /* the "{" of each peer */
		struct rg_profile_src peers;                             /* the "peers = (" */
		char files[RG_PROFILE_FILES_MAX][RG_PROFILE_PATH_BYTES]; /* files[0]: the profile */
		uint32_t nfiles;
	} src;
};

/* Every knob at its default, no peers, required knobs unset (zero). */
void rg_profile_default(struct rg_profile *p);

/*
 * Fills defaults, then reads path (and what it includes). Every setting in
 * the files must be a known knob of the right type and in range; every file
 * must be a regular file, all of them together at most RG_PROFILE_BYTES_MAX
 * bytes and RG_PROFILE_SETTINGS_MAX settings. Returns 0; -ENOENT (or another
 * -errno) when path cannot be opened or read; -EINVAL on any other error. err
 * gets "FILE:LINE: path.to.key: what is wrong".
 */
int rg_profile_load(const char *path, struct rg_profile *p, char *err, size_t errlen);

/*
 * Applies one "path=value" (a command-line --set), e.g. "port.mtu=9000" or
 * "peers.[0].lanes=4"; peers.[npeers] adds a peer. Quotes around a value are
 * optional. 0, or -EINVAL with "--set ASSIGNMENT: what is wrong" in err; on
 * failure nothing is changed.
 */
int rg_profile_set(struct rg_profile *p, const char *assignment, char *err, size_t errlen);

/*
 * Every knob in range, required ones set, then the cross-field rules (peers,
 * load, proto sizes), and the resulting core config passes
 * rg_core_config_check(). 0, or -EINVAL with "FILE:LINE: key: what is wrong"
 * (or "--set key: ..." / "FILE: key: ..." for a value not from a file line).
 */
int rg_profile_validate(const struct rg_profile *p, char *err, size_t errlen);

/* The effective configuration as a libconfig file that loads back to the same values. */
void rg_profile_dump(const struct rg_profile *p, FILE *f);

/* The knob table: top-level knobs first, then the peer knobs. Returns its length. */
size_t rg_profile_knobs(const struct rg_profile_knob **table);

const char *rg_profile_type_name(enum rg_profile_type t);

/*
 * The protocol core's config from proto.*, starting from rg_core_config_default():
 * ms and us become ns, pace_mbit_s becomes bytes/s, pkt_bytes_max 0 becomes
 * port.mtu - 28 (at most RG_PKT_BYTES_MAX). Also gateway_id, peers_max
 * (npeers) and lanes_max (all peers' lanes: one core may serve them all).
 * incarnation, mem and rng stay the caller's to set.
 */
void rg_profile_core_config(const struct rg_profile *p, struct rg_core_config *cfg);
/* The lanes of peers.[i]: a gateway's lanes knob; a client gets one per worker. */
int32_t rg_profile_peer_lanes(const struct rg_profile *p, uint32_t i);

#endif /* RG_CONTROL_PROFILE_H */
