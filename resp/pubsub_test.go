package resp

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Unit tests of the pub/sub bookkeeping. The replies themselves are
// compared with redis-server in integration/pubsub_test.go; these tests
// check what the oracle cannot see: that both sides of every index agree
// after any sequence of operations, that publishing does not allocate,
// and the output-limit arithmetic.

// newPubSubTestServer returns an engine that is not serving: handlers are
// called directly on detached clients (no reactor, so wake is a no-op).
func newPubSubTestServer(t testing.TB) *Server {
	t.Helper()
	s, err := NewServer(testConfig(t), Options{Logger: zerolog.Nop()})
	require.NoError(t, err)
	return s
}

func newPubSubTestClient(s *Server, proto int) *Client {
	c := &Client{ReplyWriter: ReplyWriter{proto: proto}, srv: s, db: s.ks.DB(0)}
	c.id = s.nextID.Add(1)
	return c
}

// run calls a command handler as the dispatcher would after its checks.
func (c *Client) runForTest(run func(*Client), args ...string) {
	c.argv = make([][]byte, len(args))
	for i, a := range args {
		c.argv[i] = []byte(a)
	}
	run(c)
	c.argv = nil
}

// pubsubModel is the obvious implementation the indexes are checked
// against: per client, a set of channels and shard channels and an
// ordered list of patterns.
type pubsubModel struct {
	channels map[*Client]map[string]bool
	shard    map[*Client]map[string]bool
	patterns map[*Client][]string
}

func (m *pubsubModel) receivers(channel string) int {
	n := 0
	for _, chans := range m.channels {
		if chans[channel] {
			n++
		}
	}
	for _, pats := range m.patterns {
		for _, p := range pats {
			if globMatch([]byte(p), []byte(channel), false) {
				n++
			}
		}
	}
	return n
}

// checkPubsubIndexes verifies that the server's and the clients' views
// agree with each other and with the model.
func checkPubsubIndexes(t *testing.T, s *Server, clients []*Client, m *pubsubModel) {
	t.Helper()
	for _, shard := range []bool{false, true} {
		all := s.pubsub.channelMap(shard)
		want := m.channels
		if shard {
			want = m.shard
		}
		total := 0
		for name, subs := range all {
			require.NotEmpty(t, subs, "empty subscriber list kept for %q", name)
			for i, c := range subs {
				require.NotNil(t, c.pubsub, "subscriber without state")
				pos, ok := c.pubsub.channelMap(shard)[name]
				require.True(t, ok, "client %d listed for %q but does not hold it", c.id, name)
				require.Equal(t, int32(i), pos, "client %d index for %q", c.id, name)
				require.True(t, want[c][name], "client %d not subscribed to %q in the model", c.id, name)
				total++
			}
		}
		modelTotal := 0
		for _, c := range clients {
			modelTotal += len(want[c])
			if c.pubsub != nil {
				require.Len(t, c.pubsub.channelMap(shard), len(want[c]))
			} else {
				require.Empty(t, want[c])
			}
		}
		require.Equal(t, modelTotal, total, "subscriptions (shard=%v)", shard)
	}
	distinct := map[string]bool{}
	for _, c := range clients {
		for _, p := range m.patterns[c] {
			distinct[p] = true
		}
	}
	require.Len(t, s.pubsub.patterns, len(distinct), "distinct patterns")
	require.Len(t, s.pubsub.patIndex, len(distinct))
	for i, ps := range s.pubsub.patterns {
		require.Equal(t, i, ps.pos, "pattern %q position", ps.name)
		require.Same(t, ps, s.pubsub.patIndex[ps.name])
		require.Equal(t, ps.name, string(ps.pat))
		for j, c := range ps.subs {
			k, ok := c.pubsub.patIndex[ps.name]
			require.True(t, ok, "client %d listed for pattern %q but does not hold it", c.id, ps.name)
			require.Same(t, ps, c.pubsub.patterns[k].ps)
			require.Equal(t, int32(j), c.pubsub.patterns[k].pos)
		}
	}
	for _, c := range clients {
		var order []string
		if c.pubsub != nil {
			for _, cp := range c.pubsub.patterns {
				if cp.ps != nil {
					order = append(order, cp.ps.name)
				}
			}
			require.Len(t, c.pubsub.patIndex, len(order))
		}
		want := m.patterns[c]
		if len(want) == 0 {
			want = nil
		}
		require.Equal(t, want, order, "client %d pattern order", c.id)
		wantFlag := len(m.channels[c])+len(m.shard[c])+len(m.patterns[c]) > 0
		require.Equal(t, wantFlag, c.flags&flagPubsub != 0, "client %d flagPubsub", c.id)
	}
}

