package redbeat_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/keyspace"
	"github.com/celerity/celerity/redbeat"
	"github.com/celerity/celerity/resp"
	"github.com/celerity/celerity/resp/resptest"
)

// infoInt reads an integer field of INFO redbeat.
func infoInt(t *testing.T, info, field string) int64 {
	t.Helper()
	_, rest, ok := strings.Cut(info, "\r\n"+field+":")
	require.True(t, ok, "%s in %q", field, info)
	line, _, _ := strings.Cut(rest, "\r\n")
	n, err := strconv.ParseInt(line, 10, 64)
	require.NoError(t, err)
	return n
}

// examined returns redbeat_keys_examined: the keys the commands have
// looked at so far.
func examined(t *testing.T, c *resptest.Conn) int64 {
	t.Helper()
	return infoInt(t, c.Do("INFO", "redbeat").Str, "redbeat_keys_examined")
}

// names lists the "prefix+name" of REDBEAT.SCHEDULE rows and checks that
// each carries discovery_complete only when the reply is incomplete.
func names(t *testing.T, v resp.Value, complete bool) []string {
	t.Helper()
	require.Equal(t, byte('*'), v.Kind, v.Str)
	var out []string
	for _, r := range v.Elems {
		m := mapOf(t, r)
		out = append(out, m["prefix"].Str+m["name"].Str)
		if complete {
			assert.NotContains(t, m, "discovery_complete")
		} else {
			assert.Equal(t, resp.Value{Kind: ':', Int: 0}, m["discovery_complete"])
		}
	}
	return out
}

// A result backend's 200,000 keys next to RedBeat entries nobody was seen
// writing (as after an AOF load): until the first pass ends the commands
// answer from what the Written hook saw and say so; after it they find
// every entry, looking at RedBeat's keys only. After FLUSHALL the next
// writes are found at once.
func TestDiscoveryBigDatabase(t *testing.T) {
	r := redbeat.New(zerolog.Nop())
	srv := resptest.NewServer(t, resptest.WithExtensions(r.Extension()),
		resptest.WithClock(&keyspace.ManualClock{Ms: t0}), resptest.WithConfig(func(cfg *resp.Config) { cfg.HZ = 100 }))
	c := resptest.Dial(t, srv.Addr())
	c.Do("HSET", "redbeat:seen", "definition", interval("seen", 10), "meta", meta(t0, 1))
	c.Do("ZADD", "redbeat::schedule", score(t0+10_000), "redbeat:seen")

	const p = "nadoo:redbeat:"
	srv.Lock()
	resptest.FillResultKeys(srv.Keyspace().DB(0), 200_000)
	// Server.Exec's writes are the extensions' own: no Written hook sees
	// them.
	srv.ExecOK(t, 0, "HSET", p+"a", "definition", interval("a", 10), "meta", meta(t0, 1))
	srv.ExecOK(t, 0, "ZADD", p+":schedule", score(t0+5_000), p+"a")
	srv.ExecOK(t, 0, "HSET", p+"orphan", "definition", interval("orphan", 10))
	srv.ExecOK(t, 0, "HSET", "redbeat:unseen", "definition", interval("unseen", 10))
	redbeat.ForgetDiscovery(r, 0) // the first pass has not ended, as at start
	before := infoInt(t, srv.ExecOK(t, 0, "INFO", "redbeat").Str, "redbeat_keys_examined")
	early := srv.ExecOK(t, 0, "REDBEAT.SCHEDULE")
	lock := srv.ExecOK(t, 0, "REDBEAT.LOCK")
	after := infoInt(t, srv.ExecOK(t, 0, "INFO", "redbeat").Str, "redbeat_keys_examined")
	srv.Unlock()
	assert.LessOrEqual(t, after-before, int64(10), "no walk inside the commands")
	assert.Equal(t, []string{"redbeat:seen"}, names(t, early, false), "only what the Written hook saw")
	require.Len(t, lock.Elems, 1)
	assert.Equal(t, resp.Value{Kind: ':', Int: 0}, mapOf(t, lock.Elems[0])["discovery_complete"])

	waitDiscovered(t, srv)
	before = examined(t, c)
	assert.Equal(t, []string{"nadoo:redbeat:a", "nadoo:redbeat:orphan", "redbeat:seen", "redbeat:unseen"},
		names(t, c.Do("REDBEAT.SCHEDULE"), true))
	locks := c.Do("REDBEAT.LOCK").Elems
	assert.LessOrEqual(t, examined(t, c)-before, int64(12), "RedBeat's keys, not the 200,000 others")
	require.Len(t, locks, 2, "the configured prefix and the one found")
	assert.NotContains(t, mapOf(t, locks[0]), "discovery_complete")
	assert.Equal(t, p, mapOf(t, locks[0])["prefix"].Str)
	assert.Contains(t, c.Do("INFO", "redbeat").Str, "redbeat_index_keys:6\r\n")

	// FLUSHALL: nothing left to discover; what is written next is found
	// from its writes, with no walk.
	require.Equal(t, "OK", c.Do("FLUSHALL").Str)
	assert.Contains(t, c.Do("INFO", "redbeat").Str, "redbeat_discovery_pending_dbs:0\r\n")
	assert.Empty(t, c.Do("REDBEAT.SCHEDULE").Elems)
	c.Do("HSET", p+"b", "definition", interval("b", 10), "meta", meta(t0, 1))
	c.Do("ZADD", p+":schedule", score(t0+10_000), p+"b")
	c.Do("HSET", p+"lonely", "definition", interval("lonely", 10)) // not scheduled
	c.Do("HSET", "tmp", "definition", interval("renamed", 10))
	c.Do("RENAME", "tmp", p+"renamed")
	before = examined(t, c)
	assert.Equal(t, []string{p + "b", p + "lonely", p + "renamed"}, names(t, c.Do("REDBEAT.SCHEDULE"), true))
	// b, lonely, the schedule, renamed, and tmp (gone: dropped now).
	assert.LessOrEqual(t, examined(t, c)-before, int64(5), "no walk: the index was complete")
}

