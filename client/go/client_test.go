// SPDX-License-Identifier: Apache-2.0

package repgate

// Producer → A → B → consumer through the tests' gateway pair (harness_test.go). Every wait
// is bounded by a context; every record is checked (seq, version, bytes) as it arrives.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

const version = 9

// recLen: mostly small records, every 50th larger than a datagram (fragmented), every 97th empty.
func recLen(seq uint64) int {
	switch {
	case seq%97 == 0:
		return 0
	case seq%50 == 0:
		return 4000 + int(seq%3000)
	}
	return int(seq * 7 % 600)
}

func recData(stream, seq uint64) []byte {
	b := make([]byte, recLen(seq))
	for i := range b {
		b[i] = byte(stream*31 + seq*131 + uint64(i)*7)
	}
	return b
}

// ---- a consumer that checks every record and applies it at once ----

var errBlocked = errors.New("the test's consumer takes nothing now")

type consumer struct {
	ck      *checker
	c       *Client
	mu      sync.Mutex
	next    map[uint64]uint64 // stream → the seq it wants next
	got     map[uint64]uint64 // stream → records taken
	events  []Event
	block   atomic.Bool // refuse every record while set
	refused atomic.Int64
}

// newConsumer makes the consumer e (its id, gateway and key file); tweak adds to its Config.
func newConsumer(t *testing.T, ck *checker, e endpoint, tweak func(*Config)) *consumer {
	co := &consumer{ck: ck, next: map[uint64]uint64{}, got: map[uint64]uint64{}}
	cfg := e.config()
	cfg.OnDeliver, cfg.OnEvent = co.deliver, co.event
	if tweak != nil {
		tweak(&cfg)
	}
	c, err := NewClient(cfg)
	ck.ok(err == nil, "consumer %d: NewClient: %v", e.id, err)
	co.c = c
	t.Cleanup(func() { c.Close() })
	return co
}

func (co *consumer) deliver(r Record) error {
	if co.block.Load() {
		co.refused.Add(1)
		return errBlocked
	}
	co.mu.Lock()
	want := co.next[r.Stream]
	if want == 0 {
		want = 1
	}
	good := co.ck.expect(r.Seq == want, "stream %#x: seq %d, want %d", r.Stream, r.Seq, want) &&
		co.ck.expect(r.Version == version, "seq %d: version %d", r.Seq, r.Version) &&
		co.ck.expect(bytes.Equal(r.Data, recData(r.Stream, r.Seq)),
			"stream %#x seq %d: %d bytes, not the ones published", r.Stream, r.Seq, len(r.Data))
	if good {
		co.next[r.Stream] = r.Seq + 1
		co.got[r.Stream]++
	}
	co.mu.Unlock()
	if good { // applied at once, from inside the handler
		err := co.c.Applied(r.Stream, r.Seq)
		co.ck.expect(err == nil, "Applied(%#x, %d): %v", r.Stream, r.Seq, err)
	}
	return nil
}

func (co *consumer) event(ev Event) {
	co.mu.Lock()
	co.events = append(co.events, ev)
	co.mu.Unlock()
}

func (co *consumer) count(stream uint64) (got, next uint64) {
	co.mu.Lock()
	defer co.mu.Unlock()
	return co.got[stream], co.next[stream]
}

func (co *consumer) saw(typ EventType, key uint64) bool {
	co.mu.Lock()
	defer co.mu.Unlock()
	for _, ev := range co.events {
		if ev.Type == typ && ev.Key == key {
			return true
		}
	}
	return false
}

// ---- a producer that follows replays ----

type producer struct {
	c       *Client
	mu      sync.Mutex
	from    map[uint64]uint64 // stream → the newest replay's seq
	applied map[uint64]uint64
	events  []Event
	changed chan struct{} // capacity 1: a replay or an applied came
}

