package integration

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/celerity/celerity/resp/resptest"
)

func TestDiffHash(t *testing.T) {
	cases := hashCases()
	cases = append(cases, hashIncrCases()...)
	cases = append(cases, hashEncodingCases()...)
	cases = append(cases, hashRandfieldCases()...)
	cases = append(cases, aggregateAritySweep("hash", hashAritySweepNames, []string{"HSET", "k", "f", "1"})...)
	cases = append(cases, aggregateWrongTypeCases("hash", []string{"HSET", "k", "f", "v"}, hashOnStringKey)...)
	runCases(t, cases)
}

func TestDiffHashScan(t *testing.T) {
	big := hsetArgs("h", 0, 1000, 1)
	runKeyScanCases(t, []keyScanCase{
		{name: "hscan/hashtable-1000", setup: []step{do(big...)}, scans: [][]string{
			{"HSCAN", "h", "0"}, {"HSCAN", "h", "0", "COUNT", "7"}, {"HSCAN", "h", "0", "COUNT", "1000"},
			{"HSCAN", "h", "0", "MATCH", "f1*"}, {"HSCAN", "h", "0", "MATCH", "*9", "COUNT", "3"},
			{"HSCAN", "h", "0", "MATCH", "nomatch*"}, {"hscan", "h", "0", "count", "50", "match", "f?"},
		}},
		{name: "hscan/hashtable-long-values", setup: []step{do("HSET", "h", "a", strings.Repeat("v", 65), "b", "2", "c", "3")}, scans: [][]string{
			{"HSCAN", "h", "0"}, {"HSCAN", "h", "0", "COUNT", "1"}, {"HSCAN", "h", "0", "MATCH", "[ab]"},
		}},
		{name: "hscan/after-deletes", setup: []step{do(big...), do(hdelArgs("h", 0, 600)...)}, scans: [][]string{
			{"HSCAN", "h", "0", "COUNT", "13"},
		}},
	})
}

// hsetArgs returns HSET key f<from>..f<to-1> with values v<i> (repeated
// rep times, to control their length).
func hsetArgs(key string, from, to, rep int) []string {
	args := []string{"HSET", key}
	for i := from; i < to; i++ {
		args = append(args, "f"+strconv.Itoa(i), strings.Repeat("v"+strconv.Itoa(i), rep))
	}
	return args
}

func hdelArgs(key string, from, to int) []string {
	args := []string{"HDEL", key}
	for i := from; i < to; i++ {
		args = append(args, "f"+strconv.Itoa(i))
	}
	return args
}

// hashReadBack reads a listpack hash back in every way that exposes its
// order; all are compared exactly.
func hashReadBack(key string) []step {
	return []step{
		do("HGETALL", key), do("HKEYS", key), do("HVALS", key), do("HLEN", key), do("HSCAN", key, "0"),
		do("HRANDFIELD", key, "1000"), do("HRANDFIELD", key, "1000", "WITHVALUES"), do("OBJECT", "ENCODING", key),
	}
}

// hashReadBackUnordered reads a hashtable hash back: its order is Redis's
// hash-table order, so replies are compared as multisets.
func hashReadBackUnordered(key string) []step {
	return []step{
		unordered("HGETALL", key), unordered("HKEYS", key), unordered("HVALS", key), do("HLEN", key),
		unordered("HRANDFIELD", key, "100000"), unordered("HRANDFIELD", key, "100000", "WITHVALUES"),
		do("OBJECT", "ENCODING", key),
	}
}

