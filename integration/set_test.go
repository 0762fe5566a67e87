package integration

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/celerity/celerity/resp/resptest"
)

func TestDiffSetType(t *testing.T) {
	cases := setTypeCases()
	cases = append(cases, setRandomCmdCases()...)
	cases = append(cases, setAlgebraCases()...)
	cases = append(cases, setEncodingCases()...)
	cases = append(cases, aggregateAritySweep("set", setAritySweepNames, []string{"SADD", "k", "1"})...)
	cases = append(cases, aggregateWrongTypeCases("set", []string{"SADD", "k", "m", "1"}, setOnStringKey)...)
	runCases(t, cases)
}

func TestDiffSetScan(t *testing.T) {
	ints := saddArgs("s", "", 0, 1000)
	strs := saddArgs("t", "m", 0, 1000)
	runKeyScanCases(t, []keyScanCase{
		{name: "sscan/hashtable-ints", setup: []step{do(ints...)}, scans: [][]string{
			{"SSCAN", "s", "0"}, {"SSCAN", "s", "0", "COUNT", "7"}, {"SSCAN", "s", "0", "MATCH", "1*"},
			{"SSCAN", "s", "0", "MATCH", "*9", "COUNT", "3"}, {"sscan", "s", "0", "count", "2000"},
		}},
		{name: "sscan/hashtable-strings", setup: []step{do(strs...), do(sremArgs("t", "m", 0, 900)...)}, scans: [][]string{
			{"SSCAN", "t", "0"}, {"SSCAN", "t", "0", "COUNT", "11"}, {"SSCAN", "t", "0", "MATCH", "m9?"},
		}},
		{name: "sscan/small-hashtable", setup: []step{do("SADD", "s", "a", "b", "c", "1")}, scans: [][]string{
			{"SSCAN", "s", "0"}, {"SSCAN", "s", "0", "COUNT", "1"}, {"SSCAN", "s", "0", "MATCH", "[ab]"},
		}},
	})
}

// saddArgs returns SADD key prefix<from>..prefix<to-1>.
func saddArgs(key, prefix string, from, to int) []string {
	args := []string{"SADD", key}
	for i := from; i < to; i++ {
		args = append(args, prefix+strconv.Itoa(i))
	}
	return args
}

func sremArgs(key, prefix string, from, to int) []string {
	args := saddArgs(key, prefix, from, to)
	args[0] = "SREM"
	return args
}

// setReadBack reads an intset back: members in ascending order on Redis,
// compared exactly.
func setReadBack(key string) []step {
	return []step{
		do("SMEMBERS", key), do("SCARD", key), do("SSCAN", key, "0"), do("SRANDMEMBER", key, "100000"), do("SUNION", key),
		do("SINTER", key), do("SDIFF", key), do("OBJECT", "ENCODING", key),
	}
}

// setReadBackUnordered reads a hashtable set back: Redis's order is its
// hash table's, so the replies are compared as multisets.
func setReadBackUnordered(key string) []step {
	return []step{
		unordered("SMEMBERS", key), do("SCARD", key), unordered("SRANDMEMBER", key, "100000"), unordered("SINTER", key),
		do("OBJECT", "ENCODING", key),
	}
}

