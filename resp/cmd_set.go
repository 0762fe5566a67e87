package resp

import (
	"math"
	"strconv"

	"github.com/celerity/celerity/keyspace"
)

func setCommands() []*Command {
	return []*Command{
		{Name: "sadd", Arity: -3, Flags: Write | DenyOOM | Fast, ACL: CatSet, Keys: KeyPos{1, 1, 1}, Run: saddCommand},
		{Name: "srem", Arity: -3, Flags: Write | Fast, ACL: CatSet, Keys: KeyPos{1, 1, 1}, Run: sremCommand},
		{Name: "smove", Arity: 4, Flags: Write | Fast, ACL: CatSet, Keys: KeyPos{1, 2, 1}, Run: smoveCommand},
		{Name: "sismember", Arity: 3, Flags: Readonly | Fast, ACL: CatSet, Keys: KeyPos{1, 1, 1}, Run: sismemberCommand},
		{Name: "smismember", Arity: -3, Flags: Readonly | Fast, ACL: CatSet, Keys: KeyPos{1, 1, 1}, Run: smismemberCommand},
		{Name: "scard", Arity: 2, Flags: Readonly | Fast, ACL: CatSet, Keys: KeyPos{1, 1, 1}, Run: scardCommand},
		{Name: "spop", Arity: -2, Flags: Write | Fast, ACL: CatSet, Keys: KeyPos{1, 1, 1}, Run: spopCommand},
		{Name: "srandmember", Arity: -2, Flags: Readonly, ACL: CatSet, Keys: KeyPos{1, 1, 1}, Run: srandmemberCommand},
		{Name: "smembers", Arity: 2, Flags: Readonly, ACL: CatSet, Keys: KeyPos{1, 1, 1}, Run: sinterCommand},
		{Name: "sinter", Arity: -2, Flags: Readonly, ACL: CatSet, Keys: KeyPos{1, -1, 1}, Run: sinterCommand},
		{Name: "sintercard", Arity: -3, Flags: Readonly, ACL: CatSet, GetKeys: sintercardGetKeys, Run: sintercardCommand},
		{Name: "sinterstore", Arity: -3, Flags: Write | DenyOOM, ACL: CatSet, Keys: KeyPos{1, -1, 1}, Run: sinterstoreCommand},
		{Name: "sunion", Arity: -2, Flags: Readonly, ACL: CatSet, Keys: KeyPos{1, -1, 1}, Run: sunionCommand},
		{Name: "sunionstore", Arity: -3, Flags: Write | DenyOOM, ACL: CatSet, Keys: KeyPos{1, -1, 1}, Run: sunionstoreCommand},
		{Name: "sdiff", Arity: -2, Flags: Readonly, ACL: CatSet, Keys: KeyPos{1, -1, 1}, Run: sdiffCommand},
		{Name: "sdiffstore", Arity: -3, Flags: Write | DenyOOM, ACL: CatSet, Keys: KeyPos{1, -1, 1}, Run: sdiffstoreCommand},
		{Name: "sscan", Arity: -3, Flags: Readonly, ACL: CatSet, Keys: KeyPos{1, 1, 1}, Run: sscanCommand},
	}
}

// sintercardGetKeys finds SINTERCARD's keys from its numkeys argument
// (nil when numkeys is invalid, as Redis's keynum key spec).
func sintercardGetKeys(argv [][]byte) []int {
	if len(argv) < 2 {
		return nil
	}
	n, ok := parseStrictInt(argv[1])
	if !ok || n < 1 || n > int64(len(argv)-2) {
		return nil
	}
	keys := make([]int, n)
	for i := range keys {
		keys[i] = 2 + i
	}
	return keys
}

// readSet looks key up for reading (lookupWrite when forWrite). It returns
// nil without replying when the key is missing, and ok false after replying
// WRONGTYPE.
func (c *Client) readSet(key []byte, forWrite bool) (s *keyspace.Set, e *keyspace.Entry, ok bool) {
	if forWrite {
		e = c.lookupWrite(key)
	} else {
		e = c.lookupRead(key)
	}
	if e == nil {
		return nil, nil, true
	}
	if !c.checkType(e, keyspace.TypeSet) {
		return nil, nil, false
	}
	return e.Agg().(*keyspace.Set), e, true
}