func hashCases() []diffCase {
	cases := []diffCase{
		{name: "hset/basic", steps: append([]step{
			do("HSET", "h", "a", "1", "b", "2"), do("HSET", "h", "a", "3", "c", "4"), do("HGET", "h", "a"), do("HGET", "h", "zz"),
			do("HMGET", "h", "a", "zz", "c", "a"), do("HEXISTS", "h", "b"), do("HEXISTS", "h", "zz"), do("HSTRLEN", "h", "c"),
			do("HSTRLEN", "h", "zz"), do("TYPE", "h")}, hashReadBack("h")...)},
		{name: "hset/duplicate-fields", steps: append([]step{do("HSET", "h", "a", "1", "a", "2", "b", "3", "a", "4")}, hashReadBack("h")...)},
		{name: "hset/binary", steps: append([]step{
			do("HSET", "h", "", "empty-field", "e", "", "nul\x00f", "nul\x00v", "crlf\r\n", "x\r\ny", "\xff\xfe", "1"),
			do("HGET", "h", ""), do("HGET", "h", "nul\x00f"), do("HGET", "h", "nul"), do("HSTRLEN", "h", "e"), do("HEXISTS", "h", "e")},
			hashReadBack("h")...)},
		{name: "hset/integer-looking", steps: append([]step{
			do("HSET", "h", "1", "10", "-0", "007", "9223372036854775807", "9223372036854775808", "+1", " 1", "0", "-1")},
			hashReadBack("h")...)},
		{name: "hmset/basic", steps: append([]step{do("HMSET", "h", "a", "1", "b", "2"), do("HMSET", "h", "b", "3")}, hashReadBack("h")...)},
		{name: "hsetnx/basic", steps: append([]step{
			do("HSETNX", "h", "a", "1"), do("HSETNX", "h", "a", "2"), do("HSETNX", "h", "b", "3"), do("HGET", "h", "a")},
			hashReadBack("h")...)},
		{name: "hset/order-after-updates", steps: append([]step{
			do("HSET", "h", "c", "1", "a", "2", "b", "3"), do("HDEL", "h", "a"), do("HSET", "h", "a", "9", "d", "4"),
			do("HSET", "h", "c", "10"), do("HSETNX", "h", "e", "5"), do("HINCRBY", "h", "b", "7"), do("HINCRBYFLOAT", "h", "f", "1.5"),
			do("HDEL", "h", "d", "zz"), do("HSCAN", "h", "0", "MATCH", "[ab]*"), do("HSCAN", "h", "7", "COUNT", "1"),
			do("HSCAN", "h", "0", "MATCH", "*", "COUNT", "100")}, hashReadBack("h")...)},
		{name: "hdel/basic", steps: []step{
			do("HDEL", "h", "a"), do("HSET", "h", "a", "1", "b", "2", "c", "3"), do("HDEL", "h", "a", "a", "zz"), do("HDEL", "h", "b", "c", "b"),
			do("EXISTS", "h"), do("HLEN", "h"), do("HGETALL", "h")}},
		{name: "hdel/last-field-deletes-key", steps: []step{
			do("HSET", "h", "a", "1"), do("EXPIRE", "h", "100"), do("HDEL", "h", "a"), do("EXISTS", "h"), do("TTL", "h"),
			do("HSET", "h", "a", "1"), do("TTL", "h"), do("DBSIZE")}},
		{name: "hash/missing-key", steps: []step{
			do("HGET", "h", "f"), do("HMGET", "h", "a", "b"), do("HLEN", "h"), do("HEXISTS", "h", "f"), do("HSTRLEN", "h", "f"),
			do("HGETALL", "h"), do("HKEYS", "h"), do("HVALS", "h"), do("HRANDFIELD", "h"), do("HRANDFIELD", "h", "3"),
			do("HRANDFIELD", "h", "-3", "WITHVALUES"), do("HRANDFIELD", "h", "0"), do("HSCAN", "h", "0"), do("HSCAN", "h", "0", "COUNT", "0"),
			do("HSCAN", "h", "0", "FOO"), do("HSCAN", "h", "x"), do("HDEL", "h", "f"), do("EXISTS", "h")}},
		{name: "hash/keeps-ttl", steps: []step{
			do("HSET", "h", "a", "1"), do("EXPIRE", "h", "100"), do("HSET", "h", "b", "2"), ttl("TTL", "h"), do("HDEL", "h", "b"),
			ttl("TTL", "h"), do("HINCRBY", "h", "a", "1"), do("HINCRBYFLOAT", "h", "a", "1.5"), do("HSETNX", "h", "c", "1"), ttl("TTL", "h")}},
		{name: "hash/copy-rename-move", steps: []step{
			do("HSET", "h", "b", "1", "a", "2", "c", "3"), do("COPY", "h", "h2"), do("HSET", "h2", "d", "4"), do("HGETALL", "h"),
			do("HGETALL", "h2"), do("RENAME", "h2", "h3"), do("HGETALL", "h3"), do("OBJECT", "ENCODING", "h3"), do("MOVE", "h3", "1"),
			do("SELECT", "1"), do("HGETALL", "h3"), do("HSET", "big", "f", strings.Repeat("x", 100)), do("COPY", "big", "big2"),
			do("OBJECT", "ENCODING", "big2"), do("SELECT", "0")}},
		{name: "hash/set-overwrites", steps: []step{
			do("HSET", "h", "a", "1"), do("SET", "h", "x"), do("TYPE", "h"), do("HSET", "h", "a", "1"), do("DEL", "h"),
			do("HSET", "h", "a", "1"), do("TYPE", "h")}},
		{name: "hstrlen/values", steps: []step{
			do("HSET", "h", "a", "123", "b", "-5", "c", "", "d", "hello", "e", "9223372036854775807", "f", "1.5"),
			do("HSTRLEN", "h", "a"), do("HSTRLEN", "h", "b"), do("HSTRLEN", "h", "c"), do("HSTRLEN", "h", "d"), do("HSTRLEN", "h", "e"),
			do("HSTRLEN", "h", "f")}},
		{name: "hscan/errors", steps: []step{
			do("HSET", "h", "a", "1", "b", "2"), do("HSCAN", "h", "0", "COUNT", "0"), do("HSCAN", "h", "0", "COUNT", "-1"),
			do("HSCAN", "h", "0", "COUNT", "abc"), do("HSCAN", "h", "0", "MATCH"), do("HSCAN", "h", "0", "TYPE", "string"),
			do("HSCAN", "h", "0", "NOVALUES"), do("HSCAN", "h", "abc"), do("HSCAN", "h", "-1"), do("HSCAN", "h", " 1"),
			do("HSCAN", "h", ""), do("HSCAN", "h", "18446744073709551615"), do("HSCAN", "h", "18446744073709551616"),
			do("HSCAN", "h", "0", "COUNT", "1", "MATCH", "a*"), do("HSCAN", "h", "0", "count", "1", "match", "b"),
			do("HSCAN", "h", "0", "MATCH", "a", "MATCH", "b"), do("HSCAN", "h", "1.5")}},
		{name: "hash/large-hashtable", steps: append([]step{
			do(hsetArgs("h", 0, 1000, 1)...), do("HLEN", "h"), do("HGET", "h", "f500"), do("HMGET", "h", "f1", "f999", "f1000"),
			do("HEXISTS", "h", "f0"), do(hsetArgs("h", 500, 1500, 2)...), do(hdelArgs("h", 0, 700)...), do("HGET", "h", "f800"),
			shape("HRANDFIELD", "h"), shape("HRANDFIELD", "h", "5"), shape("HRANDFIELD", "h", "-5", "WITHVALUES"),
			shape("HRANDFIELD", "h", "700", "WITHVALUES")}, hashReadBackUnordered("h")...)},
	}
	return cases
}

