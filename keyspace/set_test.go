package keyspace

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func setMembers(s *Set) []string {
	out := make([]string, 0, s.Len())
	for i := 0; i < s.Len(); i++ {
		out = append(out, s.MemberString(i))
	}
	return out
}

func sortedMembers(s *Set) []string {
	out := setMembers(s)
	sort.Strings(out)
	return out
}

func newSetOf(lim Limits, members ...string) *Set {
	s := NewSet()
	for _, m := range members {
		s.Add([]byte(m), lim)
	}
	return s
}

// checkSetInvariants verifies sortedness, the index and the memory counter.
func checkSetInvariants(t *testing.T, s *Set) {
	t.Helper()
	if !s.big {
		require.True(t, slices.IsSorted(s.ints))
		require.Nil(t, s.members)
		for i := 1; i < len(s.ints); i++ {
			require.NotEqual(t, s.ints[i-1], s.ints[i])
		}
		return
	}
	require.Nil(t, s.ints)
	var payload int64
	seen := map[string]bool{}
	for i, m := range s.members {
		require.False(t, seen[m], "duplicate member %q", m)
		seen[m] = true
		payload += sdsAlloc(len(m))
		if s.index != nil {
			require.Equal(t, int32(i), s.index[m])
		}
	}
	if s.index != nil {
		require.Len(t, s.index, len(s.members))
	} else {
		require.LessOrEqual(t, len(s.members), setIndexMin)
	}
	require.Equal(t, payload, s.alloc)
}

func TestSetIntsetSortedAndCanonical(t *testing.T) {
	lim := DefaultLimits()
	s := newSetOf(lim, "10", "-5", "2", "0", "9223372036854775807", "-9223372036854775808")
	assert.Equal(t, EncIntset, s.Encoding())
	assert.Equal(t, []string{"-9223372036854775808", "-5", "0", "2", "10", "9223372036854775807"}, setMembers(s))
	assert.False(t, s.Add([]byte("2"), lim))
	assert.True(t, s.Contains([]byte("-5")))
	assert.False(t, s.Contains([]byte("007")), "007 is not the integer 7's canonical form")
	assert.False(t, s.Contains([]byte("x")))
	assert.False(t, s.Remove([]byte("+2")))
	assert.True(t, s.Remove([]byte("2")))
	assert.Equal(t, 5, s.Len())
	checkSetInvariants(t, s)

	for _, m := range []string{"007", "-0", "+3", " 1", "1 ", "9223372036854775808", "1.0", ""} {
		s := newSetOf(lim, "1", m)
		assert.Equal(t, EncHashtable, s.Encoding(), "%q is not an integer member", m)
		assert.True(t, s.Contains([]byte(m)))
		assert.True(t, s.Contains([]byte("1")))
		checkSetInvariants(t, s)
	}
}

func TestSetEncodingTransitions(t *testing.T) {
	lim := DefaultLimits()
	s := NewSet()
	for i := 0; i < 512; i++ {
		s.Add([]byte(strconv.Itoa(i)), lim)
	}
	assert.Equal(t, EncIntset, s.Encoding(), "512 integers fit")
	s.Add([]byte("7"), lim)
	assert.Equal(t, EncIntset, s.Encoding())
	s.Add([]byte("512"), lim)
	assert.Equal(t, EncHashtable, s.Encoding(), "513 do not")
	for i := 0; i < 500; i++ {
		s.Remove([]byte(strconv.Itoa(i)))
	}
	assert.Equal(t, EncHashtable, s.Encoding(), "never back")
	assert.Equal(t, 13, s.Len())
	checkSetInvariants(t, s)

	small := lim
	small.SetMaxIntsetEntries = 2
	s = newSetOf(lim, "1", "2", "3")
	s.Add([]byte("2"), small)
	assert.Equal(t, EncIntset, s.Encoding(), "an existing member converts nothing")
	s.Add([]byte("4"), small)
	assert.Equal(t, EncHashtable, s.Encoding())

	zero := lim
	zero.SetMaxIntsetEntries = 0
	assert.Equal(t, EncHashtable, newSetOf(zero, "1").Encoding())
}

func TestSetCloneIsDeep(t *testing.T) {
	lim := DefaultLimits()
	for _, s := range []*Set{newSetOf(lim, "1", "2", "3"), newSetOf(lim, "a", "b", "c")} {
		c := s.Clone().(*Set)
		c.Add([]byte("9"), lim)
		c.Remove([]byte("2"))
		c.Remove([]byte("b"))
		assert.Equal(t, 3, s.Len())
		assert.Equal(t, s.Encoding(), c.Encoding())
		checkSetInvariants(t, s)
		checkSetInvariants(t, c)
	}
}

