package integration

import (
	"strings"
	"testing"
	"time"
)

func TestDiffExpire(t *testing.T) { runCases(t, expireCases()) }

// expireCases cover EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT with NX/XX/GT/LT,
// TTL, PTTL, EXPIRETIME, PEXPIRETIME and PERSIST.
//
// Relative times are kept far apart (100 s vs 1000 s) so a GT/LT
// comparison never hinges on the few milliseconds between the two servers
// running a step.
func expireCases() []diffCase {
	cases := []diffCase{
		{name: "expire/basic", steps: []step{do("SET", "k", "v"), do("EXPIRE", "k", "100"), ttl("TTL", "k"), pttl("PTTL", "k"), ttl("EXPIRETIME", "k"), pttl("PEXPIRETIME", "k")}},
		{name: "expire/missing", steps: []step{do("EXPIRE", "k", "100"), do("PEXPIRE", "k", "100"), do("EXPIREAT", "k", futureSec), do("PEXPIREAT", "k", futureMs), do("EXISTS", "k")}},
		{name: "expire/zero-negative-deletes", steps: []step{
			do("SET", "a", "v"), do("EXPIRE", "a", "0"), do("EXISTS", "a"), do("SET", "b", "v"), do("EXPIRE", "b", "-1"), do("GET", "b"),
			do("SET", "c", "v"), do("PEXPIRE", "c", "-100"), do("EXISTS", "c"), do("SET", "d", "v"), do("EXPIREAT", "d", "1"), do("EXISTS", "d"),
			do("SET", "e", "v"), do("PEXPIREAT", "e", pastMs), do("EXISTS", "e"), do("SET", "f", "v"), do("EXPIREAT", "f", "-5"), do("DBSIZE")}},
		{name: "expire/not-integer", steps: []step{
			do("SET", "k", "v"), do("EXPIRE", "k", "abc"), do("EXPIRE", "k", "1.5"), do("EXPIRE", "k", ""), do("EXPIRE", "k", " 100"),
			do("PEXPIRE", "k", "+100"), do("EXPIRE", "k", "99999999999999999999"), do("EXPIRE", "z", "abc"), do("TTL", "k")}},
		{name: "expire/overflow", steps: []step{
			do("SET", "k", "v"), do("EXPIRE", "k", "9223372036854775807"), do("EXPIRE", "k", "9223372036854775"),
			do("EXPIRE", "k", "9223372036854776"), do("EXPIRE", "k", "-9223372036854775808"), do("EXISTS", "k"),
			do("SET", "k", "v"), do("PEXPIRE", "k", "9223372036854775807"), do("PEXPIRE", "k", "9223372036854775000"),
			do("EXPIREAT", "k", "9223372036854775807"), do("EXPIREAT", "k", "9223372036854775"), do("EXPIREAT", "k", "-9223372036854775"),
			do("PEXPIREAT", "k", "9223372036854775807"), do("PEXPIRETIME", "k"), do("PEXPIREAT", "k", "-9223372036854775808"), do("EXISTS", "k"),
			do("SET", "k", "v"), do("EXPIRE", "z", "9223372036854775807"), do("TTL", "k")}},
		{name: "expire/huge-valid", steps: []step{do("SET", "k", "v"), do("EXPIRE", "k", "9000000000000"), ttl("TTL", "k"), do("PEXPIREAT", "k", "9000000000000000000"), do("EXPIRETIME", "k")}},
		{name: "expireat/exact", steps: []step{
			do("SET", "k", "v"), do("EXPIREAT", "k", futureSec), do("EXPIRETIME", "k"), do("PEXPIRETIME", "k"),
			do("PEXPIREAT", "k", futureMs), do("EXPIRETIME", "k"), do("PEXPIRETIME", "k")}},
		{name: "expire/arity", steps: []step{
			do("EXPIRE", "k"), do("PEXPIRE"), do("EXPIREAT", "k"), do("PEXPIREAT", "k"), do("TTL"), do("TTL", "a", "b"),
			do("PTTL"), do("EXPIRETIME"), do("PEXPIRETIME", "a", "b"), do("PERSIST"), do("PERSIST", "a", "b")}},
		{name: "ttl/states", steps: []step{
			do("TTL", "k"), do("PTTL", "k"), do("EXPIRETIME", "k"), do("PEXPIRETIME", "k"), do("SET", "k", "v"),
			do("TTL", "k"), do("PTTL", "k"), do("EXPIRETIME", "k"), do("PEXPIRETIME", "k")}},
		{name: "ttl/rounding", steps: []step{
			do("SET", "a", "v", "PX", "100400"), ttl("TTL", "a"), do("SET", "b", "v", "PX", "100600"), ttl("TTL", "b"),
			do("SET", "c", "v", "PXAT", futureMs), do("EXPIRETIME", "c"), do("SET", "d", "v", "PX", "1500"), ttl("TTL", "d")}},
		{name: "persist/basic", steps: []step{
			do("PERSIST", "k"), do("SET", "k", "v"), do("PERSIST", "k"), do("EXPIRE", "k", "100"), do("PERSIST", "k"),
			do("TTL", "k"), do("PERSIST", "k")}},
		{name: "expire/short-lived", steps: []step{do("SET", "k", "v", "PX", "1"), waitExpired("k"), do("GET", "k"), do("TTL", "k"), do("DBSIZE")}},
		{name: "expire/overwrites-ttl", steps: []step{do("SET", "k", "v", "EX", "100"), do("EXPIRE", "k", "1000"), ttl("TTL", "k"), do("PEXPIRE", "k", "50000"), pttl("PTTL", "k")}},
		{name: "expire/options-errors", steps: []step{
			do("SET", "k", "v"), do("EXPIRE", "k", "100", "NX", "XX"), do("EXPIRE", "k", "100", "XX", "NX"), do("EXPIRE", "k", "100", "NX", "GT"),
			do("EXPIRE", "k", "100", "LT", "NX"), do("EXPIRE", "k", "100", "GT", "LT"), do("EXPIRE", "k", "100", "LT", "GT"),
			do("EXPIRE", "k", "100", "FOO"), do("EXPIRE", "k", "100", "NX", "FOO"), do("EXPIRE", "k", "100", "FOO", "NX", "XX"),
			do("EXPIRE", "k", "100", "NX", "XX", "FOO"), do("EXPIRE", "k", "abc", "FOO"), do("EXPIRE", "k", "abc", "NX", "XX"),
			do("EXPIRE", "z", "100", "FOO"), do("PEXPIRE", "k", "100", "bar"), do("EXPIREAT", "k", "100", "NX", "LT"),
			do("PEXPIREAT", "k", "100", "GT", "LT"), do("EXPIRE", "k", "100", ""), do("EXPIRE", "k", "100", "NX\x00"), do("TTL", "k")}},
		{name: "expire/nx", steps: []step{
			do("SET", "k", "v"), do("EXPIRE", "k", "100", "NX"), ttl("TTL", "k"), do("EXPIRE", "k", "1000", "NX"), ttl("TTL", "k"),
			do("EXPIRE", "k", "1000", "nx", "NX"), do("EXPIRE", "z", "100", "NX")}},
		{name: "expire/xx", steps: []step{
			do("SET", "k", "v"), do("EXPIRE", "k", "100", "XX"), do("TTL", "k"), do("EXPIRE", "k", "100"), do("EXPIRE", "k", "1000", "XX"),
			ttl("TTL", "k"), do("EXPIRE", "k", "0", "XX"), do("EXISTS", "k")}},
		{name: "expire/gt", steps: []step{
			do("SET", "k", "v"), do("EXPIRE", "k", "100", "GT"), do("TTL", "k"), do("EXPIRE", "k", "100"),
			do("EXPIRE", "k", "1000", "GT"), ttl("TTL", "k"), do("EXPIRE", "k", "100", "GT"), ttl("TTL", "k"),
			do("EXPIRE", "k", "-1", "GT"), do("EXISTS", "k"), do("EXPIRE", "k", "2000", "XX", "GT"), ttl("TTL", "k")}},
		{name: "expire/lt", steps: []step{
			do("SET", "k", "v"), do("EXPIRE", "k", "1000", "LT"), ttl("TTL", "k"), do("EXPIRE", "k", "2000", "LT"), ttl("TTL", "k"),
			do("EXPIRE", "k", "100", "LT"), ttl("TTL", "k"), do("EXPIRE", "k", "50", "XX", "LT"), ttl("TTL", "k"),
			do("EXPIRE", "k", "-1", "LT"), do("EXISTS", "k")}},
		{name: "expire/lt-no-ttl-deletes", steps: []step{do("SET", "k", "v"), do("EXPIRE", "k", "-1", "LT"), do("EXISTS", "k"), do("SET", "k", "v"), do("EXPIRE", "k", "0", "GT"), do("EXISTS", "k")}},
		{name: "expireat/gt-lt-exact", steps: []step{
			do("SET", "k", "v"), do("EXPIREAT", "k", futureSec, "LT"), do("EXPIRETIME", "k"), do("EXPIREAT", "k", futureSec, "GT"),
			do("EXPIREAT", "k", futureSec, "LT"), do("PEXPIREAT", "k", futureMs, "GT"), do("PEXPIRETIME", "k"),
			do("PEXPIREAT", "k", futureMs, "GT"), do("PEXPIREAT", "k", futureMs, "LT"), do("EXPIREAT", "k", futureSec, "LT"),
			do("EXPIRETIME", "k"), do("EXPIREAT", "k", futureSec, "NX"), do("EXPIREAT", "k", futureSec, "XX"), do("PEXPIRETIME", "k")}},
		{name: "pexpire/options", steps: []step{
			do("SET", "k", "v"), do("PEXPIRE", "k", "100000", "XX"), do("PEXPIRE", "k", "100000", "NX"), pttl("PTTL", "k"),
			do("PEXPIRE", "k", "1000000", "GT"), pttl("PTTL", "k"), do("PEXPIRE", "k", "2000000", "LT"), do("PEXPIRE", "k", "Gt", "100")}},
		{name: "expire/then-set-clears", steps: []step{
			do("SET", "k", "v"), do("EXPIRE", "k", "100"), do("SET", "k", "w"), do("TTL", "k"), do("EXPIRE", "k", "100"),
			do("INCR", "n"), do("EXPIRE", "n", "100"), do("INCR", "n"), ttl("TTL", "n"), do("GETSET", "n", "1"), do("TTL", "n")}},
		{name: "expire/mixed-case-command", steps: []step{do("sEt", "k", "v"), do("ExPiRe", "k", "100", "nX"), ttl("tTl", "k"), do("pErSiSt", "k")}},
	}
	return append(cases, expiredKeyCase())
}

