package integration

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/resp/resptest"
)

// Server commands: TIME, DBSIZE, COMMAND COUNT/GETKEYS/LIST (the parts
// command_test.go does not cover), CONFIG GET/SET/RESETSTAT/HELP.

func TestDiffServer(t *testing.T) {
	runCases(t, serverCases())
}

func serverCases() []diffCase {
	gk := func(args ...string) step { return do(append([]string{"COMMAND", "GETKEYS"}, args...)...) }
	return []diffCase{
		// The time differs between any two calls: only the reply's shape
		// (two bulk strings) is comparable.
		{name: "time/shape", steps: []step{shape("TIME"), shape("time"), do("TIME", "x")}},
		{name: "dbsize/databases", steps: []step{
			do("DBSIZE"), do("MSET", "a", "1", "b", "2"), do("SELECT", "9"), do("DBSIZE"), do("SET", "c", "3", "EX", "100"),
			do("DBSIZE"), do("SELECT", "0"), do("DBSIZE"), do("FLUSHDB"), do("DBSIZE"), do("SELECT", "9"), do("DBSIZE"),
			do("DBSIZE", "x"), do("dbsize")}},
		// The number of commands differs by design (Celerity implements a
		// subset; command_test.go checks it against COMMAND): the type.
		{name: "command/count", steps: []step{shape("COMMAND", "COUNT"), shape("command", "count"), do("COMMAND", "COUNT", "x", "y")}},
		{name: "getkeys/server-commands", steps: []step{
			gk("PING"), gk("PING", "x"), gk("ECHO", "x"), gk("SELECT", "1"), gk("AUTH", "x"), gk("HELLO", "3"), gk("INFO", "server"),
			gk("TIME"), gk("DBSIZE", "x"), gk("QUIT"), gk("RESET")}},
		{name: "getkeys/containers", steps: []step{
			gk("CONFIG", "GET", "x"), gk("CONFIG", "SET", "a", "b"), gk("CLIENT", "LIST"), gk("CLIENT", "KILL", "x"),
			gk("CLIENT", "FOO", "x"), gk("CONFIG", "FOO"), gk("COMMAND", "INFO", "get"), gk("COMMAND", "GETKEYS", "get", "k"),
			gk("client", "setname", "x"), gk("CLIENT")}},
		{name: "getkeys/mixed-case-and-arity", steps: []step{
			gk("gEt", "k"), gk("SET", "k"), gk("SET", "k", "v", "GET"), gk("GETEX", "k", "PERSIST"), gk("MGET", "a", "b", "a"),
			gk("DEL", "a", "b", "a"), gk("TOUCH", "a"), gk("INCRBY", "k"), gk("nosuch", "k")}},
		{name: "config/help", steps: []step{do("CONFIG", "HELP"), do("config", "help"), do("CONFIG", "HELP", "x")}},
		{name: "config/unknown-subcommand", steps: []step{
			do("CONFIG"), do("CONFIG", "FOO"), do("CONFIG", "foo", "bar"), do("CONFIG", ""), do("CONFIG", "GETX", "hz")}},
		{name: "config/arity", steps: []step{
			do("CONFIG", "GET"), do("CONFIG", "SET"), do("CONFIG", "SET", "hz"), do("CONFIG", "SET", "hz", "1", "timeout"),
			do("CONFIG", "SET", "a", "b", "c", "d", "e"), do("CONFIG", "RESETSTAT", "x"), do("config", "set", "hz")}},
		{name: "config/resetstat", steps: []step{do("CONFIG", "RESETSTAT"), do("config", "resetstat")}},
		{name: "config/get-unknown", steps: []step{
			do("CONFIG", "GET", "nosuch"), do("CONFIG", "GET", ""), do("CONFIG", "GET", "nosuch*"), do("CONFIG", "GET", "x", "y"),
			do("CONFIG", "GET", "[")}},
		{name: "config/get-single", steps: []step{
			do("CONFIG", "GET", "hz"), do("CONFIG", "GET", "HZ"), do("CONFIG", "GET", "Timeout"), do("CONFIG", "GET", "maxclients"),
			do("CONFIG", "GET", "databases"), do("CONFIG", "GET", "tcp-keepalive"), do("CONFIG", "GET", "proto-max-bulk-len"),
			do("CONFIG", "GET", "client-query-buffer-limit"), do("CONFIG", "GET", "loglevel"), do("CONFIG", "GET", "requirepass"),
			do("CONFIG", "GET", "save"), do("CONFIG", "GET", "appendonly"), do("CONFIG", "GET", "daemonize"),
			do("CONFIG", "GET", "list-max-listpack-size"), do("CONFIG", "GET", "list-max-ziplist-size"),
			do("CONFIG", "GET", "hash-max-ziplist-entries"), do("CONFIG", "GET", "HASH-MAX-LISTPACK-VALUE"),
			do("CONFIG", "GET", "set-max-intset-entries"), do("CONFIG", "GET", "zset-max-listpack-entries"),
			do("CONFIG", "GET", "zset-max-ziplist-value"), do("CONFIG", "GET", "bind")}},
		{name: "config/get-duplicates", steps: []step{
			do("CONFIG", "GET", "hz", "hz"), do("CONFIG", "GET", "hz", "HZ"), do("CONFIG", "GET", "HZ", "hz"), do("CONFIG", "GET", "Hz", "h?"),
			do("CONFIG", "GET", "h?", "HZ"), do("CONFIG", "GET", "H?"), do("CONFIG", "GET", "[h]z")}},
	}
}

