package integration

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/aof"
	"github.com/celerity/celerity/aof/rdb"
	"github.com/celerity/celerity/resp"
	"github.com/celerity/celerity/resp/resptest"
)

// Propagation is compared file to file: the same commands run on Celerity
// and on a redis-server 7.0.15 started with appendonly yes, and the
// commands each appended to its incr file must agree, one for one, in
// order: rewritten forms (SET PXAT, PEXPIREAT, RPOP for a served BRPOP,
// SREM for SPOP...), SELECTs, MULTI/EXEC wrapping. Only deadlines may
// differ, by the few milliseconds between the two runs.

// aofSide is one server writing an AOF, with two connections (the second
// one blocks).
type aofSide struct {
	name   string
	incr   func() string // path of the current incr file
	c, b   *resptest.Conn
	offset int // incr bytes already compared
}

type aofPair struct {
	tb       testing.TB
	cel, ora *aofSide
}

func TestDiffAOFPropagation(t *testing.T) {
	oraAddr, oraDir := startAOFOracle(t)
	celDir := t.TempDir()
	srv := resptest.NewServer(t, resptest.WithConfig(func(cfg *resp.Config) {
		cfg.AppendOnly = true
		cfg.Dir = celDir
		cfg.AOFUseRDBPreamble = false
		cfg.HZ = 1 // see startAOFOracle
	}))
	incrOf := func(dir string) func() string {
		return func() string {
			m, err := os.ReadFile(filepath.Join(dir, "appendonlydir", "appendonly.aof.manifest"))
			require.NoError(t, err)
			man, err := aof.ParseManifest(m)
			require.NoError(t, err)
			return filepath.Join(dir, "appendonlydir", man.Incr[len(man.Incr)-1].Name)
		}
	}
	p := &aofPair{tb: t,
		cel: &aofSide{name: "celerity", incr: incrOf(celDir), c: resptest.Dial(t, srv.Addr()), b: resptest.Dial(t, srv.Addr())},
		ora: &aofSide{name: "redis", incr: incrOf(oraDir), c: resptest.Dial(t, oraAddr), b: resptest.Dial(t, oraAddr)},
	}
	for _, tc := range aofPropCases() {
		t.Run(tc.name, func(t *testing.T) {
			p.tb = t
			tc.run(p)
			p.compare(t)
		})
	}
}

// restorePayload is DUMP's payload of the string "v" (RDB version 10).
var restorePayload = func() string {
	body := []byte("\x00\x01v\x0a\x00")
	return string(binary.LittleEndian.AppendUint64(body, rdb.Checksum(0, body)))
}()

type aofPropCase struct {
	name string
	run  func(p *aofPair)
}

