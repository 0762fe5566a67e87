package keyspace

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/keyspace/zskiplist"
)

func el(m string, s float64) zskiplist.Element { return zskiplist.Element{Member: m, Score: s} }

// zsetElements lists z in index order, checking the map and the index agree.
func zsetElements(t *testing.T, z *ZSet) []zskiplist.Element {
	t.Helper()
	var out []zskiplist.Element
	for it, ok := z.Index().First(); ok; ok = it.Next() {
		out = append(out, it.Element())
	}
	require.Len(t, out, z.Len(), "index and map sizes differ")
	for _, e := range out {
		s, ok := z.Score([]byte(e.Member))
		require.True(t, ok, "member %q in the index, not in the map", e.Member)
		require.Equal(t, math.Float64bits(e.Score), math.Float64bits(s), "score of %q", e.Member)
	}
	return out
}

func TestZSetAddFlags(t *testing.T) {
	l := DefaultLimits()
	z := NewZSet()
	s, res := z.Add([]byte("a"), 1, 0, l)
	assert.Equal(t, ZAddAdded, res)
	assert.Equal(t, 1.0, s)

	_, res = z.Add([]byte("a"), 5, ZAddNX, l)
	assert.Equal(t, ZAddNop, res)
	_, res = z.Add([]byte("b"), 5, ZAddXX, l)
	assert.Equal(t, ZAddNop, res)
	_, res = z.Add([]byte("a"), 1, 0, l)
	assert.Equal(t, ZAddSame, res)
	_, res = z.Add([]byte("a"), 0, ZAddGT, l)
	assert.Equal(t, ZAddNop, res)
	s, res = z.Add([]byte("a"), 3, ZAddGT|ZAddXX, l)
	assert.Equal(t, ZAddUpdated, res)
	assert.Equal(t, 3.0, s)
	_, res = z.Add([]byte("a"), 4, ZAddLT, l)
	assert.Equal(t, ZAddNop, res)
	s, res = z.Add([]byte("a"), 2, ZAddIncr, l)
	assert.Equal(t, ZAddUpdated, res)
	assert.Equal(t, 5.0, s)
	s, res = z.Add([]byte("c"), 2, ZAddIncr|ZAddGT, l)
	assert.Equal(t, ZAddAdded, res, "GT and LT only restrict updates")
	assert.Equal(t, 2.0, s)

	_, res = z.Add([]byte("d"), math.Inf(1), 0, l)
	require.Equal(t, ZAddAdded, res)
	_, res = z.Add([]byte("d"), math.Inf(-1), ZAddIncr, l)
	assert.Equal(t, ZAddNaN, res)
	got, _ := z.Score([]byte("d"))
	assert.True(t, math.IsInf(got, 1), "a NaN increment changes nothing")
	assert.Equal(t, []zskiplist.Element{el("c", 2), el("a", 5), el("d", math.Inf(1))}, zsetElements(t, z))
}

func TestZSetEncoding(t *testing.T) {
	l := DefaultLimits()
	l.ZSetMaxListpackEntries, l.ZSetMaxListpackValue = 3, 4
	z := NewZSet()
	for _, m := range []string{"a", "b", "c"} {
		z.Add([]byte(m), 1, 0, l)
	}
	assert.Equal(t, EncListpack, z.Encoding())
	z.Add([]byte("a"), 7, 0, l)
	assert.Equal(t, EncListpack, z.Encoding(), "an update never converts")
	z.Add([]byte("d"), 1, ZAddXX, l)
	assert.Equal(t, EncListpack, z.Encoding(), "a refused add never converts")
	z.Add([]byte("d"), 1, 0, l)
	assert.Equal(t, EncSkiplist, z.Encoding())
	z.Remove([]byte("d"))
	z.Remove([]byte("c"))
	assert.Equal(t, EncSkiplist, z.Encoding(), "never back")

	long := NewZSet()
	long.Add([]byte("abcde"), 1, 0, l)
	assert.Equal(t, EncSkiplist, long.Encoding())

	l.ZSetMaxListpackEntries = 0
	zero := NewZSet()
	zero.Add([]byte("a"), 1, 0, l)
	assert.Equal(t, EncSkiplist, zero.Encoding())

	// Fresh results choose by size and longest member.
	l.ZSetMaxListpackEntries = 3
	r := NewZSetResult()
	r.Set("a", 1)
	r.Set("bb", 2)
	assert.Equal(t, EncSkiplist, r.Encoding())
	r.Refit(l)
	assert.Equal(t, EncListpack, r.Encoding())
	r.Set("ccccc", 3)
	r.Refit(l)
	assert.Equal(t, EncSkiplist, r.Encoding())
}

