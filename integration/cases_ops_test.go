package integration

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/resp"
	"github.com/celerity/celerity/resp/conffile"
	"github.com/celerity/celerity/resp/resptest"
)

// Operator commands: SLOWLOG, MONITOR, CLIENT PAUSE/REPLY/NO-EVICT,
// LASTSAVE, ROLE, DEBUG (disabled). Slow log entries and monitor lines
// embed times, ids and client ports that differ between the servers; the
// comparators below mask exactly those and compare the rest byte for byte.

// slowlogOn and slowlogDefaults switch the shared oracle's slow log to log
// everything and back.
var (
	slowlogOn       = []string{"CONFIG", "SET", "slowlog-log-slower-than", "0"}
	slowlogDefaults = [][]string{
		{"CONFIG", "SET", "slowlog-log-slower-than", "10000", "slowlog-max-len", "128"},
		{"SLOWLOG", "RESET"},
	}
)

// cmpSlowlog compares SLOWLOG GET replies: argument vectors and client
// names exactly; ids as offsets from the first entry's (the oracle's
// counter has run for the whole suite); times and durations as integers;
// peers as "?:0" (scripts) or a loopback address, alike on both.
func cmpSlowlog(g, w *reply) string {
	if why := compareShape(g, w, "reply"); why != "" {
		return why
	}
	if g.Kind != '*' {
		return "" // an error, compared by compareShape
	}
	var gid0, wid0 int64
	for i := range g.Elems {
		ge, we := g.Elems[i], w.Elems[i]
		path := fmt.Sprintf("entry %d", i)
		if len(ge.Elems) != 6 {
			return path + ": not 6 fields"
		}
		gid, _ := strconv.ParseInt(ge.Elems[0].Head, 10, 64)
		wid, _ := strconv.ParseInt(we.Elems[0].Head, 10, 64)
		if i == 0 {
			gid0, wid0 = gid, wid
		}
		if gid-gid0 != wid-wid0 {
			return fmt.Sprintf("%s: id offset %d, oracle %d", path, gid-gid0, wid-wid0)
		}
		if string(ge.Elems[3].Raw) != string(we.Elems[3].Raw) {
			return fmt.Sprintf("%s: arguments %q, oracle %q", path, ge.Elems[3].Raw, we.Elems[3].Raw)
		}
		if ge.Elems[5].Str != we.Elems[5].Str {
			return fmt.Sprintf("%s: client name %q, oracle %q", path, ge.Elems[5].Str, we.Elems[5].Str)
		}
		if peerKind(ge.Elems[4].Str) != peerKind(we.Elems[4].Str) {
			return fmt.Sprintf("%s: peer %q, oracle %q", path, ge.Elems[4].Str, we.Elems[4].Str)
		}
	}
	return ""
}

var loopbackPeer = regexp.MustCompile(`^127\.0\.0\.1:[0-9]+$`)

func peerKind(p string) string {
	if loopbackPeer.MatchString(p) {
		return "loopback"
	}
	return p
}