func aofPropCases() []aofPropCase {
	seq := func(name string, cmds ...[]string) aofPropCase {
		return aofPropCase{name, func(p *aofPair) {
			for _, c := range cmds {
				p.do(c...)
			}
		}}
	}
	c := func(args ...string) []string { return args }
	return []aofPropCase{
		seq("strings", c("set", "a", "1"), c("SET", "b", "2", "EX", "100"), c("set", "c", "3", "PX", "100000", "GET"),
			c("set", "d", "4", "NX", "EX", "50"), c("setex", "e", "10", "v"), c("psetex", "e2", "10000", "v"),
			c("set", "e4", "v", "pxat", "99999999999999", "get"), c("set", "k", "v", "keepttl"), c("setnx", "k", "w"),
			c("incr", "n"), c("incrby", "n", "5"), c("incrbyfloat", "f", "1.5"), c("incrbyfloat", "f", "0.1"),
			c("append", "a", "x"), c("getset", "a", "y"), c("getdel", "a"), c("mset", "x", "1", "y", "2"),
			c("msetnx", "x", "1", "z", "2"), c("setrange", "y", "3", "zz"), c("del", "nothere"), c("get", "b")),
		seq("expire", c("set", "p", "v"), c("expire", "p", "100"), c("pexpire", "p", "200000", "gt"), c("pexpire", "p", "100", "gt"),
			c("expireat", "p", "99999999999"), c("pexpireat", "p", "99999999999999"), c("expire", "zz", "100"),
			c("expire", "p", "-1"), c("set", "q", "v"), c("persist", "q"), c("expire", "q", "100"), c("persist", "q"),
			c("set", "g", "v"), c("getex", "g", "ex", "100"), c("getex", "g", "persist"), c("getex", "g"),
			c("getex", "g", "exat", "1"), c("set", "h", "v"), c("getex", "h", "pxat", "99999999999999")),
		seq("lists", c("rpush", "q", "x", "y", "z"), c("lpush", "q", "w"), c("rpop", "q"), c("lpop", "q", "2"),
			c("brpop", "q", "0"), c("rpush", "q", "a", "b", "c"), c("blmove", "q", "q2", "left", "right", "0"),
			c("brpoplpush", "q", "q2", "0"), c("lmove", "q2", "q", "RIGHT", "LEFT"), c("rpoplpush", "q2", "q"),
			c("lmpop", "1", "q2", "left"), c("rpush", "q3", "1", "2", "3", "4"), c("lmpop", "2", "nx", "q3", "right", "count", "3"),
			c("blmpop", "0", "1", "q3", "left"), c("blpop", "empty", "q", "0"), c("lset", "q", "0", "m"),
			c("linsert", "q", "before", "m", "n"), c("lrem", "q", "0", "n"), c("ltrim", "q", "0", "0")),
		seq("sets-hashes-zsets", c("sadd", "s", "a", "b"), c("srem", "s", "b"), c("spop", "s"), c("sadd", "s", "x", "y"),
			c("spop", "s", "5"), c("sadd", "s", "1"), c("smove", "s", "s2", "1"),
			c("hset", "h", "f", "1", "g", "2"), c("hincrby", "h", "f", "2"), c("hincrbyfloat", "h", "g", "1.5"),
			c("hdel", "h", "f"), c("hsetnx", "h", "x", "1"),
			c("zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d"), c("zincrby", "z", "1.5", "a"), c("zpopmin", "z"),
			c("bzpopmin", "z", "0"), c("bzpopmax", "z", "0"), c("zadd", "z", "5", "e", "6", "f"), c("zmpop", "1", "z", "max", "count", "2"),
			c("zadd", "z", "7", "g"), c("bzmpop", "0", "1", "z", "min"), c("zrem", "z", "nothere"),
			c("zadd", "z", "8", "h"), c("zmpop", "1", "z", "min", "count", "10"),
			c("zadd", "z", "9", "i"), c("bzmpop", "0", "1", "z", "max", "count", "10"),
			c("rpush", "l", "1"), c("lmpop", "1", "l", "left", "count", "10"),
			c("rpush", "l", "1"), c("blmpop", "0", "1", "l", "left", "count", "10")),
		seq("restore", c("restore", "r1", "0", restorePayload), c("restore", "r2", "100000", restorePayload),
			c("restore", "r2", "100000", restorePayload, "replace"), c("restore", "r3", "99999999999999", restorePayload, "absttl"),
			c("restore", "r2", "1", restorePayload, "absttl", "replace"), c("restore", "r4", "1", restorePayload, "absttl"),
			c("restore", "r1", "0", restorePayload, "idletime", "10", "replace"), c("dump", "r1")),
		seq("databases", c("select", "3"), c("set", "w", "1"), c("select", "0"), c("set", "w", "2"),
			c("move", "w", "5"), c("select", "5"), c("rename", "w", "w2"), c("copy", "w2", "w3"), c("select", "0"),
			c("swapdb", "0", "1"), c("flushdb"), c("flushall"), c("flushall")),
		seq("transactions", c("multi"), c("set", "m1", "1"), c("get", "m1"), c("exec"),
			c("multi"), c("set", "m2", "1"), c("incr", "m2"), c("exec"), c("multi"), c("get", "m1"), c("exec"),
			c("multi"), c("select", "4"), c("set", "a", "1"), c("select", "6"), c("set", "b", "1"), c("exec"),
			c("select", "0"), c("multi"), c("expire", "m1", "100"), c("set", "x", "1", "ex", "100"), c("exec")),
		seq("scripts", c("eval", "redis.call('set','k1','v') redis.call('incr','n') return 1", "0"),
			c("eval", "redis.call('set','k2','v') return 1", "0"), c("eval", "return redis.call('get','k2')", "0"),
			c("eval", "redis.call('select', 4) redis.call('set','a','1') redis.call('select', 0) redis.call('set','b','2')", "0"),
			c("eval", "redis.call('expire','k1',100) return redis.call('incrbyfloat','fl','2.5')", "0"),
			c("eval", "redis.set_repl(redis.REPL_NONE) redis.call('set','hidden','1') redis.set_repl(redis.REPL_ALL) redis.call('set','shown','1')", "0"),
			c("eval", "return redis.call('spop','nothere')", "0")),
		{"lazy-expire", func(p *aofPair) {
			p.do("set", "t", "v", "px", "1")
			p.do("set", "t2", "v", "px", "1")
			p.do("set", "t3", "v", "px", "1")
			p.do("set", "t4", "v", "px", "1")
			time.Sleep(5 * time.Millisecond) // PX 1 must pass on both servers
			p.do("get", "t")
			p.do("append", "t2", "x")
			p.do("eval", "redis.call('get','t3') redis.call('set','z','1') return 1", "0")
			p.do("multi")
			p.do("get", "t4")
			p.do("set", "y", "1")
			p.do("exec")
		}},
		// Evicted keys are written as DEL, each a unit of its own, in the
		// order evicted (volatile-ttl with every key sampled: nearest
		// expiry first, across databases).
		seq("eviction", c("flushall"), c("set", "a", "1"), c("set", "t1", "v", "ex", "100"), c("set", "t2", "v", "ex", "50"),
			c("select", "2"), c("set", "t3", "v", "ex", "75"), c("select", "0"),
			c("config", "set", "maxmemory-policy", "volatile-ttl"), c("config", "set", "maxmemory-samples", "10"),
			c("config", "set", "maxmemory", "1"), c("get", "a"), c("config", "set", "maxmemory", "0"),
			c("config", "set", "maxmemory-policy", "noeviction"), c("config", "set", "maxmemory-samples", "5"),
			c("set", "b", "2")),
		{"served-blocked", func(p *aofPair) {
			p.block("blpop", "bq", "0")
			p.do("rpush", "bq", "a", "b", "c")
			p.unblocked()
			p.block("blmove", "bq2", "dst", "left", "left", "0")
			p.do("multi")
			p.do("rpush", "bq2", "1")
			p.do("rpush", "bq2", "2")
			p.do("exec")
			p.unblocked()
			p.block("brpoplpush", "bq3", "dst", "0")
			p.do("lpush", "bq3", "x")
			p.unblocked()
			p.block("blmpop", "0", "2", "bq4", "bq5", "right", "count", "2")
			p.do("rpush", "bq5", "1", "2", "3")
			p.unblocked()
			p.block("blmpop", "0", "1", "bq6", "left", "count", "5")
			p.do("rpush", "bq6", "1", "2")
			p.unblocked()
			p.block("bzpopmax", "bz", "0")
			p.do("zadd", "bz", "1", "a", "2", "b")
			p.unblocked()
			p.block("bzmpop", "0", "1", "bz2", "min", "count", "5")
			p.do("zadd", "bz2", "1", "a", "2", "b")
			p.unblocked()
		}},
	}
}

