package e2e

import (
	"context"
	"fmt"
	"html"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
	"github.com/celerity/celerity/resp/resptest"
)

// The metrics port of the built binary: the status page loaded in headless
// Chromium (screenshots kept under artifacts/), its numbers checked against
// the commands' replies, and /metrics parsed with the Prometheus text
// parser. The Celery-shaped data is written with plain commands exactly as
// Kombu, RedBeat and the result backend write it (docs/celery-wire.md §4,
// §5, §7); the checks against KOMBU.*, REDBEAT.* and RESULTS.STATS run when
// the binary has those commands.

const sep = "\x06\x16" // Kombu's priority and binding separator

// artifactsDir is where test artifacts go: $CELERITY_ARTIFACTS, or
// artifacts/ at the repository root (gitignored).
func artifactsDir(t *testing.T) string {
	dir := os.Getenv("CELERITY_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "artifacts")
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return dir
}

// chromium runs headless Chromium on url with extra arguments and returns
// its stdout. The flags keep it off the network and out of the home
// directory.
func chromium(t *testing.T, bin, url string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	argv := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir()}, args...)
	cmd := exec.CommandContext(ctx, bin, append(argv, url)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "chromium: %s", stderr.String())
	return string(out)
}

// seedCelery writes a small Celery stack's keys: a queue with three
// priority steps and its binding, one unacked delivery, a RedBeat entry
// with its schedule and lock (db 1), task results (db 2).
func seedCelery(t *testing.T, addr string, now time.Time) (lockToken string) {
	c := resptest.Dial(t, addr)
	defer c.NetConn().Close()
	ok := func(v resp.Value) { require.NotEqual(t, byte('-'), v.Kind, v.Str) }
	msg := func(i int) string {
		return fmt.Sprintf(`{"body":"W1tdLHt9XQ==","headers":{"task":"tasks.add","id":"t%d"},"properties":{"delivery_tag":"d%d","priority":0}}`, i, i)
	}
	ok(c.Do("SADD", "_kombu.binding.celery", "celery"+sep+sep+"celery"))
	ok(c.Do("LPUSH", "celery", msg(1), msg(2), msg(3)))
	ok(c.Do("LPUSH", "celery"+sep+"3", msg(4)))
	ok(c.Do("LPUSH", "celery"+sep+"9", msg(5), msg(6)))
	delivered := float64(now.Add(-30*time.Second).UnixMilli()) / 1000
	ok(c.Do("ZADD", "unacked_index", strconv.FormatFloat(delivered, 'f', 3, 64), "d7"))
	ok(c.Do("HSET", "unacked", "d7", `[{"body":"W1tdLHt9XQ==","headers":{"task":"tasks.long","id":"t7"},"properties":{"delivery_tag":"d7","delivery_info":{"exchange":"","routing_key":"celery"},"priority":0}},"","celery"]`))

	ok(c.Do("SELECT", "1"))
	last := now.Add(-5 * time.Second).UTC()
	ok(c.Do("HSET", "redbeat:tick",
		"definition", `{"name":"tick","task":"tasks.tick","args":[],"kwargs":{},"options":{},"schedule":{"__type__":"interval","every":10.0,"relative":false},"enabled":true}`,
		"meta", fmt.Sprintf(`{"last_run_at":{"__type__":"datetime","year":%d,"month":%d,"day":%d,"hour":%d,"minute":%d,"second":%d,"microsecond":0,"timezone":"UTC"},"total_run_count":3}`,
			last.Year(), last.Month(), last.Day(), last.Hour(), last.Minute(), last.Second())))
	ok(c.Do("ZADD", "redbeat::schedule", strconv.FormatInt(last.Add(10*time.Second).Unix(), 10), "redbeat:tick"))
	ok(c.Do("SADD", "redbeat::statics", "tick"))
	lockToken = "9f1c2b3a4d5e6f708192a3b4c5d6e7f8"
	ok(c.Do("SET", "redbeat::lock", lockToken, "NX", "PX", "25000"))

	ok(c.Do("SELECT", "2"))
	for i, state := range []string{"SUCCESS", "SUCCESS", "FAILURE", "SUCCESS"} {
		args := []string{"SET", fmt.Sprintf("celery-task-meta-r%d", i),
			fmt.Sprintf(`{"status": "%s", "result": 5, "traceback": null, "children": [], "date_done": "2026-01-01T00:00:00", "task_id": "r%d"}`, state, i)}
		if i < 3 {
			args = append(args, "EX", "3600")
		}
		ok(c.Do(args...))
	}
	return lockToken
}

