package keyspace

import (
	"math"
	"math/rand/v2"

	"github.com/celerity/celerity/keyspace/zskiplist"
)

// ZSet is the sorted-set value type: a member → score map for O(1) score
// lookups plus the ordered index (package zskiplist) for ranks and ranges,
// sharing each member's string. The same layout serves both encodings Redis
// 7.0 reports; a flag remembers which one Redis would use (see
// zskiplist/encoding.go for the rules), with one observable consequence
// modelled here: a listpack stores scores as text, so a score of -0 reads
// back as 0 while the zset is a listpack.
//
// Members are Go strings; methods taking []byte never keep the slice.
type ZSet struct {
	dict     map[string]float64
	zsl      zskiplist.ZSL
	listpack bool
	lp       int64 // listpack entry bytes of members and scores (memory.go)
	alloc    int64 // sds allocations of the members (memory.go)
}

// ZAddFlags are ZADD's input options (Redis's ZADD_IN_*).
type ZAddFlags uint8

// ZADD options.
const (
	ZAddNX ZAddFlags = 1 << iota
	ZAddXX
	ZAddGT
	ZAddLT
	ZAddIncr
)

// ZAddResult says what ZSet.Add did (Redis's ZADD_OUT_*).
type ZAddResult uint8

// Outcomes of ZSet.Add.
const (
	ZAddNop     ZAddResult = iota // nothing changed (NX/XX/GT/LT refused it)
	ZAddAdded                     // a new member
	ZAddUpdated                   // an existing member got a new score
	ZAddSame                      // processed, but the score did not change
	ZAddNaN                       // INCR produced NaN: nothing changed
)

// NewZSet returns an empty sorted set in the listpack encoding; the first
// Add converts it when the limits say Redis would create a skiplist.
func NewZSet() *ZSet {
	return &ZSet{dict: make(map[string]float64), listpack: true}
}

// NewZSetResult returns an empty sorted set to build a computed value in
// (the set operations, ZRANGESTORE): like Redis's temporary skiplist it
// keeps scores exactly, -0 included, until Refit picks the final encoding.
func NewZSetResult() *ZSet {
	return &ZSet{dict: make(map[string]float64)}
}

// zslLimits converts the keyspace's thresholds.
func zslLimits(l Limits) zskiplist.Limits {
	return zskiplist.Limits{MaxEntries: l.ZSetMaxListpackEntries, MaxValue: l.ZSetMaxListpackValue}
}

// Len returns the number of members.
func (z *ZSet) Len() int { return len(z.dict) }

// MemoryUsage estimates what Redis 7.0 allocates for the same zset: an
// robj and a listpack of members and scores, or an robj, the zset, its
// dict and skiplist, and per member a dict entry, a skiplist node and the
// sds string both share (memory.go).
func (z *ZSet) MemoryUsage() int64 {
	if z.listpack {
		return memObj + listpackAlloc(z.lp)
	}
	n := len(z.dict)
	return memObj + memZSet + dictMemory(n) + memZSL + memZSLHeader +
		(memDictEntry+memZSLNode)*int64(n) + z.alloc
}

// account adds (sign 1) or removes (sign -1) member m's share of z's
// memory estimate.
func account[T string | []byte](z *ZSet, m T, score float64, sign int64) {
	z.lp += sign * (lpEntry(m) + lpScore(score))
	z.alloc += sign * sdsAlloc(len(m))
}

// Encoding returns listpack or skiplist, as Redis 7.0 would report.
func (z *ZSet) Encoding() Encoding {
	if z.listpack {
		return EncListpack
	}
	return EncSkiplist
}

// IsListpack reports whether Redis would hold the zset as a listpack.
func (z *ZSet) IsListpack() bool { return z.listpack }

