package integration

import (
	"testing"
	"time"
)

func TestDiffKeys(t *testing.T) { runCases(t, keyCases()) }

// keyCases cover DEL, UNLINK, EXISTS, TYPE, TOUCH, KEYS, SCAN, RANDOMKEY,
// RENAME, RENAMENX, COPY, MOVE, SWAPDB, DBSIZE, FLUSHDB and FLUSHALL.
func keyCases() []diffCase {
	cases := []diffCase{
		{name: "del/basic", steps: []step{do("MSET", "a", "1", "b", "2"), do("DEL", "a", "b", "c"), do("DEL", "a"), do("EXISTS", "a", "b")}},
		{name: "del/duplicate-keys", steps: []step{do("SET", "a", "1"), do("DEL", "a", "a"), do("SET", "a", "1"), do("UNLINK", "a", "a", "x")}},
		{name: "del/arity", steps: []step{do("DEL"), do("UNLINK")}},
		{name: "unlink/basic", steps: []step{do("MSET", "a", "1", "b", "2"), do("UNLINK", "a", "b", "c"), do("DBSIZE")}},
		{name: "exists/basic", steps: []step{do("SET", "a", "1"), do("EXISTS", "a"), do("EXISTS", "a", "a", "b"), do("EXISTS", "b"), do("EXISTS")}},
		{name: "type/basic", steps: []step{do("TYPE", "k"), do("SET", "k", "1"), do("TYPE", "k"), do("SET", "k", "v"), do("TYPE", "k"), do("TYPE"), do("TYPE", "a", "b")}},
		{name: "touch/basic", steps: []step{do("MSET", "a", "1", "b", "2"), do("TOUCH", "a", "b", "c", "a"), do("TOUCH", "z"), do("TOUCH")}},
		{name: "dbsize/basic", steps: []step{do("DBSIZE"), do("MSET", "a", "1", "b", "2"), do("DBSIZE"), do("DEL", "a"), do("DBSIZE"), do("DBSIZE", "x")}},

		{name: "randomkey/empty", steps: []step{do("RANDOMKEY"), do("RANDOMKEY", "x")}},
		{name: "randomkey/one", steps: []step{do("SET", "only", "1"), do("RANDOMKEY"), do("RANDOMKEY")}},
		// With several keys the choice is random on both sides: only the
		// reply's type is comparable.
		{name: "randomkey/many", steps: []step{do("MSET", "a", "1", "b", "2", "c", "3"), shape("RANDOMKEY")}},
		{name: "randomkey/after-expiry", steps: []step{do("SET", "a", "1", "PX", "1"), waitExpired("a"), do("RANDOMKEY"), do("DBSIZE")}},

		{name: "rename/basic", steps: []step{do("SET", "a", "1"), do("RENAME", "a", "b"), do("MGET", "a", "b"), do("EXISTS", "a")}},
		{name: "rename/missing", steps: []step{do("RENAME", "a", "b"), do("RENAME", "a", "a"), do("RENAMENX", "a", "b"), do("RENAMENX", "a", "a")}},
		{name: "rename/same-key", steps: []step{do("SET", "a", "1", "EX", "100"), do("RENAME", "a", "a"), do("GET", "a"), ttl("TTL", "a"), do("RENAMENX", "a", "a"), do("GET", "a")}},
		{name: "rename/overwrite", steps: []step{do("SET", "a", "1"), do("SET", "b", "2", "EX", "100"), do("RENAME", "a", "b"), do("GET", "b"), do("TTL", "b"), do("EXISTS", "a")}},
		{name: "rename/keeps-ttl", steps: []step{do("SET", "a", "1", "EX", "100"), do("RENAME", "a", "b"), ttl("TTL", "b"), do("OBJECT", "ENCODING", "b")}},
		{name: "rename/arity", steps: []step{do("RENAME", "a"), do("RENAME", "a", "b", "c"), do("RENAMENX", "a"), do("RENAMENX")}},
		{name: "renamenx/basic", steps: []step{
			do("SET", "a", "1"), do("SET", "b", "2"), do("RENAMENX", "a", "b"), do("MGET", "a", "b"),
			do("RENAMENX", "a", "c"), do("MGET", "a", "c")}},
		{name: "renamenx/keeps-ttl", steps: []step{do("SET", "a", "1", "PX", "100000"), do("RENAMENX", "a", "b"), pttl("PTTL", "b")}},

		{name: "copy/basic", steps: []step{do("SET", "a", "1"), do("COPY", "a", "b"), do("MGET", "a", "b"), do("COPY", "a", "b"), do("COPY", "z", "y"), do("EXISTS", "y")}},
		{name: "copy/replace", steps: []step{
			do("SET", "a", "1"), do("SET", "b", "2", "EX", "100"), do("COPY", "a", "b", "REPLACE"), do("GET", "b"), do("TTL", "b"),
			do("COPY", "a", "b", "replace", "REPLACE")}},
		{name: "copy/keeps-ttl", steps: []step{do("SET", "a", "v", "EX", "100"), do("COPY", "a", "b"), ttl("TTL", "b"), do("SET", "c", "v", "PXAT", futureMs), do("COPY", "c", "d"), do("PEXPIRETIME", "d")}},
		{name: "copy/same-key", steps: []step{do("SET", "a", "1"), do("COPY", "a", "a"), do("COPY", "a", "a", "REPLACE"), do("COPY", "a", "a", "DB", "0"), do("COPY", "z", "z")}},
		{name: "copy/db", steps: []step{
			do("SET", "a", "1"), do("COPY", "a", "a", "DB", "1"), do("COPY", "a", "b", "DB", "2"), do("SELECT", "1"), do("GET", "a"),
			do("SELECT", "2"), do("GET", "b"), do("SELECT", "0"), do("COPY", "a", "a", "DB", "1"), do("COPY", "a", "a", "DB", "1", "REPLACE"),
			do("COPY", "a", "a", "db", "15")}},
		{name: "copy/db-errors", steps: []step{
			do("SET", "a", "1"), do("COPY", "a", "b", "DB", "16"), do("COPY", "a", "b", "DB", "-1"), do("COPY", "a", "b", "DB", "abc"),
			do("COPY", "a", "b", "DB", "99999999999"), do("COPY", "a", "b", "DB", "2147483648"), do("COPY", "a", "b", "DB", "1.5"),
			do("COPY", "a", "b", "DB"), do("COPY", "z", "b", "DB", "16"), do("EXISTS", "b")}},
		{name: "copy/syntax", steps: []step{do("SET", "a", "1"), do("COPY", "a", "b", "FOO"), do("COPY", "a", "b", "REPLACE", "FOO"), do("COPY", "a"), do("COPY"), do("EXISTS", "b")}},
		{name: "copy/encoding", steps: []step{
			do("SET", "a", "123"), do("COPY", "a", "b"), do("OBJECT", "ENCODING", "b"), do("OBJECT", "REFCOUNT", "b"),
			do("APPEND", "a", "x"), do("COPY", "a", "c"), do("OBJECT", "ENCODING", "c"), do("SET", "d", "12345"),
			do("COPY", "d", "e"), do("OBJECT", "REFCOUNT", "e"), do("OBJECT", "ENCODING", "e")}},

		{name: "move/basic", steps: []step{
			do("SET", "a", "1", "EX", "100"), do("MOVE", "a", "1"), do("EXISTS", "a"), do("SELECT", "1"), do("GET", "a"),
			ttl("TTL", "a"), do("MOVE", "a", "0")}},
		{name: "move/errors", steps: []step{
			do("SET", "a", "1"), do("MOVE", "a", "0"), do("MOVE", "z", "0"), do("MOVE", "a", "16"), do("MOVE", "a", "-1"),
			do("MOVE", "a", "abc"), do("MOVE", "a", "1.5"), do("MOVE", "a", "9999999999"), do("MOVE", "z", "16"),
			do("MOVE", "a"), do("MOVE", "a", "1", "2"), do("GET", "a")}},
		{name: "move/missing-and-existing", steps: []step{
			do("MOVE", "z", "1"), do("SET", "a", "src"), do("SELECT", "1"), do("SET", "a", "dst"), do("SELECT", "0"),
			do("MOVE", "a", "1"), do("GET", "a"), do("SELECT", "1"), do("GET", "a")}},

		{name: "swapdb/basic", steps: []step{
			do("SET", "a", "db0"), do("SELECT", "1"), do("SET", "b", "db1"), do("SWAPDB", "0", "1"), do("GET", "a"),
			do("GET", "b"), do("DBSIZE"), do("SELECT", "0"), do("GET", "b"), do("SWAPDB", "1", "0"), do("GET", "a")}},
		{name: "swapdb/same-db", steps: []step{do("SET", "a", "1"), do("SWAPDB", "0", "0"), do("GET", "a"), do("SWAPDB", "15", "15")}},
		{name: "swapdb/errors", steps: []step{
			do("SWAPDB", "0", "16"), do("SWAPDB", "16", "0"), do("SWAPDB", "-1", "0"), do("SWAPDB", "abc", "0"), do("SWAPDB", "0", "abc"),
			do("SWAPDB", "abc", "def"), do("SWAPDB", "1.5", "0"), do("SWAPDB", "0", "9999999999"), do("SWAPDB", "0"), do("SWAPDB", "0", "1", "2")}},
		{name: "swapdb/keeps-ttl", steps: []step{do("SET", "a", "1", "EX", "100"), do("SWAPDB", "0", "3"), do("SELECT", "3"), ttl("TTL", "a")}},

		{name: "select/errors", steps: []step{
			do("SELECT", "16"), do("SELECT", "-1"), do("SELECT", "abc"), do("SELECT", "1.5"), do("SELECT", "2147483648"),
			do("SELECT", ""), do("SELECT", "15"), do("SET", "a", "1"), do("SELECT", "0"), do("EXISTS", "a")}},
		{name: "flushdb/only-current", steps: []step{
			do("SET", "a", "1"), do("SELECT", "1"), do("SET", "b", "1"), do("FLUSHDB"), do("DBSIZE"), do("SELECT", "0"), do("DBSIZE")}},
		{name: "flushdb/options", steps: []step{
			do("SET", "a", "1"), do("FLUSHDB", "ASYNC"), do("DBSIZE"), do("SET", "a", "1"), do("FLUSHDB", "sync"), do("DBSIZE"),
			do("SET", "a", "1"), do("FLUSHDB", "FOO"), do("FLUSHDB", "ASYNC", "SYNC"), do("FLUSHDB", "SYNC", "SYNC"),
			do("FLUSHDB", ""), do("FLUSHDB", "async\x00"), do("DBSIZE")}},
		{name: "flushall/options", steps: []step{
			do("SET", "a", "1"), do("SELECT", "2"), do("SET", "b", "1"), do("FLUSHALL", "ASYNC"), do("DBSIZE"), do("SELECT", "0"), do("DBSIZE"),
			do("SET", "a", "1"), do("FLUSHALL", "Sync"), do("DBSIZE"), do("SET", "a", "1"), do("FLUSHALL", "FOO"),
			do("FLUSHALL", "ASYNC", "x"), do("DBSIZE")}},

		{name: "scan/empty", steps: []step{do("SCAN", "0"), do("SCAN", "1"), do("SCAN", "0", "COUNT", "100", "MATCH", "*", "TYPE", "string")}},
		{name: "scan/cursor-errors", steps: []step{
			do("SCAN", "abc"), do("SCAN", "-1x"), do("SCAN", " 0"), do("SCAN", "18446744073709551616"), do("SCAN", "1.5"),
			do("SCAN", "0x10"), do("SCAN", "\x00"), do("SCAN")}},
		{name: "scan/cursor-forms", steps: []step{
			do("MSET", "a", "1", "b", "2"), scanAll("SCAN", ""), scanAll("SCAN", "+0"), scanAll("SCAN", "-0"), scanAll("SCAN", "00")}},
		{name: "scan/option-errors", steps: []step{
			do("SET", "a", "1"), do("SCAN", "0", "COUNT", "0"), do("SCAN", "0", "COUNT", "-1"), do("SCAN", "0", "COUNT", "abc"),
			do("SCAN", "0", "COUNT"), do("SCAN", "0", "MATCH"), do("SCAN", "0", "TYPE"), do("SCAN", "0", "FOO", "bar"),
			do("SCAN", "0", "COUNT", "1.5"), do("SCAN", "0", "COUNT", "99999999999999999999"), do("SCAN", "abc", "COUNT", "0"),
			do("SCAN", "0", "MATCH", "*", "COUNT", "0")}},
	}
	return append(append(cases, scanCases()...), keysPatternCases()...)
}

