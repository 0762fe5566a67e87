package zskiplist

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBuildAndShrink grows trees of height >= 2 and then empties them in
// several orders so that leaf and inner merges and borrows from both sides
// all run, checking structure along the way.
func TestBuildAndShrink(t *testing.T) {
	const n = 30000
	orders := map[string]func(r *rand.Rand, m model) int{
		"random": func(r *rand.Rand, m model) int { return r.IntN(len(m)) },
		"front":  func(r *rand.Rand, m model) int { return 0 },
		"back":   func(r *rand.Rand, m model) int { return len(m) - 1 },
		"middle": func(r *rand.Rand, m model) int { return len(m) / 2 },
		"ranges": nil,
	}
	for name, pick := range orders {
		t.Run(name, func(t *testing.T) {
			seed := uint64(len(name))
			r := rand.New(rand.NewPCG(seed, 1))
			z := New()
			var m model
			seen := map[string]bool{}
			for len(m) < n {
				mem := fmt.Sprintf("m%08d", r.IntN(1<<30))
				if seen[mem] {
					continue
				}
				seen[mem] = true
				s := float64(r.IntN(5000))
				z.Insert(s, mem)
				m = m.insert(Element{mem, s})
			}
			checkTree(t, z)
			require.GreaterOrEqual(t, z.height, 2)
			step := 0
			for len(m) > 0 {
				if pick == nil {
					a := r.IntN(len(m))
					b := min(len(m), a+1+r.IntN(300))
					require.Equal(t, b-a, z.DeleteRangeByRank(a, b-1, nil))
					m = slices.Delete(m, a, b)
				} else {
					i := pick(r, m)
					require.True(t, z.Delete(m[i].Score, m[i].Member))
					m = slices.Delete(m, i, i+1)
				}
				if step++; step%997 == 0 || len(m) < 100 {
					checkTree(t, z)
					require.Equal(t, len(m), z.Len())
					if len(m) > 0 {
						k := r.IntN(len(m))
						e, ok := z.ByRank(k)
						require.True(t, ok)
						require.Equal(t, m[k], e)
						require.Equal(t, k, z.Rank(m[k].Score, m[k].Member))
					}
				}
			}
			checkTree(t, z)
			require.Equal(t, 0, z.leaves)
			require.Equal(t, 0, z.inners)
		})
	}
}
