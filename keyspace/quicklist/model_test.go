package quicklist

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// model is the reference implementation: a plain slice of copies.
type model [][]byte

func (m model) norm(i int) (int, bool) {
	if i < 0 {
		i += len(m)
	}
	return i, i >= 0 && i < len(m)
}

// insert mirrors LINSERT: it returns the new model and the expected result.
func (m model) insert(pivot, v []byte, after bool) (model, int) {
	for k := range m {
		if bytes.Equal(m[k], pivot) {
			if after {
				k++
			}
			out := append(model{}, m[:k]...)
			out = append(out, bytes.Clone(v))
			return append(out, m[k:]...), len(m) + 1
		}
	}
	return m, -1
}

// remove mirrors LREM.
func (m model) remove(v []byte, count int) (model, int) {
	keep := make([]bool, len(m))
	n := 0
	if count >= 0 {
		for k := range m {
			if bytes.Equal(m[k], v) && (count == 0 || n < count) {
				n++
				continue
			}
			keep[k] = true
		}
	} else {
		for k := len(m) - 1; k >= 0; k-- {
			if bytes.Equal(m[k], v) && n < -count {
				n++
				continue
			}
			keep[k] = true
		}
	}
	var out model
	for k, e := range m {
		if keep[k] {
			out = append(out, e)
		}
	}
	return out, n
}

// checkInvariants verifies internal consistency: node bookkeeping, entry
// framing in both directions, listpack accounting and arena accounting.
func checkInvariants(t require.TestingT, l *List) {
	total, lp, arena := 0, 0, cap(l.spare)
	for p := 0; p < l.nn; p++ {
		nd := l.nd(p)
		require.Greater(t, nd.n, 0, "node %d empty", p)
		require.LessOrEqual(t, nd.n, maxNodeEntries)
		require.True(t, 0 <= nd.lo && nd.lo <= nd.hi && nd.hi <= len(nd.buf), "node %d bounds", p)
		require.Equal(t, len(nd.buf), cap(nd.buf))
		cnt, nlp := 0, 0
		var fwd [][]byte
		for off := nd.lo; off < nd.hi; cnt++ {
			var v []byte
			v, off = entryAt(nd.buf, off)
			require.LessOrEqual(t, off, nd.hi)
			nlp += ListpackEntrySize(v)
			fwd = append(fwd, v)
		}
		require.Equal(t, nd.n, cnt, "node %d count", p)
		require.Equal(t, nd.lp, nlp, "node %d lp", p)
		i := cnt - 1
		for end := nd.hi; end > nd.lo; i-- {
			var v []byte
			v, end = entryBefore(nd.buf, end)
			require.Equal(t, fwd[i], v, "node %d backward walk", p)
		}
		total += cnt
		lp += nlp
		arena += cap(nd.buf)
	}
	require.Equal(t, l.count, total)
	require.Equal(t, l.lp, lp)
	require.Equal(t, l.arena, arena)
	for p := l.nn; p < len(l.ring); p++ {
		require.Nil(t, l.nd(p).buf, "stale node slot keeps an arena alive")
	}
}

func checkContents(t require.TestingT, l *List, m model) {
	require.Equal(t, len(m), l.Len())
	i := 0
	l.Range(0, l.Len()-1, func(v []byte) bool {
		require.Equal(t, m[i], v, "element %d", i)
		i++
		return true
	})
	require.Equal(t, len(m), i)
	i = len(m) - 1
	l.RangeReverse(0, l.Len()-1, func(v []byte) bool {
		require.Equal(t, m[i], v, "reverse element %d", i)
		i--
		return true
	})
	require.Equal(t, -1, i)
	lp := ListpackHeaderBytes
	for _, v := range m {
		lp += ListpackEntrySize(v)
	}
	require.Equal(t, lp, l.ListpackBytes())
}

// valueGen produces a mix that exercises every entry-size class: tiny and
// empty strings, canonical and non-canonical integers, ~1 KiB messages,
// values larger than a node, and a small pool of repeats so LREM/LINSERT
// find matches.
type valueGen struct {
	r    *rand.Rand
	pool [][]byte
	big  bool
}

