package integration

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/resp/resptest"
)

// step is one command of a case and how its reply is compared.
type step struct {
	args []string
	mode mode
	// wait, when set, is not a command: the runner polls PTTL on each
	// server until the key is gone (bounded), so a short-lived key has
	// expired on both before the next step.
	wait string
	// pause, when set, is not a command either: the runner lets this much
	// wall-clock time pass. It is the one sleep of the suite, for keys that
	// must be logically expired yet untouched (any command that could
	// observe the expiry would also delete the key, hiding what the next
	// step checks); keep it to a few milliseconds past a PX 1.
	pause time.Duration
	// follow, when set, is compared right after this step, as one unit
	// (the shrinker never separates them).
	follow *step
}

// Step constructors, short so tables read like redis-cli sessions.
func do(args ...string) step             { return step{args: args} }
func unordered(args ...string) step      { return step{args: args, mode: modeUnordered} }
func unorderedPairs(args ...string) step { return step{args: args, mode: modeUnorderedPairs} }
func ttl(args ...string) step            { return step{args: args, mode: modeTTL} }
func pttl(args ...string) step           { return step{args: args, mode: modePTTL} }
func shape(args ...string) step          { return step{args: args, mode: modeShape} }
func scanAll(args ...string) step        { return step{args: args, mode: modeScan} }
func waitExpired(key string) step        { return step{wait: key} }
func pause(d time.Duration) step         { return step{pause: d} }

// diffCase is a named command sequence run from clean state.
type diffCase struct {
	name  string
	steps []step
	// cleanup runs on both servers after the case, uncompared: it undoes
	// changes FLUSHALL does not (CONFIG SET on the shared oracle).
	cleanup [][]string
}

// suiteStats counts what was compared, for the closing summary.
var suiteStats struct {
	cases  [4]atomic.Int64 // by protocol: cases run to the end
	steps  [4]atomic.Int64 // by protocol: replies compared
	random atomic.Int64    // randomized commands compared (both protocols)
	cmdDoc atomic.Int64    // COMMAND INFO/DOCS entries compared
}

// pair is one connection to Celerity and one to the oracle, in the same
// protocol and the same (clean) state.
type pair struct {
	tb    testing.TB
	proto int
	cel   *resptest.Conn
	ora   *resptest.Conn
}

// openPair dials both servers, switches to proto and empties both datasets.
func openPair(tb testing.TB, celAddr string, proto int) *pair {
	tb.Helper()
	p := &pair{tb: tb, proto: proto, cel: resptest.Dial(tb, celAddr), ora: resptest.Dial(tb, needOracle(tb))}
	for _, c := range []*resptest.Conn{p.cel, p.ora} {
		if proto == 3 {
			v := c.Do("HELLO", "3")
			require.NotEqual(tb, byte('-'), v.Kind, "HELLO 3: %s", v.Str)
		}
		require.Equal(tb, "+OK\r\n", string(c.DoRaw("FLUSHALL")), "FLUSHALL")
	}
	return p
}

// both sends args to both servers and returns both raw replies.
func (p *pair) both(args []string) (cel, ora []byte) {
	p.tb.Helper()
	return p.cel.DoRaw(args...), p.ora.DoRaw(args...)
}

// run executes st on both servers and returns a description of the
// mismatch, or "" when the replies agree under st's mode.
func (p *pair) run(st step) string {
	p.tb.Helper()
	if st.wait != "" {
		p.awaitGone(st.wait)
		return ""
	}
	if st.pause > 0 {
		time.Sleep(st.pause)
		return ""
	}
	if st.mode == modeScan {
		return p.runScan(st.args)
	}
	got, want := p.both(st.args)
	if why := compareReplies(st.mode, got, want); why != "" {
		return fmt.Sprintf("%s [RESP%d, mode %s]: %s\n  celerity: %s\n  oracle:   %s",
			showArgs(st.args), p.proto, st.mode, why, showReply(got), showReply(want))
	}
	if st.follow != nil {
		return p.run(*st.follow)
	}
	return ""
}

// awaitGone polls each server until key no longer exists (PTTL -2),
// failing after a bound: expiry is awaited, never slept for.
func (p *pair) awaitGone(key string) {
	p.tb.Helper()
	for _, c := range []*resptest.Conn{p.cel, p.ora} {
		deadline := time.Now().Add(3 * time.Second)
		for string(c.DoRaw("PTTL", key)) != ":-2\r\n" {
			require.True(p.tb, time.Now().Before(deadline), "key %q did not expire within 3s", key)
			time.Sleep(2 * time.Millisecond)
		}
	}
}