func setTypeCases() []diffCase {
	return []diffCase{
		{name: "sadd/intset", steps: append([]step{
			do("SADD", "s", "3", "1", "2"), do("SADD", "s", "1", "4", "-10", "4"), do("SISMEMBER", "s", "4"), do("SISMEMBER", "s", "5"),
			do("SISMEMBER", "s", "04"), do("SMISMEMBER", "s", "1", "x", "4", "1"), do("TYPE", "s")}, setReadBack("s")...)},
		{name: "sadd/int64-range", steps: append([]step{
			do("SADD", "s", "9223372036854775807", "-9223372036854775808", "0", "-1", "1")}, setReadBack("s")...)},
		{name: "sadd/strings", steps: append([]step{
			do("SADD", "s", "b", "a", "c"), do("SADD", "s", "a", "d"), do("SISMEMBER", "s", "a"), do("SMISMEMBER", "s", "a", "z")},
			setReadBackUnordered("s")...)},
		{name: "sadd/binary", steps: append([]step{
			do("SADD", "s", "", "nul\x00m", "crlf\r\n", "\xff"), do("SISMEMBER", "s", ""), do("SISMEMBER", "s", "nul"),
			do("SISMEMBER", "s", "nul\x00m")}, setReadBackUnordered("s")...)},
		{name: "srem/basic", steps: []step{
			do("SREM", "s", "a"), do("SADD", "s", "1", "2", "3", "a"), do("SREM", "s", "1", "1", "zz"), do("SREM", "s", "a"),
			// A hashtable set: Redis's order is its hash order, seeded per process.
			unordered("SMEMBERS", "s"), do("OBJECT", "ENCODING", "s"), do("SREM", "s", "2", "3", "4"), do("EXISTS", "s")}},
		{name: "srem/intset-non-integer", steps: []step{
			do("SADD", "s", "1", "2"), do("SREM", "s", "x", "01", "+1", "1.0"), do("SMEMBERS", "s")}},
		{name: "srem/last-member-deletes-key", steps: []step{
			do("SADD", "s", "m"), do("EXPIRE", "s", "100"), do("SREM", "s", "m"), do("EXISTS", "s"), do("SADD", "s", "m"),
			do("TTL", "s")}},
		{name: "set/missing-key", steps: []step{
			do("SMEMBERS", "s"), do("SCARD", "s"), do("SISMEMBER", "s", "m"), do("SMISMEMBER", "s", "a", "b"), do("SPOP", "s"),
			do("SPOP", "s", "3"), do("SPOP", "s", "0"), do("SRANDMEMBER", "s"), do("SRANDMEMBER", "s", "3"), do("SRANDMEMBER", "s", "-3"),
			do("SINTER", "s"), do("SUNION", "s"), do("SDIFF", "s"), do("SINTERCARD", "1", "s"), do("SSCAN", "s", "0"),
			do("SSCAN", "s", "0", "COUNT", "0"), do("SSCAN", "s", "x"), do("SMOVE", "s", "d", "m"), do("EXISTS", "s", "d")}},
		{name: "set/keeps-ttl", steps: []step{
			do("SADD", "s", "a", "b"), do("EXPIRE", "s", "100"), do("SADD", "s", "c"), ttl("TTL", "s"), do("SREM", "s", "c"),
			ttl("TTL", "s"), do("SMOVE", "s", "d", "a"), ttl("TTL", "s"), do("TTL", "d")}},
		{name: "set/copy-rename-move", steps: []step{
			do("SADD", "s", "3", "1", "2"), do("COPY", "s", "s2"), do("SADD", "s2", "x"), do("SMEMBERS", "s"),
			do("OBJECT", "ENCODING", "s2"), do("RENAME", "s", "s3"), do("SMEMBERS", "s3"), do("OBJECT", "ENCODING", "s3"),
			do("MOVE", "s3", "1"), do("SELECT", "1"), do("SMEMBERS", "s3"), do("SELECT", "0")}},
		{name: "smove/basic", steps: []step{
			do("SADD", "a", "1", "2", "x"), do("SADD", "b", "3"), do("SMOVE", "a", "b", "1"), do("SMOVE", "a", "b", "1"),
			do("SMOVE", "a", "b", "zz"), do("SMEMBERS", "b"), do("OBJECT", "ENCODING", "b"), do("SMOVE", "a", "b", "x"),
			do("OBJECT", "ENCODING", "b"), do("SMOVE", "a", "b", "2"), do("EXISTS", "a"), unordered("SMEMBERS", "b")}},
		{name: "smove/new-destination", steps: []step{
			do("SADD", "a", "1", "x"), do("SMOVE", "a", "n1", "1"), do("OBJECT", "ENCODING", "n1"), do("SMOVE", "a", "n2", "x"),
			do("OBJECT", "ENCODING", "n2"), do("EXISTS", "a")}},
		{name: "smove/member-in-both", steps: []step{
			do("SADD", "a", "m", "n"), do("SADD", "b", "m"), do("SMOVE", "a", "b", "m"), do("SMEMBERS", "a"), do("SMEMBERS", "b")}},
		{name: "smove/same-key", steps: []step{
			do("SADD", "a", "m"), do("SMOVE", "a", "a", "m"), do("SMOVE", "a", "a", "x"), do("SMEMBERS", "a")}},
		{name: "smove/types", steps: []step{
			do("SET", "str", "v"), do("SADD", "a", "m"), do("SMOVE", "a", "str", "m"), do("SMOVE", "str", "a", "m"),
			do("SMOVE", "nokey", "str", "m"), do("SMOVE", "str", "nokey", "m"), do("SMOVE", "a", "str", "zz"), do("SMEMBERS", "a")}},
		{name: "smove/intset-destination-converts", steps: []step{
			do("SADD", "a", "x", "5"), do("SADD", "b", "1", "2"), do("SMOVE", "a", "b", "5"), do("SMEMBERS", "b"),
			do("OBJECT", "ENCODING", "b"), do("SMOVE", "a", "b", "x"), do("OBJECT", "ENCODING", "b"), unordered("SMEMBERS", "b")}},
		{name: "smismember/basic", steps: []step{
			do("SADD", "s", "a", "1"), do("SMISMEMBER", "s", "a"), do("SMISMEMBER", "s", "1", "2", "a", "A", ""), do("SMISMEMBER", "s")}},
		{name: "sscan/intset", steps: []step{
			do("SADD", "s", "30", "-2", "10", "1", "100"), do("SSCAN", "s", "0"), do("SSCAN", "s", "5", "COUNT", "1"),
			do("SSCAN", "s", "0", "MATCH", "1*"), do("SSCAN", "s", "0", "MATCH", "-*"), do("SSCAN", "s", "0", "MATCH", "x")}},
		{name: "sscan/errors", steps: []step{
			do("SADD", "s", "a", "1"), do("SSCAN", "s", "0", "COUNT", "0"), do("SSCAN", "s", "0", "COUNT", "x"), do("SSCAN", "s", "0", "MATCH"),
			do("SSCAN", "s", "0", "TYPE", "set"), do("SSCAN", "s", "x"), do("SSCAN", "s", "-1", "MATCH", "zz"), do("SSCAN", "s", "0", "FOO", "1"),
			do("SSCAN", "s", "18446744073709551616")}},
		{name: "set/large-hashtable", steps: append(append([]step{
			do(saddArgs("s", "m", 0, 1000)...), do("SCARD", "s"), do("SISMEMBER", "s", "m999"), do("SMISMEMBER", "s", "m0", "m1000"),
			do(sremArgs("s", "m", 0, 400)...), do(saddArgs("s", "n", 0, 200)...), do("SCARD", "s"), shape("SRANDMEMBER", "s"),
			shape("SRANDMEMBER", "s", "5"), shape("SRANDMEMBER", "s", "-5"), shape("SRANDMEMBER", "s", "500")},
			setReadBackUnordered("s")...),
			// Random pops: only the counts are comparable afterwards.
			shape("SPOP", "s"), shape("SPOP", "s", "10"), shape("SPOP", "s", "700"), do("SCARD", "s"), do("OBJECT", "ENCODING", "s"))},
	}
}