func TestZSetNegativeZero(t *testing.T) {
	l := DefaultLimits()
	negZero := math.Copysign(0, -1)

	lp := NewZSet()
	s, _ := lp.Add([]byte("a"), negZero, 0, l)
	assert.True(t, math.Signbit(s), "the reply keeps the computed -0")
	got, _ := lp.Score([]byte("a"))
	assert.False(t, math.Signbit(got), "a listpack stores -0 as 0")

	l.ZSetMaxListpackEntries = 0
	sl := NewZSet()
	sl.Add([]byte("a"), negZero, 0, l)
	got, _ = sl.Score([]byte("a"))
	assert.True(t, math.Signbit(got), "a skiplist keeps -0")
	_, res := sl.Add([]byte("a"), 0, 0, l)
	assert.Equal(t, ZAddSame, res, "-0 and 0 are the same score")

	r := NewZSetResult()
	r.Set("a", negZero)
	r.Set("b", 0)
	r.Set("c", -1)
	r.Refit(DefaultLimits())
	require.Equal(t, EncListpack, r.Encoding())
	for _, e := range zsetElements(t, r) {
		assert.False(t, math.Signbit(e.Score) && e.Score == 0, "%q kept -0 in a listpack", e.Member)
	}
}

func TestZSetCloneIsDeep(t *testing.T) {
	l := DefaultLimits()
	z := NewZSet()
	for i := 0; i < 200; i++ {
		z.Add([]byte(fmt.Sprintf("m%03d", i)), float64(i%17), 0, l)
	}
	c := z.Clone().(*ZSet)
	assert.Equal(t, z.Encoding(), c.Encoding())
	assert.Equal(t, z.MemoryUsage(), c.MemoryUsage())
	want := zsetElements(t, z)
	z.Pop(50, false)
	z.Add([]byte("new"), -1, 0, l)
	assert.Equal(t, want, zsetElements(t, c))
}

func TestZSetPopAndRanges(t *testing.T) {
	l := DefaultLimits()
	z := NewZSet()
	for i, m := range []string{"a", "b", "c", "d", "e"} {
		z.Add([]byte(m), float64(i), 0, l)
	}
	assert.Equal(t, []zskiplist.Element{el("e", 4), el("d", 3)}, z.Pop(2, true))
	assert.Equal(t, []zskiplist.Element{el("a", 0)}, z.Pop(1, false))
	assert.Empty(t, z.Pop(0, false))
	assert.Equal(t, 2, z.DeleteRangeByScore(zskiplist.ScoreRange{Min: 1, Max: 2}))
	assert.Equal(t, 0, z.Len())
	assert.Empty(t, z.Pop(3, true))

	for _, m := range []string{"a", "b", "c", "d"} {
		z.Add([]byte(m), 0, 0, l)
	}
	lr := zskiplist.LexRange{Min: zskiplist.LexBound{Value: "b"}, Max: zskiplist.LexBound{Value: "c"}}
	assert.Equal(t, 2, z.DeleteRangeByLex(lr))
	assert.Equal(t, 1, z.DeleteRangeByRank(1, 1))
	assert.Equal(t, []zskiplist.Element{el("a", 0)}, zsetElements(t, z))
	r, ok := z.Rank([]byte("a"), true)
	assert.True(t, ok)
	assert.Equal(t, 0, r)
	_, ok = z.Rank([]byte("zz"), false)
	assert.False(t, ok)
}

