package resp

import (
	"math"
	"time"

	"github.com/celerity/celerity/keyspace"
)

func listCommands() []*Command {
	return []*Command{
		{Name: "lpush", Arity: -3, Flags: Write | DenyOOM | Fast, ACL: CatList, Keys: KeyPos{1, 1, 1}, Run: lpushCommand},
		{Name: "rpush", Arity: -3, Flags: Write | DenyOOM | Fast, ACL: CatList, Keys: KeyPos{1, 1, 1}, Run: rpushCommand},
		{Name: "lpushx", Arity: -3, Flags: Write | DenyOOM | Fast, ACL: CatList, Keys: KeyPos{1, 1, 1}, Run: lpushxCommand},
		{Name: "rpushx", Arity: -3, Flags: Write | DenyOOM | Fast, ACL: CatList, Keys: KeyPos{1, 1, 1}, Run: rpushxCommand},
		{Name: "lpop", Arity: -2, Flags: Write | Fast, ACL: CatList, Keys: KeyPos{1, 1, 1}, Run: lpopCommand},
		{Name: "rpop", Arity: -2, Flags: Write | Fast, ACL: CatList, Keys: KeyPos{1, 1, 1}, Run: rpopCommand},
		{Name: "llen", Arity: 2, Flags: Readonly | Fast, ACL: CatList, Keys: KeyPos{1, 1, 1}, Run: llenCommand},
		{Name: "lrange", Arity: 4, Flags: Readonly, ACL: CatList, Keys: KeyPos{1, 1, 1}, Run: lrangeCommand},
		{Name: "lindex", Arity: 3, Flags: Readonly, ACL: CatList, Keys: KeyPos{1, 1, 1}, Run: lindexCommand},
		{Name: "lset", Arity: 4, Flags: Write | DenyOOM, ACL: CatList, Keys: KeyPos{1, 1, 1}, Run: lsetCommand},
		{Name: "linsert", Arity: 5, Flags: Write | DenyOOM, ACL: CatList, Keys: KeyPos{1, 1, 1}, Run: linsertCommand},
		{Name: "lrem", Arity: 4, Flags: Write, ACL: CatList, Keys: KeyPos{1, 1, 1}, Run: lremCommand},
		{Name: "ltrim", Arity: 4, Flags: Write, ACL: CatList, Keys: KeyPos{1, 1, 1}, Run: ltrimCommand},
		{Name: "lpos", Arity: -3, Flags: Readonly, ACL: CatList, Keys: KeyPos{1, 1, 1}, Run: lposCommand},
		{Name: "lmove", Arity: 5, Flags: Write | DenyOOM, ACL: CatList, Keys: KeyPos{1, 2, 1}, Run: lmoveCommand},
		{Name: "rpoplpush", Arity: 3, Flags: Write | DenyOOM, ACL: CatList, Keys: KeyPos{1, 2, 1}, Run: rpoplpushCommand},
		{Name: "lmpop", Arity: -4, Flags: Write, ACL: CatList, GetKeys: numkeysKeys(1), Run: lmpopCommand},
		{Name: "blpop", Arity: -3, Flags: Write | NoScript | Blocking, ACL: CatList, Keys: KeyPos{1, -2, 1}, Run: blpopCommand},
		{Name: "brpop", Arity: -3, Flags: Write | NoScript | Blocking, ACL: CatList, Keys: KeyPos{1, -2, 1}, Run: brpopCommand},
		{Name: "blmove", Arity: 6, Flags: Write | DenyOOM | NoScript | Blocking, ACL: CatList, Keys: KeyPos{1, 2, 1}, Run: blmoveCommand},
		{Name: "brpoplpush", Arity: 4, Flags: Write | DenyOOM | NoScript | Blocking, ACL: CatList, Keys: KeyPos{1, 2, 1}, Run: brpoplpushCommand},
		{Name: "blmpop", Arity: -5, Flags: Write | Blocking, ACL: CatList, GetKeys: numkeysKeys(2), Run: blmpopCommand},
	}
}

// numkeysKeys returns a key extractor for commands whose argument at idx
// counts the keys that follow it (LMPOP, BLMPOP, ZUNION...).
func numkeysKeys(idx int) func(argv [][]byte) []int {
	return func(argv [][]byte) []int {
		if idx >= len(argv) {
			return nil
		}
		n, ok := parseStrictInt(argv[idx])
		if !ok || n <= 0 || n > int64(len(argv)-idx-1) {
			return nil
		}
		out := make([]int, n)
		for i := range out {
			out[i] = idx + 1 + i
		}
		return out
	}
}

