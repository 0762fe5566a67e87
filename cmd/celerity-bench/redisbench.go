package main

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// scenario is one row family of the redis-benchmark table. Adding a
// benchmark is adding an entry to allScenarios: either a built-in
// redis-benchmark test (Test/Row) or a custom command line (Command), plus
// an optional Prepare that puts the server in the state the measurement
// needs (keys, subscribers, loaded scripts).
type scenario struct {
	Name    string   // row label in the report, also accepted by -tests
	Group   string   // -tests group: base, data, pubsub, scripting
	Test    string   // redis-benchmark -t name; empty for a custom command
	Row     string   // CSV row to pick for a -t run (prefix before " (")
	Extra   []string // extra redis-benchmark flags, e.g. -d 1024
	Command []string // custom command; the CSV row is named after it
	NScale  float64  // fraction of -n / -n-pipelined to use; 0 means 1
	Prepare func(env *runEnv) error
}

// Keys used by redis-benchmark's built-in tests (7.0.15, non-cluster mode,
// no -r: the __rand_int__ placeholder stays literal).
const (
	benchStringKey = "key:__rand_int__"
	benchListKey   = "mylist"
	pubsubChannel  = "bench:chan"
	zrangeKey      = "zs"
)

// evalshaScript is redis-py's Lock release script, byte for byte (redis-py
// 8.1.0, redis/lock.py), the script Kombu's unacked_mutex and RedBeat's
// beat lock run. The benchmark releases with a token that does not match
// the one stored, so every call does the same work: GET, compare, return.
const evalshaScript = "\n        local token = redis.call('get', KEYS[1])\n        if not token or token ~= ARGV[1] then\n            return 0\n        end\n        redis.call('del', KEYS[1])\n        return 1\n    "

// evalshaLockKey holds the lock token the benchmark never owns.
const evalshaLockKey = "bench:lock"

// evalshaSHA is computed locally (SCRIPT LOAD must return the same), so the
// command line is known before any server is contacted.
var evalshaSHA = func() string {
	sum := sha1.Sum([]byte(evalshaScript))
	return hex.EncodeToString(sum[:])
}()

var publishCommand = []string{"PUBLISH", pubsubChannel, "hello-subscribers"}

func allScenarios() []scenario {
	return []scenario{
		// PING_MBULK rather than PING_INLINE: clients speak multibulk.
		{Name: "PING", Group: "base", Test: "ping_mbulk", Row: "PING_MBULK"},
		{Name: "SET", Group: "base", Test: "set", Row: "SET"},
		{Name: "GET", Group: "base", Test: "get", Row: "GET", Prepare: prepSetKey(3)},
		{Name: "INCR", Group: "base", Test: "incr", Row: "INCR"},
		{Name: "SET_1KB", Group: "base", Test: "set", Row: "SET", Extra: []string{"-d", "1024"}},
		{Name: "GET_1KB", Group: "base", Test: "get", Row: "GET", Extra: []string{"-d", "1024"}, Prepare: prepSetKey(1024)},

		{Name: "LPUSH", Group: "data", Test: "lpush", Row: "LPUSH"},
		{Name: "RPUSH", Group: "data", Test: "rpush", Row: "RPUSH"},
		{Name: "LPOP", Group: "data", Test: "lpop", Row: "LPOP", Prepare: prepFillList},
		{Name: "RPOP", Group: "data", Test: "rpop", Row: "RPOP", Prepare: prepFillList},
		// redis-benchmark runs an unmeasured-by-us LPUSH of n elements before
		// LRANGE_100, and LRANGE_100 itself is ~3x slower: a quarter of n.
		{Name: "LRANGE_100", Group: "data", Test: "lrange_100", Row: "LRANGE_100", NScale: 0.25},
		{Name: "HSET", Group: "data", Test: "hset", Row: "HSET"},
		{Name: "SADD", Group: "data", Test: "sadd", Row: "SADD"},
		{Name: "ZADD", Group: "data", Test: "zadd", Row: "ZADD"},
		{Name: "ZRANGEBYSCORE", Group: "data", Command: []string{"ZRANGEBYSCORE", zrangeKey, "0", "1000", "LIMIT", "0", "10"}, Prepare: prepZFill},

		{Name: "PUBLISH_0SUB", Group: "pubsub", Command: publishCommand},
		{Name: "PUBLISH_1SUB", Group: "pubsub", Command: publishCommand, Prepare: prepSubscribers(1)},
		{Name: "PUBLISH_10SUB", Group: "pubsub", Command: publishCommand, Prepare: prepSubscribers(10)},

		{Name: "EVALSHA", Group: "scripting", Command: []string{"EVALSHA", evalshaSHA, "1", evalshaLockKey, "not-the-owner"}, Prepare: prepScriptLoad},

		// Hook: MULTI/HSET/ZADD/EXEC cannot be expressed as one
		// redis-benchmark command (it sends a single command per request).
		// It needs a Go driver over rawclient.go (like celerymix.go) that
		// returns a benchRow; add a Run func field to scenario for that.
		// Until then the Celery mix exercises exactly that transaction.
	}
}

