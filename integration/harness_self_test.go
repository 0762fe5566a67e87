package integration

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The harness's own tests: they need no oracle.

func TestCompareReplies(t *testing.T) {
	for _, tc := range []struct {
		name      string
		mode      mode
		got, want string
		ok        bool
	}{
		{"exact equal", modeExact, "+OK\r\n", "+OK\r\n", true},
		{"exact differ", modeExact, ":1\r\n", ":2\r\n", false},
		{"exact null kinds differ", modeExact, "*-1\r\n", "$-1\r\n", false},
		{"unordered permuted", modeUnordered, "*2\r\n$1\r\na\r\n$1\r\nb\r\n", "*2\r\n$1\r\nb\r\n$1\r\na\r\n", true},
		{"unordered multiset", modeUnordered, "*2\r\n$1\r\na\r\n$1\r\na\r\n", "*2\r\n$1\r\na\r\n$1\r\nb\r\n", false},
		{"unordered counts", modeUnordered, "*1\r\n$1\r\na\r\n", "*2\r\n$1\r\na\r\n$1\r\nb\r\n", false},
		{"unordered set vs array", modeUnordered, "~1\r\n$1\r\na\r\n", "*1\r\n$1\r\na\r\n", false},
		{"unordered errors exact", modeUnordered, "-ERR x\r\n", "-ERR y\r\n", false},
		{"unordered map keeps pairs", modeUnordered, "%2\r\n+a\r\n:2\r\n+b\r\n:1\r\n", "%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n", false},
		{"unordered map permuted", modeUnordered, "%2\r\n+b\r\n:2\r\n+a\r\n:1\r\n", "%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n", true},
		{"pairs permuted", modeUnorderedPairs, "*4\r\n+b\r\n:2\r\n+a\r\n:1\r\n", "*4\r\n+a\r\n:1\r\n+b\r\n:2\r\n", true},
		{"pairs swapped values", modeUnorderedPairs, "*4\r\n+a\r\n:2\r\n+b\r\n:1\r\n", "*4\r\n+a\r\n:1\r\n+b\r\n:2\r\n", false},
		{"ttl within 1", modeTTL, ":99\r\n", ":100\r\n", true},
		{"ttl off by 2", modeTTL, ":98\r\n", ":100\r\n", false},
		{"ttl negative exact", modeTTL, ":-1\r\n", ":-2\r\n", false},
		{"ttl zero vs no key", modeTTL, ":0\r\n", ":-2\r\n", false},
		{"ttl not integer", modeTTL, "$2\r\n99\r\n", ":99\r\n", false},
		{"pttl within 50", modePTTL, ":99960\r\n", ":100000\r\n", true},
		{"pttl off by 51", modePTTL, ":99949\r\n", ":100000\r\n", false},
		{"shape bulk", modeShape, "$1\r\na\r\n", "$3\r\nbcd\r\n", true},
		{"shape null vs bulk", modeShape, "$-1\r\n", "$1\r\na\r\n", false},
		{"shape array sizes", modeShape, "*2\r\n$1\r\n1\r\n$1\r\n2\r\n", "*2\r\n$2\r\n10\r\n$1\r\n9\r\n", true},
		{"shape nested type", modeShape, "*1\r\n:1\r\n", "*1\r\n$1\r\n1\r\n", false},
		{"shape error text", modeShape, "-ERR a\r\n", "-ERR b\r\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			why := compareReplies(tc.mode, []byte(tc.got), []byte(tc.want))
			assert.Equal(t, tc.ok, why == "", "compareReplies: %q", why)
		})
	}
}

func TestParseReply(t *testing.T) {
	raw := "*3\r\n%1\r\n+k\r\n~2\r\n:1\r\n_\r\n$-1\r\n=7\r\ntxt:abc\r\n"
	r, err := parseReply([]byte(raw))
	require.NoError(t, err)
	require.Len(t, r.Elems, 3)
	assert.Equal(t, raw, string(r.Raw))
	pairs := r.Elems[0].mapPairs()
	require.Len(t, pairs, 1)
	assert.Equal(t, "k", pairs[0][0].Head)
	assert.Equal(t, "~2\r\n:1\r\n_\r\n", string(pairs[0][1].Raw))
	assert.True(t, r.Elems[1].Null)
	assert.Equal(t, "txt:abc", r.Elems[2].Str)
	for _, bad := range []string{"", "*2\r\n:1\r\n", "$5\r\nab\r\n", "?x\r\n", ":1\r\n:2\r\n"} {
		_, err := parseReply([]byte(bad))
		assert.Error(t, err, "%q", bad)
	}
}

func TestDDMin(t *testing.T) {
	seq := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	// Fails when 3 and 7 are both present; the failure shows at the 7.
	fails := func(c []int) (int, bool) {
		i3, i7 := slices.Index(c, 3), slices.Index(c, 7)
		return i7, i3 >= 0 && i7 > i3
	}
	got, exhausted := ddmin(seq, 1000, fails)
	assert.False(t, exhausted)
	assert.Equal(t, []int{3, 7}, got)

	_, exhausted = ddmin(seq, 3, fails)
	assert.True(t, exhausted, "a tiny budget runs out")

	// A failure visible only at the end (at == len) keeps the whole tail.
	got, _ = ddmin(seq, 1000, func(c []int) (int, bool) { return len(c), slices.Contains(c, 5) })
	assert.Equal(t, []int{5}, got)
}
