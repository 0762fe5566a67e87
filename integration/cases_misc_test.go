package integration

import (
	"strings"
	"testing"
)

func TestDiffMisc(t *testing.T) {
	cases := append(objectCases(), unknownCommandCases()...)
	cases = append(cases, aritySweepCases()...)
	runCases(t, append(cases, getkeysCases()...))
}

// objectCases cover OBJECT ENCODING (int/embstr/raw transitions), REFCOUNT,
// FREQ, IDLETIME and HELP.
func objectCases() []diffCase {
	enc := func(name string, setup ...step) diffCase {
		return diffCase{name: "object/encoding-" + name, steps: append(setup, do("OBJECT", "ENCODING", "k"), do("OBJECT", "REFCOUNT", "k"), do("GET", "k"))}
	}
	cases := []diffCase{
		enc("int", do("SET", "k", "123")),
		enc("int-negative", do("SET", "k", "-123")),
		enc("int-zero", do("SET", "k", "0")),
		enc("int-shared-max", do("SET", "k", "9999")),
		enc("int-unshared", do("SET", "k", "10000")),
		enc("int-max", do("SET", "k", "9223372036854775807")),
		enc("int-min", do("SET", "k", "-9223372036854775808")),
		enc("int-too-big", do("SET", "k", "9223372036854775808")),
		enc("leading-zero", do("SET", "k", "0123")),
		enc("plus-sign", do("SET", "k", "+1")),
		enc("minus-zero", do("SET", "k", "-0")),
		enc("space", do("SET", "k", " 1")),
		enc("float", do("SET", "k", "1.5")),
		enc("empty", do("SET", "k", "")),
		enc("20-digits", do("SET", "k", "12345678901234567890")),
		enc("44-bytes", do("SET", "k", strings.Repeat("a", 44))),
		enc("45-bytes", do("SET", "k", strings.Repeat("a", 45))),
		enc("44-digits", do("SET", "k", strings.Repeat("1", 44))),
		enc("append", do("SET", "k", "a"), do("APPEND", "k", "b")),
		enc("append-int", do("SET", "k", "1"), do("APPEND", "k", "2")),
		enc("append-to-44", do("SET", "k", strings.Repeat("a", 40)), do("APPEND", "k", "bbbb")),
		enc("append-new", do("APPEND", "k", "abc")),
		enc("incr-new", do("INCR", "k")),
		enc("incr-embstr", do("SET", "k", "10"), do("APPEND", "k", "0"), do("INCR", "k")),
		enc("incr-big", do("SET", "k", "100000"), do("INCR", "k")),
		enc("incrbyfloat", do("SET", "k", "1"), do("INCRBYFLOAT", "k", "1")),
		enc("incrbyfloat-frac", do("INCRBYFLOAT", "k", "1.25")),
		enc("setrange", do("SET", "k", "abc"), do("SETRANGE", "k", "1", "x")),
		enc("setrange-int", do("SET", "k", "123"), do("SETRANGE", "k", "0", "4")),
		enc("setrange-new", do("SETRANGE", "k", "2", "x")),
		enc("setex", do("SETEX", "k", "100", "42")),
		enc("psetex", do("PSETEX", "k", "100000", strings.Repeat("b", 45))),
		enc("setnx", do("SETNX", "k", "7")),
		enc("getset", do("SET", "k", "a"), do("GETSET", "k", "8")),
		enc("set-get", do("SET", "k", "a"), do("SET", "k", "99", "GET")),
		enc("set-ex", do("SET", "k", "5", "EX", "100")),
		enc("mset", do("MSET", "k", "77", "j", "x")),
		enc("msetnx", do("MSETNX", "k", "12345678", "j", "x")),
		enc("rename", do("SET", "a", "1234"), do("RENAME", "a", "k")),
		enc("move-back", do("SET", "k", "55"), do("MOVE", "k", "1"), do("SELECT", "1"), do("MOVE", "k", "0"), do("SELECT", "0")),
		enc("getex", do("SET", "k", "3"), do("GETEX", "k", "EX", "100")),
		{name: "object/missing", steps: []step{
			do("OBJECT", "ENCODING", "k"), do("OBJECT", "REFCOUNT", "k"), do("OBJECT", "IDLETIME", "k"), do("OBJECT", "FREQ", "k")}},
		{name: "object/freq-without-lfu", steps: []step{do("SET", "k", "v"), do("OBJECT", "FREQ", "k"), do("OBJECT", "freq", "k")}},
		// The idle time is seconds since the last access: timing-dependent,
		// only its type is compared (both are 0 here, but a slow machine
		// may cross a second boundary on one side only).
		{name: "object/idletime", steps: []step{do("SET", "k", "v"), shape("OBJECT", "IDLETIME", "k"), shape("object", "idletime", "k")}},
		{name: "object/help", steps: []step{do("OBJECT", "HELP"), do("object", "help"), do("OBJECT", "Help")}},
		{name: "object/arity", steps: []step{
			do("OBJECT"), do("OBJECT", "HELP", "x"), do("OBJECT", "ENCODING"), do("OBJECT", "ENCODING", "a", "b"),
			do("OBJECT", "REFCOUNT"), do("OBJECT", "FREQ"), do("OBJECT", "IDLETIME", "a", "b")}},
		// Not here: a subcommand name with a NUL byte ("ENCODING\x00").
		// Redis 7.0 hashes the whole argument but compares names with
		// strcasecmp, so whether it finds "encoding" depends on the
		// per-process hash seed (observed both ways across restarts).
		{name: "object/unknown-subcommand", steps: []step{
			do("OBJECT", "FOO"), do("OBJECT", "FOO", "k"), do("OBJECT", "foo", "a", "b", "c"), do("OBJECT", ""),
			do("OBJECT", "a\x00b"), do("OBJECT", strings.Repeat("s", 200)), do("OBJECT", "r\r\nn")}},
		{name: "object/encoding-mixed-case", steps: []step{do("SET", "k", "1"), do("object", "EnCoDiNg", "k"), do("OBJECT", "refcount", "k")}},
	}
	return cases
}

