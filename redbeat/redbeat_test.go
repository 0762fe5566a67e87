package redbeat_test

import (
	"bytes"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/keyspace"
	"github.com/celerity/celerity/redbeat"
	"github.com/celerity/celerity/resp"
	"github.com/celerity/celerity/resp/resptest"
)

// t0 is 2027-01-15 08:00:00 UTC, the fake clock's start.
const t0 = 1_800_000_000_000

// RedBeat's extend-to script (redbeat/schedulers.py LUA_EXTEND_TO_SCRIPT),
// as beat runs it every tick.
const extendTo = `
    local token = redis.call('get', KEYS[1])
    if not token or token ~= ARGV[1] then
        return 0
    end
    local expiration = redis.call('pttl', KEYS[1])
    if not expiration then
        expiration = 0
    end
    if expiration < 0 then
        return 0
    end
    redis.call('pexpire', KEYS[1], ARGV[2])
    return 1
`

// syncBuf is a log sink the test reads while the server writes.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newServer(t *testing.T, clock *keyspace.ManualClock) (*resptest.Conn, *syncBuf) {
	t.Helper()
	logs := &syncBuf{}
	ext := redbeat.New(zerolog.New(logs)).Extension()
	s := resptest.NewServer(t, resptest.WithExtensions(ext), resptest.WithClock(clock))
	return resptest.Dial(t, s.Addr()), logs
}

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

func strs(v resp.Value) []string {
	var out []string
	for _, e := range v.Elems {
		out = append(out, e.Str)
	}
	return out
}

func datetime(ms int64) string {
	t := time.UnixMilli(ms).UTC()
	return `{"__type__": "datetime", "year": ` + strconv.Itoa(t.Year()) + `, "month": ` + strconv.Itoa(int(t.Month())) +
		`, "day": ` + strconv.Itoa(t.Day()) + `, "hour": ` + strconv.Itoa(t.Hour()) + `, "minute": ` + strconv.Itoa(t.Minute()) +
		`, "second": ` + strconv.Itoa(t.Second()) + `, "microsecond": 0, "timezone": "UTC"}`
}

func interval(name string, every int) string {
	return `{"name": "` + name + `", "task": "app.tasks.` + name + `", "args": ["payload"], "kwargs": {}, "options": {},
		"schedule": {"__type__": "interval", "every": ` + strconv.Itoa(every) + `.0, "relative": false}, "enabled": true}`
}

func meta(lastRun int64, count int) string {
	return `{"last_run_at": ` + datetime(lastRun) + `, "total_run_count": ` + strconv.Itoa(count) + `}`
}

func score(ms int64) string { return strconv.FormatInt(ms/1000, 10) }