// hashIncrCases cover HINCRBY and HINCRBYFLOAT: parsing of the increment
// and of the stored value, overflow, formatting and new keys.
func hashIncrCases() []diffCase {
	cases := []diffCase{
		{name: "hincrby/basic", steps: []step{
			do("HINCRBY", "h", "a", "5"), do("HINCRBY", "h", "a", "-7"), do("HINCRBY", "h", "b", "0"), do("HGETALL", "h"),
			do("OBJECT", "ENCODING", "h")}},
		{name: "hincrby/overflow", steps: []step{
			do("HSET", "h", "max", "9223372036854775807", "min", "-9223372036854775808"), do("HINCRBY", "h", "max", "1"),
			do("HINCRBY", "h", "max", "-1"), do("HINCRBY", "h", "min", "-1"), do("HINCRBY", "h", "min", "9223372036854775807"),
			do("HINCRBY", "h", "new", "-9223372036854775808"), do("HINCRBY", "h", "new", "-1"), do("HGETALL", "h")}},
		{name: "hincrby/stays-missing-on-error", steps: []step{
			do("HINCRBY", "h", "a", "x"), do("EXISTS", "h"), do("HINCRBYFLOAT", "h", "a", "x"), do("HINCRBYFLOAT", "h", "a", "inf"),
			do("EXISTS", "h")}},
		{name: "hincrbyfloat/basic", steps: []step{
			do("HINCRBYFLOAT", "h", "a", "10.5"), do("HINCRBYFLOAT", "h", "a", "0.1"), do("HINCRBYFLOAT", "h", "a", "-10.6"),
			do("HSET", "h", "i", "10"), do("HINCRBYFLOAT", "h", "i", "0.5"), do("HINCRBYFLOAT", "h", "i", "0.5"), do("HINCRBY", "h", "i", "1"),
			do("HINCRBYFLOAT", "h", "n", "-0.0"), do("HGETALL", "h")}},
		{name: "hincrbyfloat/long-result-converts", steps: []step{
			do("HSET", "h", "a", "1"), do("HINCRBYFLOAT", "h", "a", "1e70"), do("OBJECT", "ENCODING", "h"), do("HGET", "h", "a")}},
		{name: "hincrby/long-field-converts", steps: []step{
			do("HSET", "h", "a", "1"), do("HINCRBY", "h", strings.Repeat("f", 65), "1"), do("OBJECT", "ENCODING", "h"),
			do("HSET", "g", "a", "1"), do("HINCRBY", "g", strings.Repeat("f", 64), "1"), do("OBJECT", "ENCODING", "g")}},
	}
	for i, incr := range []string{
		"abc", "1.5", "", " 1", "1 ", "+1", "01", "-0", "0", "99999999999999999999", "9223372036854775808",
		"-9223372036854775809", "0x10", "1e3",
	} {
		cases = append(cases, diffCase{name: label("hincrby/increment", i, incr), steps: []step{
			do("HSET", "h", "f", "5"), do("HINCRBY", "h", "f", incr), do("HINCRBY", "h", "new", incr), do("HGETALL", "h")}})
	}
	for i, stored := range []string{
		"abc", "1.5", "", " 1", "1 ", "+1", "01", "-0", "9223372036854775808", "-9223372036854775808", "0x10", "1e3", "10",
	} {
		cases = append(cases, diffCase{name: label("hincrby/stored", i, stored), steps: []step{
			do("HSET", "h", "f", stored), do("HINCRBY", "h", "f", "1"), do("HINCRBY", "h", "f", "0"), do("HGET", "h", "f")}})
	}
	for i, incr := range []string{
		"10.5", "0.1", "-0.1", "1", "-1", "0", "-0", "+1.5", "5.0e3", "5E3", "1e-5", "1e300", "-1e300", "1e308", "1e309",
		"1e4932", "1e4933", "1e5000", "1e-5000", "inf", "-inf", "+inf", "INF", "infinity", "nan", "-nan", "NaN", "0x1p3",
		"0x10", "0x", " 1", "1 ", "", "abc", "1abc", "1e", ".5", "5.", ".", "1_000", "00012", "3.0000000000000000001", "--1",
	} {
		cases = append(cases, diffCase{name: label("hincrbyfloat/increment", i, incr), steps: []step{
			do("HSET", "h", "f", "10.5"), do("HINCRBYFLOAT", "h", "f", incr), do("HGET", "h", "f"), do("HINCRBYFLOAT", "h", "new", incr),
			do("HGET", "h", "new"), do("HLEN", "h"), do("OBJECT", "ENCODING", "h")}})
	}
	for i, stored := range []string{
		"inf", "-inf", "nan", "1e4933", "1e4932", " 1", "1 ", "0x10", "1.5", "abc", "", "-0", "1e-5000", "9223372036854775807",
		"12345678901234567890123", "3.0000000000000000001", strings.Repeat("1", 5200),
	} {
		cases = append(cases, diffCase{name: label("hincrbyfloat/stored", i, stored[:min(len(stored), 30)]), steps: []step{
			do("HSET", "h", "f", stored), do("HINCRBYFLOAT", "h", "f", "1"), do("HINCRBYFLOAT", "h", "f", "-1.5"), do("HGET", "h", "f")}})
	}
	return cases
}