// TestSetModelRandomized runs seeded random adds and removes against a map,
// mixing integer and string members, with small limits so conversions
// happen; intsets must stay sorted and conversions one-way.
func TestSetModelRandomized(t *testing.T) {
	for seed := uint64(1); seed <= 8; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 99))
			lim := DefaultLimits()
			lim.SetMaxIntsetEntries = 10 + r.IntN(40)
			s := NewSet()
			model := map[string]bool{}
			strProb := r.IntN(200)
			wasBig := false
			for op := 0; op < 3000; op++ {
				m := strconv.Itoa(r.IntN(100) - 50)
				if r.IntN(1000) < strProb {
					m = "s" + m
				}
				switch k := r.IntN(10); {
				case k < 5:
					require.Equal(t, !model[m], s.Add([]byte(m), lim))
					model[m] = true
				case k < 8:
					require.Equal(t, model[m], s.Remove([]byte(m)))
					delete(model, m)
				default:
					require.Equal(t, model[m], s.Contains([]byte(m)))
				}
				require.Equal(t, len(model), s.Len())
				if wasBig {
					require.Equal(t, EncHashtable, s.Encoding())
				}
				wasBig = s.Encoding() == EncHashtable
				if op%100 == 0 {
					checkSetInvariants(t, s)
					got := map[string]bool{}
					for _, x := range setMembers(s) {
						got[x] = true
					}
					require.Equal(t, model, got)
				}
			}
		})
	}
}

func TestSetAlgebra(t *testing.T) {
	lim := DefaultLimits()
	a := newSetOf(lim, "1", "2", "3", "x")
	b := newSetOf(lim, "3", "2", "y")
	c := newSetOf(lim, "2", "3", "4")

	u := SetUnion([]*Set{a, nil, b}, lim)
	assert.Equal(t, []string{"1", "2", "3", "x", "y"}, sortedMembers(u))
	assert.Equal(t, EncHashtable, u.Encoding())

	d := SetDiff([]*Set{a, b, nil, newSetOf(lim, "x")}, lim)
	assert.Equal(t, EncIntset, d.Encoding(), "result rebuilt from integers is an intset")
	assert.Equal(t, []string{"1"}, setMembers(d))
	assert.Equal(t, 0, SetDiff([]*Set{nil, a}, lim).Len())
	assert.Equal(t, 0, SetDiff([]*Set{a, a}, lim).Len())

	var got []string
	SetInter([]*Set{a, b, c}, func(base *Set, i int) bool {
		got = append(got, base.MemberString(i))
		return true
	})
	assert.Equal(t, []string{"2", "3"}, got, "smallest set (the intset c) drives the order")

	n := 0
	SetInter([]*Set{a, a}, func(*Set, int) bool { n++; return n < 2 })
	assert.Equal(t, 2, n, "stops when fn returns false")

	i := InterStore([]*Set{a, b}, lim)
	assert.Equal(t, EncIntset, i.Encoding())
	assert.Equal(t, []string{"2", "3"}, setMembers(i))
	checkSetInvariants(t, i)
}

func TestSetAlgebraModel(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	lim := DefaultLimits()
	for round := 0; round < 50; round++ {
		var sets []*Set
		var models []map[string]bool
		for k := 0; k < 1+r.IntN(4); k++ {
			s := NewSet()
			m := map[string]bool{}
			for j := 0; j < r.IntN(40); j++ {
				v := strconv.Itoa(r.IntN(30))
				if r.IntN(10) == 0 {
					v = "m" + v
				}
				s.Add([]byte(v), lim)
				m[v] = true
			}
			if s.Len() == 0 {
				s, m = nil, nil
			}
			sets = append(sets, s)
			models = append(models, m)
		}
		union, diff, inter := map[string]bool{}, map[string]bool{}, map[string]bool{}
		for _, m := range models {
			for v := range m {
				union[v] = true
			}
		}
		for v := range models[0] {
			in := false
			for _, m := range models[1:] {
				in = in || m[v]
			}
			if !in {
				diff[v] = true
			}
		}
		if !slices.Contains(sets, nil) {
			for v := range models[0] {
				all := true
				for _, m := range models[1:] {
					all = all && m[v]
				}
				if all {
					inter[v] = true
				}
			}
		}
		toMap := func(s *Set) map[string]bool {
			out := map[string]bool{}
			for _, v := range setMembers(s) {
				out[v] = true
			}
			return out
		}
		assert.Equal(t, union, toMap(SetUnion(sets, lim)))
		assert.Equal(t, diff, toMap(SetDiff(sets, lim)))
		if !slices.Contains(sets, nil) {
			assert.Equal(t, inter, toMap(InterStore(sets, lim)))
		}
	}
}