func newValueGen(r *rand.Rand, big bool) *valueGen {
	g := &valueGen{r: r, big: big}
	for range 12 {
		g.pool = append(g.pool, g.fresh())
	}
	return g
}

func (g *valueGen) fresh() []byte {
	var n int
	switch x := g.r.IntN(100); {
	case x < 10:
		return []byte(strconv.Itoa(g.r.IntN(100000) - 50000))
	case x < 45:
		n = g.r.IntN(20)
	case x < 70:
		n = 100 + g.r.IntN(200)
	case x < 94 || !g.big:
		n = 900 + g.r.IntN(300)
	default:
		n = 10000 + g.r.IntN(40000) // larger than maxNodeBytes sometimes
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(g.r.IntN(3))
	}
	return b
}

func (g *valueGen) next() []byte {
	if g.r.IntN(3) == 0 {
		return g.pool[g.r.IntN(len(g.pool))]
	}
	return g.fresh()
}

func seedsFromEnv(t *testing.T, def []uint64) []uint64 {
	if s := os.Getenv("QUICKLIST_SEEDS"); s != "" {
		n, err := strconv.Atoi(s)
		require.NoError(t, err)
		base := rand.Uint64()
		out := make([]uint64, n)
		for i := range out {
			out[i] = base + uint64(i)
		}
		return out
	}
	return def
}

// runModel applies a seeded random operation sequence to a List and to the
// model, comparing every observable result after every operation.
func runModel(t *testing.T, seed uint64, ops int, big bool) {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	g := newValueGen(r, big)
	l := New()
	var m model
	bytesInModel := 0
	defer func() {
		if t.Failed() {
			t.Logf("failing seed: %d (big=%v)", seed, big)
		}
	}()
	randIdx := func() int {
		n := len(m) + 2
		return r.IntN(2*n) - n
	}
	for op := 0; op < ops; op++ {
		// Bias towards growth early, then keep the size oscillating.
		grow := len(m) < 50 || (op/500)%2 == 0
		switch x := r.IntN(100); {
		case x < 14 || (grow && x < 30):
			v := g.next()
			l.PushTail(v)
			m = append(m, bytes.Clone(v))
		case x < 28 || (grow && x < 45):
			v := g.next()
			l.PushHead(v)
			m = append(model{bytes.Clone(v)}, m...)
		case x < 38:
			v, ok := l.PopHead()
			if len(m) == 0 {
				require.False(t, ok)
				break
			}
			require.True(t, ok)
			require.Equal(t, m[0], v)
			m = m[1:]
		case x < 48:
			var dst []byte
			if r.IntN(2) == 0 {
				dst = []byte("prefix")
			}
			out, ok := l.PopTailAppend(dst)
			if len(m) == 0 {
				require.False(t, ok)
				break
			}
			require.True(t, ok)
			require.Equal(t, append(append([]byte(nil), dst...), m[len(m)-1]...), out)
			m = m[:len(m)-1]
		case x < 56:
			i := randIdx()
			v, ok := l.Index(i)
			j, in := m.norm(i)
			require.Equal(t, in, ok, "Index(%d) len %d", i, len(m))
			if in {
				require.Equal(t, m[j], v)
			}
		case x < 62:
			i := randIdx()
			v := g.next()
			ok := l.Set(i, v)
			j, in := m.norm(i)
			require.Equal(t, in, ok)
			if in {
				m[j] = bytes.Clone(v)
			}
		case x < 68:
			if len(m) == 0 {
				break
			}
			a, b := r.IntN(len(m)+2)-1, r.IntN(len(m)+2)-1
			rev := r.IntN(2) == 0
			limit := r.IntN(len(m) + 1)
			var got [][]byte
			fn := func(v []byte) bool {
				got = append(got, bytes.Clone(v))
				return len(got) < limit
			}
			var want [][]byte
			lo, hi := max(a, 0), min(b, len(m)-1)
			if rev {
				l.RangeReverse(a, b, fn)
				for k := hi; k >= lo && len(want) < max(limit, 1); k-- {
					want = append(want, m[k])
				}
			} else {
				l.Range(a, b, fn)
				for k := lo; k <= hi && len(want) < max(limit, 1); k++ {
					want = append(want, m[k])
				}
			}
			require.Equal(t, want, got, "range %d..%d rev=%v limit=%d", a, b, rev, limit)
		case x < 76:
			var pivot []byte
			if len(m) > 0 && r.IntN(4) != 0 {
				pivot = m[r.IntN(len(m))]
			} else {
				pivot = g.next()
			}
			v := g.next()
			after := r.IntN(2) == 0
			got := l.Insert(pivot, v, after)
			var want int
			m, want = m.insert(pivot, v, after)
			require.Equal(t, want, got)
		case x < 84:
			var v []byte
			if len(m) > 0 && r.IntN(4) != 0 {
				v = m[r.IntN(len(m))]
			} else {
				v = g.next()
			}
			v = bytes.Clone(v)
			count := r.IntN(7) - 3
			got := l.Remove(v, count)
			var want int
			m, want = m.remove(v, count)
			require.Equal(t, want, got)
		case x < 88:
			// LTRIM-like, mostly trimming a little from either end.
			n := len(m)
			var a, b int
			if r.IntN(10) == 0 {
				a, b = r.IntN(n+3)-1, r.IntN(n+3)-1
			} else {
				a, b = r.IntN(3), n-1-r.IntN(3)
			}
			l.Trim(a, b)
			lo, hi := max(a, 0), min(b, n-1)
			if lo > hi {
				m = nil
			} else {
				m = m[lo : hi+1]
			}
		case x < 89:
			if r.IntN(20) == 0 {
				l.Reset()
				m = nil
			}
		default:
			i := randIdx()
			v, ok := l.Index(i)
			j, in := m.norm(i)
			require.Equal(t, in, ok)
			if in {
				require.Equal(t, m[j], v)
			}
		}
		require.Equal(t, len(m), l.Len(), "op %d", op)
		bytesInModel = 0
		for _, v := range m {
			bytesInModel += len(v)
		}
		if bytesInModel < 200<<10 || op%64 == 0 {
			checkContents(t, l, m)
			checkInvariants(t, l)
		}
		if t.Failed() {
			t.FailNow()
		}
	}
	checkContents(t, l, m)
	checkInvariants(t, l)
}

