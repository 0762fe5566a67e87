package kombu

import (
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/resp"
	"github.com/celerity/celerity/resp/resptest"
)

// examined returns how many keys the commands have looked at so far.
func (f *fixture) examined() int64 {
	f.srv.Lock()
	defer f.srv.Unlock()
	return f.k.idx.Examined
}

// discovered waits until the first discovery pass has ended everywhere.
func (f *fixture) discovered() {
	f.t.Helper()
	waitDiscovered(f.t, f.srv, f.k)
}

// A result backend's 200,000 keys next to a few Kombu keys nobody was seen
// writing (as after an AOF load): until the first pass ends the commands
// answer from what the Written hook saw and say so; after it they find
// everything, looking at the Kombu keys only. SWAPDB carries the index
// along, FLUSHALL empties it, and the keys written next are found at once.
func TestDiscoveryBigDatabase(t *testing.T) {
	f := newFixture(t, func(cfg *resp.Config) { cfg.HZ = 100 })
	c := f.dial()
	c.Do("SADD", "_kombu.binding.seen", "seen"+SEP+SEP+"seen")
	c.Do("LPUSH", "seen", "m")

	f.srv.Lock()
	resptest.FillResultKeys(f.srv.Keyspace().DB(0), 200_000)
	// Server.Exec's writes are the extensions' own: no Written hook sees
	// them.
	f.srv.ExecOK(t, 0, "SADD", "app:_kombu.binding.celery", "celery"+SEP+SEP+"celery")
	f.srv.ExecOK(t, 0, "LPUSH", "app:celery", "m1", "m2")
	f.srv.ExecOK(t, 0, "LPUSH", "app:celery"+SEP+"3", "m3")
	f.srv.ExecOK(t, 0, "SADD", "app:_kombu.binding.media", "media"+SEP+SEP+"media")
	f.srv.ExecOK(t, 0, "ZADD", "app:unacked_index", seconds(t0-3000), "tag-1")
	f.srv.ExecOK(t, 0, "HSET", "app:unacked", "tag-1", payload("tag-1", "app.add", "id-1", "", "celery", 0, false))
	// The first pass has not ended, as at start.
	d := f.k.idx.DB(0)
	d.Restart()
	before := f.k.idx.Examined
	early := rows(t, f.srv.ExecOK(t, 0, "KOMBU.QUEUES"))
	assert.LessOrEqual(t, f.k.idx.Examined-before, int64(10), "no walk inside the command")
	assert.NotContains(t, f.srv.ExecOK(t, 0, "INFO", "kombu").Str, "kombu_discovery_pending_dbs:0\r\n")
	f.srv.Unlock()
	require.Len(t, early, 1, "only what the Written hook saw")
	assert.Equal(t, "seen", early[0]["name"].Str)
	assert.Equal(t, byte(':'), early[0]["discovery_complete"].Kind)
	assert.Equal(t, int64(0), early[0]["discovery_complete"].Int)

	f.discovered()
	before = f.examined()
	got := byName(t, c.Do("KOMBU.QUEUES"))
	assert.LessOrEqual(t, f.examined()-before, int64(10), "the Kombu keys, not the 200,000 others")
	require.Len(t, got, 3)
	assert.Equal(t, int64(3), got["app:celery"]["messages"].Int, "priority lists named by the binding")
	assert.Equal(t, int64(1), got["app:celery"]["unacked"].Int)
	assert.NotContains(t, got["app:celery"], "discovery_complete", "a complete reply keeps its shape")
	assert.Contains(t, got, "app:media")
	before = f.examined()
	u := rows(t, c.Do("KOMBU.UNACKED"))
	assert.LessOrEqual(t, f.examined()-before, int64(10))
	require.Len(t, u, 1)
	assert.Equal(t, "tag-1", u[0]["tag"].Str)
	info := c.Do("INFO", "kombu").Str
	assert.Contains(t, info, "kombu_discovery_pending_dbs:0\r\n")
	assert.Contains(t, info, "kombu_index_keys:4\r\n")

	// A key dropped is dropped from the index when next used.
	c.Do("DEL", "_kombu.binding.seen")
	assert.NotContains(t, byName(t, c.Do("KOMBU.QUEUES")), "seen")
	assert.Contains(t, c.Do("INFO", "kombu").Str, "kombu_index_keys:3\r\n")

	// SWAPDB moves the index with the data.
	require.Equal(t, "OK", c.Do("SWAPDB", "0", "1").Str)
	before = f.examined()
	assert.Len(t, c.Do("KOMBU.QUEUES", "DB", "1").Elems, 2)
	assert.Empty(t, c.Do("KOMBU.QUEUES", "DB", "0").Elems)
	assert.LessOrEqual(t, f.examined()-before, int64(10))

	// FLUSHALL: nothing left to discover; what is written next is found
	// from its writes, with no walk.
	require.Equal(t, "OK", c.Do("FLUSHALL").Str)
	assert.Contains(t, c.Do("INFO", "kombu").Str, "kombu_discovery_pending_dbs:0\r\n")
	c.Do("SELECT", "1")
	c.Do("SADD", "_kombu.binding.fresh", "fresh"+SEP+SEP+"fresh")
	c.Do("LPUSH", "fresh", "m")
	// Keys that arrive under a new name or in another database.
	c.Do("SADD", "tmp", "renamed"+SEP+SEP+"renamed")
	c.Do("RENAME", "tmp", "_kombu.binding.renamed")
	c.Do("SADD", "_kombu.binding.moved", "moved"+SEP+SEP+"moved")
	c.Do("MOVE", "_kombu.binding.moved", "2")
	c.Do("SADD", "src", "copied"+SEP+SEP+"copied")
	c.Do("COPY", "src", "_kombu.binding.copied", "DB", "3")
	before = f.examined()
	got = byName(t, c.Do("KOMBU.QUEUES"))
	assert.Len(t, got, 2)
	assert.Equal(t, int64(1), got["fresh"]["messages"].Int)
	assert.Contains(t, got, "renamed")
	assert.Contains(t, byName(t, c.Do("KOMBU.QUEUES", "DB", "2")), "moved")
	assert.Contains(t, byName(t, c.Do("KOMBU.QUEUES", "DB", "3")), "copied")
	// fresh, renamed and moved's old name in DB 1, moved in 2, copied in 3.
	assert.LessOrEqual(t, f.examined()-before, int64(5), "no walk: the index was complete")
}

