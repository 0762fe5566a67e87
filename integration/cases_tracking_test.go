package integration

import "testing"

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