func TestModelRandomized(t *testing.T) {
	for _, seed := range seedsFromEnv(t, []uint64{1, 2, 3, 4, 5, 6}) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			runModel(t, seed, 2500, seed%2 == 0)
		})
	}
}

// TestModelTinyElements keeps elements tiny so nodes fill up by entry count
// (maxNodeEntries) and the list spans many nodes.
func TestModelTinyElements(t *testing.T) {
	for _, seed := range seedsFromEnv(t, []uint64{11, 12}) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 7))
			l := New()
			var m model
			for op := 0; op < 20000; op++ {
				v := []byte(strconv.Itoa(r.IntN(50)))
				switch x := r.IntN(100); {
				case x < 35:
					l.PushTail(v)
					m = append(m, v)
				case x < 70:
					l.PushHead(v)
					m = append(model{v}, m...)
				case x < 78:
					if len(m) > 0 {
						pivot := m[r.IntN(len(m))]
						after := r.IntN(2) == 0
						var want int
						m, want = m.insert(pivot, v, after)
						require.Equal(t, want, l.Insert(pivot, v, after))
					}
				case x < 82:
					count := r.IntN(5) - 2
					var want int
					m, want = m.remove(v, count)
					require.Equal(t, want, l.Remove(v, count))
				case x < 92:
					i := r.IntN(len(m) + 1)
					got, ok := l.Index(i)
					require.Equal(t, i < len(m), ok)
					if ok {
						require.Equal(t, m[i], got)
					}
				default:
					if v, ok := l.PopTail(); ok {
						require.Equal(t, m[len(m)-1], v)
						m = m[:len(m)-1]
					}
				}
				if op%500 == 0 {
					checkContents(t, l, m)
					checkInvariants(t, l)
				}
			}
			checkContents(t, l, m)
			checkInvariants(t, l)
			require.Greater(t, l.NodeCount(), 1)
		})
	}
}