func TestZSetRandomAndSet(t *testing.T) {
	z := NewZSetResult()
	z.Set("a", 1)
	z.Set("b", 2)
	z.Set("a", 3)
	z.Set("b", math.Copysign(0, -1))
	assert.Equal(t, []zskiplist.Element{el("b", math.Copysign(0, -1)), el("a", 3)}, zsetElements(t, z))
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		seen[z.Random().Member] = true
	}
	assert.Equal(t, map[string]bool{"a": true, "b": true}, seen)
	mem := z.MemoryUsage()
	z.Remove([]byte("a"))
	assert.Less(t, z.MemoryUsage(), mem)
}

// TestZSetScanGuarantee deletes and appends while scanning: every member
// present for the whole iteration must be returned.
func TestZSetScanGuarantee(t *testing.T) {
	l := DefaultLimits()
	l.ZSetMaxListpackEntries = 0
	rng := rand.New(rand.NewPCG(7, 7))
	z := NewZSet()
	for i := 0; i < 1000; i++ {
		z.Add([]byte(fmt.Sprintf("t%04d", i)), float64(i), 0, l)
	}
	stable := map[string]bool{}
	for i := 0; i < 1000; i += 3 {
		stable[fmt.Sprintf("t%04d", i)] = true
	}
	seen := map[string]bool{}
	var cursor uint64
	next := 1000
	for calls := 0; ; calls++ {
		require.Less(t, calls, 10000)
		var els []zskiplist.Element
		els, cursor = z.Scan(cursor, 1+rng.IntN(20), nil)
		for _, e := range els {
			seen[e.Member] = true
		}
		if cursor == 0 {
			break
		}
		// Kombu's pattern: acks remove anywhere, new deliveries go on top.
		for k := 0; k < 5; k++ {
			m := fmt.Sprintf("t%04d", rng.IntN(1000))
			if !stable[m] {
				z.Remove([]byte(m))
			}
		}
		z.Add([]byte(fmt.Sprintf("t%04d", next)), float64(next), 0, l)
		next++
	}
	for m := range stable {
		assert.True(t, seen[m], "%s missed", m)
	}
}

// zsetModel is the reference: a slice kept sorted by (score, member).
type zsetModel []zskiplist.Element

func modelCmp(a, b zskiplist.Element) int {
	if c := cmp.Compare(a.Score, b.Score); c != 0 {
		return c
	}
	return strings.Compare(a.Member, b.Member)
}

func (m zsetModel) find(member string) int {
	return slices.IndexFunc(m, func(e zskiplist.Element) bool { return e.Member == member })
}

func (m *zsetModel) set(member string, score float64) {
	if i := m.find(member); i >= 0 {
		*m = slices.Delete(*m, i, i+1)
	}
	e := zskiplist.Element{Member: member, Score: score}
	i, _ := slices.BinarySearchFunc(*m, e, modelCmp)
	*m = slices.Insert(*m, i, e)
}

func (m *zsetModel) removeIf(keep func(i int, e zskiplist.Element) bool) int {
	out := (*m)[:0]
	n := 0
	for i, e := range *m {
		if keep(i, e) {
			out = append(out, e)
		} else {
			n++
		}
	}
	*m = out
	return n
}