// Where an element is pushed or popped.
const (
	listHead = iota
	listTail
)

// listWrite and listRead look a key up for a list command (as a write or
// a read), replying WRONGTYPE for other types; ok is false after an error
// reply, and e is nil for a missing key.
func (c *Client) listWrite(key []byte) (e *keyspace.Entry, l *keyspace.List, ok bool) {
	return c.asList(c.lookupWrite(key))
}

func (c *Client) listRead(key []byte) (e *keyspace.Entry, l *keyspace.List, ok bool) {
	return c.asList(c.lookupRead(key))
}

func (c *Client) asList(e *keyspace.Entry) (*keyspace.Entry, *keyspace.List, bool) {
	if e == nil {
		return nil, nil, true
	}
	if e.Type() != keyspace.TypeList {
		c.Error(errWrongType)
		return nil, nil, false
	}
	return e, e.Agg().(*keyspace.List), true
}

// listPush pushes onto db's list at key, creating it when missing.
func listPush(db *keyspace.DB, e *keyspace.Entry, key []byte, vals [][]byte, where int) (*keyspace.Entry, *keyspace.List) {
	var l *keyspace.List
	if e == nil {
		l = keyspace.NewList()
		e = db.SetAggregate(key, keyspace.TypeList, l)
	} else {
		l = e.Agg().(*keyspace.List)
	}
	for _, v := range vals {
		if where == listHead {
			l.PushHead(v)
		} else {
			l.PushTail(v)
		}
	}
	db.Reaccount(e)
	return e, l
}

func lpushCommand(c *Client)  { c.pushGeneric(listHead, false) }
func rpushCommand(c *Client)  { c.pushGeneric(listTail, false) }
func lpushxCommand(c *Client) { c.pushGeneric(listHead, true) }
func rpushxCommand(c *Client) { c.pushGeneric(listTail, true) }

func (c *Client) pushGeneric(where int, xx bool) {
	key := c.argv[1]
	e, _, ok := c.listWrite(key)
	if !ok {
		return
	}
	if e == nil && xx {
		c.Int(0)
		return
	}
	_, l := listPush(c.db, e, key, c.argv[2:], where)
	c.signalModified(c.db, key)
	c.Int(int64(l.Len()))
}

// listPop removes one element, deleting the key when the list empties.
// The returned slice is owned by the caller.
func listPop(db *keyspace.DB, e *keyspace.Entry, l *keyspace.List, where int) []byte {
	var v []byte
	if where == listHead {
		v, _ = l.PopHead()
	} else {
		v, _ = l.PopTail()
	}
	if l.Len() == 0 {
		db.DeleteEntry(e)
	} else {
		db.Reaccount(e)
	}
	return v
}

func lpopCommand(c *Client) { c.popGeneric(listHead) }
func rpopCommand(c *Client) { c.popGeneric(listTail) }

func (c *Client) popGeneric(where int) {
	if len(c.argv) > 3 {
		c.WrongArgs()
		return
	}
	hasCount := len(c.argv) == 3
	var count int64
	if hasCount {
		// Redis's getPositiveLongFromObjectOrReply: one message for both a
		// non-number and a negative number.
		v, ok := parseStrictInt(c.argv[2])
		if !ok || v < 0 {
			c.Error(errPositive)
			return
		}
		count = v
	}
	key := c.argv[1]
	e, l, ok := c.listWrite(key)
	if !ok {
		return
	}
	if e == nil {
		if hasCount {
			c.NullArray()
		} else {
			c.Null()
		}
		return
	}
	if !hasCount {
		// Pop straight into the reply buffer: no copy of the message.
		c.popInto(l, where)
		c.afterPop(e, l, key)
		return
	}
	if count == 0 {
		c.Array(0)
		return
	}
	n := min(count, int64(l.Len()))
	c.Array(int(n))
	for i := int64(0); i < n; i++ {
		c.popInto(l, where)
	}
	c.afterPop(e, l, key)
}

