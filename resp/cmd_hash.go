package resp

import (
	"math"
	"math/big"
	"slices"
	"strconv"

	"github.com/celerity/celerity/keyspace"
)

// Error texts only the hash commands use.
const (
	errHashNotInteger   = "ERR hash value is not an integer"
	errHashNotFloat     = "ERR hash value is not a float"
	errHashIncrNaNOrInf = "ERR value is NaN or Infinity"
	errHashCountRange   = "ERR value is out of range"
)

func hashCommands() []*Command {
	return []*Command{
		{Name: "hset", Arity: -4, Flags: Write | DenyOOM | Fast, ACL: CatHash, Keys: KeyPos{1, 1, 1}, Run: hsetCommand},
		{Name: "hsetnx", Arity: 4, Flags: Write | DenyOOM | Fast, ACL: CatHash, Keys: KeyPos{1, 1, 1}, Run: hsetnxCommand},
		{Name: "hmset", Arity: -4, Flags: Write | DenyOOM | Fast, ACL: CatHash, Keys: KeyPos{1, 1, 1}, Run: hsetCommand},
		{Name: "hget", Arity: 3, Flags: Readonly | Fast, ACL: CatHash, Keys: KeyPos{1, 1, 1}, Run: hgetCommand},
		{Name: "hmget", Arity: -3, Flags: Readonly | Fast, ACL: CatHash, Keys: KeyPos{1, 1, 1}, Run: hmgetCommand},
		{Name: "hdel", Arity: -3, Flags: Write | Fast, ACL: CatHash, Keys: KeyPos{1, 1, 1}, Run: hdelCommand},
		{Name: "hlen", Arity: 2, Flags: Readonly | Fast, ACL: CatHash, Keys: KeyPos{1, 1, 1}, Run: hlenCommand},
		{Name: "hexists", Arity: 3, Flags: Readonly | Fast, ACL: CatHash, Keys: KeyPos{1, 1, 1}, Run: hexistsCommand},
		{Name: "hstrlen", Arity: 3, Flags: Readonly | Fast, ACL: CatHash, Keys: KeyPos{1, 1, 1}, Run: hstrlenCommand},
		{Name: "hgetall", Arity: 2, Flags: Readonly, ACL: CatHash, Keys: KeyPos{1, 1, 1}, Run: hgetallCommand},
		{Name: "hkeys", Arity: 2, Flags: Readonly, ACL: CatHash, Keys: KeyPos{1, 1, 1}, Run: hkeysCommand},
		{Name: "hvals", Arity: 2, Flags: Readonly, ACL: CatHash, Keys: KeyPos{1, 1, 1}, Run: hvalsCommand},
		{Name: "hincrby", Arity: 4, Flags: Write | DenyOOM | Fast, ACL: CatHash, Keys: KeyPos{1, 1, 1}, Run: hincrbyCommand},
		{Name: "hincrbyfloat", Arity: 4, Flags: Write | DenyOOM | Fast, ACL: CatHash, Keys: KeyPos{1, 1, 1}, Run: hincrbyfloatCommand},
		{Name: "hrandfield", Arity: -2, Flags: Readonly, ACL: CatHash, Keys: KeyPos{1, 1, 1}, Run: hrandfieldCommand},
		{Name: "hscan", Arity: -3, Flags: Readonly, ACL: CatHash, Keys: KeyPos{1, 1, 1}, Run: hscanCommand},
	}
}

// readHash looks key up for reading. It returns nil without replying when
// the key is missing, and nil after replying WRONGTYPE (ok false).
func (c *Client) readHash(key []byte) (h *keyspace.Hash, ok bool) {
	e := c.lookupRead(key)
	if e == nil {
		return nil, true
	}
	if !c.checkType(e, keyspace.TypeHash) {
		return nil, false
	}
	return e.Agg().(*keyspace.Hash), true
}

// writeHash looks key up for a write. A missing key yields a new, not yet
// stored hash (e nil): commitHash stores it, so a command that fails
// halfway leaves no empty key behind.
func (c *Client) writeHash(key []byte) (h *keyspace.Hash, e *keyspace.Entry, ok bool) {
	e = c.lookupWrite(key)
	if e == nil {
		return keyspace.NewHash(), nil, true
	}
	if !c.checkType(e, keyspace.TypeHash) {
		return nil, nil, false
	}
	return e.Agg().(*keyspace.Hash), e, true
}

// commitHash records a change made to a hash obtained from writeHash.
func (c *Client) commitHash(key []byte, h *keyspace.Hash, e *keyspace.Entry) {
	switch {
	case h.Len() == 0 && e != nil:
		c.db.DeleteEntry(e)
	case e == nil:
		c.db.SetAggregate(key, keyspace.TypeHash, h)
	default:
		c.db.Reaccount(e)
	}
	c.signalModified(c.db, key)
}