// runScan iterates SCAN to completion on both servers and compares the
// sets of keys seen. Errors (bad cursor, bad option) are compared exactly
// on the first call.
func (p *pair) runScan(first []string) string {
	p.tb.Helper()
	got, want := p.both(first)
	if why := compareReplies(modeExact, got, want); why != "" {
		g, gerr := parseReply(got)
		w, werr := parseReply(want)
		if gerr != nil || werr != nil || g.Kind == '-' || w.Kind == '-' {
			return fmt.Sprintf("%s [RESP%d, first call]: %s\n  celerity: %s\n  oracle:   %s",
				showArgs(first), p.proto, why, showReply(got), showReply(want))
		}
	}
	gk, gerr := p.scanKeys(p.cel, first, got)
	wk, werr := p.scanKeys(p.ora, first, want)
	switch {
	case werr != nil:
		return fmt.Sprintf("%s [RESP%d]: oracle SCAN iteration: %v", showArgs(first), p.proto, werr)
	case gerr != nil:
		return fmt.Sprintf("%s [RESP%d]: celerity SCAN iteration: %v", showArgs(first), p.proto, gerr)
	case !slices.Equal(gk, wk):
		return fmt.Sprintf("%s [RESP%d, mode scan]: key sets differ\n  celerity: %q\n  oracle:   %q",
			showArgs(first), p.proto, gk, wk)
	}
	return ""
}

// scanKeys continues a SCAN iteration whose first reply is firstReply and
// returns the sorted, de-duplicated keys (SCAN may return a key twice).
func (p *pair) scanKeys(c *resptest.Conn, first []string, firstReply []byte) ([]string, error) {
	args := slices.Clone(first)
	raw := firstReply
	seen := map[string]bool{}
	for calls := 0; ; calls++ {
		if calls > 100000 {
			return nil, fmt.Errorf("SCAN did not finish")
		}
		r, err := parseReply(raw)
		if err != nil {
			return nil, err
		}
		if r.Kind != '*' || len(r.Elems) != 2 || r.Elems[0].Kind != '$' || r.Elems[1].Kind != '*' {
			return nil, fmt.Errorf("reply is not [cursor, [keys]]: %q", raw)
		}
		for _, k := range r.Elems[1].Elems {
			if k.Kind != '$' || k.Null {
				return nil, fmt.Errorf("key is not a bulk string: %q", k.Raw)
			}
			seen[k.Str] = true
		}
		cursor := r.Elems[0].Str
		if _, err := strconv.ParseUint(cursor, 10, 64); err != nil {
			return nil, fmt.Errorf("cursor %q is not a number", cursor)
		}
		if cursor == "0" {
			break
		}
		args[1] = cursor
		raw = c.DoRaw(args...)
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys, nil
}

// protocols are the protocols every case runs in.
var protocols = []int{2, 3}

// runCases runs every case in both protocols against a fresh in-process
// Celerity and the package's oracle. Cases run sequentially: they share
// the oracle and each starts with FLUSHALL.
func runCases(t *testing.T, cases []diffCase) {
	t.Helper()
	needOracle(t)
	srv := resptest.NewServer(t)
	names := map[string]bool{}
	for _, c := range cases {
		require.False(t, names[c.name], "duplicate case name %q", c.name)
		names[c.name] = true
	}
	for _, c := range cases {
		for _, proto := range protocols {
			ok := t.Run(fmt.Sprintf("%s/RESP%d", c.name, proto), func(t *testing.T) {
				p := openPair(t, srv.Addr(), proto)
				if len(c.cleanup) > 0 {
					t.Cleanup(func() {
						// The oracle first: it outlives this test, and
						// must be restored even if Celerity hangs.
						for _, args := range c.cleanup {
							p.ora.DoRaw(args...)
						}
						for _, args := range c.cleanup {
							p.cel.DoRaw(args...)
						}
					})
				}
				for i, st := range c.steps {
					if why := p.run(st); why != "" {
						t.Errorf("case %q step %d: %s", c.name, i+1, why)
					}
					if st.args != nil {
						suiteStats.steps[proto].Add(1)
					}
				}
				suiteStats.cases[proto].Add(1)
			})
			// A server that stopped answering (a deadlock, a crash) would
			// make every remaining case wait for its read timeout.
			if !ok && !ping(srv.Addr()) {
				t.Fatalf("Celerity stopped answering PING after case %q (RESP%d); remaining cases not run", c.name, proto)
			}
		}
	}
}

// printSummary reports what the package compared (TestMain calls it after
// the tests; TestZZSummary logs the same numbers through t.Logf).
func printSummary() {
	if s := summaryLine(); s != "" {
		fmt.Println("integration:", s)
	}
}

func summaryLine() string {
	c2, c3 := suiteStats.cases[2].Load(), suiteStats.cases[3].Load()
	if c2+c3 == 0 && suiteStats.random.Load() == 0 && suiteStats.cmdDoc.Load() == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d cases compared in RESP2+RESP3 (%d RESP2, %d RESP3; %d + %d replies), ",
		c2+c3, c2, c3, suiteStats.steps[2].Load(), suiteStats.steps[3].Load())
	fmt.Fprintf(&b, "%d randomized commands, %d COMMAND INFO/DOCS entries",
		suiteStats.random.Load(), suiteStats.cmdDoc.Load())
	return b.String()
}

func itoa(i int) string { return strconv.Itoa(i) }

// label names a generated case: prefix, index (for uniqueness) and the
// quoted input, so a failure names what was being tried.
func label(prefix string, i int, input string) string {
	return fmt.Sprintf("%s-%02d(%q)", prefix, i, input)
}
