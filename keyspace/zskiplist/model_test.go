package zskiplist

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// model is the reference: a sorted slice of elements.
type model []Element

func cmpElem(a, b Element) int {
	switch {
	case less(a.Score, a.Member, b.Score, b.Member):
		return -1
	case less(b.Score, b.Member, a.Score, a.Member):
		return 1
	}
	return 0
}

func (m model) find(e Element) (int, bool) {
	return slices.BinarySearchFunc(m, e, cmpElem)
}

func (m model) insert(e Element) model {
	i, found := m.find(e)
	if found {
		panic("duplicate")
	}
	return slices.Insert(m, i, e)
}

// collectAll walks the leaf chain.
func collectAll(z *ZSL) []Element {
	out := []Element{}
	it, ok := z.First()
	for ok {
		out = append(out, it.Element())
		ok = it.Next()
	}
	return out
}

// checkTree verifies every structural invariant.
func checkTree(t require.TestingT, z *ZSL) {
	if z.n == 0 {
		require.Nil(t, z.first)
		require.Nil(t, z.last)
		require.Nil(t, z.root)
		require.Equal(t, 0, z.height)
		return
	}
	var leaves []*leaf
	inners := 0
	var walk func(nd *inner, depth int, lo, hi *Element, isRoot bool) int
	checkLeaf := func(lf *leaf, lo, hi *Element) int {
		require.Greater(t, lf.n, 0, "empty leaf")
		for k := 0; k < lf.n; k++ {
			e := lf.items[k]
			if k > 0 {
				p := lf.items[k-1]
				require.True(t, less(p.Score, p.Member, e.Score, e.Member), "leaf order")
			}
			if lo != nil {
				require.False(t, less(e.Score, e.Member, lo.Score, lo.Member), "below lower bound")
			}
			if hi != nil {
				require.True(t, less(e.Score, e.Member, hi.Score, hi.Member), "not below upper bound")
			}
		}
		for k := lf.n; k < leafCap; k++ {
			require.Equal(t, Element{}, lf.items[k], "stale slot keeps a member alive")
		}
		leaves = append(leaves, lf)
		return lf.n
	}
	walk = func(nd *inner, depth int, lo, hi *Element, isRoot bool) int {
		inners++
		if isRoot {
			require.GreaterOrEqual(t, nd.n, 2, "root inner with one child")
		} else {
			require.GreaterOrEqual(t, nd.n, 2, "inner without sibling room")
		}
		total := 0
		for i := 0; i < nd.n; i++ {
			clo, chi := lo, hi
			if i > 0 {
				clo = &nd.keys[i]
				p := nd.keys[i-1]
				if i > 1 {
					require.True(t, less(p.Score, p.Member, clo.Score, clo.Member), "separator order")
				}
			}
			if i+1 < nd.n {
				chi = &nd.keys[i+1]
			}
			var c int
			if depth == z.height-1 {
				require.NotNil(t, nd.leaves[i])
				require.Nil(t, nd.kids[i])
				c = checkLeaf(nd.leaves[i], clo, chi)
			} else {
				require.NotNil(t, nd.kids[i])
				require.Nil(t, nd.leaves[i])
				c = walk(nd.kids[i], depth+1, clo, chi, false)
			}
			require.Equal(t, nd.counts[i], c, "count of child %d", i)
			total += c
		}
		for i := nd.n; i < innerCap; i++ {
			require.Nil(t, nd.kids[i])
			require.Nil(t, nd.leaves[i])
			require.Zero(t, nd.counts[i])
		}
		return total
	}
	var total int
	if z.height == 0 {
		require.Nil(t, z.root)
		total = checkLeaf(z.rleaf, nil, nil)
	} else {
		require.Nil(t, z.rleaf)
		total = walk(z.root, 0, nil, nil, true)
	}
	require.Equal(t, z.n, total)
	require.Equal(t, len(leaves), z.leaves)
	require.Equal(t, inners, z.inners)
	// Leaf chain matches the tree order in both directions.
	require.Equal(t, leaves[0], z.first)
	require.Equal(t, leaves[len(leaves)-1], z.last)
	for i, lf := range leaves {
		if i > 0 {
			require.Equal(t, leaves[i-1], lf.prev)
		} else {
			require.Nil(t, lf.prev)
		}
		if i+1 < len(leaves) {
			require.Equal(t, leaves[i+1], lf.next)
		} else {
			require.Nil(t, lf.next)
		}
	}
}