// unknownCommandCases check the unknown-command error, which quotes up to
// 128 bytes of arguments, cut at NUL bytes, and names in any case.
func unknownCommandCases() []diffCase {
	long := strings.Repeat("x", 200)
	cases := []diffCase{
		{name: "unknown/no-args", steps: []step{do("FOO"), do("foo"), do("NOSUCHCOMMAND")}},
		{name: "unknown/args", steps: []step{do("FOO", "a"), do("FOO", "a", "b", "c"), do("FOO", ""), do("FOO", "", "")}},
		{name: "unknown/long-arg", steps: []step{do("FOO", long), do("FOO", "a", long), do("FOO", strings.Repeat("y", 127), "z")}},
		{name: "unknown/many-args", steps: []step{
			do(append([]string{"FOO"}, strings.Split(strings.Repeat("abcdefghij ", 20), " ")...)...),
			do(append([]string{"FOO"}, strings.Split(strings.Repeat("a ", 100), " ")...)...)}},
		{name: "unknown/boundaries", steps: []step{
			do("FOO", strings.Repeat("a", 124)), do("FOO", strings.Repeat("a", 125)), do("FOO", strings.Repeat("a", 126)),
			do("FOO", strings.Repeat("a", 122), "b"), do("FOO", strings.Repeat("a", 123), "b"), do("FOO", strings.Repeat("a", 125), "b")}},
		{name: "unknown/long-name", steps: []step{do(long), do(long, "a"), do(strings.Repeat("n", 128)), do(strings.Repeat("n", 129))}},
		{name: "unknown/nul-bytes", steps: []step{do("FOO", "a\x00b"), do("F\x00OO", "x"), do("\x00"), do("FOO", "\x00", "c")}},
		{name: "unknown/crlf", steps: []step{do("FOO", "a\r\nb"), do("FO\nO"), do("FOO", "\r")}},
		{name: "unknown/empty-name", steps: []step{do(""), do("", "a")}},
		{name: "unknown/near-names", steps: []step{do("GETT", "k"), do("GE"), do("SET ", "k", "v"), do(" GET", "k"), do("OBJECT|ENCODING", "k"), do("object|help")}},
		{name: "case/mixed-command-names", steps: []step{
			do("SeT", "k", "1"), do("gEt", "k"), do("InCr", "k"), do("mGeT", "k"), do("DbSiZe"), do("KeYs", "*"),
			do("tYpE", "k"), do("ObJeCt", "ENCODING", "k"), do("sEtRaNgE", "k", "0", "9"), do("gEtDeL", "k")}},
	}
	return cases
}

