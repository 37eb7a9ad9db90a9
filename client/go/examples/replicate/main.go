// SPDX-License-Identifier: Apache-2.0

// replicate publishes or receives one stream through repgate gateways.
//
//	replicate -role pub -id 10 -gw 1@10.1.0.2:7000 -stream 0x500000001 -count 1000
//	replicate -role sub -id 20 -gw 2@10.2.0.2:7000 -stream 0x500000001 -count 1000
//
// The producer publishes records 1..count (each "record <seq>" padded to -size bytes) and
// returns once the consumer applied them all; the consumer prints each record's seq and
// size, applies it, and returns after count records.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"repgate.dev/repgate"
)

type gateways []repgate.Gateway

func (g *gateways) String() string { return fmt.Sprint(*g) }

// Set parses id@addr:port.
func (g *gateways) Set(s string) error {
	id, rest, ok := strings.Cut(s, "@")
	addr, port, ok2 := strings.Cut(rest, ":")
	i, err1 := strconv.ParseUint(id, 10, 16)
	p, err2 := strconv.ParseUint(port, 10, 16)
	if !ok || !ok2 || err1 != nil || err2 != nil {
		return fmt.Errorf("%q is not id@addr:port", s)
	}
	*g = append(*g, repgate.Gateway{ID: uint16(i), Addr: addr, Port: uint16(p)})
	return nil
}

func main() {
	var gws gateways
	role := flag.String("role", "pub", "pub or sub")
	id := flag.Uint("id", 0, "this client's id (the gateway's profile lists it)")
	stream := flag.Uint64("stream", 5<<32|1, "the stream id (namespace << 32 | shard)")
	count := flag.Uint64("count", 1000, "records to publish or receive")
	size := flag.Int("size", 64, "record size in bytes (pub)")
	timeout := flag.Duration("timeout", time.Minute, "give up after this long")
	flag.Var(&gws, "gw", "a gateway of the region, id@addr:port (repeat for several)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	replay := make(chan uint64, 1) // the newest seq to publish from
	finished := make(chan struct{})
	var c *repgate.Client
	cfg := repgate.Config{ID: uint16(*id), Gateways: gws,
		OnEvent: func(ev repgate.Event) { log.Printf("event: %v", ev) },
		OnReplay: func(_, from uint64) {
			select {
			case <-replay:
			default:
			}
			replay <- from
		},
		OnApplied: func(_, applied uint64) {
			if applied == *count {
				close(finished)
			}
		},
		OnDeliver: func(r repgate.Record) error {
			fmt.Printf("seq %d: %d bytes\n", r.Seq, len(r.Data))
			if err := c.Applied(r.Stream, r.Seq); err != nil {
				return err
			}
			if r.Seq == *count {
				close(finished)
			}
			return nil
		},
	}
	c, err := repgate.NewClient(cfg)
	if err != nil {
		log.Fatalf("NewClient: %v", err)
	}
	defer c.Close()
	if *role == "sub" {
		err = c.Subscribe(*stream, 0)
	} else {
		err = c.Open(*stream)
	}
	if err != nil {
		log.Fatalf("%s: %v", *role, err)
	}
	if *role == "pub" {
		go publish(ctx, c, *stream, *count, *size, replay)
	}
	select {
	case <-finished:
		log.Printf("done: %+v", c.Stats())
	case <-ctx.Done():
		log.Fatalf("gave up: %v; %+v", ctx.Err(), c.Stats())
	}
}

// publish sends 1..count, from wherever a replay says.
func publish(ctx context.Context, c *repgate.Client, stream, count uint64, size int,
	replay chan uint64) {
	var seq uint64
	select {
	case seq = <-replay:
	case <-ctx.Done():
		return
	}
	for seq <= count {
		data := make([]byte, size)
		copy(data, fmt.Sprintf("record %d", seq))
		err := c.PublishWait(ctx, stream, seq, 1, data)
		var rs *repgate.ResyncError
		switch {
		case err == nil:
			seq++
		case errors.As(err, &rs):
			seq = rs.From
		default:
			log.Printf("publish %d: %v", seq, err)
			return
		}
	}
}
