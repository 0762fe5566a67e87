package quicklist

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// Entry sizes measured on redis-server 7.0.15: RPUSH one value into a fresh
// list and read DEBUG OBJECT ql_uncompressed_size, minus the 7-byte listpack
// header/terminator.
var redisEntrySizes = []struct {
	v    string
	size int
}{
	{"0", 2}, {"-0", 4}, {"00", 4}, {"007", 5}, {"+5", 4}, {" 5", 4}, {"5 ", 4},
	{"1", 2}, {"127", 2}, {"128", 3}, {"-1", 3}, {"-64", 3}, {"-4096", 3},
	{"4095", 3}, {"4096", 4}, {"-4097", 4}, {"32767", 4}, {"32768", 5},
	{"-32768", 4}, {"-32769", 5}, {"8388607", 5}, {"8388608", 6},
	{"-8388608", 5}, {"-8388609", 6}, {"2147483647", 6}, {"2147483648", 10},
	{"-2147483648", 6}, {"-2147483649", 10}, {"9223372036854775807", 10},
	{"9223372036854775808", 21}, {"-9223372036854775808", 10},
	{"-9223372036854775809", 22}, {"12345678901234567890", 22},
	{"-1234567890123456789", 10}, {"1.5", 5}, {"1e3", 5}, {"0x10", 6}, {"", 2},
}

var redisStringSizes = []struct{ n, size int }{
	{63, 65}, {64, 67}, {125, 128}, {126, 130}, {127, 131}, {4095, 4099},
	{4096, 4103}, {16375, 16382}, {16376, 16383}, {2097144, 2097152},
	{2097145, 2097153},
}

func TestListpackEntrySizeMatchesRedis(t *testing.T) {
	for _, c := range redisEntrySizes {
		require.Equal(t, c.size, ListpackEntrySize([]byte(c.v)), "%q", c.v)
	}
	for _, c := range redisStringSizes {
		require.Equal(t, c.size, ListpackEntrySize(bytes.Repeat([]byte("a"), c.n)), "len %d", c.n)
	}
}

// Node split points measured on redis-server 7.0.15: with the given
// list-max-listpack-size, RPUSH the same value into a fresh list until
// DEBUG OBJECT shows ql_nodes:2. splitAt is the push that created the second
// node and prevBytes the first node's listpack size just before it.
var redisSplits = []struct {
	fill      int
	v         string // "x*N" means N 'x' bytes
	splitAt   int
	prevBytes int
}{
	{-2, "a", 2727, 8185}, {-2, "12", 4089, 8183}, {-2, "x*11", 630, 8184},
	{-2, "x*63", 126, 8132}, {-2, "x*64", 123, 8181}, {-2, "x*100", 80, 8144},
	{-2, "x*127", 63, 8129}, {-2, "x*128", 62, 8059}, {-2, "x*1000", 9, 8039},
	{-2, "x*1024", 8, 7203}, {-2, "x*4095", 2, 4106}, {-2, "x*4096", 2, 4110},
	{-2, "x*8184", 2, 8198}, {-2, "x*9000", 2, 9014},
	{-2, "123456789012", 818, 8177}, {-2, "-5", 2727, 8185}, {-2, "70000", 1636, 8182},
	{-1, "a", 1362, 4090}, {-1, "12", 2041, 4087}, {-1, "x*64", 61, 4027},
	{-1, "x*1024", 4, 3091}, {-1, "x*4095", 2, 4106}, {-1, "-5", 1361, 4087},
	{-3, "a", 5458, 16378}, {-3, "x*128", 125, 16375}, {-3, "x*1024", 16, 15427},
	{-3, "x*8000", 3, 16021}, {-3, "x*8184", 2, 8198},
	{-5, "a", 21842, 65530}, {-5, "x*1024", 64, 64771}, {-5, "x*8184", 9, 65535},
	{-5, "x*8185", 8, 57351}, {-5, "x*9000", 8, 63056},
	{128, "a", 129, 391}, {128, "x*63", 126, 8132}, {128, "x*1024", 8, 7203},
	{5, "a", 6, 22}, {5, "x*1024", 6, 5147}, {5, "x*4095", 2, 4106},
	{1000, "a", 1001, 3007}, {1000, "x*11", 630, 8184}, {1000, "12", 1001, 2007},
	// list-max-listpack-size 0 puts every element in its own node; -10
	// behaves as -5 and 40000 as 32767 (clamped).
	{0, "a", 2, 10}, {-10, "a", 21842, 65530}, {40000, "a", 2727, 8185},
	{40000, "x*11", 630, 8184}, {-4, "x*1024", 32, 31875},
}

func expand(v string) []byte {
	var n int
	if _, err := fmt.Sscanf(v, "x*%d", &n); err == nil {
		return bytes.Repeat([]byte("x"), n)
	}
	return []byte(v)
}

// TestNodeSplitMatchesRedis replays RPUSH with NodeAllowsInsert and
// ListpackEntrySize and checks it splits exactly where the real server did.
func TestNodeSplitMatchesRedis(t *testing.T) {
	for _, c := range redisSplits {
		v := expand(c.v)
		size, count := 0, 0
		n := 0
		for {
			n++
			if count > 0 && !NodeAllowsInsert(c.fill, size, count, len(v)) {
				break
			}
			if count == 0 {
				size = ListpackHeaderBytes
			}
			size += ListpackEntrySize(v)
			count++
			require.Less(t, n, 100000)
		}
		require.Equal(t, c.splitAt, n, "fill %d value %s", c.fill, c.v)
		require.Equal(t, c.prevBytes, size, "fill %d value %s", c.fill, c.v)

		// The static check agrees with the replay: the list just before the
		// split fits one listpack node (modulo Redis's 8-byte estimate).
		l := New()
		for range n - 1 {
			l.PushTail(v)
		}
		require.Equal(t, c.prevBytes, l.ListpackBytes())
		require.True(t, l.FitsSingleListpack(c.fill), "fill %d value %s", c.fill, c.v)
	}
}

func TestFillClamp(t *testing.T) {
	require.Equal(t, -5, ClampFill(-6))
	require.Equal(t, 32767, ClampFill(100000))
	require.Equal(t, 2, ClampFill(2))
	for fill, want := range map[int]int{-1: 4096, -2: 8192, -3: 16384, -4: 32768, -5: 65536, -9: 65536, 0: 8192, 7: 8192} {
		require.Equal(t, want, FillByteLimit(fill), "fill %d", fill)
	}
}

func TestFitsSingleListpack(t *testing.T) {
	l := New()
	require.True(t, l.FitsSingleListpack(-2))
	l.PushTail(bytes.Repeat([]byte("x"), 100000))
	require.True(t, l.FitsSingleListpack(-2), "a single element always fits its node")
	l.PushTail([]byte("a"))
	require.False(t, l.FitsSingleListpack(-2))
	l.Reset()
	for range 3 {
		l.PushTail([]byte("a"))
	}
	require.True(t, l.FitsSingleListpack(3))
	require.False(t, l.FitsSingleListpack(2))
	require.False(t, l.FitsSingleListpack(0))
	require.Equal(t, "quicklist", ObjectEncoding)
}
