package resp

import (
	"math"
	"strconv"

	"github.com/celerity/celerity/keyspace"
	"github.com/celerity/celerity/keyspace/zskiplist"
)

// Sorted-set commands (Redis's t_zset.c). This file holds the declarations,
// argument parsing and the single-key commands; the range family is in
// cmd_zset_range.go; the pops, the set operations, ZRANDMEMBER and ZSCAN
// are in cmd_zset_ops.go.

func zsetCommands() []*Command {
	return []*Command{
		{Name: "zadd", Arity: -4, Flags: Write | DenyOOM | Fast, ACL: CatSortedSet, Keys: KeyPos{1, 1, 1}, Run: zaddCommand},
		{Name: "zincrby", Arity: 4, Flags: Write | DenyOOM | Fast, ACL: CatSortedSet, Keys: KeyPos{1, 1, 1}, Run: zincrbyCommand},
		{Name: "zrem", Arity: -3, Flags: Write | Fast, ACL: CatSortedSet, Keys: KeyPos{1, 1, 1}, Run: zremCommand},
		{Name: "zremrangebyscore", Arity: 4, Flags: Write, ACL: CatSortedSet, Keys: KeyPos{1, 1, 1}, Run: zremrangebyscoreCommand},
		{Name: "zremrangebyrank", Arity: 4, Flags: Write, ACL: CatSortedSet, Keys: KeyPos{1, 1, 1}, Run: zremrangebyrankCommand},
		{Name: "zremrangebylex", Arity: 4, Flags: Write, ACL: CatSortedSet, Keys: KeyPos{1, 1, 1}, Run: zremrangebylexCommand},
		{Name: "zunionstore", Arity: -4, Flags: Write | DenyOOM, ACL: CatSortedSet, Keys: KeyPos{1, 1, 1}, GetKeys: zsetStoreKeys, Run: zunionstoreCommand},
		{Name: "zinterstore", Arity: -4, Flags: Write | DenyOOM, ACL: CatSortedSet, Keys: KeyPos{1, 1, 1}, GetKeys: zsetStoreKeys, Run: zinterstoreCommand},
		{Name: "zdiffstore", Arity: -4, Flags: Write | DenyOOM, ACL: CatSortedSet, Keys: KeyPos{1, 1, 1}, GetKeys: zsetStoreKeys, Run: zdiffstoreCommand},
		{Name: "zunion", Arity: -3, Flags: Readonly, ACL: CatSortedSet, GetKeys: zsetNumkeysKeys(1), Run: zunionCommand},
		{Name: "zinter", Arity: -3, Flags: Readonly, ACL: CatSortedSet, GetKeys: zsetNumkeysKeys(1), Run: zinterCommand},
		{Name: "zintercard", Arity: -3, Flags: Readonly, ACL: CatSortedSet, GetKeys: zsetNumkeysKeys(1), Run: zintercardCommand},
		{Name: "zdiff", Arity: -3, Flags: Readonly, ACL: CatSortedSet, GetKeys: zsetNumkeysKeys(1), Run: zdiffCommand},
		{Name: "zrange", Arity: -4, Flags: Readonly, ACL: CatSortedSet, Keys: KeyPos{1, 1, 1}, Run: zrangeCommand},
		{Name: "zrangestore", Arity: -5, Flags: Write | DenyOOM, ACL: CatSortedSet, Keys: KeyPos{1, 2, 1}, Run: zrangestoreCommand},
		{Name: "zrangebyscore", Arity: -4, Flags: Readonly, ACL: CatSortedSet, Keys: KeyPos{1, 1, 1}, Run: zrangebyscoreCommand},
		{Name: "zrevrangebyscore", Arity: -4, Flags: Readonly, ACL: CatSortedSet, Keys: KeyPos{1, 1, 1}, Run: zrevrangebyscoreCommand},
		{Name: "zrangebylex", Arity: -4, Flags: Readonly, ACL: CatSortedSet, Keys: KeyPos{1, 1, 1}, Run: zrangebylexCommand},
		{Name: "zrevrangebylex", Arity: -4, Flags: Readonly, ACL: CatSortedSet, Keys: KeyPos{1, 1, 1}, Run: zrevrangebylexCommand},
		{Name: "zcount", Arity: 4, Flags: Readonly | Fast, ACL: CatSortedSet, Keys: KeyPos{1, 1, 1}, Run: zcountCommand},
		{Name: "zlexcount", Arity: 4, Flags: Readonly | Fast, ACL: CatSortedSet, Keys: KeyPos{1, 1, 1}, Run: zlexcountCommand},
		{Name: "zrevrange", Arity: -4, Flags: Readonly, ACL: CatSortedSet, Keys: KeyPos{1, 1, 1}, Run: zrevrangeCommand},
		{Name: "zcard", Arity: 2, Flags: Readonly | Fast, ACL: CatSortedSet, Keys: KeyPos{1, 1, 1}, Run: zcardCommand},
		{Name: "zscore", Arity: 3, Flags: Readonly | Fast, ACL: CatSortedSet, Keys: KeyPos{1, 1, 1}, Run: zscoreCommand},
		{Name: "zmscore", Arity: -3, Flags: Readonly | Fast, ACL: CatSortedSet, Keys: KeyPos{1, 1, 1}, Run: zmscoreCommand},
		{Name: "zrank", Arity: 3, Flags: Readonly | Fast, ACL: CatSortedSet, Keys: KeyPos{1, 1, 1}, Run: zrankCommand},
		{Name: "zrevrank", Arity: 3, Flags: Readonly | Fast, ACL: CatSortedSet, Keys: KeyPos{1, 1, 1}, Run: zrevrankCommand},
		{Name: "zscan", Arity: -3, Flags: Readonly, ACL: CatSortedSet, Keys: KeyPos{1, 1, 1}, Run: zscanCommand},
		{Name: "zpopmin", Arity: -2, Flags: Write | Fast, ACL: CatSortedSet, Keys: KeyPos{1, 1, 1}, Run: zpopminCommand},
		{Name: "zpopmax", Arity: -2, Flags: Write | Fast, ACL: CatSortedSet, Keys: KeyPos{1, 1, 1}, Run: zpopmaxCommand},
		{Name: "bzpopmin", Arity: -3, Flags: Write | NoScript | Blocking | Fast, ACL: CatSortedSet, Keys: KeyPos{1, -2, 1}, Run: bzpopminCommand},
		{Name: "bzpopmax", Arity: -3, Flags: Write | NoScript | Blocking | Fast, ACL: CatSortedSet, Keys: KeyPos{1, -2, 1}, Run: bzpopmaxCommand},
		{Name: "zmpop", Arity: -4, Flags: Write, ACL: CatSortedSet, GetKeys: zsetNumkeysKeys(1), Run: zmpopCommand},
		{Name: "bzmpop", Arity: -5, Flags: Write | Blocking, ACL: CatSortedSet, GetKeys: zsetNumkeysKeys(2), Run: bzmpopCommand},
		{Name: "zrandmember", Arity: -2, Flags: Readonly, ACL: CatSortedSet, Keys: KeyPos{1, 1, 1}, Run: zrandmemberCommand},
	}
}