// selectScenarios resolves -tests: comma-separated scenario names or group
// names (case-insensitive), "all", or "none".
func selectScenarios(spec string) ([]scenario, error) {
	all := allScenarios()
	spec = strings.TrimSpace(spec)
	if spec == "" || strings.EqualFold(spec, "all") {
		return all, nil
	}
	if strings.EqualFold(spec, "none") {
		return nil, nil
	}
	want := map[string]bool{}
	for _, w := range strings.Split(spec, ",") {
		w = strings.ToUpper(strings.TrimSpace(w))
		if w == "" {
			continue
		}
		known := false
		for _, sc := range all {
			if sc.Name == w || strings.ToUpper(sc.Group) == w {
				known = true
			}
		}
		if !known {
			return nil, fmt.Errorf("-tests: unknown scenario or group %q (see -list)", w)
		}
		want[w] = true
	}
	var out []scenario
	for _, sc := range all {
		if want[sc.Name] || want[strings.ToUpper(sc.Group)] {
			out = append(out, sc)
		}
	}
	return out, nil
}

// runEnv is what a Prepare func gets: the server, the run size, and a place
// to register cleanups and post-run checks.
type runEnv struct {
	ctx      context.Context
	cfg      *config
	srv      *server
	n        int
	pipeline int
	cleanups []func()
	checks   []func() error // run after redis-benchmark; an error voids the sample
}

// dial connects for preparation work, bounded by -run-timeout so a server
// that never answers cannot hang the tool.
func (e *runEnv) dial() (*Client, error) {
	c, err := Dial(e.ctx, e.srv.Addr())
	if err != nil {
		return nil, err
	}
	e.cleanups = append(e.cleanups, func() { c.Close() })
	c.SetDeadline(time.Now().Add(e.cfg.runTimeout))
	return c, nil
}

func (e *runEnv) cleanup() {
	for i := len(e.cleanups) - 1; i >= 0; i-- {
		e.cleanups[i]()
	}
	e.cleanups = nil
}

// prepSetKey makes GET hit an existing value of the size SET would write
// (redis-benchmark fills values with 'x'); a GET of a missing key is a
// different, cheaper code path.
func prepSetKey(size int) func(*runEnv) error {
	return func(e *runEnv) error {
		c, err := e.dial()
		if err != nil {
			return err
		}
		_, err = c.DoOK("SET", benchStringKey, strings.Repeat("x", size))
		return err
	}
}

// prepFillList gives LPOP/RPOP n real elements to pop, so every request
// pops instead of answering nil from an empty list.
func prepFillList(e *runEnv) error {
	c, err := e.dial()
	if err != nil {
		return err
	}
	if _, err := c.DoOK("DEL", benchListKey); err != nil {
		return err
	}
	return rpushMany(c, benchListKey, e.n, func(int) string { return "xxx" })
}

// rpushMany appends n values with multi-value RPUSHes of up to 1000 values,
// ten commands per round trip.
func rpushMany(c *Client, key string, n int, value func(i int) string) error {
	const perCmd, perFlush = 1000, 10
	args := make([]string, 0, perCmd+2)
	for done := 0; done < n; {
		sent := 0
		for k := 0; k < perFlush && done < n; k++ {
			args = append(args[:0], "RPUSH", key)
			for j := 0; j < perCmd && done < n; j++ {
				args = append(args, value(done))
				done++
			}
			c.Send(args...)
			sent++
		}
		if err := c.Flush(); err != nil {
			return err
		}
		for ; sent > 0; sent-- {
			r, err := c.Read()
			if err != nil {
				return err
			}
			if err := r.Err(); err != nil {
				return err
			}
		}
	}
	return nil
}