// setRandomCmdCases cover SPOP and SRANDMEMBER: errors, the deterministic
// corners (one member, whole set, empty) and the shape of random replies.
func setRandomCmdCases() []diffCase {
	return []diffCase{
		{name: "spop/errors", steps: []step{
			do("SADD", "s", "1", "2"), do("SPOP", "s", "-1"), do("SPOP", "s", "abc"), do("SPOP", "s", "1.5"), do("SPOP", "s", ""),
			do("SPOP", "s", "1", "2"), do("SPOP", "s", "-9223372036854775808"), do("SCARD", "s")}},
		{name: "spop/one-member", steps: []step{
			do("SADD", "s", "m"), do("SPOP", "s"), do("EXISTS", "s"), do("SADD", "s", "7"), do("SPOP", "s", "1"), do("EXISTS", "s"),
			do("SADD", "s", "x"), do("EXPIRE", "s", "100"), do("SPOP", "s", "0"), ttl("TTL", "s")}},
		{name: "spop/whole-intset", steps: []step{
			do("SADD", "s", "5", "-1", "3"), do("SPOP", "s", "3"), do("EXISTS", "s"), do("SADD", "s", "5", "-1", "3"),
			do("SPOP", "s", "9223372036854775807"), do("EXISTS", "s")}},
		{name: "spop/whole-hashtable", steps: []step{
			do("SADD", "s", "a", "b", "c"), unordered("SPOP", "s", "10"), do("EXISTS", "s")}},
		// A hashtable of integers popped whole replies in the order of
		// the SUNION Redis builds: an intset, so ascending.
		{name: "spop/whole-hashtable-of-integers", steps: []step{
			do("SADD", "s", "3", "1", "x", "2"), do("SREM", "s", "x"), do("SPOP", "s", "3")}},
		{name: "spop/random", steps: []step{
			do("SADD", "s", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"), shape("SPOP", "s"), do("SCARD", "s"), shape("SPOP", "s", "1"),
			do("SCARD", "s"), shape("SPOP", "s", "6"), do("SCARD", "s"), do("OBJECT", "ENCODING", "s")}},
		// Popping most of a set rebuilds it from the remaining members:
		// a hashtable of integers becomes an intset again, on Redis too.
		{name: "spop/rebuild-encoding", steps: []step{
			do("SADD", "s", "1", "2", "3", "4", "5", "6", "x"), do("SREM", "s", "x"), do("OBJECT", "ENCODING", "s"),
			shape("SPOP", "s", "5"), do("OBJECT", "ENCODING", "s"), do("SCARD", "s"),
			do("SADD", "t", "1", "2", "3", "4", "5", "6", "x"), do("SREM", "t", "x"), shape("SPOP", "t", "4"),
			do("OBJECT", "ENCODING", "t"), do("SCARD", "t")}},
		{name: "spop/rebuild-keeps-ttl", steps: []step{
			do("SADD", "s", "a", "b", "c", "d", "e", "f"), do("EXPIRE", "s", "100"), shape("SPOP", "s", "5"), ttl("TTL", "s"),
			do("SCARD", "s")}},
		{name: "srandmember/errors", steps: []step{
			do("SADD", "s", "1", "2"), do("SRANDMEMBER", "s", "abc"), do("SRANDMEMBER", "s", "1.5"), do("SRANDMEMBER", "s", "1", "2"),
			do("SRANDMEMBER", "s", "-9223372036854775808"), do("SRANDMEMBER", "s", "9223372036854775808"),
			do("SRANDMEMBER", "s", "9223372036854775807"), do("SRANDMEMBER", "nokey", "x")}},
		{name: "srandmember/deterministic", steps: []step{
			do("SADD", "s", "m"), do("SRANDMEMBER", "s"), do("SRANDMEMBER", "s", "-4"), do("SRANDMEMBER", "s", "1"),
			do("SRANDMEMBER", "s", "0"), do("SADD", "i", "30", "-1", "5"), do("SRANDMEMBER", "i", "3"), do("SRANDMEMBER", "i", "4")}},
		{name: "srandmember/random", steps: []step{
			do("SADD", "s", "a", "b", "c", "d", "e"), shape("SRANDMEMBER", "s"), shape("SRANDMEMBER", "s", "2"),
			shape("SRANDMEMBER", "s", "4"), shape("SRANDMEMBER", "s", "-20"), unordered("SRANDMEMBER", "s", "5"), do("SCARD", "s")}},
	}
}

// setAlgebraCases cover SINTER, SINTERCARD, SUNION, SDIFF and their STORE
// forms: missing keys, wrong types anywhere in the list, repeated keys,
// destination handling and the encoding and order of results.
func setAlgebraCases() []diffCase {
	data := []step{
		do("SADD", "i1", "1", "2", "3", "4"), do("SADD", "i2", "3", "4", "5"), do("SADD", "i3", "4", "3", "10", "-1"),
		do("SADD", "m1", "1", "2", "a", "b"), do("SADD", "m2", "2", "b", "c"), do("SADD", "h", "5", "6", "x"), do("SREM", "h", "x"),
		do("SET", "str", "v"),
	}
	with := func(steps ...step) []step { return append(append([]step{}, data...), steps...) }
	cases := []diffCase{
		// Results built from integers are intsets on Redis: ascending.
		{name: "sinter/intsets", steps: with(
			do("SINTER", "i1", "i2"), do("SINTER", "i1", "i2", "i3"), do("SINTER", "i3", "i1"), do("SINTER", "i1", "i1"),
			do("SINTER", "i1", "m1"), do("SINTER", "i1", "nokey"), do("SINTER", "nokey", "i1"), do("SINTER", "i1", "h"))},
		{name: "sinter/hashtables", steps: with(
			unordered("SINTER", "m1", "m2"), unordered("SINTER", "m2", "m1", "m1"), unordered("SINTER", "h"), unordered("SINTER", "h", "h"))},
		{name: "sinter/wrongtype", steps: with(
			do("SINTER", "str"), do("SINTER", "i1", "str"), do("SINTER", "nokey", "str"), do("SINTER", "str", "nokey"))},
		{name: "sunion/intsets", steps: with(
			do("SUNION", "i1", "i2"), do("SUNION", "i1", "i2", "i3", "nokey"), do("SUNION", "nokey"), do("SUNION", "h"),
			do("SUNION", "h", "i1"), unordered("SUNION", "i1", "m1"), unordered("SUNION", "m1", "m2"), do("SUNION", "str"),
			do("SUNION", "i1", "str"), do("SUNION", "nokey", "str"))},
		{name: "sdiff/basic", steps: with(
			do("SDIFF", "i1", "i2"), do("SDIFF", "i1", "i2", "i3"), do("SDIFF", "i3", "i1"), do("SDIFF", "i1", "i1"),
			do("SDIFF", "i1", "nokey"), do("SDIFF", "nokey", "i1"), unordered("SDIFF", "m1", "m2"), unordered("SDIFF", "m1", "i1"),
			unordered("SDIFF", "m1", "i2"), do("SDIFF", "m2", "m1", "i1"), do("SDIFF", "str"), do("SDIFF", "i1", "str"),
			do("SDIFF", "nokey", "str"), do("SDIFF", "h", "i2"))},
		{name: "sintercard/basic", steps: with(
			do("SINTERCARD", "1", "i1"), do("SINTERCARD", "2", "i1", "i2"), do("SINTERCARD", "3", "i1", "i2", "i3"),
			do("SINTERCARD", "2", "i1", "i2", "LIMIT", "1"), do("SINTERCARD", "2", "i1", "i2", "LIMIT", "0"),
			do("SINTERCARD", "2", "i1", "i2", "LIMIT", "100"), do("SINTERCARD", "2", "i1", "nokey"), do("SINTERCARD", "2", "m1", "m2"),
			do("SINTERCARD", "1", "m1", "limit", "3"), do("SINTERCARD", "1", "i1", "LIMIT", "1", "LIMIT", "2"),
			do("SINTERCARD", "2", "i1", "i1"))},
		{name: "sintercard/errors", steps: with(
			do("SINTERCARD", "0", "i1"), do("SINTERCARD", "-1", "i1"), do("SINTERCARD", "abc", "i1"), do("SINTERCARD", "2", "i1"),
			do("SINTERCARD", "99999999999999999999", "i1"), do("SINTERCARD", "2147483648", "i1"), do("SINTERCARD", "1", "i1", "LIMIT"),
			do("SINTERCARD", "1", "i1", "LIMIT", "-1"), do("SINTERCARD", "1", "i1", "LIMIT", "x"), do("SINTERCARD", "1", "i1", "FOO", "1"),
			do("SINTERCARD", "1", "str"), do("SINTERCARD", "2", "nokey", "str"), do("SINTERCARD", "1", "nokey", "str"),
			do("SINTERCARD", "1", "str", "LIMIT", "-1"), do("SINTERCARD", "1.5", "i1"), do("SINTERCARD", "1", "i1", "LIMIT", "1.5"))},
		{name: "sintercard/getkeys", steps: []step{
			do("COMMAND", "GETKEYS", "SINTERCARD", "2", "a", "b"), do("COMMAND", "GETKEYS", "SINTERCARD", "2", "a", "b", "LIMIT", "3"),
			do("COMMAND", "GETKEYS", "SINTERCARD", "1", "a"), do("COMMAND", "GETKEYS", "SINTERCARD", "0", "a"),
			do("COMMAND", "GETKEYS", "SINTERCARD", "abc", "a"), do("COMMAND", "GETKEYS", "SINTERCARD", "3", "a", "b"),
			do("COMMAND", "GETKEYS", "SINTERCARD", "-1", "a", "b"), do("COMMAND", "GETKEYS", "SINTERCARD", "2147483648", "a"),
			do("COMMAND", "GETKEYS", "SMOVE", "a", "b", "m"), do("COMMAND", "GETKEYS", "SINTERSTORE", "d", "a", "b"),
			do("COMMAND", "GETKEYS", "SUNION", "a", "b", "c"), do("COMMAND", "GETKEYS", "HSET", "h", "f", "v"),
			do("COMMAND", "GETKEYS", "SINTERCARD", "1")}},
		{name: "sinterstore/basic", steps: with(
			do("SINTERSTORE", "d", "i1", "i2"), do("SMEMBERS", "d"), do("OBJECT", "ENCODING", "d"), do("SINTERSTORE", "d", "m1", "m2"),
			unordered("SMEMBERS", "d"), do("OBJECT", "ENCODING", "d"), do("SINTERSTORE", "d", "m1", "i1"), do("SMEMBERS", "d"),
			do("OBJECT", "ENCODING", "d"))},
		{name: "sinterstore/empty-result-deletes", steps: with(
			do("SET", "d", "x"), do("SINTERSTORE", "d", "i1", "nokey"), do("EXISTS", "d"), do("SADD", "d", "1"),
			do("SINTERSTORE", "d", "i1", "h"), do("EXISTS", "d"), do("SINTERSTORE", "d", "nokey"), do("EXISTS", "d"))},
		{name: "sinterstore/overwrites", steps: with(
			do("SET", "d", "x", "EX", "100"), do("SINTERSTORE", "d", "i1", "i3"), do("TYPE", "d"), do("TTL", "d"),
			do("HSET", "e", "f", "v"), do("SINTERSTORE", "e", "i1"), do("TYPE", "e"), do("SMEMBERS", "e"))},
		{name: "sinterstore/destination-is-source", steps: with(
			do("SINTERSTORE", "i1", "i1", "i2"), do("SMEMBERS", "i1"), do("SINTERSTORE", "m2", "m1", "m2"), unordered("SMEMBERS", "m2"),
			do("SINTERSTORE", "i2", "i2"), do("SMEMBERS", "i2"))},
		{name: "sinterstore/wrongtype", steps: with(
			do("SINTERSTORE", "d", "str"), do("SINTERSTORE", "d", "i1", "str"), do("SINTERSTORE", "str", "i1"), do("TYPE", "str"),
			do("SINTERSTORE", "i1", "str", "nokey"), do("SMEMBERS", "i1"))},
		{name: "sunionstore/basic", steps: with(
			do("SUNIONSTORE", "d", "i1", "i2", "nokey"), do("SMEMBERS", "d"), do("OBJECT", "ENCODING", "d"), do("SUNIONSTORE", "d", "i1", "m1"),
			unordered("SMEMBERS", "d"), do("OBJECT", "ENCODING", "d"), do("SUNIONSTORE", "d", "h"), do("OBJECT", "ENCODING", "d"),
			do("SMEMBERS", "d"), do("SUNIONSTORE", "d", "nokey"), do("EXISTS", "d"), do("SUNIONSTORE", "i1", "i1", "i3"),
			do("SMEMBERS", "i1"), do("SUNIONSTORE", "d", "str"), do("SUNIONSTORE", "str", "i1"), do("TYPE", "str"))},
		{name: "sdiffstore/basic", steps: with(
			do("SDIFFSTORE", "d", "i1", "i2"), do("SMEMBERS", "d"), do("OBJECT", "ENCODING", "d"), do("SDIFFSTORE", "d", "m1", "m2"),
			do("OBJECT", "ENCODING", "d"), unordered("SMEMBERS", "d"), do("SDIFFSTORE", "d", "m1", "i1"), do("OBJECT", "ENCODING", "d"),
			unordered("SMEMBERS", "d"), do("SDIFFSTORE", "d", "i1", "i1"), do("EXISTS", "d"), do("SET", "d", "v", "EX", "100"),
			do("SDIFFSTORE", "d", "i1", "nokey"), do("TTL", "d"), do("SDIFFSTORE", "i2", "i1", "i2"), do("SMEMBERS", "i2"),
			do("SDIFFSTORE", "d", "nokey", "str"), do("SDIFFSTORE", "str", "i1"), do("TYPE", "str"))},
		{name: "setops/large", steps: []step{
			do(saddArgs("a", "", 0, 600)...), do(saddArgs("b", "", 300, 900)...), do(saddArgs("c", "m", 0, 50)...),
			do("SINTERCARD", "2", "a", "b"), do("SINTERCARD", "2", "a", "b", "LIMIT", "10"), unordered("SINTER", "a", "b"),
			unordered("SUNION", "a", "b"), unordered("SDIFF", "a", "b"), do("SINTERSTORE", "d", "a", "b"), do("OBJECT", "ENCODING", "d"),
			do("SUNIONSTORE", "d", "a", "b"), do("OBJECT", "ENCODING", "d"), do("SDIFFSTORE", "d", "a", "b"), do("OBJECT", "ENCODING", "d"),
			do("SDIFFSTORE", "d", "b", "a"), do("OBJECT", "ENCODING", "d"), do("SMEMBERS", "d"), unordered("SUNION", "c", "a"),
			unordered("SDIFF", "c", "a"), do("SCARD", "c")}},
	}
	return cases
}

func setEncodingCases() []diffCase {
	restore := [][]string{{"CONFIG", "SET", "set-max-intset-entries", "512"}}
	cases := []diffCase{
		{name: "set-encoding/intset-512", steps: append([]step{do(saddArgs("s", "", 0, 512)...)}, setReadBack("s")...)},
		{name: "set-encoding/intset-513", steps: append([]step{do(saddArgs("s", "", 0, 513)...)}, setReadBackUnordered("s")...)},
		{name: "set-encoding/grow", steps: []step{
			do(saddArgs("s", "", 0, 512)...), do("OBJECT", "ENCODING", "s"), do("SADD", "s", "0"), do("OBJECT", "ENCODING", "s"),
			do("SADD", "s", "-1"), do("OBJECT", "ENCODING", "s"), do(sremArgs("s", "", 0, 512)...), do("OBJECT", "ENCODING", "s"),
			do("SMEMBERS", "s")}},
		{name: "set-encoding/non-canonical-integers", steps: []step{
			do("SADD", "a", "1", "007"), do("OBJECT", "ENCODING", "a"), do("SADD", "b", "-0"), do("OBJECT", "ENCODING", "b"),
			do("SADD", "c", "+1"), do("OBJECT", "ENCODING", "c"), do("SADD", "d", " 1"), do("OBJECT", "ENCODING", "d"),
			do("SADD", "e", "9223372036854775808"), do("OBJECT", "ENCODING", "e"), do("SADD", "f", "-9223372036854775809"),
			do("OBJECT", "ENCODING", "f"), do("SADD", "g", "1.0"), do("OBJECT", "ENCODING", "g"), do("SADD", "h", ""),
			do("OBJECT", "ENCODING", "h"), do("SADD", "i", "12345678901234567890"), do("OBJECT", "ENCODING", "i")}},
		{name: "set-encoding/first-string", steps: []step{
			do("SADD", "s", "x", "1"), do("OBJECT", "ENCODING", "s"), do("SREM", "s", "x"), do("OBJECT", "ENCODING", "s"),
			do("SMEMBERS", "s")}},
		{name: "set-encoding/config", cleanup: restore, steps: []step{
			do("CONFIG", "SET", "set-max-intset-entries", "2"), do("SADD", "s", "1", "2"), do("OBJECT", "ENCODING", "s"),
			do("SADD", "s", "1"), do("OBJECT", "ENCODING", "s"), do("SADD", "s", "3"), do("OBJECT", "ENCODING", "s"),
			do("SADD", "t", "1", "2", "3"), do("OBJECT", "ENCODING", "t"), do("SADD", "u", "1"),
			do("CONFIG", "SET", "set-max-intset-entries", "0"), do("SADD", "u", "1"), do("OBJECT", "ENCODING", "u"),
			do("SADD", "u", "2"), do("OBJECT", "ENCODING", "u"), do("SADD", "v", "5"), do("OBJECT", "ENCODING", "v"),
			do("SMOVE", "u", "w", "1"), do("OBJECT", "ENCODING", "w"), do("SUNIONSTORE", "x", "w"), do("OBJECT", "ENCODING", "x")}},
		{name: "set-encoding/store-results", cleanup: restore, steps: []step{
			do("SADD", "a", "1", "2", "3", "4", "5"), do("CONFIG", "SET", "set-max-intset-entries", "3"),
			do("SUNIONSTORE", "d", "a"), do("OBJECT", "ENCODING", "d"), do("SDIFFSTORE", "e", "a", "d"), do("EXISTS", "e"),
			do("SADD", "b", "1", "2"), do("SINTERSTORE", "f", "a", "b"), do("OBJECT", "ENCODING", "f"), do("SMEMBERS", "f")}},
	}
	return cases
}

// setAritySweepNames are swept like aritySweepCases does for strings.
var setAritySweepNames = []string{
	"SADD", "SREM", "SMEMBERS", "SISMEMBER", "SMISMEMBER", "SCARD", "SPOP", "SRANDMEMBER", "SMOVE", "SINTER", "SINTERCARD",
	"SINTERSTORE", "SUNION", "SUNIONSTORE", "SDIFF", "SDIFFSTORE", "SSCAN",
}

// TestDiffHashSetRandom is a seeded randomized differential test over the
// hash and set commands: a small key space (so commands collide and hit
// wrong types), values that keep hashes in the listpack encoding (so their
// order is comparable exactly) and both integer and string set members.
// Each sequence ends with a read-back of every key; the harness's replay
// also compares TYPE, TTL and OBJECT ENCODING of every key, and a failure
// is shrunk with the harness's delta debugging.
func TestDiffHashSetRandom(t *testing.T) {
	runRandomSeeds(t, []uint64{11, 12, 13}, func(seed uint64) []step { return newHashSetGenerator(seed).generate(1500) })
}

type hashSetGenerator struct{ r *rand.Rand }

func newHashSetGenerator(seed uint64) *hashSetGenerator {
	return &hashSetGenerator{r: rand.New(rand.NewPCG(seed, 0x5e75))}
}

var (
	hsKeys    = []string{"h1", "h2", "s1", "s2", "s3", "x"}
	hsFields  = []string{"a", "b", "c", "d", "e", "f", "1", "2", "", "long-field-name"}
	hsValues  = []string{"", "0", "1", "-1", "10", "9223372036854775807", "-9223372036854775808", "abc", "1.5", " 1", "inf", "3.0e2"}
	hsMembers = []string{"1", "2", "3", "-5", "10", "100", "007", "a", "b", "c", "", "-0"}
)

func (g *hashSetGenerator) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g *hashSetGenerator) picks(n int, xs ...string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = g.pick(xs...)
	}
	return out
}

