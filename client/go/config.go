// SPDX-License-Identifier: Apache-2.0

package repgate

/*
#include <string.h>
#include "repgate.h"
*/
import "C"

import (
	"fmt"
	"math"
	"time"
)

// Limits of librepgate (repgate.h).
const (
	GatewaysMax = C.RG_CLIENT_GATEWAYS_MAX // gateways in a Config
	RecordMax   = C.RG_CLIENT_RECORD_MAX   // the largest record: 1 MiB
	addrBytes   = C.RG_CLIENT_ADDR_BYTES
	PubKeyChars = C.RG_CLIENT_PUBKEY_CHARS // a Gateway.PubKey: base64 of 32 bytes
)

// Gateway is one gateway of the client's region.
type Gateway struct {
	ID   uint16 // the gateway's id (its profile's gateway.id)
	Addr string // IPv4, dotted: "10.1.0.2"
	Port uint16 // its UDP port (port.udp_port)
	// PubKey is its public key in base64, 44 characters (`repgatectl pubkey` of its
	// security.key): required when Config.KeyFile is set, empty when it is not.
	PubKey string
}

// Config describes a client. ID and Gateways are required; a zero size or duration takes
// librepgate's default (rg_client_config_default; the defaults are in parentheses).
type Config struct {
	ID          uint16    // this client's id: the gateway's profile lists it (clients.[].id)
	Incarnation uint64    // 0: from the clock, so a restarted client has a larger one
	Gateways    []Gateway // the region's gateways, in the order they are tried
	BindAddr    string    // "": any
	BindPort    uint16    // 0: any
	// KeyFile is this client's private key file (`repgatectl keygen`; mode 0600 or 0400, a
	// regular file): every packet is then sealed (AES-256-GCM) and every Gateway needs its
	// PubKey; the gateways run security.mode = "aead" and list this client's public key.
	// "": plaintext, for gateways with security.mode = "none". A wrong key looks like a
	// gateway that does not answer (EventUnreachable). NewClient reads the file once.
	KeyFile string

	StreamsMax       uint32        // streams opened plus streams received (1024)
	StreamRecordsMax uint32        // a stream's records held until the gateway has them (1024)
	RecordsMax       uint32        // the same over every stream (65536)
	BytesMax         uint64        // bytes of records held and being put together (64 MiB)
	WindowRecords    uint32        // consumer: records a stream may be ahead (256, a power of 2)
	PacketBytesMax   uint32        // the largest datagram sent (1472)
	ConnectTimeout   time.Duration // no gateway answered within this: unreachable (5 s)
	DeadAfter        time.Duration // the serving gateway silent this long is dead (1.5 s)

	// Go side. DeliverQueueRecords and DeliverQueueBytes bound the records copied out of
	// the library and not yet taken by OnDeliver (256 records, 16 MiB): when the queue is
	// full the library is told to hold on (the record comes again later and the stream's
	// credit stops, which slows the producer). DeliverRetry is how long a record OnDeliver
	// refused waits before it is offered again (10 ms). Linger is how long Close keeps the
	// event loop running after saying goodbye to the gateway, so the goodbye leaves (20 ms).
	DeliverQueueRecords int
	DeliverQueueBytes   int
	DeliverRetry        time.Duration
	Linger              time.Duration

	// Handlers. All but OnStreamApplied run on the client's dispatch goroutine, one at a
	// time, in the order the library reported them, outside the event loop and without the
	// client's lock: they may call any method of the Client but Close, and may block (a
	// blocked OnDeliver is backpressure; a blocked handler delays those after it). A nil
	// handler is not called.

	// OnReplay (producer): publish stream again from seq from (everything before is applied
	// or held by the library). It comes after Open, and again after any hop restarted or the
	// stream moved. Until it returned, Publish of that stream returns ErrResyncing for any
	// seq but from.
	OnReplay func(stream, from uint64)
	// OnApplied (producer): the consumer made every seq <= applied durable; the log may be
	// trimmed up to there. Repeated reports of one stream may be merged into the newest.
	OnApplied func(stream, applied uint64)
	// OnDeliver (consumer): one record, in seq order per stream, once. rec.Data is a copy
	// the handler owns. Return nil when it is taken; any error refuses it for now: the same
	// record is offered again after DeliverRetry, and nothing of any stream is delivered
	// meanwhile. Client.Applied may be called from it.
	OnDeliver func(rec Record) error
	// OnEvent: a gateway connected, the client moved, no gateway answers, a subscription
	// was taken or refused. When too many wait, the newest are dropped (Stats.EventsDropped).
	OnEvent func(ev Event)
	// OnStreamApplied (consumer, namespace subscriptions): a stream of a subscribed namespace
	// arrives for the first time: return its durable watermark (0: from the start), or an
	// error to refuse it. It runs inside the event loop with the client's lock held, because
	// the library needs the answer at once: it must be quick and must not call the Client
	// (that would deadlock). Nil: every stream from the start. Beware that a refusal is not
	// final: librepgate's core leaves the gateway's request unacknowledged, so it comes
	// again and again and holds back the other streams of its packets.
	OnStreamApplied func(stream uint64) (applied uint64, err error)
}