// patternKeys is the keyspace the KEYS and SCAN MATCH cases match against.
var patternKeys = []string{
	"hello", "hallo", "hxllo", "hllo", "heeeello", "hEllo", "h-llo", "h]llo", "h^llo", "h\\llo",
	"*", "?", "[", "]", "\\", "a*b", "a?b", "a[b", "a\\b", "ab", "", "k\x00x", "foo:1", "foo:2", "foo:10",
	"x\xffy", "x\x80y", "\xff",
}

func msetPatternKeys() step {
	args := []string{"MSET"}
	for _, k := range patternKeys {
		args = append(args, k, "v")
	}
	return do(args...)
}

// keysPatterns exercise the glob matcher: classes, ranges (reversed,
// unterminated, signed bytes), negation, escapes and stars.
var keysPatterns = []string{
	"*", "**", "***", "h?llo", "h*llo", "h*", "*o", "*l*", "h[ae]llo", "h[^e]llo", "h[^ae]llo", "h[a-b]llo", "h[b-a]llo",
	"h[a-z]llo", "h[A-Z]llo", "\\*", "a\\*b", "a*b", "a\\?b", "\\?", "?", "??", "[", "]", "[]", "[]]", "[^]", "[^]]",
	"*[", "h[", "h[a", "h[a-", "h[a-e", "a[b", "a[[]b", "a\\[b", "\\", "h\\", "a\\\\b", "\\\\", "[\\]]", "[\\\\]",
	"[a-]", "[-a]", "[-]", "h[-]llo", "[\\-]", "foo:?", "foo:[0-9]", "foo:[0-9]*", "foo:*0", "x[\x80-\xff]y",
	"x[\xff-\x80]y", "x?y", "[\x00-\x7f]*", "\xff", "[^\xff]", "k\x00x", "k?x", "*\x00*", "", "h[^a-e]llo",
	"h[e-a]llo", "he*llo", "h*e*l*l*o", "*l*l*", "[^h]*", "h[\\e]llo", "h[e\\]llo", "[*]", "[?]", "*?*",
}