// row finds the table row with attrs and returns its cells' data-col
// values (HTML unescaped).
func row(dom string, attrs string) (map[string]string, bool) {
	i := strings.Index(dom, "<tr "+attrs+">")
	if i < 0 {
		return nil, false
	}
	end := strings.Index(dom[i:], "</tr>")
	tr := dom[i : i+end]
	cols := map[string]string{}
	for _, m := range regexp.MustCompile(`data-col="([^"]+)"[^>]*>([^<]*)<`).FindAllStringSubmatch(tr, -1) {
		cols[m[1]] = html.UnescapeString(m[2])
	}
	for _, m := range regexp.MustCompile(`data-(priority|state)="([^"]+)">[^<]*<b>(\d+)</b>`).FindAllStringSubmatch(tr, -1) {
		cols[m[1]+":"+html.UnescapeString(m[2])] = m[3]
	}
	return cols, true
}

// attr escapes a value as Chromium serializes an attribute.
func attr(s string) string {
	return strings.NewReplacer("&", "&amp;", `"`, "&quot;", "<", "&lt;", ">", "&gt;", "\u00a0", "&nbsp;").Replace(s)
}

func spanByID(t *testing.T, dom, id string) string {
	t.Helper()
	m := regexp.MustCompile(`id="` + id + `">([^<]*)<`).FindStringSubmatch(dom)
	require.NotNil(t, m, "no #%s in the page", id)
	return m[1]
}

func hasCommand(c *resptest.Conn, name string) bool {
	v := c.Do("COMMAND", "INFO", name)
	return len(v.Elems) == 1 && v.Elems[0].Kind != '_'
}

func fields(v resp.Value) map[string]resp.Value {
	m := map[string]resp.Value{}
	for i := 0; i+1 < len(v.Elems); i += 2 {
		m[v.Elems[i].Str] = v.Elems[i+1]
	}
	return m
}

