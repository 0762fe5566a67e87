package metrics_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/resp"
	"github.com/celerity/celerity/resp/metrics"
	"github.com/celerity/celerity/resp/resptest"
)

// get fetches url with optional basic auth.
func get(t *testing.T, url, user, pass string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	require.NoError(t, err)
	if user != "" || pass != "" {
		req.SetBasicAuth(user, pass)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, string(body)
}

// families parses a /metrics body with the Prometheus text parser,
// insisting on names valid for every Prometheus version.
func families(t *testing.T, body string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	mf, err := p.TextToMetricFamilies(strings.NewReader(body))
	require.NoError(t, err)
	return mf
}

// sample returns the value of the series of name with exactly labels.
func sample(t *testing.T, mf map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	v, ok := lookup(mf, name, labels...)
	require.True(t, ok, "no series %s%v", name, labels)
	return v
}

func lookup(mf map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	f := mf[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		want := map[string]string{}
		for i := 0; i+1 < len(labels); i += 2 {
			want[labels[i]] = labels[i+1]
		}
		for _, lp := range m.Label {
			if want[lp.GetName()] != lp.GetValue() {
				continue next
			}
			delete(want, lp.GetName())
		}
		for _, v := range want {
			if v != "" {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}

// info reads INFO everything into section -> field -> value.
func info(t *testing.T, c *resptest.Conn) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, line := range strings.Split(c.Do("INFO", "everything").Str, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, "#") {
			out[k] = v
		}
	}
	return out
}

func num(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	require.NoError(t, err, "%q", s)
	return f
}

// A dataset in two databases, subscribers and a pattern, then one scrape:
// every server-level metric equals what INFO and PUBSUB answer around it.
func TestMetricsMatchInfoAndPubsub(t *testing.T) {
	s := resptest.NewServer(t)
	c := resptest.Dial(t, s.Addr())
	require.Equal(t, int64(3), c.Do("LPUSH", "celery", "a", "b", "c").Int)
	require.Equal(t, "OK", c.Do("SET", "celery-task-meta-1", "{}", "EX", "100").Str)
	require.Equal(t, "OK", c.Do("SELECT", "3").Str)
	require.Equal(t, int64(2), c.Do("SADD", "s", "x", "y").Int)
	require.Equal(t, "OK", c.Do("SELECT", "0").Str)
	c.Do("GET", "missing")
	for _, ch := range [][]string{{"notify:user:1", "notify:user:2"}, {"notify:user:1"}} {
		sub := resptest.Dial(t, s.Addr())
		sub.Send(append([]string{"SUBSCRIBE"}, ch...)...)
		for range ch {
			sub.Read()
		}
	}
	psub := resptest.Dial(t, s.Addr())
	psub.Do("PSUBSCRIBE", "/0.celeryev/*")

	h := httptest.NewServer(metrics.Handler(s.Server, true))
	defer h.Close()
	before := info(t, c)
	res, body := get(t, h.URL+"/metrics", "", "")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.Header.Get("Content-Type"), "text/plain")
	after := info(t, c)
	mf := families(t, body)

	// Every metric of ours is prefixed, documented and labelled only with
	// the documented label names.
	allowed := map[string]bool{"db": true, "prefix": true, "queue": true, "priority": true, "entry": true,
		"state": true, "command": true, "version": true, "redis_version": true}
	for name, f := range mf {
		if strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_") {
			continue
		}
		assert.True(t, strings.HasPrefix(name, "celerity_"), name)
		assert.NotEmpty(t, f.GetHelp(), name)
		for _, m := range f.Metric {
			for _, l := range m.Label {
				assert.True(t, allowed[l.GetName()], "%s label %s", name, l.GetName())
			}
		}
	}

	// Fields that nothing but this test changes: equal to INFO.
	same := map[string]string{
		"celerity_connected_clients":       "connected_clients",
		"celerity_blocked_clients":         "blocked_clients",
		"celerity_max_clients":             "maxclients",
		"celerity_memory_max_bytes":        "maxmemory",
		"celerity_evicted_keys_total":      "evicted_keys",
		"celerity_keyspace_misses_total":   "keyspace_misses",
		"celerity_aof_enabled":             "aof_enabled",
		"celerity_aof_rewrite_in_progress": "aof_rewrite_in_progress",
		"celerity_pubsub_channels":         "pubsub_channels",
		"celerity_pubsub_patterns":         "pubsub_patterns",
		"celerity_loading":                 "loading",
	}
	for metric, field := range same {
		assert.Equal(t, num(t, after[field]), sample(t, mf, metric), metric)
	}
	assert.Equal(t, 1.0, sample(t, mf, "celerity_aof_last_write_ok"), after["aof_last_write_status"])
	assert.Equal(t, 1.0, sample(t, mf, "celerity_up"))
	assert.Equal(t, 1.0, sample(t, mf, "celerity_build_info", "version", after["celerity_version"], "redis_version", after["redis_version"]))
	// Counters that the INFO calls themselves move: between the two reads.
	for metric, field := range map[string]string{
		"celerity_commands_processed_total": "total_commands_processed",
		"celerity_uptime_seconds":           "uptime_in_seconds",
	} {
		v := sample(t, mf, metric)
		lo, hi := num(t, before[field]), num(t, after[field])
		assert.True(t, min(lo, hi) <= v && v <= max(lo, hi), "%s = %v, INFO %v..%v", metric, v, lo, hi)
	}
	// used_memory counts client buffers too (the replies being written,
	// the INFO text itself), which grow and shrink between the reads: it
	// is not monotonic, so only its order of magnitude is compared.
	assert.InDelta(t, num(t, after["used_memory"]), sample(t, mf, "celerity_memory_used_bytes"), 1<<20)

	// Commandstats: LPUSH ran once, SADD once, GET once.
	for _, cmd := range []string{"lpush", "sadd", "get"} {
		f := map[string]string{}
		for _, kv := range strings.Split(after["cmdstat_"+cmd], ",") {
			k, v, _ := strings.Cut(kv, "=")
			f[k] = v
		}
		assert.Equal(t, num(t, f["calls"]), sample(t, mf, "celerity_command_calls_total", "command", cmd), cmd)
		assert.Equal(t, num(t, f["usec"])/1e6, sample(t, mf, "celerity_command_duration_seconds_total", "command", cmd), cmd)
		assert.Equal(t, num(t, f["failed_calls"]), sample(t, mf, "celerity_command_failed_calls_total", "command", cmd), cmd)
	}
	// Keyspace per database.
	assert.Equal(t, 2.0, sample(t, mf, "celerity_db_keys", "db", "0"))
	assert.Equal(t, 1.0, sample(t, mf, "celerity_db_keys_expiring", "db", "0"))
	assert.Equal(t, 1.0, sample(t, mf, "celerity_db_keys", "db", "3"))
	_, ok := lookup(mf, "celerity_db_keys", "db", "1")
	assert.False(t, ok, "an empty database has no series")
	assert.Greater(t, sample(t, mf, "celerity_db_avg_ttl_seconds", "db", "0"), 90.0)
	// Pub/sub: two channels, three subscriptions, one pattern.
	assert.Equal(t, 2.0, sample(t, mf, "celerity_pubsub_channels"))
	assert.Equal(t, 3.0, sample(t, mf, "celerity_pubsub_subscribers"))
	assert.Equal(t, 1.0, sample(t, mf, "celerity_pubsub_patterns"))
	// The lock is held briefly and reported.
	assert.Greater(t, sample(t, mf, "celerity_metrics_lock_seconds"), 0.0)
	// Without the extensions, none of their series exist.
	for _, name := range []string{"celerity_queue_messages", "celerity_redbeat_lock_held", "celerity_results"} {
		_, has := mf[name]
		assert.False(t, has, name)
	}
	// The Go client's runtime collectors are there too.
	assert.Contains(t, mf, "go_goroutines")
}