func TestDiffSlowlog(t *testing.T) {
	long := strings.Repeat("a", 200)
	exact := strings.Repeat("b", 128)
	many := []string{"RPUSH", "list"}
	for i := 0; i < 40; i++ {
		many = append(many, strconv.Itoa(i))
	}
	var hscan []string
	for i := 0; i < 31; i++ {
		hscan = append(hscan, "x")
	}
	runX(t, defaultTarget(t), []xcase{
		{name: "slowlog/entries", cleanup: slowlogDefaults, steps: []xstep{
			x(slowlogOn...), x("SLOWLOG", "RESET"), x("SLOWLOG", "LEN").with(shapeOnly),
			x("SET", "k", long), x("SET", exact, "v"), x(many...),
			x(append([]string{"DEL"}, hscan...)...), x(append(append([]string{"DEL"}, hscan...), "y")...),
			x("CLIENT", "SETNAME", "worker-1"), x("GET", "k\x00\r\n\"x"),
			x("SLOWLOG", "LEN"),
			x("SLOWLOG", "GET").with(cmpSlowlog),
			x("SLOWLOG", "GET", "2").with(cmpSlowlog),
			x("SLOWLOG", "GET", "-1").with(cmpSlowlog),
			x("SLOWLOG", "GET", "0"),
			x("SLOWLOG", "RESET"), x("SLOWLOG", "LEN"), x("SLOWLOG", "GET").with(cmpSlowlog),
		}},
		{name: "slowlog/redacted", cleanup: slowlogDefaults, steps: []xstep{
			x(slowlogOn...), x("SLOWLOG", "RESET"),
			x("AUTH", "secret"), x("AUTH", "default", "secret"), x("AUTH", "a", "b", "c"),
			x("HELLO", "2", "AUTH", "default", "secret").with(shapeOnly), x("HELLO", "2", "SETNAME", "n", "AUTH", "u", "p"),
			x("CONFIG", "SET", "requirepass", ""), x("CONFIG", "SET", "hz", "10", "requirepass", ""),
			x("CONFIG", "SET", "nosuch", "1", "requirepass", "x"),
			x("SLOWLOG", "GET", "-1").with(cmpSlowlog),
		}},
		{name: "slowlog/multi-script", cleanup: slowlogDefaults, steps: []xstep{
			x(slowlogOn...), x("SLOWLOG", "RESET"),
			x("MULTI"), x("SET", "x", "1"), x("GET", "x"), x("EXEC"),
			x("EVAL", "redis.call('set','a','b') return redis.call('get','a')", "0"),
			x("SLOWLOG", "GET", "-1").with(cmpSlowlog),
		}},
		{name: "slowlog/blocked", conns: 2, cleanup: slowlogDefaults, steps: []xstep{
			// The reset follows awaitBlocked's polling (CLIENT LIST ID n,
			// which differ): the blocked BLPOP is not logged yet.
			x(slowlogOn...), sendOn(1, "BLPOP", "bq", "5"), awaitBlocked(1),
			x("SLOWLOG", "RESET"), x("LPUSH", "bq", "v"), recvOn(1),
			x("BLPOP", "nokey", "0.01"),
			x("SLOWLOG", "GET", "-1").with(cmpSlowlog),
		}},
		{name: "slowlog/max-len", cleanup: slowlogDefaults, steps: []xstep{
			x(slowlogOn...), x("SLOWLOG", "RESET"), x("CONFIG", "SET", "slowlog-max-len", "3"),
			x("PING"), x("PING", "a"), x("PING", "b"), x("PING", "c"),
			x("SLOWLOG", "LEN"), x("SLOWLOG", "GET").with(cmpSlowlog),
			x("CONFIG", "SET", "slowlog-max-len", "0"), x("SLOWLOG", "LEN"),
			x("CONFIG", "SET", "slowlog-max-len", "128"),
			x("CONFIG", "SET", "slowlog-log-slower-than", "-1"), x("SLOWLOG", "RESET"), x("PING"), x("SLOWLOG", "LEN"),
		}},
		{name: "slowlog/errors", steps: []xstep{
			x("SLOWLOG"), x("SLOWLOG", "GET", "-2"), x("SLOWLOG", "GET", "abc"), x("SLOWLOG", "GET", "1.5"),
			x("SLOWLOG", "GET", "1", "2"), x("SLOWLOG", "LEN", "x"), x("SLOWLOG", "RESET", "x"),
			x("SLOWLOG", "foo"), x("SLOWLOG", "HELP"), x("slowlog", "help", "x"),
			x("CONFIG", "SET", "slowlog-log-slower-than", "-2"), x("CONFIG", "SET", "slowlog-max-len", "-1"),
			x("CONFIG", "SET", "slowlog-max-len", "1k"),
			x("CONFIG", "GET", "slowlog-max-len"), x("CONFIG", "GET", "slowlog-log-slower-than"),
		}},
	})
}

// monitorLine matches a MONITOR line: the time and the client's port
// differ between the servers, so cmpMonitor replaces both.
var monitorLine = regexp.MustCompile(`^[0-9]+\.[0-9]{6} \[([0-9]+) (127\.0\.0\.1:[0-9]+|lua)\] `)

