package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/resp"
	"github.com/celerity/celerity/resp/metrics"
	"github.com/celerity/celerity/resp/resptest"
)

// The extension commands are not in this package's reach (it must not
// import kombu/, redbeat/ or results/), so this fixture answers with the
// exact reply shapes those commands write (kombu/cmd_kombu.go,
// results/stats.go writeStats), to test the decoding, the metrics and the
// page on them. The end-to-end test (integration/e2e/metrics_test.go)
// checks the real commands against the page once they are built in.
func shapeFixture() *resp.Extension {
	kv := func(c *resp.Client, k string) { c.BulkString(k) }
	return &resp.Extension{Name: "fixture", Commands: []*resp.Command{
		{Name: "kombu.queues", Arity: -1, Flags: resp.Readonly, Run: func(c *resp.Client) {
			c.Array(2)
			c.Map(10)
			kv(c, "name")
			c.BulkString("<img src=x>")
			kv(c, "prefix")
			c.BulkString("app:")
			kv(c, "exchanges")
			c.Array(0)
			kv(c, "messages")
			c.Int(0)
			kv(c, "priorities")
			c.Map(1)
			c.Int(0)
			c.Int(0)
			kv(c, "consumers")
			c.Int(0)
			kv(c, "unacked")
			c.Int(0)
			kv(c, "oldest_unacked_age_ms")
			c.Null()
			kv(c, "unacked_redelivered")
			c.Int(0)
			kv(c, "restored")
			c.Int(0)

			c.Map(10)
			kv(c, "name")
			c.BulkString("celery")
			kv(c, "prefix")
			c.BulkString("")
			kv(c, "exchanges")
			c.Array(1)
			c.BulkString("celery")
			kv(c, "messages")
			c.Int(6)
			kv(c, "priorities")
			c.Map(4)
			for _, p := range [][2]int64{{0, 3}, {3, 1}, {6, 0}, {9, 2}} {
				c.Int(p[0])
				c.Int(p[1])
			}
			kv(c, "consumers")
			c.Int(1)
			kv(c, "unacked")
			c.Int(2)
			kv(c, "oldest_unacked_age_ms")
			c.Int(30500)
			kv(c, "unacked_redelivered")
			c.Int(1)
			kv(c, "restored")
			c.Int(4)
		}},
		{Name: "kombu.unacked", Arity: -1, Flags: resp.Readonly, Run: func(c *resp.Client) {
			c.Array(1)
			c.Map(16)
			for _, f := range [][2]string{{"tag", "b37d-tag"}, {"queue", "celery"}, {"prefix", ""}, {"exchange", ""}, {"routing_key", "celery"}} {
				kv(c, f[0])
				c.BulkString(f[1])
			}
			kv(c, "priority")
			c.Int(0)
			kv(c, "task")
			c.BulkString("tasks.<long>")
			kv(c, "task_id")
			c.BulkString("id-1")
			kv(c, "age_ms")
			c.Int(30500)
			kv(c, "index_age_ms")
			c.Int(30500)
			kv(c, "owner")
			c.Int(42)
			kv(c, "owner_addr")
			c.BulkString("127.0.0.1:5555")
			kv(c, "owner_name")
			c.Null()
			kv(c, "leased")
			c.Bool(true)
			kv(c, "restored")
			c.Int(1)
			kv(c, "redelivered")
			c.Bool(false)
		}},
		{Name: "results.stats", Arity: -1, Flags: resp.Readonly, Run: func(c *resp.Client) {
			c.Map(15)
			kv(c, "db")
			c.Int(0)
			kv(c, "source")
			c.BulkString("walk")
			kv(c, "complete")
			c.Bool(true)
			kv(c, "age_ms")
			c.Int(0)
			kv(c, "keys_examined")
			c.Int(9)
			kv(c, "task_results")
			c.Int(5)
			kv(c, "states")
			c.Map(2)
			c.BulkString("FAILURE")
			c.Int(1)
			c.BulkString("SUCCESS")
			c.Int(4)
			for _, f := range []struct {
				k string
				v int64
			}{{"groups", 1}, {"chord_keys", 2}, {"pidbox_reply_queues", 1}, {"pidbox_replies_waiting", 0}, {"bytes", 2048}, {"without_ttl", 3}} {
				kv(c, f.k)
				c.Int(f.v)
			}
			kv(c, "ttl")
			c.Map(1)
			c.BulkString("<1h")
			c.Int(2)
			kv(c, "default_ttl")
			c.Int(0)
		}},
		{Name: "redbeat.schedule", Arity: -1, Flags: resp.Readonly, Run: func(c *resp.Client) {
			c.Array(2)
			entry := func(name, task string, sched func(), last, runs, due, next any, overdue, consistent bool, flags ...string) {
				c.Map(15)
				for _, f := range [][2]string{{"prefix", "nadoo:redbeat:"}, {"name", name}, {"key", "nadoo:redbeat:" + name}, {"task", task}} {
					kv(c, f[0])
					c.BulkString(f[1])
				}
				kv(c, "schedule")
				sched()
				kv(c, "enabled")
				c.Bool(true)
				kv(c, "static")
				c.Bool(true)
				for _, f := range []struct {
					k string
					v any
				}{{"last_run_at_ms", last}, {"total_run_count", runs}, {"due_at_ms", due}, {"next_run_at_ms", next}, {"next_run_in_ms", nil}} {
					kv(c, f.k)
					if n, ok := f.v.(int64); ok {
						c.Int(n)
					} else {
						c.Null()
					}
				}
				kv(c, "overdue")
				c.Bool(overdue)
				kv(c, "consistent")
				c.Bool(consistent)
				kv(c, "flags")
				c.Array(len(flags))
				for _, f := range flags {
					c.BulkString(f)
				}
			}
			entry("every-10s", "tasks.tick", func() {
				c.Map(3)
				kv(c, "type")
				c.BulkString("interval")
				kv(c, "every")
				c.Double(10)
				kv(c, "relative")
				c.Bool(false)
			}, int64(1795487260000), int64(12), int64(1795487270000), int64(1795487270000), false, true)
			entry("<nightly>", "tasks.report", func() {
				c.Map(7)
				kv(c, "type")
				c.BulkString("crontab")
				for _, f := range [][2]string{{"minute", "0"}, {"hour", "3"}, {"day_of_week", "*"}, {"day_of_month", "*"}, {"month_of_year", "*"}, {"timezone", "UTC"}} {
					kv(c, f[0])
					c.BulkString(f[1])
				}
			}, nil, int64(0), nil, int64(1795491600000), false, false, "never_run", "not_scheduled")
		}},
		{Name: "redbeat.lock", Arity: -1, Flags: resp.Readonly, Run: func(c *resp.Client) {
			c.Array(2)
			// A configured prefix nobody uses in this database.
			c.Map(11)
			kv(c, "prefix")
			c.BulkString("redbeat:")
			kv(c, "key")
			c.BulkString("redbeat::lock")
			kv(c, "holder")
			c.Null()
			kv(c, "ttl_ms")
			c.Int(-2)
			for _, f := range []string{"timeout_ms", "acquired_at_ms", "last_extension_at_ms", "extension_interval_ms"} {
				kv(c, f)
				c.Null()
			}
			kv(c, "events")
			c.Array(0)
			kv(c, "warnings")
			c.Int(0)
			kv(c, "last_warning")
			c.Null()
			c.Map(11)
			kv(c, "prefix")
			c.BulkString("nadoo:redbeat:")
			kv(c, "key")
			c.BulkString("nadoo:redbeat::lock")
			kv(c, "holder")
			c.BulkString("a24c0ffee")
			for _, f := range [][2]any{{"ttl_ms", int64(21500)}, {"timeout_ms", int64(25000)}, {"acquired_at_ms", int64(1795487200000)},
				{"last_extension_at_ms", int64(1795487265000)}, {"extension_interval_ms", int64(5000)}} {
				kv(c, f[0].(string))
				c.Int(f[1].(int64))
			}
			kv(c, "events")
			c.Array(0)
			kv(c, "warnings")
			c.Int(2)
			kv(c, "last_warning")
			c.BulkString("late_extension")
		}},
	}, Info: func(add func(string, string)) {
		add("fixture_things", "7")
		add("fixture_mode", "on")
	}}
}