// newProducer makes the producer e (its id, gateway and key file).
func newProducer(t *testing.T, ck *checker, e endpoint) *producer {
	p := &producer{from: map[uint64]uint64{}, applied: map[uint64]uint64{},
		changed: make(chan struct{}, 1)}
	cfg := e.config()
	cfg.OnReplay = func(stream, from uint64) {
		p.mu.Lock()
		p.from[stream] = from
		p.mu.Unlock()
		p.poke()
	}
	cfg.OnApplied = func(stream, applied uint64) {
		p.mu.Lock()
		ck.expect(applied >= p.applied[stream], "applied went back: %d then %d",
			p.applied[stream], applied)
		p.applied[stream] = applied
		p.mu.Unlock()
		p.poke()
	}
	cfg.OnEvent = func(ev Event) {
		p.mu.Lock()
		p.events = append(p.events, ev)
		p.mu.Unlock()
	}
	c, err := NewClient(cfg)
	ck.ok(err == nil, "producer %d: NewClient: %v", e.id, err)
	p.c = c
	t.Cleanup(func() { c.Close() })
	return p
}

func (p *producer) poke() {
	select {
	case p.changed <- struct{}{}:
	default:
	}
}

// waitFor waits until cond holds (read under p.mu), or ctx ends.
func (p *producer) waitFor(ctx context.Context, cond func() bool) error {
	for {
		p.mu.Lock()
		ok := cond()
		p.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-p.changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (p *producer) replayFrom(ctx context.Context, stream uint64) (uint64, error) {
	var from uint64
	err := p.waitFor(ctx, func() bool { from = p.from[stream]; return from != 0 })
	return from, err
}

func (p *producer) waitApplied(ctx context.Context, stream, upto uint64) error {
	return p.waitFor(ctx, func() bool { return p.applied[stream] >= upto })
}

// publish publishes stream from cursor through upto, blocking through backpressure and
// following any replay (the *ResyncError says where from); it returns where it stopped.
func (p *producer) publish(ctx context.Context, stream, cursor, upto uint64) (uint64, error) {
	// Bounded by upto and ctx.
	for cursor <= upto {
		err := p.c.PublishWait(ctx, stream, cursor, version, recData(stream, cursor))
		var rs *ResyncError
		switch {
		case err == nil:
			cursor++
		case errors.As(err, &rs):
			cursor = rs.From
		default:
			return cursor, fmt.Errorf("PublishWait(seq %d): %w", cursor, err)
		}
	}
	return cursor, nil
}

func (p *producer) saw(typ EventType, gw uint16) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ev := range p.events {
		if ev.Type == typ && ev.Gateway == gw {
			return true
		}
	}
	return false
}

// eventually waits up to d for cond, polling every millisecond.
func eventually(d time.Duration, cond func() bool) bool {
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// ---- tests ----

// N records published by one client arrive in order, once, with their bytes, at the other;
// applied comes back; nothing stays held; Close leaves no goroutine behind.
func TestClientPublishConsumeThroughGatewayPair(t *testing.T) {
	const n = 3000
	pr := requirePair(t)
	ck := &checker{t: t}
	defer ck.done()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	stream := streamIDs(5, 1)[0]
	goroutines := runtime.NumGoroutine()

	co := newConsumer(t, ck, pr.client(t, 1), nil)
	ck.ok(co.c.Subscribe(stream, 0) == nil, "Subscribe")
	p := newProducer(t, ck, pr.client(t, 0))
	ck.ok(p.c.Open(stream) == nil, "Open")
	start := time.Now()
	from, err := p.replayFrom(ctx, stream)
	ck.ok(err == nil && from == 1, "the first replay: from %d, %v", from, err)
	ck.ok(p.c.Gateway() == pr.a.ID, "serving gateway %d, want %d", p.c.Gateway(), pr.a.ID)
	end, err := p.publish(ctx, stream, from, n)
	ck.ok(err == nil && end == n+1, "published up to %d: %v", end-1, err)
	ck.ok(p.waitApplied(ctx, stream, n) == nil, "applied %d of %d; producer %+v; consumer %+v",
		p.applied[stream], n, p.c.Stats(), co.c.Stats())
	took := time.Since(start)
	got, next := co.count(stream)
	ck.ok(got == n && next == n+1, "consumer took %d records, wants %d next", got, next)

	ps, cs := p.c.Stats(), co.c.Stats()
	ck.ok(ps.Published == n, "producer published %d", ps.Published)
	ck.ok(ps.Applied == n, "producer's applied %d", ps.Applied)
	ck.ok(cs.Delivered == n && cs.DeliverQueued == 0, "consumer delivered %d, %d queued",
		cs.Delivered, cs.DeliverQueued)
	ck.ok(eventually(5*time.Second, func() bool { return p.c.Stats().HeldRecords == 0 }),
		"the producer still holds %d records", p.c.Stats().HeldRecords)
	ck.ok(p.saw(EventConnected, pr.a.ID), "no connected event from A: %v", p.events)
	ck.ok(co.saw(EventSubscribed, stream), "no subscribed event: %v", co.events)
	t.Logf("%d records, %d bytes in %v (%.0f records/s); producer sent %d datagrams (%d GSO), "+
		"consumer got %d; rtt %v", n, cs.DeliveredBytes, took, float64(n)/took.Seconds(),
		ps.PacketsTx, ps.GsoSends, cs.PacketsRx, ps.RTT)
	t.Logf("consumer: %+v", cs)

	ck.ok(p.c.Close() == nil && co.c.Close() == nil, "Close")
	ck.ok(p.c.Close() == nil, "a second Close")
	ck.ok(eventually(2*time.Second, func() bool { return runtime.NumGoroutine() <= goroutines }),
		"goroutines: %d before, %d after Close", goroutines, runtime.NumGoroutine())
	ck.ok(errors.Is(p.c.Publish(stream, n+1, version, nil), ErrClosed), "Publish after Close")
}

// Sealed end to end: KeyFile and each Gateway's PubKey reach librepgate and every record
// arrives, through the tests' pair when it is sealed (RG_TEST_GW_A/B with PUBKEY and
// RG_TEST_KEYS), else through a sealed software pair of its own (rg-softgw-pair --keys). A
// plaintext client of a sealed gateway is dropped there (MODE_MISMATCH) and finds it
// unreachable; a key file others may read and a PubKey without KeyFile are refused with words.
func TestClientSealedThroughGatewayPair(t *testing.T) {
	const n = 1000
	pr := requirePair(t)
	if pr.keys == "" && pr.cmd == nil {
		t.Skip("skipped: RG_TEST_GW_A/B name plaintext gateways (no PUBKEY, no RG_TEST_KEYS)")
	}
	ck := &checker{t: t}
	defer ck.done()
	sp := pr
	if pr.keys == "" {
		var err error
		sp, err = startPairWith(t.TempDir())
		ck.ok(err == nil, "a sealed pair: %v", err)
		defer sp.stop()
	}
	ck.ok(len(sp.a.PubKey) == PubKeyChars && len(sp.b.PubKey) == PubKeyChars,
		"the pair's public keys: %q %q", sp.a.PubKey, sp.b.PubKey)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	stream := streamIDs(5, 1)[0]

	co := newConsumer(t, ck, sp.client(t, 1), nil)
	ck.ok(co.c.Subscribe(stream, 0) == nil, "Subscribe")
	pe := sp.client(t, 0)
	ck.ok(pe.keyFile != "" && pe.gw.PubKey == sp.a.PubKey, "the producer seals: %+v", pe)
	p := newProducer(t, ck, pe)
	ck.ok(p.c.Open(stream) == nil, "Open")
	from, err := p.replayFrom(ctx, stream)
	ck.ok(err == nil && from == 1, "the first replay: from %d, %v", from, err)
	end, err := p.publish(ctx, stream, from, n)
	ck.ok(err == nil && end == n+1, "published up to %d: %v", end-1, err)
	ck.ok(p.waitApplied(ctx, stream, n) == nil, "applied %d of %d", p.applied[stream], n)
	got, next := co.count(stream)
	ck.ok(got == n && next == n+1, "consumer took %d records, wants %d next", got, next)
	ck.ok(co.c.Stats().DropsRx == 0, "the consumer refused %d datagrams", co.c.Stats().DropsRx)

	// A client of the pair in plaintext (its gateway without PubKey): A drops what it sends.
	pt := sp.client(t, 0)
	var unreachable atomic.Int64
	cfg := Config{ID: pt.id, ConnectTimeout: 300 * time.Millisecond,
		Gateways: []Gateway{{ID: pt.gw.ID, Addr: pt.gw.Addr, Port: pt.gw.Port}},
		OnEvent: func(ev Event) {
			if ev.Type == EventUnreachable {
				unreachable.Add(1)
			}
		}}
	plain, err := NewClient(cfg)
	ck.ok(err == nil, "a plaintext client: NewClient: %v", err)
	ck.ok(eventually(5*time.Second, func() bool { return unreachable.Load() > 0 }),
		"a plaintext client of a sealed gateway: unreachable said %d times, serving gateway %d",
		unreachable.Load(), plain.Gateway())
	ck.ok(plain.Gateway() == 0 && plain.Stats().PacketsRx == 0,
		"a plaintext client of a sealed gateway was answered: gateway %d, %d datagrams",
		plain.Gateway(), plain.Stats().PacketsRx)
	ck.ok(plain.Close() == nil, "Close")

	open := filepath.Join(t.TempDir(), "open.key")
	b, err := os.ReadFile(pe.keyFile)
	ck.ok(err == nil && os.WriteFile(open, b, 0o644) == nil && os.Chmod(open, 0o644) == nil,
		"writing a 0644 key file: %v", err)
	c, err := NewClient(Config{ID: pe.id, Gateways: []Gateway{pe.gw}, KeyFile: open})
	ck.ok(c == nil && errors.Is(err, ErrKeyExposed) && strings.Contains(err.Error(), "chmod"),
		"a 0644 key file: %v", err)
	c, err = NewClient(Config{ID: pe.id, Gateways: []Gateway{pe.gw}})
	ck.ok(c == nil && errors.Is(err, ErrInvalid) && strings.Contains(err.Error(), "pubkey"),
		"a PubKey without KeyFile: %v", err)
}

// A consumer that takes nothing: the producer sees ErrBackpressure after a bounded number of
// records, PublishWait gives up with its context, and nothing is lost once the consumer reads.
func TestClientBackpressureFromASlowConsumer(t *testing.T) {
	const queue = 32
	pr := requirePair(t)
	ck := &checker{t: t}
	defer ck.done()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	stream := streamIDs(5, 1)[0]

	co := newConsumer(t, ck, pr.client(t, 1), func(cfg *Config) {
		cfg.DeliverQueueRecords = queue
		cfg.DeliverRetry = 5 * time.Millisecond
	})
	co.block.Store(true)
	ck.ok(co.c.Subscribe(stream, 0) == nil, "Subscribe")
	p := newProducer(t, ck, pr.client(t, 0))
	ck.ok(p.c.Open(stream) == nil, "Open")
	cursor, err := p.replayFrom(ctx, stream)
	ck.ok(err == nil && cursor == 1, "the first replay: from %d, %v", cursor, err)

	// Publish all it may until nothing more was taken for half a second.
	eagain, last := 0, time.Now()
	for time.Since(last) < 500*time.Millisecond && ctx.Err() == nil {
		err := p.c.Publish(stream, cursor, version, recData(stream, cursor))
		switch {
		case err == nil:
			cursor++
			last = time.Now()
		case errors.Is(err, ErrBackpressure):
			eagain++
			time.Sleep(time.Millisecond)
		default:
			t.Fatalf("Publish(%d): %v", cursor, err)
		}
	}
	stopped := cursor - 1
	ck.ok(eagain > 100, "ErrBackpressure %d times", eagain)
	ck.ok(errors.Is(ErrBackpressure, syscall.EAGAIN), "ErrBackpressure is not EAGAIN")
	ck.ok(co.refused.Load() > 0, "the consumer never refused")
	// bounded: a send queue (1024) and a window (256) at each of the three hops, plus ours
	ck.ok(stopped > 0 && stopped <= 3*(1024+256)+queue, "the producer stopped at %d", stopped)
	short, cancelShort := context.WithTimeout(ctx, 100*time.Millisecond)
	err = p.c.PublishWait(short, stream, cursor, version, recData(stream, cursor))
	cancelShort()
	ck.ok(errors.Is(err, context.DeadlineExceeded), "PublishWait while held: %v", err)
	cs := co.c.Stats()
	ck.ok(cs.HandlerRefused > 0 && cs.DeliverQueued > 0 && cs.DeliverQueued <= queue,
		"consumer: refused %d, %d queued", cs.HandlerRefused, cs.DeliverQueued)
	t.Logf("the producer stopped at %d records; ErrBackpressure %d times; the consumer "+
		"refused %d times, queued %d, the library held %d times", stopped, eagain,
		cs.HandlerRefused, cs.DeliverQueued, cs.Refused)

	co.block.Store(false)
	upto := stopped + 500
	end, err := p.publish(ctx, stream, cursor, upto)
	ck.ok(err == nil && end == upto+1, "published up to %d: %v", end-1, err)
	ck.ok(p.waitApplied(ctx, stream, upto) == nil, "applied %d of %d", p.applied[stream], upto)
	got, next := co.count(stream)
	ck.ok(got == upto && next == upto+1, "consumer took %d records of %d", got, upto)
}

// A namespace subscription: streams of the namespace the consumer never named arrive, each
// from where OnStreamApplied said, in order.
func TestClientNamespaceSubscription(t *testing.T) {
	const n = 300
	pr := requirePair(t)
	ck := &checker{t: t}
	defer ck.done()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	ns := 0x100 + runs.Add(1)%0xfff00 // a namespace no earlier run used
	streams := streamIDs(ns, 2)
	var asked sync.Map

	co := newConsumer(t, ck, pr.client(t, 1), func(cfg *Config) {
		cfg.OnStreamApplied = func(stream uint64) (uint64, error) {
			asked.Store(stream, true)
			if uint32(stream>>32) != ns {
				return 0, ErrInvalid
			}
			return 0, nil
		}
	})
	ck.ok(co.c.SubscribeNamespace(ns) == nil, "SubscribeNamespace")
	ck.ok(errors.Is(co.c.SubscribeNamespace(ns), ErrExists), "SubscribeNamespace twice")
	p := newProducer(t, ck, pr.client(t, 0))
	for _, s := range streams {
		ck.ok(p.c.Open(s) == nil, "Open(%#x)", s)
	}
	for _, s := range streams {
		from, err := p.replayFrom(ctx, s)
		ck.ok(err == nil && from == 1, "stream %#x: replay from %d, %v", s, from, err)
		end, err := p.publish(ctx, s, from, n)
		ck.ok(err == nil && end == n+1, "stream %#x: published up to %d: %v", s, end-1, err)
	}
	for _, s := range streams {
		ck.ok(p.waitApplied(ctx, s, n) == nil, "stream %#x: applied %d", s, p.applied[s])
		got, _ := co.count(s)
		ck.ok(got == n, "stream %#x: consumer took %d of %d", s, got, n)
		_, ok := asked.Load(s)
		ck.ok(ok, "OnStreamApplied was not asked about %#x", s)
	}
	ck.ok(co.saw(EventSubscribed, uint64(ns)<<32), "no namespace subscribed event: %v", co.events)
}

// Every error of the contract maps to its Go value; a replay is followed through Publish.
func TestClientErrorMapping(t *testing.T) {
	pr := requirePair(t)
	ck := &checker{t: t}
	defer ck.done()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// The codes themselves.
	for _, c := range []struct {
		code  int
		want  error
		errno syscall.Errno
		name  string
	}{
		{-int(syscall.EAGAIN), ErrBackpressure, syscall.EAGAIN, "EAGAIN"},
		{-int(syscall.ENOTCONN), ErrResyncing, syscall.ENOTCONN, "ENOTCONN"},
		{-int(syscall.EROFS), ErrNotActive, syscall.EROFS, "ENOTACTIVE"},
		{-int(syscall.EINVAL), ErrInvalid, syscall.EINVAL, "EINVAL"},
		{-int(syscall.ENOENT), ErrNoStream, syscall.ENOENT, "ENOENT"},
		{-int(syscall.EEXIST), ErrExists, syscall.EEXIST, "EEXIST"},
		{-int(syscall.ENOSPC), ErrNoSpace, syscall.ENOSPC, "ENOSPC"},
		{-int(syscall.ENOMEM), ErrNoMemory, syscall.ENOMEM, "ENOMEM"},
		{-int(syscall.EDEADLK), ErrDeadlock, syscall.EDEADLK, "EDEADLK"},
		{-int(syscall.ETIMEDOUT), ErrTimeout, syscall.ETIMEDOUT, "ETIMEDOUT"},
	} {
		err := errorOfCode(c.code)
		ck.ok(err == c.want, "code %d: %v, want %v", c.code, err, c.want)
		ck.ok(errors.Is(err, c.errno), "code %d is not %v", c.code, c.errno)
		ck.ok(strings.Contains(err.Error(), c.name), "code %d says %q", c.code, err)
	}
	ck.ok(errorOfCode(0) == nil, "0 is not nil")
	other := errorOfCode(-int(syscall.EADDRINUSE))
	ck.ok(errors.Is(other, syscall.EADDRINUSE) && !errors.Is(other, ErrInvalid) &&
		strings.Contains(other.Error(), "address already in use"), "EADDRINUSE: %v", other)

	// Configs the library refuses.
	gw := Gateway{ID: 1, Addr: "127.0.0.1", Port: 9}
	for i, cfg := range []Config{
		{ID: 0, Gateways: []Gateway{gw}},
		{ID: 7},
		{ID: 7, Gateways: []Gateway{{ID: 1, Addr: "10.0.0.300", Port: 9}}},
		{ID: 7, Gateways: []Gateway{{ID: 1, Addr: strings.Repeat("1", 64), Port: 9}}},
		{ID: 7, Gateways: []Gateway{{ID: 7, Addr: "127.0.0.1", Port: 9}}},
		{ID: 7, Gateways: make([]Gateway, GatewaysMax+1)},
		{ID: 7, Gateways: []Gateway{gw}, WindowRecords: 100},
		{ID: 7, Gateways: []Gateway{gw}, DeadAfter: -time.Second},
	} {
		c, err := NewClient(cfg)
		ck.ok(c == nil && errors.Is(err, ErrInvalid), "config %d: %v", i, err)
	}
	busy, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	ck.ok(err == nil, "a UDP socket: %v", err)
	defer busy.Close()
	busyPort := uint16(busy.LocalAddr().(*net.UDPAddr).Port)
	_, err = NewClient(Config{ID: 7, Gateways: []Gateway{gw}, BindAddr: "127.0.0.1",
		BindPort: busyPort})
	ck.ok(errors.Is(err, syscall.EADDRINUSE), "a bind port in use: %v", err)

	// A client whose gateway never answers (busy reads nothing): nothing ever opens.
	var unreachable atomic.Int64
	lone, err := NewClient(Config{ID: 7, ConnectTimeout: 200 * time.Millisecond,
		Gateways: []Gateway{{ID: 1, Addr: "127.0.0.1", Port: busyPort}},
		OnEvent: func(ev Event) {
			if ev.Type == EventUnreachable {
				unreachable.Add(1)
			}
		}})
	ck.ok(err == nil, "NewClient: %v", err)
	ids := streamIDs(5, 2)
	s, s2 := ids[0], ids[1]
	ck.ok(errors.Is(lone.Open(0), ErrInvalid), "Open(0)")
	ck.ok(lone.Open(s) == nil, "Open")
	ck.ok(errors.Is(lone.Open(s), ErrExists), "Open twice")
	err = lone.Publish(s, 1, version, []byte("x"))
	var rs *ResyncError
	ck.ok(err == ErrResyncing && !errors.As(err, &rs), "Publish before the stream opened: %v", err)
	ck.ok(errors.Is(lone.Publish(s2, 1, version, nil), ErrNoStream), "Publish of no stream")
	ck.ok(errors.Is(lone.Publish(s, 1, version, make([]byte, RecordMax+1)), ErrInvalid),
		"Publish over 1 MiB")
	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	err = lone.PublishWait(short, s, 1, version, nil)
	cancelShort()
	ck.ok(errors.Is(err, context.DeadlineExceeded), "PublishWait before the stream opened: %v", err)
	ck.ok(errors.Is(lone.Subscribe(s, 0), ErrExists), "Subscribe to a stream it publishes")
	ck.ok(errors.Is(lone.Subscribe(0, 0), ErrInvalid), "Subscribe(0)")
	ck.ok(errors.Is(lone.Subscribe(s2, math.MaxUint64), ErrInvalid), "Subscribe from MaxUint64")
	ck.ok(errors.Is(lone.SubscribeNamespace(0), ErrInvalid), "SubscribeNamespace(0)")
	ck.ok(errors.Is(lone.Applied(s2, 1), ErrNoStream), "Applied of no stream")
	ck.ok(lone.Subscribe(s2, 0) == nil, "Subscribe")
	ck.ok(errors.Is(lone.Applied(s2, 1), ErrInvalid), "Applied past what was delivered")
	ck.ok(lone.Gateway() == 0, "a gateway serves: %d", lone.Gateway())
	ck.ok(eventually(3*time.Second, func() bool { return unreachable.Load() == 1 }),
		"unreachable said %d times", unreachable.Load())
	ck.ok(lone.Close() == nil, "Close")
	for name, err := range map[string]error{
		"Open":        lone.Open(s2 + 1),
		"Publish":     lone.Publish(s, 1, version, nil),
		"Subscribe":   lone.Subscribe(s2+1, 0),
		"Applied":     lone.Applied(s2, 0),
		"PublishWait": lone.PublishWait(ctx, s, 1, version, nil),
	} {
		ck.ok(errors.Is(err, ErrClosed), "%s after Close: %v", name, err)
	}
	ck.ok(lone.Stats() == (Stats{}) && lone.Gateway() == 0, "Stats after Close")

	// A live stream (a consumer, for the relay opens it end to end): the replay is followed
	// through Publish.
	co := newConsumer(t, ck, pr.client(t, 1), nil)
	ck.ok(co.c.Subscribe(s, 0) == nil, "Subscribe")
	p := newProducer(t, ck, pr.client(t, 0))
	ck.ok(p.c.Open(s) == nil, "Open")
	from, err := p.replayFrom(ctx, s)
	ck.ok(err == nil && from == 1, "replay from %d: %v", from, err)
	err = p.c.Publish(s, 7, version, nil)
	ck.ok(errors.As(err, &rs) && rs.From == 1 && rs.Stream == s, "Publish(7) after replay: %v", err)
	ck.ok(errors.Is(err, ErrResyncing) && errors.Is(err, syscall.ENOTCONN), "%v is not ErrResyncing", err)
	ck.ok(p.c.Publish(s, 1, version, recData(s, 1)) == nil, "Publish(1)")
	ck.ok(errors.Is(p.c.Publish(s, 5, version, nil), ErrInvalid), "Publish(5) after 1")
	ck.ok(errors.Is(p.c.Publish(s, 1, version, nil), ErrInvalid), "Publish(1) again")
	ck.ok(p.c.Publish(s, 2, version, recData(s, 2)) == nil, "Publish(2)")
}