// prepZFill fills the sorted set with redis-benchmark itself, as the brief
// prescribes: random scores and members in [0, 100000).
func prepZFill(e *runEnv) error {
	args := []string{"-h", benchHost, "-p", strconv.Itoa(e.srv.Port), "-c", strconv.Itoa(e.cfg.clients),
		"-n", strconv.Itoa(e.cfg.zfillN), "-r", "100000", "--csv", "-q",
		"ZADD", zrangeKey, "__rand_int__", "m__rand_int__"}
	_, stderr, err := runBenchCmd(e.ctx, e.cfg.benchBin, args, e.cfg.runTimeout)
	if err != nil {
		return fmt.Errorf("fill %s: %v", zrangeKey, firstMeaningfulLine(stderr, err))
	}
	return nil
}

// prepSubscribers connects k raw SUBSCRIBE connections that discard what
// they receive. A subscriber the server disconnects (e.g. output buffer
// limit) would silently lower the fan-out, so that voids the sample.
func prepSubscribers(k int) func(*runEnv) error {
	return func(e *runEnv) error {
		var (
			closing atomic.Bool
			lost    atomic.Int32
			wg      sync.WaitGroup
			conns   []*Client
		)
		// One cleanup for all subscribers, registered before any dial so a
		// failed setup is cleaned up too: mark the close as ours, close the
		// sockets, then wait for the drain goroutines to return.
		e.cleanups = append(e.cleanups, func() {
			closing.Store(true)
			for _, c := range conns {
				c.Close()
			}
			wg.Wait()
		})
		for i := 0; i < k; i++ {
			c, err := Dial(e.ctx, e.srv.Addr())
			if err != nil {
				return err
			}
			conns = append(conns, c)
			c.SetDeadline(time.Now().Add(e.cfg.runTimeout))
			r, err := c.DoOK("SUBSCRIBE", pubsubChannel)
			if err != nil {
				return fmt.Errorf("SUBSCRIBE: %w", err)
			}
			if r.Type != '*' || len(r.Array) != 3 || !strings.EqualFold(r.Array[0].Str, "subscribe") {
				return fmt.Errorf("SUBSCRIBE: unexpected reply %+v", r)
			}
			c.SetDeadline(time.Time{}) // drains for as long as the run lasts
			wg.Add(1)
			go func() {
				defer wg.Done()
				c.Drain()
				if !closing.Load() {
					lost.Add(1)
				}
			}()
		}
		e.checks = append(e.checks, func() error {
			if n := lost.Load(); n > 0 {
				return fmt.Errorf("%d of %d subscribers were disconnected during the run", n, k)
			}
			return nil
		})
		return nil
	}
}

func prepScriptLoad(e *runEnv) error {
	c, err := e.dial()
	if err != nil {
		return err
	}
	r, err := c.DoOK("SCRIPT", "LOAD", evalshaScript)
	if err != nil {
		return fmt.Errorf("SCRIPT LOAD: %w", err)
	}
	if r.Str != evalshaSHA {
		return fmt.Errorf("SCRIPT LOAD returned %q, want %s", r.Str, evalshaSHA)
	}
	if _, err := c.DoOK("SET", evalshaLockKey, "owner-token", "PX", "3600000"); err != nil {
		return fmt.Errorf("SET lock: %w", err)
	}
	return nil
}

const benchHost = "127.0.0.1"

// benchArgv builds the redis-benchmark command line. Options must precede a
// custom command: redis-benchmark treats the first non-option as the
// command.
func benchArgv(cfg *config, port int, sc scenario, n, pipeline int) []string {
	a := []string{"-h", benchHost, "-p", strconv.Itoa(port), "-c", strconv.Itoa(cfg.clients),
		"-n", strconv.Itoa(n), "-P", strconv.Itoa(pipeline)}
	a = append(a, sc.Extra...)
	if sc.Test != "" {
		return append(a, "-t", sc.Test, "--csv", "-q")
	}
	a = append(a, "--csv", "-q")
	return append(a, sc.Command...)
}

// runSize is the request count for one run of sc at the given depth.
func runSize(cfg *config, sc scenario, pipeline int) int {
	n := cfg.n
	if pipeline > 1 {
		n = cfg.nPipelined
	}
	if sc.NScale > 0 {
		n = int(float64(n) * sc.NScale)
	}
	return max(n, cfg.clients)
}