func (cfg *Config) withDefaults() Config {
	c := *cfg
	if c.DeliverQueueRecords <= 0 {
		c.DeliverQueueRecords = 256
	}
	if c.DeliverQueueBytes <= 0 {
		c.DeliverQueueBytes = 16 << 20
	}
	if c.DeliverRetry <= 0 {
		c.DeliverRetry = 10 * time.Millisecond
	}
	if c.Linger <= 0 {
		c.Linger = 20 * time.Millisecond
	}
	return c
}

func setString(dst []C.char, s string) error {
	if len(s) >= len(dst) {
		return fmt.Errorf("%w: %q is longer than %d bytes", ErrInvalid, s, len(dst)-1)
	}
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return fmt.Errorf("%w: %q has a NUL byte", ErrInvalid, s)
		}
		dst[i] = C.char(s[i])
	}
	dst[len(s)] = 0
	return nil
}

func durationNs(d time.Duration, dst *C.uint64_t) error {
	if d < 0 {
		return fmt.Errorf("%w: a negative duration %v", ErrInvalid, d)
	}
	if d > 0 {
		*dst = C.uint64_t(d.Nanoseconds())
	}
	return nil
}

// toC fills a C config; librepgate checks the rest (rg_client_create says -EINVAL).
func (cfg *Config) toC(cc *C.struct_rg_client_config) error {
	C.rg_client_config_default(cc)
	if len(cfg.Gateways) > GatewaysMax {
		return fmt.Errorf("%w: %d gateways, at most %d", ErrInvalid, len(cfg.Gateways), GatewaysMax)
	}
	cc.id = C.uint16_t(cfg.ID)
	cc.incarnation = C.uint64_t(cfg.Incarnation)
	for i, g := range cfg.Gateways {
		cg := &cc.gateways[i]
		cg.id = C.uint16_t(g.ID)
		cg.port = C.uint16_t(g.Port)
		if err := setString(cg.addr[:], g.Addr); err != nil {
			return err
		}
		if err := setString(cg.pubkey[:], g.PubKey); err != nil {
			return err
		}
	}
	if err := setString(cc.key_file[:], cfg.KeyFile); err != nil {
		return err
	}
	cc.ngateways = C.uint16_t(len(cfg.Gateways))
	if err := setString(cc.bind_addr[:], cfg.BindAddr); err != nil {
		return err
	}
	cc.bind_port = C.uint16_t(cfg.BindPort)
	set32 := func(v uint32, dst *C.uint32_t) {
		if v != 0 {
			*dst = C.uint32_t(v)
		}
	}
	set32(cfg.StreamsMax, &cc.streams_max)
	set32(cfg.StreamRecordsMax, &cc.stream_records_max)
	set32(cfg.RecordsMax, &cc.records_max)
	set32(cfg.WindowRecords, &cc.window_records)
	set32(cfg.PacketBytesMax, &cc.pkt_bytes_max)
	if cfg.BytesMax != 0 {
		cc.bytes_max = C.uint64_t(cfg.BytesMax)
	}
	if err := durationNs(cfg.ConnectTimeout, &cc.connect_timeout_ns); err != nil {
		return err
	}
	if err := durationNs(cfg.DeadAfter, &cc.dead_after_ns); err != nil {
		return err
	}
	if cfg.DeliverQueueBytes > math.MaxInt32 {
		return fmt.Errorf("%w: DeliverQueueBytes over 2 GiB", ErrInvalid)
	}
	return nil
}

// Record is one record a consumer received.
type Record struct {
	Stream  uint64
	Seq     uint64
	Version uint32 // the namespace's failover version the producer published it with
	Data    []byte // a copy: the handler may keep it
}

// EventType says what an Event reports.
type EventType int

// The events of repgate.h (enum rg_client_event_type).
const (
	EventConnected   EventType = C.RG_CLIENT_EV_CONNECTED   // a gateway serves this client now
	EventMoved       EventType = C.RG_CLIENT_EV_MOVED       // the serving gateway died: streams moved
	EventUnreachable EventType = C.RG_CLIENT_EV_UNREACHABLE // no gateway answers
	EventSubscribed  EventType = C.RG_CLIENT_EV_SUBSCRIBED  // a subscription was taken
	EventRefused     EventType = C.RG_CLIENT_EV_REFUSED     // a subscription was refused
)