// TestPubSubIndexesUnderRandomOperations drives random subscribe,
// unsubscribe (by name, of everything, of names never held), publish and
// disconnect operations over a few clients and a small name space, so
// that the swap-removals, the pattern holes and their compaction are all
// exercised, and checks every index after every operation.
func TestPubSubIndexesUnderRandomOperations(t *testing.T) {
	s := newPubSubTestServer(t)
	rng := rand.New(rand.NewPCG(7, 11))
	clients := make([]*Client, 5)
	for i := range clients {
		clients[i] = newPubSubTestClient(s, 2+i%2)
	}
	m := &pubsubModel{
		channels: map[*Client]map[string]bool{},
		shard:    map[*Client]map[string]bool{},
		patterns: map[*Client][]string{},
	}
	for _, c := range clients {
		m.channels[c], m.shard[c] = map[string]bool{}, map[string]bool{}
	}
	names := []string{"a", "b", "c", "ab", "news.1", "news.2"}
	pats := []string{"*", "a*", "?b", "news.*", "[ab]", "n[^x]ws.?", "p0", "p1", "p2", "p3", "p4", "p5", "p6",
		"p7", "p8", "p9", "p10", "p11", "p12", "p13", "p14", "p15", "p16", "p17", "p18", "p19"}
	pick := func(from []string) []string {
		out := make([]string, 1+rng.IntN(4))
		for i := range out {
			out[i] = from[rng.IntN(len(from))]
		}
		return out
	}
	for step := 0; step < 4000; step++ {
		c := clients[rng.IntN(len(clients))]
		switch op := rng.IntN(10); op {
		case 0, 1:
			args := pick(names)
			c.runForTest(subscribeCommand, append([]string{"subscribe"}, args...)...)
			for _, a := range args {
				m.channels[c][a] = true
			}
		case 2:
			args := pick(names)
			c.runForTest(ssubscribeCommand, append([]string{"ssubscribe"}, args...)...)
			for _, a := range args {
				m.shard[c][a] = true
			}
		case 3, 4:
			args := pick(pats)
			c.runForTest(psubscribeCommand, append([]string{"psubscribe"}, args...)...)
			for _, a := range args {
				if !slices.Contains(m.patterns[c], a) {
					m.patterns[c] = append(m.patterns[c], a)
				}
			}
		case 5:
			if rng.IntN(4) == 0 {
				c.runForTest(unsubscribeCommand, "unsubscribe")
				m.channels[c] = map[string]bool{}
			} else {
				args := pick(names)
				c.runForTest(unsubscribeCommand, append([]string{"unsubscribe"}, args...)...)
				for _, a := range args {
					delete(m.channels[c], a)
				}
			}
		case 6:
			args := pick(names)
			c.runForTest(sunsubscribeCommand, append([]string{"sunsubscribe"}, args...)...)
			for _, a := range args {
				delete(m.shard[c], a)
			}
		case 7:
			if rng.IntN(4) == 0 {
				c.runForTest(punsubscribeCommand, "punsubscribe")
				m.patterns[c] = nil
			} else {
				args := pick(pats)
				c.runForTest(punsubscribeCommand, append([]string{"punsubscribe"}, args...)...)
				for _, a := range args {
					m.patterns[c] = slices.DeleteFunc(m.patterns[c], func(p string) bool { return p == a })
				}
			}
		case 8:
			ch := names[rng.IntN(len(names))]
			require.Equal(t, int64(m.receivers(ch)), s.publish([]byte(ch), []byte("m")), "PUBLISH %s", ch)
		case 9:
			if rng.IntN(3) == 0 {
				// A disconnect (or RESET): everything goes, silently.
				before := len(c.buf)
				c.pubsubUnsubscribeAll()
				require.Equal(t, before, len(c.buf), "unsubscribing on close must not reply")
				m.channels[c], m.shard[c], m.patterns[c] = map[string]bool{}, map[string]bool{}, nil
			}
		}
		c.buf = c.buf[:0]
		checkPubsubIndexes(t, s, clients, m)
	}
}

