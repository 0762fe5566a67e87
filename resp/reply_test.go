package resp

import (
	"math"
	"math/big"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAppendDoubleMatchesCPrintfG17(t *testing.T) {
	// Expected strings are C's printf("%.17g") (checked with Python's
	// '%.17g' %, which calls the C library).
	for _, tc := range []struct {
		f    float64
		want string
	}{
		{1.1, "1.1000000000000001"}, {0.1, "0.10000000000000001"}, {1e-5, "1.0000000000000001e-05"},
		{1e17, "1e+17"}, {1e16, "10000000000000000"}, {1.2345678901234568e17, "1.2345678901234568e+17"},
		{3, "3"}, {-2.5, "-2.5"}, {1e-4, "0.0001"}, {5e-324, "4.9406564584124654e-324"},
		{math.MaxFloat64, "1.7976931348623157e+308"}, {0.30000000000000004, "0.30000000000000004"},
		{1795487167.033712, "1795487167.0337119"}, {0, "0"}, {math.Copysign(0, -1), "-0"},
		{math.Inf(1), "inf"}, {math.Inf(-1), "-inf"},
	} {
		assert.Equal(t, tc.want, string(AppendDouble(nil, tc.f)), "%v", tc.f)
	}
}

func TestReplyWriterDowngradesRESP3ForRESP2(t *testing.T) {
	for _, tc := range []struct {
		name        string
		write       func(w *ReplyWriter)
		resp2, rsp3 string
	}{
		{"null", func(w *ReplyWriter) { w.Null() }, "$-1\r\n", "_\r\n"},
		{"null array", func(w *ReplyWriter) { w.NullArray() }, "*-1\r\n", "_\r\n"},
		{"map", func(w *ReplyWriter) { w.Map(1); w.BulkString("k"); w.Int(1) }, "*2\r\n$1\r\nk\r\n:1\r\n", "%1\r\n$1\r\nk\r\n:1\r\n"},
		{"set", func(w *ReplyWriter) { w.Set(1); w.BulkString("m") }, "*1\r\n$1\r\nm\r\n", "~1\r\n$1\r\nm\r\n"},
		{"double", func(w *ReplyWriter) { w.Double(1.5) }, "$3\r\n1.5\r\n", ",1.5\r\n"},
		{"bool", func(w *ReplyWriter) { w.Bool(true) }, ":1\r\n", "#t\r\n"},
		{"verbatim", func(w *ReplyWriter) { w.Verbatim("a\r\nb") }, "$4\r\na\r\nb\r\n", "=8\r\ntxt:a\r\nb\r\n"},
		{"push", func(w *ReplyWriter) { w.Push(0) }, "*0\r\n", ">0\r\n"},
		{"error stays on one line", func(w *ReplyWriter) { w.rawError("ERR a\r\nb") }, "-ERR a  b\r\n", "-ERR a  b\r\n"},
	} {
		for proto, want := range map[int]string{2: tc.resp2, 3: tc.rsp3} {
			w := &ReplyWriter{proto: proto}
			tc.write(w)
			assert.Equal(t, want, string(w.buf), "%s RESP%d", tc.name, proto)
		}
	}
}

func TestDeferredLengths(t *testing.T) {
	w := &ReplyWriter{proto: 3}
	w.BulkString("before")
	d := w.DeferLen()
	for i := 0; i < 12; i++ {
		w.Int(int64(i))
	}
	w.SetArrayLen(d, 12)
	v, err := ReadValue(newBufReader(w.buf[len("$6\r\nbefore\r\n"):]))
	require.NoError(t, err)
	assert.Equal(t, byte('*'), v.Kind)
	assert.Len(t, v.Elems, 12)
	assert.Equal(t, int64(11), v.Elems[11].Int)
}

func TestValueRoundTripsThroughJSONAndWriter(t *testing.T) {
	in := "%2\r\n$7\r\nsummary\r\n$3\r\nabc\r\n$5\r\nflags\r\n~2\r\n+a\r\n+b\r\n"
	v, err := ReadValue(newBufReader([]byte(in)))
	require.NoError(t, err)
	js, err := v.MarshalJSON()
	require.NoError(t, err)
	var back Value
	require.NoError(t, back.UnmarshalJSON(js))
	w := &ReplyWriter{proto: 3}
	w.WriteValue(back)
	assert.Equal(t, in, string(w.buf))
	w = &ReplyWriter{proto: 2}
	w.WriteValue(back)
	assert.Equal(t, "*4\r\n$7\r\nsummary\r\n$3\r\nabc\r\n$5\r\nflags\r\n*2\r\n+a\r\n+b\r\n", string(w.buf))
}

func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		pat, s string
		want   bool
	}{
		{"*", "", false} /* stringmatchlen quirk: KEYS * only lists "" via its match-all shortcut */, {"*", "abc", true}, {"a*c", "abbbc", true}, {"a*c", "abcd", false},
		{"h?llo", "hello", true}, {"h?llo", "hllo", false}, {"h[ae]llo", "hallo", true},
		{"h[^e]llo", "hello", false}, {"h[^e]llo", "hallo", true}, {"h[a-b]llo", "hbllo", true},
		{"h[b-a]llo", "hallo", true}, {`h\*llo`, "h*llo", true}, {`h\*llo`, "hello", false},
		{"/0.celeryev/worker.*", "/0.celeryev/worker.heartbeat", true},
		{"[abc", "a", true}, {"ab[", "ab", false}, {"a**b", "ab", true},
		{"celery-task-meta-*", "celery-task-meta-1234", true},
	} {
		assert.Equal(t, tc.want, globMatch([]byte(tc.pat), []byte(tc.s), false), "%q ~ %q", tc.pat, tc.s)
	}
	assert.True(t, globMatch([]byte("HELLO"), []byte("hello"), true))
	// Exponential patterns are cut off by the nesting limit instead of
	// running for ever.
	long := make([]byte, 0, 3000)
	for i := 0; i < 1500; i++ {
		long = append(long, 'a', '*')
	}
	assert.False(t, globMatch(long, []byte("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"), false))
}

func TestLongDoubleMatchesX87(t *testing.T) {
	sum := func(a, b string) string {
		x, _, ok := parseLongDouble([]byte(a))
		require.True(t, ok, a)
		y, _, ok := parseLongDouble([]byte(b))
		require.True(t, ok, b)
		return formatLongDoubleHuman(new(big.Float).SetPrec(ldPrec).Add(x, y))
	}
	// 10.5 + 0.1 is 10.6 in long double but 10.599999999999999 in double.
	assert.Equal(t, "10.6", sum("10.5", "0.1"))
	assert.Equal(t, "3.0e3", "3.0e3") // parse forms below
	for _, s := range []string{"5.0e3", "0x1p3", "+1.5", "-0", ".5", "5."} {
		_, _, ok := parseLongDouble([]byte(s))
		assert.True(t, ok, s)
	}
	for _, s := range []string{"", " 1", "1 ", "nan", "1e", "abc", "1_000", "--1"} {
		_, _, ok := parseLongDouble([]byte(s))
		assert.False(t, ok, s)
	}
	_, inf, ok := parseLongDouble([]byte("-Infinity"))
	assert.True(t, ok)
	assert.True(t, inf)
	assert.Equal(t, "0", sum("-0", "0"))
}
