package integration

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// Absolute expiry times shared by the tables. The same literal goes to both
// servers, so EXPIRETIME-style replies about them are compared exactly.
var (
	futureSec = strconv.FormatInt(time.Now().Unix()+100000, 10)
	futureMs  = strconv.FormatInt((time.Now().Unix()+200000)*1000+123, 10)
	pastSec   = strconv.FormatInt(time.Now().Unix()-100, 10)
	pastMs    = strconv.FormatInt((time.Now().Unix()-100)*1000, 10)
)

func TestDiffSet(t *testing.T) { runCases(t, setCases()) }

// setCases cover GET, SET and its options, SETNX, SETEX, PSETEX, GETSET,
// GETDEL, GETEX, MGET, MSET and MSETNX.
func setCases() []diffCase {
	big := strings.Repeat("x", 1000)
	return []diffCase{
		{name: "get/missing", steps: []step{do("GET", "k")}},
		{name: "get/arity", steps: []step{do("GET"), do("GET", "a", "b")}},
		{name: "set/basic", steps: []step{do("SET", "k", "v"), do("GET", "k"), do("SET", "k", "w"), do("GET", "k")}},
		{name: "set/empty", steps: []step{do("SET", "k", ""), do("GET", "k"), do("STRLEN", "k"), do("EXISTS", "k")}},
		{name: "set/binary", steps: []step{do("SET", "k\x00\r\n", "a\x00b\r\nc"), do("GET", "k\x00\r\n"), do("GET", "k")}},
		{name: "set/big", steps: []step{do("SET", "k", big), do("GET", "k"), do("STRLEN", "k")}},
		{name: "set/large-values", steps: []step{
			do("SET", "k", strings.Repeat("0123456789abcdef", 8192)), do("GET", "k"), do("STRLEN", "k"), do("OBJECT", "ENCODING", "k"),
			do("APPEND", "k", strings.Repeat("z", 70000)), do("GETRANGE", "k", "131070", "131080"), do("STRLEN", "k")}},
		{name: "mget/many", steps: []step{manyKeys(300), do(append([]string{"MGET"}, strings.Fields(strings.Repeat("k1 k299 nosuch k42 ", 100))...)...)}},
		{name: "set/arity", steps: []step{do("SET"), do("SET", "k")}},
		{name: "set/nx", steps: []step{do("SET", "k", "v", "NX"), do("SET", "k", "w", "NX"), do("GET", "k")}},
		{name: "set/xx", steps: []step{do("SET", "k", "v", "XX"), do("GET", "k"), do("SET", "k", "v"), do("SET", "k", "w", "XX"), do("GET", "k")}},
		{name: "set/nx-xx", steps: []step{do("SET", "k", "v", "NX", "XX"), do("SET", "k", "v", "XX", "NX"), do("SET", "k", "v", "NX", "NX"), do("EXISTS", "k")}},
		{name: "set/get", steps: []step{do("SET", "k", "v", "GET"), do("SET", "k", "w", "GET"), do("GET", "k"), do("SET", "k", "x", "GET", "GET")}},
		{name: "set/nx-get", steps: []step{do("SET", "k", "v", "NX", "GET"), do("SET", "k", "w", "NX", "GET"), do("GET", "k")}},
		{name: "set/xx-get", steps: []step{do("SET", "k", "v", "XX", "GET"), do("EXISTS", "k"), do("SET", "k", "v"), do("SET", "k", "w", "GET", "XX"), do("GET", "k")}},
		{name: "set/ex", steps: []step{do("SET", "k", "v", "EX", "100"), ttl("TTL", "k"), pttl("PTTL", "k"), do("GET", "k")}},
		{name: "set/px", steps: []step{do("SET", "k", "v", "PX", "100000"), pttl("PTTL", "k"), ttl("TTL", "k")}},
		{name: "set/exat", steps: []step{do("SET", "k", "v", "EXAT", futureSec), do("EXPIRETIME", "k"), do("PEXPIRETIME", "k"), ttl("TTL", "k")}},
		{name: "set/pxat", steps: []step{do("SET", "k", "v", "PXAT", futureMs), do("PEXPIRETIME", "k"), do("EXPIRETIME", "k")}},
		{name: "set/exat-past", steps: []step{do("SET", "k", "v", "EXAT", pastSec), do("GET", "k"), do("EXISTS", "k"), do("SET", "k", "v", "EXAT", "1"), do("DBSIZE")}},
		{name: "set/pxat-past", steps: []step{do("SET", "k", "v", "PXAT", pastMs), do("GET", "k"), do("SET", "k", "v", "PXAT", "1"), do("EXISTS", "k")}},
		{name: "set/past-overwrites", steps: []step{do("SET", "k", "old"), do("SET", "k", "new", "PXAT", "1", "GET"), do("EXISTS", "k")}},
		{name: "set/expire-zero-negative", steps: []step{
			do("SET", "k", "v", "EX", "0"), do("SET", "k", "v", "EX", "-1"), do("SET", "k", "v", "PX", "0"),
			do("SET", "k", "v", "PX", "-5"), do("SET", "k", "v", "EXAT", "0"), do("SET", "k", "v", "PXAT", "-1"),
			do("EXISTS", "k")}},
		{name: "set/expire-not-integer", steps: []step{
			do("SET", "k", "v", "EX", "abc"), do("SET", "k", "v", "EX", "1.5"), do("SET", "k", "v", "EX", ""),
			do("SET", "k", "v", "PX", " 1"), do("SET", "k", "v", "EX", "+1"), do("SET", "k", "v", "EX", "01"),
			do("SET", "k", "v", "PXAT", "99999999999999999999"), do("EXISTS", "k")}},
		{name: "set/expire-overflow", steps: []step{
			do("SET", "k", "v", "EX", "9223372036854775807"), do("SET", "k", "v", "EX", "9223372036854775"),
			do("SET", "k", "v", "EX", "9223372036854776"), do("SET", "k", "v", "PX", "9223372036854775807"),
			do("SET", "k", "v", "EXAT", "9223372036854775807"), do("SET", "k", "v", "EXAT", "9223372036854775"),
			do("EXISTS", "k")}},
		{name: "set/pxat-max", steps: []step{do("SET", "k", "v", "PXAT", "9223372036854775807"), do("PEXPIRETIME", "k"), pttl("PTTL", "k")}},
		{name: "set/huge-ex", steps: []step{do("SET", "k", "v", "EX", "9000000000000"), ttl("TTL", "k")}},
		{name: "set/expire-missing-value", steps: []step{do("SET", "k", "v", "EX"), do("SET", "k", "v", "PX"), do("SET", "k", "v", "EXAT"), do("SET", "k", "v", "PXAT"), do("SET", "k", "v", "NX", "EX")}},
		{name: "set/two-expires", steps: []step{
			do("SET", "k", "v", "EX", "10", "PX", "100"), do("SET", "k", "v", "PX", "10", "EX", "100"),
			do("SET", "k", "v", "EX", "10", "EXAT", futureSec), do("SET", "k", "v", "PXAT", futureMs, "EXAT", futureSec),
			do("EXISTS", "k"),
			do("SET", "k", "v", "EX", "10", "EX", "100"), ttl("TTL", "k"),
			do("SET", "k", "v", "PX", "10", "PX", "200000"), pttl("PTTL", "k")}},
		{name: "set/keepttl", steps: []step{
			do("SET", "k", "v", "EX", "100"), do("SET", "k", "w", "KEEPTTL"), ttl("TTL", "k"), do("GET", "k"),
			do("SET", "k", "x"), do("TTL", "k"), do("SET", "n", "v", "KEEPTTL"), do("TTL", "n")}},
		{name: "set/keepttl-conflicts", steps: []step{
			do("SET", "k", "v", "KEEPTTL", "EX", "10"), do("SET", "k", "v", "EX", "10", "KEEPTTL"),
			do("SET", "k", "v", "PXAT", futureMs, "KEEPTTL"), do("SET", "k", "v", "KEEPTTL", "KEEPTTL"), do("TTL", "k")}},
		{name: "set/keepttl-get", steps: []step{do("SET", "k", "v", "EX", "100"), do("SET", "k", "w", "GET", "KEEPTTL"), ttl("TTL", "k"), do("GET", "k")}},
		{name: "set/persist-not-an-option", steps: []step{do("SET", "k", "v", "PERSIST"), do("SET", "k", "v", "FOO"), do("SET", "k", "v", "NX", "FOO"), do("SET", "k", "v", "EX", "10", "FOO"), do("EXISTS", "k")}},
		{name: "set/option-case", steps: []step{do("SET", "k", "v", "nX"), do("SET", "k", "w", "xX", "Get"), do("SET", "k", "v", "eX", "100"), ttl("TTL", "k"), do("SET", "k", "v", "kEePtTl"), ttl("TTL", "k")}},
		{name: "set/option-nul", steps: []step{do("SET", "k", "v", "NX\x00junk"), do("SET", "k", "v", "EX\x00", "10"), ttl("TTL", "k")}},
		{name: "set/ex-on-existing-then-plain", steps: []step{do("SET", "k", "v", "EX", "100"), do("SET", "k", "w"), do("TTL", "k")}},
		{name: "set/xx-ex-missing", steps: []step{do("SET", "k", "v", "XX", "EX", "100"), do("EXISTS", "k")}},
		{name: "set/nx-get-ex", steps: []step{do("SET", "k", "v", "NX", "GET", "EX", "100"), ttl("TTL", "k"), do("SET", "k", "w", "NX", "GET", "EX", "200"), ttl("TTL", "k")}},
		{name: "set/get-bad-expire", steps: []step{do("SET", "k", "v"), do("SET", "k", "w", "GET", "EX", "0"), do("GET", "k")}},
		// The next case runs the read part of SET ... GET on a string; a
		// wrong-type row belongs here once lists exist (LPUSH k x; SET k v GET).
		{name: "set/get-types", steps: []step{do("SET", "k", "1"), do("SET", "k", "2", "GET"), do("SET", "k", "", "GET"), do("SET", "k", "v", "GET")}},

		{name: "setnx/basic", steps: []step{do("SETNX", "k", "v"), do("SETNX", "k", "w"), do("GET", "k"), do("SETNX", "k"), do("SETNX", "k", "v", "x")}},
		{name: "setnx/keeps-ttl", steps: []step{do("SET", "k", "v", "EX", "100"), do("SETNX", "k", "w"), ttl("TTL", "k")}},
		{name: "setex/basic", steps: []step{do("SETEX", "k", "100", "v"), ttl("TTL", "k"), do("GET", "k"), do("SETEX", "k", "200", "w"), ttl("TTL", "k")}},
		{name: "setex/invalid", steps: []step{
			do("SETEX", "k", "0", "v"), do("SETEX", "k", "-1", "v"), do("SETEX", "k", "abc", "v"), do("SETEX", "k", "1.5", "v"),
			do("SETEX", "k", "9223372036854775807", "v"), do("SETEX", "k", "9223372036854775", "v"), do("EXISTS", "k")}},
		{name: "setex/arity", steps: []step{do("SETEX", "k", "100"), do("SETEX", "k", "100", "v", "x"), do("SETEX")}},
		{name: "psetex/basic", steps: []step{do("PSETEX", "k", "100000", "v"), pttl("PTTL", "k"), do("GET", "k")}},
		{name: "psetex/invalid", steps: []step{
			do("PSETEX", "k", "0", "v"), do("PSETEX", "k", "-5", "v"), do("PSETEX", "k", "x", "v"),
			do("PSETEX", "k", "9223372036854775807", "v"), do("EXISTS", "k"), do("PSETEX", "k", "1")}},
		{name: "getset/basic", steps: []step{do("GETSET", "k", "v"), do("GETSET", "k", "w"), do("GET", "k"), do("GETSET", "k"), do("GETSET", "k", "a", "b")}},
		{name: "getset/clears-ttl", steps: []step{do("SET", "k", "v", "EX", "100"), do("GETSET", "k", "w"), do("TTL", "k"), do("OBJECT", "ENCODING", "k")}},
		{name: "getset/encoding", steps: []step{do("GETSET", "k", "42"), do("OBJECT", "ENCODING", "k"), do("GETSET", "k", strings.Repeat("e", 45)), do("OBJECT", "ENCODING", "k")}},
		{name: "getdel/basic", steps: []step{do("GETDEL", "k"), do("SET", "k", "v", "EX", "100"), do("GETDEL", "k"), do("EXISTS", "k"), do("GETDEL", "k"), do("GETDEL"), do("GETDEL", "a", "b")}},
		{name: "getex/missing", steps: []step{do("GETEX", "k"), do("GETEX", "k", "EX", "100"), do("GETEX", "k", "EX", "0"), do("GETEX", "k", "EX", "abc"), do("GETEX", "k", "PERSIST"), do("EXISTS", "k")}},
		{name: "getex/no-option", steps: []step{do("SET", "k", "v", "EX", "100"), do("GETEX", "k"), ttl("TTL", "k")}},
		{name: "getex/ex-px", steps: []step{
			do("SET", "k", "v"), do("GETEX", "k", "EX", "100"), ttl("TTL", "k"),
			do("GETEX", "k", "PX", "200000"), pttl("PTTL", "k"), do("GETEX", "k", "ex", "300"), ttl("TTL", "k")}},
		{name: "getex/exat-pxat", steps: []step{
			do("SET", "k", "v"), do("GETEX", "k", "EXAT", futureSec), do("EXPIRETIME", "k"),
			do("GETEX", "k", "PXAT", futureMs), do("PEXPIRETIME", "k")}},
		{name: "getex/past", steps: []step{
			do("SET", "k", "v"), do("GETEX", "k", "EXAT", pastSec), do("EXISTS", "k"),
			do("SET", "k", "v"), do("GETEX", "k", "PXAT", "1"), do("GET", "k")}},
		{name: "getex/persist", steps: []step{
			do("SET", "k", "v", "EX", "100"), do("GETEX", "k", "PERSIST"), do("TTL", "k"),
			do("GETEX", "k", "PERSIST"), do("TTL", "k"), do("GETEX", "k", "persist")}},
		{name: "getex/invalid-expire", steps: []step{
			do("SET", "k", "v"), do("GETEX", "k", "EX", "0"), do("GETEX", "k", "EX", "-1"), do("GETEX", "k", "PX", "0"),
			do("GETEX", "k", "EXAT", "0"), do("GETEX", "k", "EX", "abc"), do("GETEX", "k", "EX", "9223372036854775807"),
			do("GETEX", "k", "PX", "9223372036854775807"), do("GETEX", "k", "EXAT", "9223372036854775807"), do("TTL", "k")}},
		{name: "getex/syntax", steps: []step{
			do("SET", "k", "v"), do("GETEX", "k", "PERSIST", "EX", "10"), do("GETEX", "k", "EX", "10", "PERSIST"),
			do("GETEX", "k", "KEEPTTL"), do("GETEX", "k", "NX"), do("GETEX", "k", "GET"), do("GETEX", "k", "EX"),
			do("GETEX", "k", "EX", "10", "PX", "100"), do("GETEX", "missing", "FOO"), do("GETEX", "k", "PERSIST", "PERSIST"),
			do("GETEX", "k", "EX", "10", "EX", "100"), ttl("TTL", "k"), do("GETEX")}},
		{name: "mget/basic", steps: []step{do("SET", "a", "1"), do("SET", "c", "3"), do("MGET", "a", "b", "c", "a"), do("MGET", "x"), do("MGET")}},
		{name: "mset/basic", steps: []step{do("MSET", "a", "1", "b", "2"), do("MGET", "a", "b"), do("MSET", "a", "1", "a", "2"), do("GET", "a")}},
		{name: "mset/arity", steps: []step{do("MSET"), do("MSET", "a"), do("MSET", "a", "1", "b"), do("EXISTS", "a", "b")}},
		{name: "mset/clears-ttl", steps: []step{do("SET", "a", "v", "EX", "100"), do("MSET", "a", "w"), do("TTL", "a"), do("OBJECT", "ENCODING", "a"), do("MSET", "a", "12"), do("OBJECT", "ENCODING", "a")}},
		{name: "msetnx/basic", steps: []step{
			do("MSETNX", "a", "1", "b", "2"), do("MSETNX", "a", "3", "c", "4"), do("MGET", "a", "b", "c"),
			do("MSETNX", "d", "1", "d", "2"), do("GET", "d")}},
		{name: "msetnx/arity", steps: []step{do("MSETNX"), do("MSETNX", "a"), do("MSETNX", "a", "1", "b"), do("EXISTS", "a", "b")}},
	}
}