// Error texts only the sorted-set commands use.
const (
	errZNaN         = "ERR resulting score is not a number (NaN)"
	errZMinMaxFloat = "ERR min or max is not a float"
	errZMinMaxLex   = "ERR min or max not valid string range item"
	errZXXNX        = "ERR XX and NX options at the same time are not compatible"
	errZGTLTNX      = "ERR GT, LT, and/or NX options at the same time are not compatible"
	errZIncrPair    = "ERR INCR option supports a single increment-element pair"
	errZLimitRank   = "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
	errZScoresLex   = "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
	errZWeight      = "ERR weight value is not a float"
	errZLimitNeg    = "ERR LIMIT can't be negative"
	errZNumkeys     = "ERR numkeys should be greater than 0"
	errZCount       = "ERR count should be greater than 0"
	errZRange       = "ERR value is out of range"
)

// ---- number parsing ----

// isCSpace is C's isspace in the C locale.
func isCSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\v' || b == '\f' || b == '\r'
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

func isHexDigit(b byte) bool {
	return isDigit(b) || 'a' <= b|0x20 && b|0x20 <= 'f'
}

func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if s[i]|0x20 != prefix[i] {
			return false
		}
	}
	return true
}

// strtod emulates glibc's strtod in the C locale: the value of the longest
// prefix of s that reads as a number (after optional white space), the
// length n of that prefix (0 when nothing converts, as C leaves endptr at
// the start) and whether the result overflowed to infinity or underflowed
// to zero (errno ERANGE). Decimal and hexadecimal forms, inf, infinity and
// nan[(chars)] are accepted, case-insensitively.
func strtod(s string) (v float64, n int, rangeErr bool) {
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	start := i
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	sign := func(f float64) float64 {
		if neg {
			return -f
		}
		return f
	}
	rest := s[i:]
	switch {
	case hasPrefixFold(rest, "infinity"):
		return sign(math.Inf(1)), i + 8, false
	case hasPrefixFold(rest, "inf"):
		return sign(math.Inf(1)), i + 3, false
	case hasPrefixFold(rest, "nan"):
		j := i + 3
		if j < len(s) && s[j] == '(' {
			k := j + 1
			for k < len(s) && (isDigit(s[k]) || 'a' <= s[k]|0x20 && s[k]|0x20 <= 'z' || s[k] == '_') {
				k++
			}
			if k < len(s) && s[k] == ')' {
				j = k + 1
			}
		}
		return math.NaN(), j, false
	}
	hex := len(rest) >= 2 && rest[0] == '0' && rest[1]|0x20 == 'x'
	digit, expChar := isDigit, byte('e')
	j := i
	if hex {
		digit, expChar = isHexDigit, 'p'
		j += 2
	}
	digits, nonZero := 0, false
	for ; j < len(s) && digit(s[j]); j++ {
		digits++
		nonZero = nonZero || s[j] != '0'
	}
	if j < len(s) && s[j] == '.' {
		for j++; j < len(s) && digit(s[j]); j++ {
			digits++
			nonZero = nonZero || s[j] != '0'
		}
	}
	if digits == 0 {
		if hex {
			// "0x" without hex digits reads as the number 0.
			return sign(0), i + 1, false
		}
		return 0, 0, false
	}
	mantEnd := j
	if j < len(s) && s[j]|0x20 == expChar {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && isDigit(s[k]) {
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			j = k
		}
	}
	text := s[start:j]
	if hex && j == mantEnd {
		text += "p0" // Go wants the binary exponent of a hex float
	}
	v, err := strconv.ParseFloat(text, 64)
	if err != nil && !math.IsInf(v, 0) {
		// Not reachable for the grammar above; read as no conversion.
		return 0, 0, false
	}
	return v, j, math.IsInf(v, 0) || (v == 0 && nonZero)
}

