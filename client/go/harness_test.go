// SPDX-License-Identifier: Apache-2.0

package repgate

// The tests' gateway pair, A and B, peers of each other, with client ids each accepts:
//
//   - RG_TEST_GW_A=id@addr:port and RG_TEST_GW_B=id@addr:port name gateways already running
//     (real repgate daemons, say), and RG_TEST_CLIENTS_A / RG_TEST_CLIENTS_B the client ids
//     their profiles list, comma separated (10,11,12,13 and 20,21,22,23 when unset). Sealed
//     gateways are named id@addr:port,PUBKEY (both, or neither), with RG_TEST_KEYS=DIR holding
//     each of those clients' private keys as DIR/ID.key: every client of the pair then seals;
//   - else TestMain starts rg-softgw-pair (tests/lib/softgw_pair.c; RG_SOFTGW_PAIR names it,
//     else ../../build/debug/tests/lib/rg-softgw-pair) with those ids, on ports it picks,
//     bounded in time, and stops it when the tests are done.
//
// Every test takes its own client ids (a gateway knows a client by its id) and its own
// streams, so they share one pair. Every check is counted (checker), and the run fails when
// it checked nothing.

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

type testPair struct {
	a, b     Gateway
	clientsA []uint16
	clientsB []uint16
	keys     string // the clients' key files, keys/ID.key; "": the pair is plaintext
	next     [2]int
	mu       sync.Mutex
	cmd      *exec.Cmd
}

var (
	pair       *testPair
	pairErr    error
	checksDone atomic.Int64
)

// parseGateway reads id@addr:port, or id@addr:port,PUBKEY (a base64 key has no ',').
func parseGateway(s string) (Gateway, error) {
	where, pub, sealed := strings.Cut(s, ",")
	id, rest, ok1 := strings.Cut(where, "@")
	addr, port, ok2 := strings.Cut(rest, ":")
	i, err1 := strconv.ParseUint(id, 10, 16)
	p, err2 := strconv.ParseUint(port, 10, 16)
	if !ok1 || !ok2 || err1 != nil || err2 != nil || i == 0 || p == 0 ||
		(sealed && len(pub) != PubKeyChars) {
		return Gateway{}, fmt.Errorf("%q is not id@addr:port or id@addr:port,PUBKEY", s)
	}
	return Gateway{ID: uint16(i), Addr: addr, Port: uint16(p), PubKey: pub}, nil
}

func parseIDs(s string) ([]uint16, error) {
	var ids []uint16
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseUint(strings.TrimSpace(f), 10, 16)
		if err != nil || v == 0 {
			return nil, fmt.Errorf("%q is not a list of client ids", s)
		}
		ids = append(ids, uint16(v))
	}
	return ids, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func startPair() (*testPair, error) {
	return startPairWith("")
}

// startPairWith starts the pair, sealed when keys names a directory (rg-softgw-pair --keys:
// each client's private key in keys/ID.key, the gateways' public keys in p.a and p.b).
func startPairWith(keys string) (*testPair, error) {
	p := &testPair{}
	var err error
	if p.clientsA, err = parseIDs(envOr("RG_TEST_CLIENTS_A", "10,11,12,13")); err != nil {
		return nil, err
	}
	if p.clientsB, err = parseIDs(envOr("RG_TEST_CLIENTS_B", "20,21,22,23")); err != nil {
		return nil, err
	}
	ea, eb := os.Getenv("RG_TEST_GW_A"), os.Getenv("RG_TEST_GW_B")
	if (ea != "" || eb != "") && keys != "" {
		return nil, fmt.Errorf("RG_TEST_GW_A/B name gateways of their own keys: no sealed pair")
	}
	if ea != "" || eb != "" {
		if err := p.external(ea, eb, os.Getenv("RG_TEST_KEYS")); err != nil {
			return nil, err
		}
		return p, nil
	}
	if os.Getenv("RG_TEST_KEYS") != "" {
		return nil, fmt.Errorf("RG_TEST_KEYS goes with RG_TEST_GW_A/B (their clients' keys)")
	}
	exe := envOr("RG_SOFTGW_PAIR", "../../build/debug/tests/lib/rg-softgw-pair")
	if _, err := os.Stat(exe); err != nil {
		return nil, fmt.Errorf("no gateway pair: set RG_TEST_GW_A/B or RG_SOFTGW_PAIR (%v)", err)
	}
	join := func(ids []uint16) string {
		s := make([]string, len(ids))
		for i, v := range ids {
			s[i] = strconv.Itoa(int(v))
		}
		return strings.Join(s, ",")
	}
	p.a = Gateway{ID: 1, Addr: "127.0.0.1"}
	p.b = Gateway{ID: 2, Addr: "127.0.0.1"}
	p.keys = keys
	// --seconds bounds it even if this process is killed before it can stop it.
	args := []string{"--a-id", "1", "--b-id", "2", "--a-clients", join(p.clientsA),
		"--b-clients", join(p.clientsB), "--seconds", "150"}
	if keys != "" {
		args = append(args, "--keys", keys)
	}
	p.cmd = exec.Command(exe, args...)
	p.cmd.Stderr = os.Stderr
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- s
	}()
	select {
	case s := <-line:
		var err error
		if keys == "" {
			_, err = fmt.Sscanf(s, "a_port=%d b_port=%d", &p.a.Port, &p.b.Port)
		} else {
			_, err = fmt.Sscanf(s, "a_port=%d b_port=%d a_pubkey=%s b_pubkey=%s", &p.a.Port,
				&p.b.Port, &p.a.PubKey, &p.b.PubKey)
		}
		if err != nil {
			p.stop()
			return nil, fmt.Errorf("rg-softgw-pair said %q: %v", s, err)
		}
	case <-time.After(10 * time.Second):
		p.stop()
		return nil, fmt.Errorf("rg-softgw-pair said nothing in 10 s")
	}
	return p, nil
}