func TestScheduleListsEntriesWithNextRunsAndFlags(t *testing.T) {
	clock := &keyspace.ManualClock{Ms: t0}
	c, _ := newServer(t, clock)
	ok := func(v resp.Value) { require.NotEqual(t, byte('-'), v.Kind, v.Str) }
	const p = "nadoo:redbeat:"
	sched := p + ":schedule"
	// An interval entry that ran 3 s ago: next in 7 s.
	ok(c.Do("HSET", p+"every-10s", "definition", interval("every-10s", 10), "meta", meta(t0-3000, 12)))
	ok(c.Do("ZADD", sched, score(t0+7000), p+"every-10s"))
	// A crontab at minute 0 that ran at 08:00: next 09:00.
	ok(c.Do("HSET", p+"hourly", "definition", `{"name": "hourly", "task": "app.tasks.hourly",
		"schedule": {"__type__": "crontab", "minute": "0", "hour": "*", "day_of_week": "*", "day_of_month": "*",
		"month_of_year": "*"}, "enabled": true}`, "meta", meta(t0, 3)))
	ok(c.Do("ZADD", sched, score(t0+3_600_000), p+"hourly"))
	// Overdue: due 9 minutes ago (no beat running).
	ok(c.Do("HSET", p+"late", "definition", interval("late", 60), "meta", meta(t0-600_000, 1)))
	ok(c.Do("ZADD", sched, score(t0-540_000), p+"late"))
	// Inconsistent: a schedule member without hash, a hash outside the
	// schedule, a stored due time far from the computed one.
	ok(c.Do("ZADD", sched, score(t0+100_000), p+"ghost"))
	ok(c.Do("HSET", p+"orphan", "definition", interval("orphan", 30)))
	ok(c.Do("HSET", p+"skewed", "definition", interval("skewed", 30), "meta", meta(t0, 1)))
	ok(c.Do("ZADD", sched, score(t0+300_000), p+"skewed"))
	ok(c.Do("SADD", p+":statics", "every-10s", "hourly", "gone"))
	// Not RedBeat: a sorted set named like a schedule whose members are not
	// under its prefix, and a lock-like key.
	ok(c.Do("ZADD", "jobs:schedule", "1", "x"))
	ok(c.Do("HSET", "jobs:x", "definition", "{}"))

	rows := c.Do("REDBEAT.SCHEDULE")
	require.Equal(t, byte('*'), rows.Kind, rows.Str)
	var names []string
	byName := map[string]map[string]resp.Value{}
	for _, r := range rows.Elems {
		m := mapOf(t, r)
		assert.Equal(t, p, m["prefix"].Str)
		names = append(names, m["name"].Str)
		byName[m["name"].Str] = m
	}
	assert.Equal(t, []string{"late", "every-10s", "ghost", "skewed", "hourly", "gone", "orphan"}, names,
		"by due time, then the entries outside the schedule by name")

	e := byName["every-10s"]
	assert.Equal(t, "app.tasks.every-10s", e["task"].Str)
	assert.Equal(t, p+"every-10s", e["key"].Str)
	s := mapOf(t, e["schedule"])
	assert.Equal(t, "interval", s["type"].Str)
	assert.Equal(t, "10", s["every"].Str)
	assert.Equal(t, int64(1), e["enabled"].Int)
	assert.Equal(t, int64(1), e["static"].Int)
	assert.Equal(t, int64(t0-3000), e["last_run_at_ms"].Int)
	assert.Equal(t, int64(12), e["total_run_count"].Int)
	assert.Equal(t, int64(t0+7000), e["due_at_ms"].Int)
	assert.Equal(t, int64(t0+7000), e["next_run_at_ms"].Int)
	assert.Equal(t, int64(7000), e["next_run_in_ms"].Int)
	assert.Equal(t, int64(0), e["overdue"].Int)
	assert.Equal(t, int64(1), e["consistent"].Int)
	assert.Empty(t, e["flags"].Elems)
	assert.NotContains(t, rows.Elems, "payload", "arguments are never shown")

	h := byName["hourly"]
	s = mapOf(t, h["schedule"])
	assert.Equal(t, map[string]string{"type": "crontab", "minute": "0", "hour": "*", "day_of_week": "*",
		"day_of_month": "*", "month_of_year": "*", "timezone": "UTC"},
		map[string]string{"type": s["type"].Str, "minute": s["minute"].Str, "hour": s["hour"].Str,
			"day_of_week": s["day_of_week"].Str, "day_of_month": s["day_of_month"].Str,
			"month_of_year": s["month_of_year"].Str, "timezone": s["timezone"].Str})
	assert.Equal(t, int64(t0+3_600_000), h["next_run_at_ms"].Int)

	assert.Equal(t, int64(1), byName["late"]["overdue"].Int)
	assert.Equal(t, []string{"overdue"}, strs(byName["late"]["flags"]))
	assert.Equal(t, int64(1), byName["late"]["consistent"].Int, "overdue is not an inconsistency")

	g := byName["ghost"]
	assert.Equal(t, []string{"missing_hash"}, strs(g["flags"]))
	assert.Equal(t, int64(0), g["consistent"].Int)
	assert.Equal(t, byte('_'), g["task"].Kind)
	assert.Equal(t, byte('_'), g["next_run_at_ms"].Kind)

	o := byName["orphan"]
	assert.Equal(t, []string{"not_scheduled", "never_run"}, strs(o["flags"]))
	assert.Equal(t, byte('_'), o["due_at_ms"].Kind)
	assert.Equal(t, int64(t0), o["next_run_at_ms"].Int, "never run: due now")

	assert.Equal(t, []string{"due_mismatch"}, strs(byName["skewed"]["flags"]))
	assert.Equal(t, []string{"static_missing"}, strs(byName["gone"]["flags"]))

	// Time passes: the interval entry becomes overdue once its grace is over.
	clock.Advance(13 * time.Second)
	for _, r := range c.Do("REDBEAT.SCHEDULE", "PREFIX", p).Elems {
		if m := mapOf(t, r); m["name"].Str == "every-10s" {
			assert.Equal(t, int64(1), m["overdue"].Int)
			assert.Equal(t, int64(-6000), m["next_run_in_ms"].Int)
		}
	}

	assert.Empty(t, c.Do("REDBEAT.SCHEDULE", "PREFIX", "redbeat:").Elems, "the default prefix holds nothing")
	assert.Equal(t, "ERR syntax error", c.Do("REDBEAT.SCHEDULE", "PREFIX").Str)
	assert.Equal(t, "ERR syntax error", c.Do("REDBEAT.SCHEDULE", "FOO", "x").Str)
	assert.Equal(t, "ERR syntax error", c.Do("REDBEAT.LOCK", "PREFIX", "a", "b").Str)

	// RESP3: maps, booleans and doubles.
	c.Do("HELLO", "3")
	v := c.Do("REDBEAT.SCHEDULE", "PREFIX", p)
	require.Equal(t, byte('*'), v.Kind)
	require.Equal(t, byte('%'), v.Elems[0].Kind)
	assert.Len(t, v.Elems[0].Elems, 30)
}