// hashEncodingCases cover listpack → hashtable conversions at Redis's
// thresholds, with the default limits and with CONFIG SET ones.
func hashEncodingCases() []diffCase {
	v64, v65 := strings.Repeat("v", 64), strings.Repeat("v", 65)
	f64, f65 := strings.Repeat("f", 64), strings.Repeat("f", 65)
	restore := [][]string{
		{"CONFIG", "SET", "hash-max-listpack-entries", "512"}, {"CONFIG", "SET", "hash-max-listpack-value", "64"},
	}
	cases := []diffCase{
		{name: "hash-encoding/value-64", steps: append([]step{do("HSET", "h", "a", "1", "b", v64)}, hashReadBack("h")...)},
		{name: "hash-encoding/value-65", steps: append([]step{do("HSET", "h", "a", "1", "b", v65)}, hashReadBackUnordered("h")...)},
		{name: "hash-encoding/field-64", steps: append([]step{do("HSET", "h", f64, "1")}, hashReadBack("h")...)},
		{name: "hash-encoding/field-65", steps: append([]step{do("HSET", "h", f65, "1")}, hashReadBackUnordered("h")...)},
		{name: "hash-encoding/update-existing-long", steps: []step{
			do("HSET", "h", "a", "1"), do("HSET", "h", "a", v65), do("OBJECT", "ENCODING", "h"), do("HSET", "h", "a", "1"),
			do("OBJECT", "ENCODING", "h"), do("HDEL", "h", "a"), do("HSET", "h", "a", "1"), do("OBJECT", "ENCODING", "h")}},
		{name: "hash-encoding/hsetnx-existing-long", steps: []step{
			do("HSET", "h", "a", "1"), do("HSETNX", "h", "a", v65), do("OBJECT", "ENCODING", "h"), do("HSETNX", "h", "b", v65),
			do("OBJECT", "ENCODING", "h")}},
		{name: "hash-encoding/hmset-long", steps: []step{do("HMSET", "h", "a", "1", "b", v65), do("OBJECT", "ENCODING", "h")}},
		{name: "hash-encoding/entries-512", steps: append([]step{do(hsetArgs("h", 0, 512, 1)...)}, hashReadBack("h")...)},
		{name: "hash-encoding/entries-513", steps: append([]step{do(hsetArgs("h", 0, 513, 1)...)}, hashReadBackUnordered("h")...)},
		{name: "hash-encoding/entries-grow", steps: []step{
			do(hsetArgs("h", 0, 512, 1)...), do("OBJECT", "ENCODING", "h"), do("HSET", "h", "f0", "x"), do("OBJECT", "ENCODING", "h"),
			do("HSET", "h", "new", "x"), do("OBJECT", "ENCODING", "h"), do(hdelArgs("h", 0, 512)...), do("OBJECT", "ENCODING", "h"),
			do("HGETALL", "h")}},
		{name: "hash-encoding/config-entries", cleanup: restore, steps: append([]step{
			do("CONFIG", "SET", "hash-max-listpack-entries", "3"), do("HSET", "h", "a", "1", "b", "2", "c", "3"),
			do("OBJECT", "ENCODING", "h"), do("HSET", "g", "a", "1", "b", "2", "c", "3", "d", "4"), do("OBJECT", "ENCODING", "g"),
			do("CONFIG", "SET", "hash-max-listpack-entries", "2"), do("HGET", "h", "a"), do("OBJECT", "ENCODING", "h"),
			do("HSET", "h", "a", "9"), do("OBJECT", "ENCODING", "h"), do("CONFIG", "SET", "hash-max-listpack-entries", "0"),
			do("HSET", "z", "a", "1"), do("OBJECT", "ENCODING", "z")}, hashReadBackUnordered("h")...)},
		{name: "hash-encoding/config-value", cleanup: restore, steps: []step{
			do("CONFIG", "SET", "hash-max-listpack-value", "3"), do("HSET", "h", "abc", "123"), do("OBJECT", "ENCODING", "h"),
			do("HSET", "g", "abcd", "1"), do("OBJECT", "ENCODING", "g"), do("HSET", "i", "a", "1234"), do("OBJECT", "ENCODING", "i"),
			do("HINCRBY", "h", "abc", "1000"), do("OBJECT", "ENCODING", "h"), do("HSET", "j", "a", "1"),
			do("HINCRBYFLOAT", "j", "a", "0.5"), do("OBJECT", "ENCODING", "j"), do("HINCRBYFLOAT", "j", "a", "0.25"),
			do("OBJECT", "ENCODING", "j"), do("CONFIG", "SET", "hash-max-listpack-value", "0"), do("HSET", "z", "", ""),
			do("OBJECT", "ENCODING", "z"), do("HSET", "y", "a", ""), do("OBJECT", "ENCODING", "y")}},
	}
	return cases
}

