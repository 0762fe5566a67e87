package results_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/aof"
	"github.com/celerity/celerity/aof/vfs"
	"github.com/celerity/celerity/keyspace"
	"github.com/celerity/celerity/resp"
	"github.com/celerity/celerity/resp/resptest"
	"github.com/celerity/celerity/results"
)

const t0 = 1_800_000_000_000 // the fake clock's start, Unix ms

func newServer(t *testing.T, clock *keyspace.ManualClock, opts ...resptest.Option) (*resptest.Server, *resptest.Conn) {
	t.Helper()
	ext := results.New(zerolog.Nop()).Extension()
	opts = append(opts, resptest.WithExtensions(ext), resptest.WithClock(clock))
	s := resptest.NewServer(t, opts...)
	return s, resptest.Dial(t, s.Addr())
}

// mapOf turns a RESP2 map reply (alternating names and values) into a Go map.
func mapOf(t *testing.T, v resp.Value) map[string]resp.Value {
	t.Helper()
	require.Equal(t, byte('*'), v.Kind, "reply: %+v", v)
	require.Zero(t, len(v.Elems)%2)
	m := make(map[string]resp.Value)
	for i := 0; i < len(v.Elems); i += 2 {
		m[v.Elems[i].Str] = v.Elems[i+1]
	}
	return m
}

func intsOf(t *testing.T, v resp.Value) map[string]int64 {
	out := make(map[string]int64)
	for k, e := range mapOf(t, v) {
		out[k] = e.Int
	}
	return out
}

func TestClassify(t *testing.T) {
	for key, want := range map[string]results.Kind{
		"celery-task-meta-d635a3c1":                  results.KindTask,
		"app_celery-task-meta-d635":                  results.KindTask,
		"celery-taskset-meta-804e":                   results.KindGroup,
		"celery-taskset-meta-804e.j":                 results.KindChord,
		"celery-taskset-meta-804e.t":                 results.KindChord,
		"celery-taskset-meta-804e.s":                 results.KindChord,
		"celery-taskset-meta-804e.d":                 results.KindChord,
		"celery-taskset-meta-804e.c":                 results.KindChord,
		"chord-unlock-804e":                          results.KindChord,
		"0f1e.reply.celery.pidbox":                   results.KindPidboxReply,
		"0f1e.reply.celery.pidbox\x06\x163":          results.KindPidboxReply,
		".reply.celery.pidbox":                       results.KindNone,
		"_kombu.binding.reply.celery.pidbox":         results.KindNone,
		"celery":                                     results.KindNone,
		"unacked":                                    results.KindNone,
		"nadoo:redbeat::schedule":                    results.KindNone,
		"w1@host.celery.pidbox":                      results.KindNone,
		"0f1e.reply.celery.pidbox\x06\x16x":          results.KindNone,
		"celery-taskset-meta-":                       results.KindGroup,
		"celery-task-meta-x.reply.celery.pidbox.not": results.KindTask,
	} {
		assert.Equal(t, want, results.Classify(key), "%q", key)
	}
}

func TestTaskState(t *testing.T) {
	for v, want := range map[string]string{
		`{"status": "SUCCESS", "result": 5, "traceback": null}`:                               "SUCCESS",
		`{"result": {"status": "NESTED"}, "children": [[1, {"a": []}]], "status": "FAILURE"}`: "FAILURE",
		`{"status": "PROGRESS"}`: "PROGRESS",
		`{"status": 3}`:          "UNKNOWN",
		`{"result": 1}`:          "UNKNOWN",
		`\x80\x04\x95 pickle`:    "UNKNOWN",
		`[1, 2]`:                 "UNKNOWN",
		`{"status": "SUCC`:       "UNKNOWN",
		``:                       "UNKNOWN",
		`{"status": "` + strings.Repeat("X", 65) + `"}`: "UNKNOWN",
	} {
		assert.Equal(t, want, results.TaskState([]byte(v)), "%q", v)
	}
}

