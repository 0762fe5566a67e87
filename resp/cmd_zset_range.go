package resp

import (
	"github.com/celerity/celerity/keyspace"
	"github.com/celerity/celerity/keyspace/zskiplist"
)

// The ZRANGE family (ZRANGE, ZRANGESTORE, ZREVRANGE, Z[REV]RANGEBYSCORE,
// Z[REV]RANGEBYLEX), ZLEXCOUNT's and ZREMRANGEBY*'s range walks.

// Range membership tests for walking out of a seek.
func scoreAboveMin(r zskiplist.ScoreRange, s float64) bool {
	if r.MinEx {
		return s > r.Min
	}
	return s >= r.Min
}

func scoreBelowMax(r zskiplist.ScoreRange, s float64) bool {
	if r.MaxEx {
		return s < r.Max
	}
	return s <= r.Max
}

func lexAboveMin(r zskiplist.LexRange, m string) bool {
	switch {
	case r.Min.Inf != 0:
		return r.Min.Inf < 0
	case r.Min.Exclusive:
		return m > r.Min.Value
	}
	return m >= r.Min.Value
}

func lexBelowMax(r zskiplist.LexRange, m string) bool {
	switch {
	case r.Max.Inf != 0:
		return r.Max.Inf > 0
	case r.Max.Exclusive:
		return m < r.Max.Value
	}
	return m <= r.Max.Value
}

// lexSeek finds where a lexicographic range starts: its lowest element, or
// its highest when reverse. When all scores are equal the order is by
// member and the index seeks in O(log n). With mixed scores Redis answers
// with some run of the (score, member) order; for a listpack that run is
// well defined (a linear scan from one end, stopping at the first member
// past the near bound, after a check of both ends), and listpack-encoded
// sets reproduce it here. For a skiplist it depends on the random node
// levels, so nothing can match it.
func lexSeek(z *keyspace.ZSet, r zskiplist.LexRange, reverse bool) (zskiplist.Iterator, bool) {
	zsl := z.Index()
	if !z.IsListpack() {
		if reverse {
			return zsl.LastInLexRange(r)
		}
		return zsl.FirstInLexRange(r)
	}
	first, ok := zsl.First()
	if !ok || r.Empty() {
		return first, false
	}
	last, _ := zsl.Last()
	if !lexAboveMin(r, last.Member()) || !lexBelowMax(r, first.Member()) {
		return first, false
	}
	it := first
	if reverse {
		it = last
	}
	for {
		m := it.Member()
		if reverse && lexBelowMax(r, m) {
			return it, lexAboveMin(r, m)
		}
		if !reverse && lexAboveMin(r, m) {
			return it, lexBelowMax(r, m)
		}
		if reverse && !it.Prev() || !reverse && !it.Next() {
			return it, false
		}
	}
}

// lexRun returns the rank and length of the run of elements a lex range
// selects, as lexSeek defines its start.
func lexRun(z *keyspace.ZSet, r zskiplist.LexRange) (start, n int) {
	it, ok := lexSeek(z, r, false)
	if !ok {
		return 0, 0
	}
	start = it.Rank()
	if !z.IsListpack() {
		return start, z.Index().CountInLexRange(r)
	}
	for ok && lexBelowMax(r, it.Member()) {
		n++
		ok = it.Next()
	}
	return start, n
}

// ---- the ZRANGE family ----

// Range kinds and directions of zrangeGeneric (Redis's zrange_type and
// zrange_direction, with "auto" meaning "decided by the options").
const (
	zrangeAuto = iota
	zrangeRank
	zrangeScore
	zrangeLex
)

const (
	zdirAuto = iota
	zdirForward
	zdirReverse
)

// zrangeOut receives a range's elements: it replies to the client, or
// collects a new set for ZRANGESTORE (Redis's zrange_result_handler).
type zrangeOut struct {
	c          *Client
	withScores bool
	dstKey     []byte // ZRANGESTORE's destination; nil when replying
	dst        *keyspace.ZSet
	deferred   bool
	d          Deferred
	n          int
}

// begin starts the result; length is the exact count, or -1 when unknown.
func (h *zrangeOut) begin(length int) {
	if h.dstKey != nil {
		h.dst = keyspace.NewZSetResult()
		return
	}
	if length >= 0 {
		h.c.Array(h.c.scoredLen(length, h.withScores))
		return
	}
	h.deferred = true
	h.d = h.c.DeferLen()
}

func (h *zrangeOut) emit(m string, score float64) {
	h.n++
	switch {
	case h.dst != nil:
		h.dst.Set(m, score)
	case h.withScores:
		h.c.replyScored(m, score)
	default:
		h.c.BulkString(m)
	}
}

func (h *zrangeOut) finish() {
	c := h.c
	if h.dstKey == nil {
		if h.deferred {
			c.SetArrayLen(h.d, c.scoredLen(h.n, h.withScores))
		}
		return
	}
	c.storeZSet(h.dstKey, h.dst)
}

