package quicklist

import (
	"bytes"
	"fmt"
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

func collect(l *List) [][]byte {
	var out [][]byte
	l.Range(0, l.Len()-1, func(v []byte) bool {
		out = append(out, bytes.Clone(v))
		return true
	})
	return out
}

func TestEmpty(t *testing.T) {
	var l List // zero value is usable
	_, ok := l.PopHead()
	require.False(t, ok)
	_, ok = l.PopTail()
	require.False(t, ok)
	dst, ok := l.PopTailAppend([]byte("x"))
	require.False(t, ok)
	require.Equal(t, []byte("x"), dst)
	_, ok = l.Index(0)
	require.False(t, ok)
	_, ok = l.Index(-1)
	require.False(t, ok)
	require.False(t, l.Set(0, []byte("a")))
	require.Equal(t, -1, l.Insert([]byte("a"), []byte("b"), true))
	require.Equal(t, 0, l.Remove([]byte("a"), 0))
	l.Trim(0, -1)
	l.Range(0, 10, func([]byte) bool { t.Fatal("called"); return true })
	l.RangeReverse(0, 10, func([]byte) bool { t.Fatal("called"); return true })
	require.Equal(t, 0, l.Len())
	require.Equal(t, 0, l.NodeCount())
	require.Equal(t, ListpackHeaderBytes, l.ListpackBytes())
	checkInvariants(t, &l)
}

func TestSingleElement(t *testing.T) {
	l := New()
	l.PushHead([]byte("only"))
	v, ok := l.Index(0)
	require.True(t, ok)
	require.Equal(t, []byte("only"), v)
	v, _ = l.Index(-1)
	require.Equal(t, []byte("only"), v)
	_, ok = l.Index(1)
	require.False(t, ok)
	_, ok = l.Index(-2)
	require.False(t, ok)
	require.True(t, l.Set(-1, []byte("changed-and-longer")))
	require.Equal(t, [][]byte{[]byte("changed-and-longer")}, collect(l))
	v, ok = l.PopTail()
	require.True(t, ok)
	require.Equal(t, []byte("changed-and-longer"), v)
	require.Equal(t, 0, l.Len())
	require.Equal(t, 0, l.NodeCount())
	checkInvariants(t, l)

	// Empty strings are elements too.
	l.PushTail(nil)
	l.PushTail([]byte{})
	require.Equal(t, 2, l.Len())
	v, ok = l.PopHead()
	require.True(t, ok)
	require.NotNil(t, v)
	require.Empty(t, v)
}

func TestPopReturnsOwnedCopy(t *testing.T) {
	l := New()
	l.PushTail([]byte("first"))
	l.PushTail([]byte("second"))
	a, _ := l.PopHead()
	for range 100 {
		l.PushHead([]byte("XXXXX"))
	}
	require.Equal(t, []byte("first"), a)
	in := []byte("caller")
	l.PushTail(in)
	in[0] = 'X' // PushTail copied
	v, _ := l.PopTail()
	require.Equal(t, []byte("caller"), v)
}

func TestHugeElements(t *testing.T) {
	l := New()
	huge := bytes.Repeat([]byte("h"), 1<<20)
	l.PushTail([]byte("a"))
	l.PushTail(huge)
	l.PushTail([]byte("b"))
	l.PushHead(huge)
	require.Equal(t, 4, l.Len())
	v, _ := l.Index(1)
	require.Equal(t, []byte("a"), v)
	v, _ = l.Index(-2)
	require.Equal(t, huge, v)
	require.Equal(t, 4, l.Insert([]byte("a"), []byte("x"), true)-1)
	require.True(t, l.Set(1, huge))
	require.True(t, l.Set(1, []byte("small again")))
	checkInvariants(t, l)
	require.Equal(t, [][]byte{huge, []byte("small again"), []byte("x"), huge, []byte("b")}, collect(l))
	require.Equal(t, 2, l.Remove(huge, 0))
	require.Equal(t, [][]byte{[]byte("small again"), []byte("x"), []byte("b")}, collect(l))
	checkInvariants(t, l)
	require.Less(t, l.Bytes(), 64<<10, "huge arenas are released")
}

func TestManyNodes(t *testing.T) {
	l := New()
	const n = 100000
	for i := range n {
		l.PushTail([]byte(strconv.Itoa(i)))
	}
	require.Greater(t, l.NodeCount(), n/maxNodeEntries-1)
	for _, i := range []int{0, 1, 1023, 1024, 1025, n / 2, n - 1} {
		v, ok := l.Index(i)
		require.True(t, ok)
		require.Equal(t, strconv.Itoa(i), string(v))
		v, ok = l.Index(i - n)
		require.True(t, ok)
		require.Equal(t, strconv.Itoa(i), string(v))
	}
	var got []string
	l.Range(n-3, n+5, func(v []byte) bool { got = append(got, string(v)); return true })
	require.Equal(t, []string{"99997", "99998", "99999"}, got)
	got = got[:0]
	l.RangeReverse(-4, 2, func(v []byte) bool { got = append(got, string(v)); return true })
	require.Equal(t, []string{"2", "1", "0"}, got)
	l.Trim(10, n-11)
	require.Equal(t, n-20, l.Len())
	v, _ := l.Index(0)
	require.Equal(t, "10", string(v))
	v, _ = l.Index(-1)
	require.Equal(t, strconv.Itoa(n-11), string(v))
	checkInvariants(t, l)
	l.Trim(5, 4)
	require.Equal(t, 0, l.Len())
	checkInvariants(t, l)
}

func TestRemoveEverythingCompacts(t *testing.T) {
	l := New()
	msg := bytes.Repeat([]byte("m"), 1000)
	for i := range 3000 {
		if i%100 == 0 {
			l.PushTail([]byte("keep"))
		} else {
			l.PushTail(msg)
		}
	}
	before := l.NodeCount()
	require.Equal(t, 2970, l.Remove(msg, 0))
	require.Equal(t, 30, l.Len())
	require.Less(t, l.NodeCount(), before/10, "sparse nodes are merged")
	require.Less(t, l.Bytes(), 8<<10)
	checkInvariants(t, l)
	require.Equal(t, 10, l.Remove([]byte("keep"), -10))
	require.Equal(t, 20, l.Len())
	checkInvariants(t, l)
}

// A long-running queue (push at one end, pop at the other) must not grow
// without bound, both when it fits in one node and when it spans several.
func TestSteadyQueueBoundedMemory(t *testing.T) {
	msg := bytes.Repeat([]byte("q"), 1024)
	for _, depth := range []int{0, 1, 5, 40, 300} {
		t.Run(fmt.Sprint("depth=", depth), func(t *testing.T) {
			l := New()
			for range depth {
				l.PushHead(msg)
			}
			peak := 0
			for i := range 200000 {
				l.PushHead(msg)
				var ok bool
				var buf [2048]byte
				_, ok = l.PopTailAppend(buf[:0])
				require.True(t, ok)
				if i > 1000 {
					peak = max(peak, l.Bytes())
				}
			}
			require.Equal(t, depth, l.Len())
			// Live data plus at most ~3 arenas of slack.
			require.Less(t, peak, depth*1030+3*maxNodeBytes+4096, "depth %d", depth)
			checkInvariants(t, l)
		})
	}
}

// After a burst drains, an idle queue must not pin the burst's memory.
func TestBurstThenDrainReleasesMemory(t *testing.T) {
	msg := bytes.Repeat([]byte("b"), 1024)
	l := New()
	for range 20000 {
		l.PushHead(msg)
	}
	require.Greater(t, l.Bytes(), 20000*1024)
	for l.Len() > 1 {
		_, ok := l.PopTailAppend(nil)
		require.True(t, ok)
	}
	require.Less(t, l.Bytes(), 8<<10)
	checkInvariants(t, l)
	l.Reset()
	require.Less(t, l.Bytes(), 8<<10)
	checkInvariants(t, l)
}

func TestZeroAllocSteadyQueue(t *testing.T) {
	msg := bytes.Repeat([]byte("q"), 1024)
	l := New()
	for range 100 {
		l.PushHead(msg)
	}
	buf := make([]byte, 0, 2048)
	allocs := testing.AllocsPerRun(10000, func() {
		l.PushHead(msg)
		buf, _ = l.PopTailAppend(buf[:0])
	})
	require.Zero(t, allocs)
}

func TestSetAcrossSizes(t *testing.T) {
	l := New()
	for i := range 200 {
		l.PushTail(bytes.Repeat([]byte{'a' + byte(i%26)}, 500))
	}
	// Grow every element so nodes overflow and must split.
	for i := range 200 {
		require.True(t, l.Set(i, bytes.Repeat([]byte{'A' + byte(i%26)}, 900)))
	}
	for i := range 200 {
		v, _ := l.Index(i)
		require.Equal(t, bytes.Repeat([]byte{'A' + byte(i%26)}, 900), v)
	}
	checkInvariants(t, l)
	for i := range 200 {
		require.True(t, l.Set(-1-i, []byte(strconv.Itoa(i))))
	}
	v, _ := l.Index(0)
	require.Equal(t, "199", string(v))
	checkInvariants(t, l)
}

// TestMemoryPerElement measures heap bytes per queued element for 100k
// RPUSHed messages of several sizes and compares with Redis 7.0.15's
// used_memory delta for the same workload (measured with INFO memory before
// and after RPUSHing 100k values; list-max-listpack-size -2).
func TestMemoryPerElement(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates ~110 MB")
	}
	redis := map[int]float64{1024: 1177.2, 100: 104.3, 10: 12.15}
	for _, size := range []int{1024, 100, 10} {
		msg := bytes.Repeat([]byte("j"), size)
		const n = 100000
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		l := New()
		for range n {
			l.PushTail(msg)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		per := float64(after.HeapAlloc-before.HeapAlloc) / n
		t.Logf("%4d-byte elements: %.1f heap bytes/element (Bytes() %.1f), %d nodes; Redis 7.0.15: %.1f → ratio %.2f",
			size, per, float64(l.Bytes())/n, l.NodeCount(), redis[size], per/redis[size])
		require.Less(t, per, 1.2*redis[size])
		runtime.KeepAlive(l)
	}
}