// The default prefix "redbeat:" writes its schedule as "redbeat::schedule".
func TestScheduleDefaultPrefix(t *testing.T) {
	c, _ := newServer(t, &keyspace.ManualClock{Ms: t0})
	c.Do("HSET", "redbeat:ping", "definition", interval("ping", 5), "meta", meta(t0-1000, 1))
	c.Do("ZADD", "redbeat::schedule", score(t0+4000), "redbeat:ping")
	rows := c.Do("REDBEAT.SCHEDULE").Elems
	require.Len(t, rows, 1)
	m := mapOf(t, rows[0])
	assert.Equal(t, "redbeat:", m["prefix"].Str)
	assert.Equal(t, "ping", m["name"].Str)
	assert.Equal(t, int64(t0+4000), m["next_run_at_ms"].Int)
}

func TestLockWatchWarnsOnLateExtensionAndExpiry(t *testing.T) {
	clock := &keyspace.ManualClock{Ms: t0}
	c, logs := newServer(t, clock)
	const p = "nadoo:redbeat:"
	lock := p + ":lock"
	const token = "a24c0e0c3a2f11efb0f1a1b2c3d4e5f6"
	require.Equal(t, int64(1), c.Do("ZADD", p+":schedule", "1", p+"x").Int)

	require.Equal(t, "OK", c.Do("SET", lock, token, "NX", "PX", "3000").Str)
	extend := func() int64 { return c.Do("EVAL", extendTo, "1", lock, token, "3000", "0").Int }

	clock.Advance(time.Second)
	require.Equal(t, int64(1), extend(), "2 s of 3 left: fine")
	assert.Contains(t, c.Do("INFO", "redbeat").Str, "redbeat_lock_warnings:0\r\n")

	clock.Advance(2500 * time.Millisecond)
	require.Equal(t, int64(1), extend(), "0.5 s of 3 left: late")
	info := c.Do("INFO", "redbeat").Str
	assert.Contains(t, info, "redbeat_lock_late_extensions:1\r\n")
	assert.Contains(t, info, "redbeat_last_warning:late_extension\r\n")
	assert.Contains(t, info, "redbeat_last_warning_lock:"+lock+"\r\n")
	assert.Contains(t, info, "redbeat_last_warning_ttl_left_ms:500\r\n")
	assert.Contains(t, info, "redbeat_last_warning_lock_timeout_ms:3000\r\n")
	assert.Contains(t, info, "redbeat_last_warning_extension_interval_ms:2500\r\n")

	l := mapOf(t, c.Do("REDBEAT.LOCK").Elems[0])
	assert.Equal(t, lock, l["key"].Str)
	assert.Equal(t, token, l["holder"].Str)
	assert.Equal(t, int64(3000), l["ttl_ms"].Int)
	assert.Equal(t, int64(3000), l["timeout_ms"].Int)
	assert.Equal(t, int64(t0), l["acquired_at_ms"].Int)
	assert.Equal(t, int64(t0+3500), l["last_extension_at_ms"].Int)
	assert.Equal(t, int64(2500), l["extension_interval_ms"].Int)
	var evs []string
	for _, ev := range l["events"].Elems {
		m := mapOf(t, ev)
		evs = append(evs, m["type"].Str+" "+strconv.FormatInt(m["at_ms"].Int-t0, 10)+" "+
			strconv.FormatInt(m["ttl_left_ms"].Int, 10)+" "+strconv.FormatInt(m["ttl_ms"].Int, 10))
	}
	assert.Equal(t, []string{"acquire 0 -1 3000", "extend 1000 2000 3000", "extend 3500 500 3000"}, evs)
	assert.Equal(t, int64(1), l["warnings"].Int)
	assert.Equal(t, "late_extension", l["last_warning"].Str)

	// The beat sleeps past the TTL: the lock expires, the cron notices.
	clock.Advance(3100 * time.Millisecond)
	require.Eventually(t, func() bool {
		return strings.Contains(c.Do("INFO", "redbeat").Str, "redbeat_lock_expirations:1\r\n")
	}, 5*time.Second, 10*time.Millisecond)
	info = c.Do("INFO", "redbeat").Str
	assert.Contains(t, info, "redbeat_last_warning:expired\r\n")
	assert.Contains(t, info, "redbeat_lock_warnings:2\r\n")
	l = mapOf(t, c.Do("REDBEAT.LOCK", "PREFIX", p).Elems[0])
	assert.Equal(t, byte('_'), l["holder"].Kind)
	assert.Equal(t, int64(-2), l["ttl_ms"].Int)
	assert.Equal(t, "expired", l["last_warning"].Str)

	out := logs.String()
	assert.Contains(t, out, `"level":"warn"`)
	assert.Contains(t, out, `"lock_timeout_ms":3000`)
	assert.Contains(t, out, `"ttl_left_ms":500`)
	assert.Contains(t, out, "sibson/redbeat#230")
	assert.NotContains(t, out, token, "the token is a value: never logged")

	// A new beat takes the lock and releases it (DEL by its release
	// script): no warning when the released lock's deadline passes.
	// (Without NX: commands decide expiry on the unit's wall-clock time,
	// which the manual clock does not drive, so the key still looks alive
	// to SET NX.)
	require.Equal(t, "OK", c.Do("SET", lock, "b"+token[1:], "PX", "3000").Str)
	l = mapOf(t, c.Do("REDBEAT.LOCK").Elems[0])
	assert.Equal(t, "b"+token[1:], l["holder"].Str)
	assert.Len(t, l["events"].Elems, 1, "a new holder starts a new history")
	assert.Equal(t, int64(1), c.Do("DEL", lock).Int)
	// A second lock that does lapse: once the cron has noted it, it has
	// also looked at the released one.
	require.Equal(t, "OK", c.Do("SET", "redbeat::lock", token, "NX", "PX", "1000").Str)
	clock.Advance(10 * time.Second)
	require.Eventually(t, func() bool {
		return strings.Contains(c.Do("INFO", "redbeat").Str, "redbeat_lock_expirations:2\r\n")
	}, 5*time.Second, 10*time.Millisecond)
	info = c.Do("INFO", "redbeat").Str
	assert.Contains(t, info, "redbeat_lock_warnings:3\r\n", "the released lock did not warn")
	assert.Contains(t, info, "redbeat_last_warning_lock:redbeat::lock\r\n")
	assert.Contains(t, info, "redbeat_locks_watched:2\r\n")
}

