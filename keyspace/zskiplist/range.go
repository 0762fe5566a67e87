package zskiplist

// Iterator is a position in a ZSL. It is a small value; copy it freely. Any
// mutation of the ZSL invalidates every iterator on it.
type Iterator struct {
	lf   *leaf
	i    int
	rank int
}

// Valid reports whether the iterator is on an element.
func (it *Iterator) Valid() bool { return it.lf != nil }

// Element returns the current element. The iterator must be valid.
func (it *Iterator) Element() Element { return it.lf.items[it.i] }

// Member returns the current member. The iterator must be valid.
func (it *Iterator) Member() string { return it.lf.items[it.i].Member }

// Score returns the current score. The iterator must be valid.
func (it *Iterator) Score() float64 { return it.lf.items[it.i].Score }

// Rank returns the 0-based rank (from the lowest score) of the current
// element.
func (it *Iterator) Rank() int { return it.rank }

// Next moves to the next higher element, reporting whether there is one.
// O(1).
func (it *Iterator) Next() bool {
	it.rank++
	if it.i++; it.i == it.lf.n {
		it.lf, it.i = it.lf.next, 0
	}
	return it.lf != nil
}

// Prev moves to the next lower element, reporting whether there is one.
// O(1).
func (it *Iterator) Prev() bool {
	it.rank--
	if it.i > 0 {
		it.i--
		return true
	}
	it.lf = it.lf.prev
	if it.lf == nil {
		return false
	}
	it.i = it.lf.n - 1
	return true
}

// seek returns an iterator at the first element for which after reports
// true; after must be monotone (false for a prefix of the order, true for
// the rest) and is also applied to the inner nodes' lower bounds. The
// iterator is invalid (but carries rank Len()) if there is no such element.
func (z *ZSL) seek(after func(e *Element) bool) Iterator {
	if z.n == 0 {
		return Iterator{}
	}
	lf, rank := z.rleaf, 0
	if z.height > 0 {
		nd := z.root
		for d := 0; ; d++ {
			// Child j = (index of the first lower bound that is
			// already "after") - 1: children left of it are entirely
			// before, and the answer lies in child j or is the first
			// element following it.
			lo, hi := 1, nd.n
			for lo < hi {
				m := int(uint(lo+hi) >> 1)
				if after(&nd.keys[m]) {
					hi = m
				} else {
					lo = m + 1
				}
			}
			j := lo - 1
			for _, c := range nd.counts[:j] {
				rank += c
			}
			if d == z.height-1 {
				lf = nd.leaves[j]
				break
			}
			nd = nd.kids[j]
		}
	}
	lo, hi := 0, lf.n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if after(&lf.items[m]) {
			hi = m
		} else {
			lo = m + 1
		}
	}
	it := Iterator{lf: lf, i: lo, rank: rank + lo}
	if lo == lf.n {
		it.lf, it.i = lf.next, 0
	}
	return it
}

// before returns an iterator at the element preceding the position it (which
// may be the invalid end position).
func (z *ZSL) before(it Iterator) (Iterator, bool) {
	if !it.Valid() {
		return z.Last()
	}
	if !it.Prev() {
		return Iterator{}, false
	}
	return it, true
}

// ---- score ranges ----

// ScoreRange is a ZRANGEBYSCORE-style interval. -Inf and +Inf are valid
// bounds. NaN must never be used (the engine rejects it at parse time).
type ScoreRange struct {
	Min, Max     float64
	MinEx, MaxEx bool // exclusive bounds: "(" in Redis syntax
}

// Empty reports whether the range can contain nothing: min > max, or
// min == max with either bound exclusive (Redis returns nothing for those).
func (r ScoreRange) Empty() bool {
	return r.Min > r.Max || (r.Min == r.Max && (r.MinEx || r.MaxEx))
}

func (r ScoreRange) aboveMin(s float64) bool {
	if r.MinEx {
		return s > r.Min
	}
	return s >= r.Min
}

func (r ScoreRange) belowMax(s float64) bool {
	if r.MaxEx {
		return s < r.Max
	}
	return s <= r.Max
}

// FirstInScoreRange returns an iterator at the lowest element inside r.
// O(log n).
func (z *ZSL) FirstInScoreRange(r ScoreRange) (Iterator, bool) {
	if r.Empty() {
		return Iterator{}, false
	}
	it := z.seek(func(e *Element) bool { return r.aboveMin(e.Score) })
	if !it.Valid() || !r.belowMax(it.Score()) {
		return Iterator{}, false
	}
	return it, true
}

// LastInScoreRange returns an iterator at the highest element inside r.
// O(log n).
func (z *ZSL) LastInScoreRange(r ScoreRange) (Iterator, bool) {
	if r.Empty() {
		return Iterator{}, false
	}
	it, ok := z.before(z.seek(func(e *Element) bool { return !r.belowMax(e.Score) }))
	if !ok || !r.aboveMin(it.Score()) {
		return Iterator{}, false
	}
	return it, true
}

// CountInScoreRange returns the number of elements in r (ZCOUNT). O(log n).
func (z *ZSL) CountInScoreRange(r ScoreRange) int {
	first, ok := z.FirstInScoreRange(r)
	if !ok {
		return 0
	}
	last, _ := z.LastInScoreRange(r)
	return last.rank - first.rank + 1
}

// ---- lexicographic ranges ----

// LexBound is one end of a ZRANGEBYLEX interval.
type LexBound struct {
	Value     string
	Exclusive bool // "(" rather than "["
	// Inf selects an infinite bound instead of Value: -1 for "-" (below
	// every member), +1 for "+" (above every member). Infinite bounds
	// behave as exclusive, so "- -" and "+ +" are empty like in Redis.
	Inf int8
}

