package kombu

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/resp"
	"github.com/celerity/celerity/resp/resptest"
)

func leaseOn(cfg *resp.Config) { cfg.KombuVisibilityLease = true }

// zscoreMs reads a member's score in ms.
func zscoreMs(t *testing.T, c *resptest.Conn, key, member string) int64 {
	t.Helper()
	v := c.Do("ZSCORE", key, member)
	require.Equal(t, byte('$'), v.Kind, "%s %s: %+v", key, member, v)
	f, err := strconv.ParseFloat(v.Str, 64)
	require.NoError(t, err)
	return scoreMs(f)
}

// With the lease on, the score of a delivery whose writer is connected
// follows the clock (so restore_visible never finds it older than
// visibility_timeout); once the writer's connection closes, it stays where
// the last refresh left it, and the ordinary timeout runs from there.
func TestLeaseRefreshesWhileWriterConnected(t *testing.T) {
	f := newFixture(t, leaseOn)
	worker, obs := f.dial(), f.dial()
	deliver(t, worker, "", "tag-1", t0, payload("tag-1", "app.eta", "id-1", "", "celery", 0, false))
	deliver(t, worker, "", "tag-2", t0, payload("tag-2", "app.eta", "id-2", "", "celery", 0, false))
	obs.Do("ZADD", "unacked_index", seconds(t0), "foreign") // in the index only: not Kombu's
	ack(t, worker, "", "tag-2")

	now := f.advance(5 * time.Second)
	require.Eventually(t, func() bool { return zscoreMs(t, obs, "unacked_index", "tag-1") == now },
		10*time.Second, 2*time.Millisecond, "the leased score follows the clock")
	assert.Equal(t, t0, zscoreMs(t, obs, "unacked_index", "foreign"))
	f.srv.Lock()
	_, followed := f.k.tr.deliveries[tagKey{index: "unacked_index", tag: "foreign"}]
	f.srv.Unlock()
	assert.False(t, followed, "an index entry without its hash field is forgotten")
	assert.Equal(t, byte('_'), obs.Do("ZSCORE", "unacked_index", "tag-2").Kind, "XX: an acked tag stays gone")
	u := rows(t, obs.Do("KOMBU.UNACKED"))
	require.Len(t, u, 1)
	assert.Equal(t, int64(1), u[0]["leased"].Int)
	assert.Equal(t, int64(5000), u[0]["age_ms"].Int, "the age counts from the delivery, not the refresh")
	assert.Equal(t, int64(0), u[0]["index_age_ms"].Int)
	assert.Contains(t, obs.Do("INFO", "kombu").Str, "kombu_leases:1\r\n")

	// Less than a second later nothing is rewritten (one ZADD a second).
	f.advance(500 * time.Millisecond)
	f.swept()
	assert.Equal(t, now, zscoreMs(t, obs, "unacked_index", "tag-1"))

	// The worker dies: no more refreshes.
	worker.NetConn().Close()
	require.Eventually(t, func() bool {
		return rows(t, obs.Do("KOMBU.UNACKED"))[0]["owner"].Kind == '_'
	}, 5*time.Second, 2*time.Millisecond)
	f.advance(10 * time.Second)
	f.swept()
	assert.Equal(t, now, zscoreMs(t, obs, "unacked_index", "tag-1"), "visibility_timeout runs from the last refresh")
	assert.Contains(t, obs.Do("INFO", "kombu").Str, "kombu_leases:0\r\n")
}