func (g *hashSetGenerator) generate(n int) []step {
	out := make([]step, 0, n+4*len(hsKeys))
	for len(out) < n {
		out = append(out, g.command())
	}
	// Read every key back; a hash is a listpack here (short values, few
	// fields), so its order is compared exactly; a set may be either.
	for _, k := range hsKeys {
		out = append(out, do("HGETALL", k), unordered("SMEMBERS", k), do("SCARD", k), do("HLEN", k))
	}
	return out
}

func (g *hashSetGenerator) command() step {
	k := g.pick(hsKeys...)
	k2 := g.pick(hsKeys...)
	n := 1 + g.r.IntN(3)
	switch g.r.IntN(32) {
	case 0, 1, 2:
		args := []string{g.pick("HSET", "HSET", "HMSET"), k}
		for i := 0; i < n; i++ {
			args = append(args, g.pick(hsFields...), g.pick(hsValues...))
		}
		return do(args...)
	case 3:
		return do("HSETNX", k, g.pick(hsFields...), g.pick(hsValues...))
	case 4:
		return do("HGET", k, g.pick(hsFields...))
	case 5:
		return do(append([]string{"HMGET", k}, g.picks(n, hsFields...)...)...)
	case 6, 7:
		return do(append([]string{"HDEL", k}, g.picks(n, hsFields...)...)...)
	case 8:
		return do(g.pick("HLEN", "HGETALL", "HKEYS", "HVALS"), k)
	case 9:
		return do(g.pick("HEXISTS", "HSTRLEN"), k, g.pick(hsFields...))
	case 10:
		return do("HINCRBY", k, g.pick(hsFields...), g.pick("1", "-1", "100", "0", "x", "9223372036854775807"))
	case 11:
		return do("HINCRBYFLOAT", k, g.pick(hsFields...), g.pick("1", "-1.5", "0.1", "x", "inf", "2e2"))
	case 12:
		return do("HSCAN", k, "0", "MATCH", g.pick("*", "[a-c]", "?", "l*"))
	case 13:
		// One-field hashes and missing keys make HRANDFIELD deterministic
		// only sometimes: compare the shape.
		return shape("HRANDFIELD", k, g.pick("1", "-2", "0", "100"), "WITHVALUES")
	case 14, 15, 16:
		return do(append([]string{"SADD", k}, g.picks(n, hsMembers...)...)...)
	case 17, 18:
		return do(append([]string{"SREM", k}, g.picks(n, hsMembers...)...)...)
	case 19:
		return do("SISMEMBER", k, g.pick(hsMembers...))
	case 20:
		return do(append([]string{"SMISMEMBER", k}, g.picks(n, hsMembers...)...)...)
	case 21:
		return do("SMOVE", k, k2, g.pick(hsMembers...))
	case 22:
		return unordered(g.pick("SINTER", "SUNION", "SDIFF"), k, k2)
	case 23, 24:
		return do(g.pick("SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"), g.pick(hsKeys...), k, k2)
	case 25:
		return do("SINTERCARD", "2", k, k2, "LIMIT", g.pick("0", "1", "2"))
	case 26:
		// Popping a whole set is deterministic (its members, then no key).
		return unordered("SPOP", k, "1000")
	case 27:
		return shape("SRANDMEMBER", k, g.pick("1", "-3", "100"))
	case 28:
		// A hashtable set's order is Redis's own: compare the shape.
		return shape("SSCAN", k, "0", "COUNT", "1000")
	case 29:
		return do(g.pick("DEL", "EXISTS", "TYPE"), k)
	case 30:
		return do(g.pick("RENAME", "COPY"), k, k2)
	default:
		return do("SET", k, g.pick(hsValues...))
	}
}

