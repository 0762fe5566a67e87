package zskiplist

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func members(z *ZSL) []string {
	out := []string{}
	it, ok := z.First()
	for ok {
		out = append(out, it.Member())
		ok = it.Next()
	}
	return out
}

func TestEmptyZSL(t *testing.T) {
	var z ZSL // zero value usable
	require.Equal(t, 0, z.Len())
	require.False(t, z.Delete(1, "a"))
	require.False(t, z.UpdateScore(1, "a", 2))
	require.Equal(t, -1, z.Rank(1, "a"))
	_, ok := z.ByRank(0)
	require.False(t, ok)
	_, ok = z.IterAt(0)
	require.False(t, ok)
	_, ok = z.First()
	require.False(t, ok)
	_, ok = z.Last()
	require.False(t, ok)
	all := ScoreRange{Min: math.Inf(-1), Max: math.Inf(1)}
	_, ok = z.FirstInScoreRange(all)
	require.False(t, ok)
	_, ok = z.LastInScoreRange(all)
	require.False(t, ok)
	lexAll := LexRange{Min: LexBound{Inf: -1, Exclusive: true}, Max: LexBound{Inf: 1, Exclusive: true}}
	_, ok = z.FirstInLexRange(lexAll)
	require.False(t, ok)
	require.Equal(t, 0, z.CountInScoreRange(all))
	require.Equal(t, 0, z.DeleteRangeByScore(all, nil))
	require.Equal(t, 0, z.DeleteRangeByLex(lexAll, nil))
	require.Equal(t, 0, z.DeleteRangeByRank(0, 10, nil))
	checkTree(t, &z)
}

func TestSingleAndReuse(t *testing.T) {
	z := New()
	z.Insert(1.5, "only")
	require.Equal(t, 0, z.Rank(1.5, "only"))
	require.Equal(t, -1, z.Rank(1.5, "other"))
	require.Equal(t, -1, z.Rank(2, "only"))
	e, ok := z.ByRank(0)
	require.True(t, ok)
	require.Equal(t, Element{"only", 1.5}, e)
	it, _ := z.First()
	require.False(t, it.Next())
	require.False(t, it.Valid())
	it, _ = z.Last()
	require.False(t, it.Prev())
	require.True(t, z.UpdateScore(1.5, "only", -7))
	require.Equal(t, 0, z.Rank(-7, "only"))
	require.True(t, z.Delete(-7, "only"))
	require.Equal(t, 0, z.Len())
	checkTree(t, z)
	z.Insert(3, "again")
	require.Equal(t, []string{"again"}, members(z))
	checkTree(t, z)
}

func TestTiesOrderByMemberBytes(t *testing.T) {
	z := New()
	for _, m := range []string{"b", "a", "ab", "", "B", "\xff", "a\x00"} {
		z.Insert(1, m)
	}
	z.Insert(0, "zzz")
	z.Insert(2, "")
	// memcmp order: shorter prefix first, bytes unsigned.
	require.Equal(t, []string{"zzz", "", "B", "a", "a\x00", "ab", "b", "\xff", ""}, members(z))
	require.Equal(t, 1, z.Rank(1, ""))
	require.Equal(t, 8, z.Rank(2, ""))
}

func TestInfinitiesAndRanges(t *testing.T) {
	z := New()
	inf := math.Inf(1)
	z.Insert(math.Inf(-1), "x")
	z.Insert(inf, "y")
	z.Insert(0, "z")
	// Results recorded from redis-server 7.0.15 (ZRANGEBYSCORE/ZCOUNT li ...).
	cases := []struct {
		r    ScoreRange
		want []string
	}{
		{ScoreRange{Min: math.Inf(-1), Max: math.Inf(-1)}, []string{"x"}},
		{ScoreRange{Min: math.Inf(-1), Max: inf, MinEx: true}, []string{"z", "y"}},
		{ScoreRange{Min: inf, Max: inf}, []string{"y"}},
		{ScoreRange{Min: math.Inf(-1), Max: inf, MaxEx: true}, []string{"x", "z"}},
		{ScoreRange{Min: math.Inf(-1), Max: inf, MinEx: true, MaxEx: true}, []string{"z"}},
		{ScoreRange{Min: 1, Max: 0}, nil},
		{ScoreRange{Min: 0, Max: 0, MinEx: true}, nil},
		{ScoreRange{Min: 0, Max: 0, MaxEx: true}, nil},
		{ScoreRange{Min: 0, Max: 0}, []string{"z"}},
	}
	for _, c := range cases {
		var got []string
		it, ok := z.FirstInScoreRange(c.r)
		last, lok := z.LastInScoreRange(c.r)
		require.Equal(t, ok, lok)
		for ok && it.Rank() <= last.Rank() {
			got = append(got, it.Member())
			ok = it.Next()
		}
		require.Equal(t, c.want, got, "%+v", c.r)
		require.Equal(t, len(c.want), z.CountInScoreRange(c.r))
	}
}