func TestStatsCountsStatesTTLAndQueues(t *testing.T) {
	clock := &keyspace.ManualClock{Ms: t0}
	_, c := newServer(t, clock)
	ok := func(v resp.Value) { require.NotEqual(t, byte('-'), v.Kind, v.Str) }
	ok(c.Do("SETEX", "celery-task-meta-1", "86400", `{"status": "SUCCESS", "result": 5}`))
	ok(c.Do("SETEX", "celery-task-meta-2", "30", `{"status": "SUCCESS", "result": 6}`))
	ok(c.Do("SET", "celery-task-meta-3", `{"status": "FAILURE", "result": {"exc_type": "ValueError"}}`))
	ok(c.Do("SETEX", "celery-task-meta-4", "3600", `{"status": "STARTED"}`))
	ok(c.Do("SETEX", "celery-task-meta-5", "10", "\x80\x04pickled"))
	ok(c.Do("SETEX", "celery-taskset-meta-g1", "86400", `{"result": [["a", null], null]}`))
	ok(c.Do("ZADD", "celery-taskset-meta-g1.j", "0", `[1, "a", "SUCCESS", 1]`))
	ok(c.Do("INCRBY", "celery-taskset-meta-g1.t", "1"))
	ok(c.Do("LPUSH", "0f1e.reply.celery.pidbox", "r1", "r2"))
	ok(c.Do("LPUSH", "0f1e.reply.celery.pidbox\x06\x163", "r3"))
	ok(c.Do("SET", "unrelated", "x"))
	ok(c.Do("SELECT", "1"))
	ok(c.Do("SET", "celery-task-meta-other-db", `{"status": "SUCCESS"}`))

	st := mapOf(t, c.Do("RESULTS.STATS", "DB", "0"))
	assert.Equal(t, "walk", st["source"].Str)
	assert.Equal(t, int64(1), st["complete"].Int)
	assert.Equal(t, int64(0), st["db"].Int)
	assert.Equal(t, int64(11), st["keys_examined"].Int)
	assert.Equal(t, int64(5), st["task_results"].Int)
	assert.Equal(t, map[string]int64{"SUCCESS": 2, "FAILURE": 1, "STARTED": 1, "UNKNOWN": 1}, intsOf(t, st["states"]))
	assert.Equal(t, int64(1), st["groups"].Int)
	assert.Equal(t, int64(2), st["chord_keys"].Int)
	assert.Equal(t, int64(1), st["pidbox_reply_queues"].Int, "priority lists of one queue count once")
	assert.Equal(t, int64(3), st["pidbox_replies_waiting"].Int)
	assert.Equal(t, int64(5), st["without_ttl"].Int, "task 3, .j, .t and both reply lists")
	assert.Equal(t, map[string]int64{"<1m": 2, "<10m": 0, "<1h": 0, "<1d": 1, "<7d": 2, ">=7d": 0},
		intsOf(t, st["ttl"]), "3600 s is not < 1h; 86400 s is not < 1d")
	assert.Positive(t, st["bytes"].Int)
	assert.Equal(t, int64(0), st["default_ttl"].Int)

	// Without DB: the client's database.
	st1 := mapOf(t, c.Do("RESULTS.STATS"))
	assert.Equal(t, int64(1), st1["db"].Int)
	assert.Equal(t, map[string]int64{"SUCCESS": 1}, intsOf(t, st1["states"]))

	// Expired keys are not counted even before they are reclaimed.
	clock.Advance(31 * time.Second)
	st = mapOf(t, c.Do("RESULTS.STATS", "db", "0"))
	assert.Equal(t, int64(3), st["task_results"].Int)

	assert.Equal(t, "ERR syntax error", c.Do("RESULTS.STATS", "DB").Str)
	assert.Equal(t, "ERR syntax error", c.Do("RESULTS.STATS", "FOO", "1").Str)
	assert.Equal(t, "ERR value is not an integer or out of range", c.Do("RESULTS.STATS", "DB", "x").Str)
	assert.Equal(t, "ERR DB index is out of range", c.Do("RESULTS.STATS", "DB", "16").Str)
	assert.Equal(t, "ERR DB index is out of range", c.Do("RESULTS.STATS", "DB", "-1").Str)
	// DB n parses as SELECT does: no sign, an int32 (this accepted "+1").
	for _, n := range []string{"+1", "4294967296"} {
		want := c.Do("SELECT", n)
		require.Equal(t, byte('-'), want.Kind)
		assert.Equal(t, want.Str, c.Do("RESULTS.STATS", "DB", n).Str, n)
	}
}

// RESP3 clients get maps.
func TestStatsRESP3Shape(t *testing.T) {
	_, c := newServer(t, &keyspace.ManualClock{Ms: t0})
	c.Do("HELLO", "3")
	c.Do("SET", "celery-task-meta-1", `{"status": "SUCCESS"}`)
	v := c.Do("RESULTS.STATS")
	require.Equal(t, byte('%'), v.Kind)
	require.Len(t, v.Elems, 30)
	assert.Equal(t, "states", v.Elems[12].Str)
	assert.Equal(t, byte('%'), v.Elems[13].Kind)
	assert.Equal(t, byte('#'), v.Elems[5].Kind, "complete is a boolean")
}