// storeZSet writes a freshly built set to key (replacing any value and its
// TTL), or deletes key when the set is empty, and replies with its size.
func (c *Client) storeZSet(key []byte, z *keyspace.ZSet) {
	if z == nil || z.Len() == 0 {
		if c.db.Delete(key) {
			c.signalModified(c.db, key)
		}
		c.Int(0)
		return
	}
	z.Refit(c.srv.ks.Limits())
	c.db.SetAggregate(key, keyspace.TypeZSet, z)
	c.signalModified(c.db, key)
	c.Int(int64(z.Len()))
}

func zrangeCommand(c *Client) { c.zrangeGeneric(&zrangeOut{c: c}, 1, zrangeAuto, zdirAuto) }

func zrangestoreCommand(c *Client) {
	c.zrangeGeneric(&zrangeOut{c: c, dstKey: c.argv[1]}, 2, zrangeAuto, zdirAuto)
}

func zrevrangeCommand(c *Client) { c.zrangeGeneric(&zrangeOut{c: c}, 1, zrangeRank, zdirReverse) }

func zrangebyscoreCommand(c *Client) {
	c.zrangeGeneric(&zrangeOut{c: c}, 1, zrangeScore, zdirForward)
}

func zrevrangebyscoreCommand(c *Client) {
	c.zrangeGeneric(&zrangeOut{c: c}, 1, zrangeScore, zdirReverse)
}

func zrangebylexCommand(c *Client) { c.zrangeGeneric(&zrangeOut{c: c}, 1, zrangeLex, zdirForward) }

func zrevrangebylexCommand(c *Client) {
	c.zrangeGeneric(&zrangeOut{c: c}, 1, zrangeLex, zdirReverse)
}

// zrangeGeneric is every ZRANGE form (Redis's zrangeGenericCommand): the
// key is argv[from], the range argv[from+1] and argv[from+2], options
// follow. The legacy commands preset kind and direction, which makes the
// corresponding options syntax errors.
func (c *Client) zrangeGeneric(h *zrangeOut, from, kind, dir int) {
	store := h.dstKey != nil
	var offset, limit int64 = 0, -1
	for j := from + 3; j < len(c.argv); j++ {
		left := len(c.argv) - j - 1
		switch opt := c.argv[j]; {
		case !store && optIs(opt, "withscores"):
			h.withScores = true
		case optIs(opt, "limit") && left >= 2:
			var ok bool
			if offset, ok = c.intArg(j + 1); !ok {
				return
			}
			if limit, ok = c.intArg(j + 2); !ok {
				return
			}
			j += 2
		case dir == zdirAuto && optIs(opt, "rev"):
			dir = zdirReverse
		case kind == zrangeAuto && optIs(opt, "bylex"):
			kind = zrangeLex
		case kind == zrangeAuto && optIs(opt, "byscore"):
			kind = zrangeScore
		default:
			c.SyntaxError()
			return
		}
	}
	if dir == zdirAuto {
		dir = zdirForward
	}
	if kind == zrangeAuto {
		kind = zrangeRank
	}
	// Redis tests the LIMIT conflict on the parsed value, so "LIMIT 0 -1"
	// with a rank range passes.
	if limit != -1 && kind == zrangeRank {
		c.Error(errZLimitRank)
		return
	}
	if h.withScores && kind == zrangeLex {
		c.Error(errZScoresLex)
		return
	}
	reverse := dir == zdirReverse
	minArg, maxArg := c.argv[from+1], c.argv[from+2]
	if reverse && kind != zrangeRank {
		minArg, maxArg = maxArg, minArg
	}
	var start, end int64
	var sr zskiplist.ScoreRange
	var lr zskiplist.LexRange
	switch kind {
	case zrangeRank:
		var ok bool
		if start, ok = c.intArg(from + 1); !ok {
			return
		}
		if end, ok = c.intArg(from + 2); !ok {
			return
		}
	case zrangeScore:
		var ok bool
		if sr, ok = parseScoreRange(minArg, maxArg); !ok {
			c.Error(errZMinMaxFloat)
			return
		}
	case zrangeLex:
		var ok bool
		if lr, ok = parseLexRange(minArg, maxArg); !ok {
			c.Error(errZMinMaxLex)
			return
		}
	}
	e := c.lookupRead(c.argv[from])
	if e == nil {
		if store {
			h.begin(-1)
			h.finish()
		} else {
			c.Array(0)
		}
		return
	}
	z, ok := c.zsetOf(e)
	if !ok {
		return
	}
	switch kind {
	case zrangeRank:
		zrangeByRank(h, z, start, end, reverse)
	case zrangeScore:
		zrangeByScore(h, z, sr, offset, limit, reverse)
	case zrangeLex:
		zrangeByLex(h, z, lr, offset, limit, reverse)
	}
	h.finish()
}

// normalizeRankRange applies Redis's index rules to start..end over n
// elements; ok is false when the range is empty.
func normalizeRankRange(start, end int64, n int) (int, int, bool) {
	ln := int64(n)
	if start < 0 {
		start += ln
	}
	if end < 0 {
		end += ln
	}
	if start < 0 {
		start = 0
	}
	if start > end || start >= ln {
		return 0, 0, false
	}
	if end >= ln {
		end = ln - 1
	}
	return int(start), int(end), true
}