// parseScore parses a score, weight or increment as Redis's
// getDoubleFromObject: the whole argument must be a number, without
// leading space, not NaN, and not out of the double range.
func parseScore(b []byte) (float64, bool) {
	s := string(b)
	if s == "" || isCSpace(s[0]) {
		return 0, false
	}
	v, n, rangeErr := strtod(s)
	if n != len(s) || rangeErr || math.IsNaN(v) {
		return 0, false
	}
	return v, true
}

// parseScoreBound parses one end of a score range as Redis's zslParseRange:
// "(" marks it exclusive; strtod must stop at the end of the argument (or
// at a NUL byte, since Redis reads a C string); NaN is refused. Unlike
// scores, out-of-range values and leading spaces are accepted.
func parseScoreBound(b []byte) (v float64, exclusive, ok bool) {
	s := string(b)
	if s != "" && s[0] == '(' {
		exclusive = true
		s = s[1:]
	}
	v, n, _ := strtod(s)
	if n < len(s) && s[n] != 0 || math.IsNaN(v) {
		return 0, false, false
	}
	return v, exclusive, true
}

func parseScoreRange(min, max []byte) (zskiplist.ScoreRange, bool) {
	var r zskiplist.ScoreRange
	var ok bool
	if r.Min, r.MinEx, ok = parseScoreBound(min); !ok {
		return r, false
	}
	if r.Max, r.MaxEx, ok = parseScoreBound(max); !ok {
		return r, false
	}
	return r, true
}