func seedsFromEnv(t *testing.T, def []uint64) []uint64 {
	if s := os.Getenv("ZSKIPLIST_SEEDS"); s != "" {
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

type gen struct {
	r       *rand.Rand
	lexOnly bool // all scores equal, for lex ranges
}

func (g *gen) score() float64 {
	if g.lexOnly {
		return 0
	}
	switch x := g.r.IntN(100); {
	case x < 2:
		return math.Inf(-1)
	case x < 4:
		return math.Inf(1)
	case x < 50:
		return float64(g.r.IntN(20)) // lots of ties
	default:
		return g.r.Float64()*2000 - 1000
	}
}

func (g *gen) member() string {
	n := 1 + g.r.IntN(4)
	if g.r.IntN(10) == 0 {
		n = 0 // the empty member is legal
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(g.r.IntN(6))
	}
	if g.r.IntN(20) == 0 {
		b = append(b, 0xff, 0x00) // non-ASCII bytes sort as unsigned
	}
	return string(b)
}

func (g *gen) scoreRange() ScoreRange {
	r := ScoreRange{Min: g.score(), Max: g.score(), MinEx: g.r.IntN(3) == 0, MaxEx: g.r.IntN(3) == 0}
	if g.r.IntN(4) != 0 && r.Min > r.Max {
		r.Min, r.Max = r.Max, r.Min
	}
	return r
}

func (g *gen) lexBound() LexBound {
	switch g.r.IntN(10) {
	case 0:
		return LexBound{Inf: -1, Exclusive: true}
	case 1:
		return LexBound{Inf: 1, Exclusive: true}
	}
	return LexBound{Value: g.member(), Exclusive: g.r.IntN(2) == 0}
}

func (g *gen) lexRange() LexRange {
	r := LexRange{Min: g.lexBound(), Max: g.lexBound()}
	if g.r.IntN(4) != 0 && cmpBounds(r.Min, r.Max) > 0 {
		r.Min, r.Max = r.Max, r.Min
	}
	return r
}

// modelRange returns the index span [a, b) of m inside the predicate pair.
func modelSpan(m model, in func(Element) bool) (int, int) {
	a := -1
	b := -1
	for i, e := range m {
		if in(e) {
			if a < 0 {
				a = i
			}
			b = i + 1
		}
	}
	if a < 0 {
		return 0, 0
	}
	return a, b
}

func inScore(r ScoreRange) func(Element) bool {
	return func(e Element) bool { return !r.Empty() && r.aboveMin(e.Score) && r.belowMax(e.Score) }
}

func inLex(r LexRange) func(Element) bool {
	return func(e Element) bool { return !r.Empty() && r.aboveMin(e.Member) && r.belowMax(e.Member) }
}

// checkIter verifies an iterator returned for the model span [a, b).
func checkSpanIters(t *testing.T, m model, a, b int, first Iterator, fok bool, last Iterator, lok bool) {
	if a == b {
		require.False(t, fok)
		require.False(t, lok)
		return
	}
	require.True(t, fok)
	require.True(t, lok)
	require.Equal(t, a, first.Rank())
	require.Equal(t, m[a], first.Element())
	require.Equal(t, b-1, last.Rank())
	require.Equal(t, m[b-1], last.Element())
}

func runModel(t *testing.T, seed uint64, ops int, lexOnly bool, target int) {
	r := rand.New(rand.NewPCG(seed, 42))
	g := &gen{r: r, lexOnly: lexOnly}
	z := New()
	var m model
	members := map[string]float64{}
	defer func() {
		if t.Failed() {
			t.Logf("failing seed: %d (lexOnly=%v target=%d)", seed, lexOnly, target)
		}
	}()
	existing := func() (Element, bool) {
		if len(m) == 0 {
			return Element{}, false
		}
		return m[r.IntN(len(m))], true
	}
	for op := 0; op < ops; op++ {
		growBias := 0
		if len(m) < target {
			growBias = 25
		}
		switch x := r.IntN(100 + growBias); {
		case x < 20 || x >= 100:
			mem := g.member()
			if _, dup := members[mem]; dup {
				break
			}
			s := g.score()
			z.Insert(s, mem)
			members[mem] = s
			m = m.insert(Element{mem, s})
		case x < 30:
			e, ok := existing()
			if r.IntN(4) == 0 || !ok {
				e = Element{g.member(), g.score()}
			}
			want := false
			if s, ok := members[e.Member]; ok && s == e.Score {
				want = true
			}
			require.Equal(t, want, z.Delete(e.Score, e.Member), "Delete %v", e)
			if want {
				i, _ := m.find(e)
				m = slices.Delete(m, i, i+1)
				delete(members, e.Member)
			}
		case x < 40:
			e, ok := existing()
			if !ok {
				require.False(t, z.UpdateScore(1, "nope", 2))
				break
			}
			ns := g.score()
			if r.IntN(2) == 0 && !math.IsInf(e.Score, 0) && !lexOnly {
				ns = e.Score + (r.Float64()-0.5)*0.01 // small nudge: in-place path
			}
			require.True(t, z.UpdateScore(e.Score, e.Member, ns))
			i, _ := m.find(e)
			m = slices.Delete(m, i, i+1)
			m = m.insert(Element{e.Member, ns})
			members[e.Member] = ns
		case x < 48:
			e, ok := existing()
			if r.IntN(4) == 0 || !ok {
				e = Element{g.member(), g.score()}
			}
			i, found := m.find(e)
			if !found {
				i = -1
			}
			require.Equal(t, i, z.Rank(e.Score, e.Member), "Rank %v", e)
		case x < 54:
			k := r.IntN(len(m)+4) - 2
			e, ok := z.ByRank(k)
			require.Equal(t, k >= 0 && k < len(m), ok)
			if ok {
				require.Equal(t, m[k], e)
			}
		case x < 60:
			k := r.IntN(len(m)+2) - 1
			it, ok := z.IterAt(k)
			require.Equal(t, k >= 0 && k < len(m), ok)
			if !ok {
				break
			}
			steps := r.IntN(150)
			if r.IntN(2) == 0 {
				for j := k; j < len(m) && j < k+steps; j++ {
					require.True(t, it.Valid())
					require.Equal(t, m[j], it.Element())
					require.Equal(t, j, it.Rank())
					more := it.Next()
					require.Equal(t, j+1 < len(m), more)
				}
			} else {
				for j := k; j >= 0 && j > k-steps; j-- {
					require.Equal(t, m[j], it.Element())
					require.Equal(t, j, it.Rank())
					require.Equal(t, j > 0, it.Prev())
				}
			}
		case x < 70 && !lexOnly:
			sr := g.scoreRange()
			a, b := modelSpan(m, inScore(sr))
			f, fok := z.FirstInScoreRange(sr)
			l, lok := z.LastInScoreRange(sr)
			checkSpanIters(t, m, a, b, f, fok, l, lok)
			require.Equal(t, b-a, z.CountInScoreRange(sr), "count %+v", sr)
		case x < 70 && lexOnly:
			lr := g.lexRange()
			a, b := modelSpan(m, inLex(lr))
			f, fok := z.FirstInLexRange(lr)
			l, lok := z.LastInLexRange(lr)
			checkSpanIters(t, m, a, b, f, fok, l, lok)
			require.Equal(t, b-a, z.CountInLexRange(lr), "lexcount %+v", lr)
		case x < 74:
			var a, b int
			var got []Element
			collect := func(e Element) { got = append(got, e) }
			var n int
			switch {
			case lexOnly && r.IntN(2) == 0:
				lr := g.lexRange()
				a, b = modelSpan(m, inLex(lr))
				n = z.DeleteRangeByLex(lr, collect)
			case r.IntN(2) == 0:
				sr := g.scoreRange()
				a, b = modelSpan(m, inScore(sr))
				n = z.DeleteRangeByScore(sr, collect)
			default:
				// Mostly short rank ranges, occasionally everything.
				if len(m) == 0 || r.IntN(40) == 0 {
					a, b = 0, len(m)
				} else {
					a = r.IntN(len(m))
					b = min(len(m), a+1+r.IntN(200))
				}
				n = z.DeleteRangeByRank(a, b-1, collect)
			}
			require.Equal(t, b-a, n)
			if b > a {
				require.Equal(t, []Element(m[a:b]), got)
			} else {
				require.Empty(t, got)
			}
			for _, e := range m[a:b] {
				delete(members, e.Member)
			}
			m = slices.Delete(m, a, b)
		default:
			require.Equal(t, len(m), z.Len())
		}
		require.Equal(t, len(m), z.Len(), "op %d", op)
		if len(m) < 200 || op%200 == 0 {
			require.Equal(t, append([]Element{}, m...), collectAll(z))
			checkTree(t, z)
		}
		if t.Failed() {
			t.FailNow()
		}
	}
	require.Equal(t, append([]Element{}, m...), collectAll(z))
	checkTree(t, z)
}

func TestModelRandomized(t *testing.T) {
	for _, seed := range seedsFromEnv(t, []uint64{1, 2, 3, 4}) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			runModel(t, seed, 4000, false, 300)
		})
	}
}

