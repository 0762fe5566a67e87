package e2e

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Helpers for the durability tests (durability_test.go). They run every
// scenario against two kinds of server with the same command line:
// "celerity" (the binary TestMain built) and "redis" (Debian's
// redis-server 7.0.15, the oracle: a test that fails against it is wrong).

const (
	kindCelerity = "celerity"
	kindRedis    = "redis"
)

var serverKinds = []string{kindCelerity, kindRedis}

// forEachKind runs f as one subtest per kind, named after the kind, so
// that -run 'TestX/redis' selects the oracle alone.
func forEachKind(t *testing.T, f func(t *testing.T, kind string)) {
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) { f(t, kind) })
	}
}

// redisTool finds a redis-server 7.0.15 tool in PATH. A missing tool skips
// the test unless REQUIRE_REDIS=1 makes the oracle mandatory (CI), as in
// aof/interop_test.go.
func redisTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("REQUIRE_REDIS") == "1" {
			t.Fatalf("%s not found and REQUIRE_REDIS=1: %v", name, err)
		}
		t.Skipf("%s not found (set REQUIRE_REDIS=1 to make this a failure)", name)
	}
	return p
}

// kindBinary is the server executable of a kind.
func kindBinary(t testing.TB, kind string) string {
	t.Helper()
	if kind == kindCelerity {
		return binary
	}
	return redisTool(t, "redis-server")
}

// ---------------------------------------------------------------------------
// A server process on an explicit data directory and port, so that it can be
// killed and started again on the same files.
// ---------------------------------------------------------------------------

type aofServer struct {
	t     testing.TB
	kind  string
	bin   string
	dir   string
	port  int
	fsync string
	extra []string

	cmd    *exec.Cmd
	exited chan struct{} // closed once cmd.Wait returned
	stdio  lockedBuffer  // stdout and stderr of every run (config errors go there)
	quiet  bool          // no log on failure (the run was checked and is not the culprit)
}

// newAOFServer prepares (does not start) a server of kind on dir with
// appendonly yes, no RDB save points, RESP base files and the given fsync
// policy; extra directives come last and so win. When the test ends the
// process is killed if it still runs, and on failure its log is printed.
func newAOFServer(t testing.TB, kind, dir, fsync string, extra ...string) *aofServer {
	t.Helper()
	s := &aofServer{t: t, kind: kind, bin: kindBinary(t, kind), dir: dir, port: freePort(t),
		fsync: fsync, extra: extra}
	t.Cleanup(func() {
		s.kill()
		if t.Failed() && !s.quiet {
			t.Logf("%s", s.logs())
		}
	})
	return s
}

func (s *aofServer) addr() string    { return "127.0.0.1:" + strconv.Itoa(s.port) }
func (s *aofServer) logPath() string { return filepath.Join(s.dir, "server.log") }
func (s *aofServer) aofDir() string  { return filepath.Join(s.dir, "appendonlydir") }

func (s *aofServer) argv() []string {
	return append([]string{
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--dir", s.dir,
		"--save", "", "--appendonly", "yes", "--aof-use-rdb-preamble", "no",
		"--appendfsync", s.fsync, "--logfile", s.logPath(),
	}, s.extra...)
}

