package integration

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/resp/resptest"
)

// Client-side caching: CLIENT TRACKING and the invalidation messages.
// Errors, TRACKINGINFO, GETREDIR, CLIENT LIST and INFO go through the
// extended runner; the invalidations through raw pipelines (protocol
// cases), which compare everything a connection receives, pushes
// included, in the order the server sent it.

func TestDiffTracking(t *testing.T) {
	info := x("CLIENT", "INFO").with(cmpClients)
	ti := x("CLIENT", "TRACKINGINFO").with(cmpMaskDigits) // the redirect is a client id
	redir := x("CLIENT", "GETREDIR").with(cmpMaskDigits)
	stats := x("INFO", "stats").with(cmpInfo)
	clients := x("INFO", "clients").with(cmpInfo)
	runX(t, defaultTarget(t), []xcase{
		{name: "tracking/errors", conns: 2, steps: []xstep{
			x("CLIENT", "TRACKING"), x("CLIENT", "TRACKING", "maybe"), x("CLIENT", "TRACKING", "on", "FOO"),
			x("CLIENT", "TRACKING", "on", "REDIRECT"), x("CLIENT", "TRACKING", "on", "REDIRECT", "x"),
			x("CLIENT", "TRACKING", "on", "REDIRECT", "99999999"), x("CLIENT", "TRACKING", "on", "REDIRECT", "{id1}", "REDIRECT", "{id1}"),
			x("CLIENT", "TRACKING", "on", "PREFIX", "a"), x("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a", "PREFIX", "ab"),
			x("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "ab", "PREFIX", "a"), x("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a", "PREFIX", "a"),
			x("CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"), x("CLIENT", "TRACKING", "on", "BCAST", "OPTIN"),
			x("CLIENT", "TRACKING", "on", "BCAST", "OPTOUT", "OPTIN"), x("CLIENT", "TRACKING", "on", "PREFIX"),
			x("CLIENT", "TRACKING", "off", "FOO"), x("CLIENT", "TRACKING", "off", "BCAST", "PREFIX", "x"),
			x("CLIENT", "CACHING"), x("CLIENT", "CACHING", "yes"), x("CLIENT", "CACHING", "maybe"), x("CLIENT", "GETREDIR", "x"),
			x("CLIENT", "TRACKINGINFO", "x"), ti, x("CLIENT", "GETREDIR"), info}},
		{name: "tracking/modes", conns: 2, steps: []xstep{
			x("CONFIG", "RESETSTAT"), x("CLIENT", "TRACKING", "on"), ti, x("CLIENT", "GETREDIR"), info, clients,
			x("CLIENT", "CACHING", "yes"), x("CLIENT", "CACHING", "no"),
			x("CLIENT", "TRACKING", "on", "BCAST"), x("CLIENT", "TRACKING", "on", "OPTIN"), ti, x("CLIENT", "TRACKING", "on", "OPTOUT"),
			x("CLIENT", "TRACKING", "off"), ti, x("CLIENT", "GETREDIR"), info,
			x("CLIENT", "TRACKING", "on", "OPTIN", "NOLOOP", "REDIRECT", "{id1}"), ti, redir, info,
			x("CLIENT", "CACHING", "no"), x("CLIENT", "CACHING", "yes"), ti, x("PING"), ti,
			x("CLIENT", "CACHING", "yes"), redir, ti, x("CLIENT", "TRACKING", "on", "OPTOUT"),
			x("CLIENT", "TRACKING", "off"), x("CLIENT", "TRACKING", "on", "OPTOUT"), x("CLIENT", "CACHING", "no"), ti,
			x("CLIENT", "CACHING", "yes"), x("CLIENT", "TRACKING", "off"),
			x("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "b", "PREFIX", "a"), ti, info, stats,
			x("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "ab"), x("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "c"), ti,
			x("CLIENT", "TRACKING", "on"), x("CLIENT", "TRACKING", "off"), ti, stats,
			x("CLIENT", "TRACKING", "on", "BCAST"), ti, x("RESET"), ti, info, clients, stats}},
		{name: "tracking/table-stats", conns: 3, steps: []xstep{
			x("CONFIG", "RESETSTAT"), on(2, "SUBSCRIBE", "__redis__:invalidate"), x("CLIENT", "TRACKING", "on", "REDIRECT", "{id2}"),
			on(1, "CLIENT", "TRACKING", "on", "REDIRECT", "{id2}"),
			x("GET", "a"), x("MGET", "a", "b", "c"), on(1, "GET", "a"), x("SET", "x", "1"), x("EXISTS", "d"), stats, clients,
			on(1, "SET", "a", "1"), recvOn(2), recvOn(2), stats, x("CLIENT", "TRACKING", "off"), stats, on(1, "SET", "b", "1"), stats,
			on(1, "DEL", "c"), on(1, "SET", "d", "1"), stats, on(2, "PING")}},
		{name: "tracking/redirect-resp2-pubsub", conns: 3, steps: []xstep{
			on(1, "SUBSCRIBE", "__redis__:invalidate"), x("CLIENT", "TRACKING", "on", "REDIRECT", "{id1}"), x("GET", "k1"),
			x("MGET", "k2", "k3"), on(2, "SET", "k1", "v"), recvOn(1), on(2, "MSET", "k2", "v", "k3", "v"), recvOn(1), recvOn(1),
			x("SET", "k2", "again"), x("GET", "k1"), x("SET", "k1", "w"), recvOn(1), info, on(1, "PING")}},
		{name: "tracking/redirect-bcast", conns: 3, steps: []xstep{
			on(1, "SUBSCRIBE", "__redis__:invalidate"), x("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "u:", "PREFIX", "w:", "REDIRECT", "{id1}"),
			on(2, "SET", "u:1", "v"), recvOn(1), on(2, "SET", "other", "v"), on(2, "MSET", "w:2", "v", "u:3", "v", "zz", "v"), recvOn(1),
			recvOn(1), x("SET", "u:4", "v"), recvOn(1), on(2, "DEL", "u:1", "u:3"), recvOn(1), on(1, "PING")}},
		{name: "tracking/table-max-keys-config", cleanup: [][]string{{"CONFIG", "SET", "tracking-table-max-keys", "1000000"}}, steps: []xstep{
			x("CONFIG", "GET", "tracking-table-max-keys"), x("CONFIG", "GET", "*tracking*").with(cmpPairs),
			x("CONFIG", "SET", "tracking-table-max-keys", "-1"), x("CONFIG", "SET", "tracking-table-max-keys", "abc"),
			x("CONFIG", "SET", "tracking-table-max-keys", "1k"), x("CONFIG", "SET", "tracking-table-max-keys", ""),
			x("CONFIG", "SET", "tracking-table-max-keys", "9223372036854775808"), x("CONFIG", "SET", "tracking-table-max-keys", "+5"),
			x("CONFIG", "SET", "tracking-table-max-keys", "9223372036854775807"), x("CONFIG", "GET", "tracking-table-max-keys"),
			x("CONFIG", "SET", "TRACKING-TABLE-MAX-KEYS", "0"), x("CONFIG", "GET", "tracking-table-max-keys")}},
		{name: "tracking/redirect-broken", conns: 3, steps: []xstep{
			x("CLIENT", "TRACKING", "on", "REDIRECT", "{id1}"), x("GET", "k"), on(1, "QUIT").closing(), on(2, "SET", "k", "v"),
			recvOn(0).with(cmpMaskDigits).resp3(), ti, info, x("GET", "k"), on(2, "SET", "k", "w"), recvOn(0).with(cmpMaskDigits).resp3(),
			redir, x("CLIENT", "TRACKING", "off"), info}},
	})
}

// TestDiffTrackingPushes compares the invalidations a RESP3 client gets on
// its own connection (the RESP2 runs show that a RESP2 client without a
// redirection gets none). The cases run concurrently, so each uses keys
// and prefixes of its own.
func TestDiffTrackingPushes(t *testing.T) {
	e := func(args ...string) string { return encode(args...) }
	runProtocol(t, defaultTarget(t), []protoCase{
		{"tracking/self-invalidation-after-reply", e("CLIENT", "TRACKING", "on") + e("GET", "a1") + e("SET", "a1", "v") +
			e("GET", "a1") + e("MULTI") + e("SET", "a1", "w") + e("GET", "a1") + e("EXEC") + e("GET", "a1") + e("PING")},
		{"tracking/noloop", e("CLIENT", "TRACKING", "on", "NOLOOP") + e("GET", "b1") + e("SET", "b1", "v") + e("GET", "b1") +
			e("DEL", "b1") + e("PING")},
		{"tracking/optin", e("CLIENT", "TRACKING", "on", "OPTIN") + e("GET", "c1") + e("SET", "c1", "v") +
			e("CLIENT", "CACHING", "yes") + e("GET", "c1") + e("SET", "c1", "w") + e("GET", "c1") + e("SET", "c1", "x") +
			e("CLIENT", "CACHING", "yes") + e("MULTI") + e("GET", "c1") + e("GET", "c2") + e("EXEC") + e("MSET", "c1", "1", "c2", "2") + e("PING")},
		{"tracking/optout", e("CLIENT", "TRACKING", "on", "OPTOUT") + e("GET", "d1") + e("CLIENT", "CACHING", "no") + e("GET", "d2") +
			e("SET", "d1", "v") + e("SET", "d2", "v") + e("PING")},
		{"tracking/bcast-self", e("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "e:") + e("SET", "e:1", "v") + e("SET", "x:1", "v") +
			e("MSET", "e:2", "v", "e:3", "v") + e("INCR", "e:n") + e("PING")},
		{"tracking/bcast-noloop", e("CLIENT", "TRACKING", "on", "BCAST", "NOLOOP", "PREFIX", "f:") + e("SET", "f:1", "v") + e("PING")},
		{"tracking/expiry-and-types", e("CLIENT", "TRACKING", "on") + e("SET", "g1", "v", "PX", "1") + e("HGET", "g2", "f") +
			e("LRANGE", "g3", "0", "-1") + e("HSET", "g2", "f", "v") + e("RPUSH", "g3", "a") + e("LPOP", "g3") + e("PING")},
		{"tracking/script", e("CLIENT", "TRACKING", "on") + e("EVAL", "return redis.call('get', KEYS[1])", "1", "h1") +
			e("EVAL", "return redis.call('set', KEYS[1], 'v')", "1", "h1") + e("EVAL_RO", "return redis.call('get', KEYS[1])", "1", "h2") +
			e("SET", "h2", "v") + e("PING")},
		{"tracking/off-drops", e("CLIENT", "TRACKING", "on") + e("GET", "i1") + e("CLIENT", "TRACKING", "off") + e("SET", "i1", "v") +
			e("CLIENT", "TRACKING", "on") + e("SET", "i1", "w") + e("PING")},
		{"tracking/reset", e("CLIENT", "TRACKING", "on") + e("GET", "j1") + e("RESET") + e("CLIENT", "TRACKINGINFO") +
			e("SET", "j1", "v") + e("PING")},
	})
	// FLUSHALL tells every tracking client: alone, so no other case's
	// client is among them.
	runProtocol(t, defaultTarget(t), []protoCase{
		{"tracking/flush", e("CLIENT", "TRACKING", "on") + e("GET", "k1") + e("FLUSHALL") + e("GET", "k1") + e("FLUSHDB") +
			e("SET", "k1", "v") + e("PING")},
	})
}

// TestDiffTrackingTableMaxKeys: tracking-table-max-keys, on a Celerity and
// a redis-server of its own (the cap and the table are server-wide).
//
// Which keys are evicted is random on both servers (a random walk of
// Redis's radix tree; where Go's map iteration starts), so the keys of
// the invalidations are masked in the transcripts compared, and checked
// on each server on its own instead: distinct, among the keys tracked, and
// the keys invalidated later by a write are exactly those left. Everything
// else is deterministic and compared exactly: how many invalidations come
// and where they fall among the replies, the INFO counts. When an
// eviction happens is not (on the next command, or on a cron tick before
// it), but either way it reaches the client before the next command's
// reply, so each step reads what came before its reply. In RESP3 the
// tracking client gets the invalidations itself; in RESP2 a subscriber
// it redirects to, read up to the reply of a PING it sends (the PING's
// own processCommand also evicts, so nothing can come after it).
func TestDiffTrackingTableMaxKeys(t *testing.T) {
	needOracle(t)
	addrs := [2]string{resptest.NewServer(t).Addr(), startRedis(t)}
	for _, proto := range protocols {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			var runs [2]*capRun
			for side, addr := range addrs {
				runs[side] = runTrackingCap(t, addr, proto)
			}
			assert.Equal(t, runs[1].transcript, runs[0].transcript, "celerity vs oracle")
			for side, r := range runs {
				r.check(t, sideName[side])
			}
			suiteStats.steps[proto].Add(int64(len(runs[0].transcript)))
			suiteStats.cases[proto].Add(1)
		})
	}
}

// capRun is what one server showed: the transcript (invalidated keys
// masked) and the keys of the invalidations, by phase.
type capRun struct {
	proto      int
	a, b       *resptest.Conn // the tracking client; its RESP2 redirection target
	redirect   string         // b's client id, shown as {id}
	transcript []string
	phase      string
	keys       map[string][]string // phase -> invalidated keys, in order
}

func keyRange(from, to int) []string {
	var ks []string
	for i := from; i <= to; i++ {
		ks = append(ks, fmt.Sprintf("k%02d", i))
	}
	return ks
}

func runTrackingCap(t *testing.T, addr string, proto int) *capRun {
	r := &capRun{proto: proto, a: resptest.Dial(t, addr), keys: map[string][]string{}}
	defer r.a.NetConn().Close()
	if proto == 3 {
		require.Equal(t, byte('%'), r.a.DoRaw("HELLO", "3")[0])
	}
	require.Equal(t, "+OK\r\n", string(r.a.DoRaw("FLUSHALL")))
	r.do("CONFIG", "SET", "tracking-table-max-keys", "4")
	r.do("CONFIG", "GET", "tracking-table-max-keys")
	if proto == 2 {
		r.b = resptest.Dial(t, addr)
		defer r.b.NetConn().Close()
		id := r.b.Do("CLIENT", "ID").Int
		r.b.DoRaw("SUBSCRIBE", "__redis__:invalidate")
		r.redirect = strconv.FormatInt(id, 10)
		r.do("CLIENT", "TRACKING", "on", "REDIRECT", r.redirect)
	} else {
		r.do("CLIENT", "TRACKING", "on")
	}
	// One key at a time: from the sixth GET on, one eviction each.
	r.phase = "get"
	for _, k := range keyRange(1, 10) {
		r.do("GET", k)
	}
	r.sync()
	r.stats(t)
	// Tracking all ten again in one command: six evictions at once.
	r.phase = "mget"
	r.do(append([]string{"MGET"}, keyRange(1, 10)...)...)
	r.sync()
	r.stats(t)
	// 0 is no cap.
	r.phase = "nocap"
	r.do("CONFIG", "SET", "tracking-table-max-keys", "0")
	r.do(append([]string{"MGET"}, keyRange(11, 20)...)...)
	r.sync()
	r.stats(t)
	// A lower cap is enforced without a new key: twelve evictions.
	r.phase = "lowered"
	r.do("CONFIG", "SET", "tracking-table-max-keys", "2")
	r.sync()
	r.stats(t)
	// A write invalidates the keys left.
	r.phase = "write"
	mset := []string{"MSET"}
	for _, k := range keyRange(1, 20) {
		mset = append(mset, k, "v")
	}
	r.do(mset...)
	r.sync()
	r.stats(t)
	r.do("CONFIG", "SET", "tracking-table-max-keys", "1000000")
	return r
}

// do sends a command on the tracking client and records everything up to
// its reply.
func (r *capRun) do(args ...string) {
	r.a.Send(args...)
	line := "> " + strings.Join(args, " ")
	if r.redirect != "" {
		line = strings.Replace(line, "REDIRECT "+r.redirect, "REDIRECT {id}", 1)
	}
	r.transcript = append(r.transcript, line)
	r.readUntilReply(r.a)
}

// sync records what the tracking client's invalidations went to, up to a
// PING's reply: on the tracking client in RESP3, on the subscriber in RESP2.
func (r *capRun) sync() {
	c := r.a
	if r.proto == 2 {
		c = r.b
	}
	c.Send("PING")
	r.transcript = append(r.transcript, "> PING")
	r.readUntilReply(c)
}

// readUntilReply reads from c until a reply that is not an invalidation,
// recording invalidations with their keys masked.
func (r *capRun) readUntilReply(c *resptest.Conn) {
	for {
		raw := c.ReadRaw()
		v, err := parseReply(raw)
		if err != nil {
			r.transcript = append(r.transcript, fmt.Sprintf("unparsable %q", raw))
			return
		}
		if keys, ok := invalidatedKeys(v); ok {
			r.keys[r.phase] = append(r.keys[r.phase], keys...)
			r.transcript = append(r.transcript, fmt.Sprintf("invalidate %c %d keys", v.Kind, len(keys)))
			continue
		}
		r.transcript = append(r.transcript, string(raw))
		return
	}
}

// invalidatedKeys recognises an invalidation: a RESP3 push
// ["invalidate", [keys]] or a RESP2 message on __redis__:invalidate.
func invalidatedKeys(v *reply) ([]string, bool) {
	var list *reply
	switch {
	case v.Kind == '>' && len(v.Elems) == 2 && v.Elems[0].Str == "invalidate":
		list = v.Elems[1]
	case v.Kind == '*' && len(v.Elems) == 3 && v.Elems[0].Str == "message" && v.Elems[1].Str == "__redis__:invalidate":
		list = v.Elems[2]
	default:
		return nil, false
	}
	var keys []string
	for _, k := range list.Elems {
		keys = append(keys, k.Str)
	}
	return keys, true
}

// stats records INFO's tracking counters.
func (r *capRun) stats(t *testing.T) {
	info := r.a.Do("INFO", "stats").Str
	for _, f := range []string{"tracking_total_keys", "tracking_total_items", "tracking_total_prefixes"} {
		_, rest, ok := strings.Cut(info, "\r\n"+f+":")
		require.True(t, ok, "INFO stats has no %s", f)
		v, _, _ := strings.Cut(rest, "\r\n")
		r.transcript = append(r.transcript, f+":"+v)
	}
}

// check verifies the evicted keys on one server: the transcript (compared
// with the oracle's) already fixed how many there were in each phase.
func (r *capRun) check(t *testing.T, side string) {
	distinctWithin := func(phase string, keys, within []string) {
		seen := map[string]bool{}
		for _, k := range keys {
			assert.True(t, slices.Contains(within, k), "%s %s: evicted %q was not tracked", side, phase, k)
			assert.False(t, seen[k], "%s %s: %q invalidated twice", side, phase, k)
			seen[k] = true
		}
	}
	first10 := keyRange(1, 10)
	distinctWithin("get", r.keys["get"], first10)
	distinctWithin("mget", r.keys["mget"], first10)
	assert.Empty(t, r.keys["nocap"], "%s: no eviction without a cap", side)
	// The four left after "mget" and the ten of "nocap" are tracked: the
	// lowered cap evicts twelve of them, the write invalidates the other
	// two.
	var tracked []string
	for _, k := range first10 {
		if !slices.Contains(r.keys["mget"], k) {
			tracked = append(tracked, k)
		}
	}
	tracked = append(tracked, keyRange(11, 20)...)
	distinctWithin("lowered", r.keys["lowered"], tracked)
	distinctWithin("write", r.keys["write"], tracked)
	all := append(slices.Clone(r.keys["lowered"]), r.keys["write"]...)
	slices.Sort(all)
	assert.Equal(t, tracked, all, "%s: the lowered cap and the write invalidate each tracked key once", side)
}