// TestDiffHashSetKeyspaceStats compares INFO's keyspace_hits and
// keyspace_misses after each hash and set command: which lookups count
// (reads) and which do not (writes) is observable. Only RESP2 is run: the
// counters do not depend on the protocol.
func TestDiffHashSetKeyspaceStats(t *testing.T) {
	needOracle(t)
	srv := resptest.NewServer(t)
	p := openPair(t, srv.Addr(), 2)
	cmds := [][]string{
		{"HSET", "h", "a", "1"}, {"HGET", "h", "a"}, {"HGET", "h", "b"}, {"HGET", "n", "a"}, {"HMGET", "h", "a", "b"},
		{"HGETALL", "n"}, {"HKEYS", "h"}, {"HVALS", "h"}, {"HINCRBY", "h", "a", "1"}, {"HINCRBYFLOAT", "h", "a", "1"},
		{"HSETNX", "h", "z", "1"}, {"HDEL", "h", "q"}, {"HDEL", "n", "q"}, {"HLEN", "h"}, {"HEXISTS", "n", "a"},
		{"HSTRLEN", "h", "a"}, {"HRANDFIELD", "h"}, {"HRANDFIELD", "n", "2"}, {"HSCAN", "h", "0"}, {"HSCAN", "n", "0"},
		{"SADD", "s", "1", "2"}, {"SREM", "s", "9"}, {"SREM", "n", "9"}, {"SMEMBERS", "s"}, {"SMEMBERS", "n"},
		{"SISMEMBER", "s", "1"}, {"SMISMEMBER", "n", "1"}, {"SCARD", "s"}, {"SPOP", "n"}, {"SPOP", "s", "0"},
		{"SRANDMEMBER", "s", "5"}, {"SRANDMEMBER", "n"}, {"SMOVE", "s", "t", "1"}, {"SMOVE", "n", "t", "1"},
		{"SINTER", "s", "n"}, {"SINTERSTORE", "d", "s", "n"}, {"SUNION", "s", "n"}, {"SUNIONSTORE", "d", "s", "n"},
		{"SDIFF", "s", "n"}, {"SDIFFSTORE", "d", "s", "n"}, {"SINTERCARD", "2", "s", "n"}, {"SSCAN", "s", "0"},
		{"SSCAN", "n", "0"}, {"SET", "str", "v"}, {"HGET", "str", "a"}, {"SADD", "str", "m"}, {"SINTER", "s", "str"},
		{"SADD", "p", "1", "2", "3"}, {"SPOP", "p", "10"}, {"SADD", "p", "1"}, {"SPOP", "p"},
	}
	counters := func(c *resptest.Conn) string {
		var out []string
		for _, line := range strings.Split(c.Do("INFO", "stats").Str, "\r\n") {
			if strings.HasPrefix(line, "keyspace_hits:") || strings.HasPrefix(line, "keyspace_misses:") {
				out = append(out, line)
			}
		}
		return strings.Join(out, " ")
	}
	p.both([]string{"CONFIG", "RESETSTAT"})
	for _, args := range cmds {
		p.both(args)
		got, want := counters(p.cel), counters(p.ora)
		if got != want {
			t.Errorf("after %s: celerity %q, oracle %q", showArgs(args), got, want)
			p.both([]string{"CONFIG", "RESETSTAT"})
		}
		suiteStats.steps[2].Add(1)
	}
}