func TestSetPopRandom(t *testing.T) {
	lim := DefaultLimits()
	for _, tc := range []struct {
		name    string
		members []string
		count   int
	}{
		{"few popped, intset", []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}, 1},
		{"most popped, intset", []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}, 9},
		{"few popped, hashtable", []string{"a", "b", "c", "d", "e", "f", "g"}, 2},
		{"most popped, hashtable", []string{"a", "b", "c", "d", "e", "f", "g"}, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for rep := 0; rep < 20; rep++ {
				s := newSetOf(lim, tc.members...)
				var popped []string
				s.PopRandom(tc.count, lim, func(str string, n int64, isInt bool) {
					if isInt {
						str = strconv.FormatInt(n, 10)
					}
					popped = append(popped, str)
				})
				require.Len(t, popped, tc.count)
				all := append(popped, setMembers(s)...)
				sort.Strings(all)
				want := slices.Clone(tc.members)
				sort.Strings(want)
				require.Equal(t, want, all, "popped and remaining partition the set")
				checkSetInvariants(t, s)
			}
		})
	}

	t.Run("rebuild turns a hashtable of integers into an intset", func(t *testing.T) {
		s := newSetOf(lim, "1", "2", "3", "4", "5", "6", "x")
		s.Remove([]byte("x"))
		require.Equal(t, EncHashtable, s.Encoding())
		s.PopRandom(5, lim, func(string, int64, bool) {})
		assert.Equal(t, EncIntset, s.Encoding())
		assert.Equal(t, 1, s.Len())
	})
	t.Run("popping one at a time keeps the encoding", func(t *testing.T) {
		s := newSetOf(lim, "1", "2", "3", "4", "5", "6", "x")
		s.Remove([]byte("x"))
		s.PopRandom(4, lim, func(string, int64, bool) {})
		assert.Equal(t, EncHashtable, s.Encoding())
	})
}

func TestSetUniqueRandomIndexes(t *testing.T) {
	for _, tc := range [][2]int{{10, 1}, {10, 3}, {10, 4}, {10, 10}, {1000, 5}, {1000, 999}} {
		idx := UniqueRandomIndexes(tc[0], tc[1])
		require.Len(t, idx, tc[1])
		seen := map[int]bool{}
		for _, i := range idx {
			require.True(t, i >= 0 && i < tc[0])
			require.False(t, seen[i])
			seen[i] = true
		}
	}
}

func TestSetScan(t *testing.T) {
	lim := DefaultLimits()
	s := newSetOf(lim, "5", "1", "3")
	var got []int
	assert.Equal(t, uint64(0), s.Scan(99, 1, func(i int) { got = append(got, i) }), "an intset is scanned in one call")
	assert.Equal(t, []int{0, 1, 2}, got)

	r := rand.New(rand.NewPCG(5, 5))
	s = NewSet()
	for i := 0; i < 1000; i++ {
		s.Add([]byte(fmt.Sprintf("m%d", i)), lim)
	}
	removed := map[string]bool{}
	seen := map[string]bool{}
	cursor := uint64(0)
	for calls := 0; ; calls++ {
		require.Less(t, calls, 10000)
		cursor = s.Scan(cursor, 1+r.IntN(20), func(i int) { seen[s.MemberString(i)] = true })
		if cursor == 0 {
			break
		}
		for j := 0; j < 5; j++ {
			m := fmt.Sprintf("m%d", r.IntN(1000))
			if s.Remove([]byte(m)) {
				removed[m] = true
			}
			s.Add([]byte(fmt.Sprintf("n%d", r.IntN(1000))), lim)
		}
	}
	for i := 0; i < 1000; i++ {
		m := fmt.Sprintf("m%d", i)
		if !removed[m] {
			assert.True(t, seen[m], "member %s present throughout but not returned", m)
		}
	}
}

func TestSetShrinksAfterDrain(t *testing.T) {
	lim := DefaultLimits()
	for _, prefix := range []string{"", "m"} {
		s := NewSet()
		for i := 0; i < 5000; i++ {
			s.Add([]byte(prefix+strconv.Itoa(i)), lim)
		}
		for i := 0; i < 4990; i++ {
			require.True(t, s.Remove([]byte(prefix+strconv.Itoa(i))))
		}
		assert.Equal(t, 10, s.Len())
		assert.Less(t, cap(s.members), 100)
		checkSetInvariants(t, s)
	}
}