// configParamNames returns the directives Celerity implements, from
// CONFIG GET * (lower case).
func configParamNames(t *testing.T, celAddr string) map[string]bool {
	t.Helper()
	r, err := parseReply(resptest.Dial(t, celAddr).DoRaw("CONFIG", "GET", "*"))
	require.NoError(t, err)
	require.True(t, r.isAggregate(), "CONFIG GET *: %q", r.Raw)
	names := map[string]bool{}
	for _, kv := range r.mapPairs() {
		names[strings.ToLower(kv[0].Str)] = true
	}
	return names
}

// envParams are the directives whose values depend on how each server was
// started (its port, working directory, log file), not on the commands of
// a case: only their presence and type are compared.
var envParams = map[string]bool{"port": true, "dir": true, "logfile": true}

// celerityParams are Celerity's own directives, which Redis does not have:
// CONFIG GET * lists them (a deliberate, documented addition), so they are
// left out of the comparison.
var celerityParams = map[string]bool{"broker-protected-prefixes": true}

// cmpConfig compares CONFIG GET replies as sets of name/value pairs: Redis
// answers in the order of its hash table of parameters, not in any order
// Celerity could reproduce. A glob also matches parameters Celerity does
// not implement, so the oracle's pairs are restricted to impl's names.
// Errors and reply types are compared exactly.
func cmpConfig(impl map[string]bool) comparator {
	return func(g, w *reply) string {
		if g.Kind != w.Kind {
			return fmt.Sprintf("type %q, oracle %q", g.Kind, w.Kind)
		}
		if !w.isAggregate() {
			if bytes.Equal(g.Raw, w.Raw) {
				return ""
			}
			return "bytes differ"
		}
		pairs := func(r *reply, restrict bool) []string {
			var out []string
			for _, kv := range r.mapPairs() {
				name := strings.ToLower(kv[0].Str)
				if restrict && !impl[name] || celerityParams[name] {
					continue
				}
				v := string(kv[1].Raw)
				if envParams[name] {
					v = string(kv[1].Kind)
				}
				out = append(out, string(kv[0].Raw)+" = "+v)
			}
			slices.Sort(out)
			return out
		}
		gp, wp := pairs(g, false), pairs(w, true)
		if !slices.Equal(gp, wp) {
			return fmt.Sprintf("pairs differ (oracle restricted to implemented parameters)\n    celerity: %q\n    oracle:   %q", gp, wp)
		}
		return ""
	}
}

