/* SPDX-License-Identifier: Apache-2.0 */
/* The Go binding's C helpers (trampoline.c). */
#ifndef RGO_H
#define RGO_H

#include <stdint.h>

#include "repgate.h"

#define RGO_DELIVER        1u /* the client has a deliver handler */
#define RGO_STREAM_APPLIED 2u /* ... and a stream_applied one */

/* rg_client_create() with the trampolines of trampoline.c, ctx = handle (a cgo.Handle). */
int rgo_create(const struct rg_client_config *cfg, uintptr_t handle, unsigned roles,
	       struct rg_client **out);

#endif /* RGO_H */
