package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The operator tools of ops-surface.md §2 against the built binary:
// redis-cli's monitoring modes, Debian's prometheus-redis-exporter and
// Redis Commander (npm, pinned in .node/package.json, installed by `make
// e2e-tools`). A missing tool skips a test, and fails it under
// REQUIRE_REDIS=1 (CI).

// toolKeys is a dataset with one key of each type the tools show.
var toolKeys = [][]string{
	{"SET", "s:str", "hello"},
	{"RPUSH", "l:list", "a", "b", "c"},
	{"HSET", "h:hash", "f1", "v1", "f2", "v2"},
	{"SADD", "t:set", "x", "y"},
	{"ZADD", "z:zset", "1", "a", "2", "b"},
	{"SET", "ttl", "1", "EX", "1000"},
}

func toolServer(t *testing.T) *server {
	s := startServer(t)
	c := dial(t, s.addr())
	for _, cmd := range toolKeys {
		c.do(cmd...)
	}
	return s
}

// cli runs redis-cli against s and returns its output; it must exit 0
// within the bound.
func cli(t *testing.T, s *server, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, redisTool(t, "redis-cli"), append([]string{"-p", strconv.Itoa(s.port)}, args...)...).CombinedOutput()
	require.NoError(t, err, "redis-cli %v: %s", args, out)
	return string(out)
}

func TestRedisCliScan(t *testing.T) {
	s := toolServer(t)
	keys := strings.Fields(cli(t, s, "--scan"))
	slices.Sort(keys)
	assert.Equal(t, []string{"h:hash", "l:list", "s:str", "t:set", "ttl", "z:zset"}, keys)
	assert.Equal(t, "l:list\n", cli(t, s, "--scan", "--pattern", "l:*"))
}

func TestRedisCliBigkeys(t *testing.T) {
	out := cli(t, toolServer(t), "--bigkeys")
	for _, want := range []string{
		"Sampled 6 keys in the keyspace!",
		`Biggest   list found '"l:list"' has 3 items`,
		`Biggest   hash found '"h:hash"' has 2 fields`,
		`Biggest string found '"s:str"' has 5 bytes`,
		`Biggest    set found '"t:set"' has 2 members`,
		`Biggest   zset found '"z:zset"' has 2 members`,
		"2 strings with 6 bytes",
	} {
		assert.Contains(t, out, want)
	}
}

// --memkeys samples MEMORY USAGE of every key.
func TestRedisCliMemkeys(t *testing.T) {
	s := toolServer(t)
	out := cli(t, s, "--memkeys")
	assert.Contains(t, out, "Sampled 6 keys in the keyspace!")
	assert.Regexp(t, `Biggest   list found '"l:list"' has [0-9]+ bytes`, out)
}

// --latency with its output not on a terminal samples PINGs for a
// second, prints "min max avg samples" once and exits.
func TestRedisCliLatency(t *testing.T) {
	out := strings.TrimSpace(cli(t, toolServer(t), "--latency"))
	f := strings.Fields(out)
	require.Len(t, f, 4, "output %q", out)
	samples, err := strconv.Atoi(f[3])
	require.NoError(t, err)
	assert.Positive(t, samples)
	_, err = strconv.ParseFloat(f[2], 64)
	assert.NoError(t, err)
}

// --stat polls plain INFO and prints one line per interval; it never
// exits, so the test reads a few lines and kills it. stdbuf makes its
// stdout line-buffered (it is a pipe here).
func TestRedisCliStat(t *testing.T) {
	s := toolServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, redisTool(t, "stdbuf"), "-oL", redisTool(t, "redis-cli"), "-p", strconv.Itoa(s.port), "--stat", "-i", "0.1")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	sc := bufio.NewScanner(stdout)
	var lines []string
	for len(lines) < 5 && sc.Scan() {
		lines = append(lines, sc.Text())
	}
	require.Len(t, lines, 5, "redis-cli --stat output: %q", lines)
	assert.Equal(t, []string{"keys", "mem", "clients", "blocked", "requests", "connections"}, strings.Fields(lines[1]))
	// keys, used memory (human), clients, blocked, requests (+delta),
	// connections: a missing INFO field would print garbage numbers.
	row := regexp.MustCompile(`^6 +[0-9.]+[KMG]? +[0-9]+ +0 +[0-9]+ \(\+[0-9]+\) +[0-9]+ *$`)
	for _, l := range lines[2:] {
		assert.Regexp(t, row, l)
	}
}

