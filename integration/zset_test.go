package integration

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/resp/resptest"
)

// Sorted sets: every command, option and error path of Redis 7.0.15's
// t_zset.c, compared with the oracle in RESP2 and RESP3, plus the blocking
// pops with two connections per server.

func TestDiffZSetWrite(t *testing.T)    { runCases(t, zsetWriteCases()) }
func TestDiffZSetScores(t *testing.T)   { runCases(t, zsetScoreCases()) }
func TestDiffZSetRange(t *testing.T)    { runCases(t, zsetRangeCases()) }
func TestDiffZSetPop(t *testing.T)      { runCases(t, zsetPopCases()) }
func TestDiffZSetOps(t *testing.T)      { runCases(t, zsetOpCases()) }
func TestDiffZSetMisc(t *testing.T)     { runCases(t, zsetMiscCases()) }
func TestDiffZSetEncoding(t *testing.T) { runCases(t, zsetEncodingCases()) }

// zsetLimitsReset undoes CONFIG SET of the zset thresholds on the shared
// oracle.
var zsetLimitsReset = [][]string{
	{"CONFIG", "SET", "zset-max-listpack-entries", "128"},
	{"CONFIG", "SET", "zset-max-listpack-value", "64"},
}

// zaddMany is ZADD key with n members m<i> scored i*step+base.
func zaddMany(key string, n int, base, step float64, prefix string) []string {
	args := []string{"ZADD", key}
	for i := 0; i < n; i++ {
		args = append(args, strconv.FormatFloat(base+float64(i)*step, 'g', -1, 64), fmt.Sprintf("%s%03d", prefix, i))
	}
	return args
}

// show returns steps that show the whole set: members with scores, size,
// encoding.
func show(key string) []step {
	return []step{do("ZRANGE", key, "0", "-1", "WITHSCORES"), do("ZCARD", key), do("OBJECT", "ENCODING", key)}
}