func keysPatternCases() []diffCase {
	var cases []diffCase
	for i, pat := range keysPatterns {
		cases = append(cases, diffCase{name: label("keys/pattern", i, pat), steps: []step{
			msetPatternKeys(), unordered("KEYS", pat), scanAll("SCAN", "0", "MATCH", pat, "COUNT", "3")}})
	}
	return append(cases,
		diffCase{name: "keys/arity", steps: []step{do("KEYS"), do("KEYS", "a", "b")}},
		diffCase{name: "keys/expired-hidden", steps: []step{
			do("SET", "a", "1", "PX", "1"), do("SET", "b", "1"), waitExpired("a"), unordered("KEYS", "*"), do("DBSIZE")}},
		// Logically expired but not yet reclaimed keys: KEYS, SCAN, EXISTS and
		// RANDOMKEY must all hide them. DBSIZE is compared only once EXISTS
		// has reclaimed both keys: before, it counts unreclaimed keys, and
		// active expiry may or may not have run on either server.
		diffCase{name: "keys/expired-unreclaimed", steps: []step{
			do("SET", "a", "1", "PX", "1"), do("SET", "b", "1", "PX", "1"), pause(20 * time.Millisecond),
			unordered("KEYS", "*"), scanAll("SCAN", "0"), do("RANDOMKEY"), do("EXISTS", "a", "b"), do("TTL", "a"),
			do("GET", "b"), do("DBSIZE")}},
		diffCase{name: "keys/many", steps: []step{manyKeys(200), unordered("KEYS", "*"), unordered("KEYS", "k1*"), do("DBSIZE")}},
		// A pathological pattern: Redis bounds the backtracking of
		// stringmatchlen; the reply (and the time) must stay sane.
		diffCase{name: "keys/backtracking", steps: []step{
			do("SET", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", "v"),
			unordered("KEYS", "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*c")}},
	)
}

// manyKeys sets n keys k0..k<n-1> in one MSET.
func manyKeys(n int) step {
	args := []string{"MSET"}
	for i := 0; i < n; i++ {
		args = append(args, "k"+itoa(i), itoa(i))
	}
	return do(args...)
}

// scanCases compare whole SCAN iterations (as key sets) with every option.
func scanCases() []diffCase {
	cases := []diffCase{
		{name: "scan/iterate-small", steps: []step{do("MSET", "a", "1", "b", "2", "c", "3"), scanAll("SCAN", "0")}},
		{name: "scan/iterate-many", steps: []step{
			manyKeys(300), scanAll("SCAN", "0"), scanAll("SCAN", "0", "COUNT", "1"), scanAll("SCAN", "0", "COUNT", "7"),
			scanAll("SCAN", "0", "COUNT", "1000"), scanAll("SCAN", "0", "MATCH", "k1*"), scanAll("SCAN", "0", "MATCH", "k?", "COUNT", "2"),
			scanAll("SCAN", "0", "match", "*9", "count", "50", "type", "STRING"), scanAll("SCAN", "0", "COUNT", "2147483648"),
			scanAll("SCAN", "0", "COUNT", "5", "COUNT", "10", "MATCH", "x*", "MATCH", "k2*")}},
		{name: "scan/type", steps: []step{
			manyKeys(20), scanAll("SCAN", "0", "TYPE", "string"), scanAll("SCAN", "0", "TYPE", "String"), scanAll("SCAN", "0", "TYPE", "list"),
			scanAll("SCAN", "0", "TYPE", "hash"), scanAll("SCAN", "0", "TYPE", "foo"), scanAll("SCAN", "0", "TYPE", ""),
			scanAll("SCAN", "0", "TYPE", "string\x00x"), scanAll("SCAN", "0", "TYPE", "none")}},
		{name: "scan/skips-expired", steps: []step{
			do("SET", "a", "1", "PX", "1"), do("SET", "b", "1"), do("SET", "c", "1", "EX", "100"), waitExpired("a"), scanAll("SCAN", "0"), do("DBSIZE")}},
		{name: "scan/other-db", steps: []step{do("SET", "a", "1"), do("SELECT", "5"), do("SET", "b", "1"), scanAll("SCAN", "0"), do("SELECT", "0"), scanAll("SCAN", "0")}},
	}
	return cases
}