// freeTCPPort returns a loopback port nobody listens on now.
func freeTCPPort(t *testing.T) int { return freePort(t) }

// httpGet polls url until it answers 200 (bounded) and returns the body.
func httpGet(t *testing.T, url string, ok func(body string) bool) string {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	var last string
	for {
		resp, err := client.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			last = fmt.Sprintf("%d %s", resp.StatusCode, b)
			if resp.StatusCode == 200 && ok(string(b)) {
				return string(b)
			}
		} else {
			last = err.Error()
		}
		require.True(t, time.Now().Before(deadline), "GET %s: no good answer within 30s; last: %.2000s", url, last)
		time.Sleep(50 * time.Millisecond) // polling a process that is starting
	}
}

// startTool starts a helper process that is stopped when the test ends;
// its output is shown if the test fails.
func startTool(t *testing.T, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(name), out.String())
		}
	})
}

func TestPrometheusRedisExporter(t *testing.T) {
	exporter := redisTool(t, "prometheus-redis-exporter")
	s := toolServer(t)
	c := dial(t, s.addr())
	c.do("SELECT", "3")
	c.do("SET", "k3", "v")
	port := freeTCPPort(t)
	startTool(t, exporter, "-redis.addr", "redis://"+s.addr(), "-web.listen-address", "127.0.0.1:"+strconv.Itoa(port))
	body := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", port), func(b string) bool { return strings.Contains(b, "\nredis_up ") })
	metrics := map[string]string{}
	for _, l := range strings.Split(body, "\n") {
		if k, v, ok := strings.Cut(l, " "); ok && !strings.HasPrefix(l, "#") {
			metrics[k] = v
		}
	}
	assert.Equal(t, "1", metrics["redis_up"])
	assert.Equal(t, "0", metrics[`redis_exporter_last_scrape_error{err=""}`], "the exporter logged a scrape error")
	used, err := strconv.ParseFloat(metrics["redis_memory_used_bytes"], 64)
	require.NoError(t, err, "redis_memory_used_bytes")
	assert.Positive(t, used)
	clients, err := strconv.Atoi(metrics["redis_connected_clients"])
	require.NoError(t, err, "redis_connected_clients")
	assert.GreaterOrEqual(t, clients, 2) // ours and the exporter's
	assert.Equal(t, "6", metrics[`redis_db_keys{db="db0"}`])
	assert.Equal(t, "1", metrics[`redis_db_keys_expiring{db="db0"}`])
	assert.Equal(t, "1", metrics[`redis_db_keys{db="db3"}`])
	assert.Equal(t, "0", metrics[`redis_db_keys{db="db15"}`]) // from CONFIG GET databases
	assert.Equal(t, "1", metrics["redis_commands_total{cmd=\"rpush\"}"], "commandstats")
	// The instance labels come from INFO server and replication.
	assert.Regexp(t, `\nredis_instance_info\{maxmemory_policy="noeviction",os="Linux [^"]*",process_id="`+strconv.Itoa(s.cmd.Process.Pid)+
		`",redis_build_id="0",redis_mode="standalone",redis_version="7.0.15",role="master",run_id="[0-9a-f]{40}",tcp_port="`+strconv.Itoa(s.port)+`"\} 1\n`, body)
	// It sent LATENCY LATEST and SLOWLOG GET too (and logs a failure).
	assert.Equal(t, "0", metrics["redis_slowlog_length"])
}