func hashRandfieldCases() []diffCase {
	return []diffCase{
		{name: "hrandfield/one-field", steps: []step{
			do("HSET", "h", "only", "v"), do("HRANDFIELD", "h"), do("HRANDFIELD", "h", "1"), do("HRANDFIELD", "h", "-3"),
			do("HRANDFIELD", "h", "-3", "WITHVALUES"), do("HRANDFIELD", "h", "2", "withvalues"), do("HRANDFIELD", "h", "0", "WITHVALUES")}},
		{name: "hrandfield/random", steps: []step{
			do("HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4"), shape("HRANDFIELD", "h"), shape("HRANDFIELD", "h", "2"),
			shape("HRANDFIELD", "h", "3", "WITHVALUES"), shape("HRANDFIELD", "h", "-10"), shape("HRANDFIELD", "h", "-10", "WITHVALUES"),
			do("HRANDFIELD", "h", "4"), do("HRANDFIELD", "h", "5", "WITHVALUES"), do("HRANDFIELD", "h", "0")}},
		{name: "hrandfield/errors", steps: []step{
			do("HSET", "h", "a", "1"), do("HRANDFIELD", "h", "abc"), do("HRANDFIELD", "h", "1", "WITHVALUE"),
			do("HRANDFIELD", "h", "1", "WITHVALUES", "x"), do("HRANDFIELD", "h", "-9223372036854775808"),
			do("HRANDFIELD", "h", "9223372036854775807"),
			do("HRANDFIELD", "h", "9223372036854775807", "WITHVALUES"), do("HRANDFIELD", "h", "-4611686018427387904", "WITHVALUES"),
			do("HRANDFIELD", "h", "4611686018427387904", "WITHVALUES"), do("HRANDFIELD", "h", "4611686018427387903", "WITHVALUES"),
			do("HRANDFIELD", "h", "1.5"), do("HRANDFIELD", "h", ""),
			do("HRANDFIELD", "nokey", "abc"), do("HRANDFIELD", "nokey", "1", "FOO"), do("HRANDFIELD", "h", "1", "WITHVALUES\x00x")}},
	}
}