// parseLexRange parses a ZRANGEBYLEX interval as Redis's zslParseLexRange,
// where "+" and "-" are read as C strings (a NUL may follow them).
func parseLexRange(min, max []byte) (zskiplist.LexRange, bool) {
	var r zskiplist.LexRange
	var ok bool
	if r.Min, ok = parseLexItem(min); !ok {
		return r, false
	}
	r.Max, ok = parseLexItem(max)
	return r, ok
}

func parseLexItem(b []byte) (zskiplist.LexBound, bool) {
	s := string(b)
	if len(s) > 1 && (s[0] == '+' || s[0] == '-') && s[1] == 0 {
		s = s[:1]
	}
	return zskiplist.ParseLexBound(s)
}

// ---- lookups ----

// zsetOf returns e's sorted set, replying WRONGTYPE (ok false) when e holds
// another type; a nil e gives a nil set and ok true.
func (c *Client) zsetOf(e *keyspace.Entry) (*keyspace.ZSet, bool) {
	if e == nil {
		return nil, true
	}
	if e.Type() != keyspace.TypeZSet {
		c.Error(errWrongType)
		return nil, false
	}
	return e.Agg().(*keyspace.ZSet), true
}

// zsetChanged accounts for an in-place change of e's set: the key goes when
// the set is empty; the change is signalled either way.
func zsetChanged(c *Client, db *keyspace.DB, e *keyspace.Entry, z *keyspace.ZSet, key []byte) {
	if z.Len() == 0 {
		db.DeleteEntry(e)
	} else {
		db.Reaccount(e)
	}
	c.signalModified(db, key)
}

// replyScored writes one member with its score for the ZRANGE family and
// friends: a [member, score] pair in RESP3, two flat elements in RESP2.
func (c *Client) replyScored(m string, score float64) {
	if c.proto == 3 {
		c.Array(2)
	}
	c.BulkString(m)
	c.Double(score)
}

// scoredLen is the array length of n members, with scores or not.
func (c *Client) scoredLen(n int, withScores bool) int {
	if withScores && c.proto != 3 {
		return 2 * n
	}
	return n
}

// ---- ZADD, ZINCRBY, ZREM ----

func zaddCommand(c *Client)    { c.zaddGeneric(0) }
func zincrbyCommand(c *Client) { c.zaddGeneric(keyspace.ZAddIncr) }

// zaddGeneric is ZADD and ZINCRBY (which reads ZADD's options too, as
// Redis's zaddGenericCommand does).
func (c *Client) zaddGeneric(flags keyspace.ZAddFlags) {
	ch := false
	idx := 2
options:
	for ; idx < len(c.argv); idx++ {
		switch opt := c.argv[idx]; {
		case optIs(opt, "nx"):
			flags |= keyspace.ZAddNX
		case optIs(opt, "xx"):
			flags |= keyspace.ZAddXX
		case optIs(opt, "ch"):
			ch = true
		case optIs(opt, "incr"):
			flags |= keyspace.ZAddIncr
		case optIs(opt, "gt"):
			flags |= keyspace.ZAddGT
		case optIs(opt, "lt"):
			flags |= keyspace.ZAddLT
		default:
			break options
		}
	}
	elements := len(c.argv) - idx
	if elements == 0 || elements%2 != 0 {
		c.SyntaxError()
		return
	}
	elements /= 2
	has := func(f keyspace.ZAddFlags) bool { return flags&f != 0 }
	if has(keyspace.ZAddNX) && has(keyspace.ZAddXX) {
		c.Error(errZXXNX)
		return
	}
	if has(keyspace.ZAddNX) && (has(keyspace.ZAddGT) || has(keyspace.ZAddLT)) || has(keyspace.ZAddGT) && has(keyspace.ZAddLT) {
		c.Error(errZGTLTNX)
		return
	}
	incr := has(keyspace.ZAddIncr)
	if incr && elements > 1 {
		c.Error(errZIncrPair)
		return
	}
	scores := make([]float64, elements)
	for j := range scores {
		v, ok := parseScore(c.argv[idx+2*j])
		if !ok {
			c.Error(errNotFloat)
			return
		}
		scores[j] = v
	}
	key := c.argv[1]
	e := c.lookupWrite(key)
	z, ok := c.zsetOf(e)
	if !ok {
		return
	}
	var added, updated, processed int64
	var score float64
	if z == nil && !has(keyspace.ZAddXX) {
		z = keyspace.NewZSet()
		e = c.db.SetAggregate(key, keyspace.TypeZSet, z)
	}
	if z != nil {
		limits := c.srv.ks.Limits()
		for j, s := range scores {
			newScore, res := z.Add(c.argv[idx+2*j+1], s, flags, limits)
			switch res {
			case keyspace.ZAddNaN:
				c.Error(errZNaN)
				c.zaddDone(e, z, key, added+updated)
				return
			case keyspace.ZAddAdded:
				added++
			case keyspace.ZAddUpdated:
				updated++
			}
			if res != keyspace.ZAddNop {
				processed++
			}
			score = newScore
		}
		c.zaddDone(e, z, key, added+updated)
	}
	switch {
	case incr && processed > 0:
		c.Double(score)
	case incr:
		c.Null()
	case ch:
		c.Int(added + updated)
	default:
		c.Int(added)
	}
}

