/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A lane's sessions (docs/protocol.md §5c): which handshake's keys seal and
 * which open, when this side starts the next handshake, and which of the
 * peer's INITs it answers. Pure: time is passed in, the handshake's crypto
 * is the caller's (control/keys.h, rg_keyring_hs_*), and the caller keeps
 * the keys of session i of its lane in two key slots of its own choosing.
 *
 * The core keeps one per lane (dataplane/proto/core.c); each case is
 * unit-tested on its own in tests/unit/test_session.c.
 *
 * Epochs. Each handshake is named by an epoch, nonzero, carried in the
 * header of its INIT and RESP and of every packet sealed under it:
 *
 *   epoch = counter << 1 | (initiator's gateway id < responder's ? 1 : 0)
 *
 * counter is the initiator's, per lane, from 1, one more for every INIT it
 * sends (a retry is a new INIT). The low bit keeps the two sides' epochs
 * apart when both start a handshake at once; then both sessions are kept.
 *
 * Cases, in the order the code handles them:
 *   1. No session seals (none yet, the last one expired, or the peer
 *      restarted): an INIT is due at once, and again every retry_ns until a
 *      RESP finishes one. Nothing is sealed meanwhile.
 *   2. The sealing session reached rekey_after_ns or rekey_after_bytes: an
 *      INIT is due, and the old session goes on sealing until the new one
 *      is usable, so the flow does not pause. The side with the higher
 *      gateway id (ls->second) waits halfway to reject_after_ns before its
 *      rekey by time: the other side's INIT comes first and its session
 *      then seals here too, so the two do not cross INITs at every rekey
 *      (each crossing makes two sessions and pushes out a third).
 *   3. A session we initiated seals once its RESP checked; one we answered
 *      seals once a packet under it opened (the initiator has the keys
 *      then): until that, sealing under it could reach a peer that never
 *      got the RESP. The newest usable session seals.
 *   4. A session older than reject_after_ns neither seals nor opens.
 *   5. The peer's INIT is answered only if its (incarnation, counter) is
 *      above the newest answered one: a replayed or older INIT is not.
 *   6. A lane keeps RG_SES_PER_LANE sessions; a new one takes an empty
 *      place, else one of a superseded INIT (answered, not usable, and the
 *      same initiator has sent a later INIT since), else the oldest place
 *      that does not seal.
 *   7. The peer restarted (a newer incarnation authenticated): the sessions
 *      bound to any other incarnation are forgotten (their packet numbers
 *      start over, so their keys must never open again).
 *   8. The peer may have lost our session (it restarted and cannot start a
 *      handshake itself: a gateway does not initiate to a client it has not
 *      heard from): the caller kicks the lane when it has heard nothing for
 *      stale_ns while sending, and an INIT is due as in case 1 until one
 *      of ours finishes.
 */
#ifndef RG_PROTO_SESSION_H
#define RG_PROTO_SESSION_H

#include <stdint.h>

#define RG_SES_PER_LANE 3
#define RG_SES_NONE     (-1)

struct rg_ses_config {
	uint64_t rekey_after_ns;    /* case 2: the sealing session's age ... */
	uint64_t rekey_after_bytes; /* ... or what it sealed */
	uint64_t reject_after_ns;   /* case 4: > rekey_after_ns */
	uint64_t retry_ns;          /* case 1: an unanswered INIT goes again */
	uint64_t stale_ns;          /* case 8: the peer silent this long while we send */
};

struct rg_ses {
	uint32_t epoch;    /* 0: an empty place */
	uint8_t usable;    /* case 3 */
	uint64_t peer_inc; /* the incarnation the handshake authenticated */
	uint64_t born_ns;
	uint64_t sealed_bytes;
};

struct rg_lane_ses {
	struct rg_ses s[RG_SES_PER_LANE];
	uint32_t counter;       /* our last INIT's */
	uint32_t pending_epoch; /* our INIT waiting for its RESP; 0: none */
	uint64_t pending_ns;    /* when it went */
	uint64_t answered_inc;  /* case 5: the newest INIT answered */
	uint32_t answered_counter;
	uint8_t kick;   /* case 8: a handshake is due though a session seals */
	uint8_t second; /* case 2: our gateway id is above the peer's */
};