// do runs a command on both servers (its replies are compared elsewhere;
// here they only have to be equally successful).
func (p *aofPair) do(args ...string) {
	p.tb.Helper()
	got, want := p.cel.c.DoRaw(args...), p.ora.c.DoRaw(args...)
	if (len(got) > 0 && got[0] == '-') != (len(want) > 0 && want[0] == '-') {
		p.tb.Fatalf("%v: celerity %q, redis %q", args, got, want)
	}
}

// block sends a blocking command on each server's second connection and
// waits until both servers report it blocked.
func (p *aofPair) block(args ...string) {
	p.tb.Helper()
	for _, s := range []*aofSide{p.cel, p.ora} {
		s.b.Send(args...)
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(string(s.c.DoRaw("INFO", "clients")), "blocked_clients:1\r\n") {
			if time.Now().After(deadline) {
				p.tb.Fatalf("%s: %v never blocked", s.name, args)
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// unblocked reads the served reply of the blocked connection on each side.
func (p *aofPair) unblocked() {
	p.tb.Helper()
	for _, s := range []*aofSide{p.cel, p.ora} {
		s.b.ReadRaw()
	}
}

// compare reads what each server appended since the last comparison and
// checks the commands agree.
func (p *aofPair) compare(t *testing.T) {
	t.Helper()
	read := func(s *aofSide) [][]string {
		data, err := os.ReadFile(s.incr())
		require.NoError(t, err)
		cmds := parseAOF(t, s.name, data[s.offset:])
		s.offset = len(data)
		return cmds
	}
	got, want := read(p.cel), read(p.ora)
	n := max(len(got), len(want))
	for i := 0; i < n; i++ {
		var g, w []string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if !sameAOFCommand(g, w) {
			t.Fatalf("AOF command %d differs:\n  celerity: %q\n  redis:    %q\ncelerity wrote:\n%s\nredis wrote:\n%s",
				i, g, w, showAOF(got), showAOF(want))
		}
	}
}

// sameAOFCommand compares two commands, allowing absolute deadlines (13
// digits of Unix ms) to differ by up to a second.
func sameAOFCommand(g, w []string) bool {
	if len(g) != len(w) {
		return false
	}
	for i := range g {
		if g[i] == w[i] {
			continue
		}
		gv, err1 := strconv.ParseInt(g[i], 10, 64)
		wv, err2 := strconv.ParseInt(w[i], 10, 64)
		if err1 != nil || err2 != nil || len(g[i]) != 13 || gv-wv > 1000 || wv-gv > 1000 {
			return false
		}
	}
	return true
}

func showAOF(cmds [][]string) string {
	var b strings.Builder
	for _, c := range cmds {
		fmt.Fprintf(&b, "    %s\n", strings.Join(c, " "))
	}
	return b.String()
}

// parseAOF decodes RESP commands with the aof package's strict reader.
func parseAOF(t *testing.T, name string, data []byte) [][]string {
	t.Helper()
	r := aof.NewFileReader(bytes.NewReader(data), name, int64(len(data)))
	var out [][]string
	for r.Next() {
		var c []string
		for _, a := range r.Command().Argv {
			c = append(c, string(a))
		}
		out = append(out, c)
	}
	rep := r.Report()
	require.NoError(t, rep.Err)
	require.Nil(t, rep.Damage, "%s: damaged AOF", name)
	return out
}

// startAOFOracle starts a redis-server of its own with appendonly yes (the
// package's shared oracle runs without an AOF).
func startAOFOracle(t *testing.T) (addr, dir string) {
	needOracle(t)
	dir = t.TempDir()
	port, err := freePort()
	require.NoError(t, err)
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "yes", "--aof-use-rdb-preamble", "no", "--dir", dir,
		// The lazy-expiry case needs its keys found expired by a command,
		// not by the active cycle: at hz 1 a cycle lands in its 5 ms window
		// once in 200 runs instead of once in 20.
		"--hz", "1",
		"--logfile", filepath.Join(dir, "redis.log"))
	dieWithParent(cmd)
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	addr = "127.0.0.1:" + strconv.Itoa(port)
	require.NoError(t, waitForPing(addr, exited, 10*time.Second))
	return addr, dir
}