// hsetCommand serves HSET and HMSET.
func hsetCommand(c *Client) {
	if len(c.argv)%2 == 1 {
		c.WrongArgs()
		return
	}
	key := c.argv[1]
	h, e, ok := c.writeHash(key)
	if !ok {
		return
	}
	lim := c.srv.ks.Limits()
	h.ConvertForArgs(c.argv[2:], lim)
	var created int64
	for j := 2; j < len(c.argv); j += 2 {
		if h.Set(c.argv[j], string(c.argv[j+1]), lim) {
			created++
		}
	}
	c.commitHash(key, h, e)
	if c.cmd.Name == "hmset" {
		c.OK()
	} else {
		c.Int(created)
	}
}

func hsetnxCommand(c *Client) {
	key, field := c.argv[1], c.argv[2]
	h, e, ok := c.writeHash(key)
	if !ok {
		return
	}
	if h.Has(field) {
		c.Int(0)
		return
	}
	lim := c.srv.ks.Limits()
	h.ConvertForArgs(c.argv[2:4], lim)
	h.Set(field, string(c.argv[3]), lim)
	c.commitHash(key, h, e)
	c.Int(1)
}

func hgetCommand(c *Client) {
	h, ok := c.readHash(c.argv[1])
	if !ok {
		return
	}
	if h != nil {
		if v, found := h.Get(c.argv[2]); found {
			c.BulkString(v)
			return
		}
	}
	c.Null()
}

func hmgetCommand(c *Client) {
	h, ok := c.readHash(c.argv[1])
	if !ok {
		return
	}
	c.Array(len(c.argv) - 2)
	for _, f := range c.argv[2:] {
		if h != nil {
			if v, found := h.Get(f); found {
				c.BulkString(v)
				continue
			}
		}
		c.Null()
	}
}

func hdelCommand(c *Client) {
	key := c.argv[1]
	e := c.lookupWrite(key)
	if e == nil {
		c.Int(0)
		return
	}
	if !c.checkType(e, keyspace.TypeHash) {
		return
	}
	h := e.Agg().(*keyspace.Hash)
	var deleted int64
	for _, f := range c.argv[2:] {
		if h.Delete(f) {
			deleted++
			if h.Len() == 0 {
				break
			}
		}
	}
	if deleted > 0 {
		c.commitHash(key, h, e)
	}
	c.Int(deleted)
}

func hlenCommand(c *Client) {
	h, ok := c.readHash(c.argv[1])
	if !ok {
		return
	}
	if h == nil {
		c.Int(0)
		return
	}
	c.Int(int64(h.Len()))
}

func hexistsCommand(c *Client) {
	h, ok := c.readHash(c.argv[1])
	if !ok {
		return
	}
	if h != nil && h.Has(c.argv[2]) {
		c.Int(1)
	} else {
		c.Int(0)
	}
}

func hstrlenCommand(c *Client) {
	h, ok := c.readHash(c.argv[1])
	if !ok {
		return
	}
	var n int
	if h != nil {
		v, _ := h.Get(c.argv[2])
		n = len(v)
	}
	c.Int(int64(n))
}

// Bits of what hgetallGeneric replies with.
const (
	hashFields = 1 << iota
	hashValues
)

func hgetallCommand(c *Client) { c.hgetallGeneric(hashFields | hashValues) }
func hkeysCommand(c *Client)   { c.hgetallGeneric(hashFields) }
func hvalsCommand(c *Client)   { c.hgetallGeneric(hashValues) }

func (c *Client) hgetallGeneric(what int) {
	h, ok := c.readHash(c.argv[1])
	if !ok {
		return
	}
	var pairs []keyspace.HashPair
	if h != nil {
		pairs = h.Pairs()
	}
	if what == hashFields|hashValues {
		c.Map(len(pairs))
	} else {
		c.Array(len(pairs))
	}
	for _, p := range pairs {
		if what&hashFields != 0 {
			c.BulkString(p.Field)
		}
		if what&hashValues != 0 {
			c.BulkString(p.Value)
		}
	}
}

func hincrbyCommand(c *Client) {
	incr, ok := c.intArg(3)
	if !ok {
		return
	}
	key, field := c.argv[1], c.argv[2]
	h, e, ok := c.writeHash(key)
	if !ok {
		return
	}
	var v int64
	if cur, found := h.Get(field); found {
		if v, ok = parseIntString(cur); !ok {
			c.Error(errHashNotInteger)
			return
		}
	}
	if incr < 0 && v < 0 && incr < math.MinInt64-v || incr > 0 && v > 0 && incr > math.MaxInt64-v {
		c.Error(errOverflow)
		return
	}
	v += incr
	h.Set(field, strconv.FormatInt(v, 10), c.srv.ks.Limits())
	c.commitHash(key, h, e)
	c.Int(v)
}

