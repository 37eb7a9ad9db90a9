// SPDX-License-Identifier: Apache-2.0

package repgate

/*
#cgo LDFLAGS: -lm
#include <stdint.h>
#include "repgate.h"
#include "rgo.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime/cgo"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// Client is one librepgate client: a producer, a consumer or both, talking to a gateway of its
// region over one UDP socket. Its methods may be called from any goroutine: a mutex serializes
// every call into the library. Two goroutines of its own run it: the event loop (it waits on
// the socket or the library's next deadline, then polls the library) and the dispatcher (it
// runs the handlers of Config). Close it to stop both and free the library's client.
type Client struct {
	cfg    Config
	handle cgo.Handle // the library's ctx for this client (callbacks.go)

	mu       sync.Mutex          // serializes every C call; guards the fields up to file
	c        *C.struct_rg_client // nil once closed
	stopping bool                // the event loop must return
	waitNs   uint64              // the deadline the event loop waits for (rg_client_now_ns)
	resync   map[uint64]uint64   // stream → the seq a replay said to publish from, until it is
	replayed bool                // a replay came in the last poll (wakes PublishWait)
	progress chan struct{}       // closed when records were released or a replay came; nil: no waiter
	acked    uint64              // Stats.Acked at the last poll
	pollErrs uint64
	polls    uint64
	file     *os.File        // a duplicate of the library's socket, in Go's netpoller
	raw      syscall.RawConn // file's, for waiting without reading
	readable func(fd uintptr) bool

	q dispatchQueue // what the handlers are to be told (dispatch.go)

	done     chan struct{} // closed by Close: the dispatcher stops, waiters return ErrClosed
	loopDone chan struct{} // closed when the event loop returned
	dispDone chan struct{} // closed when the dispatcher returned
	closing  sync.Once
}

// NewClient creates a client, its socket and its two goroutines, and says hello to its
// gateways. Errors: ErrInvalid (a bad Config, a KeyFile that holds no key, a Gateway without
// its PubKey or with a bad one, a PubKey without KeyFile), ErrKeyExposed (a KeyFile others may
// read), the KeyFile's open error (errors.Is syscall.ENOENT, ...), ErrNoMemory, or the
// socket's *Error (errors.Is syscall.EADDRINUSE for a BindPort in use). A config error says
// why in its message (rg_client_config_check) and still matches its sentinel with errors.Is.
func NewClient(cfg Config) (*Client, error) {
	var cc C.struct_rg_client_config
	var out *C.struct_rg_client
	var roles C.uint

	if err := cfg.toC(&cc); err != nil {
		return nil, err
	}
	c := &Client{
		cfg:      cfg.withDefaults(),
		resync:   make(map[uint64]uint64),
		waitNs:   math.MaxUint64,
		done:     make(chan struct{}),
		loopDone: make(chan struct{}),
		dispDone: make(chan struct{}),
	}
	c.q.init()
	c.readable = peekReadable
	if cfg.OnDeliver != nil {
		roles |= C.RGO_DELIVER
	}
	if cfg.OnStreamApplied != nil {
		roles |= C.RGO_STREAM_APPLIED
	}
	c.handle = cgo.NewHandle(c)
	if rc := C.rgo_create(&cc, C.uintptr_t(c.handle), roles, &out); rc != 0 {
		c.handle.Delete()
		return nil, configError(&cc, rc)
	}
	c.c = out
	if err := c.watchSocket(); err != nil {
		C.rg_client_destroy(out)
		c.handle.Delete()
		return nil, err
	}
	go c.loop()
	go c.dispatch()
	return c, nil
}

// configError is rg_client_create's code with rg_client_config_check's words for it, if any.
func configError(cc *C.struct_rg_client_config, rc C.int) error {
	var why [512]C.char

	err := errorOf(rc)
	if C.rg_client_config_check(cc, &why[0], C.size_t(len(why))) == rc && why[0] != 0 {
		return fmt.Errorf("%w: %s", err, C.GoString(&why[0]))
	}
	return err
}

// watchSocket puts a duplicate of the library's socket into Go's netpoller. The library keeps
// its own descriptor (it closes it in rg_client_destroy); Go closes the duplicate. Both name
// one open socket, so readiness is the same.
func (c *Client) watchSocket() error {
	fd := int(C.rg_client_fd(c.c))
	dup, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_DUPFD_CLOEXEC, 0)
	if errno != 0 {
		return &Error{-int(errno)}
	}
	// The socket is non-blocking, so os.NewFile registers it with the netpoller.
	c.file = os.NewFile(dup, "repgate-client")
	raw, err := c.file.SyscallConn()
	if err == nil {
		c.raw = raw
		err = c.file.SetReadDeadline(time.Time{}) // fails unless the netpoller has it
	}
	if err != nil {
		c.file.Close()
		return fmt.Errorf("repgate: the client's socket cannot be waited on: %w", err)
	}
	return nil
}

// peekReadable says whether a datagram waits (a peek that takes nothing), or an error does.
func peekReadable(fd uintptr) bool {
	var b [1]byte
	_, _, errno := syscall.Syscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&b[0])), 1,
		syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
	return errno != syscall.EAGAIN && errno != syscall.EINTR
}

// loop is the event loop. Each round polls the library under the lock, arms the socket's read
// deadline at the library's next deadline, and waits in Go's netpoller (RawConn.Read with a
// callback that only peeks) until a datagram arrives, the deadline passes, or a method that
// gave the library work lowers the deadline (kickLocked). The wait parks the goroutine, not
// a thread, and costs nothing while nothing happens; Close ends it by the same deadline.
func (c *Client) loop() {
	defer close(c.loopDone)
	for {
		c.mu.Lock()
		if c.stopping {
			c.mu.Unlock()
			return
		}
		c.polls++
		if rc := C.rg_client_poll(c.c, C.rg_client_now_ns()); rc != 0 {
			c.pollErrs++
		}
		c.afterPollLocked()
		c.armLocked(uint64(C.rg_client_next_deadline_ns(c.c)))
		c.mu.Unlock()
		// nil: readable; os.ErrDeadlineExceeded: the deadline or a kick. Anything else
		// (not expected) must not make the loop spin.
		if err := c.raw.Read(c.readable); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			time.Sleep(time.Millisecond)
		}
	}
}

// afterPollLocked wakes PublishWait's waiters when the library released records or a replay
// came (the two things they wait for).
func (c *Client) afterPollLocked() {
	if c.progress == nil {
		c.replayed = false
		return
	}
	var st C.struct_rg_client_stats
	C.rg_client_stats(c.c, &st)
	if uint64(st.acked) != c.acked || c.replayed {
		c.acked = uint64(st.acked)
		c.replayed = false
		close(c.progress)
		c.progress = nil
	}
}

var longAgo = time.Unix(1, 0)

// armLocked sets the event loop's wake-up at d (rg_client_now_ns clock; MaxUint64: none).
func (c *Client) armLocked(d uint64) {
	var t time.Time // zero: no deadline

	c.waitNs = d
	if d != math.MaxUint64 {
		now := uint64(C.rg_client_now_ns())
		if d <= now {
			t = longAgo
		} else {
			t = time.Now().Add(time.Duration(d - now))
		}
	}
	c.file.SetReadDeadline(t)
}

// kickLocked brings the event loop's wake-up forward when a call gave the library work sooner
// (a record to send, an applied to report): the waiting Read returns at once.
func (c *Client) kickLocked() {
	if d := uint64(C.rg_client_next_deadline_ns(c.c)); d < c.waitNs {
		c.armLocked(d)
	}
}

// call runs f on the library's client under the lock, then kicks the event loop.
func (c *Client) call(f func(*C.struct_rg_client) C.int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.c == nil {
		return ErrClosed
	}
	rc := f(c.c)
	c.kickLocked()
	return errorOf(rc)
}

// Open starts publishing stream (nonzero; its namespace is the high 32 bits). It opens at the
// serving gateway, or when one answers; OnReplay then names its first seq, and until then
// Publish says ErrResyncing. Errors: ErrInvalid (id 0), ErrExists, ErrNoSpace.
func (c *Client) Open(stream uint64) error {
	return c.call(func(cl *C.struct_rg_client) C.int {
		return C.rg_client_open(cl, C.uint64_t(stream))
	})
}

// Publish hands over record seq of stream; data is copied and may be reused at once. Errors:
//   - ErrBackpressure: the stream's queue, RecordsMax or BytesMax is full: try again later
//     (PublishWait waits);
//   - ErrResyncing: the stream is not open yet: wait for OnReplay;
//   - *ResyncError (errors.Is ErrResyncing): a replay moved the stream to From: publish from
//     there (a Publish of From itself is taken);
//   - ErrInvalid: seq is not the next one, or data is over RecordMax;
//   - ErrNoStream: the stream was not opened; ErrNotActive (reserved); ErrClosed.
func (c *Client) Publish(stream, seq uint64, version uint32, data []byte) error {
	_, err := c.publish(stream, seq, version, data, false)
	return err
}

func (c *Client) publish(stream, seq uint64, version uint32, data []byte,
	wait bool) (<-chan struct{}, error) {
	var p unsafe.Pointer

	if len(data) > RecordMax {
		return nil, ErrInvalid
	}
	if len(data) > 0 {
		p = unsafe.Pointer(&data[0]) // Go memory without Go pointers; C copies it and keeps none
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.c == nil {
		return nil, ErrClosed
	}
	from, resyncing := c.resync[stream]
	if resyncing && seq != from {
		return nil, &ResyncError{Stream: stream, From: from}
	}
	rc := C.rg_client_publish(c.c, C.uint64_t(stream), C.uint64_t(seq), C.uint32_t(version), p,
		C.uint32_t(len(data)))
	if rc == 0 {
		if resyncing {
			delete(c.resync, stream)
		}
		c.kickLocked()
		return nil, nil
	}
	err := errorOf(rc)
	if wait && (err == ErrBackpressure || err == ErrResyncing) {
		if c.progress == nil {
			c.progress = make(chan struct{})
		}
		return c.progress, err
	}
	return nil, err
}

// PublishWait is Publish that waits while it says ErrBackpressure (until the gateway took
// records) or plain ErrResyncing (until the stream opened), for as long as ctx allows: then
// ctx.Err(). Any other result, a *ResyncError included, is returned at once.
func (c *Client) PublishWait(ctx context.Context, stream, seq uint64, version uint32,
	data []byte) error {
	// Bounded by ctx: each round waits for the event loop to report progress.
	for {
		ch, err := c.publish(stream, seq, version, data, true)
		if ch == nil {
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-c.done:
			return ErrClosed
		}
	}
}

// Subscribe receives stream from after applied, what this consumer made durable (0: from the
// start). Errors: ErrInvalid (id 0, or applied MaxUint64), ErrExists, ErrNoSpace.
func (c *Client) Subscribe(stream, applied uint64) error {
	return c.call(func(cl *C.struct_rg_client) C.int {
		return C.rg_client_subscribe(cl, C.uint64_t(stream), C.uint64_t(applied))
	})
}

// SubscribeNamespace receives every stream of namespace ns (nonzero); OnStreamApplied says
// where each one starts. Errors: ErrInvalid, ErrExists, ErrNoSpace (64 namespaces).
func (c *Client) SubscribeNamespace(ns uint32) error {
	return c.call(func(cl *C.struct_rg_client) C.int {
		return C.rg_client_subscribe_ns(cl, C.uint32_t(ns))
	})
}

// Applied says every seq <= seq of stream is durable; the gateway may tell the producer. It
// may be called from OnDeliver. Errors: ErrNoStream (not a stream this client receives),
// ErrInvalid (seq past what was delivered).
func (c *Client) Applied(stream, seq uint64) error {
	return c.call(func(cl *C.struct_rg_client) C.int {
		return C.rg_client_applied(cl, C.uint64_t(stream), C.uint64_t(seq))
	})
}

// Gateway is the id of the gateway serving this client now, 0 for none (yet).
func (c *Client) Gateway() uint16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.c == nil {
		return 0
	}
	return uint16(C.rg_client_gateway(c.c))
}

// Stats says what the client did; zero after Close.
func (c *Client) Stats() Stats {
	var st C.struct_rg_client_stats

	c.mu.Lock()
	if c.c == nil {
		c.mu.Unlock()
		return Stats{}
	}
	C.rg_client_stats(c.c, &st)
	s := statsOf(&st)
	s.PollErrors = c.pollErrs
	s.Polls = c.polls
	c.mu.Unlock()
	c.q.stats(&s)
	return s
}

// Done is closed when Close starts: a handler that blocks should return when it is.
func (c *Client) Done() <-chan struct{} { return c.done }

// Close says goodbye to the gateways, runs the event loop for Config.Linger so the goodbye
// leaves, stops the event loop, frees the library's client and returns. A handler running
// then finishes on its own and no other one starts; records queued for OnDeliver and not
// taken are dropped (they were not applied, so they come again to the next subscriber).
// Close must not be called from a handler. Later calls return nil; every other method then
// returns ErrClosed.
func (c *Client) Close() error {
	c.closing.Do(func() {
		c.mu.Lock()
		C.rg_client_close(c.c)
		c.kickLocked()
		c.mu.Unlock()
		time.Sleep(c.cfg.Linger)

		c.mu.Lock()
		c.stopping = true
		c.armLocked(0)
		c.mu.Unlock()
		<-c.loopDone

		close(c.done)
		c.mu.Lock()
		c.file.Close()
		C.rg_client_destroy(c.c)
		c.c = nil
		c.mu.Unlock()
		c.handle.Delete() // after destroy: the library calls back no more
	})
	return nil
}