func steps(parts ...[]step) []step {
	var out []step
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func zsetWriteCases() []diffCase {
	return []diffCase{
		{name: "zadd/basic", steps: steps([]step{
			do("ZADD", "z", "1", "a", "2", "b", "3", "c"), do("ZADD", "z", "1", "a"), do("ZADD", "z", "4", "a", "5", "d"),
			do("TYPE", "z"), do("ZSCORE", "z", "a"), do("ZSCORE", "z", "nope"), do("ZSCORE", "nokey", "a")}, show("z"))},
		{name: "zadd/arity", steps: []step{
			do("ZADD"), do("ZADD", "z"), do("ZADD", "z", "1"), do("ZADD", "z", "nx"), do("ZADD", "z", "nx", "xx"), do("EXISTS", "z")}},
		{name: "zadd/syntax", steps: []step{
			do("ZADD", "z", "1", "a", "2"), do("ZADD", "z", "nx", "1"), do("ZADD", "z", "ch", "ch"), do("ZADD", "z", "1", "a", "x", "b"),
			do("ZADD", "z", "a", "1"), do("ZADD", "z", "foo", "1", "a"), do("ZADD", "z", "NX", "XX", "1"), do("EXISTS", "z")}},
		{name: "zadd/incompatible", steps: []step{
			do("ZADD", "z", "nx", "xx", "1", "a"), do("ZADD", "z", "gt", "lt", "1", "a"), do("ZADD", "z", "nx", "gt", "1", "a"),
			do("ZADD", "z", "NX", "LT", "1", "a"), do("ZADD", "z", "gt", "lt", "nx", "1", "a"), do("ZADD", "z", "incr", "1", "a", "2", "b"),
			do("ZADD", "z", "nx", "xx", "incr", "1", "a", "2", "b"), do("ZADD", "z", "nx", "xx", "1", "a", "2"),
			do("ZADD", "z", "incr", "x", "a"), do("EXISTS", "z")}},
		{name: "zadd/atomic-parse", steps: []step{
			do("ZADD", "z", "1", "a", "2", "b", "nan", "c"), do("EXISTS", "z"), do("ZADD", "z", "1", "a"),
			do("ZADD", "z", "5", "a", "6", "b", "x", "c"), do("ZRANGE", "z", "0", "-1", "WITHSCORES")}},
		{name: "zadd/nx-xx-ch", steps: steps([]step{
			do("ZADD", "z", "1", "a", "2", "b"), do("ZADD", "z", "NX", "10", "a", "3", "c"), do("ZADD", "z", "XX", "10", "a", "4", "d"),
			do("ZADD", "z", "XX", "CH", "11", "a", "4", "d", "2", "b"), do("ZADD", "z", "CH", "11", "a", "12", "b", "7", "e"),
			do("ZADD", "z", "ch", "nx", "1", "a", "8", "f"), do("ZADD", "z", "CH", "CH", "xx", "xx", "0", "a")}, show("z"))},
		{name: "zadd/gt-lt", steps: steps([]step{
			do("ZADD", "z", "5", "a", "5", "b"), do("ZADD", "z", "GT", "4", "a", "6", "b"), do("ZADD", "z", "GT", "CH", "4", "a", "7", "b", "1", "new"),
			do("ZADD", "z", "LT", "CH", "3", "a", "9", "b", "2", "new2"), do("ZADD", "z", "LT", "CH", "3", "a"), do("ZADD", "z", "GT", "CH", "3", "a"),
			do("ZADD", "z", "XX", "GT", "CH", "100", "a", "100", "zz"), do("ZADD", "z", "XX", "LT", "CH", "-1", "b", "-1", "yy"),
			do("ZADD", "z", "GT", "inf", "a"), do("ZADD", "z", "LT", "-inf", "b"), do("ZADD", "z", "GT", "CH", "inf", "a")}, show("z"))},
		{name: "zadd/incr", steps: steps([]step{
			do("ZADD", "z", "INCR", "1", "a"), do("ZADD", "z", "INCR", "2.5", "a"), do("ZADD", "z", "NX", "INCR", "1", "a"),
			do("ZADD", "z", "NX", "INCR", "1", "b"), do("ZADD", "z", "XX", "INCR", "1", "nope"), do("ZADD", "z", "XX", "INCR", "1", "a"),
			do("ZADD", "z", "GT", "INCR", "-1", "a"), do("ZADD", "z", "LT", "INCR", "-1", "a"), do("ZADD", "z", "GT", "INCR", "0", "a"),
			do("ZADD", "z", "INCR", "0", "a"), do("ZADD", "z", "INCR", "CH", "1", "a"), do("ZADD", "z", "INCR", "inf", "a"),
			do("ZADD", "z", "INCR", "-inf", "a"), do("ZADD", "z", "INCR", "inf", "a"), do("ZSCORE", "z", "a"),
			do("ZADD", "z", "INCR", "1e308", "big"), do("ZADD", "z", "INCR", "1e308", "big"), do("ZADD", "z", "INCR", "-1e308", "big")}, show("z"))},
		{name: "zadd/incr-missing-key", steps: []step{
			do("ZADD", "nokey", "XX", "1", "a"), do("ZADD", "nokey", "XX", "CH", "1", "a"), do("ZADD", "nokey", "XX", "INCR", "1", "a"),
			do("EXISTS", "nokey"), do("ZADD", "nokey", "GT", "1", "a"), do("ZADD", "k2", "LT", "INCR", "5", "a"), do("ZADD", "k3", "NX", "CH", "1", "a"),
			do("ZRANGE", "nokey", "0", "-1", "WITHSCORES"), do("ZRANGE", "k2", "0", "-1", "WITHSCORES")}},
		{name: "zadd/duplicates", steps: steps([]step{
			do("ZADD", "z", "1", "a", "2", "a", "3", "a"), do("ZADD", "z", "CH", "3", "a", "4", "a"), do("ZADD", "z", "NX", "5", "b", "6", "b"),
			do("ZADD", "z", "CH", "4", "a", "4", "a")}, show("z"))},
		{name: "zincrby/basic", steps: steps([]step{
			do("ZINCRBY", "z", "1", "a"), do("ZINCRBY", "z", "-2.5", "a"), do("ZINCRBY", "z", "1e-5", "b"), do("ZINCRBY", "z", "0", "a"),
			do("ZINCRBY", "z", "inf", "c"), do("ZINCRBY", "z", "-inf", "c"), do("ZINCRBY", "z", "abc", "a"), do("ZINCRBY", "z", "nan", "a"),
			do("ZINCRBY", "z", "", "a"), do("ZINCRBY", "z", "nx", "1"), do("ZINCRBY", "z", "xx", "a"), do("ZINCRBY", "z", "incr", "a"),
			do("ZINCRBY", "z", "1"), do("ZINCRBY", "z", "1", "a", "b")}, show("z"))},
		{name: "zrem/basic", steps: steps([]step{
			do("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"), do("ZREM", "z", "a"), do("ZREM", "z", "a"), do("ZREM", "z", "b", "b", "x", "c"),
			do("ZREM", "nokey", "a"), do("ZREM", "z"), do("ZREM", "z", "d", "d"), do("EXISTS", "z"), do("ZCARD", "z")}, show("z"))},
		{name: "zrem/big", steps: steps([]step{
			do(zaddMany("z", 200, 0, 1, "m")...), do("ZREM", "z", "m000", "m100", "m199", "nope"), do("ZRANK", "z", "m150"),
			do("ZREVRANK", "z", "m150")}, show("z"))},
		{name: "zremrangebyrank/basic", steps: []step{
			do("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"), do("ZREMRANGEBYRANK", "z", "1", "2"), do("ZRANGE", "z", "0", "-1"),
			do("ZREMRANGEBYRANK", "z", "5", "10"), do("ZREMRANGEBYRANK", "z", "-1", "-1"), do("ZREMRANGEBYRANK", "z", "2", "1"),
			do("ZREMRANGEBYRANK", "z", "-100", "-3"), do("ZREMRANGEBYRANK", "z", "x", "1"), do("ZREMRANGEBYRANK", "z", "0", "1.5"),
			do("ZRANGE", "z", "0", "-1"), do("ZREMRANGEBYRANK", "z", "-100", "100"), do("EXISTS", "z"), do("ZREMRANGEBYRANK", "z", "0", "-1"),
			do("ZREMRANGEBYRANK", "z", "x", "y")}},
		{name: "zremrangebyrank/big", steps: steps([]step{
			do(zaddMany("z", 300, 0, 0.5, "m")...), do("ZREMRANGEBYRANK", "z", "10", "120"), do("ZREMRANGEBYRANK", "z", "-50", "-1"),
			do("ZREMRANGEBYRANK", "z", "0", "0")}, show("z"))},
		{name: "zremrangebyscore/basic", steps: []step{
			do("ZADD", "z", "-inf", "m", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "inf", "p"), do("ZREMRANGEBYSCORE", "z", "(1", "(3"),
			do("ZRANGE", "z", "0", "-1", "WITHSCORES"), do("ZREMRANGEBYSCORE", "z", "4", "3"), do("ZREMRANGEBYSCORE", "z", "(4", "4"),
			do("ZREMRANGEBYSCORE", "z", "inf", "inf"), do("ZREMRANGEBYSCORE", "z", "-inf", "-inf"), do("ZREMRANGEBYSCORE", "z", "x", "1"),
			do("ZREMRANGEBYSCORE", "z", "1", "nan"), do("ZREMRANGEBYSCORE", "nokey", "0", "1"), do("ZRANGE", "z", "0", "-1", "WITHSCORES"),
			do("ZREMRANGEBYSCORE", "z", "-inf", "+inf"), do("EXISTS", "z")}},
		{name: "zremrangebyscore/big", steps: steps([]step{
			do(zaddMany("z", 300, -100, 1, "m")...), do("ZREMRANGEBYSCORE", "z", "(-50", "50"), do("ZREMRANGEBYSCORE", "z", "190", "+inf")}, show("z"))},
		{name: "zremrangebylex/basic", steps: []step{
			do("ZADD", "z", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e", "0", "f"), do("ZREMRANGEBYLEX", "z", "[b", "(d"),
			do("ZRANGE", "z", "0", "-1"), do("ZREMRANGEBYLEX", "z", "(e", "+"), do("ZREMRANGEBYLEX", "z", "+", "-"), do("ZREMRANGEBYLEX", "z", "x", "+"),
			do("ZREMRANGEBYLEX", "z", "-", "x"), do("ZREMRANGEBYLEX", "z", "-", "+"), do("EXISTS", "z"), do("ZREMRANGEBYLEX", "nokey", "-", "+")}},
		{name: "zremrange/arity", steps: []step{
			do("ZREMRANGEBYRANK", "z", "0"), do("ZREMRANGEBYSCORE", "z", "0", "1", "2"), do("ZREMRANGEBYLEX", "z")}},
	}
}

// zsetScores are score arguments as clients write them, valid or not:
// strtod's grammar (hex, inf, infinity, exponents), Python repr floats,
// range limits and everything Redis's getDoubleFromObject refuses.
var zsetScores = []string{
	"1", "1.1", "0.1", "1e-5", "1795487167.033712", "1795487183.2362268", "-1", "0", "-0", "+0", "-0.0", "+1.5",
	"inf", "+inf", "-inf", "INF", "Infinity", "-infinity", "infinit", "infx", "inf ", "nan", "NaN", "-nan", "nan(123)",
	"1e308", "1.7976931348623157e308", "1.7976931348623159e308", "1e309", "-1e309", "2.2250738585072014e-308", "1e-320",
	"4.9e-324", "2e-324", "1e-400", "0x10", "0X1p4", "0x1.8p1", "0x.8", "0x1p-1074", "0x1p-1075", "0x1p1024", "0x", "0xg",
	"1e", "1e+", "1e-", "1E2", ".5", "5.", ".", "+.5e1", "-.5E-1", "00012", "1_000", "1,5", "--1", "+-1", "", " ", " 1",
	"1 ", "\t1", "1\n", "1\x00", "abc", "9007199254740993", "123456789012345678901234567890", "3.0000000000000000001",
	"100000000000000000", "1e17", "4503599627370496", "-4503599627370495", "0.30000000000000004", "1.5e300", "١",
}

// zsetBounds are range bounds: the scores plus the "(" forms and what
// zslParseRange accepts beyond getDoubleFromObject (spaces before, NUL
// after, out-of-range values, an empty string).
var zsetBounds = []string{
	"1", "(1", "1.1", "(1.1", "(", "((1", "[1", "-inf", "(-inf", "+inf", "(+inf", "inf", "(inf", "0", "(0", "-0", "(-0",
	"", " 1", "( 1", "1 ", "1\x00junk", "(\x00", "1e400", "-1e400", "1e-400", "nan", "(nan", "0x10", "(0x1p0", "abc",
	"1e17", "(100000000000000000", "3", "(3", "1e-5", "(1e-5", "infinity", "-Infinity", "\t2",
}

func zsetScoreCases() []diffCase {
	var cases []diffCase
	for i, s := range zsetScores {
		cases = append(cases, diffCase{name: label("zset/score", i, s), steps: []step{
			do("ZADD", "z", s, "m"), do("ZSCORE", "z", "m"), do("ZADD", "z", "INCR", s, "n"), do("ZINCRBY", "z", s, "m"),
			do("ZMSCORE", "z", "m", "n"), do("ZRANGE", "z", "0", "-1", "WITHSCORES"), do("ZUNION", "2", "z", "z", "WEIGHTS", s, "1", "WITHSCORES"),
			do("ZADD", "big", "CH", s, "long-member-name-that-is-longer-than-sixty-four-bytes-so-a-skiplist"),
			do("ZRANGE", "big", "0", "-1", "WITHSCORES"), do("ZSCAN", "z", "0")}})
	}
	base := []step{
		do("ZADD", "z", "-inf", "a", "-1.5", "b", "0", "c", "1e-5", "d", "1", "e", "1.1", "f", "3", "g", "1e17", "h", "inf", "i"),
		do("ZADD", "s", "-inf", "a", "-1.5", "b", "0", "c", "1e-5", "d", "1", "e", "1.1", "f", "3", "g", "1e17", "h", "inf", "i",
			"0", "long-member-name-that-is-longer-than-sixty-four-bytes-so-a-skiplist"),
	}
	for i, b := range zsetBounds {
		var st []step
		st = append(st, base...)
		for _, k := range []string{"z", "s"} {
			st = append(st,
				do("ZRANGEBYSCORE", k, b, "+inf", "WITHSCORES"), do("ZRANGEBYSCORE", k, "-inf", b), do("ZREVRANGEBYSCORE", k, b, "-inf", "WITHSCORES"),
				do("ZREVRANGEBYSCORE", k, "+inf", b), do("ZCOUNT", k, b, b), do("ZCOUNT", k, "-inf", b), do("ZRANGE", k, b, "(3", "BYSCORE"),
				do("ZRANGESTORE", "dst", k, b, "+inf", "BYSCORE"))
		}
		st = append(st, do("ZREMRANGEBYSCORE", "z", b, b), do("ZCARD", "z"), do("ZREMRANGEBYSCORE", "s", "-inf", b), do("ZCARD", "s"))
		cases = append(cases, diffCase{name: label("zset/bound", i, b), steps: st})
	}
	cases = append(cases,
		diffCase{name: "zset/neg-zero", steps: []step{
			do("ZADD", "z", "-0", "a"), do("ZSCORE", "z", "a"), do("ZINCRBY", "z", "-0", "a"), do("ZADD", "z", "INCR", "-0", "new"),
			do("ZSCORE", "z", "new"), do("ZRANGE", "z", "0", "-1", "WITHSCORES"), do("ZSCAN", "z", "0"), do("ZUNION", "1", "z", "WITHSCORES"),
			do("ZADD", "z", "-1", "b"), do("ZINCRBY", "z", "1", "b"), do("ZRANGEBYSCORE", "z", "-0", "(0", "WITHSCORES")}},
		diffCase{name: "zset/neg-zero-skiplist", steps: []step{
			do("CONFIG", "SET", "zset-max-listpack-entries", "0"), do("ZADD", "z", "-0", "a", "0", "b", "-1", "c"), do("OBJECT", "ENCODING", "z"),
			do("ZSCORE", "z", "a"), do("ZADD", "z", "INCR", "-0", "a"), do("ZADD", "z", "INCR", "1", "c"), do("ZRANGE", "z", "0", "-1", "WITHSCORES"),
			do("ZMSCORE", "z", "a", "b", "c"), do("ZUNION", "1", "z", "WITHSCORES"), do("ZINTER", "2", "z", "z", "WITHSCORES"),
			do("ZDIFF", "1", "z", "WITHSCORES"), do("CONFIG", "SET", "zset-max-listpack-entries", "128"), do("ZUNIONSTORE", "u", "1", "z"),
			do("OBJECT", "ENCODING", "u"), do("ZRANGE", "u", "0", "-1", "WITHSCORES"), do("ZRANGESTORE", "r", "z", "0", "-1"),
			do("ZRANGE", "r", "0", "-1", "WITHSCORES"), do("ZPOPMIN", "z", "3")},
			cleanup: zsetLimitsReset},
	)
	return cases
}

func zsetRangeCases() []diffCase {
	five := do("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e")
	lex := do("ZADD", "l", "0", "a", "0", "aa", "0", "ab", "0", "b", "0", "ba", "0", "c", "0", "d\x00x", "0", "\xff", "0", "A", "0", "")
	var rankSteps []step
	for _, r := range [][2]string{{"0", "-1"}, {"1", "3"}, {"-2", "-1"}, {"-100", "100"}, {"3", "1"}, {"5", "10"}, {"-1", "-2"},
		{"0", "0"}, {"4", "4"}, {"-5", "-5"}, {"-6", "-6"}, {"9223372036854775807", "9223372036854775807"},
		{"-9223372036854775808", "9223372036854775807"}, {"-9223372036854775808", "-9223372036854775808"}, {"x", "1"}, {"0", "1.5"},
		{"0", "9223372036854775808"}, {"", "1"}} {
		rankSteps = append(rankSteps, do("ZRANGE", "z", r[0], r[1]), do("ZRANGE", "z", r[0], r[1], "WITHSCORES"),
			do("ZREVRANGE", "z", r[0], r[1], "WITHSCORES"), do("ZRANGE", "z", r[0], r[1], "REV"))
	}
	var limitSteps []step
	for _, l := range [][2]string{{"0", "1"}, {"1", "2"}, {"0", "0"}, {"0", "-1"}, {"2", "-5"}, {"4", "10"}, {"5", "1"}, {"6", "1"},
		{"-1", "2"}, {"-1", "-1"}, {"3", "9223372036854775807"}, {"9223372036854775807", "1"}, {"x", "1"}, {"1", "x"}, {"1.5", "1"}} {
		limitSteps = append(limitSteps,
			do("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", l[0], l[1]), do("ZREVRANGEBYSCORE", "z", "+inf", "-inf", "WITHSCORES", "LIMIT", l[0], l[1]),
			do("ZRANGEBYSCORE", "z", "(1", "4", "LIMIT", l[0], l[1], "WITHSCORES"), do("ZREVRANGEBYSCORE", "z", "(5", "2", "LIMIT", l[0], l[1]),
			do("ZRANGEBYLEX", "l", "-", "+", "LIMIT", l[0], l[1]), do("ZREVRANGEBYLEX", "l", "+", "[a", "LIMIT", l[0], l[1]),
			do("ZRANGE", "z", "(1", "+inf", "BYSCORE", "LIMIT", l[0], l[1]), do("ZRANGE", "l", "[b", "-", "BYLEX", "REV", "LIMIT", l[0], l[1]),
			do("ZRANGESTORE", "dst", "z", "-inf", "+inf", "BYSCORE", "LIMIT", l[0], l[1]), do("ZRANGE", "dst", "0", "-1", "WITHSCORES"))
	}
	lexRanges := [][2]string{{"-", "+"}, {"+", "-"}, {"-", "-"}, {"+", "+"}, {"[a", "[b"}, {"(a", "(b"}, {"[a", "(a"}, {"[a", "[a"},
		{"(a", "[a"}, {"[aa", "+"}, {"-", "(b"}, {"[", "+"}, {"(", "+"}, {"-", "["}, {"[\xff", "+"}, {"(\xff", "+"}, {"[d", "[d\x00y"},
		{"[c", "[d"}, {"[b", "[a"}, {"a", "+"}, {"-", "b"}, {"", "+"}, {"+a", "+"}, {"-", "-a"}, {"+\x00", "-"}, {"-", "+\x00"},
		{"-\x00", "+"}, {"[A", "(a"}}
	var lexSteps []step
	for _, r := range lexRanges {
		lexSteps = append(lexSteps, do("ZRANGEBYLEX", "l", r[0], r[1]), do("ZREVRANGEBYLEX", "l", r[1], r[0]), do("ZLEXCOUNT", "l", r[0], r[1]),
			do("ZRANGE", "l", r[0], r[1], "BYLEX"), do("ZRANGE", "l", r[1], r[0], "BYLEX", "REV", "LIMIT", "1", "2"))
	}
	return []diffCase{
		{name: "zrange/rank", steps: append([]step{five}, rankSteps...)},
		{name: "zrange/limit", steps: append([]step{five, lex}, limitSteps...)},
		{name: "zrange/lex", steps: append([]step{lex}, lexSteps...)},
		{name: "zrange/lex-mixed-scores", steps: []step{
			do("ZADD", "l", "1", "a", "2", "b", "0", "c", "3", "d"), do("ZRANGEBYLEX", "l", "[b", "+"), do("ZRANGEBYLEX", "l", "-", "[c"),
			do("ZLEXCOUNT", "l", "[b", "[d"), do("ZREVRANGEBYLEX", "l", "+", "(a"), do("ZREVRANGEBYLEX", "l", "+", "-", "LIMIT", "1", "2"),
			do("ZRANGE", "l", "[c", "[b", "BYLEX", "REV"), do("ZRANGE", "l", "[a", "[c", "BYLEX", "LIMIT", "1", "5"), do("ZLEXCOUNT", "l", "(c", "+"),
			do("ZRANGEBYLEX", "l", "[d", "[a"), do("ZRANGESTORE", "d", "l", "[b", "+", "BYLEX"), do("ZRANGE", "d", "0", "-1", "WITHSCORES"),
			do("ZREMRANGEBYLEX", "l", "[b", "[c"), do("ZRANGE", "l", "0", "-1"), do("ZADD", "m", "5", "a", "1", "z", "3", "m", "2", "b"),
			do("ZRANGEBYLEX", "m", "[b", "[y"), do("ZREVRANGEBYLEX", "m", "[y", "[b"), do("ZLEXCOUNT", "m", "[b", "[y"), do("ZREMRANGEBYLEX", "m", "(a", "[n"),
			do("ZRANGE", "m", "0", "-1")}},
		{name: "zrange/options", steps: []step{
			five, do("ZRANGE", "z", "0", "-1", "LIMIT", "0", "1"), do("ZRANGE", "z", "0", "-1", "LIMIT", "0", "-1"), do("ZRANGE", "z", "0", "-1", "LIMIT", "3", "-1"),
			do("ZRANGE", "z", "0", "-1", "LIMIT", "0", "-2"), do("ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES"), do("ZRANGE", "z", "0", "-1", "foo"),
			do("ZRANGE", "z", "0", "-1", "LIMIT", "0"), do("ZRANGE", "z", "0", "-1", "LIMIT"), do("ZRANGE", "z", "0", "-1", "LIMIT", "a", "1"),
			do("ZRANGE", "z", "0", "-1", "LIMIT", "1", "a"), do("ZRANGE", "z", "(1", "5", "BYSCORE", "BYLEX"), do("ZRANGE", "z", "(1", "5", "BYSCORE", "BYSCORE"),
			do("ZRANGE", "z", "0", "-1", "REV", "REV"), do("ZRANGE", "z", "0", "-1", "WITHSCORES", "WITHSCORES"), do("ZREVRANGE", "z", "0", "-1", "REV"),
			do("ZREVRANGE", "z", "0", "-1", "BYSCORE"), do("ZRANGEBYSCORE", "z", "0", "1", "BYSCORE"), do("ZRANGEBYSCORE", "z", "0", "1", "REV"),
			do("ZRANGEBYLEX", "z", "-", "+", "WITHSCORES"), do("ZRANGEBYLEX", "z", "-", "+", "BYLEX"),
			do("ZRANGEBYSCORE", "z", "0", "10", "LIMIT", "0", "1", "LIMIT", "1", "2"), do("ZRANGEBYSCORE", "z", "x", "10", "LIMIT", "x", "1"),
			do("ZRANGEBYSCORE", "z", "x", "10", "foo"), do("ZRANGE", "z", "x", "1", "BYSCORE", "WITHSCORES"), do("ZRANGE", "z", "a", "b"),
			do("ZRANGE", "z", "5", "1", "BYSCORE", "REV", "WITHSCORES"), do("ZRANGE", "z", "[e", "[a", "BYLEX", "REV"), do("ZRANGE", "z", "0", "-1", "rev", "withscores"),
			do("ZRANGE", "z", "(1", "(5", "byscore", "limit", "1", "1", "withscores", "rev"), do("ZRANGE", "z", "(5", "(1", "byscore", "limit", "1", "1", "withscores", "rev"),
			do("ZRANGE", "z", "1"), do("ZRANGE", "z"), do("ZRANGEBYSCORE", "z", "1"), do("ZREVRANGEBYLEX", "z", "+"), do("ZREVRANGE", "z", "0"),
			do("ZRANGE", "nokey", "0", "-1"), do("ZRANGE", "nokey", "x", "-1"), do("ZRANGE", "nokey", "0", "-1", "LIMIT", "0", "1"),
			do("ZRANGEBYSCORE", "nokey", "0", "1", "WITHSCORES"), do("ZRANGEBYLEX", "nokey", "a", "b")}},
		{name: "zrange/big", steps: []step{
			do(zaddMany("z", 250, 0.5, 1.25, "m")...), do("OBJECT", "ENCODING", "z"), do("ZRANGE", "z", "100", "110", "WITHSCORES"),
			do("ZREVRANGE", "z", "0", "5", "WITHSCORES"), do("ZRANGE", "z", "-3", "-1"), do("ZRANGEBYSCORE", "z", "(100", "120", "WITHSCORES"),
			do("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "200", "10"), do("ZREVRANGEBYSCORE", "z", "+inf", "-inf", "LIMIT", "240", "100"),
			do("ZREVRANGEBYSCORE", "z", "(200", "100", "LIMIT", "3", "4", "WITHSCORES"), do("ZCOUNT", "z", "(100", "200"), do("ZCOUNT", "z", "-inf", "+inf"),
			do("ZRANK", "z", "m123"), do("ZREVRANK", "z", "m123"), do("ZRANK", "z", "nope"), do("ZSCORE", "z", "m249"),
			do("ZRANGE", "z", "0", "-1", "WITHSCORES"), do("ZRANGE", "z", "0", "-1", "REV")}},
		{name: "zrange/big-lex", steps: []step{
			do(zaddMany("l", 200, 0, 0, "w")...), do("ZRANGEBYLEX", "l", "[w100", "(w110"), do("ZREVRANGEBYLEX", "l", "(w150", "-", "LIMIT", "10", "5"),
			do("ZLEXCOUNT", "l", "(w010", "[w190"), do("ZRANGE", "l", "[w199", "[w195", "BYLEX", "REV"), do("ZREMRANGEBYLEX", "l", "-", "(w100"),
			do("ZCARD", "l"), do("ZRANGEBYLEX", "l", "-", "+", "LIMIT", "0", "3")}},
		{name: "zrank/basic", steps: []step{
			five, do("ZRANK", "z", "a"), do("ZRANK", "z", "e"), do("ZREVRANK", "z", "a"), do("ZREVRANK", "z", "e"), do("ZRANK", "z", "x"),
			do("ZREVRANK", "z", "x"), do("ZRANK", "nokey", "a"), do("ZREVRANK", "nokey", "a"), do("ZRANK", "z"), do("ZRANK", "z", "a", "withscore")}},
		{name: "zcount/basic", steps: []step{
			five, do("ZCOUNT", "z", "-inf", "+inf"), do("ZCOUNT", "z", "(1", "(5"), do("ZCOUNT", "z", "5", "1"), do("ZCOUNT", "z", "(3", "3"),
			do("ZCOUNT", "z", "x", "1"), do("ZCOUNT", "nokey", "0", "1"), do("ZCOUNT", "nokey", "x", "1"), do("ZCOUNT", "z", "1")}},
		{name: "zlexcount/basic", steps: []step{
			lex, do("ZLEXCOUNT", "l", "-", "+"), do("ZLEXCOUNT", "l", "[a", "[b"), do("ZLEXCOUNT", "nokey", "-", "+"), do("ZLEXCOUNT", "nokey", "x", "+"),
			do("ZLEXCOUNT", "l", "x", "+"), do("ZLEXCOUNT", "l", "-")}},
		{name: "zcard/zscore/zmscore", steps: []step{
			five, do("ZCARD", "z"), do("ZCARD", "nokey"), do("ZCARD"), do("ZCARD", "z", "x"), do("ZSCORE", "z", "c"), do("ZSCORE", "z"),
			do("ZMSCORE", "z", "a", "x", "e", "a"), do("ZMSCORE", "nokey", "a", "b"), do("ZMSCORE", "z")}},
		{name: "zrangestore/basic", steps: []step{
			five, do("ZRANGESTORE", "dst", "z", "1", "3"), do("ZRANGE", "dst", "0", "-1", "WITHSCORES"), do("OBJECT", "ENCODING", "dst"),
			do("ZRANGESTORE", "dst", "z", "(1", "4", "BYSCORE", "REV"), do("ZRANGESTORE", "dst", "z", "4", "(1", "BYSCORE", "REV", "LIMIT", "1", "1"),
			do("ZRANGE", "dst", "0", "-1", "WITHSCORES"), do("ZRANGESTORE", "dst", "z", "0", "-1", "WITHSCORES"), do("ZRANGESTORE", "dst", "z", "[a", "+", "BYLEX"),
			do("ZRANGESTORE", "dst", "z", "5", "10"), do("EXISTS", "dst"), do("SET", "dst", "str", "EX", "100"), do("ZRANGESTORE", "dst", "z", "0", "0"),
			do("TYPE", "dst"), do("TTL", "dst"), do("ZRANGESTORE", "dst", "nokey", "0", "-1"), do("EXISTS", "dst"), do("ZRANGESTORE", "z", "z", "1", "2"),
			do("ZRANGE", "z", "0", "-1", "WITHSCORES"), do("SET", "s", "x"), do("ZRANGESTORE", "z", "s", "0", "-1"), do("ZRANGE", "z", "0", "-1"),
			do("ZRANGESTORE", "s", "z", "0", "-1"), do("TYPE", "s"), do("ZRANGESTORE", "dst", "z", "x", "1"), do("ZRANGESTORE", "dst", "z", "0"),
			do("ZRANGESTORE", "dst", "z", "0", "1", "LIMIT", "0", "1"), do("ZRANGESTORE", "dst", "z", "a", "b", "BYSCORE"),
			do("ZRANGESTORE", "dst", "z", "a", "b", "BYLEX")}},
	}
}

func zsetPopCases() []diffCase {
	five := do("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e")
	return []diffCase{
		{name: "zpop/basic", steps: []step{
			five, do("ZPOPMIN", "z"), do("ZPOPMAX", "z"), do("ZPOPMIN", "z", "1"), do("ZPOPMAX", "z", "0"), do("ZPOPMIN", "z", "10"),
			do("EXISTS", "z"), do("ZPOPMIN", "z"), do("ZPOPMIN", "z", "2"), do("ZPOPMAX", "nokey", "0")}},
		{name: "zpop/errors", steps: []step{
			five, do("ZPOPMIN", "z", "-1"), do("ZPOPMIN", "z", "a"), do("ZPOPMIN", "z", "1.5"), do("ZPOPMAX", "z", "1", "2"), do("ZPOPMIN"),
			do("ZPOPMAX", "nokey", "-1"), do("SET", "s", "x"), do("ZPOPMIN", "s"), do("ZPOPMIN", "s", "0"), do("ZPOPMAX", "s", "-1"), do("ZCARD", "z")}},
		{name: "zpop/big", steps: []step{
			do(zaddMany("z", 200, 0, 1, "m")...), do("ZPOPMAX", "z", "3"), do("ZPOPMIN", "z", "72"), do("ZCARD", "z"), do("OBJECT", "ENCODING", "z"),
			do("ZPOPMIN", "z", "1000"), do("EXISTS", "z")}},
		{name: "zmpop/basic", steps: []step{
			five, do("ZADD", "y", "10", "x"), do("ZMPOP", "1", "z", "MIN"), do("ZMPOP", "1", "z", "max"), do("ZMPOP", "2", "nokey", "z", "MIN", "COUNT", "2"),
			do("ZMPOP", "2", "z", "y", "MAX", "COUNT", "10"), do("ZMPOP", "2", "z", "y", "MAX", "COUNT", "10"), do("ZMPOP", "2", "z", "y", "MIN"),
			do("EXISTS", "y")}},
		{name: "zmpop/errors", steps: []step{
			five, do("SET", "s", "x"), do("ZMPOP", "0", "z", "MIN"), do("ZMPOP", "-1", "z", "MIN"), do("ZMPOP", "x", "z", "MIN"), do("ZMPOP", "1", "z", "foo"),
			do("ZMPOP", "2", "z", "MIN"), do("ZMPOP", "3", "z", "MIN"), do("ZMPOP", "1", "z", "MIN", "COUNT"), do("ZMPOP", "1", "z", "MIN", "COUNT", "0"),
			do("ZMPOP", "1", "z", "MIN", "COUNT", "-1"), do("ZMPOP", "1", "z", "MIN", "COUNT", "x"), do("ZMPOP", "1", "z", "MIN", "COUNT", "1", "COUNT", "1"),
			do("ZMPOP", "1", "z", "MIN", "foo"), do("ZMPOP", "2", "nokey", "s", "MIN"), do("ZMPOP", "2", "s", "z", "MIN"), do("ZMPOP", "2", "z", "s", "MIN"),
			do("ZMPOP", "1", "nokey", "MIN"), do("ZMPOP", "1", "z"), do("ZMPOP", "9223372036854775807", "z", "MIN"), do("ZCARD", "z")}},
		{name: "bzpop/immediate", steps: []step{
			five, do("ZADD", "y", "10", "x"), do("BZPOPMIN", "z", "0"), do("BZPOPMAX", "z", "0"), do("BZPOPMIN", "nokey", "y", "z", "1"),
			do("BZPOPMAX", "nokey", "z", "0.5"), do("EXISTS", "y"), do("BZPOPMIN", "y", "0.01"), do("BZMPOP", "0", "2", "nokey", "z", "MIN", "COUNT", "5"),
			do("EXISTS", "z")}},
		{name: "bzpop/timeouts", steps: []step{
			five, do("SET", "s", "x"), do("BZPOPMIN", "z", "abc"), do("BZPOPMIN", "z", "-1"), do("BZPOPMIN", "z", "-0.001"), do("BZPOPMIN", "z", "1e400"),
			do("BZPOPMIN", "z", "inf"), do("BZPOPMIN", "z", "nan"), do("BZPOPMIN", "z", ""), do("BZPOPMIN", "z", " 1"), do("BZPOPMIN", "z", "0x10"),
			do("BZPOPMIN", "z", "9223372036854775807"), do("BZPOPMIN", "z", "1e20"), do("BZPOPMAX", "s", "abc"), do("BZPOPMAX", "s", "1"),
			do("BZPOPMIN", "nokey", "s", "1"), do("BZPOPMIN", "z", "0.0001"), do("BZMPOP", "abc", "1", "z", "MIN"), do("BZMPOP", "-1", "1", "z", "MIN"),
			do("BZMPOP", "1", "0", "z", "MIN"), do("BZMPOP", "1", "1", "z", "foo"), do("BZMPOP", "1", "1", "z", "MIN", "COUNT", "0"),
			do("BZMPOP", "abc", "1", "s", "MIN"), do("BZMPOP", "0", "1", "s", "MIN"), do("BZPOPMIN", "z"), do("BZMPOP", "0", "1", "z"),
			do("ZCARD", "z")}},
		{name: "bzpop/short-timeout", steps: []step{
			do("BZPOPMIN", "nokey", "0.01"), do("BZPOPMAX", "nokey", "other", "0.02"), do("BZMPOP", "0.01", "2", "nokey", "other", "MAX", "COUNT", "3")}},
	}
}

func zsetOpCases() []diffCase {
	setup := []step{
		do("ZADD", "a", "1", "x", "2", "y", "3", "z"), do("ZADD", "b", "10", "y", "20", "z", "30", "w"), do("ZADD", "c", "100", "z", "200", "v"),
	}
	var opSteps []step
	for _, cmd := range []string{"ZUNION", "ZINTER", "ZDIFF"} {
		opSteps = append(opSteps,
			do(cmd, "1", "a"), do(cmd, "2", "a", "b"), do(cmd, "3", "a", "b", "c", "WITHSCORES"), do(cmd, "2", "a", "nokey", "WITHSCORES"),
			do(cmd, "2", "nokey", "a", "withscores"), do(cmd, "2", "a", "a", "WITHSCORES"), do(cmd, "2", "a", "b", "WEIGHTS", "2", "3", "WITHSCORES"),
			do(cmd, "2", "a", "b", "AGGREGATE", "MIN", "WITHSCORES"), do(cmd, "2", "a", "b", "AGGREGATE", "max", "WEIGHTS", "1", "-1", "WITHSCORES"),
			do(cmd, "2", "a", "b", "AGGREGATE", "sum", "AGGREGATE", "max", "WITHSCORES"), do(cmd, "2", "a", "b", "WEIGHTS", "1"),
			do(cmd, "2", "a", "b", "WEIGHTS", "1", "x"), do(cmd, "2", "a", "b", "WEIGHTS", "1", "nan"), do(cmd, "2", "a", "b", "AGGREGATE", "avg"),
			do(cmd, "2", "a", "b", "AGGREGATE"), do(cmd, "2", "a", "b", "WITHSCORES", "foo"), do(cmd, "0", "a"), do(cmd, "-1", "a"), do(cmd, "x", "a"),
			do(cmd, "3", "a", "b"), do(cmd, "1", "a", "b"), do(cmd, "2", "a", "s"), do(cmd, "2", "s", "a", "WEIGHTS", "x"), do(cmd, "2", "nokey", "s"),
			do(cmd, "1"), do(cmd, "2", "a", "b", "LIMIT", "1"))
		store := cmd + "STORE"
		opSteps = append(opSteps,
			do(store, "dst", "2", "a", "b"), do("ZRANGE", "dst", "0", "-1", "WITHSCORES"), do("OBJECT", "ENCODING", "dst"),
			do(store, "dst", "3", "a", "b", "c", "WEIGHTS", "1", "2", "3", "AGGREGATE", "MAX"), do("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
			do(store, "dst", "2", "a", "b", "WITHSCORES"), do(store, "dst", "1", "nokey"), do("EXISTS", "dst"), do("SET", "dst", "v", "EX", "100"),
			do(store, "dst", "1", "a"), do("TYPE", "dst"), do("TTL", "dst"), do(store, "dst", "2", "a", "s"), do("TYPE", "dst"),
			do(store, "dst", "0", "a"), do(store, "dst", "2", "a"), do(store, "dst"), do(store, "dst", "x", "a"),
			do("ZADD", "self", "1", "p", "2", "q"), do(store, "self", "2", "self", "a", "WEIGHTS", "2", "2"), do("ZRANGE", "self", "0", "-1", "WITHSCORES"),
			do(store, "self", "2", "self", "self"), do("EXISTS", "self"))
	}
	return []diffCase{
		{name: "zsetops/all", steps: steps(setup, []step{do("SET", "s", "str")}, opSteps)},
		{name: "zsetops/inf-nan", steps: []step{
			do("ZADD", "p", "inf", "x", "-inf", "y", "0", "z", "1", "w"), do("ZADD", "n", "-inf", "x", "inf", "y", "inf", "z", "-1", "w"),
			do("ZUNION", "2", "p", "n", "WITHSCORES"), do("ZINTER", "2", "p", "n", "WITHSCORES"), do("ZUNION", "2", "p", "n", "WEIGHTS", "0", "1", "WITHSCORES"),
			do("ZINTER", "2", "p", "n", "WEIGHTS", "0", "0", "WITHSCORES"), do("ZUNION", "2", "p", "n", "AGGREGATE", "MIN", "WITHSCORES"),
			do("ZINTER", "2", "p", "n", "AGGREGATE", "MAX", "WEIGHTS", "-1", "inf", "WITHSCORES"), do("ZUNION", "1", "p", "WEIGHTS", "-inf", "WITHSCORES"),
			do("ZUNION", "1", "p", "WEIGHTS", "1e308", "WITHSCORES"), do("ZUNIONSTORE", "d", "2", "p", "n", "WEIGHTS", "inf", "inf"),
			do("ZRANGE", "d", "0", "-1", "WITHSCORES"), do("ZDIFF", "2", "p", "n", "WITHSCORES")}},
		{name: "zsetops/float-order", steps: []step{
			// The sum order follows the inputs sorted by size, stably.
			do("ZADD", "a", "0.1", "x"), do("ZADD", "b", "0.2", "x"), do("ZADD", "c", "0.3", "x"), do("ZADD", "d", "0.2", "x", "1", "y"),
			do("ZUNION", "3", "a", "b", "c", "WITHSCORES"), do("ZUNION", "3", "c", "b", "a", "WITHSCORES"), do("ZUNION", "3", "b", "c", "a", "WITHSCORES"),
			do("ZUNION", "3", "a", "c", "b", "WITHSCORES"), do("ZUNION", "3", "d", "a", "c", "WITHSCORES"), do("ZUNION", "3", "d", "c", "a", "WITHSCORES"),
			do("ZINTER", "3", "a", "c", "b", "WITHSCORES"), do("ZINTER", "3", "d", "c", "a", "WITHSCORES"), do("ZINTER", "2", "d", "c", "WITHSCORES")}},
		{name: "zsetops/with-sets", steps: []step{
			do("ZADD", "z", "1", "a", "2", "b", "3", "1"), do("SADD", "s", "a", "c", "1"), do("SADD", "i", "1", "2", "3"),
			do("ZUNION", "2", "z", "s", "WITHSCORES"), do("ZINTER", "2", "z", "s", "WITHSCORES"), do("ZDIFF", "2", "z", "s", "WITHSCORES"),
			do("ZDIFF", "2", "s", "z", "WITHSCORES"), do("ZUNION", "3", "s", "i", "z", "WEIGHTS", "2", "3", "4", "WITHSCORES"),
			do("ZINTER", "2", "i", "z", "WITHSCORES"), do("ZINTERCARD", "2", "s", "z"), do("ZUNIONSTORE", "d", "1", "i"),
			do("ZRANGE", "d", "0", "-1", "WITHSCORES"), do("ZINTER", "2", "s", "s", "WITHSCORES")}},
		{name: "zintercard/basic", steps: steps(setup, []step{
			do("SET", "s", "str"), do("ZINTERCARD", "2", "a", "b"), do("ZINTERCARD", "3", "a", "b", "c"), do("ZINTERCARD", "1", "a"),
			do("ZINTERCARD", "2", "a", "nokey"), do("ZINTERCARD", "2", "a", "b", "LIMIT", "1"), do("ZINTERCARD", "2", "a", "b", "LIMIT", "0"),
			do("ZINTERCARD", "2", "a", "b", "LIMIT", "5"), do("ZINTERCARD", "2", "a", "b", "LIMIT", "-1"), do("ZINTERCARD", "2", "a", "b", "LIMIT", "x"),
			do("ZINTERCARD", "2", "a", "b", "LIMIT"), do("ZINTERCARD", "2", "a", "b", "WITHSCORES"), do("ZINTERCARD", "2", "a", "b", "WEIGHTS", "1", "2"),
			do("ZINTERCARD", "0", "a"), do("ZINTERCARD", "x", "a"), do("ZINTERCARD", "3", "a", "b"), do("ZINTERCARD", "2", "a", "s"),
			do("ZINTERCARD", "1")})},
		{name: "zsetops/big", steps: []step{
			do(zaddMany("a", 200, 0, 1, "m")...), do(zaddMany("b", 150, 1000, -2, "m")...), do("ZUNIONSTORE", "u", "2", "a", "b"), do("OBJECT", "ENCODING", "u"),
			do("ZRANGE", "u", "0", "-1", "WITHSCORES"), do("ZINTERSTORE", "i", "2", "a", "b", "AGGREGATE", "MIN"), do("OBJECT", "ENCODING", "i"),
			do("ZRANGE", "i", "0", "-1", "WITHSCORES"), do("ZDIFFSTORE", "d", "2", "a", "b"), do("OBJECT", "ENCODING", "d"), do("ZRANGE", "d", "0", "-1", "WITHSCORES"),
			do("ZINTERCARD", "2", "a", "b", "LIMIT", "100"), do("ZINTER", "2", "a", "b", "WEIGHTS", "0.5", "2", "WITHSCORES")}},
	}
}

func zsetMiscCases() []diffCase {
	var wrongType []step
	for _, cmd := range [][]string{
		{"ZADD", "s", "1", "a"}, {"ZADD", "s", "XX", "1", "a"}, {"ZADD", "s", "INCR", "1", "a"}, {"ZADD", "s", "x", "a"}, {"ZINCRBY", "s", "1", "a"},
		{"ZREM", "s", "a"}, {"ZSCORE", "s", "a"}, {"ZMSCORE", "s", "a"}, {"ZCARD", "s"}, {"ZCOUNT", "s", "0", "1"}, {"ZCOUNT", "s", "x", "1"},
		{"ZLEXCOUNT", "s", "-", "+"}, {"ZRANGE", "s", "0", "-1"}, {"ZRANGE", "s", "x", "-1"}, {"ZRANGESTORE", "d", "s", "0", "-1"},
		{"ZRANGEBYSCORE", "s", "0", "1"}, {"ZREVRANGEBYSCORE", "s", "1", "0"}, {"ZRANGEBYLEX", "s", "-", "+"}, {"ZREVRANGEBYLEX", "s", "+", "-"},
		{"ZREVRANGE", "s", "0", "-1"}, {"ZRANK", "s", "a"}, {"ZREVRANK", "s", "a"}, {"ZREMRANGEBYSCORE", "s", "0", "1"},
		{"ZREMRANGEBYRANK", "s", "0", "1"}, {"ZREMRANGEBYLEX", "s", "-", "+"}, {"ZPOPMIN", "s"}, {"ZPOPMAX", "s", "2"}, {"BZPOPMIN", "s", "1"},
		{"BZPOPMAX", "s", "1"}, {"ZMPOP", "1", "s", "MIN"}, {"BZMPOP", "1", "1", "s", "MAX"}, {"ZUNION", "1", "s"}, {"ZINTER", "1", "s"},
		{"ZDIFF", "1", "s"}, {"ZUNIONSTORE", "d", "1", "s"}, {"ZINTERSTORE", "d", "1", "s"}, {"ZDIFFSTORE", "d", "1", "s"},
		{"ZINTERCARD", "1", "s"}, {"ZRANDMEMBER", "s"}, {"ZRANDMEMBER", "s", "1"}, {"ZRANDMEMBER", "s", "x"}, {"ZSCAN", "s", "0"},
		{"ZSCAN", "s", "x"}, {"ZSCAN", "s", "0", "COUNT", "0"},
	} {
		wrongType = append(wrongType, do(cmd...), do("GET", "s"), do("EXISTS", "d"))
	}
	return []diffCase{
		{name: "zset/wrongtype-string", steps: append([]step{do("SET", "s", "str")}, wrongType...)},
		{name: "zset/wrongtype-list", steps: []step{
			do("RPUSH", "s", "a"), do("ZADD", "s", "1", "a"), do("ZRANGE", "s", "0", "-1"), do("ZUNION", "1", "s"), do("ZPOPMIN", "s"),
			do("ZADD", "z", "1", "a"), do("LPUSH", "z", "a"), do("GET", "z"), do("SADD", "z", "a"), do("HSET", "z", "f", "v"), do("ZCARD", "z")}},
		{name: "zset/generic", steps: []step{
			do("ZADD", "z", "1", "a", "2.5", "b"), do("TYPE", "z"), do("OBJECT", "ENCODING", "z"), do("EXISTS", "z"), do("COPY", "z", "c"),
			do("ZADD", "c", "3", "x"), do("ZRANGE", "z", "0", "-1", "WITHSCORES"), do("ZRANGE", "c", "0", "-1", "WITHSCORES"), do("OBJECT", "ENCODING", "c"),
			do("RENAME", "c", "r"), do("ZRANGE", "r", "0", "-1", "WITHSCORES"), do("EXPIRE", "r", "100"), do("ZADD", "r", "4", "y"), ttl("TTL", "r"),
			do("ZPOPMIN", "r"), ttl("TTL", "r"), do("MOVE", "r", "1"), do("SELECT", "1"), do("ZCARD", "r"), do("SELECT", "0"), do("SET", "z", "s"),
			do("TYPE", "z"), do("DEL", "z"), do("ZADD", "z", "1", "a"), do("DBSIZE"), do("KEYS", "*")}},
		{name: "zset/copy-big", steps: []step{
			do(zaddMany("z", 150, 0, 1, "m")...), do("COPY", "z", "c"), do("OBJECT", "ENCODING", "c"), do("ZREM", "z", "m000"), do("ZCARD", "c"),
			do("ZRANGE", "c", "0", "2", "WITHSCORES")}},
		{name: "zrandmember/deterministic", steps: []step{
			do("ZADD", "one", "1.5", "a"), do("ZRANDMEMBER", "one"), do("ZRANDMEMBER", "one", "1"), do("ZRANDMEMBER", "one", "3"), do("ZRANDMEMBER", "one", "-3"),
			do("ZRANDMEMBER", "one", "-3", "WITHSCORES"), do("ZRANDMEMBER", "one", "5", "withscores"), do("ZRANDMEMBER", "one", "0"),
			do("ZRANDMEMBER", "one", "0", "WITHSCORES"), do("ZRANDMEMBER", "nokey"), do("ZRANDMEMBER", "nokey", "5"), do("ZRANDMEMBER", "nokey", "-5", "WITHSCORES"),
			do("ZADD", "z", "1", "a", "2", "b", "3", "c"), do("ZRANDMEMBER", "z", "3", "WITHSCORES"), do("ZRANDMEMBER", "z", "100")}},
		{name: "zrandmember/errors", steps: []step{
			do("ZADD", "z", "1", "a", "2", "b"), do("ZRANDMEMBER", "z", "x"), do("ZRANDMEMBER", "z", "1.5"), do("ZRANDMEMBER", "z", "-9223372036854775808"),
			do("ZRANDMEMBER", "z", "9223372036854775808"), do("ZRANDMEMBER", "z", "1", "foo"), do("ZRANDMEMBER", "z", "1", "WITHSCORES", "x"),
			do("ZRANDMEMBER", "z", "4611686018427387904", "WITHSCORES"), do("ZRANDMEMBER", "z", "-4611686018427387904", "WITHSCORES"),
			do("ZRANDMEMBER", "z", "x", "foo"), do("ZRANDMEMBER", "nokey", "x"), do("ZRANDMEMBER", "nokey", "1", "foo"), do("ZRANDMEMBER")}},
		// Random picks: only the shape (types and sizes) is comparable.
		{name: "zrandmember/random", steps: []step{
			do(zaddMany("z", 10, 0, 1, "m")...), do(zaddMany("big", 200, 0, 1, "m")...), shape("ZRANDMEMBER", "z"), shape("ZRANDMEMBER", "z", "3"),
			shape("ZRANDMEMBER", "z", "-15"), shape("ZRANDMEMBER", "z", "9", "WITHSCORES"), shape("ZRANDMEMBER", "z", "-4", "WITHSCORES"),
			shape("ZRANDMEMBER", "big", "50", "WITHSCORES"), shape("ZRANDMEMBER", "big", "190"), shape("ZRANDMEMBER", "big", "-300"),
			unordered("ZRANDMEMBER", "z", "10"), unordered("ZRANDMEMBER", "z", "11", "WITHSCORES")}},
		{name: "zscan/listpack", steps: []step{
			do("ZADD", "z", "1", "a", "1.1", "b", "-0", "c", "inf", "d", "1e17", "e", "3", "aa"), do("ZSCAN", "z", "0"), do("ZSCAN", "z", "0", "COUNT", "1"),
			do("ZSCAN", "z", "0", "MATCH", "a*"), do("ZSCAN", "z", "0", "MATCH", "x*"), do("ZSCAN", "z", "0", "match", "*", "count", "100"),
			do("ZSCAN", "z", "0", "COUNT", "0"), do("ZSCAN", "z", "0", "COUNT", "-1"), do("ZSCAN", "z", "0", "COUNT", "x"), do("ZSCAN", "z", "0", "TYPE", "zset"),
			do("ZSCAN", "z", "0", "MATCH"), do("ZSCAN", "z", "x"), do("ZSCAN", "z", "-1"), do("ZSCAN", "z", ""), do("ZSCAN", "z", "18446744073709551616"),
			do("ZSCAN", "nokey", "0"), do("ZSCAN", "nokey", "0", "COUNT", "0"), do("ZSCAN", "nokey", "x"), do("ZSCAN", "z")}},
		{name: "zset/getkeys", steps: []step{
			do("COMMAND", "GETKEYS", "ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"), do("COMMAND", "GETKEYS", "ZUNIONSTORE", "d", "0", "a"),
			do("COMMAND", "GETKEYS", "ZUNION", "5", "a"), do("COMMAND", "GETKEYS", "ZUNION", "2abc", "a", "b"), do("COMMAND", "GETKEYS", "ZUNION", " 1", "a"),
			do("COMMAND", "GETKEYS", "ZUNION", "-2", "a", "b"), do("COMMAND", "GETKEYS", "ZINTER", "2", "a", "b", "WITHSCORES"),
			do("COMMAND", "GETKEYS", "ZDIFF", "1", "a"), do("COMMAND", "GETKEYS", "ZINTERCARD", "1", "a", "LIMIT", "2"),
			do("COMMAND", "GETKEYS", "ZDIFFSTORE", "d", "1", "a"), do("COMMAND", "GETKEYS", "ZINTERSTORE", "d", "2", "a"),
			do("COMMAND", "GETKEYS", "ZMPOP", "2", "a", "b", "MIN"), do("COMMAND", "GETKEYS", "ZMPOP", "2", "a", "min"), do("COMMAND", "GETKEYS", "ZMPOP", "3", "a", "min"),
			do("COMMAND", "GETKEYS", "BZMPOP", "0", "2", "a", "b", "MIN"), do("COMMAND", "GETKEYS", "BZMPOP", "0", "x", "a", "b", "MIN"),
			do("COMMAND", "GETKEYS", "BZPOPMIN", "a", "b", "0"), do("COMMAND", "GETKEYS", "ZRANGESTORE", "d", "s", "0", "-1"),
			do("COMMAND", "GETKEYS", "ZADD", "k", "1", "a"), do("COMMAND", "GETKEYS", "ZUNION", "99999999999999999999", "a")}},
		{name: "kombu/unacked-index", steps: []step{
			do("ZADD", "unacked_index", "1795487183.2362268", "b37d1f2e-1"), do("ZADD", "unacked_index", "1795487185.4058571", "c42c0a11-2"),
			do("ZADD", "unacked_index", "1795487167.033712", "a11a9b3c-3"), do("ZADD", "unacked_index", "1795487190.0", "d0d0e0e0-4"),
			do("ZREVRANGEBYSCORE", "unacked_index", "1795487187.1599422", "0", "WITHSCORES"),
			do("ZREVRANGEBYSCORE", "unacked_index", "1795487187.1599422", "0", "WITHSCORES", "LIMIT", "0", "2"),
			do("ZREVRANGEBYSCORE", "unacked_index", "1795487187.1599422", "0", "LIMIT", "0", "1", "WITHSCORES"),
			do("ZREM", "unacked_index", "c42c0a11-2"), do("ZREVRANGEBYSCORE", "unacked_index", "1795487187.1599422", "0", "WITHSCORES"),
			do("ZREM", "unacked_index", "a11a9b3c-3", "b37d1f2e-1", "d0d0e0e0-4"), do("EXISTS", "unacked_index"),
			do("ZREVRANGEBYSCORE", "unacked_index", "1795487187.1599422", "0", "WITHSCORES")}},
		{name: "kombu/unacked-index-big", steps: []step{
			do(zaddMany("unacked_index", 300, 1795487100.0123, 0.37, "tag-")...),
			do("ZREVRANGEBYSCORE", "unacked_index", "1795487187.1599422", "0", "WITHSCORES", "LIMIT", "0", "10"),
			do("ZREVRANGEBYSCORE", "unacked_index", "1795487150", "0", "WITHSCORES"), do("ZCARD", "unacked_index")}},
		{name: "redbeat/schedule", steps: []step{
			do("ZADD", "nadoo:redbeat::schedule", "1795487265", "nadoo:task-a"), do("ZADD", "nadoo:redbeat::schedule", "-1", "nadoo:task-b"),
			do("ZADD", "nadoo:redbeat::schedule", "1795487268.5", "nadoo:task-c", "1795487300", "nadoo:task-d"),
			do("ZRANGEBYSCORE", "nadoo:redbeat::schedule", "0", "1795487265"),
			do("ZRANGEBYSCORE", "nadoo:redbeat::schedule", "(1795487265", "1795487270", "LIMIT", "0", "1"),
			do("ZRANGEBYSCORE", "nadoo:redbeat::schedule", "(1795487265", "1795487270.0", "LIMIT", "0", "1"),
			do("ZRANGEBYSCORE", "nadoo:redbeat::schedule", "(1795487270", "1795487275.0", "LIMIT", "0", "1"),
			do("ZRANK", "nadoo:redbeat::schedule", "nadoo:task-c"), do("ZRANK", "nadoo:redbeat::schedule", "nadoo:nope"),
			do("ZADD", "nadoo:redbeat::schedule", "1795487330", "nadoo:task-a"), do("ZRANGE", "nadoo:redbeat::schedule", "0", "-1", "WITHSCORES"),
			do("ZREM", "nadoo:redbeat::schedule", "nadoo:task-b"), do("ZRANGEBYSCORE", "nadoo:redbeat::schedule", "0", "1795487300")}},
		{name: "celery/chord", steps: []step{
			do("ZADD", "celery-taskset-meta-804e.j", "0", `[1, "3122", "SUCCESS", 0]`), do("ZCOUNT", "celery-taskset-meta-804e.j", "-inf", "+inf"),
			do("ZADD", "celery-taskset-meta-804e.j", "+inf", `[1, "3123", "SUCCESS", 1]`), do("ZADD", "celery-taskset-meta-804e.j", "2", `[1, "3124", "FAILURE", null]`),
			do("ZCOUNT", "celery-taskset-meta-804e.j", "-inf", "+inf"), do("EXPIRE", "celery-taskset-meta-804e.j", "86400"),
			do("ZRANGE", "celery-taskset-meta-804e.j", "0", "-1"), do("ZRANGE", "celery-taskset-meta-804e.j", "0", "-1", "WITHSCORES"),
			do("DEL", "celery-taskset-meta-804e.j"), do("ZRANGE", "celery-taskset-meta-804e.j", "0", "-1")}},
	}
}

func zsetEncodingCases() []diffCase {
	long64 := strings.Repeat("x", 64)
	long65 := strings.Repeat("y", 65)
	return []diffCase{
		{name: "encoding/entries-boundary", steps: []step{
			do(zaddMany("z", 128, 0, 1, "m")...), do("OBJECT", "ENCODING", "z"), do("ZADD", "z", "5", "m005"), do("OBJECT", "ENCODING", "z"),
			do("ZINCRBY", "z", "1", "m000"), do("OBJECT", "ENCODING", "z"), do("ZADD", "z", "XX", "1", "new"), do("OBJECT", "ENCODING", "z"),
			do("ZADD", "z", "1000", "new"), do("OBJECT", "ENCODING", "z"), do("ZREM", "z", "new", "m001"), do("OBJECT", "ENCODING", "z"),
			do("ZPOPMIN", "z", "100"), do("OBJECT", "ENCODING", "z"), do(zaddMany("y", 129, 0, 1, "m")...), do("OBJECT", "ENCODING", "y"),
			do(zaddMany("x", 127, 0, 1, "m")...), do("ZADD", "x", "1", "a", "2", "b"), do("OBJECT", "ENCODING", "x"), do("ZINCRBY", "w", "1", "a"),
			do("OBJECT", "ENCODING", "w")}},
		{name: "encoding/value-boundary", steps: []step{
			do("ZADD", "a", "1", long64), do("OBJECT", "ENCODING", "a"), do("ZADD", "b", "1", long65), do("OBJECT", "ENCODING", "b"),
			do("ZADD", "c", "1", "short", "2", long65), do("OBJECT", "ENCODING", "c"), do("ZADD", "d", "1", long65, "2", "short"), do("OBJECT", "ENCODING", "d"),
			do("ZADD", "a", "XX", "1", long65), do("OBJECT", "ENCODING", "a"), do("ZADD", "a", "NX", "2", long64), do("OBJECT", "ENCODING", "a"),
			do("ZINCRBY", "a", "1", long65), do("OBJECT", "ENCODING", "a"), do("ZREM", "a", long65), do("OBJECT", "ENCODING", "a"),
			do("ZADD", "e", "INCR", "1", long65), do("OBJECT", "ENCODING", "e")}},
		{name: "encoding/store-results", steps: []step{
			do(zaddMany("big", 129, 0, 1, "m")...), do("ZADD", "long", "1", long65, "2", "b"), do("ZRANGESTORE", "d", "big", "0", "127"),
			do("OBJECT", "ENCODING", "d"), do("ZRANGESTORE", "d", "big", "0", "128"), do("OBJECT", "ENCODING", "d"), do("ZRANGESTORE", "d", "big", "-inf", "127", "BYSCORE"),
			do("OBJECT", "ENCODING", "d"), do("ZRANGESTORE", "d", "big", "-inf", "128", "BYSCORE"), do("OBJECT", "ENCODING", "d"),
			do("ZRANGESTORE", "d", "long", "0", "-1"), do("OBJECT", "ENCODING", "d"), do("ZRANGESTORE", "d", "long", "1", "1"), do("OBJECT", "ENCODING", "d"),
			do("ZUNIONSTORE", "d", "1", "big"), do("OBJECT", "ENCODING", "d"), do("ZREM", "big", "m000"), do("OBJECT", "ENCODING", "big"),
			do("ZUNIONSTORE", "d", "1", "big"), do("OBJECT", "ENCODING", "d"), do("ZINTERSTORE", "d", "2", "big", "long"), do("OBJECT", "ENCODING", "d"),
			do("ZUNIONSTORE", "d", "2", "big", "long"), do("OBJECT", "ENCODING", "d"), do("ZDIFFSTORE", "d", "2", "long", "big"), do("OBJECT", "ENCODING", "d"),
			do("ZADD", "b2", "1", "b"), do("ZDIFFSTORE", "d", "2", "long", "b2"), do("OBJECT", "ENCODING", "d"), do("ZDIFFSTORE", "d", "2", "long", "long"),
			do("EXISTS", "d"), do("COPY", "big", "cp"), do("OBJECT", "ENCODING", "cp")}},
		{name: "encoding/config", steps: []step{
			do("CONFIG", "SET", "zset-max-listpack-entries", "0"), do("ZADD", "a", "1", "x"), do("OBJECT", "ENCODING", "a"),
			do("CONFIG", "SET", "zset-max-listpack-entries", "2"), do("ZADD", "b", "1", "x", "2", "y"), do("OBJECT", "ENCODING", "b"), do("ZADD", "b", "3", "z"),
			do("OBJECT", "ENCODING", "b"), do("ZADD", "c", "1", "x", "2", "y", "3", "z"), do("OBJECT", "ENCODING", "c"),
			do("CONFIG", "SET", "zset-max-listpack-value", "3"), do("ZADD", "d", "1", "abc"), do("OBJECT", "ENCODING", "d"), do("ZADD", "e", "1", "abcd"),
			do("OBJECT", "ENCODING", "e"), do("CONFIG", "SET", "zset-max-listpack-entries", "128"), do("CONFIG", "SET", "zset-max-listpack-value", "64"),
			do("OBJECT", "ENCODING", "e"), do("ZADD", "e", "2", "f"), do("OBJECT", "ENCODING", "e"), do("ZUNIONSTORE", "e", "1", "e"), do("OBJECT", "ENCODING", "e"),
			do("CONFIG", "SET", "zset-max-ziplist-entries", "1"), do("ZADD", "f", "1", "a", "2", "b"), do("OBJECT", "ENCODING", "f"),
			do("CONFIG", "GET", "zset-max-listpack-entries")},
			cleanup: zsetLimitsReset},
	}
}

// TestDiffZSetScanSkiplist iterates ZSCAN over skiplist-encoded sets on
// both servers and compares the (member, score) pairs seen: cursors are an
// implementation detail, the set of pairs is not.
func TestDiffZSetScanSkiplist(t *testing.T) {
	needOracle(t)
	srv := resptest.NewServer(t)
	for _, proto := range protocols {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			p := openPair(t, srv.Addr(), proto)
			p.both(zaddMany("z", 500, -3.3, 1.1, "member-"))
			p.both([]string{"ZADD", "z", "-0", "negzero", "inf", "pinf", "1e-5", "tiny", "1e17", "big", "4611686018427387904", "huge"})
			for _, args := range [][]string{
				{"ZSCAN", "z", "0"}, {"ZSCAN", "z", "0", "COUNT", "7"}, {"ZSCAN", "z", "0", "COUNT", "1000"},
				{"ZSCAN", "z", "0", "MATCH", "member-1*"}, {"ZSCAN", "z", "0", "MATCH", "*zero", "COUNT", "3"},
			} {
				got := zscanAll(t, p.cel, args)
				want := zscanAll(t, p.ora, args)
				assert.Equal(t, want, got, "%s [RESP%d]", showArgs(args), proto)
			}
		})
	}
}

// zscanAll runs a ZSCAN iteration to the end and returns the sorted
// "member=score" pairs.
func zscanAll(t *testing.T, c *resptest.Conn, first []string) []string {
	args := slices.Clone(first)
	seen := map[string]bool{}
	for calls := 0; ; calls++ {
		require.Less(t, calls, 10000, "ZSCAN did not finish")
		r, err := parseReply(c.DoRaw(args...))
		require.NoError(t, err)
		require.True(t, r.Kind == '*' && len(r.Elems) == 2, "reply %q", r.Raw)
		els := r.Elems[1].Elems
		require.Zero(t, len(els)%2)
		for i := 0; i < len(els); i += 2 {
			seen[els[i].Str+"="+els[i+1].Str] = true
		}
		if r.Elems[0].Str == "0" {
			break
		}
		args[2] = r.Elems[0].Str
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestDiffZSetBlocking runs blocking pops with two connections per server:
// the first blocks, the second writes, and the first's reply is compared.
func TestDiffZSetBlocking(t *testing.T) {
	needOracle(t)
	srv := resptest.NewServer(t)
	type scenario struct {
		name  string
		setup [][]string
		block []string
		wake  [][]string
		after [][]string // compared after the blocked reply arrived
	}
	scenarios := []scenario{
		{name: "bzpopmin-zadd", block: []string{"BZPOPMIN", "q", "0"}, wake: [][]string{{"ZADD", "q", "2", "b", "1", "a"}},
			after: [][]string{{"ZRANGE", "q", "0", "-1", "WITHSCORES"}}},
		{name: "bzpopmax-float-timeout", block: []string{"BZPOPMAX", "q", "5.5"}, wake: [][]string{{"ZADD", "q", "2", "b", "1.1", "a"}},
			after: [][]string{{"ZRANGE", "q", "0", "-1", "WITHSCORES"}}},
		{name: "bzpopmin-second-key", block: []string{"BZPOPMIN", "k1", "k2", "k3", "0"},
			wake: [][]string{{"SET", "k1", "str"}, {"ZADD", "k3", "7", "x"}}, after: [][]string{{"EXISTS", "k3"}}},
		{name: "bzmpop-count", block: []string{"BZMPOP", "0", "2", "k1", "k2", "MAX", "COUNT", "2"},
			wake: [][]string{{"ZADD", "k2", "1", "a", "2", "b", "3", "c"}}, after: [][]string{{"ZRANGE", "k2", "0", "-1"}}},
		{name: "bzmpop-min-default-count", block: []string{"BZMPOP", "0", "1", "k", "MIN"},
			wake: [][]string{{"ZADD", "k", "1", "a", "2", "b"}}, after: [][]string{{"ZCARD", "k"}}},
		{name: "bzpopmin-zunionstore", setup: [][]string{{"ZADD", "src", "3", "s"}}, block: []string{"BZPOPMIN", "dst", "0"},
			wake: [][]string{{"ZUNIONSTORE", "dst", "1", "src"}}, after: [][]string{{"EXISTS", "dst"}}},
		{name: "bzpopmin-zincrby", block: []string{"BZPOPMIN", "q", "0"}, wake: [][]string{{"ZINCRBY", "q", "1.5", "m"}}},
	}
	for _, proto := range protocols {
		for _, sc := range scenarios {
			t.Run(fmt.Sprintf("%s/RESP%d", sc.name, proto), func(t *testing.T) {
				blocked := openPair(t, srv.Addr(), proto)
				writer := openPair(t, srv.Addr(), proto)
				for _, args := range sc.setup {
					writer.both(args)
				}
				blocked.cel.Send(sc.block...)
				blocked.ora.Send(sc.block...)
				// Let both servers register the waiter before the write.
				waitBlocked(t, writer.cel, 1)
				waitBlocked(t, writer.ora, 1)
				for _, args := range sc.wake {
					got, want := writer.both(args)
					assert.Equal(t, string(want), string(got), "%s", showArgs(args))
				}
				got, want := blocked.cel.ReadRaw(), blocked.ora.ReadRaw()
				assert.Equal(t, string(want), string(got), "blocked reply to %s", showArgs(sc.block))
				for _, args := range sc.after {
					got, want := writer.both(args)
					assert.Equal(t, string(want), string(got), "%s", showArgs(args))
				}
			})
		}
	}
}

// waitBlocked polls INFO clients until n clients are blocked.
func waitBlocked(t *testing.T, c *resptest.Conn, n int) {
	t.Helper()
	want := "blocked_clients:" + strconv.Itoa(n)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(c.Do("INFO", "clients").Str, want) {
		require.True(t, time.Now().Before(deadline), "no %s", want)
		time.Sleep(2 * time.Millisecond)
	}
}

// TestZSetBlockingInProcess covers what the oracle comparison cannot time:
// FIFO order between waiters, a float timeout, and a waiter that leaves.
func TestZSetBlockingInProcess(t *testing.T) {
	srv := resptest.NewServer(t)
	a, b, w := resptest.Dial(t, srv.Addr()), resptest.Dial(t, srv.Addr()), resptest.Dial(t, srv.Addr())

	// Two waiters on one key are served in arrival order, one member each.
	a.Send("BZPOPMIN", "q", "0")
	waitBlocked(t, w, 1)
	b.Send("BZPOPMIN", "q", "0")
	waitBlocked(t, w, 2)
	require.Equal(t, ":3\r\n", string(w.DoRaw("ZADD", "q", "1", "x", "2", "y", "3", "z")))
	assert.Equal(t, "*3\r\n$1\r\nq\r\n$1\r\nx\r\n$1\r\n1\r\n", string(a.ReadRaw()))
	assert.Equal(t, "*3\r\n$1\r\nq\r\n$1\r\ny\r\n$1\r\n2\r\n", string(b.ReadRaw()))
	assert.Equal(t, "*2\r\n$1\r\nz\r\n$1\r\n3\r\n", string(w.DoRaw("ZRANGE", "q", "0", "-1", "WITHSCORES")))

	// A float timeout expires with a null array, after about its duration.
	start := time.Now()
	assert.Equal(t, "*-1\r\n", string(a.DoRaw("BZPOPMAX", "nokey", "0.05")))
	assert.GreaterOrEqual(t, time.Since(start), 40*time.Millisecond)

	// A waiter that disconnects is forgotten: the next waiter gets the member.
	gone := resptest.Dial(t, srv.Addr())
	gone.Send("BZPOPMIN", "k", "0")
	waitBlocked(t, w, 1)
	b.Send("BZMPOP", "0", "1", "k", "MIN", "COUNT", "5")
	waitBlocked(t, w, 2)
	gone.NetConn().Close()
	waitBlocked(t, w, 1)
	require.Equal(t, ":2\r\n", string(w.DoRaw("ZADD", "k", "1", "a", "2", "b")))
	assert.Equal(t, "*2\r\n$1\r\nk\r\n*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n", string(b.ReadRaw()))
	assert.Equal(t, ":0\r\n", string(w.DoRaw("EXISTS", "k")))
}

// TestDiffZSetMulti checks that blocking pops never block inside MULTI:
// they pop when they can and reply a null array otherwise.
func TestDiffZSetMulti(t *testing.T) {
	needOracle(t)
	srv := resptest.NewServer(t)
	if v := resptest.Dial(t, srv.Addr()).Do("COMMAND", "INFO", "multi"); len(v.Elems) != 1 || v.Elems[0].Kind == '_' {
		t.Skip("MULTI is not implemented yet")
	}
	runCases(t, []diffCase{
		{name: "bzpop/multi", steps: []step{
			do("ZADD", "z", "1", "a", "2", "b"), do("MULTI"), do("BZPOPMIN", "nokey", "0"), do("BZPOPMAX", "z", "0"),
			do("BZMPOP", "0", "2", "nokey", "z", "MIN", "COUNT", "3"), do("BZPOPMIN", "z", "0"), do("BZMPOP", "0", "1", "z", "MIN"),
			do("ZADD", "z", "5", "c"), do("BZPOPMIN", "z", "0"), do("BZPOPMIN", "z", "abc"), do("EXEC"), do("EXISTS", "z")}},
		{name: "kombu/multi-ack", steps: []step{
			do("MULTI"), do("ZADD", "unacked_index", "1795487183.2362268", "tag"), do("ZCARD", "unacked_index"), do("EXEC"),
			do("MULTI"), do("ZREM", "unacked_index", "tag"), do("ZREVRANGEBYSCORE", "unacked_index", "+inf", "0", "WITHSCORES"), do("EXEC")}},
	})
}

// TestDiffZSetRandom sends the same seeded random sorted-set commands to
// both servers and compares every reply. Lexicographic queries go to a key
// whose scores are all equal: on a skiplist with mixed scores Redis's
// answer depends on its random node levels. DIFF_SEED=s reruns one seed.
func TestDiffZSetRandom(t *testing.T) {
	needOracle(t)
	srv := resptest.NewServer(t)
	seed := uint64(20240601)
	if s := os.Getenv("DIFF_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err)
		seed = v
	}
	for _, proto := range protocols {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			p := openPair(t, srv.Addr(), proto)
			rng := rand.New(rand.NewPCG(seed, uint64(proto)))
			for i := 0; i < 1500; i++ {
				args := randomZSetCommand(rng)
				got, want := p.both(args)
				suiteStats.random.Add(1)
				if string(got) != string(want) {
					t.Fatalf("seed %d command %d: %s\n  celerity: %s\n  oracle:   %s", seed, i, showArgs(args), showReply(got), showReply(want))
				}
			}
		})
	}
}

func randomZSetCommand(rng *rand.Rand) []string {
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	key := func() string { return pick("a", "a", "b", "c") }
	member := func() string { return fmt.Sprintf("m%03d", rng.IntN(180)) }
	score := func() string {
		return pick("0", "-0", "1", "-1", "1.5", "0.1", "2.5e-3", "inf", "-inf", "1795487167.033712", "7", "100", "-3.25",
			strconv.Itoa(rng.IntN(50)))
	}
	bound := func() string { return pick("", "(") + pick("-inf", "+inf", "0", "1", "1.5", "7", "50", "-1", "100") }
	lexBound := func() string {
		return pick("-", "+", "[m0"+strconv.Itoa(rng.IntN(18)), "(m0"+strconv.Itoa(rng.IntN(18)), "[m", "(m1")
	}
	idx := func() string { return strconv.Itoa(rng.IntN(300) - 150) }
	switch rng.IntN(24) {
	case 0, 1, 2, 3:
		args := []string{"ZADD", key()}
		for _, o := range []string{"NX", "XX", "GT", "LT", "CH"} {
			if rng.IntN(8) == 0 {
				args = append(args, o)
			}
		}
		n := 1 + rng.IntN(3)
		if rng.IntN(10) == 0 {
			n = 40
		}
		for j := 0; j < n; j++ {
			args = append(args, score(), member())
		}
		return args
	case 4:
		return []string{"ZADD", "lex", "0", member(), "0", member()}
	case 5:
		return []string{"ZINCRBY", key(), score(), member()}
	case 6:
		return []string{"ZREM", key(), member(), member()}
	case 7:
		args := []string{"ZRANGE", key(), idx(), idx()}
		if rng.IntN(2) == 0 {
			args = append(args, "REV")
		}
		return append(args, "WITHSCORES")
	case 8:
		args := []string{pick("ZRANGEBYSCORE", "ZREVRANGEBYSCORE"), key(), bound(), bound(), "WITHSCORES"}
		if rng.IntN(2) == 0 {
			args = append(args, "LIMIT", strconv.Itoa(rng.IntN(10)-1), strconv.Itoa(rng.IntN(10)-2))
		}
		return args
	case 9:
		args := []string{pick("ZRANGEBYLEX", "ZREVRANGEBYLEX"), "lex", lexBound(), lexBound()}
		if rng.IntN(2) == 0 {
			args = append(args, "LIMIT", strconv.Itoa(rng.IntN(10)-1), strconv.Itoa(rng.IntN(10)-2))
		}
		return args
	case 10:
		return []string{"ZCOUNT", key(), bound(), bound()}
	case 11:
		return []string{"ZLEXCOUNT", "lex", lexBound(), lexBound()}
	case 12:
		return []string{pick("ZRANK", "ZREVRANK", "ZSCORE"), key(), member()}
	case 13:
		return []string{"ZMSCORE", key(), member(), member(), member()}
	case 14:
		return []string{pick("ZPOPMIN", "ZPOPMAX"), key(), strconv.Itoa(rng.IntN(4))}
	case 15:
		return []string{"ZREMRANGEBYRANK", key(), idx(), idx()}
	case 16:
		return []string{"ZREMRANGEBYSCORE", key(), bound(), bound()}
	case 17:
		return []string{"ZREMRANGEBYLEX", "lex", lexBound(), lexBound()}
	case 18:
		args := []string{pick("ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"), pick("a", "b", "c", "d"), "2", key(), key()}
		if args[0] != "ZDIFFSTORE" && rng.IntN(2) == 0 {
			args = append(args, "WEIGHTS", pick("1", "2", "-1", "0.5", "inf"), pick("1", "0", "3"))
		}
		if args[0] != "ZDIFFSTORE" && rng.IntN(2) == 0 {
			args = append(args, "AGGREGATE", pick("SUM", "MIN", "MAX"))
		}
		return args
	case 19:
		return []string{pick("ZUNION", "ZINTER", "ZDIFF"), "3", key(), key(), key(), "WITHSCORES"}
	case 20:
		return []string{"ZRANGESTORE", pick("a", "b", "c", "d"), key(), bound(), bound(), "BYSCORE", "LIMIT", "0", strconv.Itoa(rng.IntN(150))}
	case 21:
		return []string{"ZCARD", key()}
	case 22:
		return []string{"OBJECT", "ENCODING", pick("a", "b", "c", "d", "lex")}
	}
	return []string{"ZMPOP", "3", key(), key(), "lex", pick("MIN", "MAX"), "COUNT", strconv.Itoa(1 + rng.IntN(3))}
}

// TestZSetRandMemberMembership checks what the oracle cannot: random picks
// are members with their own scores, distinct for a positive count.
func TestZSetRandMemberMembership(t *testing.T) {
	srv := resptest.NewServer(t)
	c := resptest.Dial(t, srv.Addr())
	for _, n := range []int{5, 200} {
		c.Do("DEL", "z")
		c.Do(zaddMany("z", n, 0.5, 1, "m")...)
		scores := map[string]string{}
		all := c.Do("ZRANGE", "z", "0", "-1", "WITHSCORES").Elems
		for i := 0; i < len(all); i += 2 {
			scores[all[i].Str] = all[i+1].Str
		}
		for _, count := range []int{1, 3, n - 1, n, n + 5, -1, -3, -2 * n} {
			v := c.Do("ZRANDMEMBER", "z", strconv.Itoa(count), "WITHSCORES")
			want := count
			if count < 0 {
				want = -count
			} else if count > n {
				want = n
			}
			require.Len(t, v.Elems, 2*want, "count %d", count)
			seen := map[string]bool{}
			for i := 0; i < len(v.Elems); i += 2 {
				m, s := v.Elems[i].Str, v.Elems[i+1].Str
				assert.Equal(t, scores[m], s, "score of %q", m)
				if count > 0 {
					assert.False(t, seen[m], "count %d: %q twice", count, m)
				}
				seen[m] = true
			}
		}
		one := c.Do("ZRANDMEMBER", "z").Str
		assert.Contains(t, scores, one)
	}
}
