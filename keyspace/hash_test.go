package keyspace

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func hashFields(h *Hash) []string {
	var out []string
	for _, p := range h.Pairs() {
		out = append(out, p.Field)
	}
	return out
}

// checkHashInvariants verifies the index and the memory counters.
func checkHashInvariants(t *testing.T, h *Hash) {
	t.Helper()
	var lp, alloc int64
	seen := map[string]bool{}
	for i, p := range h.pairs {
		require.False(t, seen[p.Field], "duplicate field %q", p.Field)
		seen[p.Field] = true
		lp += lpEntry(p.Field) + lpEntry(p.Value)
		alloc += sdsAlloc(len(p.Field)) + sdsAlloc(len(p.Value))
		if h.index != nil {
			require.Equal(t, int32(i), h.index[p.Field], "index of %q", p.Field)
		}
	}
	if h.index != nil {
		require.Len(t, h.index, len(h.pairs))
	} else {
		require.LessOrEqual(t, len(h.pairs), hashIndexMin)
	}
	require.Equal(t, lp, h.lp)
	require.Equal(t, alloc, h.alloc)
}

func TestHashListpackKeepsInsertionOrder(t *testing.T) {
	lim := DefaultLimits()
	h := NewHash()
	for _, f := range []string{"a", "b", "c", "d"} {
		assert.True(t, h.Set([]byte(f), f+"v", lim))
	}
	assert.False(t, h.Set([]byte("b"), "new", lim), "update is not a creation")
	assert.Equal(t, []string{"a", "b", "c", "d"}, hashFields(h), "update keeps position")
	assert.True(t, h.Delete([]byte("b")))
	assert.False(t, h.Delete([]byte("b")))
	assert.Equal(t, []string{"a", "c", "d"}, hashFields(h), "delete closes the gap")
	h.Set([]byte("b"), "again", lim)
	assert.Equal(t, []string{"a", "c", "d", "b"}, hashFields(h), "re-added field goes last")
	v, ok := h.Get([]byte("b"))
	assert.True(t, ok)
	assert.Equal(t, "again", v)
	_, ok = h.Get([]byte("zz"))
	assert.False(t, ok)
	assert.Equal(t, EncListpack, h.Encoding())
	checkHashInvariants(t, h)
}

func TestHashListpackOrderWithIndex(t *testing.T) {
	lim := DefaultLimits()
	h := NewHash()
	var want []string
	for i := 0; i < 100; i++ {
		f := fmt.Sprintf("f%d", i)
		h.Set([]byte(f), "v", lim)
		want = append(want, f)
	}
	require.NotNil(t, h.index)
	for _, i := range []int{0, 50, 97, 10} {
		f := fmt.Sprintf("f%d", i)
		require.True(t, h.Delete([]byte(f)))
		want = slices.DeleteFunc(want, func(s string) bool { return s == f })
	}
	assert.Equal(t, want, hashFields(h))
	assert.Equal(t, EncListpack, h.Encoding())
	checkHashInvariants(t, h)
}