// external takes gateways already running (RG_TEST_GW_A/B in ea, eb): sealed when both have
// a PubKey, and then keys (RG_TEST_KEYS) must hold a key file for every client id of the pair.
func (p *testPair) external(ea, eb, keys string) error {
	var err error
	if p.a, err = parseGateway(ea); err != nil {
		return fmt.Errorf("RG_TEST_GW_A: %w", err)
	}
	if p.b, err = parseGateway(eb); err != nil {
		return fmt.Errorf("RG_TEST_GW_B: %w", err)
	}
	sealed := p.a.PubKey != ""
	if (p.b.PubKey != "") != sealed || (keys != "") != sealed {
		return fmt.Errorf("RG_TEST_GW_A/B and RG_TEST_KEYS: sealed is both gateways' PUBKEY "+
			"and RG_TEST_KEYS, plaintext none of them (A %q, B %q, keys %q)", ea, eb, keys)
	}
	p.keys = keys
	for _, id := range append(append([]uint16{}, p.clientsA...), p.clientsB...) {
		if f := p.keyFile(id); f != "" {
			if _, err := os.Stat(f); err != nil {
				return fmt.Errorf("RG_TEST_KEYS: client %d: %w", id, err)
			}
		}
	}
	return nil
}

// keyFile is client id's private key file, "" when the pair is plaintext.
func (p *testPair) keyFile(id uint16) string {
	if p.keys == "" {
		return ""
	}
	return filepath.Join(p.keys, fmt.Sprintf("%d.key", id))
}

// stop ends the pair it started: SIGTERM, then SIGKILL after 5 s.
func (p *testPair) stop() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	waited := make(chan error, 1)
	go func() { waited <- p.cmd.Wait() }()
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-waited
	}
}

// endpoint is a client of the pair as a test makes it: its id, its gateway (with the
// gateway's PubKey when the pair is sealed) and its key file ("" when it is not).
type endpoint struct {
	id      uint16
	gw      Gateway
	keyFile string
}

// config is the endpoint's Config, to which a test adds its handlers and knobs.
func (e endpoint) config() Config {
	return Config{ID: e.id, Gateways: []Gateway{e.gw}, KeyFile: e.keyFile}
}

// client takes the next client of side 0 (A) or 1 (B), its id round robin: an id comes
// again only after the others, to a client that is a restart of the last one with it (a new
// incarnation), so tests can run again (-count) against the same gateways.
func (p *testPair) client(t *testing.T, side int) endpoint {
	p.mu.Lock()
	defer p.mu.Unlock()
	ids := [][]uint16{p.clientsA, p.clientsB}[side]
	p.next[side]++
	id := ids[(p.next[side]-1)%len(ids)]
	return endpoint{id: id, gw: [2]Gateway{p.a, p.b}[side], keyFile: p.keyFile(id)}
}

// runs makes stream ids no earlier run used, so a test against gateways that outlive it (real
// daemons, or -count) starts each stream afresh: shard = run << 8 | k.
var runs atomic.Uint32

func init() { runs.Store(uint32(time.Now().UnixNano()/1e6) & 0xffff << 8) }

// streamIDs gives n new stream ids of namespace ns.
func streamIDs(ns uint32, n int) []uint64 {
	run := runs.Add(1) & 0xffffff
	ids := make([]uint64, n)
	for k := range ids {
		ids[k] = uint64(ns)<<32 | uint64(run)<<8 | uint64(k+1)
	}
	return ids
}

func requirePair(t *testing.T) *testPair {
	if pair == nil {
		t.Skipf("skipped: %v", pairErr)
	}
	return pair
}

func TestMain(m *testing.M) {
	pair, pairErr = startPair()
	if pairErr != nil {
		fmt.Fprintf(os.Stderr, "repgate tests: %v\n", pairErr)
	}
	rc := m.Run()
	if pair != nil {
		pair.stop()
	}
	fmt.Printf("repgate tests: %d checks\n", checksDone.Load())
	if rc == 0 && checksDone.Load() == 0 && pair != nil {
		fmt.Println("repgate tests: nothing was checked")
		rc = 1
	}
	os.Exit(rc)
}

// checker counts what a test checked; done fails a test that checked nothing.
type checker struct {
	t *testing.T
	n atomic.Int64
}

// ok checks on the test's goroutine (a failure stops the test).
func (c *checker) ok(cond bool, format string, args ...any) {
	c.t.Helper()
	c.n.Add(1)
	checksDone.Add(1)
	if !cond {
		c.t.Fatalf(format, args...)
	}
}

// expect checks on any goroutine (a handler's): a failure is reported, the test goes on.
func (c *checker) expect(cond bool, format string, args ...any) bool {
	c.t.Helper()
	c.n.Add(1)
	checksDone.Add(1)
	if !cond {
		c.t.Errorf(format, args...)
	}
	return cond
}

func (c *checker) done() {
	c.t.Helper()
	if c.n.Load() == 0 {
		c.t.Fatal("nothing was checked")
	}
	c.t.Logf("%d checks", c.n.Load())
}