// popInto pops one element straight into the reply buffer as a bulk
// string: the message is copied once, from the list to the socket buffer.
func (c *Client) popInto(l *keyspace.List, where int) {
	idx := 0
	if where == listTail {
		idx = -1
	}
	v, _ := l.Index(idx)
	c.header('$', int64(len(v)))
	if where == listHead {
		c.buf, _ = l.PopHeadAppend(c.buf)
	} else {
		c.buf, _ = l.PopTailAppend(c.buf)
	}
	c.buf = append(c.buf, '\r', '\n')
}

// afterPop deletes an emptied list and signals the change.
func (c *Client) afterPop(e *keyspace.Entry, l *keyspace.List, key []byte) {
	if l.Len() == 0 {
		c.db.DeleteEntry(e)
	} else {
		c.db.Reaccount(e)
	}
	c.signalModified(c.db, key)
}

func llenCommand(c *Client) {
	e, l, ok := c.listRead(c.argv[1])
	if !ok {
		return
	}
	if e == nil {
		c.Int(0)
		return
	}
	c.Int(int64(l.Len()))
}

func lrangeCommand(c *Client) {
	start, ok := c.intArg(2)
	if !ok {
		return
	}
	end, ok := c.intArg(3)
	if !ok {
		return
	}
	e, l, ok := c.listRead(c.argv[1])
	if !ok {
		return
	}
	if e == nil {
		c.Array(0)
		return
	}
	from, to, ok := normalizeRankRange(start, end, l.Len())
	if !ok {
		c.Array(0)
		return
	}
	c.Array(to - from + 1)
	l.Range(from, to, func(v []byte) bool {
		c.Bulk(v)
		return true
	})
}

func lindexCommand(c *Client) {
	// The key is looked up before the index is parsed, as Redis does: a
	// missing key answers null even for a malformed index.
	e, l, ok := c.listRead(c.argv[1])
	if !ok {
		return
	}
	if e == nil {
		c.Null()
		return
	}
	idx, ok := c.intArg(2)
	if !ok {
		return
	}
	v, found := l.Index(int(idx))
	if !found {
		c.Null()
		return
	}
	c.Bulk(v)
}

func lsetCommand(c *Client) {
	key := c.argv[1]
	e, l, ok := c.listWrite(key)
	if !ok {
		return
	}
	if e == nil {
		c.Error(errNoSuchKey)
		return
	}
	idx, ok := c.intArg(2)
	if !ok {
		return
	}
	if !l.Set(int(idx), c.argv[3]) {
		c.Error("ERR index out of range")
		return
	}
	c.db.Reaccount(e)
	c.signalModified(c.db, key)
	c.OK()
}

func linsertCommand(c *Client) {
	var after bool
	switch {
	case optIs(c.argv[2], "after"):
		after = true
	case optIs(c.argv[2], "before"):
	default:
		c.SyntaxError()
		return
	}
	key := c.argv[1]
	e, l, ok := c.listWrite(key)
	if !ok {
		return
	}
	if e == nil {
		c.Int(0)
		return
	}
	n := l.Insert(c.argv[3], c.argv[4], after)
	if n < 0 {
		c.Int(-1)
		return
	}
	c.db.Reaccount(e)
	c.signalModified(c.db, key)
	c.Int(int64(n))
}

func lremCommand(c *Client) {
	count, ok := c.intArg(2)
	if !ok {
		return
	}
	key := c.argv[1]
	e, l, ok := c.listWrite(key)
	if !ok {
		return
	}
	if e == nil {
		c.Int(0)
		return
	}
	cnt := count
	if cnt > math.MaxInt32 {
		cnt = math.MaxInt32
	} else if cnt < math.MinInt32 {
		cnt = math.MinInt32
	}
	removed := l.Remove(c.argv[3], int(cnt))
	if removed > 0 {
		c.afterPop(e, l, key)
	}
	c.Int(int64(removed))
}

func ltrimCommand(c *Client) {
	start, ok := c.intArg(2)
	if !ok {
		return
	}
	end, ok := c.intArg(3)
	if !ok {
		return
	}
	key := c.argv[1]
	e, l, ok := c.listWrite(key)
	if !ok {
		return
	}
	if e == nil {
		c.OK()
		return
	}
	if from, to, ok := normalizeRankRange(start, end, l.Len()); ok {
		l.Trim(from, to)
	} else {
		l.Trim(1, 0) // out of range: the list empties
	}
	c.afterPop(e, l, key)
	c.OK()
}