func (s *aofServer) running() bool {
	if s.cmd == nil {
		return false
	}
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// launch starts the process and returns at once (see start).
func (s *aofServer) launch() {
	s.t.Helper()
	require.False(s.t, s.running(), "%s server already running", s.kind)
	cmd := exec.Command(s.bin, s.argv()...)
	cmd.Stdout, cmd.Stderr = &s.stdio, &s.stdio
	// If the test binary dies (a -timeout panic skips the cleanups), the
	// server goes with it instead of running on as an orphan.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(s.t, cmd.Start())
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	s.cmd, s.exited = cmd, exited
}

// start launches the server and waits until it answers PING with +PONG:
// the dataset is loaded (a loading server answers -LOADING). A process
// that exits meanwhile fails the test at once, with its log.
func (s *aofServer) start() {
	s.t.Helper()
	s.launch()
	s.waitReady()
}

func (s *aofServer) waitReady() {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !pingPong(s.addr()) {
		if !s.running() {
			s.t.Fatalf("%s server exited during start-up (%v)", s.kind, s.cmd.ProcessState)
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s server did not answer PING with PONG within 30 s", s.kind)
		}
		time.Sleep(3 * time.Millisecond) // polling a port that is not served yet
	}
}

// pingPong reports whether addr answers PING with +PONG on a new connection.
func pingPong(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && line == "+PONG\r\n"
}

// kill sends SIGKILL (a process crash: no shutdown code runs, only what
// already reached the kernel survives) and waits for the process.
func (s *aofServer) kill() {
	if !s.running() {
		return
	}
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
}

// term sends SIGTERM (a clean shutdown: flush and fsync the AOF) and
// requires exit code 0 within 15 s.
func (s *aofServer) term() {
	s.t.Helper()
	if !s.running() {
		s.t.Fatalf("%s server is not running (%v)", s.kind, s.cmd.ProcessState)
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	code, ok := s.waitExit(15 * time.Second)
	require.True(s.t, ok, "%s server did not exit within 15 s of SIGTERM", s.kind)
	require.Equal(s.t, 0, code, "%s server exit code after SIGTERM", s.kind)
}

// waitExit waits up to d for the process to exit by itself and returns its
// exit code (-1 when killed by a signal); ok is false if it still runs.
func (s *aofServer) waitExit(d time.Duration) (code int, ok bool) {
	select {
	case <-s.exited:
		return s.cmd.ProcessState.ExitCode(), true
	case <-time.After(d):
		return 0, false
	}
}

// logText is the server's log file (what the tests assert on).
func (s *aofServer) logText() string {
	b, _ := os.ReadFile(s.logPath())
	return string(b)
}

// logs is the log file and the process's own output, the last 16 KB of
// each, for failure reports.
func (s *aofServer) logs() string {
	tail := func(b string) string {
		if len(b) > 16<<10 {
			return "…" + b[len(b)-16<<10:]
		}
		return b
	}
	return fmt.Sprintf("%s server (%s) log:\n%s\n%s server stdout/stderr:\n%s",
		s.kind, s.dir, tail(s.logText()), s.kind, tail(s.stdio.String()))
}

// lockedBuffer collects a process's stdout and stderr; exec copies them
// from goroutines of its own.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// ---------------------------------------------------------------------------
// A typed RESP2 client. The suite's conn flattens replies into text, which
// cannot tell an error from a status or carry binary values and spaces;
// durability checks need both. It never calls t.FailNow, so the load
// generators can use it from their own goroutines.
// ---------------------------------------------------------------------------

type reply struct {
	typ  byte // '+', '-', ':', '$', '*'
	str  string
	num  int64
	null bool
	arr  []reply
}

func (r reply) isErr() bool { return r.typ == '-' }

// String renders a reply for messages (errors keep their "-").
func (r reply) String() string {
	switch {
	case r.null:
		return "(nil)"
	case r.typ == '-':
		return "-" + r.str
	case r.typ == ':':
		return strconv.FormatInt(r.num, 10)
	case r.typ == '*':
		parts := make([]string, len(r.arr))
		for i, e := range r.arr {
			parts[i] = e.String()
		}
		return "[" + strings.Join(parts, " ") + "]"
	}
	return strconv.Quote(r.str)
}

// strs returns an array of bulk strings as a slice.
func (r reply) strs() []string {
	out := make([]string, len(r.arr))
	for i, e := range r.arr {
		out[i] = e.str
	}
	return out
}

type rclient struct {
	c net.Conn
	r *bufio.Reader
	w *bufio.Writer
}

func rdial(addr string) (*rclient, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &rclient{c: c, r: bufio.NewReaderSize(c, 64<<10), w: bufio.NewWriterSize(c, 64<<10)}, nil
}

// dialT connects for the test goroutine; closed when the test ends.
func dialT(t testing.TB, addr string) *rclient {
	t.Helper()
	c, err := rdial(addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.close() })
	return c
}

func (c *rclient) close() { c.c.Close() }

// send writes commands in one pipeline (one flush).
func (c *rclient) send(cmds ...[]string) error {
	c.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	for _, argv := range cmds {
		c.w.WriteString("*" + strconv.Itoa(len(argv)) + "\r\n")
		for _, a := range argv {
			c.w.WriteString("$" + strconv.Itoa(len(a)) + "\r\n")
			c.w.WriteString(a)
			c.w.WriteString("\r\n")
		}
	}
	return c.w.Flush()
}

func (c *rclient) read() (reply, error) {
	c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	return readTyped(c.r)
}

func (c *rclient) do(args ...string) (reply, error) {
	if err := c.send(args); err != nil {
		return reply{}, err
	}
	return c.read()
}

// must runs a command that has to succeed (no I/O error, no error reply).
func (c *rclient) must(t testing.TB, args ...string) reply {
	t.Helper()
	r, err := c.do(args...)
	require.NoError(t, err, "%q", args)
	if r.isErr() && strings.HasPrefix(r.str, "LOADING") {
		// The tests use must only on loaded servers: start waited for
		// +PONG, and Redis answers PING with -LOADING until the load is
		// over. A server that answers PING before loading has begun
		// serves clients from an empty dataset.
		t.Fatalf("%q: %s after the server had answered PING with +PONG: it served clients before its load began", args, r)
	}
	require.False(t, r.isErr(), "%q: %s", args, r)
	return r
}

var errProtocol = errors.New("protocol error")

func readTyped(r *bufio.Reader) (reply, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return reply{}, err
	}
	if len(line) < 3 || !strings.HasSuffix(line, "\r\n") {
		return reply{}, fmt.Errorf("%w: line %q", errProtocol, line)
	}
	typ, body := line[0], line[1:len(line)-2]
	switch typ {
	case '+', '-':
		return reply{typ: typ, str: body}, nil
	case ':':
		n, err := strconv.ParseInt(body, 10, 64)
		return reply{typ: typ, num: n}, err
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil {
			return reply{}, err
		}
		if n < 0 {
			return reply{typ: typ, null: true}, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return reply{}, err
		}
		return reply{typ: typ, str: string(buf[:n])}, nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil {
			return reply{}, err
		}
		if n < 0 {
			return reply{typ: typ, null: true}, nil
		}
		out := reply{typ: typ, arr: make([]reply, n)}
		for i := range out.arr {
			if out.arr[i], err = readTyped(r); err != nil {
				return reply{}, err
			}
		}
		return out, nil
	}
	return reply{}, fmt.Errorf("%w: line %q", errProtocol, line)
}