func TestStatusPageInChromium(t *testing.T) {
	bin := redisTool(t, "chromium") // mandatory under REQUIRE_REDIS=1
	mport := freePort(t)
	s := startServer(t, "--metrics-port", strconv.Itoa(mport))
	base := "http://127.0.0.1:" + strconv.Itoa(mport)
	now := time.Now()
	token := seedCelery(t, s.addr(), now)

	// Notification channels as a WebSocket fan-out uses them, one name
	// that must come out escaped, and Celery's event pattern.
	evil := `<b id="x">bold</b>`
	sub1 := resptest.Dial(t, s.addr())
	sub1.Send("SUBSCRIBE", "notify:user:1", "notify:user:2", evil)
	for range 3 {
		sub1.Read()
	}
	sub2 := resptest.Dial(t, s.addr())
	sub2.Do("SUBSCRIBE", "notify:user:1")
	psub := resptest.Dial(t, s.addr())
	psub.Do("PSUBSCRIBE", "/0.celeryev/*")
	c := resptest.Dial(t, s.addr())
	waitFor(t, "the start-up probe to go", func() bool {
		return strings.Count(c.Do("CLIENT", "LIST").Str, "id=") == 4
	})

	dir := artifactsDir(t)
	dom := chromium(t, bin, base+"/", "--dump-dom")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "status.html"), []byte(dom), 0o644))
	chromium(t, bin, base+"/", "--screenshot="+filepath.Join(dir, "status.png"), "--window-size=412,915")
	chromium(t, bin, base+"/", "--screenshot="+filepath.Join(dir, "status-desktop.png"), "--window-size=1280,1100")
	for name, w := range map[string]int{"status.png": 412, "status-desktop.png": 1280} {
		f, err := os.Open(filepath.Join(dir, name))
		require.NoError(t, err)
		cfg, err := png.DecodeConfig(f)
		f.Close()
		require.NoError(t, err, name)
		assert.Equal(t, w, cfg.Width, name)
	}

	// Server-level numbers against the commands.
	assert.Contains(t, dom, `<meta http-equiv="refresh" content="5">`)
	keys := int64(0)
	for db := range 3 {
		c.Do("SELECT", strconv.Itoa(db))
		n := c.Do("DBSIZE").Int
		keys += n
		cols, found := row(dom, fmt.Sprintf(`data-db="%d"`, db))
		require.True(t, found, "keyspace row db%d", db)
		assert.Equal(t, strconv.FormatInt(n, 10), cols["keys"], "db%d", db)
	}
	c.Do("SELECT", "0")
	assert.Equal(t, strconv.FormatInt(keys, 10), spanByID(t, dom, "server-keys"))
	assert.Equal(t, "4", spanByID(t, dom, "server-clients"))
	assert.Contains(t, c.Do("INFO", "clients").Str, "connected_clients:4\r\n")
	channels := c.Do("PUBSUB", "CHANNELS")
	assert.Equal(t, strconv.Itoa(len(channels.Elems)), spanByID(t, dom, "channels-count"))
	assert.Equal(t, strconv.FormatInt(c.Do("PUBSUB", "NUMPAT").Int, 10), spanByID(t, dom, "channels-patterns"))
	numsub := c.Do("PUBSUB", "NUMSUB", "notify:user:1", "notify:user:2", evil)
	total := int64(0)
	for i := 0; i < len(numsub.Elems); i += 2 {
		name, n := numsub.Elems[i].Str, numsub.Elems[i+1].Int
		total += n
		cols, found := row(dom, `data-channel="`+attr(name)+`"`)
		require.True(t, found, "channel %q", name)
		assert.Equal(t, strconv.FormatInt(n, 10), cols["subscribers"], name)
	}
	assert.Equal(t, strconv.FormatInt(total, 10), spanByID(t, dom, "channels-subscribers"))
	assert.NotContains(t, dom, `<b id="x">`, "a channel name is text, not markup")
	assert.Contains(t, dom, `&lt;b id="x"&gt;bold&lt;/b&gt;`)

	// The Celery parts: against the extension commands when the binary has
	// them (after the kombu/redbeat/results merge), otherwise the page says
	// they are absent.
	t.Run("kombu", func(t *testing.T) {
		if !hasCommand(c, "KOMBU.QUEUES") {
			assert.Contains(t, dom, "KOMBU.QUEUES is not available on this server")
			return
		}
		// What Kombu wrote: 3 + 1 + 2 messages at steps 0, 3, 9.
		cols, found := row(dom, `data-db="0" data-prefix="" data-queue="celery"`)
		require.True(t, found, "queue celery on the page")
		assert.Equal(t, "6", cols["messages"])
		assert.Equal(t, "3", cols["priority:0"])
		assert.Equal(t, "1", cols["priority:3"])
		assert.Equal(t, "2", cols["priority:9"])
		assert.Equal(t, "1", cols["unacked"])
		// And what KOMBU.QUEUES answers, field by field.
		var q map[string]resp.Value
		for _, e := range c.Do("KOMBU.QUEUES", "DB", "0").Elems {
			if f := fields(e); f["name"].Str == "celery" {
				q = f
			}
		}
		require.NotNil(t, q, "KOMBU.QUEUES lists celery")
		for col, field := range map[string]string{"messages": "messages", "consumers": "consumers", "unacked": "unacked",
			"redelivered": "unacked_redelivered", "restored": "restored"} {
			assert.Equal(t, strconv.FormatInt(q[field].Int, 10), cols[col], field)
		}
		p := q["priorities"]
		for i := 0; i+1 < len(p.Elems); i += 2 {
			assert.Equal(t, strconv.FormatInt(p.Elems[i+1].Int, 10), cols["priority:"+strconv.FormatInt(p.Elems[i].Int, 10)])
		}
		unacked := c.Do("KOMBU.UNACKED", "DB", "0")
		require.Len(t, unacked.Elems, 1)
		assert.Contains(t, dom, `<tr data-tag="d7">`)
		assert.Contains(t, dom, `<span id="server-unacked">1</span>`)
	})
	t.Run("redbeat", func(t *testing.T) {
		if !hasCommand(c, "REDBEAT.SCHEDULE") {
			assert.Contains(t, dom, "REDBEAT.SCHEDULE is not available on this server")
			return
		}
		c.Do("SELECT", "1")
		defer c.Do("SELECT", "0")
		sched := c.Do("REDBEAT.SCHEDULE")
		require.Len(t, sched.Elems, 1)
		e := fields(sched.Elems[0])
		require.Equal(t, "tick", e["name"].Str)
		cols, found := row(dom, `data-db="1" data-prefix="redbeat:" data-entry="tick"`)
		require.True(t, found, "entry tick on the page")
		assert.Equal(t, strconv.FormatInt(e["total_run_count"].Int, 10), cols["runs"])
		assert.Equal(t, "3", cols["runs"])
		m := regexp.MustCompile(`data-entry="tick">.*?data-unix="([0-9.]+)"`).FindStringSubmatch(dom)
		require.NotNil(t, m, "next run on the page")
		assert.Equal(t, fmt.Sprintf("%.3f", float64(e["next_run_at_ms"].Int)/1000), m[1])
		lock := c.Do("REDBEAT.LOCK")
		require.NotEmpty(t, lock.Elems)
		assert.Equal(t, token, fields(lock.Elems[0])["holder"].Str)
		cols, found = row(dom, `data-db="1" data-prefix="redbeat:"`)
		require.True(t, found, "lock row")
		assert.Equal(t, token, cols["holder"])
	})
	t.Run("results", func(t *testing.T) {
		if !hasCommand(c, "RESULTS.STATS") {
			assert.Contains(t, dom, "RESULTS.STATS is not available on this server")
			return
		}
		st := fields(c.Do("RESULTS.STATS", "DB", "2"))
		// The keyspace table has a data-db="2" row too: look in the
		// results section.
		i := strings.Index(dom, `<section id="results">`)
		require.GreaterOrEqual(t, i, 0)
		cols, found := row(dom[i:], `data-db="2"`)
		require.True(t, found, "results row db2")
		assert.Equal(t, strconv.FormatInt(st["task_results"].Int, 10), cols["tasks"])
		assert.Equal(t, "4", cols["tasks"])
		assert.Equal(t, "3", cols["state:SUCCESS"])
		assert.Equal(t, "1", cols["state:FAILURE"])
		assert.Equal(t, strconv.FormatInt(st["without_ttl"].Int, 10), cols["without-ttl"])
	})

	// /metrics from the same binary, parsed as Prometheus parses it.
	res, err := http.Get(base + "/metrics")
	require.NoError(t, err)
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "metrics.txt"), body, 0o644))
	p := expfmt.NewTextParser(model.LegacyValidation)
	mf, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	require.NoError(t, err)
	value := func(name string, labels ...string) (float64, bool) {
		for _, m := range mf[name].GetMetric() {
			if labelsMatch(m, labels) {
				return m.GetGauge().GetValue() + m.GetCounter().GetValue() + m.GetUntyped().GetValue(), true
			}
		}
		return 0, false
	}
	for db, want := range map[string]float64{"0": 6, "1": 4, "2": 4} {
		v, found := value("celerity_db_keys", "db", db)
		assert.True(t, found, db)
		assert.Equal(t, want, v, db)
	}
	v, _ := value("celerity_pubsub_subscribers")
	assert.Equal(t, float64(total), v)
	if hasCommand(c, "KOMBU.QUEUES") {
		v, found := value("celerity_queue_messages", "db", "0", "queue", "celery", "priority", "9")
		assert.True(t, found)
		assert.Equal(t, 2.0, v)
		v, _ = value("celerity_queue_unacked", "db", "0", "queue", "celery")
		assert.Equal(t, 1.0, v)
		v, found = value("celerity_queue_oldest_unacked_age_seconds", "db", "0", "queue", "celery")
		assert.True(t, found)
		assert.GreaterOrEqual(t, v, 30.0)
	}
	if hasCommand(c, "REDBEAT.LOCK") {
		v, _ := value("celerity_redbeat_lock_held", "db", "1", "prefix", "redbeat:")
		assert.Equal(t, 1.0, v)
		v, found := value("celerity_redbeat_lock_ttl_seconds", "db", "1", "prefix", "redbeat:")
		assert.True(t, found)
		assert.True(t, v > 0 && v <= 25, "lock TTL %v", v)
		_, found = value("celerity_redbeat_next_run_timestamp_seconds", "db", "1", "prefix", "redbeat:", "entry", "tick")
		assert.True(t, found)
		_, found = value("celerity_redbeat_lock_held", "db", "0", "prefix", "redbeat:")
		assert.False(t, found, "no RedBeat in db 0")
	}
	if hasCommand(c, "RESULTS.STATS") {
		v, _ := value("celerity_results", "db", "2", "state", "SUCCESS")
		assert.Equal(t, 3.0, v)
		v, _ = value("celerity_results", "db", "2", "state", "FAILURE")
		assert.Equal(t, 1.0, v)
		_, found := value("celerity_results_bytes", "db", "0")
		assert.False(t, found, "a database without results has no results series")
	}
}