// Off by default: the score is Kombu's, untouched.
func TestLeaseOffLeavesScores(t *testing.T) {
	f := newFixture(t, nil)
	worker, obs := f.dial(), f.dial()
	deliver(t, worker, "", "tag-1", t0, payload("tag-1", "a", "b", "", "celery", 0, false))
	f.advance(5 * time.Second)
	f.swept()
	assert.Equal(t, t0, zscoreMs(t, obs, "unacked_index", "tag-1"))
	assert.Equal(t, int64(0), rows(t, obs.Do("KOMBU.UNACKED"))[0]["leased"].Int)

	// CONFIG SET turns it on for the deliveries that follow: one made
	// while it was off was not followed (no per-delivery state is kept
	// without the lease) and keeps Kombu's clock.
	require.Equal(t, "OK", obs.Do("CONFIG", "SET", "kombu-visibility-lease", "yes").Str)
	deliver(t, worker, "", "tag-2", t0, payload("tag-2", "a", "b", "", "celery", 0, false))
	now := f.advance(2 * time.Second)
	require.Eventually(t, func() bool { return zscoreMs(t, obs, "unacked_index", "tag-2") == now },
		10*time.Second, 2*time.Millisecond)
	assert.Equal(t, t0, zscoreMs(t, obs, "unacked_index", "tag-1"))
}

// kombu-lease-max bounds how long one delivery is kept fresh (a worker
// alive but hung); a new delivery of the same tag starts a new lease.
func TestLeaseMax(t *testing.T) {
	f := newFixture(t, func(cfg *resp.Config) {
		cfg.KombuVisibilityLease = true
		cfg.KombuLeaseMax = 10
	})
	worker, obs := f.dial(), f.dial()
	deliver(t, worker, "", "tag-1", t0, payload("tag-1", "a", "b", "", "celery", 0, false))
	// A worker whose clock is an hour behind: the bound runs on the
	// server's clock, from when the delivery was seen.
	deliver(t, worker, "", "tag-skew", t0-3600_000, payload("tag-skew", "a", "b", "", "celery", 0, false))
	last := f.advance(9 * time.Second)
	require.Eventually(t, func() bool {
		return zscoreMs(t, obs, "unacked_index", "tag-1") == last &&
			zscoreMs(t, obs, "unacked_index", "tag-skew") == last
	}, 10*time.Second, 2*time.Millisecond)
	ack(t, worker, "", "tag-skew")
	f.advance(2 * time.Second) // 11 s after the delivery
	f.swept()
	assert.Equal(t, last, zscoreMs(t, obs, "unacked_index", "tag-1"))
	assert.Equal(t, int64(0), rows(t, obs.Do("KOMBU.UNACKED"))[0]["leased"].Int)

	now := f.advance(time.Second)
	deliver(t, worker, "", "tag-1", now, payload("tag-1", "a", "b", "", "celery", 0, true))
	now = f.advance(3 * time.Second)
	require.Eventually(t, func() bool { return zscoreMs(t, obs, "unacked_index", "tag-1") == now },
		10*time.Second, 2*time.Millisecond)
}

// The refresh is an ordinary write: it is propagated (MONITOR shows what
// the AOF gets) and it invalidates a WATCH on the index, never on the
// unacked hash Kombu's restore watches.
func TestLeaseRefreshIsAnOrdinaryWrite(t *testing.T) {
	f := newFixture(t, leaseOn)
	worker, watcher, hashWatcher := f.dial(), f.dial(), f.dial()
	deliver(t, worker, "", "tag-1", t0, payload("tag-1", "a", "b", "", "celery", 0, false))
	watcher.Do("WATCH", "unacked_index")
	hashWatcher.Do("WATCH", "unacked")
	dirty := func() int64 {
		for _, line := range splitLines(watcher.Do("INFO", "persistence").Str) {
			if v, ok := cut(line, "rdb_changes_since_last_save:"); ok {
				n, _ := strconv.ParseInt(v, 10, 64)
				return n
			}
		}
		return -1
	}
	before := dirty()
	now := f.advance(3 * time.Second)
	require.Eventually(t, func() bool { return zscoreMs(t, worker, "unacked_index", "tag-1") == now },
		10*time.Second, 2*time.Millisecond)
	assert.Equal(t, before+1, dirty())
	watcher.Do("MULTI")
	watcher.Do("PING")
	assert.Equal(t, byte('_'), watcher.Do("EXEC").Kind, "the index changed")
	hashWatcher.Do("MULTI")
	hashWatcher.Do("PING")
	assert.Len(t, hashWatcher.Do("EXEC").Elems, 1, "the unacked hash did not")
}