// aritySweepNames are the commands whose argument counts are swept. The
// replies (arity errors or real results) all come from the oracle.
var aritySweepNames = []string{
	"GET", "SET", "SETNX", "SETEX", "PSETEX", "GETSET", "GETDEL", "GETEX", "MGET", "MSET", "MSETNX", "INCR", "DECR",
	"INCRBY", "DECRBY", "INCRBYFLOAT", "APPEND", "STRLEN", "GETRANGE", "SUBSTR", "SETRANGE", "DEL", "UNLINK", "EXISTS",
	"TYPE", "TOUCH", "EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT", "TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME", "PERSIST",
	"KEYS", "SCAN", "RANDOMKEY", "RENAME", "RENAMENX", "COPY", "MOVE", "SWAPDB", "DBSIZE", "FLUSHDB", "FLUSHALL", "OBJECT",
	"OBJECT|ENCODING", "OBJECT|FREQ", "OBJECT|IDLETIME", "OBJECT|REFCOUNT", "OBJECT|HELP",
}

// aritySweepCases call each command with 0 to 5 arguments (and containers'
// subcommands likewise) on a small dataset, reading the dataset back after
// each call. The arguments are chosen so no call leaves a short TTL behind
// (PEXPIRE k 100000 is 100 s), which would make the read-back racy.
func aritySweepCases() []diffCase {
	args := []string{"k", "100000", "k2", "3", "x"}
	// RANDOMKEY picks among several keys and IDLETIME is timing: shape only.
	modes := map[string]mode{"RANDOMKEY": modeShape, "OBJECT|IDLETIME": modeShape}
	var cases []diffCase
	for _, name := range aritySweepNames {
		base := strings.Split(name, "|")
		steps := []step{do("SET", "k", "5"), do("SET", "100000", "x")}
		for n := 0; n <= len(args); n++ {
			argv := append(append([]string{}, base...), args[:n]...)
			steps = append(steps, step{args: argv, mode: modes[name]},
				do("STRLEN", "k"), do("GETRANGE", "k", "0", "30"), do("MGET", "100000", "k2", "3", "x"), ttl("TTL", "k"), do("DBSIZE"))
		}
		cases = append(cases, diffCase{name: "arity/" + strings.ToLower(name), steps: steps})
	}
	return cases
}

// getkeysCases cover COMMAND GETKEYS for implemented commands, including
// its errors.
func getkeysCases() []diffCase {
	gk := func(args ...string) step { return do(append([]string{"COMMAND", "GETKEYS"}, args...)...) }
	return []diffCase{
		{name: "getkeys/single-key", steps: []step{gk("GET", "a"), gk("SET", "a", "b", "EX", "10"), gk("get", "k"), gk("INCRBYFLOAT", "k", "1")}},
		{name: "getkeys/multi-key", steps: []step{gk("MSET", "a", "1", "b", "2"), gk("MGET", "a", "b", "c"), gk("DEL", "a", "b"), gk("EXISTS", "x")}},
		{name: "getkeys/two-keys", steps: []step{gk("RENAME", "a", "b"), gk("COPY", "a", "b", "DB", "1", "REPLACE"), gk("MOVE", "a", "1")}},
		{name: "getkeys/subcommand", steps: []step{gk("OBJECT", "ENCODING", "k"), gk("object", "refcount", "k")}},
		{name: "getkeys/errors", steps: []step{
			gk("FOO"), gk("FOO", "a"), gk("GET"), gk("GET", "a", "b"), gk("MSET", "a"), gk("PING"), gk("KEYS", "*"),
			gk("SCAN", "0"), gk("DBSIZE"), gk("OBJECT", "HELP"), gk("OBJECT", "FOO", "k"), gk("OBJECT"), gk(""),
			do("COMMAND", "GETKEYS"), gk("SWAPDB", "0", "1"), gk("FLUSHALL")}},
		{name: "getkeys/odd-mset", steps: []step{gk("MSET", "a", "1", "b"), gk("MSETNX", "a", "1", "b")}},
	}
}
