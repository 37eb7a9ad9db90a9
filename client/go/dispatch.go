// SPDX-License-Identifier: Apache-2.0

package repgate

import (
	"sync"
	"time"
)

// What the library's callbacks (callbacks.go, inside rg_client_poll, with Client.mu held)
// leave for the dispatcher, which runs the handlers outside the lock. Bounded:
//   - a replay and an applied are kept once per stream, the newest value (so at most two
//     items per stream wait);
//   - at most eventsMax events wait; more are dropped and counted;
//   - records wait up to DeliverQueueRecords / DeliverQueueBytes; past that the library is
//     told to hold on (-EAGAIN), which is librepgate's backpressure.
//
// Lock order: Client.mu before dispatchQueue.mu; the dispatcher never holds both.

const eventsMax = 256

const (
	itemReplay = iota + 1
	itemApplied
	itemEvent
)

type ctrlItem struct {
	kind   int
	stream uint64
	ev     Event
}

type dispatchQueue struct {
	mu        sync.Mutex
	ctrl      []ctrlItem        // replays, applieds and events, in the order they came
	replay    map[uint64]uint64 // stream → newest from, while its item waits in ctrl
	applied   map[uint64]uint64 // stream → newest applied, while its item waits in ctrl
	events    int               // events waiting in ctrl
	recs      []Record          // records for OnDeliver, in order
	recBytes  int
	held      bool // the library was told -EAGAIN since the queue last had room
	refused   uint64
	evDropped uint64
	signal    chan struct{} // capacity 1: something was queued, or room was made
}

func (q *dispatchQueue) init() {
	q.replay = make(map[uint64]uint64)
	q.applied = make(map[uint64]uint64)
	q.signal = make(chan struct{}, 1)
}

func (q *dispatchQueue) wake() {
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

func (q *dispatchQueue) putReplay(stream, from uint64) {
	q.mu.Lock()
	if _, ok := q.replay[stream]; !ok {
		q.ctrl = append(q.ctrl, ctrlItem{kind: itemReplay, stream: stream})
	}
	q.replay[stream] = from
	q.mu.Unlock()
	q.wake()
}

func (q *dispatchQueue) putApplied(stream, applied uint64) {
	q.mu.Lock()
	if _, ok := q.applied[stream]; !ok {
		q.ctrl = append(q.ctrl, ctrlItem{kind: itemApplied, stream: stream})
	}
	if applied > q.applied[stream] {
		q.applied[stream] = applied
	}
	q.mu.Unlock()
	q.wake()
}

func (q *dispatchQueue) putEvent(ev Event) {
	q.mu.Lock()
	if q.events >= eventsMax {
		q.evDropped++
	} else {
		q.events++
		q.ctrl = append(q.ctrl, ctrlItem{kind: itemEvent, ev: ev})
	}
	q.mu.Unlock()
	q.wake()
}

// roomFor says whether a record of n bytes may be queued (the first always may).
func (q *dispatchQueue) roomFor(n int, maxRecs, maxBytes int) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.recs) > 0 && (len(q.recs) >= maxRecs || q.recBytes+n > maxBytes) {
		q.held = true
		return false
	}
	return true
}

func (q *dispatchQueue) putRecord(r Record) {
	q.mu.Lock()
	q.recs = append(q.recs, r)
	q.recBytes += len(r.Data)
	q.mu.Unlock()
	q.wake()
}

// popCtrl takes the oldest replay, applied or event, with its newest value.
func (q *dispatchQueue) popCtrl() (ctrlItem, uint64, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.ctrl) == 0 {
		return ctrlItem{}, 0, false
	}
	it := q.ctrl[0]
	q.ctrl[0] = ctrlItem{}
	q.ctrl = q.ctrl[1:]
	var v uint64
	switch it.kind {
	case itemReplay:
		v = q.replay[it.stream]
		delete(q.replay, it.stream)
	case itemApplied:
		v = q.applied[it.stream]
		delete(q.applied, it.stream)
	case itemEvent:
		q.events--
	}
	return it, v, true
}

func (q *dispatchQueue) peekRecord() (Record, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.recs) == 0 {
		return Record{}, false
	}
	return q.recs[0], true
}

// popRecord drops the oldest record; it says whether the library was held meanwhile (then
// the event loop should poll at once, so the held record comes now, not at the next timer).
func (q *dispatchQueue) popRecord() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.recBytes -= len(q.recs[0].Data)
	q.recs[0] = Record{}
	q.recs = q.recs[1:]
	held := q.held
	q.held = false
	return held
}

func (q *dispatchQueue) stats(s *Stats) {
	q.mu.Lock()
	s.DeliverQueued = len(q.recs)
	s.HandlerRefused = q.refused
	s.EventsDropped = q.evDropped
	q.mu.Unlock()
}

// dispatch runs the handlers, one at a time: replays, applieds and events first, then
// records. A record OnDeliver refused stays first and is offered again after DeliverRetry;
// the other handlers go on meanwhile. Returns when Close closes done.
func (c *Client) dispatch() {
	defer close(c.dispDone)
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	refusing := false
	for {
		select {
		case <-c.done:
			return
		default:
		}
		if it, v, ok := c.q.popCtrl(); ok {
			c.runCtrl(it, v)
			continue
		}
		if !refusing {
			if rec, ok := c.q.peekRecord(); ok {
				if c.cfg.OnDeliver(rec) == nil {
					if c.q.popRecord() {
						c.kick()
					}
				} else {
					c.q.mu.Lock()
					c.q.refused++
					c.q.mu.Unlock()
					refusing = true
					retry.Reset(c.cfg.DeliverRetry)
				}
				continue
			}
		}
		select {
		case <-c.q.signal:
		case <-retry.C:
			refusing = false
		case <-c.done:
			retry.Stop()
			return
		}
	}
}

func (c *Client) runCtrl(it ctrlItem, v uint64) {
	switch it.kind {
	case itemReplay:
		if c.cfg.OnReplay != nil {
			c.cfg.OnReplay(it.stream, v)
		}
	case itemApplied:
		if c.cfg.OnApplied != nil {
			c.cfg.OnApplied(it.stream, v)
		}
	case itemEvent:
		if c.cfg.OnEvent != nil {
			c.cfg.OnEvent(it.ev)
		}
	}
}

// kick makes the event loop poll now (from outside the lock).
func (c *Client) kick() {
	c.mu.Lock()
	if c.c != nil && !c.stopping {
		c.armLocked(0)
	}
	c.mu.Unlock()
}