// With requirepass the port wants basic auth that passes AUTH; with
// metrics-auth no it serves anyone.
func TestAuth(t *testing.T) {
	s := resptest.NewServer(t)
	c := resptest.Dial(t, s.Addr())
	require.Equal(t, "OK", c.Do("CONFIG", "SET", "requirepass", "s3cret").Str)

	h := httptest.NewServer(metrics.Handler(s.Server, true))
	defer h.Close()
	for _, path := range []string{"/metrics", "/", "/healthz"} {
		res, _ := get(t, h.URL+path, "", "")
		assert.Equal(t, http.StatusUnauthorized, res.StatusCode, path)
		assert.Contains(t, res.Header.Get("WWW-Authenticate"), "Basic", path)
		for _, bad := range [][2]string{{"default", "wrong"}, {"alice", "s3cret"}, {"", ""}} {
			res, _ = get(t, h.URL+path, bad[0], bad[1])
			assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "%s %v", path, bad)
		}
		for _, user := range []string{"default", ""} {
			res, _ = get(t, h.URL+path, user, "s3cret")
			assert.Equal(t, http.StatusOK, res.StatusCode, "%s user %q", path, user)
		}
	}
	// The password is the live one: CONFIG SET changes it for HTTP too.
	c.Do("AUTH", "s3cret")
	require.Equal(t, "OK", c.Do("CONFIG", "SET", "requirepass", "other").Str)
	res, _ := get(t, h.URL+"/metrics", "default", "s3cret")
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	res, _ = get(t, h.URL+"/metrics", "default", "other")
	assert.Equal(t, http.StatusOK, res.StatusCode)

	open := httptest.NewServer(metrics.Handler(s.Server, false))
	defer open.Close()
	res, body := get(t, open.URL+"/metrics", "", "")
	assert.Equal(t, http.StatusOK, res.StatusCode, "metrics-auth no")
	assert.Contains(t, body, "celerity_up 1")
}