// Entries loaded from the AOF at start were never written in this
// process: the background walk finds them once loading is over.
func TestDiscoveryAfterAOFLoad(t *testing.T) {
	dir := t.TempDir()
	first := resptest.NewServer(t, resptest.WithAOF(dir))
	c := resptest.Dial(t, first.Addr())
	c.Do("HSET", "redbeat:ping", "definition", interval("ping", 5), "meta", meta(t0-1000, 1))
	c.Do("ZADD", "redbeat::schedule", score(t0+4000), "redbeat:ping")
	c.Do("SELECT", "2")
	c.Do("HSET", "app:rb:pong", "definition", interval("pong", 5))
	c.Do("ZADD", "app:rb::schedule", score(t0+4000), "app:rb:pong")
	first.Shutdown()

	r := redbeat.New(zerolog.Nop())
	redbeat.SetSyncWalkMax(r, 0) // no walk inside a command: the cron's only
	srv := resptest.NewServer(t, resptest.WithAOF(dir), resptest.WithExtensions(r.Extension()),
		resptest.WithClock(&keyspace.ManualClock{Ms: t0}))
	waitDiscovered(t, srv)
	c = resptest.Dial(t, srv.Addr())
	assert.Equal(t, []string{"redbeat:ping"}, names(t, c.Do("REDBEAT.SCHEDULE"), true))
	c.Do("SELECT", "2")
	assert.Equal(t, []string{"app:rb:pong"}, names(t, c.Do("REDBEAT.SCHEDULE"), true))
	assert.GreaterOrEqual(t, infoInt(t, c.Do("INFO", "redbeat").Str, "redbeat_discovery_passes"), int64(16))
}