func TestHashEncodingTransitions(t *testing.T) {
	lim := DefaultLimits()
	t.Run("value length", func(t *testing.T) {
		h := NewHash()
		h.Set([]byte("f"), strings.Repeat("x", 64), lim)
		assert.Equal(t, EncListpack, h.Encoding(), "64 bytes fit")
		h.Set([]byte("g"), strings.Repeat("x", 65), lim)
		assert.Equal(t, EncHashtable, h.Encoding(), "65 bytes do not")
		h.Delete([]byte("g"))
		assert.Equal(t, EncHashtable, h.Encoding(), "never back")
	})
	t.Run("field length", func(t *testing.T) {
		h := NewHash()
		h.Set([]byte(strings.Repeat("f", 65)), "1", lim)
		assert.Equal(t, EncHashtable, h.Encoding())
	})
	t.Run("entries", func(t *testing.T) {
		h := NewHash()
		for i := 0; i < 512; i++ {
			h.Set([]byte(fmt.Sprint(i)), "v", lim)
		}
		assert.Equal(t, EncListpack, h.Encoding(), "512 entries fit")
		h.Set([]byte("511"), "update", lim)
		assert.Equal(t, EncListpack, h.Encoding())
		h.Set([]byte("512"), "v", lim)
		assert.Equal(t, EncHashtable, h.Encoding(), "513 do not")
	})
	t.Run("lowered entries limit converts on update", func(t *testing.T) {
		h := NewHash()
		for _, f := range []string{"a", "b", "c"} {
			h.Set([]byte(f), "v", lim)
		}
		small := lim
		small.HashMaxListpackEntries = 2
		h.Set([]byte("a"), "w", small)
		assert.Equal(t, EncHashtable, h.Encoding())
	})
	t.Run("ConvertForArgs", func(t *testing.T) {
		h := NewHash()
		h.Set([]byte("a"), "1", lim)
		h.ConvertForArgs([][]byte{[]byte("a"), []byte(strings.Repeat("x", 64))}, lim)
		assert.Equal(t, EncListpack, h.Encoding())
		h.ConvertForArgs([][]byte{[]byte("a"), []byte(strings.Repeat("x", 65))}, lim)
		assert.Equal(t, EncHashtable, h.Encoding())
	})
	t.Run("zero limits", func(t *testing.T) {
		zero := lim
		zero.HashMaxListpackEntries = 0
		h := NewHash()
		h.Set([]byte("a"), "1", zero)
		assert.Equal(t, EncHashtable, h.Encoding())
	})
}

func TestHashCloneIsDeep(t *testing.T) {
	lim := DefaultLimits()
	h := NewHash()
	for i := 0; i < 40; i++ {
		h.Set([]byte(fmt.Sprint(i)), "v", lim)
	}
	c := h.Clone().(*Hash)
	c.Set([]byte("new"), "x", lim)
	c.Delete([]byte("3"))
	assert.Equal(t, 40, h.Len())
	assert.True(t, h.Has([]byte("3")))
	assert.False(t, h.Has([]byte("new")))
	assert.Equal(t, hashFields(h)[:3], hashFields(c)[:3])
	checkHashInvariants(t, h)
	checkHashInvariants(t, c)
}

func TestHashMemoryUsageTracksPayload(t *testing.T) {
	lim := DefaultLimits()
	h := NewHash()
	empty := h.MemoryUsage()
	h.Set([]byte("field"), strings.Repeat("v", 60), lim)
	assert.GreaterOrEqual(t, h.MemoryUsage(), empty+65)
	h.Set([]byte("field"), "v", lim)
	assert.Less(t, h.MemoryUsage(), empty+32)
	h.Delete([]byte("field"))
	assert.Equal(t, empty, h.MemoryUsage())

	h.Set([]byte("field"), strings.Repeat("v", 1000), lim)
	require.Equal(t, EncHashtable, h.Encoding())
	big := h.MemoryUsage()
	assert.Greater(t, big, int64(1005))
	h.Set([]byte("other"), strings.Repeat("v", 1000), lim)
	assert.Greater(t, h.MemoryUsage(), big+1005)
}