// TestZSetModel runs seeded random operations against ZSet and the sorted
// slice model and compares them after every step.
func TestZSetModel(t *testing.T) {
	for seed := uint64(1); seed <= 8; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 42))
			l := DefaultLimits()
			l.ZSetMaxListpackEntries = 20
			z := NewZSet()
			var m zsetModel
			member := func() string { return fmt.Sprintf("m%02d", rng.IntN(60)) }
			score := func() float64 {
				switch rng.IntN(10) {
				case 0:
					return math.Inf(1 - 2*rng.IntN(2))
				case 1:
					return 0
				}
				return float64(rng.IntN(40)-20) / 4
			}
			for op := 0; op < 3000; op++ {
				switch k := rng.IntN(10); k {
				case 0, 1, 2, 3:
					mem, s := member(), score()
					flags := []ZAddFlags{0, ZAddNX, ZAddXX, ZAddGT, ZAddLT, ZAddIncr, ZAddIncr | ZAddXX}[rng.IntN(7)]
					i := m.find(mem)
					got, res := z.Add([]byte(mem), s, flags, l)
					want := s
					switch {
					case i < 0 && flags&ZAddXX != 0:
						assert.Equal(t, ZAddNop, res)
						continue
					case i < 0:
						assert.Equal(t, ZAddAdded, res)
						m.set(mem, s)
						continue
					case flags&ZAddNX != 0:
						assert.Equal(t, ZAddNop, res)
						continue
					case flags&ZAddIncr != 0:
						want = m[i].Score + s
					}
					if math.IsNaN(want) {
						assert.Equal(t, ZAddNaN, res)
						continue
					}
					cur := m[i].Score
					if flags&ZAddGT != 0 && want <= cur || flags&ZAddLT != 0 && want >= cur {
						assert.Equal(t, ZAddNop, res)
						continue
					}
					assert.Equal(t, want, got)
					if want == cur {
						assert.Equal(t, ZAddSame, res)
					} else {
						assert.Equal(t, ZAddUpdated, res)
						m.set(mem, want)
					}
				case 4:
					mem := member()
					assert.Equal(t, m.find(mem) >= 0, z.Remove([]byte(mem)))
					if i := m.find(mem); i >= 0 {
						m = slices.Delete(m, i, i+1)
					}
				case 5:
					n, max := rng.IntN(4), rng.IntN(2) == 0
					got := z.Pop(n, max)
					n = min(n, len(m))
					var want []zskiplist.Element
					if max {
						want = slices.Clone(m[len(m)-n:])
						slices.Reverse(want)
						m = m[:len(m)-n]
					} else {
						want = slices.Clone(m[:n])
						m = m[n:]
					}
					assert.Equal(t, len(want), len(got))
					if len(want) > 0 {
						assert.Equal(t, want, got)
					}
				case 6:
					if len(m) == 0 {
						continue
					}
					a, b := rng.IntN(len(m)), rng.IntN(len(m))
					a, b = min(a, b), max(a, b)
					assert.Equal(t, m.removeIf(func(i int, _ zskiplist.Element) bool { return i < a || i > b }), z.DeleteRangeByRank(a, b))
				case 7:
					r := zskiplist.ScoreRange{Min: score(), Max: score(), MinEx: rng.IntN(2) == 0, MaxEx: rng.IntN(2) == 0}
					in := func(s float64) bool {
						return (s > r.Min || !r.MinEx && s == r.Min) && (s < r.Max || !r.MaxEx && s == r.Max)
					}
					want := 0
					for _, e := range m {
						if in(e.Score) {
							want++
						}
					}
					assert.Equal(t, want, z.Index().CountInScoreRange(r))
					if rng.IntN(3) == 0 {
						assert.Equal(t, m.removeIf(func(_ int, e zskiplist.Element) bool { return !in(e.Score) }), z.DeleteRangeByScore(r))
					}
				case 8:
					mem := member()
					r, ok := z.Rank([]byte(mem), rng.IntN(2) == 0)
					i := m.find(mem)
					assert.Equal(t, i >= 0, ok)
					if ok {
						assert.True(t, r == i || r == len(m)-1-i)
					}
				case 9:
					if rng.IntN(20) == 0 {
						c := z.Clone().(*ZSet)
						assert.Equal(t, zsetElements(t, z), zsetElements(t, c))
					}
				}
				got := zsetElements(t, z)
				if len(m) == 0 {
					require.Empty(t, got, "op %d", op)
				} else {
					require.Equal(t, []zskiplist.Element(m), got, "op %d", op)
				}
				if z.Len() > l.ZSetMaxListpackEntries {
					require.Equal(t, EncSkiplist, z.Encoding())
				}
			}
		})
	}
}