// cmpMonitor compares one MONITOR line with the time and port masked.
func cmpMonitor(g, w *reply) string {
	norm := func(r *reply) (string, bool) {
		if r.Kind != '+' {
			return string(r.Raw), true
		}
		m := monitorLine.FindStringSubmatch(r.Head)
		if m == nil {
			return "", false
		}
		who := "client"
		if m[2] == "lua" {
			who = "lua"
		}
		return "[" + m[1] + " " + who + "] " + r.Head[len(m[0]):], true
	}
	gs, ok := norm(g)
	if !ok {
		return fmt.Sprintf("celerity line %q is not a monitor line", g.Head)
	}
	ws, ok := norm(w)
	if !ok {
		return fmt.Sprintf("oracle line %q is not a monitor line", w.Head)
	}
	if gs != ws {
		return fmt.Sprintf("line %q, oracle %q", gs, ws)
	}
	return ""
}

// mon reads the next line connection 1 (the monitor) received.
func mon() xstep { return recvOn(1).with(cmpMonitor) }

func TestDiffMonitor(t *testing.T) {
	runX(t, defaultTarget(t), []xcase{
		{name: "monitor/lines", conns: 2, steps: []xstep{
			on(1, "MONITOR"),
			x("SET", "a b", "x\"y\nz"), mon(),
			x("SET", "k", "\x01\xff\t\\\r\a\b~ "), mon(),
			x("SELECT", "3"), mon(), x("INCR", "n"), mon(), x("SELECT", "0"), mon(),
			x("CONFIG", "GET", "hz").with(shapeOnly), x("CLIENT", "LIST").with(shapeOnly), x("SLOWLOG", "LEN").with(shapeOnly),
			x("CLIENT", "INFO").with(shapeOnly), mon(),
			x("AUTH", "pw"), mon(), x("AUTH", "u", "pw"), mon(),
			x("HELLO", "2", "AUTH", "u", "pw"), mon(), x("HELLO", "2", "SETNAME", "nm").with(shapeOnly), mon(),
			x("EVAL", "redis.call('set','a','b') return 1", "0"), mon(), mon(),
			x("EVALSHA", "abc", "0"), mon(),
			x("MULTI"), x("SET", "x", "1"), x("GET", "x"), x("EXEC"), mon(), mon(), mon(), mon(),
			x("DEBUG", "SLEEP", "0"), x("PING"), mon(),
			x("LPUSH", "q", "1", "2"), mon(),
			x("BLPOP", "nokey", "0.01"), mon(),
		}},
		{name: "monitor/client-state", conns: 2, steps: []xstep{
			on(1, "MONITOR"),
			on(1, "PING"), mon(),
			on(1, "CLIENT", "INFO").with(cmpClients), mon(),
			on(1, "GET", "x"), on(1, "SET", "x", "1"), on(1, "EVAL", "return 1", "0"),
			on(1, "ECHO", "e"), mon(),
			on(1, "MULTI"), mon(), on(1, "PING"), on(1, "EXEC"), mon(), mon(),
			sendOn(1, "CLIENT", "REPLY", "OFF"), x("ECHO", "silenced"), on(1, "CLIENT", "REPLY", "ON"), mon(),
			x("ECHO", "shown"), mon(),
			on(1, "RESET"), on(1, "PING"), x("PING"),
			on(1, "MONITOR"), on(1, "QUIT").closing(),
		}},
		{name: "monitor/in-multi", steps: []xstep{
			x("MULTI"), x("MONITOR"), x("EXEC"), x("PING"),
		}},
		{name: "monitor/twice", steps: []xstep{
			x("MONITOR"), sendOn(0, "MONITOR"), x("ECHO", "a"), recvOn(0).with(cmpMonitor), x("PING"), recvOn(0).with(cmpMonitor),
		}},
	})
}

// unpause ends a pause a failed case left on the shared oracle.
var unpause = [][]string{{"CLIENT", "UNPAUSE"}}