// TestPubSubPatternHolesAreCompacted: removing many of a client's
// patterns one by one leaves holes that are squeezed out (order kept,
// indexes re-pointed) while another client shares the patterns, so the
// cross-client index updates run too.
func TestPubSubPatternHolesAreCompacted(t *testing.T) {
	s := newPubSubTestServer(t)
	a, b := newPubSubTestClient(s, 2), newPubSubTestClient(s, 3)
	clients := []*Client{a, b}
	m := &pubsubModel{
		channels: map[*Client]map[string]bool{a: {}, b: {}},
		shard:    map[*Client]map[string]bool{a: {}, b: {}},
		patterns: map[*Client][]string{},
	}
	args := []string{"psubscribe"}
	for i := 0; i < 60; i++ {
		args = append(args, fmt.Sprintf("p%d*", i))
	}
	a.runForTest(psubscribeCommand, args...)
	b.runForTest(psubscribeCommand, args...)
	m.patterns[a], m.patterns[b] = slices.Clone(args[1:]), slices.Clone(args[1:])
	rng := rand.New(rand.NewPCG(3, 5))
	for k, i := range rng.Perm(60)[:45] {
		p := args[1+i]
		for _, c := range []*Client{clients[k%2], clients[1-k%2]} {
			c.runForTest(punsubscribeCommand, "punsubscribe", p)
			m.patterns[c] = slices.DeleteFunc(m.patterns[c], func(x string) bool { return x == p })
			checkPubsubIndexes(t, s, clients, m)
		}
	}
	assert.Less(t, len(a.pubsub.patterns), 60, "holes were compacted")
	a.buf = a.buf[:0]
	a.runForTest(punsubscribeCommand, "punsubscribe")
	assert.Equal(t, len(m.patterns[a]), strings.Count(string(a.buf), "punsubscribe"))
	m.patterns[a] = nil
	checkPubsubIndexes(t, s, clients, m)
}

// TestPubSubUnsubscribeAllConfirmsEachInOrder checks the replies of the
// no-argument forms: one confirmation per subscription with a count that
// goes down to the other kind's, patterns in subscription order, and the
// null form when there is nothing to drop.
func TestPubSubUnsubscribeAllConfirmsEachInOrder(t *testing.T) {
	s := newPubSubTestServer(t)
	c := newPubSubTestClient(s, 2)
	c.runForTest(punsubscribeCommand, "punsubscribe")
	assert.Equal(t, "*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n", string(c.buf))
	c.buf = c.buf[:0]
	c.runForTest(psubscribeCommand, "psubscribe", "z", "y", "x")
	c.runForTest(subscribeCommand, "subscribe", "chan")
	c.runForTest(punsubscribeCommand, "punsubscribe", "y")
	c.buf = c.buf[:0]
	c.runForTest(punsubscribeCommand, "punsubscribe")
	assert.Equal(t, "*3\r\n$12\r\npunsubscribe\r\n$1\r\nz\r\n:2\r\n"+
		"*3\r\n$12\r\npunsubscribe\r\n$1\r\nx\r\n:1\r\n", string(c.buf))
	assert.NotZero(t, c.flags&flagPubsub, "still subscribed to a channel")
	c.buf = c.buf[:0]
	c.proto = 3
	c.runForTest(unsubscribeCommand, "unsubscribe")
	assert.Equal(t, ">3\r\n$11\r\nunsubscribe\r\n$4\r\nchan\r\n:0\r\n", string(c.buf))
	assert.Zero(t, c.flags&flagPubsub)
	assert.Nil(t, c.pubsub, "state dropped with the last subscription")
}