/* An empty lane: no sessions, nothing pending; second: our gateway id is the higher. */
void rg_ses_init(struct rg_lane_ses *ls, int second);

/* The epoch of a handshake initiated by gateway `initiator` with `responder`. */
uint32_t rg_ses_epoch(uint32_t counter, uint16_t initiator, uint16_t responder);

/*
 * The session to seal bytes with at now_ns (counted towards its rekey), or
 * RG_SES_NONE (case 1: send nothing but handshakes).
 */
int rg_ses_seal(struct rg_lane_ses *ls, const struct rg_ses_config *cfg, uint64_t bytes,
		uint64_t now_ns);

/* The session that opens a packet of epoch from src_inc at now_ns, or RG_SES_NONE. */
int rg_ses_open(const struct rg_lane_ses *ls, const struct rg_ses_config *cfg, uint32_t epoch,
		uint64_t src_inc, uint64_t now_ns);

/* Case 8: an INIT is due (with the retry time) until one of ours finishes. */
void rg_ses_kick(struct rg_lane_ses *ls);

/* A packet under session i opened (its tag checked): i is usable (case 3). */
void rg_ses_opened(struct rg_lane_ses *ls, int i);

/*
 * When this side's next INIT is due (cases 1 and 2, with the retry time):
 * at or before now_ns means now. What a lane's deadline and its send both use.
 */
uint64_t rg_ses_init_next_ns(const struct rg_lane_ses *ls, const struct rg_ses_config *cfg,
			     uint64_t now_ns);

/* 1 when this side should send an INIT now: rg_ses_init_next_ns() <= now_ns. */
int rg_ses_init_due(const struct rg_lane_ses *ls, const struct rg_ses_config *cfg, uint64_t now_ns);

/*
 * Our INIT (gateway us to peer) goes now: returns its epoch, the counter one
 * more (ls->counter, for the payload). Replaces any INIT still pending.
 */
uint32_t rg_ses_init_sent(struct rg_lane_ses *ls, uint16_t us, uint16_t peer, uint64_t now_ns);

/*
 * Case 5: 1 when the peer's INIT of (inc, counter) should be answered (and
 * it is recorded as the newest answered), 0 when it is a replay or older.
 * Call only for an INIT that checked (rg_keyring_hs_read_init).
 */
int rg_ses_accept_init(struct rg_lane_ses *ls, uint64_t inc, uint32_t counter);
/* The same test without recording: before the INIT's crypto is run. */
int rg_ses_init_fresh(const struct rg_lane_ses *ls, uint64_t inc, uint32_t counter);

/* Where rg_ses_add would put a session of epoch now (for the caller's key slots). */
int rg_ses_place(const struct rg_lane_ses *ls, uint32_t epoch);

/*
 * A handshake finished: the place (0 .. RG_SES_PER_LANE-1) of its session,
 * bound to the peer's incarnation peer_inc. usable: 1 for ours (the RESP
 * checked; our pending INIT of that epoch is done), 0 for one we answered.
 * The caller installs its keys in that place's slots, over what was there.
 */
int rg_ses_add(struct rg_lane_ses *ls, uint32_t epoch, uint64_t peer_inc, int usable,
	       uint64_t now_ns);

/*
 * Case 7: forgets every session not bound to inc; returns the bit mask of
 * the places it emptied (the caller forgets their keys).
 */
unsigned rg_ses_peer_restarted(struct rg_lane_ses *ls, uint64_t inc);
/* Empties place i (a session that must not be used after all). */
void rg_ses_drop(struct rg_lane_ses *ls, int i);

/* The invariants: distinct epochs, a usable session is not empty. 0 or -1. */
int rg_ses_check(const struct rg_lane_ses *ls);

#endif /* RG_PROTO_SESSION_H */