// configDefaults restores every directive the CONFIG SET cases change
// (the oracle is shared by the whole package).
var configDefaults = [][]string{
	{"CONFIG", "SET", "hz", "10"}, {"CONFIG", "SET", "timeout", "0"}, {"CONFIG", "SET", "tcp-keepalive", "300"},
	{"CONFIG", "SET", "maxclients", "10000"}, {"CONFIG", "SET", "proto-max-bulk-len", "536870912"},
	{"CONFIG", "SET", "client-query-buffer-limit", "1073741824"}, {"CONFIG", "SET", "loglevel", "notice"},
	{"CONFIG", "SET", "list-max-listpack-size", "-2"}, {"CONFIG", "SET", "hash-max-listpack-entries", "512"},
	{"CONFIG", "SET", "hash-max-listpack-value", "64"}, {"CONFIG", "SET", "zset-max-listpack-entries", "128"},
	{"CONFIG", "SET", "zset-max-listpack-value", "64"}, {"CONFIG", "SET", "set-max-intset-entries", "512"},
	{"CONFIG", "SET", "save", ""}, {"CONFIG", "SET", "appendonly", "no"}, {"CONFIG", "SET", "requirepass", ""},
}

func TestDiffConfig(t *testing.T) {
	tg := defaultTarget(t)
	impl := configParamNames(t, tg.cel)
	get := func(args ...string) xstep {
		return x(append([]string{"CONFIG", "GET"}, args...)...).with(cmpConfig(impl))
	}
	set := func(args ...string) xstep { return x(append([]string{"CONFIG", "SET"}, args...)...) }
	cases := []xcase{
		{name: "config/get-all", steps: []xstep{get("*"), get("*", "hz"), get("hz", "*")}},
		{name: "config/get-globs", steps: []xstep{
			get("*max-*-entries*"), get("*ziplist*"), get("*listpack*"), get("hash-max-*"), get("list-max-*"), get("*-value"),
			get("?z"), get("[ht]*"), get("*MAX*"), get("d*"), get("*port*"), get("*bulk*", "*buffer*")}},
		{name: "config/get-several", steps: []xstep{
			get("bind", "port", "nosuch", "hz"), get("timeout", "tcp-keepalive", "maxclients"), get("hz", "h*"),
			get("hash-max-ziplist-entries", "hash-max-listpack-entries"), get("save", "appendonly", "*save*"),
			get("dir", "logfile", "daemonize", "databases")}},
		{name: "config/set-int", cleanup: configDefaults, steps: []xstep{
			set("timeout", "100"), get("timeout"), set("timeout", "-1"), set("timeout", "x"), set("timeout", "1.5"), set("timeout", ""),
			set("timeout", "2147483648"), set("timeout", "2147483647"), get("timeout"), set("timeout", "0"),
			set("tcp-keepalive", "60"), get("tcp-keepalive"), set("tcp-keepalive", "-1"), set("tcp-keepalive", "x"),
			set("maxclients", "100"), get("maxclients"), set("maxclients", "0"), set("maxclients", "-1"), set("maxclients", "x"),
			set("maxclients", "4294967296"), set("maxclients", "10000"), get("maxclients")}},
		{name: "config/set-hz", cleanup: configDefaults, steps: []xstep{
			set("hz", "20"), get("hz"), set("hz", "0"), get("hz"), set("hz", "1000"), get("hz"), set("hz", "500"), get("hz"),
			set("hz", "501"), get("hz"), set("hz", "-1"), set("hz", "abc"), set("hz", "1.5"), set("hz", "99999999999"), set("HZ", "7"),
			get("hz"), set("Hz", "abc"), set("hz", "10"), get("hz")}},
		{name: "config/set-encoding-limits", cleanup: configDefaults, steps: []xstep{
			set("hash-max-listpack-entries", "100"), get("hash-max-*"), set("hash-max-ziplist-entries", "200"), get("hash-max-*"),
			set("hash-max-listpack-entries", "1k"), set("hash-max-listpack-entries", "-1"), set("hash-max-listpack-entries", "x"),
			set("hash-max-ziplist-entries", "x"), set("hash-max-listpack-value", "1k"), get("hash-max-listpack-value"),
			set("hash-max-listpack-value", "2kb"), get("hash-max-ziplist-value"), set("hash-max-listpack-value", "-1"),
			set("hash-max-listpack-value", "x"), set("hash-max-listpack-value", "1.5"), set("zset-max-listpack-entries", "7"),
			set("zset-max-ziplist-value", "9"), get("zset-*"), set("zset-max-listpack-value", "99999999999999999999"),
			set("set-max-intset-entries", "1"), set("set-max-intset-entries", "x"), set("set-max-intset-entries", "1mb"),
			get("set-max-intset-entries"), set("list-max-listpack-size", "5"), set("list-max-ziplist-size", "-3"),
			get("list-max-*"), set("list-max-listpack-size", "x"), set("list-max-listpack-size", "2147483648"),
			set("list-max-listpack-size", "-2147483649"), set("list-max-listpack-size", "-2147483648"), get("list-max-listpack-size")}},
		{name: "config/set-memory", cleanup: configDefaults, steps: []xstep{
			set("proto-max-bulk-len", "1mb"), get("proto-max-bulk-len"), set("proto-max-bulk-len", "1048575"),
			set("proto-max-bulk-len", "1000kb"), set("proto-max-bulk-len", "1k"), set("proto-max-bulk-len", "2GB"),
			get("proto-max-bulk-len"), set("proto-max-bulk-len", "1g"), get("proto-max-bulk-len"), set("proto-max-bulk-len", "1Mb"),
			get("proto-max-bulk-len"), set("proto-max-bulk-len", "abc"), set("proto-max-bulk-len", "-1"),
			set("proto-max-bulk-len", "1.5mb"), set("proto-max-bulk-len", "99999999999999999999"),
			set("proto-max-bulk-len", "9223372036854775807"), get("proto-max-bulk-len"), set("proto-max-bulk-len", "512mb"),
			get("proto-max-bulk-len"), set("client-query-buffer-limit", "1mb"), get("client-query-buffer-limit"),
			set("client-query-buffer-limit", "100"), set("client-query-buffer-limit", "x"), set("client-query-buffer-limit", "1gb"),
			get("client-query-buffer-limit")}},
		{name: "config/set-enums", cleanup: configDefaults, steps: []xstep{
			set("loglevel", "warning"), get("loglevel"), set("loglevel", "DEBUG"), get("loglevel"), set("loglevel", "foo"),
			set("loglevel", "nothing"), set("loglevel", ""), set("loglevel", "notice"), set("appendonly", "maybe"), set("appendonly", "1"),
			set("appendonly", "no"), set("appendonly", "NO"), get("appendonly"), set("save", ""), get("save"), set("save", "abc"),
			set("save", "3600"), set("save", "3600 x"), set("save", "-1 1"), set("save", "0 1"), set("save", "3600 -1"),
			set("save", "3600 1 300"), set("save", " "), set("save", "x 1"), set("save", "1 x"), get("save")}},
		{name: "config/set-refused", cleanup: configDefaults, steps: []xstep{
			set("databases", "5"), set("Databases", "16"), set("daemonize", "no"), set("daemonize", "yes"), set("logfile", ""),
			set("logfile", "/tmp/x"), set("dir", "/tmp"), set("DIR", "/nonexistent"), set("nosuch", "1"), set("NOSUCH", "1"),
			set("port", "x"), set("port", "70000"), set("port", "-1"), get("databases", "daemonize")}},
		{name: "config/set-several", cleanup: configDefaults, steps: []xstep{
			set("hz", "5", "timeout", "6"), get("hz", "timeout"), set("hz", "20", "timeout", "abc"), get("hz", "timeout"),
			set("timeout", "abc", "hz", "20"), get("hz", "timeout"), set("hz", "21", "maxclients", "0", "timeout", "7"),
			get("hz", "timeout", "maxclients"), set("hz", "5", "hz", "6"), set("hz", "5", "HZ", "6"), set("hz", "1", "hz", "x"),
			set("hash-max-ziplist-entries", "5", "hash-max-listpack-entries", "6"), get("hash-max-*-entries"),
			set("nosuch", "1", "hz", "x"), set("hz", "x", "nosuch", "1"), set("hz", "x", "databases", "1"), set("databases", "1", "hz", "x"),
			set("hz", "x", "hz", "y"), set("databases", "1", "nosuch", "2"), set("hz", "1", "databases", "1", "hz", "2"),
			set("dir", "/tmp", "databases", "1"), get("hz", "timeout"), set("loglevel", "verbose", "hz", "11"), get("loglevel", "hz")}},
		// Binding is not tried: an invalid list fails first (a valid one
		// would move the shared oracle's listener).
		{name: "config/set-bind-invalid", steps: []xstep{
			set("bind", strings.TrimSpace(strings.Repeat("127.0.0.1 ", 17))), get("bind")}},
		// A lowered proto-max-bulk-len applies to the next request at once.
		{name: "config/proto-max-bulk-len-applies", conns: 2, cleanup: configDefaults, steps: []xstep{
			set("proto-max-bulk-len", "1mb"), on(1, "ECHO", strings.Repeat("e", 1<<20)),
			rawOn(1, "*2\r\n$4\r\nECHO\r\n$1048577\r\n").closing(), set("proto-max-bulk-len", "512mb"), x("PING")}},
		{name: "config/set-requirepass", cleanup: append([][]string{{"AUTH", "a b"}}, configDefaults...), steps: []xstep{
			get("requirepass"), set("requirepass", "a b"), get("requirepass"), x("PING"), set("requirepass", ""), get("requirepass")}},
	}
	runX(t, tg, cases)
}

