package integration

import (
	"strings"
	"testing"
)

func TestDiffCounters(t *testing.T) { runCases(t, counterCases()) }

// incrOn sets k to stored and applies each command to it, then reads it back.
func incrOn(stored string, cmds ...[]string) []step {
	steps := []step{do("SET", "k", stored)}
	for _, c := range cmds {
		steps = append(steps, do(c...))
	}
	return append(steps, do("GET", "k"), do("OBJECT", "ENCODING", "k"))
}

func incrbyfloatOn(stored, incr string) []step {
	return incrOn(stored, []string{"INCRBYFLOAT", "k", incr})
}

// counterCases cover INCR, DECR, INCRBY, DECRBY and INCRBYFLOAT: parsing of
// the stored value and of the increment, overflow, formatting, TTL and
// encoding after the update.
func counterCases() []diffCase {
	cases := []diffCase{
		{name: "incr/missing", steps: []step{do("INCR", "k"), do("INCR", "k"), do("GET", "k"), do("DECR", "n"), do("DECR", "n")}},
		{name: "incr/arity", steps: []step{do("INCR"), do("INCR", "a", "b"), do("DECR"), do("INCRBY", "k"), do("DECRBY", "k"), do("INCRBY", "k", "1", "2"), do("INCRBYFLOAT", "k")}},
		{name: "incr/keeps-ttl", steps: []step{do("SET", "k", "1", "EX", "100"), do("INCR", "k"), ttl("TTL", "k"), do("INCRBYFLOAT", "k", "1.5"), ttl("TTL", "k")}},
		{name: "incr/int64-max", steps: incrOn("9223372036854775807", []string{"INCR", "k"}, []string{"INCRBY", "k", "0"}, []string{"DECR", "k"})},
		{name: "incr/int64-min", steps: incrOn("-9223372036854775808", []string{"DECR", "k"}, []string{"DECRBY", "k", "1"}, []string{"INCR", "k"})},
		{name: "incrby/overflow", steps: incrOn("1", []string{"INCRBY", "k", "9223372036854775807"}, []string{"INCRBY", "k", "9223372036854775806"}, []string{"INCRBY", "k", "-9223372036854775808"})},
		{name: "incrby/underflow", steps: incrOn("-2", []string{"INCRBY", "k", "-9223372036854775807"}, []string{"DECRBY", "k", "9223372036854775807"}, []string{"INCRBY", "k", "-9223372036854775806"})},
		{name: "decrby/min-int64", steps: []step{
			do("DECRBY", "k", "-9223372036854775808"), do("EXISTS", "k"), do("SET", "k", "0"),
			do("DECRBY", "k", "-9223372036854775808"), do("DECRBY", "k", "-9223372036854775807"), do("GET", "k")}},
		{name: "incrby/bad-increment", steps: []step{
			do("INCRBY", "k", "abc"), do("INCRBY", "k", "1.5"), do("INCRBY", "k", ""), do("INCRBY", "k", " 1"),
			do("INCRBY", "k", "+1"), do("INCRBY", "k", "01"), do("INCRBY", "k", "-0"), do("INCRBY", "k", "99999999999999999999"),
			do("INCRBY", "k", "9223372036854775808"), do("DECRBY", "k", "x"), do("EXISTS", "k"),
			do("INCRBY", "k", "-9223372036854775808"), do("GET", "k")}},
		{name: "incr/shared-refcount", steps: []step{
			do("INCR", "k"), do("OBJECT", "REFCOUNT", "k"), do("INCRBY", "k", "9998"), do("OBJECT", "REFCOUNT", "k"),
			do("INCR", "k"), do("OBJECT", "REFCOUNT", "k"), do("OBJECT", "ENCODING", "k"), do("DECRBY", "k", "20000"),
			do("OBJECT", "REFCOUNT", "k"), do("OBJECT", "ENCODING", "k")}},
		{name: "incr/after-append", steps: []step{do("SET", "k", "1"), do("APPEND", "k", "2"), do("OBJECT", "ENCODING", "k"), do("INCR", "k"), do("OBJECT", "ENCODING", "k"), do("GET", "k")}},
		{name: "incrbyfloat/missing", steps: []step{do("INCRBYFLOAT", "k", "10.5"), do("INCRBYFLOAT", "k", "0.1"), do("GET", "k"), do("OBJECT", "ENCODING", "k")}},
		{name: "incrbyfloat/accumulate", steps: []step{
			do("INCRBYFLOAT", "k", "0.1"), do("INCRBYFLOAT", "k", "0.1"), do("INCRBYFLOAT", "k", "0.1"),
			do("INCRBYFLOAT", "k", "-0.3"), do("INCRBYFLOAT", "k", "1e-17"), do("INCRBYFLOAT", "k", "-1e-17")}},
		{name: "incrbyfloat/to-zero", steps: []step{do("INCRBYFLOAT", "k", "1.5"), do("INCRBYFLOAT", "k", "-1.5"), do("GET", "k"), do("INCRBYFLOAT", "k", "-0.0"), do("OBJECT", "ENCODING", "k")}},
		{name: "incrbyfloat/huge", steps: []step{
			do("INCRBYFLOAT", "k", "1e300"), do("STRLEN", "k"), do("OBJECT", "ENCODING", "k"),
			do("INCRBYFLOAT", "k", "1.7976931348623157e308"), do("INCRBYFLOAT", "k", "1.7976931348623157e308"), do("STRLEN", "k")}},
		{name: "incrbyfloat/long-double-range", steps: []step{
			do("SET", "k", "1e4000"), do("INCRBYFLOAT", "k", "1"), do("STRLEN", "k"),
			do("SET", "k", "1e4933"), do("INCRBYFLOAT", "k", "1e4932"), do("INCRBYFLOAT", "k", "1e4933"), do("INCRBYFLOAT", "k", "1e4933"), do("STRLEN", "k")}},
		{name: "incrbyfloat/tiny", steps: []step{
			do("INCRBYFLOAT", "k", "1e-5000"), do("INCRBYFLOAT", "k", "1e-300"), do("INCRBYFLOAT", "k", "1e-4940"), do("INCRBYFLOAT", "k", "4e-4951"), do("GET", "k")}},
		{name: "incrbyfloat/stored-int-max", steps: incrOn("9223372036854775807", []string{"INCRBYFLOAT", "k", "1"}, []string{"INCRBYFLOAT", "k", "0.5"})},
		{name: "incrbyfloat/large-integers", steps: incrOn("12345678901234567890123", []string{"INCRBYFLOAT", "k", "98765432109876543210"}, []string{"INCRBYFLOAT", "k", "1"})},
		{name: "incrbyfloat/arity", steps: []step{do("INCRBYFLOAT"), do("INCRBYFLOAT", "k", "1", "2")}},
		{name: "incrbyfloat/inf-stored", steps: []step{
			do("SET", "k", "inf"), do("INCRBYFLOAT", "k", "1"), do("INCRBYFLOAT", "k", "abc"), do("SET", "k", "-inf"),
			do("INCRBYFLOAT", "k", "-inf"), do("SET", "k", "nan"), do("INCRBYFLOAT", "k", "1"), do("GET", "k")}},
		{name: "incrbyfloat/keeps-ttl-and-encoding", steps: []step{
			do("SET", "k", "1", "EX", "100"), do("INCRBYFLOAT", "k", "0.25"), ttl("TTL", "k"), do("OBJECT", "ENCODING", "k"),
			do("INCRBYFLOAT", "k", "1e30"), do("OBJECT", "ENCODING", "k"), do("STRLEN", "k")}},
	}
	// Increments INCRBYFLOAT must parse like strtold, or reject with the
	// same error (Redis's string2ld: no spaces, no NaN, no overflow).
	for i, incr := range []string{
		"10.5", "0.1", "-0.1", "1", "-1", "0", "-0", "+1.5", "5.0e3", "5E3", "1e-5", "1e300", "-1e300",
		"1e308", "1e309", "1e4932", "1e4933", "1e5000", "-1e5000", "1e-5000", "1e-4950", "inf", "-inf", "+inf", "INF",
		"infinity", "-Infinity", "nan", "-nan", "NaN", "0x1p3", "0X1P-2", "0x10", "0xg", "0x", "0x.8p1",
		" 1", "1 ", "\t1", "1\n", "", " ", "abc", "1abc", "1e", "1e+", ".5", "5.", ".", "-.5e1", "1_000",
		"0b1", "1,5", "00012", "0.00000000000000000000001", "123456789012345678901234567890",
		"3.0000000000000000001", "1.1.1", "--1", "+-1", "1e-", "١", "1e99999999999", "1e-99999999999",
		"0e-99999999999", "0e9999999999999999999", "-0.0e+99999999999999999999", "0x0p99999999999999999999", "0e+-1", "0e--1", "0x1p99999999999", "0x1p-16446", "0x1p-16445", "0x1p16383", "0x1p16384",
	} {
		cases = append(cases, diffCase{name: label("incrbyfloat/incr", i, incr), steps: incrbyfloatOn("10.5", incr)})
	}
	// Stored values INCRBYFLOAT must read (the increment is always valid).
	for i, stored := range []string{
		"1", "1.5", "5.0e3", " 1", "1 ", "abc", "", "0x1p3", "1e-5000", "1e5000", "-0", "00", "1e", "3.14abc",
		"12345678901234567890", "0.1",
	} {
		cases = append(cases, diffCase{name: label("incrbyfloat/stored", i, stored), steps: incrbyfloatOn(stored, "1")})
	}
	// Stored values INCR must read with string2ll's strict rules.
	for i, stored := range []string{
		"1", " 1", "1 ", "01", "+1", "-1", "-0", "0", "", "abc", "1.0", "1e3", "9223372036854775806",
		"9223372036854775808", "-9223372036854775809", "12345678901234567890", "00", "0x10", "\x001",
	} {
		cases = append(cases, diffCase{name: label("incr/stored", i, stored), steps: incrOn(stored,
			[]string{"INCR", "k"}, []string{"DECR", "k"}, []string{"INCRBY", "k", "5"}, []string{"DECRBY", "k", "5"})})
	}
	return append(cases, stringOpCases()...)
}