// TestPubSubPublishDoesNotAllocate: the publish path (channel lookup,
// pattern walk with globMatch, frame encoding) must not allocate once the
// subscribers' buffers have grown.
func TestPubSubPublishDoesNotAllocate(t *testing.T) {
	s := newPubSubTestServer(t)
	var subs []*Client
	for i := 0; i < 4; i++ {
		c := newPubSubTestClient(s, 2+i%2)
		c.runForTest(subscribeCommand, "subscribe", "/0.celeryev/worker.heartbeat", "other")
		c.runForTest(psubscribeCommand, "psubscribe", "/0.celeryev/worker.*", "/0.celeryev/*", "[^/]*", `/0.celery\.pidbox`)
		subs = append(subs, c)
	}
	channel, msg := []byte("/0.celeryev/worker.heartbeat"), []byte(`{"hostname":"w1"}`)
	allocs := testing.AllocsPerRun(200, func() {
		for _, c := range subs {
			c.buf = c.buf[:0]
		}
		if n := s.publish(channel, msg); n != 12 {
			t.Fatalf("PUBLISH reached %d receivers, want 12", n)
		}
	})
	assert.Zero(t, allocs)
	// A pattern subscriber gets the channel frame first, then pmessages.
	assert.Regexp(t, `(?s)^\*3\r\n\$7\r\nmessage\r\n.*\*4\r\n\$8\r\npmessage\r\n`, string(subs[0].buf))
}

// TestPubSubClientOutputBufferLimitDirective covers the directive's
// parsing and rendering with the answers redis-server 7.0.15 gave to the
// same values (CONFIG SET then CONFIG GET).
func TestPubSubClientOutputBufferLimitDirective(t *testing.T) {
	def := NewConfig().ClientOutputBufferLimits
	assert.Equal(t, "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", formatOutputBufferLimits(&def))
	for _, tc := range []struct {
		args []string
		want string // the pubsub class afterwards, or the error
	}{
		{[]string{""}, "pubsub 33554432 8388608 60"},
		{[]string{"pubsub", "1", "2", "3"}, "pubsub 1 2 3"},
		{[]string{"PUBSUB", "1mb", "2kb", "3"}, "pubsub 1048576 2048 3"},
		{[]string{"pubsub", "1K", "k", "+3"}, "pubsub 1000 0 3"},
		{[]string{"pubsub", "", "1", ""}, "pubsub 0 1 0"},
		{[]string{"pubsub", "18446744073709551616", "9223372036854775808", " \t7"}, "pubsub 18446744073709551615 9223372036854775808 7"},
		{[]string{"pubsub", "17179869184gb", "1", "4294967297"}, "pubsub 0 1 1"},
		{[]string{"pubsub", "1", "1", "-4294967295"}, "pubsub 1 1 1"},
		{[]string{"pubsub", "1", "1", "2147483647"}, "pubsub 1 1 2147483647"},
		{[]string{"pubsub", "1", "2"}, errObufArgCount},
		{[]string{"", "pubsub", "1", "2", "3"}, errObufArgCount},
		{[]string{"master", "1", "1", "1"}, errObufClass},
		{[]string{"foo", "x", "1", "1"}, errObufClass},
		{[]string{"pubsub", "x", "1", "1", "foo", "1", "1", "1"}, errObufValue},
		{[]string{"pubsub", "-1", "2", "3"}, errObufValue},
		{[]string{"pubsub", "1.5", "2", "3"}, errObufValue},
		{[]string{"pubsub", "1", "2", "1k"}, errObufValue},
		{[]string{"pubsub", "1", "2", "0x10"}, errObufValue},
		{[]string{"pubsub", "1", "2", "-5"}, errObufValue},
		{[]string{"pubsub", "1", "2", "+"}, errObufValue},
		{[]string{"pubsub", "1", "2", "2147483648"}, errObufValue},
		{[]string{"pubsub", "1", "2", "9223372036854775807"}, errObufValue},
		{[]string{"pubsub", "1", "2", "99999999999999999999"}, errObufValue},
	} {
		l := def
		err := parseOutputBufferLimits(&l, tc.args)
		if err != nil {
			assert.Equal(t, tc.want, err.Error(), "%q", tc.args)
			assert.Equal(t, def, l, "%q: a refused value changes nothing", tc.args)
			continue
		}
		got := formatOutputBufferLimits(&l)
		assert.Equal(t, "normal 0 0 0 slave 268435456 67108864 60 "+tc.want, got, "%q", tc.args)
	}
	l := def
	require.NoError(t, parseOutputBufferLimits(&l, []string{"pubsub", "1", "2", "3", "replica", "4", "5", "6", "normal", "7", "8", "9"}))
	assert.Equal(t, "normal 7 8 9 slave 4 5 6 pubsub 1 2 3", formatOutputBufferLimits(&l))
}