// zaddDone accounts for ZADD's changes to the set.
func (c *Client) zaddDone(e *keyspace.Entry, z *keyspace.ZSet, key []byte, changed int64) {
	if z.Len() == 0 {
		c.db.DeleteEntry(e) // cannot happen: a new key always gets its member
		return
	}
	c.db.Reaccount(e)
	if changed > 0 {
		c.signalModified(c.db, key)
	}
}

func zremCommand(c *Client) {
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
	var deleted int64
	for _, m := range c.argv[2:] {
		if z.Remove(m) {
			deleted++
			if z.Len() == 0 {
				break
			}
		}
	}
	if deleted > 0 {
		zsetChanged(c, c.db, e, z, key)
	}
	c.Int(deleted)
}

// ---- single-member reads ----

func zcardCommand(c *Client) {
	z, ok := c.zsetOf(c.lookupRead(c.argv[1]))
	switch {
	case !ok:
	case z == nil:
		c.Int(0)
	default:
		c.Int(int64(z.Len()))
	}
}

func zscoreCommand(c *Client) {
	z, ok := c.zsetOf(c.lookupRead(c.argv[1]))
	if !ok {
		return
	}
	if z == nil {
		c.Null()
		return
	}
	if s, found := z.Score(c.argv[2]); found {
		c.Double(s)
	} else {
		c.Null()
	}
}

func zmscoreCommand(c *Client) {
	z, ok := c.zsetOf(c.lookupRead(c.argv[1]))
	if !ok {
		return
	}
	c.Array(len(c.argv) - 2)
	for _, m := range c.argv[2:] {
		if z == nil {
			c.Null()
		} else if s, found := z.Score(m); found {
			c.Double(s)
		} else {
			c.Null()
		}
	}
}

func zrankCommand(c *Client)    { c.zrankGeneric(false) }
func zrevrankCommand(c *Client) { c.zrankGeneric(true) }

func (c *Client) zrankGeneric(reverse bool) {
	z, ok := c.zsetOf(c.lookupRead(c.argv[1]))
	if !ok {
		return
	}
	if z == nil {
		c.Null()
		return
	}
	if r, found := z.Rank(c.argv[2], reverse); found {
		c.Int(int64(r))
	} else {
		c.Null()
	}
}

func zcountCommand(c *Client) {
	r, ok := parseScoreRange(c.argv[2], c.argv[3])
	if !ok {
		c.Error(errZMinMaxFloat)
		return
	}
	z, ok := c.zsetOf(c.lookupRead(c.argv[1]))
	switch {
	case !ok:
	case z == nil:
		c.Int(0)
	default:
		c.Int(int64(z.Index().CountInScoreRange(r)))
	}
}

func zlexcountCommand(c *Client) {
	r, ok := parseLexRange(c.argv[2], c.argv[3])
	if !ok {
		c.Error(errZMinMaxLex)
		return
	}
	z, ok := c.zsetOf(c.lookupRead(c.argv[1]))
	switch {
	case !ok:
	case z == nil:
		c.Int(0)
	default:
		_, n := lexRun(z, r)
		c.Int(int64(n))
	}
}