// TestHashModelRandomized runs seeded random operations against a map plus
// an insertion-order list, with small limits so conversions happen, and
// checks contents, listpack order and internal invariants throughout.
func TestHashModelRandomized(t *testing.T) {
	for seed := uint64(1); seed <= 8; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 42))
			lim := DefaultLimits()
			lim.HashMaxListpackEntries = 20 + r.IntN(40)
			lim.HashMaxListpackValue = 8 + r.IntN(8)
			h := NewHash()
			model := map[string]string{}
			var order []string
			wasBig := false
			for op := 0; op < 3000; op++ {
				f := fmt.Sprintf("f%d", r.IntN(80))
				switch k := r.IntN(10); {
				case k < 5:
					v := strings.Repeat("v", r.IntN(lim.HashMaxListpackValue+2))
					_, had := model[f]
					require.Equal(t, !had, h.Set([]byte(f), v, lim))
					if !had {
						order = append(order, f)
					}
					model[f] = v
				case k < 8:
					_, had := model[f]
					require.Equal(t, had, h.Delete([]byte(f)))
					delete(model, f)
					order = slices.DeleteFunc(order, func(s string) bool { return s == f })
				default:
					v, ok := h.Get([]byte(f))
					mv, had := model[f]
					require.Equal(t, had, ok)
					require.Equal(t, mv, v)
				}
				require.Equal(t, len(model), h.Len())
				if wasBig {
					require.Equal(t, EncHashtable, h.Encoding(), "never converts back")
				}
				wasBig = h.Encoding() == EncHashtable
				if !wasBig {
					require.Equal(t, order, hashFields(h), "listpack keeps insertion order")
					require.LessOrEqual(t, h.Len(), lim.HashMaxListpackEntries)
				}
				if op%100 == 0 {
					checkHashInvariants(t, h)
					got := map[string]string{}
					for _, p := range h.Pairs() {
						got[p.Field] = p.Value
					}
					require.Equal(t, model, got)
				}
			}
		})
	}
}

func TestHashScanListpackReturnsAllAtOnce(t *testing.T) {
	lim := DefaultLimits()
	h := NewHash()
	for i := 0; i < 30; i++ {
		h.Set([]byte(fmt.Sprint(i)), "v", lim)
	}
	var got []string
	next := h.Scan(12345, 1, func(p HashPair) { got = append(got, p.Field) })
	assert.Equal(t, uint64(0), next)
	assert.Equal(t, hashFields(h), got)
}

// TestHashScanGuarantee checks that a hashtable scan interleaved with
// additions and deletions returns every field present throughout.
func TestHashScanGuarantee(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	lim := DefaultLimits()
	lim.HashMaxListpackEntries = 0
	h := NewHash()
	for i := 0; i < 1000; i++ {
		h.Set([]byte(fmt.Sprint(i)), "v", lim)
	}
	removed := map[string]bool{}
	seen := map[string]bool{}
	cursor := uint64(0)
	for calls := 0; ; calls++ {
		require.Less(t, calls, 10000)
		cursor = h.Scan(cursor, 1+r.IntN(20), func(p HashPair) { seen[p.Field] = true })
		if cursor == 0 {
			break
		}
		for j := 0; j < 5; j++ {
			f := fmt.Sprint(r.IntN(1000))
			if h.Delete([]byte(f)) {
				removed[f] = true
			}
			h.Set([]byte(fmt.Sprintf("new%d", r.IntN(1000))), "v", lim)
		}
	}
	for i := 0; i < 1000; i++ {
		f := fmt.Sprint(i)
		if !removed[f] {
			assert.True(t, seen[f], "field %s present throughout but not returned", f)
		}
	}
}

func TestHashShrinksAfterDrain(t *testing.T) {
	lim := DefaultLimits()
	h := NewHash()
	for i := 0; i < 5000; i++ {
		h.Set([]byte(fmt.Sprint(i)), "v", lim)
	}
	for i := 0; i < 4990; i++ {
		require.True(t, h.Delete([]byte(fmt.Sprint(i))))
	}
	assert.Equal(t, 10, h.Len())
	assert.Less(t, cap(h.pairs), 100)
	for i := 4990; i < 5000; i++ {
		assert.True(t, h.Has([]byte(fmt.Sprint(i))))
	}
	checkHashInvariants(t, h)
}

// BenchmarkHashUnacked models Kombu's unacked hash: thousands of ~1 KB
// messages keyed by delivery tag, each added once and deleted once.
func BenchmarkHashUnacked(b *testing.B) {
	lim := DefaultLimits()
	h := NewHash()
	payload := strings.Repeat("m", 1024)
	tags := make([][]byte, 4096)
	for i := range tags {
		tags[i] = []byte(fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i))
		h.Set(tags[i], payload, lim)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t := tags[i%len(tags)]
		h.Delete(t)
		h.Set(t, payload, lim)
	}
}