// commitSet records an in-place change to the set stored at e, deleting
// the key when the set became empty.
func (c *Client) commitSet(key []byte, s *keyspace.Set, e *keyspace.Entry) {
	if s.Len() == 0 {
		c.db.DeleteEntry(e)
	} else {
		c.db.Reaccount(e)
	}
	c.signalModified(c.db, key)
}

// setMember replies with member i of s.
func (c *Client) setMember(s *keyspace.Set, i int) {
	str, n, isInt := s.Member(i)
	if isInt {
		c.BulkInt(n)
	} else {
		c.BulkString(str)
	}
}

// replyWholeSet replies with every member of s as a RESP3 set.
func (c *Client) replyWholeSet(s *keyspace.Set) {
	c.Set(s.Len())
	for i := 0; i < s.Len(); i++ {
		c.setMember(s, i)
	}
}

func saddCommand(c *Client) {
	key := c.argv[1]
	s, e, ok := c.readSet(key, true)
	if !ok {
		return
	}
	if s == nil {
		s = keyspace.NewSet()
	}
	lim := c.srv.ks.Limits()
	var added int64
	for _, m := range c.argv[2:] {
		if s.Add(m, lim) {
			added++
		}
	}
	if e == nil {
		c.db.SetAggregate(key, keyspace.TypeSet, s)
		c.signalModified(c.db, key)
	} else if added > 0 {
		c.commitSet(key, s, e)
	}
	c.Int(added)
}

func sremCommand(c *Client) {
	key := c.argv[1]
	s, e, ok := c.readSet(key, true)
	if !ok {
		return
	}
	if s == nil {
		c.Int(0)
		return
	}
	var removed int64
	for _, m := range c.argv[2:] {
		if s.Remove(m) {
			removed++
			if s.Len() == 0 {
				break
			}
		}
	}
	if removed > 0 {
		c.commitSet(key, s, e)
	}
	c.Int(removed)
}