// labelsMatch reports whether m has every name/value pair of labels.
func labelsMatch(m *dto.Metric, labels []string) bool {
	have := map[string]string{}
	for _, l := range m.GetLabel() {
		have[l.GetName()] = l.GetValue()
	}
	for i := 0; i+1 < len(labels); i += 2 {
		if have[labels[i]] != labels[i+1] {
			return false
		}
	}
	return true
}

// The directives on the command line: requirepass protects the port,
// metrics-auth no opens it, metrics-bind picks the address, and a port
// that cannot be opened stops the start as a bad bind does.
func TestMetricsPortDirectives(t *testing.T) {
	mport := freePort(t)
	s := startServer(t, "--requirepass", "pw", "--metrics-port", strconv.Itoa(mport), "--metrics-bind", "127.0.0.1")
	url := "http://127.0.0.1:" + strconv.Itoa(mport) + "/metrics"
	res, err := http.Get(url)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	req, _ := http.NewRequest("GET", url, nil)
	req.SetBasicAuth("default", "pw")
	res, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
	c := dial(t, s.addr())
	c.do("AUTH", "pw")
	assert.Equal(t, "[metrics-port "+strconv.Itoa(mport)+"]", c.do("CONFIG", "GET", "metrics-port"))

	open := freePort(t)
	startServer(t, "--requirepass", "pw", "--metrics-port", strconv.Itoa(open), "--metrics-auth", "no")
	res, err = http.Get("http://127.0.0.1:" + strconv.Itoa(open) + "/healthz")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode, "metrics-auth no")

	// The metrics port taken by the first server: a fatal start-up error.
	out, _, code := runOnce(t, "", "--port", strconv.Itoa(freePort(t)), "--bind", "127.0.0.1", "--metrics-port", strconv.Itoa(mport))
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "could not open the metrics port 127.0.0.1:"+strconv.Itoa(mport))
}