// runBenchCmd runs redis-benchmark with a timeout: a server that never
// answers a command would otherwise hang redis-benchmark forever.
func runBenchCmd(ctx context.Context, bin string, args []string, timeout time.Duration) (stdout, stderr string, err error) {
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(cctx, bin, args...)
	cmd.SysProcAttr = childProcAttr(false)
	cmd.WaitDelay = 5 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	if err != nil && errors.Is(cctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
		err = fmt.Errorf("timed out after %v (server stopped answering?)", timeout)
	}
	return out.String(), errb.String(), err
}

// benchRow is one line of redis-benchmark --csv output (latencies in ms).
type benchRow struct {
	Name                              string
	RPS, Avg, Min, P50, P95, P99, Max float64
}

// parseBenchCSV parses redis-benchmark 7.0 --csv output:
//
//	"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
//	"SET","142857.14","0.188","0.048","0.183","0.255","0.287","0.335"
//
// Lines are parsed one at a time and anything that is not an 8-field row
// with numeric values (header, warnings) is skipped, so stray output cannot
// make a whole run unparseable.
func parseBenchCSV(out string) []benchRow {
	var rows []benchRow
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		r := csv.NewReader(strings.NewReader(line))
		r.LazyQuotes = true
		rec, err := r.Read()
		if err != nil || len(rec) != 8 {
			continue
		}
		var v [7]float64
		ok := true
		for i := range v {
			if v[i], err = strconv.ParseFloat(rec[i+1], 64); err != nil {
				ok = false
				break
			}
		}
		if !ok {
			continue // header or garbage
		}
		rows = append(rows, benchRow{Name: rec[0], RPS: v[0], Avg: v[1], Min: v[2], P50: v[3], P95: v[4], P99: v[5], Max: v[6]})
	}
	return rows
}

// selectRow picks the row for sc. Built-in tests are matched by name, with
// the annotation redis-benchmark adds to some ("LRANGE_100 (first 100
// elements)") ignored, and never the helper row "LPUSH (needed to benchmark
// LRANGE)". Custom commands are named after the command line; if the title
// does not match exactly (quoting, truncation), the only row is taken.
func selectRow(rows []benchRow, sc scenario) (benchRow, bool) {
	if sc.Test != "" {
		for _, r := range rows {
			if strings.Contains(r.Name, "(needed to benchmark") {
				continue
			}
			if r.Name == sc.Row || strings.HasPrefix(r.Name, sc.Row+" (") {
				return r, true
			}
		}
		return benchRow{}, false
	}
	want := strings.Join(sc.Command, " ")
	for _, r := range rows {
		if r.Name == want {
			return r, true
		}
	}
	if len(rows) == 1 {
		return rows[0], true
	}
	return benchRow{}, false
}

// firstMeaningfulLine condenses a failed run into one line for the notes,
// preferring the server's error ("Error from server: ERR unknown command")
// over the exit status. The CONFIG warning is noise: redis-benchmark prints
// it whenever CONFIG GET is not supported, and continues.
func firstMeaningfulLine(stderr string, err error) string {
	for _, l := range strings.Split(stderr, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.Contains(l, "Could not fetch server CONFIG") {
			continue
		}
		return l
	}
	if err != nil {
		return err.Error()
	}
	return "no output"
}

// benchKey identifies one row of the redis-benchmark table.
type benchKey struct {
	Scenario string
	Pipeline int
}

// samples collects the per-round results of one server for one row.
type samples struct {
	rps, p99 []float64
	errs     []string
}

type benchTable struct {
	keys []benchKey
	data map[benchKey]map[string]*samples
	cmds map[benchKey]string // redis-benchmark command line, port as $PORT
}

func (t *benchTable) cell(k benchKey, server string) *samples {
	m := t.data[k]
	if m == nil {
		m = map[string]*samples{}
		t.data[k] = m
		t.keys = append(t.keys, k)
	}
	s := m[server]
	if s == nil {
		s = &samples{}
		m[server] = s
	}
	return s
}