// Clone returns a deep copy with the same encoding.
func (z *ZSet) Clone() Aggregate {
	n := &ZSet{dict: make(map[string]float64, len(z.dict)), listpack: z.listpack, lp: z.lp, alloc: z.alloc}
	if it, ok := z.zsl.First(); ok {
		for {
			e := it.Element()
			n.dict[e.Member] = e.Score
			n.zsl.Insert(e.Score, e.Member)
			if !it.Next() {
				break
			}
		}
	}
	return n
}

// Index returns the ordered index for reading (ranks, ranges, iteration).
// Mutate only through ZSet's methods, which keep the member map in step.
func (z *ZSet) Index() *zskiplist.ZSL { return &z.zsl }

// Score returns member's score.
func (z *ZSet) Score(member []byte) (float64, bool) {
	s, ok := z.dict[string(member)]
	return s, ok
}

// stored is the score as the encoding keeps it: a listpack writes scores as
// text, where -0 becomes 0.
func (z *ZSet) stored(score float64) float64 {
	if z.listpack && score == 0 {
		return 0
	}
	return score
}

// Add is ZADD's and ZINCRBY's core (Redis's zsetAdd): it adds member or
// updates its score under flags, converting the encoding as Redis would
// when a new member breaks limits. It returns the resulting score (the
// member's score after the operation, as computed, for INCR replies) and
// what happened. score must not be NaN.
func (z *ZSet) Add(member []byte, score float64, flags ZAddFlags, l Limits) (float64, ZAddResult) {
	cur, exists := z.dict[string(member)]
	if exists {
		if flags&ZAddNX != 0 {
			return cur, ZAddNop
		}
		if flags&ZAddIncr != 0 {
			score += cur
			if score != score {
				return cur, ZAddNaN
			}
		}
		if flags&ZAddLT != 0 && score >= cur || flags&ZAddGT != 0 && score <= cur {
			return cur, ZAddNop
		}
		if score == cur {
			return score, ZAddSame
		}
		z.update(cur, member, score)
		return score, ZAddUpdated
	}
	if flags&ZAddXX != 0 {
		return 0, ZAddNop
	}
	if z.listpack && zslLimits(l).ConvertsOnAdd(len(z.dict), len(member)) {
		z.listpack = false
	}
	z.insert(string(member), score)
	return score, ZAddAdded
}

// update moves an existing member from score cur to score.
func (z *ZSet) update(cur float64, member []byte, score float64) {
	// Hand the index its own copy of the member: UpdateScore may re-insert
	// the string it is given, and the map and the index must keep sharing
	// one allocation.
	r := z.zsl.Rank(cur, string(member))
	e, _ := z.zsl.ByRank(r)
	score = z.stored(score)
	z.zsl.UpdateScore(cur, e.Member, score)
	z.dict[e.Member] = score
	z.lp += lpScore(score) - lpScore(cur)
}

func (z *ZSet) insert(m string, score float64) {
	score = z.stored(score)
	z.dict[m] = score
	z.zsl.Insert(score, m)
	account(z, m, score, 1)
}

// Set adds member or changes its score, without any encoding decision: it
// builds fresh values (the *STORE commands), which call Refit when done.
func (z *ZSet) Set(member string, score float64) {
	if cur, ok := z.dict[member]; ok {
		if cur != score || math.Signbit(cur) != math.Signbit(score) {
			z.update(cur, []byte(member), score)
		}
		return
	}
	z.insert(member, score)
}

// Refit chooses the encoding of a freshly built value the way Redis does
// for ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE and ZRANGESTORE results: a
// listpack when it fits the limits, else a skiplist.
func (z *ZSet) Refit(l Limits) {
	longest := 0
	for m := range z.dict {
		longest = max(longest, len(m))
	}
	fits := zslLimits(l).Fits(len(z.dict), longest)
	if fits && !z.listpack {
		z.listpack = true
		// Scores written into a listpack lose the sign of zero.
		if it, ok := z.zsl.FirstInScoreRange(zskiplist.ScoreRange{Min: 0, Max: 0}); ok {
			var zeros []string
			for it.Score() == 0 {
				zeros = append(zeros, it.Member())
				if !it.Next() {
					break
				}
			}
			for _, m := range zeros {
				z.zsl.UpdateScore(0, m, 0)
				z.dict[m] = 0
			}
		}
	}
	z.listpack = fits
}