// stringOpCases cover APPEND, STRLEN, GETRANGE, SUBSTR and SETRANGE.
func stringOpCases() []diffCase {
	hello := "Hello World"
	cases := []diffCase{
		{name: "append/basic", steps: []step{do("APPEND", "k", "Hello"), do("APPEND", "k", " World"), do("GET", "k"), do("APPEND", "k", ""), do("STRLEN", "k"), do("OBJECT", "ENCODING", "k")}},
		{name: "append/empty-missing", steps: []step{do("APPEND", "k", ""), do("EXISTS", "k"), do("GET", "k"), do("OBJECT", "ENCODING", "k")}},
		{name: "append/to-int", steps: []step{do("SET", "k", "123"), do("OBJECT", "ENCODING", "k"), do("APPEND", "k", "4"), do("GET", "k"), do("OBJECT", "ENCODING", "k"), do("INCR", "k")}},
		{name: "append/keeps-ttl", steps: []step{do("SET", "k", "v", "EX", "100"), do("APPEND", "k", "w"), ttl("TTL", "k")}},
		{name: "append/new-key-encoding", steps: []step{do("APPEND", "k", "12"), do("OBJECT", "ENCODING", "k"), do("APPEND", "l", strings.Repeat("z", 50)), do("OBJECT", "ENCODING", "l")}},
		{name: "append/arity", steps: []step{do("APPEND"), do("APPEND", "k"), do("APPEND", "k", "a", "b")}},
		{name: "strlen/basic", steps: []step{do("STRLEN", "k"), do("SET", "k", "12345"), do("STRLEN", "k"), do("SET", "k", "-1"), do("STRLEN", "k"), do("STRLEN"), do("STRLEN", "a", "b")}},
		{name: "getrange/missing", steps: []step{do("GETRANGE", "k", "0", "-1"), do("GETRANGE", "k", "a", "b"), do("SUBSTR", "k", "0", "1")}},
		{name: "getrange/empty-value", steps: []step{do("SET", "k", ""), do("GETRANGE", "k", "0", "0"), do("GETRANGE", "k", "0", "-1"), do("GETRANGE", "k", "-1", "-1")}},
		{name: "getrange/int-encoded", steps: []step{do("SET", "k", "12345"), do("GETRANGE", "k", "1", "2"), do("GETRANGE", "k", "-2", "-1"), do("SUBSTR", "k", "0", "0")}},
		{name: "getrange/not-integer", steps: []step{do("SET", "k", hello), do("GETRANGE", "k", "x", "1"), do("GETRANGE", "k", "1", "x"), do("GETRANGE", "k", "1.5", "2"), do("GETRANGE", "k", "", "2"), do("GETRANGE", "k", "99999999999999999999", "1")}},
		{name: "getrange/arity", steps: []step{do("GETRANGE", "k", "0"), do("GETRANGE", "k", "0", "1", "2"), do("SUBSTR", "k")}},
		{name: "setrange/missing", steps: []step{do("SETRANGE", "k", "5", "abc"), do("GET", "k"), do("STRLEN", "k"), do("OBJECT", "ENCODING", "k")}},
		{name: "setrange/overwrite-and-grow", steps: []step{
			do("SET", "k", hello), do("SETRANGE", "k", "6", "Redis"), do("GET", "k"), do("SETRANGE", "k", "9", "Celerity"),
			do("GET", "k"), do("SETRANGE", "k", "20", "!"), do("GET", "k"), do("SETRANGE", "k", "0", "h"), do("GET", "k")}},
		{name: "setrange/empty-value", steps: []step{
			do("SETRANGE", "k", "0", ""), do("EXISTS", "k"), do("SETRANGE", "k", "536870912", ""), do("EXISTS", "k"),
			do("SET", "k", "abc"), do("SETRANGE", "k", "10", ""), do("GET", "k"), do("SETRANGE", "k", "536870912", ""), do("SETRANGE", "k", "-1", "")}},
		{name: "setrange/offset-errors", steps: []step{
			do("SETRANGE", "k", "-1", "x"), do("SETRANGE", "k", "abc", "x"), do("SETRANGE", "k", "1.5", "x"),
			do("SETRANGE", "k", "536870912", "x"), do("SETRANGE", "k", "536870911", "xy"), do("SETRANGE", "k", "9223372036854775807", "x"),
			do("SETRANGE", "k", "99999999999999999999", "x"), do("EXISTS", "k"),
			do("SET", "k", "v"), do("SETRANGE", "k", "-1", "x"), do("SETRANGE", "k", "536870912", "x"), do("SETRANGE", "k", "9223372036854775807", "x"), do("GET", "k")}},
		{name: "setrange/int-encoded", steps: []step{do("SET", "k", "12345"), do("SETRANGE", "k", "1", "x"), do("GET", "k"), do("OBJECT", "ENCODING", "k"), do("SET", "k", "123"), do("SETRANGE", "k", "0", "9"), do("OBJECT", "ENCODING", "k")}},
		{name: "setrange/keeps-ttl", steps: []step{do("SET", "k", "v", "EX", "100"), do("SETRANGE", "k", "3", "x"), ttl("TTL", "k"), do("GET", "k")}},
		{name: "setrange/arity", steps: []step{do("SETRANGE", "k", "0"), do("SETRANGE", "k", "0", "a", "b"), do("SETRANGE")}},
		{name: "string/proto-max-bulk-len", steps: []step{
			do("CONFIG", "SET", "proto-max-bulk-len", "1048576"),
			do("SETRANGE", "k", "1048576", "x"), do("SETRANGE", "k", "1048575", "xy"), do("EXISTS", "k"),
			do("SETRANGE", "k", "1048575", "x"), do("STRLEN", "k"), do("APPEND", "k", "x"), do("APPEND", "k", ""),
			do("SETRANGE", "k", "1048575", "y"), do("SETRANGE", "k", "1048576", "y"), do("STRLEN", "k"), do("GETRANGE", "k", "-2", "-1")},
			cleanup: [][]string{{"CONFIG", "SET", "proto-max-bulk-len", "536870912"}}},
	}
	// GETRANGE/SUBSTR index arithmetic over an 11-byte value.
	for i, r := range [][2]string{
		{"0", "4"}, {"-5", "-1"}, {"0", "-1"}, {"5", "3"}, {"-1", "-5"}, {"0", "100"}, {"100", "200"},
		{"-100", "-50"}, {"-100", "5"}, {"3", "-100"}, {"-1", "-1"}, {"10", "10"}, {"11", "11"}, {"-11", "-11"},
		{"-12", "-12"}, {"0", "0"}, {"0", "9223372036854775807"}, {"-9223372036854775808", "-1"},
		{"-9223372036854775808", "9223372036854775807"}, {"9223372036854775807", "-9223372036854775808"},
		{"-1", "0"}, {"4", "-8"}, {"4", "-7"}, {"-3", "100"},
	} {
		cases = append(cases, diffCase{name: label("getrange/range", i, r[0]+" "+r[1]), steps: []step{
			do("SET", "k", hello), do("GETRANGE", "k", r[0], r[1]), do("SUBSTR", "k", r[0], r[1])}})
	}
	return cases
}