// results-default-ttl: a result key or reply queue written without a TTL
// gets one, in the same unit (the AOF has the write and its PEXPIREAT in
// one MULTI/EXEC); keys with a TTL, unrelated keys and PERSISTed keys are
// left alone.
func TestDefaultTTL(t *testing.T) {
	clock := &keyspace.ManualClock{Ms: t0}
	fs := vfs.NewMemFS()
	require.NoError(t, fs.MkdirAll("/data", 0o755))
	require.NoError(t, fs.SyncDir("/"))
	_, c := newServer(t, clock, func(cfg *resp.Config, o *resp.Options) {
		cfg.AppendOnly = true
		cfg.AppendFsync = aof.FsyncAlways
		cfg.Dir = "/data"
		o.AOFFS = fs
	})
	require.Equal(t, "OK", c.Do("CONFIG", "SET", "results-default-ttl", "600").Str)
	at := strconv.FormatInt(t0+600_000, 10)

	require.Equal(t, "OK", c.Do("SET", "celery-task-meta-a", `{"status": "SUCCESS"}`).Str)
	assert.Equal(t, int64(600), c.Do("TTL", "celery-task-meta-a").Int)
	require.Equal(t, "OK", c.Do("SETEX", "celery-task-meta-b", "5", "{}").Str)
	assert.Equal(t, int64(5), c.Do("TTL", "celery-task-meta-b").Int, "a TTL the client chose stays")
	require.Equal(t, "OK", c.Do("SET", "plain", "x").Str)
	assert.Equal(t, int64(-1), c.Do("TTL", "plain").Int)

	// Inside MULTI and a script, and a reply queue pushed to.
	c.Do("MULTI")
	c.Do("SET", "celery-taskset-meta-g", "{}")
	c.Do("INCRBY", "celery-taskset-meta-g.t", "1")
	require.Len(t, c.Do("EXEC").Elems, 2)
	assert.Equal(t, int64(600), c.Do("TTL", "celery-taskset-meta-g").Int)
	assert.Equal(t, int64(600), c.Do("TTL", "celery-taskset-meta-g.t").Int)
	c.Do("EVAL", "redis.call('rpush', KEYS[1], 'x')", "1", "celery-taskset-meta-g.j")
	assert.Equal(t, int64(600), c.Do("TTL", "celery-taskset-meta-g.j").Int)
	require.Equal(t, int64(1), c.Do("LPUSH", "oid.reply.celery.pidbox", "{}").Int)
	assert.Equal(t, int64(600), c.Do("TTL", "oid.reply.celery.pidbox").Int)
	clock.Advance(100 * time.Second)
	require.Equal(t, int64(2), c.Do("LPUSH", "oid.reply.celery.pidbox", "{}").Int)
	assert.Equal(t, int64(500), c.Do("TTL", "oid.reply.celery.pidbox").Int, "a key that has a TTL keeps it")

	// PERSIST is respected until the next write without a TTL.
	require.Equal(t, int64(1), c.Do("PERSIST", "celery-task-meta-a").Int)
	assert.Equal(t, int64(-1), c.Do("TTL", "celery-task-meta-a").Int)
	require.Equal(t, "OK", c.Do("SET", "celery-task-meta-a", `{"status": "FAILURE"}`).Str)
	assert.Equal(t, int64(600), c.Do("TTL", "celery-task-meta-a").Int)

	info := c.Do("INFO", "results").Str
	assert.Contains(t, info, "results_default_ttl_applied:5\r\n")
	assert.Contains(t, info, "results_default_ttl_applied_pidbox:1\r\n")
	assert.Contains(t, info, "results_persist_respected:1\r\n")

	// Off again: nothing more.
	require.Equal(t, "OK", c.Do("CONFIG", "SET", "results-default-ttl", "0").Str)
	require.Equal(t, "OK", c.Do("SET", "celery-task-meta-c", "{}").Str)
	assert.Equal(t, int64(-1), c.Do("TTL", "celery-task-meta-c").Int)

	cmds := resptest.IncrCommands(t, fs)
	assert.Contains(t, strings.Join(cmds, "\n"), strings.Join([]string{
		"MULTI",
		`SET celery-task-meta-a {"status": "SUCCESS"}`,
		"PEXPIREAT celery-task-meta-a " + at,
		"EXEC",
	}, "\n"))
	assert.Contains(t, cmds, "PEXPIREAT celery-taskset-meta-g.t "+at)
	assert.NotContains(t, strings.Join(cmds, "\n"), "PEXPIREAT plain")
	assert.NotContains(t, strings.Join(cmds, "\n"), "PEXPIREAT celery-task-meta-c")
}
