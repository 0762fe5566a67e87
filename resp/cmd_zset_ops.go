package resp

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/celerity/celerity/keyspace"
	"github.com/celerity/celerity/keyspace/zskiplist"
)

// Sorted-set pops (ZPOPMIN, ZMPOP and their blocking forms), set operations
// (ZUNION, ZINTER, ZDIFF, their STORE forms, ZINTERCARD), ZRANDMEMBER, ZSCAN
// and the key extractors of the movable-key commands.

// ---- key extraction (COMMAND GETKEYS, ACLs) ----

// cAtoi reads an argument as C's atoi does, which is how Redis's getkeys
// procedures read numkeys: leading spaces, a sign, digits, then anything.
func cAtoi(b []byte) int {
	i := 0
	for i < len(b) && isCSpace(b[i]) {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	var v int64
	for ; i < len(b) && isDigit(b[i]); i++ {
		if v > math.MaxInt64/10 {
			v = math.MaxInt64 // strtol saturates
			break
		}
		v = v*10 + int64(b[i]-'0')
	}
	if neg {
		v = -v
	}
	return int(int32(v)) // atoi truncates strtol's long to int
}

// zsetNumkeysKeys extracts the keys of commands whose argument idx counts
// the keys that follow (ZUNION, ZINTER, ZDIFF, ZINTERCARD, ZMPOP, BZMPOP).
func zsetNumkeysKeys(idx int) func(argv [][]byte) []int {
	return func(argv [][]byte) []int {
		if idx >= len(argv) {
			return nil
		}
		n := cAtoi(argv[idx])
		if n < 1 || n > len(argv)-idx-1 {
			return nil
		}
		out := make([]int, n)
		for i := range out {
			out[i] = idx + 1 + i
		}
		return out
	}
}

// zsetStoreKeys extracts ZUNIONSTORE/ZINTERSTORE/ZDIFFSTORE's keys: the
// destination, then numkeys sources.
func zsetStoreKeys(argv [][]byte) []int {
	src := zsetNumkeysKeys(2)(argv)
	if src == nil {
		return nil
	}
	return append([]int{1}, src...)
}

// ---- pops ----

func zpopminCommand(c *Client) { c.zpopMinMax(false) }
func zpopmaxCommand(c *Client) { c.zpopMinMax(true) }

func (c *Client) zpopMinMax(max bool) {
	if len(c.argv) > 3 {
		c.SyntaxError()
		return
	}
	count := int64(-1)
	if len(c.argv) == 3 {
		v, ok := parseStrictInt(c.argv[2])
		if !ok || v < 0 {
			c.Error(errPositive)
			return
		}
		count = v
	}
	// RESP3 nests [member, score] pairs only when a count was given.
	nested := c.proto == 3 && count != -1
	c.zpopGeneric(c.argv[1:2], max, false, count, nested, false)
}

// zpopGeneric pops from the first existing key of keys (Redis's
// genericZpopCommand). emitKey prefixes the reply with the key; nested
// replies [member, score] pairs; nilWhenEmpty replies a null array rather
// than an empty one when no key exists. count -1 means one element.
func (c *Client) zpopGeneric(keys [][]byte, max, emitKey bool, count int64, nested, nilWhenEmpty bool) {
	var e *keyspace.Entry
	var key []byte
	for _, k := range keys {
		if e = c.lookupWrite(k); e == nil {
			continue
		}
		if !c.checkType(e, keyspace.TypeZSet) {
			return
		}
		key = k
		break
	}
	if e == nil {
		if nilWhenEmpty {
			c.NullArray()
		} else {
			c.Array(0)
		}
		return
	}
	if count == 0 {
		c.Array(0)
		return
	}
	popped := c.zpopReply(c.db, e, e.Agg().(*keyspace.ZSet), key, max, emitKey, count, nested)
	if emitKey { // ZMPOP: written as ZPOPMIN|ZPOPMAX key count
		c.rewritePropagation(zpopArgv(max, key, poppedCount(count, popped))...)
	}
}

// zpopReply pops up to count members (one when count is -1) from z at key
// in db, replies in the shape the flags select and returns what it popped.
func (c *Client) zpopReply(db *keyspace.DB, e *keyspace.Entry, z *keyspace.ZSet, key []byte, max, emitKey bool, count int64, nested bool) []zskiplist.Element {
	if count == -1 {
		count = 1
	}
	popped := z.Pop(int(min(count, int64(z.Len()))), max)
	n := len(popped)
	switch {
	case !nested && !emitKey: // ZPOPMIN (RESP2, or RESP3 without count)
		c.Array(2 * n)
	case nested && !emitKey: // ZPOPMIN count in RESP3
		c.Array(n)
	case !nested: // BZPOPMIN
		c.Array(2*n + 1)
		c.Bulk(key)
	default: // ZMPOP, BZMPOP
		c.Array(2)
		c.Bulk(key)
		c.Array(n)
	}
	for _, el := range popped {
		if nested {
			c.Array(2)
		}
		c.BulkString(el.Member)
		c.Double(el.Score)
	}
	zsetChanged(c, db, e, z, key)
	return popped
}

func bzpopminCommand(c *Client) { c.bzpopMinMax(false) }
func bzpopmaxCommand(c *Client) { c.bzpopMinMax(true) }

func (c *Client) bzpopMinMax(max bool) {
	last := len(c.argv) - 1
	c.blockingZpop(c.argv[1:last], max, last, -1, false)
}

// blockingZpop is BZPOPMIN/BZPOPMAX (count -1) and BZMPOP (nested, count
// >= 1), as Redis's blockingGenericZpopCommand: the timeout is parsed
// first, then the first non-empty key in argument order serves at once;
// otherwise the client blocks, or gets a null array where it may not.
func (c *Client) blockingZpop(keys [][]byte, max bool, timeoutIdx int, count int64, nested bool) {
	deadline, ok := c.parseBlockTimeout(c.argv[timeoutIdx])
	if !ok {
		return
	}
	for _, k := range keys {
		e := c.lookupWrite(k)
		z, ok := c.zsetOf(e)
		if !ok {
			return
		}
		if z == nil || z.Len() == 0 {
			continue
		}
		popped := c.zpopReply(c.db, e, z, k, max, true, count, nested)
		c.rewritePropagation(zpopArgv(max, k, poppedCount(count, popped))...)
		return
	}
	if !c.mayBlock() {
		c.NullArray()
		return
	}
	// The closure outlives c.argv: it captures only values.
	c.block(keys, deadline, func(w *Client, db *keyspace.DB, key []byte) (bool, func()) {
		e := db.Lookup(key, keyspace.LookupWrite|keyspace.LookupNoTouch)
		if e == nil || e.Type() != keyspace.TypeZSet {
			return false, nil
		}
		z := e.Agg().(*keyspace.ZSet)
		if z.Len() == 0 {
			return false, nil
		}
		popped := w.zpopReply(db, e, z, key, max, true, count, nested)
		w.srv.alsoPropagate(db.ID(), zpopArgv(max, key, poppedCount(count, popped))...)
		k := string(key)
		limits := w.srv.ks.Limits()
		return true, func() {
			restoreZSet(db, k, popped, limits)
			w.signalModified(db, []byte(k))
			argv := [][]byte{[]byte("ZADD"), []byte(k), []byte("NX")}
			for _, el := range popped {
				argv = append(argv, AppendDouble(nil, el.Score), []byte(el.Member))
			}
			w.srv.alsoPropagate(db.ID(), argv...)
		}
	})
}

// poppedCount is the COUNT a [B]ZMPOP is written with: how many members
// it popped (Redis 7.0 writes that, where list pops keep the count asked).
// -1 (BZPOPMIN/BZPOPMAX) stays -1: no COUNT.
func poppedCount(count int64, popped []zskiplist.Element) int64 {
	if count == -1 {
		return -1
	}
	return int64(len(popped))
}

// restoreZSet re-adds popped members with their scores (the undo of a
// served pop whose client vanished). Members re-added meanwhile keep their
// new score; a key that now holds another type is left alone.
func restoreZSet(db *keyspace.DB, key string, popped []zskiplist.Element, limits keyspace.Limits) {
	e := db.Lookup([]byte(key), keyspace.LookupWrite)
	if e != nil && e.Type() != keyspace.TypeZSet {
		return
	}
	var z *keyspace.ZSet
	if e == nil {
		z = keyspace.NewZSet()
		e = db.SetAggregate([]byte(key), keyspace.TypeZSet, z)
	} else {
		z = e.Agg().(*keyspace.ZSet)
	}
	for _, el := range popped {
		z.Add([]byte(el.Member), el.Score, keyspace.ZAddNX, limits)
	}
	db.Reaccount(e)
}

func zmpopCommand(c *Client)  { c.zmpopGeneric(1, false) }
func bzmpopCommand(c *Client) { c.zmpopGeneric(2, true) }

// zmpopGeneric is ZMPOP and BZMPOP (Redis's zmpopGenericCommand): numkeys
// at numkeysIdx, the keys, MIN|MAX, then an optional COUNT.
func (c *Client) zmpopGeneric(numkeysIdx int, blocking bool) {
	numkeys, ok := c.intArgRange(numkeysIdx, 1, math.MaxInt64, errZNumkeys)
	if !ok {
		return
	}
	if numkeys >= int64(len(c.argv)-numkeysIdx-1) {
		c.SyntaxError()
		return
	}
	whereIdx := numkeysIdx + int(numkeys) + 1
	var max bool
	switch {
	case optIs(c.argv[whereIdx], "min"):
	case optIs(c.argv[whereIdx], "max"):
		max = true
	default:
		c.SyntaxError()
		return
	}
	count := int64(-1)
	for j := whereIdx + 1; j < len(c.argv); j++ {
		if count == -1 && optIs(c.argv[j], "count") && j < len(c.argv)-1 {
			j++
			if count, ok = c.intArgRange(j, 1, math.MaxInt64, errZCount); !ok {
				return
			}
		} else {
			c.SyntaxError()
			return
		}
	}
	if count == -1 {
		count = 1
	}
	keys := c.argv[numkeysIdx+1 : whereIdx]
	if blocking {
		c.blockingZpop(keys, max, 1, count, true)
		return
	}
	c.zpopGeneric(keys, max, true, count, true, true)
}

// ---- ZUNION, ZINTER, ZDIFF ----

// Set operations and aggregates (Redis's SET_OP_* and REDIS_AGGR_*).
const (
	zopUnion = iota
	zopInter
	zopDiff
)

const (
	aggrSum = iota
	aggrMin
	aggrMax
)

// zsetSource is one input of a set operation (Redis's zsetopsrc).
type zsetSource struct {
	z      *keyspace.ZSet // a sorted set
	set    *keyspace.Set  // or a plain set, whose members score 1
	weight float64
}

func (s *zsetSource) len() int {
	switch {
	case s.z != nil:
		return s.z.Len()
	case s.set != nil:
		return s.set.Len()
	}
	return 0
}

// each visits the members with their scores until fn returns false.
func (s *zsetSource) each(fn func(m string, score float64) bool) {
	if s.z != nil {
		it, ok := s.z.Index().First()
		for ok && fn(it.Member(), it.Score()) {
			ok = it.Next()
		}
		return
	}
	if s.set != nil {
		for i, n := 0, s.set.Len(); i < n; i++ {
			if !fn(s.set.MemberString(i), 1) {
				return
			}
		}
	}
}

func (s *zsetSource) find(m string) (float64, bool) {
	switch {
	case s.z != nil:
		return s.z.Score([]byte(m))
	case s.set != nil:
		return 1, s.set.Contains([]byte(m))
	}
	return 0, false
}

// zaggregate folds val into target (Redis's zunionInterAggregate); a sum
// of +inf and -inf counts as 0.
func zaggregate(target, val float64, aggr int) float64 {
	switch aggr {
	case aggrMin:
		if val < target {
			return val
		}
		return target
	case aggrMax:
		if val > target {
			return val
		}
		return target
	}
	t := target + val
	if math.IsNaN(t) {
		return 0
	}
	return t
}

func zunionCommand(c *Client)      { c.zsetOpGeneric(nil, 1, zopUnion, false) }
func zinterCommand(c *Client)      { c.zsetOpGeneric(nil, 1, zopInter, false) }
func zdiffCommand(c *Client)       { c.zsetOpGeneric(nil, 1, zopDiff, false) }
func zintercardCommand(c *Client)  { c.zsetOpGeneric(nil, 1, zopInter, true) }
func zunionstoreCommand(c *Client) { c.zsetOpGeneric(c.argv[1], 2, zopUnion, false) }
func zinterstoreCommand(c *Client) { c.zsetOpGeneric(c.argv[1], 2, zopInter, false) }
func zdiffstoreCommand(c *Client)  { c.zsetOpGeneric(c.argv[1], 2, zopDiff, false) }

// zsetOpGeneric is Redis's zunionInterDiffGenericCommand: numkeys at
// numkeysIdx, the source keys (sorted or plain sets, type-checked before
// the options are read), then WEIGHTS, AGGREGATE, WITHSCORES or LIMIT as
// the command allows. dst is the STORE destination, nil to reply.
func (c *Client) zsetOpGeneric(dst []byte, numkeysIdx, op int, cardOnly bool) {
	setnum, ok := c.intArg(numkeysIdx)
	if !ok {
		return
	}
	if setnum < 1 {
		c.Error("ERR at least 1 input key is needed for '" + c.cmd.fullName + "' command")
		return
	}
	if setnum > int64(len(c.argv)-numkeysIdx-1) {
		c.SyntaxError()
		return
	}
	srcs := make([]zsetSource, setnum)
	j := numkeysIdx + 1
	for i := range srcs {
		srcs[i].weight = 1
		e := c.lookupRead(c.argv[j])
		j++
		if e == nil {
			continue
		}
		switch e.Type() {
		case keyspace.TypeZSet:
			srcs[i].z = e.Agg().(*keyspace.ZSet)
		case keyspace.TypeSet:
			srcs[i].set = e.Agg().(*keyspace.Set)
		default:
			c.Error(errWrongType)
			return
		}
	}
	aggr := aggrSum
	withScores := false
	var limit int64
	for j < len(c.argv) {
		left := len(c.argv) - j
		switch opt := c.argv[j]; {
		case op != zopDiff && !cardOnly && left >= int(setnum)+1 && optIs(opt, "weights"):
			j++
			for i := range srcs {
				w, ok := parseScore(c.argv[j])
				if !ok {
					c.Error(errZWeight)
					return
				}
				srcs[i].weight = w
				j++
			}
		case op != zopDiff && !cardOnly && left >= 2 && optIs(opt, "aggregate"):
			switch a := c.argv[j+1]; {
			case optIs(a, "sum"):
				aggr = aggrSum
			case optIs(a, "min"):
				aggr = aggrMin
			case optIs(a, "max"):
				aggr = aggrMax
			default:
				c.SyntaxError()
				return
			}
			j += 2
		case dst == nil && !cardOnly && optIs(opt, "withscores"):
			withScores = true
			j++
		case cardOnly && left >= 2 && optIs(opt, "limit"):
			v, ok := parseStrictInt(c.argv[j+1])
			if !ok || v < 0 {
				c.Error(errZLimitNeg)
				return
			}
			limit = v
			j += 2
		default:
			c.SyntaxError()
			return
		}
	}
	if op != zopDiff {
		// Smallest first, in a stable order: the order of a float sum is
		// observable, and glibc's qsort, which Redis uses, is a merge sort.
		slices.SortStableFunc(srcs, func(a, b zsetSource) int { return a.len() - b.len() })
	}
	var res *keyspace.ZSet
	if !cardOnly {
		res = keyspace.NewZSetResult()
	}
	var card int64
	switch op {
	case zopInter:
		if srcs[0].len() == 0 {
			break
		}
		srcs[0].each(func(m string, s float64) bool {
			score := srcs[0].weight * s
			if math.IsNaN(score) {
				score = 0
			}
			for k := 1; k < len(srcs); k++ {
				v, ok := srcs[k].find(m)
				if !ok {
					return true
				}
				score = zaggregate(score, v*srcs[k].weight, aggr)
			}
			if cardOnly {
				card++
				return limit == 0 || card < limit
			}
			res.Set(m, score)
			return true
		})
	case zopUnion:
		acc := make(map[string]float64, srcs[len(srcs)-1].len())
		for i := range srcs {
			src := &srcs[i]
			src.each(func(m string, s float64) bool {
				score := src.weight * s
				if math.IsNaN(score) {
					score = 0
				}
				if cur, ok := acc[m]; ok {
					acc[m] = zaggregate(cur, score, aggr)
				} else {
					acc[m] = score
				}
				return true
			})
		}
		for m, s := range acc {
			res.Set(m, s)
		}
	case zopDiff:
		if srcs[0].len() == 0 {
			break
		}
		srcs[0].each(func(m string, s float64) bool {
			for k := 1; k < len(srcs); k++ {
				if _, ok := srcs[k].find(m); ok {
					return true
				}
			}
			res.Set(m, s)
			return true
		})
	}
	switch {
	case dst != nil:
		c.storeZSet(dst, res)
	case cardOnly:
		c.Int(card)
	default:
		c.Array(c.scoredLen(res.Len(), withScores))
		it, ok := res.Index().First()
		for ; ok; ok = it.Next() {
			if withScores {
				c.replyScored(it.Member(), it.Score())
			} else {
				c.BulkString(it.Member())
			}
		}
	}
}

// ---- ZRANDMEMBER ----

func zrandmemberCommand(c *Client) {
	if len(c.argv) >= 3 {
		count, ok := c.intArgRange(2, -math.MaxInt64, math.MaxInt64, "")
		if !ok {
			return
		}
		withScores := false
		if len(c.argv) > 4 || len(c.argv) == 4 && !optIs(c.argv[3], "withscores") {
			c.SyntaxError()
			return
		}
		if len(c.argv) == 4 {
			withScores = true
			if count < -math.MaxInt64/2 || count > math.MaxInt64/2 {
				c.Error(errZRange)
				return
			}
		}
		c.zrandmemberWithCount(count, withScores)
		return
	}
	z, ok := c.zsetOf(c.lookupRead(c.argv[1]))
	switch {
	case !ok:
	case z == nil:
		c.Null()
	default:
		c.BulkString(z.Random().Member)
	}
}

func (c *Client) zrandmemberWithCount(count int64, withScores bool) {
	z, ok := c.zsetOf(c.lookupRead(c.argv[1]))
	if !ok {
		return
	}
	if z == nil || count == 0 {
		c.Array(0)
		return
	}
	emit := func(el zskiplist.Element) {
		if withScores {
			c.replyScored(el.Member, el.Score)
		} else {
			c.BulkString(el.Member)
		}
	}
	size := int64(z.Len())
	zsl := z.Index()
	switch {
	case count < 0 || count == 1:
		// Repetitions allowed: |count| independent picks.
		n := count
		if n < 0 {
			n = -n
		}
		c.Array(c.scoredLen(int(n), withScores))
		for ; n > 0; n-- {
			emit(z.Random())
		}
	case count >= size:
		// The whole set; a listpack is read from its tail, as Redis does.
		c.Array(c.scoredLen(int(size), withScores))
		for it, ok := zsl.Last(); ok; ok = it.Prev() {
			emit(it.Element())
		}
	default:
		// count distinct ranks, by a partial Fisher-Yates shuffle over a
		// sparse permutation of 0..size-1.
		c.Array(c.scoredLen(int(count), withScores))
		swapped := make(map[int64]int64, count)
		at := func(i int64) int64 {
			if v, ok := swapped[i]; ok {
				return v
			}
			return i
		}
		for i := int64(0); i < count; i++ {
			j := i + rand.Int64N(size-i)
			ri, rj := at(i), at(j)
			swapped[j] = ri
			el, _ := zsl.ByRank(int(rj))
			emit(el)
		}
	}
}

// ---- ZSCAN ----

func zscanCommand(c *Client) {
	cursor, ok := c.parseScanCursor(c.argv[2])
	if !ok {
		return
	}
	e := c.lookupRead(c.argv[1])
	if e == nil {
		c.Array(2)
		c.BulkString("0")
		c.Array(0)
		return
	}
	z, ok := c.zsetOf(e)
	if !ok {
		return
	}
	o, ok := c.parseScanOptions(3, false)
	if !ok {
		return
	}
	var els []zskiplist.Element
	var next uint64
	if z.IsListpack() {
		// A listpack is returned whole, in order, with cursor 0.
		els = make([]zskiplist.Element, 0, z.Len())
		for it, ok := z.Index().First(); ok; ok = it.Next() {
			els = append(els, it.Element())
		}
	} else {
		count := int(min(o.count, math.MaxInt32))
		els, next = z.Scan(cursor, count, nil)
	}
	if o.pattern != nil {
		kept := els[:0]
		for _, el := range els {
			if globMatch(o.pattern, []byte(el.Member), false) {
				kept = append(kept, el)
			}
		}
		els = kept
	}
	c.Array(2)
	c.Bulk(strconv.AppendUint(nil, next, 10))
	c.Array(2 * len(els))
	var tmp [32]byte
	for _, el := range els {
		c.BulkString(el.Member)
		if z.IsListpack() {
			c.Bulk(appendListpackScore(tmp[:0], el.Score))
		} else {
			c.Bulk(AppendDouble(tmp[:0], el.Score))
		}
	}
}

// appendListpackScore formats a score as a listpack stores it (Redis's
// d2string), which is what ZSCAN returns for a listpack: integral values up
// to 2^62 in magnitude as integers, anything else as "%.17g".
func appendListpackScore(dst []byte, f float64) []byte {
	if f >= -(1<<62) && f <= 1<<62 && f == math.Trunc(f) {
		return strconv.AppendInt(dst, int64(f), 10)
	}
	return AppendDouble(dst, f)
}