// TestModelLarge grows past two inner levels (63 × 63 leaves would need
// ~4000 elements with full nodes; random inserts leave them ~70% full).
func TestModelLarge(t *testing.T) {
	for _, seed := range seedsFromEnv(t, []uint64{7, 8}) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			runModel(t, seed, 25000, false, 9000)
		})
	}
}

func TestModelLex(t *testing.T) {
	for _, seed := range seedsFromEnv(t, []uint64{21, 22, 23}) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			runModel(t, seed, 4000, true, 200)
		})
	}
}

// TestSequentialBuildAndDrain mirrors Kombu's unacked_index: members added
// with increasing timestamps, removed mostly oldest-first, plus the reverse
// pattern, checking fill and structure.
func TestSequentialBuildAndDrain(t *testing.T) {
	for _, desc := range []bool{false, true} {
		z := New()
		const n = 20000
		for i := range n {
			s := float64(i)
			if desc {
				s = -s
			}
			z.Insert(s, strconv.Itoa(i))
		}
		checkTree(t, z)
		// Appending in order keeps leaves (nearly) full.
		require.LessOrEqual(t, z.leaves, n/leafCap+2, "desc=%v leaves=%d", desc, z.leaves)
		for i := range n {
			s := float64(i)
			if desc {
				s = -s
			}
			require.Equal(t, i, func() int {
				if desc {
					return n - 1 - z.Rank(s, strconv.Itoa(i))
				}
				return z.Rank(s, strconv.Itoa(i))
			}())
		}
		for i := 0; i < n; i += 2 {
			s := float64(i)
			if desc {
				s = -s
			}
			require.True(t, z.Delete(s, strconv.Itoa(i)))
			if i%1000 == 0 {
				checkTree(t, z)
			}
		}
		require.Equal(t, n/2, z.Len())
		checkTree(t, z)
		var got []string
		it, ok := z.First()
		for ok {
			got = append(got, it.Member())
			ok = it.Next()
		}
		require.True(t, sort.SliceIsSorted(got, func(a, b int) bool {
			x, _ := strconv.Atoi(got[a])
			y, _ := strconv.Atoi(got[b])
			if desc {
				return x > y
			}
			return x < y
		}))
		require.Equal(t, n/2, z.DeleteRangeByRank(0, n, nil))
		require.Equal(t, 0, z.Len())
		checkTree(t, z)
	}
}