func zrangeByRank(h *zrangeOut, z *keyspace.ZSet, start, end int64, reverse bool) {
	s, e, ok := normalizeRankRange(start, end, z.Len())
	if !ok {
		h.begin(0)
		return
	}
	n := e - s + 1
	h.begin(n)
	zsl := z.Index()
	if reverse {
		it, _ := zsl.IterAt(z.Len() - 1 - s)
		for i := 0; i < n; i++ {
			h.emit(it.Member(), it.Score())
			it.Prev()
		}
		return
	}
	it, _ := zsl.IterAt(s)
	for i := 0; i < n; i++ {
		h.emit(it.Member(), it.Score())
		it.Next()
	}
}

// rangeStart applies a LIMIT offset to a range seek: it jumps offset
// elements away from it (towards higher ranks unless reverse). A negative
// offset makes the range empty, as Redis's skipping loop runs off the end.
func rangeStart(zsl *zskiplist.ZSL, it zskiplist.Iterator, found bool, offset int64, reverse bool) (zskiplist.Iterator, bool) {
	if !found || offset == 0 {
		return it, found
	}
	if offset < 0 || offset >= int64(zsl.Len()) {
		return it, false
	}
	r := int64(it.Rank())
	if reverse {
		r -= offset
	} else {
		r += offset
	}
	if r < 0 || r >= int64(zsl.Len()) {
		return it, false
	}
	return zsl.IterAt(int(r))
}

func zrangeByScore(h *zrangeOut, z *keyspace.ZSet, r zskiplist.ScoreRange, offset, limit int64, reverse bool) {
	if offset > 0 && offset >= int64(z.Len()) {
		h.begin(0)
		return
	}
	h.begin(-1)
	zsl := z.Index()
	var it zskiplist.Iterator
	var found bool
	if reverse {
		it, found = zsl.LastInScoreRange(r)
	} else {
		it, found = zsl.FirstInScoreRange(r)
	}
	it, found = rangeStart(zsl, it, found, offset, reverse)
	for ; found && limit != 0; limit-- {
		s := it.Score()
		if reverse && !scoreAboveMin(r, s) || !reverse && !scoreBelowMax(r, s) {
			break
		}
		h.emit(it.Member(), s)
		if reverse {
			found = it.Prev()
		} else {
			found = it.Next()
		}
	}
}

func zrangeByLex(h *zrangeOut, z *keyspace.ZSet, r zskiplist.LexRange, offset, limit int64, reverse bool) {
	if offset > 0 && offset >= int64(z.Len()) {
		h.begin(0)
		return
	}
	h.begin(-1)
	zsl := z.Index()
	it, found := lexSeek(z, r, reverse)
	it, found = rangeStart(zsl, it, found, offset, reverse)
	for ; found && limit != 0; limit-- {
		m := it.Member()
		if reverse && !lexAboveMin(r, m) || !reverse && !lexBelowMax(r, m) {
			break
		}
		h.emit(m, it.Score())
		if reverse {
			found = it.Prev()
		} else {
			found = it.Next()
		}
	}
}

// ---- ZREMRANGEBY* ----

func zremrangebyrankCommand(c *Client) {
	start, ok := c.intArg(2)
	if !ok {
		return
	}
	end, ok := c.intArg(3)
	if !ok {
		return
	}
	c.zremrangeGeneric(func(z *keyspace.ZSet) int {
		s, e, ok := normalizeRankRange(start, end, z.Len())
		if !ok {
			return 0
		}
		return z.DeleteRangeByRank(s, e)
	})
}

func zremrangebyscoreCommand(c *Client) {
	r, ok := parseScoreRange(c.argv[2], c.argv[3])
	if !ok {
		c.Error(errZMinMaxFloat)
		return
	}
	c.zremrangeGeneric(func(z *keyspace.ZSet) int { return z.DeleteRangeByScore(r) })
}

func zremrangebylexCommand(c *Client) {
	r, ok := parseLexRange(c.argv[2], c.argv[3])
	if !ok {
		c.Error(errZMinMaxLex)
		return
	}
	c.zremrangeGeneric(func(z *keyspace.ZSet) int {
		if !z.IsListpack() {
			return z.DeleteRangeByLex(r)
		}
		start, n := lexRun(z, r)
		if n == 0 {
			return 0
		}
		return z.DeleteRangeByRank(start, start+n-1)
	})
}

func (c *Client) zremrangeGeneric(del func(z *keyspace.ZSet) int) {
	key := c.argv[1]
	e := c.lookupWrite(key)
	z, ok := c.zsetOf(e)
	if !ok {
		return
	}
	if z == nil {
		c.Int(0)
		return
	}
	n := del(z)
	if n > 0 {
		zsetChanged(c, c.db, e, z, key)
	}
	c.Int(int64(n))
}
