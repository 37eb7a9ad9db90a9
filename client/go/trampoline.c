/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The C side of the Go binding: librepgate's callbacks, each a trampoline into an exported Go
 * function (callbacks.go), with the client's cgo.Handle as the context. The handle is an
 * integer, not a Go pointer, so C keeps no Go pointer (the cgo pointer rules): Go looks the
 * client up from it. The cgo preamble of a file with //export may hold no definitions, so they
 * live here.
 */
#include <stdint.h>

#include "repgate.h"
#include "_cgo_export.h"
#include "rgo.h"

static void
tr_replay(void *ctx, uint64_t stream, uint64_t from)
{
	rgoReplay((uintptr_t)ctx, stream, from);
}

static void
tr_applied(void *ctx, uint64_t stream, uint64_t applied)
{
	rgoApplied((uintptr_t)ctx, stream, applied);
}

static int
tr_deliver(void *ctx, uint64_t stream, uint64_t seq, uint32_t version, const void *data,
	   uint32_t len)
{
	return rgoDeliver((uintptr_t)ctx, stream, seq, version, (void *)data, len);
}

static int
tr_stream_applied(void *ctx, uint64_t stream, uint64_t *applied)
{
	return rgoStreamApplied((uintptr_t)ctx, stream, applied);
}

static void
tr_event(void *ctx, const struct rg_client_event *ev)
{
	rgoEvent((uintptr_t)ctx, (struct rg_client_event *)ev);
}

int
rgo_create(const struct rg_client_config *cfg, uintptr_t handle, unsigned roles,
	   struct rg_client **out)
{
	const struct rg_client_cb cb = {
		.replay = tr_replay,
		.applied = tr_applied,
		.deliver = (roles & RGO_DELIVER) ? tr_deliver : NULL,
		.stream_applied = (roles & RGO_STREAM_APPLIED) ? tr_stream_applied : NULL,
		.event = tr_event,
		.ctx = (void *)handle,
	};

	return rg_client_create(cfg, &cb, out);
}