func TestDiffClientPauseReply(t *testing.T) {
	runX(t, defaultTarget(t), []xcase{
		{name: "client-pause/errors", steps: []xstep{
			x("CLIENT", "PAUSE"), x("CLIENT", "PAUSE", "abc"), x("CLIENT", "PAUSE", "-1"), x("CLIENT", "PAUSE", "10", "foo"),
			x("CLIENT", "PAUSE", "abc", "foo"), x("CLIENT", "PAUSE", "10", "write", "x"), x("CLIENT", "PAUSE", "1.5"),
			x("CLIENT", "PAUSE", "0"), x("CLIENT", "PAUSE", "0", "WRITE"), x("CLIENT", "UNPAUSE", "x"), x("CLIENT", "UNPAUSE"),
		}},
		{name: "client-pause/write", conns: 2, cleanup: unpause, steps: []xstep{
			x("CLIENT", "PAUSE", "100000", "WRITE"),
			on(1, "GET", "k"), on(1, "PING"), sendOn(1, "SET", "k", "v"), awaitBlocked(1),
			x("GET", "k"), x("CLIENT", "LIST", "ID", "{id1}").with(cmpClients),
			x("CLIENT", "UNPAUSE"), recvOn(1), x("GET", "k"), x("CLIENT", "LIST", "ID", "{id1}").with(cmpClients),
		}},
		{name: "client-pause/all", conns: 2, cleanup: unpause, steps: []xstep{
			x("SET", "k", "1"), x("CLIENT", "PAUSE", "300", "ALL"),
			sendOn(1, "GET", "k"), sendOn(1, "PING"), recvOn(1), recvOn(1),
		}},
		{name: "client-reply", steps: []xstep{
			x("CLIENT", "REPLY"), x("CLIENT", "REPLY", "foo"), x("CLIENT", "REPLY", "ON"), x("CLIENT", "REPLY", "ON", "x"),
			sendOn(0, "CLIENT", "REPLY", "SKIP"), sendOn(0, "SET", "a", "1"), x("GET", "a"),
			sendOn(0, "CLIENT", "REPLY", "OFF"), sendOn(0, "SET", "b", "2"), sendOn(0, "CLIENT", "REPLY", "SKIP"),
			x("CLIENT", "REPLY", "ON"), x("MGET", "a", "b"),
		}},
		{name: "client-no-evict", steps: []xstep{
			x("CLIENT", "NO-EVICT"), x("CLIENT", "NO-EVICT", "maybe"), x("CLIENT", "NO-EVICT", "on"),
			x("CLIENT", "NO-EVICT", "OFF"), x("CLIENT", "NO-EVICT", "on", "x"),
		}},
	})
}

func TestDiffAdminMisc(t *testing.T) {
	runX(t, defaultTarget(t), []xcase{
		{name: "role-lastsave-debug", steps: []xstep{
			x("ROLE"), x("ROLE", "x"), x("LASTSAVE").with(shapeOnly), x("LASTSAVE", "x"),
			x("DEBUG"), x("DEBUG", "SLEEP", "0"), x("debug", "help"),
			x("MULTI"), x("DEBUG", "SLEEP", "0"), x("EXEC"),
			x("CONFIG", "GET", "enable-debug-command"), x("CONFIG", "SET", "enable-debug-command", "yes"),
		}},
	})
}

