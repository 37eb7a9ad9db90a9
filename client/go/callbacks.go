// SPDX-License-Identifier: Apache-2.0

package repgate

// librepgate's callbacks, reached through trampoline.c. They run inside rg_client_poll, on the
// event loop goroutine, with Client.mu held (the loop took it to poll): they touch the
// library through nothing (it forbids most calls there), run no handler of the user's
// (OnStreamApplied aside, which must answer at once), and only leave work for the dispatcher.
//
// cgo pointer rules: the library's ctx is a cgo.Handle, an integer; C keeps no Go pointer.
// The record's bytes are C memory valid during the call only: they are copied (C.GoBytes)
// before the call returns. The event and the applied pointer are C memory read or written
// during the call only.

/*
#include <stdint.h>
#include "repgate.h"
*/
import "C"

import (
	"errors"
	"runtime/cgo"
	"syscall"
	"unsafe"
)

func clientOf(h C.uintptr_t) *Client {
	return cgo.Handle(h).Value().(*Client)
}

//export rgoReplay
func rgoReplay(h C.uintptr_t, stream, from C.uint64_t) {
	c := clientOf(h)
	c.resync[uint64(stream)] = uint64(from) // Publish follows it from now on
	c.replayed = true
	c.q.putReplay(uint64(stream), uint64(from))
}

//export rgoApplied
func rgoApplied(h C.uintptr_t, stream, applied C.uint64_t) {
	clientOf(h).q.putApplied(uint64(stream), uint64(applied))
}

// rgoDeliver copies the record out, or says -EAGAIN when the queue is full: the library
// offers the same record again in a later poll, and the stream's credit stops meanwhile.
//
//export rgoDeliver
func rgoDeliver(h C.uintptr_t, stream, seq C.uint64_t, version C.uint32_t, data unsafe.Pointer,
	n C.uint32_t) C.int {
	c := clientOf(h)
	if !c.q.roomFor(int(n), c.cfg.DeliverQueueRecords, c.cfg.DeliverQueueBytes) {
		return -C.int(syscall.EAGAIN)
	}
	b := []byte{}
	if n > 0 {
		b = C.GoBytes(data, C.int(n))
	}
	c.q.putRecord(Record{Stream: uint64(stream), Seq: uint64(seq), Version: uint32(version),
		Data: b})
	return 0
}

//export rgoStreamApplied
func rgoStreamApplied(h C.uintptr_t, stream C.uint64_t, applied *C.uint64_t) C.int {
	a, err := clientOf(h).cfg.OnStreamApplied(uint64(stream))
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.Code < 0 {
			return C.int(e.Code)
		}
		return -C.int(syscall.EPERM)
	}
	*applied = C.uint64_t(a)
	return 0
}

//export rgoEvent
func rgoEvent(h C.uintptr_t, ev *C.struct_rg_client_event) {
	clientOf(h).q.putEvent(Event{
		Type:      EventType(ev._type),
		Gateway:   uint16(ev.gateway),
		Namespace: ev.namespace_sub != 0,
		Key:       uint64(ev.key),
		Refusal:   Refusal(ev.status),
	})
}