// hashAritySweepNames are swept like aritySweepCases does for strings.
var hashAritySweepNames = []string{
	"HSET", "HSETNX", "HMSET", "HGET", "HMGET", "HDEL", "HLEN", "HEXISTS", "HGETALL", "HKEYS", "HVALS", "HINCRBY",
	"HINCRBYFLOAT", "HSTRLEN", "HRANDFIELD", "HSCAN",
}

// aggregateAritySweep calls each command with 0 to 5 arguments on a small
// dataset made by create (key "k"), reading the dataset back after each
// call. Arguments are chosen so every call is deterministic.
func aggregateAritySweep(group string, names []string, create []string) []diffCase {
	args := []string{"k", "0", "k", "1", "k"}
	var cases []diffCase
	for _, name := range names {
		steps := []step{do(create...)}
		for n := 0; n <= len(args); n++ {
			argv := append([]string{name}, args[:n]...)
			steps = append(steps, do(argv...), do("TYPE", "k"), do("DBSIZE"))
			if group == "hash" {
				steps = append(steps, do("HGETALL", "k"))
			} else {
				steps = append(steps, unordered("SMEMBERS", "k"))
			}
		}
		cases = append(cases, diffCase{name: group + "-arity/" + strings.ToLower(name), steps: steps})
	}
	return cases
}