func (t EventType) String() string {
	switch t {
	case EventConnected:
		return "connected"
	case EventMoved:
		return "moved"
	case EventUnreachable:
		return "unreachable"
	case EventSubscribed:
		return "subscribed"
	case EventRefused:
		return "refused"
	}
	return fmt.Sprintf("event(%d)", int(t))
}

// Refusal says why a subscription was refused (EventRefused).
type Refusal int

// The refusals of repgate.h (enum rg_client_refusal).
const (
	RefusedBusy       Refusal = C.RG_CLIENT_REFUSED_BUSY        // another consumer holds the stream
	RefusedFull       Refusal = C.RG_CLIENT_REFUSED_FULL        // the gateway's table is full
	RefusedNotAllowed Refusal = C.RG_CLIENT_REFUSED_NOT_ALLOWED // this client may not subscribe
	RefusedUnknown    Refusal = C.RG_CLIENT_REFUSED_UNKNOWN     // no such stream or namespace
)

func (r Refusal) String() string {
	switch r {
	case 0:
		return "none"
	case RefusedBusy:
		return "busy"
	case RefusedFull:
		return "full"
	case RefusedNotAllowed:
		return "not allowed"
	case RefusedUnknown:
		return "unknown"
	}
	return fmt.Sprintf("refusal(%d)", int(r))
}

// Event is something that happened to the client (struct rg_client_event).
type Event struct {
	Type      EventType
	Gateway   uint16  // Connected, Moved (the new one), Subscribed, Refused
	Namespace bool    // Subscribed, Refused: a namespace subscription (Key = ns << 32)
	Key       uint64  // Subscribed, Refused: the stream, or the namespace << 32
	Refusal   Refusal // Refused
}

func (e Event) String() string {
	s := fmt.Sprintf("%v gateway=%d", e.Type, e.Gateway)
	if e.Type == EventSubscribed || e.Type == EventRefused {
		s += fmt.Sprintf(" key=%#x namespace=%v", e.Key, e.Namespace)
	}
	if e.Type == EventRefused {
		s += " (" + e.Refusal.String() + ")"
	}
	return s
}

// Stats is what the client did (struct rg_client_stats), plus the Go side's queues.
type Stats struct {
	Published      uint64 // records taken by Publish
	PublishedBytes uint64
	Acked          uint64 // records the gateway has (released by the library)
	Applied        uint64 // producer: sum over streams of the applied watermarks
	Delivered      uint64 // consumer: records the library handed over (to the queue)
	DeliveredBytes uint64
	Refused        uint64 // the library was told to hold a record (queue full)
	HeldRecords    uint64 // records held now (until the gateway has them)
	HeldBytes      uint64 // bytes held now: records and reassembly
	PacketsTx      uint64
	PacketsRx      uint64
	BytesTx        uint64
	BytesRx        uint64
	RtxFrames      uint64        // frames sent again after a loss
	DropsRx        uint64        // datagrams the protocol refused (malformed, stale, ...)
	SendErrors     uint64        // datagrams the socket would not take
	GsoSends       uint64        // sends that carried several datagrams (UDP GSO)
	Moves          uint64        // failovers to another gateway
	RTT            time.Duration // smoothed RTT to the serving gateway

	DeliverQueued  int    // records copied out, not yet taken by OnDeliver
	HandlerRefused uint64 // times OnDeliver refused a record
	EventsDropped  uint64 // events dropped because too many waited
	PollErrors     uint64 // rg_client_poll said a socket error (the client stays usable)
	Polls          uint64 // rounds of the event loop (rg_client_poll calls)
}

func statsOf(s *C.struct_rg_client_stats) Stats {
	return Stats{
		Published:      uint64(s.published),
		PublishedBytes: uint64(s.published_bytes),
		Acked:          uint64(s.acked),
		Applied:        uint64(s.applied),
		Delivered:      uint64(s.delivered),
		DeliveredBytes: uint64(s.delivered_bytes),
		Refused:        uint64(s.refused),
		HeldRecords:    uint64(s.held_records),
		HeldBytes:      uint64(s.held_bytes),
		PacketsTx:      uint64(s.packets_tx),
		PacketsRx:      uint64(s.packets_rx),
		BytesTx:        uint64(s.bytes_tx),
		BytesRx:        uint64(s.bytes_rx),
		RtxFrames:      uint64(s.rtx_frames),
		DropsRx:        uint64(s.drops_rx),
		SendErrors:     uint64(s.send_errors),
		GsoSends:       uint64(s.gso_sends),
		Moves:          uint64(s.moves),
		RTT:            time.Duration(s.rtt_ns),
	}
}
