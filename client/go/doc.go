// SPDX-License-Identifier: Apache-2.0

// Package repgate is the Go binding of librepgate, repgate's producer and consumer library
// (client/repgate.h is the contract; DESIGN §4.9).
//
// A Client talks RGP over one UDP socket to a gateway of its region. A producer opens streams
// and publishes their records in seq order; the gateways carry them to the consumers in the
// replica regions, which receive each record once, in order, and say what they made durable
// (Applied), which travels back to the producer (OnApplied).
//
//	c, err := repgate.NewClient(repgate.Config{
//		ID:       10,
//		Gateways: []repgate.Gateway{{ID: 1, Addr: "10.1.0.2", Port: 7000}},
//		OnReplay: func(stream, from uint64) { ... publish stream again from seq from ... },
//	})
//	...
//	err = c.Open(stream)
//	err = c.PublishWait(ctx, stream, seq, version, payload)
//
// Threads. Every method may be called from any goroutine: a mutex serializes the calls into
// the library, which is single-threaded. An event loop goroutine waits in Go's netpoller for
// the socket or the library's next deadline and polls the library; a dispatcher goroutine
// runs the handlers of Config (OnReplay, OnApplied, OnDeliver, OnEvent) one at a time,
// outside the lock, so they may call the Client and may block. OnStreamApplied alone runs
// inside the event loop (the library needs its answer at once).
//
// Replays. A replay tells the producer to publish a stream again from a seq (the consumer's
// applied watermark + 1; 1 for a new stream): after Open, and after any hop restarted. It
// comes twice: to OnReplay, so an idle producer learns it must publish again, and through
// Publish, which returns a *ResyncError naming the seq for any other seq until that one was
// published. So a producer goroutine that owns its cursor never publishes a stale seq, however
// its OnReplay races with it.
//
// Records delivered to OnDeliver are copies: the library's view of a record is valid only
// during its callback, and the handler runs later, on another goroutine.
package repgate