// aggregateWrongTypeCases run every hash and set command against a string
// key, and the string and generic commands of cases_wrongtype_test.go
// against a key made by create: each is followed by reads showing the key
// was left alone.
func aggregateWrongTypeCases(group string, create []string, onString [][]string) []diffCase {
	var cases []diffCase
	for i, cmd := range onString {
		steps := []step{do("SET", "k", "v"), do("EXPIRE", "k", "1000"), do(cmd...), do("GET", "k"), ttl("TTL", "k"), do("DBSIZE")}
		cases = append(cases, diffCase{name: label("wrongtype/"+group+"-cmds-on-string", i, showArgs(cmd)), steps: steps})
	}
	for i, cmd := range onTypedKey {
		steps := []step{do(create...), do("EXPIRE", "k", "1000"), do(cmd...), do("TYPE", "k"), ttl("TTL", "k"), do("DBSIZE")}
		cases = append(cases, diffCase{name: label("wrongtype/"+group, i, showArgs(cmd)), steps: steps})
	}
	return cases
}

// hashOnStringKey are the hash commands run against a string key "k".
var hashOnStringKey = [][]string{
	{"HSET", "k", "f", "v"}, {"HSETNX", "k", "f", "v"}, {"HMSET", "k", "f", "v"}, {"HGET", "k", "f"}, {"HMGET", "k", "f"},
	{"HDEL", "k", "f"}, {"HLEN", "k"}, {"HEXISTS", "k", "f"}, {"HGETALL", "k"}, {"HKEYS", "k"}, {"HVALS", "k"},
	{"HINCRBY", "k", "f", "1"}, {"HINCRBY", "k", "f", "x"}, {"HINCRBYFLOAT", "k", "f", "1"}, {"HINCRBYFLOAT", "k", "f", "x"},
	{"HSTRLEN", "k", "f"}, {"HRANDFIELD", "k"}, {"HRANDFIELD", "k", "0"}, {"HRANDFIELD", "k", "x"}, {"HRANDFIELD", "k", "1", "WITHVALUES"},
	{"HSCAN", "k", "0"}, {"HSCAN", "k", "x"}, {"HSCAN", "k", "0", "COUNT", "0"},
}