// Without a password, protected mode serves loopback clients only, as the
// RESP port does; protected-mode no or metrics-auth no lift that.
func TestProtectedMode(t *testing.T) {
	s := resptest.NewServer(t)
	c := resptest.Dial(t, s.Addr())
	do := func(h http.Handler, remote string) int {
		req := httptest.NewRequest("GET", "/healthz", nil)
		req.RemoteAddr = remote
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	guarded, open := metrics.Handler(s.Server, true), metrics.Handler(s.Server, false)
	assert.Equal(t, http.StatusOK, do(guarded, "127.0.0.1:5000"))
	assert.Equal(t, http.StatusOK, do(guarded, "[::1]:5000"))
	assert.Equal(t, http.StatusForbidden, do(guarded, "10.1.2.3:5000"))
	assert.Equal(t, http.StatusOK, do(open, "10.1.2.3:5000"))
	require.Equal(t, "OK", c.Do("CONFIG", "SET", "protected-mode", "no").Str)
	assert.Equal(t, http.StatusOK, do(guarded, "10.1.2.3:5000"))
}

// The status page: self-refreshing, phone-ready, self-contained, names
// escaped, numbers equal to the commands' replies.
func TestStatusPage(t *testing.T) {
	s := resptest.NewServer(t)
	c := resptest.Dial(t, s.Addr())
	require.Equal(t, "OK", c.Do("SELECT", "2").Str)
	c.Do("RPUSH", "<q>&\"'", "1", "2")
	c.Do("SET", "k", "v", "EX", "1000")
	evil := `<script>alert("x")</script>`
	sub := resptest.Dial(t, s.Addr())
	sub.Do("SUBSCRIBE", evil)
	sub2 := resptest.Dial(t, s.Addr())
	sub2.Send("SUBSCRIBE", evil, "notify:user:7")
	sub2.Read()
	sub2.Read()

	h := httptest.NewServer(metrics.Handler(s.Server, true))
	defer h.Close()
	res, body := get(t, h.URL+"/", "", "")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
	assert.Contains(t, res.Header.Get("Content-Security-Policy"), "default-src 'none'")
	assert.Contains(t, body, `<meta http-equiv="refresh" content="5">`)
	assert.Contains(t, body, `<meta name="viewport" content="width=device-width, initial-scale=1">`)
	assert.Contains(t, body, "@media (max-width:600px)")
	for _, external := range []string{"<script", "src=", "href=", "@import", "url("} {
		assert.NotContains(t, body, external, "the page loads nothing and runs nothing")
	}
	assert.Contains(t, body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;")

	numsub := c.Do("PUBSUB", "NUMSUB", evil, "notify:user:7")
	require.Len(t, numsub.Elems, 4)
	assert.Contains(t, body, `<span id="channels-count">2</span>`)
	assert.Contains(t, body, `<span id="channels-subscribers">`+strconv.FormatInt(numsub.Elems[1].Int+numsub.Elems[3].Int, 10)+`</span>`)
	assert.Regexp(t, `data-channel="&lt;script&gt;alert\(&#34;x&#34;\)&lt;/script&gt;"><td[^>]*><span>[^<]*</span></td><td[^>]*data-col="subscribers">2</td>`, body)
	assert.Regexp(t, `data-channel="notify:user:7"><td[^>]*><span>notify:user:7</span></td><td[^>]*data-col="subscribers">1</td>`, body)
	assert.Regexp(t, `<tr data-db="2">.*data-col="keys">2</td>.*data-col="expires">1</td>`, body)
	clients := c.Do("INFO", "clients").Str
	assert.Contains(t, clients, "connected_clients:3\r\n")
	assert.Contains(t, body, `<span id="server-clients">3</span>`)
	assert.Contains(t, body, `<dd id="server-keys">2</dd>`)
	// The extensions are absent here, and the page says so.
	for _, cmd := range []string{"KOMBU.QUEUES", "REDBEAT.SCHEDULE", "RESULTS.STATS"} {
		assert.Contains(t, body, cmd+" is not available on this server", cmd)
	}
	res, _ = get(t, h.URL+"/nope", "", "")
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
}

// A script past busy-reply-threshold owns the server: nothing runs, the
// endpoint says so, and it recovers when the script is killed.
func TestBusyScript(t *testing.T) {
	s := resptest.NewServer(t, resptest.WithConfig(func(cfg *resp.Config) { cfg.BusyReplyThreshold = 20 }))
	runner := resptest.Dial(t, s.Addr())
	runner.Send("EVAL", "while true do end", "0")
	h := httptest.NewServer(metrics.Handler(s.Server, true))
	defer h.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, _ := get(t, h.URL+"/healthz", "", "")
		if res.StatusCode == http.StatusServiceUnavailable {
			break
		}
		require.True(t, time.Now().Before(deadline), "healthz never reported the busy script")
		time.Sleep(5 * time.Millisecond) // polling the script's time limit
	}
	_, body := get(t, h.URL+"/metrics", "", "")
	assert.Equal(t, 0.0, sample(t, families(t, body), "celerity_up"))
	res, page := get(t, h.URL+"/", "", "")
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	assert.Contains(t, page, `<section class="banner" id="unavailable"><h2>Unavailable</h2><p>busy running a script: `)

	killer := resptest.Dial(t, s.Addr())
	require.Equal(t, "OK", killer.Do("SCRIPT", "KILL").Str)
	assert.Contains(t, runner.Read().Str, "Script killed by user")
	res, _ = get(t, h.URL+"/healthz", "", "")
	assert.Equal(t, http.StatusOK, res.StatusCode)
}

// rename-command INFO "" leaves nothing to report: celerity_up 0 and a page
// that says why, not numbers made up from an empty reply.
func TestInfoRenamedAway(t *testing.T) {
	s := resptest.NewServer(t, resptest.WithConfig(func(cfg *resp.Config) {
		cfg.Renames = append(cfg.Renames, [2]string{"info", ""})
	}))
	h := httptest.NewServer(metrics.Handler(s.Server, true))
	defer h.Close()
	_, body := get(t, h.URL+"/metrics", "", "")
	mf := families(t, body)
	assert.Equal(t, 0.0, sample(t, mf, "celerity_up"))
	_, ok := mf["celerity_connected_clients"]
	assert.False(t, ok)
	res, page := get(t, h.URL+"/", "", "")
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	assert.Contains(t, page, "INFO is not available (rename-command).")
}
