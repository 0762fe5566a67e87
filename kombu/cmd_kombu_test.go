package kombu

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/resp"
)

// A Celery-shaped database: the default queue with messages on three
// priority steps, a second queue bound through a named exchange, a pidbox
// fanout binding, and one unacked delivery. KOMBU.QUEUES counts them.
func TestQueuesCountsPerPriority(t *testing.T) {
	f := newFixture(t, nil)
	c := f.dial()
	c.Do("SADD", "_kombu.binding.celery", "celery"+SEP+SEP+"celery")
	c.Do("SADD", "_kombu.binding.media", "media"+SEP+SEP+"media")
	c.Do("SADD", "_kombu.binding.celery.pidbox", SEP+SEP+"w1@host.celery.pidbox")
	c.Do("SADD", "_kombu.binding_permanent.celery", "celery"+SEP+SEP+"celery") // kombu 5.7: not a table
	c.Do("SADD", "_kombu.binding.bogus", "no separators")
	c.Do("LPUSH", "celery", "a", "b", "c")
	c.Do("LPUSH", "celery"+SEP+"3", "d")
	c.Do("LPUSH", "celery"+SEP+"9", "e", "f")
	c.Do("LPUSH", "celery"+SEP+"5", "g") // custom priority_steps
	c.Do("LPUSH", "media", "h")
	c.Do("SET", "celery"+SEP+"6", "not a list")
	deliver(t, c, "", "tag-1", t0-2000, payload("tag-1", "app.add", "id-1", "", "celery", 4, false))

	got := byName(t, c.Do("KOMBU.QUEUES"))
	require.Len(t, got, 3, "celery, media and the pidbox queue")
	cel := got["celery"]
	assert.Equal(t, int64(7), cel["messages"].Int)
	assert.Equal(t, []resp.Value{
		{Kind: ':', Int: 0}, {Kind: ':', Int: 3},
		{Kind: ':', Int: 3}, {Kind: ':', Int: 1},
		{Kind: ':', Int: 5}, {Kind: ':', Int: 1},
		{Kind: ':', Int: 6}, {Kind: ':', Int: 0},
		{Kind: ':', Int: 9}, {Kind: ':', Int: 2},
	}, cel["priorities"].Elems, "steps 0, 3, 6, 9 always, plus existing lists")
	assert.Equal(t, "celery", cel["exchanges"].Elems[0].Str)
	assert.Equal(t, int64(1), cel["unacked"].Int)
	assert.Equal(t, int64(2000), cel["oldest_unacked_age_ms"].Int, "from the index score before any tracking")
	assert.Equal(t, int64(0), cel["consumers"].Int)
	assert.Equal(t, int64(1), got["media"]["messages"].Int)
	assert.Equal(t, int64(0), got["media"]["unacked"].Int)
	assert.Equal(t, byte('_'), got["media"]["oldest_unacked_age_ms"].Kind)
	assert.Equal(t, int64(0), got["w1@host.celery.pidbox"]["messages"].Int)

	// A consumer BRPOPs all priority keys of a queue: it counts once.
	c.Do("SADD", "_kombu.binding.idle", "idle"+SEP+SEP+"idle")
	for i := 0; i < 2; i++ {
		w := f.dial()
		w.Send("BRPOP", "idle", "idle"+SEP+"3", "idle"+SEP+"6", "idle"+SEP+"9", "0")
	}
	require.Eventually(t, func() bool {
		return byName(t, c.Do("KOMBU.QUEUES"))["idle"]["consumers"].Int == 2
	}, 5*time.Second, 5*time.Millisecond)
}

