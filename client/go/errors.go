// SPDX-License-Identifier: Apache-2.0

package repgate

/*
#include "repgate.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"syscall"
)

// Error is a librepgate error code: the negative errno-style value a C function returned
// (repgate.h lists them at each function). The sentinel values below are *Error; errors.Is
// matches an *Error by its code, and an *Error unwraps to its syscall.Errno, so
// errors.Is(err, syscall.EAGAIN) holds for ErrBackpressure too.
type Error struct {
	Code int // negative: -EAGAIN, -ENOTCONN, ...; RG_CLIENT_ENOTACTIVE is -EROFS
}

// Error returns librepgate's name for the code (rg_client_strerror), and the system's
// message for codes librepgate has no name for.
func (e *Error) Error() string {
	s := C.GoString(C.rg_client_strerror(C.int(e.Code)))
	if e.Code < 0 && known(e.Code) == nil {
		s = syscall.Errno(-e.Code).Error()
	}
	return "repgate: " + s
}

// Is says whether target is an *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Unwrap gives the code as a syscall.Errno.
func (e *Error) Unwrap() error {
	if e.Code >= 0 {
		return nil
	}
	return syscall.Errno(-e.Code)
}

// The errors librepgate's functions return, as repgate.h describes them.
var (
	// ErrBackpressure (-EAGAIN): the stream's queue, records_max or bytes_max is full; the
	// gateway has not taken enough yet. Try again later, or use PublishWait.
	ErrBackpressure = &Error{-int(syscall.EAGAIN)}
	// ErrResyncing (-ENOTCONN): the stream is not ready to publish: it has not opened yet, or
	// a hop restarted and the replay handler has yet to say where to publish from.
	ErrResyncing = &Error{-int(syscall.ENOTCONN)}
	// ErrNotActive (RG_CLIENT_ENOTACTIVE): the namespace is not active in this region, or is
	// handing over. Reserved for the namespace directory (DESIGN §4.7): no call returns it yet.
	ErrNotActive = &Error{int(C.RG_CLIENT_ENOTACTIVE)}
	// ErrInvalid (-EINVAL): a bad argument or config: a seq that is not the next one, a
	// record over 1 MiB, a stream id 0, an applied past what was delivered, ...
	ErrInvalid = &Error{-int(syscall.EINVAL)}
	// ErrNoStream (-ENOENT): the stream was not opened (publish) or is not received (applied).
	ErrNoStream = &Error{-int(syscall.ENOENT)}
	// ErrExists (-EEXIST): the stream is already open or subscribed.
	ErrExists = &Error{-int(syscall.EEXIST)}
	// ErrNoSpace (-ENOSPC): a table is full (streams_max, or 64 namespaces).
	ErrNoSpace = &Error{-int(syscall.ENOSPC)}
	// ErrNoMemory (-ENOMEM).
	ErrNoMemory = &Error{-int(syscall.ENOMEM)}
	// ErrDeadlock (-EDEADLK): a call the library does not allow where it was made. The Go
	// binding never calls C from inside a callback, so seeing it is a bug in the binding.
	ErrDeadlock = &Error{-int(syscall.EDEADLK)}
	// ErrTimeout (-ETIMEDOUT).
	ErrTimeout = &Error{-int(syscall.ETIMEDOUT)}
	// ErrKeyExposed (-EPERM, from NewClient): Config.KeyFile's mode lets others than its owner
	// read or write it. chmod 600 it.
	ErrKeyExposed = &Error{-int(syscall.EPERM)}
)

// ErrClosed is returned by every method of a Client after Close.
var ErrClosed = errors.New("repgate: client closed")

func known(code int) *Error {
	for _, e := range []*Error{ErrBackpressure, ErrResyncing, ErrNotActive, ErrInvalid,
		ErrNoStream, ErrExists, ErrNoSpace, ErrNoMemory, ErrDeadlock, ErrTimeout,
		ErrKeyExposed} {
		if e.Code == code {
			return e
		}
	}
	return nil
}

// errorOf maps a C return code to nil, a sentinel, or a new *Error.
func errorOf(rc C.int) error {
	if rc >= 0 {
		return nil
	}
	if e := known(int(rc)); e != nil {
		return e
	}
	return &Error{int(rc)}
}

// ResyncError says where a stream must be published from: a replay moved it (Config.OnReplay
// tells the same) and Publish was given another seq. Move the stream's cursor to From and
// publish from there. errors.Is(err, ErrResyncing) holds.
type ResyncError struct {
	Stream uint64
	From   uint64
}

func (e *ResyncError) Error() string {
	return fmt.Sprintf("repgate: stream %#x is resyncing: publish from seq %d", e.Stream, e.From)
}

// Unwrap gives ErrResyncing.
func (e *ResyncError) Unwrap() error { return ErrResyncing }

// errorOfCode is errorOf for Go callers (tests: cgo is not allowed in them).
func errorOfCode(code int) error { return errorOf(C.int(code)) }