// Remove deletes member, reporting whether it was present.
func (z *ZSet) Remove(member []byte) bool {
	cur, ok := z.dict[string(member)]
	if !ok {
		return false
	}
	z.zsl.Delete(cur, string(member))
	delete(z.dict, string(member))
	account(z, member, cur, -1)
	return true
}

// Rank returns member's 0-based rank from the lowest score (or from the
// highest when reverse), or false when absent.
func (z *ZSet) Rank(member []byte, reverse bool) (int, bool) {
	cur, ok := z.dict[string(member)]
	if !ok {
		return 0, false
	}
	r := z.zsl.Rank(cur, string(member))
	if reverse {
		r = len(z.dict) - 1 - r
	}
	return r, true
}

// forget drops a member the index has already removed.
func (z *ZSet) forget(e zskiplist.Element) {
	delete(z.dict, e.Member)
	account(z, e.Member, e.Score, -1)
}

// DeleteRangeByRank removes ranks start..end inclusive (0 <= start <= end <
// Len) and returns how many it removed.
func (z *ZSet) DeleteRangeByRank(start, end int) int {
	return z.zsl.DeleteRangeByRank(start, end, z.forget)
}

// DeleteRangeByScore removes the members whose score is in r.
func (z *ZSet) DeleteRangeByScore(r zskiplist.ScoreRange) int {
	return z.zsl.DeleteRangeByScore(r, z.forget)
}

// DeleteRangeByLex removes the members in the lexicographic range r.
func (z *ZSet) DeleteRangeByLex(r zskiplist.LexRange) int {
	return z.zsl.DeleteRangeByLex(r, z.forget)
}

// Pop removes and returns up to count members from the low end (or the
// high end when max), in pop order.
func (z *ZSet) Pop(count int, max bool) []zskiplist.Element {
	n := min(count, len(z.dict))
	if n <= 0 {
		return nil
	}
	out := make([]zskiplist.Element, 0, n)
	if max {
		z.zsl.DeleteRangeByRank(len(z.dict)-n, len(z.dict)-1, func(e zskiplist.Element) { out = append(out, e) })
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	} else {
		z.zsl.DeleteRangeByRank(0, n-1, func(e zskiplist.Element) { out = append(out, e) })
	}
	for _, e := range out {
		z.forget(e)
	}
	return out
}

// Random returns a uniformly chosen member.
func (z *ZSet) Random() zskiplist.Element {
	e, _ := z.zsl.ByRank(rand.IntN(len(z.dict)))
	return e
}

// Scan returns up to count elements of a ZSCAN iteration and the next
// cursor (0 when done). The cursor counts the not-yet-visited elements from
// the low end of the order (0 starts a new iteration), and the walk goes
// from the highest score down: deleting members, and adding members above
// the unvisited region (Kombu's timestamps, RedBeat's next runs), never
// hides an element present for the whole iteration. An insertion or a score
// change below the cursor can; Redis's dict cursor is immune to that, ours
// is the price of keeping no second index.
func (z *ZSet) Scan(cursor uint64, count int, out []zskiplist.Element) ([]zskiplist.Element, uint64) {
	pos := uint64(len(z.dict))
	if cursor != 0 && cursor < pos {
		pos = cursor
	}
	if pos == 0 || count <= 0 {
		return out, pos
	}
	it, _ := z.zsl.IterAt(int(pos) - 1)
	for ; count > 0 && pos > 0; count-- {
		out = append(out, it.Element())
		pos--
		it.Prev()
	}
	return out, pos
}