// TestDiffProtectedConfigs checks enable-protected-configs: by default
// CONFIG SET refuses dir and dbfilename; with yes or local (from loopback)
// it lets them change, with Redis's validation.
func TestDiffProtectedConfigs(t *testing.T) {
	runX(t, defaultTarget(t), []xcase{
		{name: "protected-configs/default", steps: []xstep{
			x("CONFIG", "GET", "enable-protected-configs"), x("CONFIG", "GET", "dbfilename"),
			x("CONFIG", "SET", "dbfilename", "x.rdb"), x("CONFIG", "SET", "dir", "/tmp"),
			x("CONFIG", "SET", "enable-protected-configs", "yes"),
			x("CONFIG", "SET", "hz", "10", "dbfilename", "x.rdb"),
		}},
	})
	for _, level := range []string{"yes", "local"} {
		needOracle(t)
		ora := startRedis(t, "--enable-protected-configs", level)
		srv := resptest.NewServer(t, resptest.WithConfig(func(cfg *resp.Config) {
			require.NoError(t, cfg.Apply(conffile.Directive{Name: "enable-protected-configs", Args: []string{level}}))
		}))
		runX(t, target{cel: srv.Addr(), ora: ora}, []xcase{
			{name: "protected-configs/" + level, steps: []xstep{
				x("CONFIG", "GET", "enable-protected-configs"),
				x("CONFIG", "SET", "dbfilename", "a/b.rdb"), x("CONFIG", "SET", "dbfilename", "x.rdb"),
				x("CONFIG", "GET", "dbfilename"), x("CONFIG", "SET", "dbfilename", ""), x("CONFIG", "GET", "dbfilename"),
				x("CONFIG", "SET", "dbfilename", "dump.rdb"),
			}},
		})
	}
}

// debugTarget is a Celerity and a redis-server started with
// enable-debug-command yes (an immutable directive, so the shared oracle
// cannot be switched).
func debugTarget(t *testing.T) target {
	t.Helper()
	needOracle(t)
	ora := startRedis(t, "--enable-debug-command", "yes")
	srv := resptest.NewServer(t, resptest.WithConfig(func(cfg *resp.Config) {
		require.NoError(t, cfg.Apply(conffile.Directive{Name: "enable-debug-command", Args: []string{"yes"}}))
	}))
	return target{cel: srv.Addr(), ora: ora}
}

// TestDiffSlowlogDefaultThreshold checks the default threshold (10 ms),
// where Celerity times only non-fast commands on their own: a command that
// really ran long (DEBUG SLEEP) is logged, quick ones around it are not.
func TestDiffSlowlogDefaultThreshold(t *testing.T) {
	runX(t, debugTarget(t), []xcase{
		{name: "slowlog/default-threshold", steps: []xstep{
			x("SLOWLOG", "RESET"), x("PING"), x("SET", "k", "v"), x("DEBUG", "SLEEP", "0.03"), x("GET", "k"),
			x("RPUSH", "l", "a", "b"), x("LRANGE", "l", "0", "-1"),
			x("SLOWLOG", "GET").with(cmpSlowlog), x("SLOWLOG", "LEN"),
		}},
		{name: "debug/enabled", steps: []xstep{
			x("DEBUG", "foo"), x("DEBUG", "sleep"), x("DEBUG", "sleep", "abc"), x("DEBUG", "sleep", "0.01", "x"),
			x("DEBUG", "SLEEP", "0.001"), x("DEBUG", "SLEEP", "-1"), x("CONFIG", "GET", "enable-debug-command"),
		}},
	})
}

// TestDiffSeedRenames runs the seed deployments' hardening lines
// (rename-command FLUSHALL/FLUSHDB/DEBUG "") on both servers: the renamed
// commands are unknown, with Redis's exact error.
func TestDiffSeedRenames(t *testing.T) {
	needOracle(t)
	renames := []string{"FLUSHALL", "FLUSHDB", "DEBUG"}
	var args []string
	for _, name := range renames {
		args = append(args, "--rename-command", name, "")
	}
	// With a password (the seeds have one), which also keeps the runner
	// from starting each case with FLUSHALL.
	ora := startRedis(t, append(args, "--requirepass", testPassword)...)
	srv := resptest.NewServer(t, resptest.WithConfig(func(cfg *resp.Config) {
		require.NoError(t, cfg.Apply(conffile.Directive{Name: "requirepass", Args: []string{testPassword}}))
		for _, name := range renames {
			require.NoError(t, cfg.Apply(conffile.Directive{Name: "rename-command", Args: []string{name, ""}}))
		}
	}))
	runX(t, target{cel: srv.Addr(), ora: ora, password: testPassword}, []xcase{
		{name: "seed-renames", steps: []xstep{
			x("PING"), login(0), x("FLUSHALL"), x("flushdb", "async"), x("DEBUG", "SLEEP", "0"), x("SET", "k", "v"), x("DEL", "k"), x("PING"),
		}},
	})
}