// onExpiredKey are commands run against a key that is logically expired
// but not yet reclaimed; "%k" is replaced by that key.
var onExpiredKey = [][]string{
	{"GET", "%k"}, {"SET", "%k", "v", "GET"}, {"SET", "%k", "v", "XX"}, {"SET", "%k", "v", "NX"}, {"SET", "%k", "v", "KEEPTTL"},
	{"SETNX", "%k", "v"}, {"GETSET", "%k", "v"}, {"GETDEL", "%k"}, {"GETEX", "%k", "PERSIST"}, {"MGET", "%k"},
	{"MSETNX", "%k", "v"}, {"INCR", "%k"}, {"INCRBYFLOAT", "%k", "1.5"}, {"APPEND", "%k", "x"}, {"STRLEN", "%k"},
	{"GETRANGE", "%k", "0", "-1"}, {"SETRANGE", "%k", "2", "x"}, {"EXISTS", "%k"}, {"TYPE", "%k"}, {"TOUCH", "%k"},
	{"DEL", "%k"}, {"UNLINK", "%k"}, {"EXPIRE", "%k", "100"}, {"PERSIST", "%k"}, {"TTL", "%k"}, {"PTTL", "%k"},
	{"EXPIRETIME", "%k"}, {"RENAME", "%k", "dst"}, {"RENAMENX", "%k", "dst"}, {"RENAME", "live", "%k"},
	{"RENAMENX", "live2", "%k"}, {"COPY", "%k", "dst2"}, {"COPY", "live", "%k"}, {"MOVE", "%k", "1"},
	{"OBJECT", "ENCODING", "%k"}, {"OBJECT", "REFCOUNT", "%k"},
}

// expiredKeyCase gives each command its own key set with PX 1, lets them
// all expire with one pause, and runs each command on its key. Every key
// is then read (which reclaims it) before DBSIZE, which would otherwise
// count keys that active expiry has not reached yet.
func expiredKeyCase() diffCase {
	var keys []string
	steps := []step{do("SET", "live", "L"), do("SET", "live2", "L2")}
	for i := range onExpiredKey {
		k := "e" + itoa(i)
		keys = append(keys, k)
		steps = append(steps, do("SET", k, "5", "PX", "1"))
	}
	steps = append(steps, pause(20*time.Millisecond))
	for i, cmd := range onExpiredKey {
		args := make([]string, len(cmd))
		for j, a := range cmd {
			args[j] = strings.ReplaceAll(a, "%k", keys[i])
		}
		steps = append(steps, do(args...), ttl("TTL", keys[i]))
	}
	steps = append(steps, unordered("KEYS", "*"), do(append([]string{"EXISTS"}, keys...)...), do("DBSIZE"),
		do("MGET", "live", "live2", "dst", "dst2"), do("SELECT", "1"), do("DBSIZE"))
	return diffCase{name: "expired/not-reclaimed", steps: steps}
}