// The documented shapes, byte for byte: an array of maps, RESP3 maps and
// nulls, flattened to arrays and $-1 for RESP2 (as ReplyWriter.Map does).
func TestQueuesReplyShapes(t *testing.T) {
	f := newFixture(t, nil)
	c := f.dial()
	c.Do("SADD", "_kombu.binding.q", "q"+SEP+SEP+"q")
	c.Do("LPUSH", "q", "m")
	body := "$4\r\nname\r\n$1\r\nq\r\n$6\r\nprefix\r\n$0\r\n\r\n" +
		"$9\r\nexchanges\r\n*1\r\n$1\r\nq\r\n$8\r\nmessages\r\n:1\r\n" +
		"$10\r\npriorities\r\n*8\r\n:0\r\n:1\r\n:3\r\n:0\r\n:6\r\n:0\r\n:9\r\n:0\r\n" +
		"$9\r\nconsumers\r\n:0\r\n$7\r\nunacked\r\n:0\r\n" +
		"$21\r\noldest_unacked_age_ms\r\n$-1\r\n" +
		"$19\r\nunacked_redelivered\r\n:0\r\n$8\r\nrestored\r\n:0\r\n"
	assert.Equal(t, "*1\r\n*20\r\n"+body, string(c.DoRaw("KOMBU.QUEUES")))

	c.Do("HELLO", "3")
	resp3 := strings.NewReplacer("*8\r\n:0", "%4\r\n:0", "$-1\r\n", "_\r\n").Replace(body)
	assert.Equal(t, "*1\r\n%10\r\n"+resp3, string(c.DoRaw("KOMBU.QUEUES")))

	assert.Equal(t, "*0\r\n", string(c.DoRaw("KOMBU.QUEUES", "DB", "3")), "an empty database")
	assert.Equal(t, "*0\r\n", string(c.DoRaw("KOMBU.UNACKED")))
}

// KOMBU.UNACKED decodes each delivery: queue (through the binding table for
// a named exchange), task, priority, ages, owner and flags; oldest first,
// COUNT bounds the rows (0 = all).
func TestUnackedRows(t *testing.T) {
	f := newFixture(t, leaseOn) // owners are followed for the lease
	c := f.dial()
	c.Do("CLIENT", "SETNAME", "worker-1")
	id := c.Do("CLIENT", "ID").Int
	c.Do("SADD", "_kombu.binding.jobs", "rk.a"+SEP+SEP+"alpha", "rk.b"+SEP+SEP+"beta")
	c.Do("SADD", "_kombu.binding.topics", "ev.*"+SEP+`^ev\.[^\.]+$`+SEP+"events")
	deliver(t, c, "", "t-old", t0-9000, payload("t-old", "app.slow", "id-old", "", "celery", 12, true))
	deliver(t, c, "", "t-beta", t0-5000, payload("t-beta", "app.b", "id-b", "jobs", "rk.b", 3, false))
	deliver(t, c, "", "t-topic", t0-4000, payload("t-topic", "app.t", "id-t", "topics", "ev.x", 0, false))
	deliver(t, c, "", "t-lost", t0-1000, payload("t-lost", "app.l", "id-l", "jobs", "nowhere", 0, false))
	c.Do("HSET", "unacked", "t-junk", "not json") // no index entry

	all := rows(t, c.Do("KOMBU.UNACKED", "COUNT", "0"))
	require.Len(t, all, 5)
	assert.Equal(t, "t-junk", all[0]["tag"].Str, "no score: listed first, ages unknown")
	assert.Equal(t, byte('_'), all[0]["age_ms"].Kind)
	assert.Equal(t, byte('_'), all[0]["queue"].Kind)
	old := all[1]
	assert.Equal(t, "t-old", old["tag"].Str)
	assert.Equal(t, "celery", old["queue"].Str)
	assert.Equal(t, "app.slow", old["task"].Str)
	assert.Equal(t, "id-old", old["task_id"].Str)
	assert.Equal(t, int64(9), old["priority"].Int, "clamped to 9")
	assert.Equal(t, int64(9000), old["age_ms"].Int)
	assert.Equal(t, int64(9000), old["index_age_ms"].Int)
	assert.Equal(t, id, old["owner"].Int)
	assert.Equal(t, "worker-1", old["owner_name"].Str)
	assert.NotEmpty(t, old["owner_addr"].Str)
	assert.Equal(t, int64(1), old["leased"].Int, "RESP2 true")
	assert.Equal(t, int64(1), old["redelivered"].Int)
	assert.Equal(t, int64(1), old["restored"].Int, "marked redelivered before tracking began")
	assert.Equal(t, "beta", all[2]["queue"].Str)
	assert.Equal(t, "jobs", all[2]["exchange"].Str)
	assert.Equal(t, "rk.b", all[2]["routing_key"].Str)
	assert.Equal(t, "events", all[3]["queue"].Str, "topic pattern")
	assert.Equal(t, byte('_'), all[4]["queue"].Kind, "no binding routes it")

	assert.Len(t, rows(t, c.Do("KOMBU.UNACKED")), 5, "default COUNT 10")
	two := rows(t, c.Do("KOMBU.UNACKED", "count", "2"))
	require.Len(t, two, 2)
	assert.Equal(t, "t-old", two[1]["tag"].Str)

	c.Do("HELLO", "3")
	r3 := rows(t, c.Do("KOMBU.UNACKED", "COUNT", "2"))
	assert.Equal(t, byte('#'), r3[1]["redelivered"].Kind)
	assert.Equal(t, byte('_'), r3[0]["owner"].Kind)

	// The owner's connection closes: the rows stay, without owner.
	c2 := f.dial()
	c.NetConn().Close()
	require.Eventually(t, func() bool {
		r := rows(t, c2.Do("KOMBU.UNACKED", "COUNT", "2"))
		return r[1]["owner"].Kind == '_'
	}, 5*time.Second, 5*time.Millisecond)
	q := byName(t, c2.Do("KOMBU.QUEUES"))
	assert.Equal(t, int64(1), q["celery"]["unacked"].Int)
	assert.Equal(t, int64(1), q["celery"]["unacked_redelivered"].Int)
	assert.Equal(t, int64(9000), q["celery"]["oldest_unacked_age_ms"].Int)
	assert.Equal(t, int64(1), q["beta"]["unacked"].Int)
	assert.Equal(t, int64(0), q["alpha"]["unacked"].Int)
	assert.Equal(t, int64(1), q["events"]["unacked"].Int)
}