func TestLexRangesMatchRedis(t *testing.T) {
	z := New()
	for _, m := range []string{"a", "b", "c"} {
		z.Insert(0, m)
	}
	// ZRANGEBYLEX lx <min> <max> on redis-server 7.0.15.
	cases := []struct {
		min, max string
		want     []string
	}{
		{"-", "-", nil}, {"+", "+", nil}, {"-", "+", []string{"a", "b", "c"}},
		{"+", "-", nil}, {"[a", "-", nil}, {"+", "[c", nil}, {"[b", "[b", []string{"b"}},
		{"(b", "[b", nil}, {"[b", "(b", nil}, {"[a", "+", []string{"a", "b", "c"}},
		{"-", "(b", []string{"a"}}, {"[", "+", []string{"a", "b", "c"}},
		{"(", "+", []string{"a", "b", "c"}}, {"-", "[", nil},
	}
	for _, c := range cases {
		lo, ok := ParseLexBound(c.min)
		require.True(t, ok)
		hi, ok := ParseLexBound(c.max)
		require.True(t, ok)
		r := LexRange{Min: lo, Max: hi}
		var got []string
		it, ok := z.FirstInLexRange(r)
		last, lok := z.LastInLexRange(r)
		require.Equal(t, ok, lok)
		for ok && it.Rank() <= last.Rank() {
			got = append(got, it.Member())
			ok = it.Next()
		}
		require.Equal(t, c.want, got, "%s %s", c.min, c.max)
		require.Equal(t, len(c.want), z.CountInLexRange(r))
	}
	for _, bad := range []string{"", "a", "--", "+x", "{a"} {
		_, ok := ParseLexBound(bad)
		require.False(t, ok, bad)
	}
}

// ZRANGEBYSCORE ... LIMIT offset count: seek, then jump by rank.
func TestLimitOffsetByRank(t *testing.T) {
	z := New()
	for i := range 1000 {
		z.Insert(float64(i), string(rune('a'+i%26))+string(rune('0'+i%10))+string(rune(i)))
	}
	first, ok := z.FirstInScoreRange(ScoreRange{Min: 100, Max: 900})
	require.True(t, ok)
	it, ok := z.IterAt(first.Rank() + 250)
	require.True(t, ok)
	require.Equal(t, 350.0, it.Score())
}

func TestDeleteRangeCallbacksAndUpdate(t *testing.T) {
	z := New()
	for i := range 500 {
		z.Insert(float64(i%50), string(rune('A'+i/50))+string(rune('a'+i%26)))
	}
	var gone []Element
	n := z.DeleteRangeByScore(ScoreRange{Min: 10, Max: 20, MaxEx: true}, func(e Element) { gone = append(gone, e) })
	require.Equal(t, 100, n)
	require.Len(t, gone, 100)
	for _, e := range gone {
		require.True(t, e.Score >= 10 && e.Score < 20)
	}
	checkTree(t, z)
	require.False(t, z.UpdateScore(10, "Aa", 1), "already deleted")
	require.Equal(t, 400, z.Len())
}

func TestBytes(t *testing.T) {
	z := New()
	for i := range 10000 {
		z.Insert(float64(i), string(rune(i)))
	}
	require.Greater(t, z.Bytes(), 10000*24)
	require.Less(t, z.Bytes(), 10000*40)
}