// TestDiffCommandListServer compares COMMAND LIST FILTERBY for the
// connection and server commands (command_test.go covers the key-space
// families), as sets restricted to what Celerity implements.
func TestDiffCommandListServer(t *testing.T) {
	needOracle(t)
	srv := resptest.NewServer(t)
	filters := [][]string{
		{"PATTERN", "client|*"}, {"PATTERN", "*|help"}, {"PATTERN", "c*"}, {"PATTERN", "*|*"}, {"PATTERN", "*i*"},
		{"PATTERN", "h?llo"}, {"ACLCAT", "connection"}, {"ACLCAT", "CONNECTION"}, {"ACLCAT", "dangerous"}, {"ACLCAT", "admin"},
		{"ACLCAT", "slow"}, {"ACLCAT", "fast"},
	}
	for _, proto := range protocols {
		p := openPair(t, srv.Addr(), proto)
		r, err := parseReply(p.cel.DoRaw("COMMAND", "LIST"))
		require.NoError(t, err)
		implemented := map[string]bool{}
		for _, e := range r.Elems {
			implemented[e.Str] = true
		}
		for _, f := range filters {
			args := append([]string{"COMMAND", "LIST", "FILTERBY"}, f...)
			got, want := p.both(args)
			suiteStats.steps[proto].Add(1)
			g, gerr := parseReply(got)
			w, werr := parseReply(want)
			require.NoError(t, gerr)
			require.NoError(t, werr)
			if !assert.Equal(t, w.Kind, g.Kind, "%s [RESP%d]: type", showArgs(args), proto) || w.Kind == '-' {
				assert.Equal(t, string(want), string(got), "%s [RESP%d]", showArgs(args), proto)
				continue
			}
			var gs, ws []string
			for _, e := range g.Elems {
				gs = append(gs, e.Str)
			}
			for _, e := range w.Elems {
				if implemented[e.Str] {
					ws = append(ws, e.Str)
				}
			}
			slices.Sort(gs)
			slices.Sort(ws)
			assert.Equal(t, ws, gs, "%s [RESP%d]: names (restricted to implemented commands)", showArgs(args), proto)
		}
		suiteStats.cases[proto].Add(1)
	}
}