// Beat's lock under a configured prefix is watched even before any
// schedule exists, and keys that merely end in ":lock" are not.
func TestLockWatchScope(t *testing.T) {
	clock := &keyspace.ManualClock{Ms: t0}
	c, _ := newServer(t, clock)
	require.Equal(t, "OK", c.Do("SET", "redbeat::lock", "t1", "NX", "PX", "25000").Str)
	require.Equal(t, "OK", c.Do("SET", "app:lock", "t2", "NX", "PX", "25000").Str)
	require.Equal(t, "OK", c.Do("SET", "app:report:lock", strings.Repeat("ab", 16), "NX", "PX", "25000").Str)
	require.Equal(t, "OK", c.Do("SET", "other::lock", strings.Repeat("ab", 16), "PX", "25000").Str)
	assert.Contains(t, c.Do("INFO", "redbeat").Str, "redbeat_locks_watched:1\r\n")
	// RedBeat's own spelling, taken as redis-py takes it, with no schedule
	// yet under a prefix nobody configured.
	require.Equal(t, "OK", c.Do("SET", "nadoo:redbeat::lock", strings.Repeat("ab", 16), "NX", "PX", "25000").Str)
	assert.Contains(t, c.Do("INFO", "redbeat").Str, "redbeat_locks_watched:2\r\n")
	rows := c.Do("REDBEAT.LOCK").Elems
	require.Len(t, rows, 2)
	assert.Equal(t, "nadoo:redbeat:", mapOf(t, rows[0])["prefix"].Str)
	m := mapOf(t, rows[1])
	assert.Equal(t, "redbeat:", m["prefix"].Str)
	assert.Equal(t, "t1", m["holder"].Str)
	assert.Equal(t, int64(25000), m["timeout_ms"].Int)
}