// Keys loaded from the AOF at start were never written in this process:
// the background walk finds them once loading is over.
func TestDiscoveryAfterAOFLoad(t *testing.T) {
	dir := t.TempDir()
	first := resptest.NewServer(t, resptest.WithAOF(dir))
	c := resptest.Dial(t, first.Addr())
	c.Do("SADD", "_kombu.binding.celery", "celery"+SEP+SEP+"celery")
	c.Do("LPUSH", "celery", "m1", "m2")
	c.Do("SET", "celery-task-meta-1", "{}")
	c.Do("SELECT", "5")
	c.Do("SADD", "app:_kombu.binding.media", "media"+SEP+SEP+"media")
	deliver(t, c, "app:", "tag-1", t0, payload("tag-1", "app.add", "id-1", "", "media", 0, false))
	first.Shutdown()

	k := New(zerolog.Nop())
	k.idx.SyncMax = 0 // no walk inside a command: the cron's only
	srv := resptest.NewServer(t, resptest.WithAOF(dir), resptest.WithExtensions(k.Extension()))
	waitDiscovered(t, srv, k)
	c = resptest.Dial(t, srv.Addr())
	got := byName(t, c.Do("KOMBU.QUEUES"))
	require.Contains(t, got, "celery")
	assert.Equal(t, int64(2), got["celery"]["messages"].Int)
	assert.NotContains(t, got["celery"], "discovery_complete")
	media := byName(t, c.Do("KOMBU.QUEUES", "DB", "5"))["app:media"]
	require.NotNil(t, media)
	assert.Equal(t, int64(1), media["unacked"].Int)
	srv.Lock()
	defer srv.Unlock()
	assert.GreaterOrEqual(t, k.idx.Passes, int64(16), "one pass per database")
}

// The Written hook notes candidates by name only; the commands check them.
func TestCandidateNames(t *testing.T) {
	for key, want := range map[string]bool{
		"_kombu.binding.celery":                   true,
		"app:_kombu.binding.celery.pidbox":        true,
		"unacked_index":                           true,
		"app:unacked_index":                       true,
		"unacked":                                 false, // found through its prefix
		"celery":                                  false, // named by the bindings
		"celery-task-meta-2f0a8a4e":               false,
		"_kombu.binding":                          false,
		"a_b_c__kombu.bindingx":                   false,
		"user_sessions__kombu.binding.":           true,
		"celery" + SEP + "3":                      false,
		"_kombu.binding_permanent.celery":         false,
		"reply.celery.pidbox":                     false,
		"x_kombu.binding.":                        true,
		"unacked_index_old":                       false,
		"celery-taskset-meta-x.unacked_index.bak": false,
	} {
		assert.Equal(t, want, isKombuName([]byte(key)), key)
	}
}