// Bad arguments get the errors Redis gives for the same mistakes; the
// texts are checked against Celerity's own SELECT and LPOP, which the
// differential suite checks against redis-server.
func TestArgumentErrors(t *testing.T) {
	f := newFixture(t, nil)
	c := f.dial()
	notInt := c.Do("SELECT", "x").Str
	dbRange := c.Do("SELECT", "16").Str
	// SELECT's own text for an index beyond an int32 (not "not an
	// integer"): DB n parses as SELECT does.
	int32Range := c.Do("SELECT", "4294967296").Str
	positive := c.Do("LPOP", "k", "-1").Str
	require.Equal(t, errNotInteger, notInt)
	require.Equal(t, resp.ErrDBIndex, dbRange)
	require.Equal(t, errPositive, positive)
	syntax := c.Do("SET", "k", "v", "bogus").Str

	cases := []struct {
		args []string
		want string
	}{
		{[]string{"KOMBU.QUEUES", "DB", "x"}, notInt},
		{[]string{"KOMBU.QUEUES", "DB", "1.5"}, notInt},
		{[]string{"KOMBU.QUEUES", "DB", "4294967296"}, int32Range},
		{[]string{"KOMBU.QUEUES", "DB", "16"}, dbRange},
		{[]string{"KOMBU.QUEUES", "DB", "-1"}, dbRange},
		{[]string{"KOMBU.QUEUES", "DB"}, syntax},
		{[]string{"KOMBU.QUEUES", "bogus", "1"}, syntax},
		{[]string{"KOMBU.QUEUES", "COUNT", "1"}, syntax},
		{[]string{"KOMBU.UNACKED", "COUNT", "-1"}, positive},
		{[]string{"KOMBU.UNACKED", "COUNT", "x"}, notInt},
		{[]string{"KOMBU.UNACKED", "DB", "0", "COUNT"}, syntax},
	}
	for _, tc := range cases {
		v := c.Do(tc.args...)
		assert.Equal(t, byte('-'), v.Kind, "%v", tc.args)
		assert.Equal(t, tc.want, v.Str, "%v", tc.args)
	}
	assert.Equal(t, byte('*'), c.Do("kombu.queues", "db", "15").Kind, "case-insensitive")
	assert.Contains(t, c.Do("EVAL", "return redis.call('kombu.queues')", "0").Str, "not allowed from script")
}