func TestExtensionReplyShapes(t *testing.T) {
	s := resptest.NewServer(t, resptest.WithExtensions(shapeFixture()))
	c := resptest.Dial(t, s.Addr())
	require.Equal(t, "OK", c.Do("SET", "k", "v").Str) // db 0 has keys
	h := httptest.NewServer(metrics.Handler(s.Server, true))
	defer h.Close()

	_, body := get(t, h.URL+"/metrics", "", "")
	mf := families(t, body)
	q := []string{"db", "0", "prefix", "", "queue", "celery"}
	for p, want := range map[string]float64{"0": 3, "3": 1, "6": 0, "9": 2} {
		assert.Equal(t, want, sample(t, mf, "celerity_queue_messages", append(q, "priority", p)...), p)
	}
	assert.Equal(t, 1.0, sample(t, mf, "celerity_queue_consumers", q...))
	assert.Equal(t, 2.0, sample(t, mf, "celerity_queue_unacked", q...))
	assert.Equal(t, 30.5, sample(t, mf, "celerity_queue_oldest_unacked_age_seconds", q...))
	assert.Equal(t, 1.0, sample(t, mf, "celerity_queue_unacked_redelivered", q...))
	assert.Equal(t, 4.0, sample(t, mf, "celerity_queue_restored_total", q...))
	other := []string{"db", "0", "prefix", "app:", "queue", "<img src=x>"}
	assert.Equal(t, 0.0, sample(t, mf, "celerity_queue_messages", append(other, "priority", "0")...))
	_, ok := lookup(mf, "celerity_queue_oldest_unacked_age_seconds", other...)
	assert.False(t, ok, "no unacked message, no age")
	assert.Equal(t, 4.0, sample(t, mf, "celerity_results", "db", "0", "state", "SUCCESS"))
	assert.Equal(t, 1.0, sample(t, mf, "celerity_results", "db", "0", "state", "FAILURE"))
	assert.Equal(t, 3.0, sample(t, mf, "celerity_results_without_ttl", "db", "0"))
	assert.Equal(t, 2048.0, sample(t, mf, "celerity_results_bytes", "db", "0"))
	assert.Equal(t, 1.0, sample(t, mf, "celerity_pidbox_reply_queues", "db", "0"))
	assert.Equal(t, 7.0, sample(t, mf, "celerity_ext_fixture_things"), "an extension's numeric INFO field")
	_, ok = mf["celerity_ext_fixture_mode"]
	assert.False(t, ok, "text fields are not metrics")
	e := []string{"db", "0", "prefix", "nadoo:redbeat:", "entry", "every-10s"}
	assert.Equal(t, 1795487270.0, sample(t, mf, "celerity_redbeat_due_timestamp_seconds", e...))
	assert.Equal(t, 1795487270.0, sample(t, mf, "celerity_redbeat_next_run_timestamp_seconds", e...))
	assert.Equal(t, 1795487260.0, sample(t, mf, "celerity_redbeat_last_run_timestamp_seconds", e...))
	assert.Equal(t, 12.0, sample(t, mf, "celerity_redbeat_entry_runs", e...))
	assert.Equal(t, 0.0, sample(t, mf, "celerity_redbeat_overdue", e...))
	assert.Equal(t, 1.0, sample(t, mf, "celerity_redbeat_entry_consistent", e...))
	n := []string{"db", "0", "prefix", "nadoo:redbeat:", "entry", "<nightly>"}
	assert.Equal(t, 0.0, sample(t, mf, "celerity_redbeat_entry_consistent", n...))
	_, ok = lookup(mf, "celerity_redbeat_due_timestamp_seconds", n...)
	assert.False(t, ok, "not in the schedule zset: no due time")
	lk := []string{"db", "0", "prefix", "nadoo:redbeat:"}
	assert.Equal(t, 1.0, sample(t, mf, "celerity_redbeat_lock_held", lk...))
	assert.Equal(t, 21.5, sample(t, mf, "celerity_redbeat_lock_ttl_seconds", lk...))
	assert.Equal(t, 25.0, sample(t, mf, "celerity_redbeat_lock_timeout_seconds", lk...))
	assert.Equal(t, 5.0, sample(t, mf, "celerity_redbeat_lock_extension_interval_seconds", lk...))
	assert.Equal(t, 2.0, sample(t, mf, "celerity_redbeat_lock_warnings_total", lk...))
	_, ok = lookup(mf, "celerity_redbeat_lock_held", "db", "0", "prefix", "redbeat:")
	assert.False(t, ok, "an unused prefix's lock is left out")

	res, page := get(t, h.URL+"/", "", "")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Regexp(t, `<tr data-db="0" data-prefix="" data-queue="celery">.*data-col="messages">6</td>.*data-priority="9">p9: <b>2</b>.*data-col="consumers">1</td>.*data-col="unacked">2</td>.*>30s<.*data-col="restored">4</td>`, page)
	assert.Contains(t, page, `data-queue="&lt;img src=x&gt;"`)
	assert.NotContains(t, page, "<img")
	assert.Contains(t, page, `<span id="server-queued">6</span> / <span id="server-unacked">2</span>`)
	assert.Regexp(t, `<tr data-tag="b37d-tag">.*tasks\.&lt;long&gt;.*>30s<.*id 42 .*127\.0\.0\.1:5555.*leased`, page)
	assert.Regexp(t, `data-state="SUCCESS">SUCCESS: <b>4</b>.*data-col="tasks">5</td><td[^>]*data-col="without-ttl">3</td>`, page)
	assert.Regexp(t, `<tr data-db="0" data-prefix="nadoo:redbeat:" data-entry="every-10s">.*tasks\.tick.*every 10s.*\d{4}-\d\d-\d\d .*data-col="runs">12</td>.*data-unix="1795487270.000">\d{4}-\d\d-\d\d `, page)
	assert.Regexp(t, `data-entry="&lt;nightly&gt;">.*crontab minute=0 hour=3 .*never.*data-col="runs">0</td>.*<span class="warn">not_scheduled</span>`, page)
	assert.NotContains(t, page, "db0 redbeat::lock")
	assert.Regexp(t, `<tr data-db="0" data-prefix="nadoo:redbeat:"><td[^>]*><span>db0 nadoo:redbeat::lock</span></td><td[^>]*><span data-col="holder">a24c0ffee</span></td><td[^>]*>21s</td><td[^>]*>25s</td><td[^>]*>5s</td>.*2 <span class="warn">late_extension</span>`, page)
}