func smoveCommand(c *Client) {
	srcKey, dstKey, m := c.argv[1], c.argv[2], c.argv[3]
	src := c.lookupWrite(srcKey)
	dst := c.lookupWrite(dstKey)
	if src == nil {
		c.Int(0)
		return
	}
	if !c.checkType(src, keyspace.TypeSet) || !c.checkType(dst, keyspace.TypeSet) {
		return
	}
	ss := src.Agg().(*keyspace.Set)
	if src == dst {
		c.Int(boolInt(ss.Contains(m)))
		return
	}
	if !ss.Remove(m) {
		c.Int(0)
		return
	}
	c.commitSet(srcKey, ss, src)
	lim := c.srv.ks.Limits()
	if dst == nil {
		ds := keyspace.NewSet()
		ds.Add(m, lim)
		c.db.SetAggregate(dstKey, keyspace.TypeSet, ds)
		c.signalModified(c.db, dstKey)
	} else {
		ds := dst.Agg().(*keyspace.Set)
		if ds.Add(m, lim) {
			c.db.Reaccount(dst)
			c.signalModified(c.db, dstKey)
		}
	}
	c.Int(1)
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func sismemberCommand(c *Client) {
	s, _, ok := c.readSet(c.argv[1], false)
	if !ok {
		return
	}
	c.Int(boolInt(s != nil && s.Contains(c.argv[2])))
}

func smismemberCommand(c *Client) {
	s, _, ok := c.readSet(c.argv[1], false)
	if !ok {
		return
	}
	c.Array(len(c.argv) - 2)
	for _, m := range c.argv[2:] {
		c.Int(boolInt(s != nil && s.Contains(m)))
	}
}

func scardCommand(c *Client) {
	s, _, ok := c.readSet(c.argv[1], false)
	if !ok {
		return
	}
	if s == nil {
		c.Int(0)
		return
	}
	c.Int(int64(s.Len()))
}

func spopCommand(c *Client) {
	switch {
	case len(c.argv) == 3:
		c.spopWithCount()
		return
	case len(c.argv) > 3:
		c.SyntaxError()
		return
	}
	key := c.argv[1]
	s, e, ok := c.readSet(key, true)
	if !ok {
		return
	}
	if s == nil {
		c.Null()
		return
	}
	i := keyspace.RandomIndex(s.Len())
	c.setMember(s, i)
	if c.srv.prop.on {
		// The replay must remove the member this run chose.
		c.rewritePropagation(argSREM, key, []byte(s.MemberString(i)))
	}
	s.RemoveAt(i)
	c.commitSet(key, s, e)
}

func (c *Client) spopWithCount() {
	count, ok := parseStrictInt(c.argv[2])
	if !ok || count < 0 {
		c.Error(errPositive)
		return
	}
	key := c.argv[1]
	s, e, ok := c.readSet(key, true)
	if !ok {
		return
	}
	if s == nil || count == 0 {
		c.Set(0)
		return
	}
	lim := c.srv.ks.Limits()
	if count >= int64(s.Len()) {
		// The whole set, in the order of a SUNION of it: Redis runs
		// SUNION's code here, whose read lookup also counts a keyspace hit.
		c.lookupRead(key)
		c.replyWholeSet(keyspace.SetUnion([]*keyspace.Set{s}, lim))
		c.db.DeleteEntry(e)
		c.signalModified(c.db, key)
		c.rewritePropagation(argDEL, key)
		return
	}
	c.Set(int(count))
	prop := c.srv.prop.on
	dbID := c.db.ID()
	s.PopRandom(int(count), lim, func(str string, n int64, isInt bool) {
		if isInt {
			c.BulkInt(n)
		} else {
			c.BulkString(str)
		}
		if prop {
			// Redis 7.0 writes one SREM per popped member.
			m := []byte(str)
			if isInt {
				m = itoaArg(n)
			}
			c.srv.alsoPropagate(dbID, argSREM, key, m)
		}
	})
	c.preventPropagation()
	c.commitSet(key, s, e)
}

func srandmemberCommand(c *Client) {
	switch {
	case len(c.argv) == 3:
		c.srandmemberWithCount()
		return
	case len(c.argv) > 3:
		c.SyntaxError()
		return
	}
	s, _, ok := c.readSet(c.argv[1], false)
	if !ok {
		return
	}
	if s == nil {
		c.Null()
		return
	}
	c.setMember(s, keyspace.RandomIndex(s.Len()))
}

func (c *Client) srandmemberWithCount() {
	l, ok := c.intArgRange(2, -math.MaxInt64, math.MaxInt64, "")
	if !ok {
		return
	}
	s, _, ok := c.readSet(c.argv[1], false)
	if !ok {
		return
	}
	if s == nil || l == 0 {
		c.Array(0)
		return
	}
	size := s.Len()
	switch {
	case l < 0:
		// Repeats allowed.
		c.Array(int(-l))
		for ; l < 0; l++ {
			c.setMember(s, keyspace.RandomIndex(size))
		}
	case l >= int64(size):
		c.Array(size)
		for i := 0; i < size; i++ {
			c.setMember(s, i)
		}
	default:
		idx := keyspace.UniqueRandomIndexes(size, int(l))
		c.Array(len(idx))
		for _, i := range idx {
			c.setMember(s, i)
		}
	}
}

// collectSets looks up every key as a set (nil for a missing key),
// replying WRONGTYPE and reporting false when one is not a set. The STORE
// variants read their sources like the others (Redis 7.0.15 counts their
// keyspace hits and misses).
func (c *Client) collectSets(keys [][]byte) ([]*keyspace.Set, bool) {
	sets := make([]*keyspace.Set, len(keys))
	for i, k := range keys {
		s, _, ok := c.readSet(k, false)
		if !ok {
			return nil, false
		}
		sets[i] = s
	}
	return sets, true
}

// storeSet stores a computed set at dst, overwriting any value (and its
// TTL), or deletes dst when the set is empty; replies with the size.
func (c *Client) storeSet(dst []byte, s *keyspace.Set) {
	if s.Len() == 0 {
		if c.db.Delete(dst) {
			c.signalModified(c.db, dst)
		}
		c.Int(0)
		return
	}
	c.db.SetAggregate(dst, keyspace.TypeSet, s)
	c.signalModified(c.db, dst)
	c.Int(int64(s.Len()))
}

// sinterCommand serves SINTER and SMEMBERS (as in Redis).
func sinterCommand(c *Client) {
	sets, ok := c.collectSets(c.argv[1:])
	if !ok {
		return
	}
	if anyMissing(sets) {
		c.Set(0)
		return
	}
	if len(sets) == 1 {
		// SMEMBERS (Kombu's routing lookup on every publish).
		c.replyWholeSet(sets[0])
		return
	}
	var base *keyspace.Set
	var idx []int
	keyspace.SetInter(sets, func(b *keyspace.Set, i int) bool {
		base = b
		idx = append(idx, i)
		return true
	})
	c.Set(len(idx))
	for _, i := range idx {
		c.setMember(base, i)
	}
}

func anyMissing(sets []*keyspace.Set) bool {
	for _, s := range sets {
		if s == nil {
			return true
		}
	}
	return false
}

func sintercardCommand(c *Client) {
	numkeys, ok := c.intArgRange(1, 1, math.MaxInt64, "ERR numkeys should be greater than 0")
	if !ok {
		return
	}
	if numkeys > int64(len(c.argv)-2) {
		c.Error("ERR Number of keys can't be greater than number of args")
		return
	}
	var limit int64
	for j := 2 + int(numkeys); j < len(c.argv); j++ {
		if optIs(c.argv[j], "limit") && j < len(c.argv)-1 {
			j++
			v, ok := parseStrictInt(c.argv[j])
			if !ok || v < 0 {
				c.Error("ERR LIMIT can't be negative")
				return
			}
			limit = v
		} else {
			c.SyntaxError()
			return
		}
	}
	sets, ok := c.collectSets(c.argv[2 : 2+numkeys])
	if !ok {
		return
	}
	var n int64
	if !anyMissing(sets) {
		keyspace.SetInter(sets, func(*keyspace.Set, int) bool {
			n++
			return limit == 0 || n < limit
		})
	}
	c.Int(n)
}

func sinterstoreCommand(c *Client) {
	sets, ok := c.collectSets(c.argv[2:])
	if !ok {
		return
	}
	out := keyspace.NewSet()
	if !anyMissing(sets) {
		out = keyspace.InterStore(sets, c.srv.ks.Limits())
	}
	c.storeSet(c.argv[1], out)
}

func sunionCommand(c *Client)      { c.sunionDiffGeneric(false, false) }
func sunionstoreCommand(c *Client) { c.sunionDiffGeneric(false, true) }
func sdiffCommand(c *Client)       { c.sunionDiffGeneric(true, false) }
func sdiffstoreCommand(c *Client)  { c.sunionDiffGeneric(true, true) }

func (c *Client) sunionDiffGeneric(diff, store bool) {
	keys := c.argv[1:]
	if store {
		keys = c.argv[2:]
	}
	sets, ok := c.collectSets(keys)
	if !ok {
		return
	}
	lim := c.srv.ks.Limits()
	var out *keyspace.Set
	if diff {
		out = keyspace.SetDiff(sets, lim)
	} else {
		out = keyspace.SetUnion(sets, lim)
	}
	if store {
		c.storeSet(c.argv[1], out)
		return
	}
	c.replyWholeSet(out)
}

func sscanCommand(c *Client) {
	cursor, ok := c.parseScanCursor(c.argv[2])
	if !ok {
		return
	}
	s, _, ok := c.readSet(c.argv[1], false)
	if !ok {
		return
	}
	if s == nil {
		c.replyEmptyScan()
		return
	}
	o, ok := c.parseScanOptions(3, false)
	if !ok {
		return
	}
	var out []int
	var tmp []byte
	next := s.Scan(cursor, scanCount(o), func(i int) {
		if o.pattern != nil {
			str, n, isInt := s.Member(i)
			if isInt {
				tmp = strconv.AppendInt(tmp[:0], n, 10)
			} else {
				tmp = append(tmp[:0], str...)
			}
			if !globMatch(o.pattern, tmp, false) {
				return
			}
		}
		out = append(out, i)
	})
	c.Array(2)
	c.Bulk(strconv.AppendUint(nil, next, 10))
	c.Array(len(out))
	for _, i := range out {
		c.setMember(s, i)
	}
}