func lposCommand(c *Client) {
	rank, count, maxlen := int64(1), int64(-1), int64(0)
	for j := 3; j < len(c.argv); j++ {
		more := len(c.argv) - 1 - j
		switch {
		case optIs(c.argv[j], "rank") && more > 0:
			j++
			v, ok := c.intArg(j)
			if !ok {
				return
			}
			if v == 0 {
				c.Error("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
				return
			}
			rank = v
		case optIs(c.argv[j], "count") && more > 0:
			j++
			v, ok := c.positiveArg(j, "ERR COUNT can't be negative")
			if !ok {
				return
			}
			count = v
		case optIs(c.argv[j], "maxlen") && more > 0:
			j++
			v, ok := c.positiveArg(j, "ERR MAXLEN can't be negative")
			if !ok {
				return
			}
			maxlen = v
		default:
			c.SyntaxError()
			return
		}
	}
	// As in Redis, negating LLONG_MIN wraps and stays negative: every
	// match then satisfies the rank, from the tail.
	reverse := rank < 0
	if reverse {
		rank = -rank
	}
	e, l, ok := c.listRead(c.argv[1])
	if !ok {
		return
	}
	if e == nil {
		if count != -1 {
			c.Array(0)
		} else {
			c.Null()
		}
		return
	}
	n := int64(l.Len())
	var d Deferred
	if count != -1 {
		d = c.DeferLen()
	}
	var index, matches, found int64
	matchIndex := int64(-1)
	visit := func(v []byte) bool {
		if maxlen != 0 && index >= maxlen {
			return false
		}
		if string(v) == string(c.argv[2]) {
			matches++
			pos := index
			if reverse {
				pos = n - index - 1
			}
			if matches >= rank {
				if count != -1 {
					found++
					c.Int(pos)
					if count != 0 && matches-rank+1 >= count {
						return false
					}
				} else {
					matchIndex = pos
					return false
				}
			}
		}
		index++
		return true
	}
	if reverse {
		l.RangeReverse(0, int(n)-1, visit)
	} else {
		l.Range(0, int(n)-1, visit)
	}
	if count != -1 {
		c.SetArrayLen(d, int(found))
		return
	}
	if matchIndex >= 0 {
		c.Int(matchIndex)
	} else {
		c.Null()
	}
}

// positiveArg parses a non-negative long, with msg for negative values
// (Redis's getPositiveLongFromObjectOrReply).
func (c *Client) positiveArg(i int, msg string) (int64, bool) {
	v, ok := parseStrictInt(c.argv[i])
	if !ok || v < 0 {
		c.Error(msg)
		return 0, false
	}
	return v, true
}

// listWhere parses LEFT|RIGHT.
func (c *Client) listWhere(arg []byte) (int, bool) {
	switch {
	case optIs(arg, "left"):
		return listHead, true
	case optIs(arg, "right"):
		return listTail, true
	}
	c.SyntaxError()
	return 0, false
}

func lmoveCommand(c *Client) {
	from, ok := c.listWhere(c.argv[3])
	if !ok {
		return
	}
	to, ok := c.listWhere(c.argv[4])
	if !ok {
		return
	}
	c.lmoveGeneric(from, to)
}

func rpoplpushCommand(c *Client) { c.lmoveGeneric(listTail, listHead) }

func (c *Client) lmoveGeneric(from, to int) {
	src := c.argv[1]
	se, sl, ok := c.listWrite(src)
	if !ok {
		return
	}
	if se == nil {
		c.Null()
		return
	}
	if !c.moveElement(c.db, se, sl, src, c.argv[2], from, to) {
		return
	}
}

// moveElement pops from src and pushes onto dst, replying with the element
// (LMOVE and a served BLMOVE). It replies WRONGTYPE and moves nothing when
// dst holds another type.
func (c *Client) moveElement(db *keyspace.DB, se *keyspace.Entry, sl *keyspace.List, src, dst []byte, from, to int) bool {
	de := db.Lookup(dst, keyspace.LookupWrite)
	if de != nil && de.Type() != keyspace.TypeList {
		c.Error(errWrongType)
		return false
	}
	var v []byte
	if from == listHead {
		v, _ = sl.PopHead()
	} else {
		v, _ = sl.PopTail()
	}
	listPush(db, de, dst, [][]byte{v}, to)
	c.signalModified(db, dst)
	c.Bulk(v)
	if sl.Len() == 0 {
		db.DeleteEntry(se)
	} else {
		db.Reaccount(se)
	}
	c.signalModified(db, src)
	return true
}

func lmpopCommand(c *Client)  { c.lmpopGeneric(1, false) }
func blmpopCommand(c *Client) { c.lmpopGeneric(2, true) }

func (c *Client) lmpopGeneric(numkeysIdx int, blocking bool) {
	numkeys, ok := c.intArgRange(numkeysIdx, 1, math.MaxInt64, "ERR numkeys should be greater than 0")
	if !ok {
		return
	}
	whereIdx := int64(numkeysIdx) + numkeys + 1
	if whereIdx >= int64(len(c.argv)) {
		c.SyntaxError()
		return
	}
	where, ok := c.listWhere(c.argv[whereIdx])
	if !ok {
		return
	}
	count := int64(-1)
	for j := int(whereIdx) + 1; j < len(c.argv); j++ {
		if count == -1 && optIs(c.argv[j], "count") && len(c.argv)-1-j > 0 {
			j++
			v, ok := c.intArgRange(j, 1, math.MaxInt64, "ERR count should be greater than 0")
			if !ok {
				return
			}
			count = v
		} else {
			c.SyntaxError()
			return
		}
	}
	if count == -1 {
		count = 1
	}
	keys := c.argv[numkeysIdx+1 : int(whereIdx)]
	if blocking {
		c.blockingPop(keys, where, 1, count)
		return
	}
	for _, k := range keys {
		e, l, ok := c.listWrite(k)
		if !ok {
			return
		}
		if e == nil {
			continue
		}
		// Written with the number popped, as Redis 7.0 does.
		n := c.popRangeWithKey(c.db, e, l, k, where, count)
		c.rewritePropagation(listPopArgv(where, k, n)...)
		return
	}
	c.NullArray()
}

// popRangeWithKey replies [key, [elements...]] popping up to count, and
// returns how many it popped.
func (c *Client) popRangeWithKey(db *keyspace.DB, e *keyspace.Entry, l *keyspace.List, key []byte, where int, count int64) int64 {
	n := min(count, int64(l.Len()))
	c.Array(2)
	c.Bulk(key)
	c.Array(int(n))
	for i := int64(0); i < n; i++ {
		c.popInto(l, where)
	}
	if l.Len() == 0 {
		db.DeleteEntry(e)
	} else {
		db.Reaccount(e)
	}
	c.signalModified(db, key)
	return n
}

func blpopCommand(c *Client) { c.blockingPop(c.argv[1:len(c.argv)-1], listHead, len(c.argv)-1, -1) }
func brpopCommand(c *Client) { c.blockingPop(c.argv[1:len(c.argv)-1], listTail, len(c.argv)-1, -1) }

// blockingPop is BLPOP/BRPOP (count -1) and BLMPOP (count >= 1): serve at
// once from the first non-empty key in argument order, else block.
func (c *Client) blockingPop(keys [][]byte, where, timeoutIdx int, count int64) {
	deadline, ok := c.parseBlockTimeout(c.argv[timeoutIdx])
	if !ok {
		return
	}
	for _, k := range keys {
		e, l, ok := c.listWrite(k)
		if !ok {
			return
		}
		if e == nil {
			continue
		}
		if count != -1 {
			count = c.popRangeWithKey(c.db, e, l, k, where, count)
		} else {
			c.Array(2)
			c.Bulk(k)
			c.popInto(l, where)
			c.afterPop(e, l, k)
		}
		c.rewritePropagation(listPopArgv(where, k, count)...)
		return
	}
	if !c.mayBlock() {
		c.NullArray()
		return
	}
	c.block(keys, deadline, func(w *Client, db *keyspace.DB, key []byte) (bool, func()) {
		e := db.Lookup(key, keyspace.LookupWrite|keyspace.LookupNoTouch)
		if e == nil || e.Type() != keyspace.TypeList {
			return false, nil
		}
		l := e.Agg().(*keyspace.List)
		n := int64(1)
		if count != -1 {
			n = min(count, int64(l.Len()))
		}
		popped := make([][]byte, 0, n)
		for i := int64(0); i < n; i++ {
			if where == listHead {
				v, _ := l.PopHead()
				popped = append(popped, v)
			} else {
				v, _ := l.PopTail()
				popped = append(popped, v)
			}
		}
		w.Array(2)
		w.Bulk(key)
		if count != -1 {
			w.Array(len(popped))
		}
		for _, v := range popped {
			w.Bulk(v)
		}
		if l.Len() == 0 {
			db.DeleteEntry(e)
		} else {
			db.Reaccount(e)
		}
		w.signalModified(db, key)
		propCount := int64(-1) // BLPOP/BRPOP: no COUNT
		if count != -1 {
			propCount = int64(len(popped))
		}
		w.srv.alsoPropagate(db.ID(), listPopArgv(where, key, propCount)...)
		k := string(key)
		return true, func() {
			restoreList(db, k, popped, where)
			w.srv.alsoPropagate(db.ID(), listPushArgv(where, []byte(k), reversed(popped))...)
		}
	})
}

// reversed returns vs in reverse order.
func reversed(vs [][]byte) [][]byte {
	rev := make([][]byte, len(vs))
	for i, v := range vs {
		rev[len(vs)-1-i] = v
	}
	return rev
}

// restoreList puts popped elements back at the end they came from, in
// their original order (the undo of a served pop whose client vanished).
func restoreList(db *keyspace.DB, key string, popped [][]byte, where int) {
	e := db.Lookup([]byte(key), keyspace.LookupWrite)
	if e != nil && e.Type() != keyspace.TypeList {
		return // the key was replaced meanwhile; nothing safe to do
	}
	listPush(db, e, []byte(key), reversed(popped), where)
}

func blmoveCommand(c *Client) {
	from, ok := c.listWhere(c.argv[3])
	if !ok {
		return
	}
	to, ok := c.listWhere(c.argv[4])
	if !ok {
		return
	}
	deadline, ok := c.parseBlockTimeout(c.argv[5])
	if !ok {
		return
	}
	c.blmoveGeneric(from, to, deadline)
}

func brpoplpushCommand(c *Client) {
	deadline, ok := c.parseBlockTimeout(c.argv[3])
	if !ok {
		return
	}
	c.blmoveGeneric(listTail, listHead, deadline)
}

func (c *Client) blmoveGeneric(from, to int, deadline time.Time) {
	se, sl, ok := c.listWrite(c.argv[1])
	if !ok {
		return
	}
	// Written as the non-blocking command, with the LEFT/RIGHT arguments
	// as the client spelled them (Redis reuses them).
	var fromArg, toArg []byte
	brpoplpush := c.cmd.Name == "brpoplpush"
	if !brpoplpush {
		fromArg, toArg = append([]byte(nil), c.argv[3]...), append([]byte(nil), c.argv[4]...)
	}
	propArgv := func(src, dst []byte) [][]byte {
		if brpoplpush {
			return [][]byte{[]byte("RPOPLPUSH"), src, dst}
		}
		return [][]byte{argLMOVE, src, dst, fromArg, toArg}
	}
	if se != nil {
		if c.moveElement(c.db, se, sl, c.argv[1], c.argv[2], from, to) {
			c.rewritePropagation(propArgv(c.argv[1], c.argv[2])...)
		}
		return
	}
	if !c.mayBlock() {
		c.Null()
		return
	}
	dst := string(c.argv[2])
	c.block(c.argv[1:2], deadline, func(w *Client, db *keyspace.DB, key []byte) (bool, func()) {
		e := db.Lookup(key, keyspace.LookupWrite|keyspace.LookupNoTouch)
		if e == nil || e.Type() != keyspace.TypeList {
			return false, nil
		}
		l := e.Agg().(*keyspace.List)
		if !w.moveElement(db, e, l, key, []byte(dst), from, to) {
			return true, nil // served with WRONGTYPE, as Redis 7.0 does
		}
		w.srv.alsoPropagate(db.ID(), propArgv(key, []byte(dst))...)
		src := string(key)
		return true, func() {
			undoMove(db, src, dst, from, to)
			w.srv.alsoPropagate(db.ID(), argLMOVE, []byte(dst), []byte(src), whereArg(to), whereArg(from))
		}
	})
}

// undoMove reverses a served BLMOVE: the element goes back from dst to src.
func undoMove(db *keyspace.DB, src, dst string, from, to int) {
	de := db.Lookup([]byte(dst), keyspace.LookupWrite)
	if de == nil || de.Type() != keyspace.TypeList {
		return
	}
	dl := de.Agg().(*keyspace.List)
	v := listPop(db, de, dl, to)
	se := db.Lookup([]byte(src), keyspace.LookupWrite)
	if se != nil && se.Type() != keyspace.TypeList {
		return
	}
	listPush(db, se, []byte(src), [][]byte{v}, from)
}