// TestPubSubOutputLimitTiming checks the limit decisions: the hard limit
// at once; the soft limit only once the output has stayed over it for
// more than the soft seconds, the clock restarting whenever it drops
// below.
func TestPubSubOutputLimitTiming(t *testing.T) {
	s := newPubSubTestServer(t)
	s.cfg.ClientOutputBufferLimits[obufPubsub] = OutputBufferLimit{Hard: 1000, Soft: 100, SoftSeconds: 2}
	c := newPubSubTestClient(s, 2)
	c.runForTest(subscribeCommand, "subscribe", "ch")
	at := func(sec int64, pending int) bool {
		s.unitMs = sec * 1000
		c.buf = make([]byte, pending)
		return s.overPubsubLimit(c)
	}
	assert.False(t, at(100, 99), "under both limits")
	assert.False(t, at(100, 100), "soft limit reached: the clock starts")
	assert.False(t, at(102, 500), "2 s over the soft limit is not more than 2 s")
	assert.True(t, at(103, 500), "3 s over the soft limit")
	assert.False(t, at(104, 10), "below again: the clock stops")
	assert.False(t, at(110, 200), "over again: a new clock")
	assert.False(t, at(112, 200))
	assert.True(t, at(112, 1000), "the hard limit does not wait")
	s.cfg.ClientOutputBufferLimits[obufPubsub] = OutputBufferLimit{}
	assert.False(t, at(200, 1<<30), "0 0 0 disables the class")
}

// TestPubSubSlowSubscriberIsClosedNotFed: past the hard limit a
// subscriber is marked for closing, later messages are not written to it,
// and it still counts as a receiver until its connection is released
// (Redis counts it until freed).
func TestPubSubSlowSubscriberIsClosedNotFed(t *testing.T) {
	s := newPubSubTestServer(t)
	s.cfg.ClientOutputBufferLimits[obufPubsub] = OutputBufferLimit{Hard: 4096}
	slow := newPubSubTestClient(s, 2)
	slow.runForTest(subscribeCommand, "subscribe", "ws:user:1")
	msg := make([]byte, 1000)
	n := 0
	for slow.flags&flagCloseASAP == 0 {
		require.Equal(t, int64(1), s.publish([]byte("ws:user:1"), msg))
		n++
		require.Less(t, n, 10, "never closed")
	}
	size := len(slow.buf)
	assert.GreaterOrEqual(t, size, 4096)
	assert.Equal(t, int64(1), s.publish([]byte("ws:user:1"), msg))
	assert.Equal(t, size, len(slow.buf), "nothing more is written to a closing client")
	s.removeClient(slow)
	assert.Equal(t, int64(0), s.publish([]byte("ws:user:1"), msg))
	assert.Empty(t, s.pubsub.channels)
}

// BenchmarkPubSubResubscribe500k measures the Celery reconnect burst: one
// SUBSCRIBE of 500,000 result channels, then the same again.
func BenchmarkPubSubResubscribe500k(b *testing.B) {
	s := newPubSubTestServer(b)
	const n = 500000
	args := make([]string, n+1)
	args[0] = "subscribe"
	for i := 1; i <= n; i++ {
		args[i] = fmt.Sprintf("celery-task-meta-%08x-0000-4000-8000-%012x", i, i)
	}
	c := newPubSubTestClient(s, 2)
	c.runForTest(subscribeCommand, args...)
	b.ResetTimer()
	for b.Loop() {
		c.buf = c.buf[:0]
		c.runForTest(subscribeCommand, args...)
	}
}