// Restores are recognised (an HDEL of a tag, then a push of the payload
// carrying it) and counted per queue and per tag; an ack followed by an
// unrelated publish is not one.
func TestRestoreCounting(t *testing.T) {
	f := newFixture(t, nil)
	c := f.dial()
	c.Do("SADD", "_kombu.binding.celery", "celery"+SEP+SEP+"celery")
	msg := payload("tag-r", "a", "b", "", "celery", 6, false)
	deliver(t, c, "", "tag-r", t0, msg)
	deliver(t, c, "", "tag-a", t0, payload("tag-a", "a", "c", "", "celery", 0, false))
	restore(t, c, "", "tag-r", "celery"+SEP+"6", payload("tag-r", "a", "b", "", "celery", 6, true))
	ack(t, c, "", "tag-a")
	c.Do("LPUSH", "celery", payload("tag-new", "a", "d", "", "celery", 0, false))

	q := byName(t, c.Do("KOMBU.QUEUES"))["celery"]
	assert.Equal(t, int64(1), q["restored"].Int)
	assert.Equal(t, int64(2), q["messages"].Int)
	assert.Equal(t, int64(0), q["unacked"].Int)
	assert.Contains(t, c.Do("INFO", "kombu").Str, "kombu_redeliveries:1\r\n")

	// Redelivered (same tag) and restored again, then redelivered.
	deliver(t, c, "", "tag-r", t0, payload("tag-r", "a", "b", "", "celery", 6, true))
	u := rows(t, c.Do("KOMBU.UNACKED"))
	require.Len(t, u, 1)
	assert.Equal(t, int64(1), u[0]["restored"].Int)
	restore(t, c, "", "tag-r", "celery"+SEP+"6", payload("tag-r", "a", "b", "", "celery", 6, true))
	deliver(t, c, "", "tag-r", t0, payload("tag-r", "a", "b", "", "celery", 6, true))
	u = rows(t, c.Do("KOMBU.UNACKED"))
	assert.Equal(t, int64(2), u[0]["restored"].Int)
	assert.Equal(t, int64(2), byName(t, c.Do("KOMBU.QUEUES"))["celery"]["restored"].Int)

	// Channel._restore (basic_recover): HDEL and RPUSH, the index entry
	// left behind.
	c.Do("WATCH", "unacked")
	c.Do("MULTI")
	c.Do("HDEL", "unacked", "tag-r")
	c.Do("RPUSH", "celery", payload("tag-r", "a", "b", "", "celery", 0, true))
	c.Do("EXEC")
	deliver(t, c, "", "tag-r", t0, payload("tag-r", "a", "b", "", "celery", 0, true))
	assert.Equal(t, int64(3), rows(t, c.Do("KOMBU.UNACKED"))[0]["restored"].Int)
}

// Deliveries removed behind the hooks' back (DEL, FLUSHDB) are forgotten
// by the next sweep.
func TestSweepForgetsRemovedDeliveries(t *testing.T) {
	f := newFixture(t, leaseOn)
	c := f.dial()
	deliver(t, c, "", "tag-1", t0, payload("tag-1", "a", "b", "", "celery", 0, false))
	c.Do("SELECT", "1")
	deliver(t, c, "", "tag-2", t0, payload("tag-2", "a", "b", "", "celery", 0, false))
	c.Do("FLUSHDB")
	c.Do("SELECT", "0")
	c.Do("DEL", "unacked_index")
	f.advance(2 * time.Second)
	f.swept()
	f.srv.Lock()
	n := len(f.k.tr.deliveries) + len(f.k.tr.order)
	f.srv.Unlock()
	assert.Zero(t, n)
	assert.Equal(t, byte('_'), c.Do("ZSCORE", "unacked_index", "tag-1").Kind, "XX creates nothing")
}

func splitLines(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		line := s[:i]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		out = append(out, line)
		if i == len(s) {
			break
		}
		s = s[i+1:]
	}
	return out
}

func cut(line, prefix string) (string, bool) {
	if len(line) >= len(prefix) && line[:len(prefix)] == prefix {
		return line[len(prefix):], true
	}
	return "", false
}