// Two applications with different global_keyprefix share a database: both
// are reported, each row naming its prefix, unless kombu-global-keyprefix
// picks one.
func TestGlobalKeyprefix(t *testing.T) {
	setup := func(f *fixture) *fixture {
		c := f.dial()
		c.Do("SADD", "_kombu.binding.celery", "celery"+SEP+SEP+"celery")
		c.Do("LPUSH", "celery", "m")
		c.Do("SADD", "app:_kombu.binding.celery", "celery"+SEP+SEP+"celery")
		c.Do("LPUSH", "app:celery", "m", "m")
		c.Do("LPUSH", "app:celery"+SEP+"6", "m")
		deliver(t, c, "app:", "tg", t0, payload("tg", "x", "y", "", "celery", 0, false))
		return f
	}
	c := setup(newFixture(t, nil)).dial()
	got := byName(t, c.Do("KOMBU.QUEUES"))
	require.Len(t, got, 2)
	assert.Equal(t, int64(1), got["celery"]["messages"].Int)
	assert.Equal(t, int64(0), got["celery"]["unacked"].Int)
	assert.Equal(t, int64(3), got["app:celery"]["messages"].Int)
	assert.Equal(t, int64(1), got["app:celery"]["unacked"].Int)
	u := rows(t, c.Do("KOMBU.UNACKED"))
	require.Len(t, u, 1)
	assert.Equal(t, "app:", u[0]["prefix"].Str)
	assert.Equal(t, "celery", u[0]["queue"].Str)

	c = setup(newFixture(t, func(cfg *resp.Config) { cfg.KombuGlobalKeyprefix = "app:" })).dial()
	got = byName(t, c.Do("KOMBU.QUEUES"))
	require.Len(t, got, 1)
	assert.Equal(t, int64(3), got["app:celery"]["messages"].Int)
	require.Equal(t, "OK", c.Do("CONFIG", "SET", "kombu-global-keyprefix", "other:").Str)
	assert.Empty(t, c.Do("KOMBU.QUEUES").Elems)
}

// INFO kombu sums every database; a default INFO does not show it.
func TestInfoSection(t *testing.T) {
	f := newFixture(t, nil)
	c := f.dial()
	c.Do("SADD", "_kombu.binding.celery", "celery"+SEP+SEP+"celery")
	c.Do("LPUSH", "celery", "m", "m")
	deliver(t, c, "", "tg", t0, payload("tg", "x", "y", "", "celery", 0, false))
	c.Do("SELECT", "1")
	c.Do("SADD", "_kombu.binding.celery", "celery"+SEP+SEP+"celery", "x"+SEP+SEP+"other")
	c.Do("LPUSH", "celery"+SEP+"3", "m")
	info := c.Do("INFO", "kombu").Str
	for _, want := range []string{"# Kombu\r\n", "kombu_visibility_lease:0\r\n", "kombu_queues:3\r\n",
		"kombu_messages:3\r\n", "kombu_unacked:1\r\n", "kombu_leases:0\r\n", "kombu_redeliveries:0\r\n"} {
		assert.Contains(t, info, want)
	}
	assert.NotContains(t, c.Do("INFO").Str, "kombu_")
}