// setOnStringKey are the set commands run against a string key "k" (for
// multi-key commands, with the string in other positions too).
var setOnStringKey = [][]string{
	{"SADD", "k", "m"}, {"SREM", "k", "m"}, {"SMEMBERS", "k"}, {"SISMEMBER", "k", "m"}, {"SMISMEMBER", "k", "m"}, {"SCARD", "k"},
	{"SPOP", "k"}, {"SPOP", "k", "0"}, {"SPOP", "k", "-1"}, {"SRANDMEMBER", "k"}, {"SRANDMEMBER", "k", "0"}, {"SRANDMEMBER", "k", "x"},
	{"SMOVE", "k", "s", "m"}, {"SMOVE", "s", "k", "m"}, {"SMOVE", "nokey", "k", "m"}, {"SMOVE", "k", "k", "m"},
	{"SINTER", "k"}, {"SINTER", "nokey", "k"}, {"SINTERCARD", "1", "k"}, {"SINTERCARD", "2", "nokey", "k"},
	{"SINTERSTORE", "d", "k"}, {"SINTERSTORE", "k", "nokey"}, {"SINTERSTORE", "d", "nokey", "k"},
	{"SUNION", "k"}, {"SUNION", "nokey", "k"}, {"SUNIONSTORE", "d", "nokey", "k"}, {"SUNIONSTORE", "k", "nokey"},
	{"SDIFF", "k"}, {"SDIFF", "nokey", "k"}, {"SDIFFSTORE", "d", "nokey", "k"}, {"SDIFFSTORE", "k", "nokey"},
	{"SSCAN", "k", "0"}, {"SSCAN", "k", "x"},
}

// keyScanCase is a differential case whose HSCAN/SSCAN iterations are
// compared whole: the harness's scanAll mode replaces argv[1] (SCAN's
// cursor), while these commands take the key there and the cursor at
// argv[2]. Cursors legitimately differ; the sets of elements (with their
// values, for HSCAN) must not.
type keyScanCase struct {
	name  string
	setup []step
	scans [][]string
}

func runKeyScanCases(t *testing.T, cases []keyScanCase) {
	t.Helper()
	needOracle(t)
	srv := resptest.NewServer(t)
	for _, c := range cases {
		for _, proto := range protocols {
			t.Run(fmt.Sprintf("%s/RESP%d", c.name, proto), func(t *testing.T) {
				p := openPair(t, srv.Addr(), proto)
				for i, st := range c.setup {
					if why := p.run(st); why != "" {
						t.Fatalf("case %q setup step %d: %s", c.name, i+1, why)
					}
				}
				for _, args := range c.scans {
					got, gerr := keyScanAll(p.cel, args)
					want, werr := keyScanAll(p.ora, args)
					switch {
					case werr != nil:
						t.Errorf("%s [RESP%d]: oracle: %v", showArgs(args), proto, werr)
					case gerr != nil:
						t.Errorf("%s [RESP%d]: celerity: %v", showArgs(args), proto, gerr)
					case !slices.Equal(got, want):
						t.Errorf("%s [RESP%d]: elements differ\n  celerity: %q\n  oracle:   %q", showArgs(args), proto, got, want)
					}
					suiteStats.steps[proto].Add(1)
				}
				suiteStats.cases[proto].Add(1)
			})
		}
	}
}

// keyScanAll runs an HSCAN/SSCAN iteration to completion and returns the
// sorted, de-duplicated elements ("field=value" for HSCAN).
func keyScanAll(c *resptest.Conn, first []string) ([]string, error) {
	args := slices.Clone(first)
	hash := strings.EqualFold(args[0], "hscan")
	seen := map[string]bool{}
	for calls := 0; ; calls++ {
		if calls > 100000 {
			return nil, fmt.Errorf("iteration did not finish")
		}
		raw := c.DoRaw(args...)
		r, err := parseReply(raw)
		if err != nil {
			return nil, err
		}
		if r.Kind != '*' || len(r.Elems) != 2 || r.Elems[1].Kind != '*' {
			return nil, fmt.Errorf("reply is not [cursor, [elements]]: %q", raw)
		}
		elems := r.Elems[1].Elems
		if hash && len(elems)%2 != 0 {
			return nil, fmt.Errorf("odd HSCAN element count: %q", raw)
		}
		for i := 0; i < len(elems); i++ {
			e := elems[i].Str
			if hash {
				i++
				e += "=" + elems[i].Str
			}
			seen[e] = true
		}
		if r.Elems[0].Str == "0" {
			break
		}
		args[2] = r.Elems[0].Str
	}
	out := make([]string, 0, len(seen))
	for e := range seen {
		out = append(out, e)
	}
	slices.Sort(out)
	return out, nil
}