// LexRange is a ZRANGEBYLEX interval. Like Redis, lexicographic ranges are
// only meaningful when all elements share one score; otherwise the result
// is some contiguous run of the (score, member) order.
type LexRange struct {
	Min, Max LexBound
}

// ParseLexBound parses Redis lex-range syntax: "-", "+", "[value" or
// "(value". It reports false for anything else, which Redis answers with
// "ERR min or max not valid string range item".
func ParseLexBound(s string) (LexBound, bool) {
	if s == "" {
		return LexBound{}, false
	}
	switch s[0] {
	case '-', '+':
		if len(s) != 1 {
			return LexBound{}, false
		}
		if s[0] == '-' {
			return LexBound{Inf: -1, Exclusive: true}, true
		}
		return LexBound{Inf: 1, Exclusive: true}, true
	case '[':
		return LexBound{Value: s[1:]}, true
	case '(':
		return LexBound{Value: s[1:], Exclusive: true}, true
	}
	return LexBound{}, false
}

// cmpBounds orders two bounds treating "-" < any value < "+".
func cmpBounds(a, b LexBound) int {
	if a.Inf != 0 || b.Inf != 0 {
		return int(a.Inf) - int(b.Inf)
	}
	switch {
	case a.Value < b.Value:
		return -1
	case a.Value > b.Value:
		return 1
	}
	return 0
}

// Empty reports whether the range can contain nothing.
func (r LexRange) Empty() bool {
	c := cmpBounds(r.Min, r.Max)
	return c > 0 || (c == 0 && (r.Min.Exclusive || r.Max.Exclusive || r.Min.Inf != 0))
}

func (r LexRange) aboveMin(m string) bool {
	switch {
	case r.Min.Inf < 0:
		return true
	case r.Min.Inf > 0:
		return false
	case r.Min.Exclusive:
		return m > r.Min.Value
	}
	return m >= r.Min.Value
}

func (r LexRange) belowMax(m string) bool {
	switch {
	case r.Max.Inf > 0:
		return true
	case r.Max.Inf < 0:
		return false
	case r.Max.Exclusive:
		return m < r.Max.Value
	}
	return m <= r.Max.Value
}

// FirstInLexRange returns an iterator at the first element inside r.
// O(log n).
func (z *ZSL) FirstInLexRange(r LexRange) (Iterator, bool) {
	if r.Empty() {
		return Iterator{}, false
	}
	it := z.seek(func(e *Element) bool { return r.aboveMin(e.Member) })
	if !it.Valid() || !r.belowMax(it.Member()) {
		return Iterator{}, false
	}
	return it, true
}

// LastInLexRange returns an iterator at the last element inside r.
// O(log n).
func (z *ZSL) LastInLexRange(r LexRange) (Iterator, bool) {
	if r.Empty() {
		return Iterator{}, false
	}
	it, ok := z.before(z.seek(func(e *Element) bool { return !r.belowMax(e.Member) }))
	if !ok || !r.aboveMin(it.Member()) {
		return Iterator{}, false
	}
	return it, true
}

// CountInLexRange returns the number of elements in r (ZLEXCOUNT). O(log n).
func (z *ZSL) CountInLexRange(r LexRange) int {
	first, ok := z.FirstInLexRange(r)
	if !ok {
		return 0
	}
	last, _ := z.LastInLexRange(r)
	return last.rank - first.rank + 1
}

// ---- range deletion ----

// DeleteRangeByRank removes the elements of rank start..end inclusive
// (already normalised: 0 <= start <= end < Len), calling fn (if not nil)
// with each removed element in order so the caller can drop it from its
// member map; fn must not touch the ZSL. It returns the number removed.
// O(log n + k): whole runs are cut out of each leaf at once.
func (z *ZSL) DeleteRangeByRank(start, end int, fn func(e Element)) int {
	start = max(start, 0)
	end = min(end, z.n-1)
	if start > end {
		return 0
	}
	cnt := end - start + 1
	if cnt == z.n {
		// Everything goes: no need to rebalance anything.
		if fn != nil {
			for lf := z.first; lf != nil; lf = lf.next {
				for _, e := range lf.items[:lf.n] {
					fn(e)
				}
			}
		}
		*z = ZSL{}
		return cnt
	}
	left := cnt
	for left > 0 {
		var path [maxHeight]step
		lf, pos := z.seekRank(start, &path)
		m := min(left, lf.n-pos)
		if fn != nil {
			for _, e := range lf.items[pos : pos+m] {
				fn(e)
			}
		}
		z.removeRun(path[:z.height], lf, pos, m)
		left -= m
	}
	return cnt
}

// DeleteRangeByScore removes every element inside r (ZREMRANGEBYSCORE),
// calling fn as DeleteRangeByRank does. O(log n + k).
func (z *ZSL) DeleteRangeByScore(r ScoreRange, fn func(e Element)) int {
	first, ok := z.FirstInScoreRange(r)
	if !ok {
		return 0
	}
	last, _ := z.LastInScoreRange(r)
	return z.DeleteRangeByRank(first.rank, last.rank, fn)
}

// DeleteRangeByLex removes every element inside r (ZREMRANGEBYLEX).
// O(log n + k).
func (z *ZSL) DeleteRangeByLex(r LexRange, fn func(e Element)) int {
	first, ok := z.FirstInLexRange(r)
	if !ok {
		return 0
	}
	last, _ := z.LastInLexRange(r)
	return z.DeleteRangeByRank(first.rank, last.rank, fn)
}