// parseIntString is parseStrictInt for a stored string; strings longer
// than any integer are rejected without converting.
func parseIntString(s string) (int64, bool) {
	if len(s) > 20 {
		return 0, false
	}
	return parseStrictInt([]byte(s))
}

func hincrbyfloatCommand(c *Client) {
	incr, inf, ok := parseLongDouble(c.argv[3])
	if !ok {
		c.Error(errNotFloat)
		return
	}
	if inf {
		c.Error(errHashIncrNaNOrInf)
		return
	}
	key, field := c.argv[1], c.argv[2]
	h, e, ok := c.writeHash(key)
	if !ok {
		return
	}
	cur := new(big.Float).SetPrec(ldPrec)
	if s, found := h.Get(field); found {
		v, inf, ok := parseLongDouble([]byte(s))
		if !ok {
			c.Error(errHashNotFloat)
			return
		}
		if inf {
			// Inf plus any finite increment stays infinite.
			c.Error(errNaNOrInf)
			return
		}
		cur = v
	}
	sum := new(big.Float).SetPrec(ldPrec).SetMode(big.ToNearestEven).Add(cur, incr)
	if ldOverflows(sum) {
		c.Error(errNaNOrInf)
		return
	}
	out := formatLongDoubleHuman(sum)
	h.Set(field, out, c.srv.ks.Limits())
	c.commitHash(key, h, e)
	c.BulkString(out)
	c.rewritePropagation(argHSET, key, c.argv[2], []byte(out))
}

func hrandfieldCommand(c *Client) {
	if len(c.argv) == 2 {
		h, ok := c.readHash(c.argv[1])
		if !ok {
			return
		}
		if h == nil {
			c.Null()
			return
		}
		c.BulkString(h.Pairs()[keyspace.RandomIndex(h.Len())].Field)
		return
	}
	l, ok := c.intArgRange(2, -math.MaxInt64, math.MaxInt64, "")
	if !ok {
		return
	}
	withValues := false
	switch {
	case len(c.argv) > 4 || len(c.argv) == 4 && !optIs(c.argv[3], "withvalues"):
		c.SyntaxError()
		return
	case len(c.argv) == 4:
		withValues = true
		if l < -math.MaxInt64/2 || l > math.MaxInt64/2 {
			c.Error(errHashCountRange)
			return
		}
	}
	h, ok := c.readHash(c.argv[1])
	if !ok {
		return
	}
	if h == nil || l == 0 {
		c.Array(0)
		return
	}
	pairs := h.Pairs()
	reply := func(n int, pick func(i int) int) {
		switch {
		case withValues && c.proto == 3:
			c.Array(n)
		case withValues:
			c.Array(2 * n)
		default:
			c.Array(n)
		}
		for i := 0; i < n; i++ {
			p := pairs[pick(i)]
			if withValues && c.proto == 3 {
				c.Array(2)
			}
			c.BulkString(p.Field)
			if withValues {
				c.BulkString(p.Value)
			}
		}
	}
	switch {
	case l < 0:
		// Repeats allowed.
		reply(int(-l), func(int) int { return keyspace.RandomIndex(len(pairs)) })
	case l >= int64(len(pairs)):
		reply(len(pairs), func(i int) int { return i })
	default:
		idx := keyspace.UniqueRandomIndexes(len(pairs), int(l))
		if h.IsListpack() {
			// Redis samples a listpack in its own order.
			slices.Sort(idx)
		}
		reply(len(idx), func(i int) int { return idx[i] })
	}
}

func hscanCommand(c *Client) {
	cursor, ok := c.parseScanCursor(c.argv[2])
	if !ok {
		return
	}
	h, ok := c.readHash(c.argv[1])
	if !ok {
		return
	}
	if h == nil {
		c.replyEmptyScan()
		return
	}
	o, ok := c.parseScanOptions(3, false)
	if !ok {
		return
	}
	var out []keyspace.HashPair
	var tmp []byte
	next := h.Scan(cursor, scanCount(o), func(p keyspace.HashPair) {
		if o.pattern != nil {
			tmp = append(tmp[:0], p.Field...)
			if !globMatch(o.pattern, tmp, false) {
				return
			}
		}
		out = append(out, p)
	})
	c.Array(2)
	c.Bulk(strconv.AppendUint(nil, next, 10))
	c.Array(2 * len(out))
	for _, p := range out {
		c.BulkString(p.Field)
		c.BulkString(p.Value)
	}
}

// replyEmptyScan is the reply of HSCAN/SSCAN on a missing key.
func (c *Client) replyEmptyScan() {
	c.Array(2)
	c.BulkString("0")
	c.Array(0)
}

// scanCount clamps a COUNT option to an int.
func scanCount(o scanOptions) int {
	return int(min(o.count, math.MaxInt32))
}