// runBenchPhase runs every selected scenario x pipeline x server for
// cfg.rounds rounds, alternating which server goes first in each round.
func runBenchPhase(ctx context.Context, cfg *config, slots []*serverSlot, rep *report) *benchTable {
	t := &benchTable{data: map[benchKey]map[string]*samples{}, cmds: map[benchKey]string{}}
	total := cfg.rounds * len(cfg.scenarios) * len(cfg.pipelines) * len(slots)
	done := 0
	for round := 0; round < cfg.rounds; round++ {
		order := roundOrder(slots, round)
		for _, sc := range cfg.scenarios {
			for _, p := range cfg.pipelines {
				k := benchKey{sc.Name, p}
				for _, sl := range order {
					if ctx.Err() != nil {
						return t
					}
					done++
					cell := t.cell(k, sl.spec.Name)
					row, argv, err := runOneBench(ctx, cfg, sl, sc, p)
					if argv != nil {
						if _, ok := t.cmds[k]; !ok {
							t.cmds[k] = cfg.benchBin + " " + shellJoin(argv)
						}
					}
					if err != nil {
						if ctx.Err() != nil {
							return t
						}
						cell.errs = append(cell.errs, err.Error())
						rep.notef("%s -P %d on %s: %v", sc.Name, p, sl.spec.Name, err)
						progress("[%3d/%d] round %d  %-14s -P %-3d %-9s n/a (%v)", done, total, round+1, sc.Name, p, sl.spec.Name, err)
						continue
					}
					cell.rps = append(cell.rps, row.RPS)
					cell.p99 = append(cell.p99, row.P99)
					progress("[%3d/%d] round %d  %-14s -P %-3d %-9s %10.0f rps  p99 %7.3f ms",
						done, total, round+1, sc.Name, p, sl.spec.Name, row.RPS, row.P99)
				}
			}
		}
	}
	return t
}

// roundOrder alternates the starting server between rounds.
func roundOrder(slots []*serverSlot, round int) []*serverSlot {
	order := append([]*serverSlot(nil), slots...)
	if round%2 == 1 {
		for i, j := 0, len(order)-1; i < j; i, j = i+1, j-1 {
			order[i], order[j] = order[j], order[i]
		}
	}
	return order
}

// runOneBench prepares the server and runs redis-benchmark once. The
// returned argv has the port replaced by $PORT, for the report.
func runOneBench(ctx context.Context, cfg *config, sl *serverSlot, sc scenario, pipeline int) (benchRow, []string, error) {
	n := runSize(cfg, sc, pipeline)
	srv, err := sl.get(ctx, fmt.Sprintf("before %s -P %d", sc.Name, pipeline))
	if err != nil {
		return benchRow{}, nil, fmt.Errorf("server not running: %v", err)
	}
	env := &runEnv{ctx: ctx, cfg: cfg, srv: srv, n: n, pipeline: pipeline}
	defer env.cleanup()

	// Every run starts from an empty keyspace so the order of scenarios and
	// rounds does not change what is measured (list lengths, hash sizes).
	// Best effort: a server without FLUSHALL still gets benchmarked.
	if err := flushAll(ctx, srv); err != nil {
		sl.rep.notef("FLUSHALL failed on %s (%v); runs share state", srv.Name, err)
	}
	if sc.Prepare != nil {
		if err := sc.Prepare(env); err != nil {
			return benchRow{}, nil, fmt.Errorf("prepare: %v", err)
		}
	}
	argv := benchArgv(cfg, srv.Port, sc, n, pipeline)
	display := templateArgv(argv, map[string]string{"-p": "$PORT"})
	if cfg.verbose {
		progress("    $ %s %s", cfg.benchBin, shellJoin(argv))
	}
	stdout, stderr, runErr := runBenchCmd(ctx, cfg.benchBin, argv, cfg.runTimeout)
	row, found := selectRow(parseBenchCSV(stdout), sc)
	switch {
	case runErr != nil:
		return benchRow{}, display, errors.New(firstMeaningfulLine(stderr, runErr))
	case !found:
		return benchRow{}, display, fmt.Errorf("no CSV row for %s: %s", sc.Name, firstMeaningfulLine(stderr, nil))
	}
	for _, check := range env.checks {
		if err := check(); err != nil {
			return benchRow{}, display, err
		}
	}
	return row, display, nil
}

func flushAll(ctx context.Context, srv *server) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, srv.Addr())
	if err != nil {
		return err
	}
	defer c.Close()
	deadline, _ := ctx.Deadline()
	c.SetDeadline(deadline)
	_, err = c.DoOK("FLUSHALL")
	return err
}