// redisCommander finds Redis Commander as `make e2e-tools` installs it.
func redisCommander(t *testing.T) (node, script string) {
	t.Helper()
	node = redisTool(t, "node")
	_, file, _, _ := runtime.Caller(0)
	script = filepath.Join(filepath.Dir(file), ".node", "node_modules", "redis-commander", "bin", "redis-commander.js")
	if _, err := os.Stat(script); err != nil {
		if os.Getenv("REQUIRE_REDIS") == "1" {
			t.Fatalf("Redis Commander is not installed (run make e2e-tools) and REQUIRE_REDIS=1: %v", err)
		}
		t.Skipf("Redis Commander is not installed (run make e2e-tools): %v", err)
	}
	return node, script
}

func TestRedisCommanderListsKeysOfEachType(t *testing.T) {
	node, script := redisCommander(t)
	s := toolServer(t)
	port := freeTCPPort(t)
	startTool(t, node, script, "--redis-host", "127.0.0.1", "--redis-port", strconv.Itoa(s.port),
		"--address", "127.0.0.1", "--port", strconv.Itoa(port), "--nosave")
	base := fmt.Sprintf("http://127.0.0.1:%d/apiv2", port)
	conn := "R:127.0.0.1:" + strconv.Itoa(s.port) + ":0"

	// The server page parses INFO once its connection is up: until then it
	// lists the connection as disabled with the client's status
	// ("Status: connect" while ioredis is still connecting).
	info := httpGet(t, base+"/server/info", func(b string) bool {
		return strings.Contains(b, `"connectionId":"`+conn+`"`) && strings.Contains(b, `"Redis version"`)
	})
	assert.Contains(t, info, `{"key":"Redis version","value":"7.0.15"}`)
	assert.NotContains(t, info, `"disabled":true`)

	// The tree: keys without a folding ':' are leaves with their type,
	// the others groups with a count.
	var tree struct {
		Data []struct {
			KeyName string `json:"keyName"`
			Count   int    `json:"count"`
			Rel     string `json:"rel"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(httpGet(t, base+"/keystree/"+conn, func(string) bool { return true })), &tree))
	got := map[string]string{}
	for _, n := range tree.Data {
		got[n.KeyName] = n.Rel + "/" + strconv.Itoa(n.Count)
	}
	assert.Equal(t, map[string]string{"h:": "/1", "l:": "/1", "s:": "/1", "t:": "/1", "z:": "/1", "ttl": "string/0"}, got)

	// Each key's detail page reads it with the type's commands.
	for key, want := range map[string]string{
		"s:str":  `{"ttl":-1,"key":"s:str","type":"string","value":"hello"}`,
		"l:list": `{"ttl":-1,"key":"l:list","type":"list","items":[{"number":0,"value":"a"},{"number":1,"value":"b"},{"number":2,"value":"c"}],"beginning":true,"end":true,"length":3}`,
		"h:hash": `{"ttl":-1,"key":"h:hash","type":"hash","data":{"f1":"v1","f2":"v2"}}`,
		"z:zset": `{"ttl":-1,"key":"z:zset","type":"zset","items":[{"score":"2","value":"b","number":0},{"score":"1","value":"a","number":1}],"beginning":true,"end":true,"length":2}`,
	} {
		assert.JSONEq(t, want, httpGet(t, base+"/key/"+conn+"/"+key, func(string) bool { return true }), key)
	}
	var set struct {
		Type    string   `json:"type"`
		Members []string `json:"members"`
	}
	require.NoError(t, json.Unmarshal([]byte(httpGet(t, base+"/key/"+conn+"/t:set", func(string) bool { return true })), &set))
	slices.Sort(set.Members)
	assert.Equal(t, "set", set.Type)
	assert.Equal(t, []string{"x", "y"}, set.Members)
	var ttl struct {
		TTL  int    `json:"ttl"`
		Type string `json:"type"`
	}
	require.NoError(t, json.Unmarshal([]byte(httpGet(t, base+"/key/"+conn+"/ttl", func(string) bool { return true })), &ttl))
	assert.Equal(t, "string", ttl.Type)
	assert.InDelta(t, 1000, ttl.TTL, 30)

	// The client it registered under its own name.
	assert.Contains(t, dial(t, s.addr()).do("CLIENT", "LIST"), " name=redis-commander ")
}