// infoFields parses an INFO reply into its fields.
func infoFields(t testing.TB, c *rclient, section string) map[string]string {
	t.Helper()
	r := c.must(t, "INFO", section)
	out := map[string]string{}
	for _, l := range strings.Split(r.str, "\r\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && !strings.HasPrefix(l, "#") {
			out[k] = v
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// Datasets: a logical dump of every database, compared key by key.
// ---------------------------------------------------------------------------

type keyDump struct {
	typ  string
	val  string // canonical rendering of the value (quoted, so binary-safe)
	pttl int64  // -1 without a TTL
}

// datasetDump maps db → key → dump; databases without keys are absent.
type datasetDump map[int]map[string]keyDump

// dumpDataset reads every key of databases 0-15: TYPE, the value (GET,
// LRANGE 0 -1, HGETALL sorted by field, SMEMBERS sorted, ZRANGE 0 -1
// WITHSCORES) and PTTL. KEYS skips logically expired keys on both servers.
func dumpDataset(t testing.TB, c *rclient) datasetDump {
	t.Helper()
	out := datasetDump{}
	for db := 0; db < 16; db++ {
		c.must(t, "SELECT", strconv.Itoa(db))
		for _, k := range c.must(t, "KEYS", "*").strs() {
			typ := c.must(t, "TYPE", k).str
			var val []string
			switch typ {
			case "none":
				continue // expired between KEYS and TYPE
			case "string":
				val = []string{c.must(t, "GET", k).str}
			case "list":
				val = c.must(t, "LRANGE", k, "0", "-1").strs()
			case "hash":
				kv := c.must(t, "HGETALL", k).strs()
				pairs := make([]string, 0, len(kv)/2)
				for i := 0; i+1 < len(kv); i += 2 {
					pairs = append(pairs, kv[i]+"\x00="+kv[i+1])
				}
				sort.Strings(pairs)
				val = pairs
			case "set":
				val = c.must(t, "SMEMBERS", k).strs()
				sort.Strings(val)
			case "zset":
				val = c.must(t, "ZRANGE", k, "0", "-1", "WITHSCORES").strs()
			default:
				t.Fatalf("db %d key %q: unexpected type %q", db, k, typ)
			}
			if out[db] == nil {
				out[db] = map[string]keyDump{}
			}
			out[db][k] = keyDump{typ: typ, val: fmt.Sprintf("%q", val), pttl: c.must(t, "PTTL", k).num}
		}
	}
	c.must(t, "SELECT", "0")
	return out
}

// compareDatasets asserts that got holds exactly want's keys with the same
// types and values, and TTLs within ttlTol (both without TTL, or both with
// one and differing by at most ttlTol).
func compareDatasets(t testing.TB, want, got datasetDump, ttlTol time.Duration) bool {
	t.Helper()
	ok := true
	for db := 0; db < 16; db++ {
		w, g := want[db], got[db]
		if !assert.Equal(t, sortedKeys(w), sortedKeys(g), "db %d: key set", db) {
			ok = false
		}
		for k, wk := range w {
			gk, present := g[k]
			if !present {
				continue // reported by the key set comparison
			}
			ok = assert.Equal(t, wk.typ, gk.typ, "db %d key %q: TYPE", db, k) && ok
			ok = assert.Equal(t, wk.val, gk.val, "db %d key %q: value", db, k) && ok
			if wk.pttl < 0 || gk.pttl < 0 {
				ok = assert.Equal(t, wk.pttl, gk.pttl, "db %d key %q: PTTL", db, k) && ok
			} else {
				diff := time.Duration(math.Abs(float64(wk.pttl-gk.pttl))) * time.Millisecond
				ok = assert.LessOrEqual(t, diff, ttlTol, "db %d key %q: PTTL %d vs %d", db, k, wk.pttl, gk.pttl) && ok
			}
		}
	}
	return ok
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ---------------------------------------------------------------------------
// AOF files: records of an incr file, a tiny model that replays them, the
// manifest, directory copies.
// ---------------------------------------------------------------------------

// aofRecord is one command of an AOF file and its byte range.
type aofRecord struct {
	start, end int
	argv       []string
}

// parseAOFRecords splits a complete RESP AOF file into its commands
// (strictly: "*<n>\r\n" then n times "$<len>\r\n<bytes>\r\n").
func parseAOFRecords(t testing.TB, data []byte) []aofRecord {
	t.Helper()
	var recs []aofRecord
	pos := 0
	line := func() string {
		i := bytes.Index(data[pos:], []byte("\r\n"))
		require.GreaterOrEqual(t, i, 0, "AOF: no CRLF after offset %d", pos)
		l := string(data[pos : pos+i])
		pos += i + 2
		return l
	}
	for pos < len(data) {
		start := pos
		head := line()
		require.True(t, strings.HasPrefix(head, "*"), "AOF offset %d: %q", start, head)
		n, err := strconv.Atoi(head[1:])
		require.NoError(t, err)
		argv := make([]string, n)
		for i := range argv {
			l := line()
			require.True(t, strings.HasPrefix(l, "$"), "AOF offset %d: %q", pos, l)
			size, err := strconv.Atoi(l[1:])
			require.NoError(t, err)
			require.LessOrEqual(t, pos+size+2, len(data))
			argv[i] = string(data[pos : pos+size])
			require.Equal(t, "\r\n", string(data[pos+size:pos+size+2]))
			pos += size + 2
		}
		recs = append(recs, aofRecord{start: start, end: pos, argv: argv})
	}
	return recs
}

// modelDataset replays commands (the few the truncation test writes) into
// the dataset they describe, without TTLs. MULTI ... EXEC is applied at the
// EXEC; an unterminated MULTI block is not applied at all.
func modelDataset(t testing.TB, cmds [][]string) datasetDump {
	t.Helper()
	type kv struct {
		typ string
		str string
		lst []string
		hsh map[string]string
	}
	data := map[int]map[string]*kv{}
	db := 0
	get := func(k, typ string) *kv {
		if data[db] == nil {
			data[db] = map[string]*kv{}
		}
		v := data[db][k]
		if v == nil {
			v = &kv{typ: typ, hsh: map[string]string{}}
			data[db][k] = v
		}
		require.Equal(t, typ, v.typ, "model: key %q", k)
		return v
	}
	apply := func(argv []string) {
		switch strings.ToUpper(argv[0]) {
		case "SELECT":
			db, _ = strconv.Atoi(argv[1])
		case "SET":
			require.Len(t, argv, 3, "model: only plain SET: %q", argv)
			get(argv[1], "string").str = argv[2]
		case "INCR", "INCRBY":
			by := int64(1)
			if len(argv) == 3 {
				by, _ = strconv.ParseInt(argv[2], 10, 64)
			}
			v := get(argv[1], "string")
			n, _ := strconv.ParseInt(v.str, 10, 64)
			v.str = strconv.FormatInt(n+by, 10)
		case "RPUSH":
			v := get(argv[1], "list")
			v.lst = append(v.lst, argv[2:]...)
		case "HSET", "HMSET":
			v := get(argv[1], "hash")
			for i := 2; i+1 < len(argv); i += 2 {
				v.hsh[argv[i]] = argv[i+1]
			}
		default:
			t.Fatalf("model: unexpected command %q", argv)
		}
	}
	var queued [][]string
	inMulti := false
	for _, argv := range cmds {
		switch strings.ToUpper(argv[0]) {
		case "MULTI":
			inMulti, queued = true, nil
		case "EXEC":
			for _, q := range queued {
				apply(q)
			}
			inMulti, queued = false, nil
		default:
			if inMulti {
				queued = append(queued, argv)
			} else {
				apply(argv)
			}
		}
	}
	out := datasetDump{}
	for d, keys := range data {
		out[d] = map[string]keyDump{}
		for k, v := range keys {
			var val []string
			switch v.typ {
			case "string":
				val = []string{v.str}
			case "list":
				val = v.lst
			case "hash":
				for f, x := range v.hsh {
					val = append(val, f+"\x00="+x)
				}
				sort.Strings(val)
			}
			out[d][k] = keyDump{typ: v.typ, val: fmt.Sprintf("%q", val), pttl: -1}
		}
	}
	return out
}

// manifestEntry is one line of a Redis 7 AOF manifest.
type manifestEntry struct {
	name string
	seq  int
	typ  string // "b", "h" or "i"
}

// readManifest parses <aofdir>/appendonly.aof.manifest. Names are plain
// tokens here (the tests never use names that need quoting).
func readManifest(t testing.TB, aofDir string) []manifestEntry {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(aofDir, "appendonly.aof.manifest"))
	require.NoError(t, err)
	var out []manifestEntry
	for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Fields(l)
		require.GreaterOrEqual(t, len(f), 6, "manifest line %q", l)
		e := manifestEntry{}
		for i := 0; i+1 < len(f); i += 2 {
			switch strings.ToLower(f[i]) {
			case "file":
				e.name = f[i+1]
			case "seq":
				e.seq, err = strconv.Atoi(f[i+1])
				require.NoError(t, err, "manifest line %q", l)
			case "type":
				e.typ = f[i+1]
			}
		}
		out = append(out, e)
	}
	return out
}

// copyDir copies the regular files of src (one level of sub-directories,
// enough for <dir>/appendonlydir) into dst, leaving out server.log.
func copyDir(t testing.TB, src, dst string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dst, 0o755))
	ents, err := os.ReadDir(src)
	require.NoError(t, err)
	for _, e := range ents {
		from, to := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		switch {
		case e.IsDir():
			copyDir(t, from, to)
		case e.Name() == "server.log":
		default:
			b, err := os.ReadFile(from)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(to, b, 0o644))
		}
	}
}

// dirNames lists a directory's entries, sorted.
func dirNames(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	out := make([]string, len(ents))
	for i, e := range ents {
		out[i] = e.Name()
	}
	slices.Sort(out)
	return out
}

// waitRewrite waits until a BGREWRITEAOF finished (INFO persistence says
// no rewrite is in progress or scheduled, and the manifest names base
// seq wantBase), then requires aof_last_bgrewrite_status:ok. Redis 7.0
// reports aof_rewrite_scheduled too (a rewrite deferred behind a BGSAVE).
func waitRewrite(t testing.TB, c *rclient, aofDir string, wantBase int) map[string]string {
	t.Helper()
	var info map[string]string
	waitFor(t, fmt.Sprintf("the AOF rewrite to finish (base seq %d)", wantBase), func() bool {
		info = infoFields(t, c, "persistence")
		if info["aof_rewrite_in_progress"] != "0" || info["aof_rewrite_scheduled"] == "1" {
			return false
		}
		for _, e := range readManifest(t, aofDir) {
			if e.typ == "b" && e.seq == wantBase {
				return true
			}
		}
		return false
	})
	require.Equal(t, "ok", info["aof_last_bgrewrite_status"], "INFO persistence after the rewrite: %v", info)
	return info
}
