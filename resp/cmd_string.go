package resp

import (
	"math"
	"math/big"
	"strconv"

	"github.com/celerity/celerity/keyspace"
)

func stringCommands() []*Command {
	return []*Command{
		{Name: "get", Arity: 2, Flags: Readonly | Fast, ACL: CatString, Keys: KeyPos{1, 1, 1}, Run: getCommand},
		{Name: "set", Arity: -3, Flags: Write | DenyOOM, ACL: CatString, Keys: KeyPos{1, 1, 1}, Run: setCommand},
		{Name: "setnx", Arity: 3, Flags: Write | DenyOOM | Fast, ACL: CatString, Keys: KeyPos{1, 1, 1}, Run: setnxCommand},
		{Name: "setex", Arity: 4, Flags: Write | DenyOOM, ACL: CatString, Keys: KeyPos{1, 1, 1}, Run: setexCommand},
		{Name: "psetex", Arity: 4, Flags: Write | DenyOOM, ACL: CatString, Keys: KeyPos{1, 1, 1}, Run: psetexCommand},
		{Name: "getset", Arity: 3, Flags: Write | DenyOOM | Fast, ACL: CatString, Keys: KeyPos{1, 1, 1}, Run: getsetCommand},
		{Name: "getdel", Arity: 2, Flags: Write | Fast, ACL: CatString, Keys: KeyPos{1, 1, 1}, Run: getdelCommand},
		{Name: "getex", Arity: -2, Flags: Write | Fast, ACL: CatString, Keys: KeyPos{1, 1, 1}, Run: getexCommand},
		{Name: "mget", Arity: -2, Flags: Readonly | Fast, ACL: CatString, Keys: KeyPos{1, -1, 1}, Run: mgetCommand},
		{Name: "mset", Arity: -3, Flags: Write | DenyOOM, ACL: CatString, Keys: KeyPos{1, -1, 2}, Run: msetCommand},
		{Name: "msetnx", Arity: -3, Flags: Write | DenyOOM, ACL: CatString, Keys: KeyPos{1, -1, 2}, Run: msetnxCommand},
		{Name: "incr", Arity: 2, Flags: Write | DenyOOM | Fast, ACL: CatString, Keys: KeyPos{1, 1, 1}, Run: incrCommand},
		{Name: "decr", Arity: 2, Flags: Write | DenyOOM | Fast, ACL: CatString, Keys: KeyPos{1, 1, 1}, Run: decrCommand},
		{Name: "incrby", Arity: 3, Flags: Write | DenyOOM | Fast, ACL: CatString, Keys: KeyPos{1, 1, 1}, Run: incrbyCommand},
		{Name: "decrby", Arity: 3, Flags: Write | DenyOOM | Fast, ACL: CatString, Keys: KeyPos{1, 1, 1}, Run: decrbyCommand},
		{Name: "incrbyfloat", Arity: 3, Flags: Write | DenyOOM | Fast, ACL: CatString, Keys: KeyPos{1, 1, 1}, Run: incrbyfloatCommand},
		{Name: "append", Arity: 3, Flags: Write | DenyOOM | Fast, ACL: CatString, Keys: KeyPos{1, 1, 1}, Run: appendCommand},
		{Name: "strlen", Arity: 2, Flags: Readonly | Fast, ACL: CatString, Keys: KeyPos{1, 1, 1}, Run: strlenCommand},
		{Name: "getrange", Arity: 4, Flags: Readonly, ACL: CatString, Keys: KeyPos{1, 1, 1}, Run: getrangeCommand},
		{Name: "substr", Arity: 4, Flags: Readonly, ACL: CatString, Keys: KeyPos{1, 1, 1}, Run: getrangeCommand},
		{Name: "setrange", Arity: 4, Flags: Write | DenyOOM, ACL: CatString, Keys: KeyPos{1, 1, 1}, Run: setrangeCommand},
	}
}

// getGeneric replies with a string key's value (null when missing) and
// reports false after replying WRONGTYPE.
func (c *Client) getGeneric(key []byte) bool {
	e := c.lookupRead(key)
	if e == nil {
		c.Null()
		return true
	}
	if e.Type() != keyspace.TypeString {
		c.Error(errWrongType)
		return false
	}
	c.Bulk(e.Bytes())
	return true
}

func getCommand(c *Client) { c.getGeneric(c.argv[1]) }

// SET option bits, as Redis's OBJ_* flags.
const (
	setNX = 1 << iota
	setXX
	setEX
	setPX
	setKeepTTL
	setGet
	setEXAT
	setPXAT
	setPersist
)

// parseExtendedStringArgs parses SET's and GETEX's options with Redis's
// exclusion rules. forSet selects SET's option set; opts start at argv[from].
func (c *Client) parseExtendedStringArgs(from int, forSet bool) (flags int, expire []byte, ok bool) {
	const anyExpire = setEX | setPX | setEXAT | setPXAT
	argv := c.argv
	for j := from; j < len(argv); j++ {
		opt := argv[j]
		hasNext := j < len(argv)-1
		switch {
		case forSet && optIs(opt, "nx") && flags&setXX == 0:
			flags |= setNX
		case forSet && optIs(opt, "xx") && flags&setNX == 0:
			flags |= setXX
		case forSet && optIs(opt, "get"):
			flags |= setGet
		case forSet && optIs(opt, "keepttl") && flags&(setPersist|anyExpire) == 0:
			flags |= setKeepTTL
		case !forSet && optIs(opt, "persist") && flags&(anyExpire|setKeepTTL) == 0:
			flags |= setPersist
		case optIs(opt, "ex") && flags&(setKeepTTL|setPersist|setEXAT|setPX|setPXAT) == 0 && hasNext:
			flags |= setEX
			expire = argv[j+1]
			j++
		case optIs(opt, "px") && flags&(setKeepTTL|setPersist|setEX|setEXAT|setPXAT) == 0 && hasNext:
			flags |= setPX
			expire = argv[j+1]
			j++
		case optIs(opt, "exat") && flags&(setKeepTTL|setPersist|setEX|setPX|setPXAT) == 0 && hasNext:
			flags |= setEXAT
			expire = argv[j+1]
			j++
		case optIs(opt, "pxat") && flags&(setKeepTTL|setPersist|setEX|setEXAT|setPX) == 0 && hasNext:
			flags |= setPXAT
			expire = argv[j+1]
			j++
		default:
			c.SyntaxError()
			return 0, nil, false
		}
	}
	return flags, expire, true
}

// expireMillis turns an EX/PX/EXAT/PXAT argument into an absolute Unix ms
// time, replying Redis's error when it is not positive or overflows.
func (c *Client) expireMillis(arg []byte, flags int) (int64, bool) {
	ms, ok := parseStrictInt(arg)
	if !ok {
		c.Error(errNotInteger)
		return 0, false
	}
	seconds := flags&(setEX|setEXAT) != 0
	if ms <= 0 || (seconds && ms > math.MaxInt64/1000) {
		c.Error(errInvalidExpire(c.cmd.fullName))
		return 0, false
	}
	if seconds {
		ms *= 1000
	}
	if flags&(setEX|setPX) != 0 {
		ms += c.srv.ks.ClockNow()
	}
	if ms <= 0 {
		c.Error(errInvalidExpire(c.cmd.fullName))
		return 0, false
	}
	return ms, true
}

func errInvalidExpire(fullName string) string {
	return "ERR invalid expire time in '" + fullName + "' command"
}

// setGeneric is SET's engine, shared with SETNX, SETEX and PSETEX.
// okReply/abortReply override the replies when not nil (SETNX's 1/0).
func (c *Client) setGeneric(flags int, key, val, expire []byte, okReply, abortReply func()) {
	var when int64
	if expire != nil {
		var ok bool
		if when, ok = c.expireMillis(expire, flags); !ok {
			return
		}
	}
	if flags&setGet != 0 && !c.getGeneric(key) {
		return
	}
	found := c.lookupWrite(key) != nil
	if flags&setNX != 0 && found || flags&setXX != 0 && !found {
		if flags&setGet == 0 {
			if abortReply != nil {
				abortReply()
			} else {
				c.Null()
			}
		}
		return
	}
	e := c.db.SetString(key, val, keyspace.StringEncoding(val), flags&setKeepTTL != 0)
	if expire != nil {
		c.db.SetExpire(e, when)
		// Replayed later, a relative expiry would restart the clock: Redis
		// writes the deadline (and drops GET, NX, XX, which are moot).
		c.rewritePropagation(argSET, key, val, argPXAT, itoaArg(when))
	}
	c.signalModified(c.db, key)
	if flags&setGet == 0 {
		if okReply != nil {
			okReply()
		} else {
			c.OK()
		}
	}
}

func setCommand(c *Client) {
	flags, expire, ok := c.parseExtendedStringArgs(3, true)
	if !ok {
		return
	}
	c.setGeneric(flags, c.argv[1], c.argv[2], expire, nil, nil)
}

func setnxCommand(c *Client) {
	c.setGeneric(setNX, c.argv[1], c.argv[2], nil, func() { c.Int(1) }, func() { c.Int(0) })
}

func setexCommand(c *Client) { c.setGeneric(setEX, c.argv[1], c.argv[3], c.argv[2], nil, nil) }

func psetexCommand(c *Client) { c.setGeneric(setPX, c.argv[1], c.argv[3], c.argv[2], nil, nil) }

func getsetCommand(c *Client) {
	if !c.getGeneric(c.argv[1]) {
		return
	}
	c.db.SetString(c.argv[1], c.argv[2], keyspace.StringEncoding(c.argv[2]), false)
	c.signalModified(c.db, c.argv[1])
	c.rewritePropagation(argSET, c.argv[1], c.argv[2])
}

func getdelCommand(c *Client) {
	e := c.lookupRead(c.argv[1])
	if e == nil {
		c.Null()
		return
	}
	if !c.checkType(e, keyspace.TypeString) {
		return
	}
	c.Bulk(e.Bytes())
	c.db.DeleteEntry(e)
	c.signalModified(c.db, c.argv[1])
	c.rewritePropagation(argDEL, c.argv[1])
}

func getexCommand(c *Client) {
	flags, expire, ok := c.parseExtendedStringArgs(2, false)
	if !ok {
		return
	}
	key := c.argv[1]
	e := c.lookupRead(key)
	if e == nil {
		c.Null()
		return
	}
	if !c.checkType(e, keyspace.TypeString) {
		return
	}
	var when int64
	if expire != nil {
		if when, ok = c.expireMillis(expire, flags); !ok {
			return
		}
	}
	c.Bulk(e.Bytes())
	switch {
	case flags&(setEXAT|setPXAT) != 0 && when <= c.srv.ks.ClockNow():
		c.db.DeleteEntry(e)
		c.signalModified(c.db, key)
		c.rewritePropagation(argDEL, key)
	case expire != nil:
		c.db.SetExpire(e, when)
		c.signalModified(c.db, key)
		c.rewritePropagation(argPEXPIREAT, key, itoaArg(when))
	case flags&setPersist != 0 && e.ExpireAt() != 0:
		c.db.SetExpire(e, 0)
		c.signalModified(c.db, key)
		c.rewritePropagation(argPERSIST, key)
	}
}

func mgetCommand(c *Client) {
	c.Array(len(c.argv) - 1)
	for _, k := range c.argv[1:] {
		e := c.lookupRead(k)
		if e == nil || e.Type() != keyspace.TypeString {
			c.Null()
		} else {
			c.Bulk(e.Bytes())
		}
	}
}

func msetCommand(c *Client) { c.msetGeneric(false) }

func msetnxCommand(c *Client) { c.msetGeneric(true) }

func (c *Client) msetGeneric(nx bool) {
	if len(c.argv)%2 == 0 {
		c.WrongArgs()
		return
	}
	if nx {
		for j := 1; j < len(c.argv); j += 2 {
			if c.lookupWrite(c.argv[j]) != nil {
				c.Int(0)
				return
			}
		}
	}
	for j := 1; j < len(c.argv); j += 2 {
		c.db.SetString(c.argv[j], c.argv[j+1], keyspace.StringEncoding(c.argv[j+1]), false)
		c.signalModified(c.db, c.argv[j])
	}
	if nx {
		c.Int(1)
	} else {
		c.OK()
	}
}

func incrCommand(c *Client) { c.incrDecr(1) }
func decrCommand(c *Client) { c.incrDecr(-1) }

func incrbyCommand(c *Client) {
	if n, ok := c.intArg(2); ok {
		c.incrDecr(n)
	}
}

func decrbyCommand(c *Client) {
	n, ok := c.intArg(2)
	if !ok {
		return
	}
	if n == math.MinInt64 {
		c.Error("ERR decrement would overflow")
		return
	}
	c.incrDecr(-n)
}

func (c *Client) incrDecr(incr int64) {
	key := c.argv[1]
	e := c.lookupWrite(key)
	if !c.checkType(e, keyspace.TypeString) {
		return
	}
	var v int64
	if e != nil {
		var ok bool
		if v, ok = parseStrictInt(e.Bytes()); !ok {
			c.Error(errNotInteger)
			return
		}
	}
	if incr < 0 && v < 0 && incr < math.MinInt64-v || incr > 0 && v > 0 && incr > math.MaxInt64-v {
		c.Error(errOverflow)
		return
	}
	v += incr
	var tmp [24]byte
	b := strconv.AppendInt(tmp[:0], v, 10)
	if e != nil {
		// In place: the value keeps its TTL, and the buffer is reused when
		// it fits, which keeps INCR allocation-free.
		buf := e.Bytes()
		if cap(buf) >= len(b) {
			buf = append(buf[:0], b...)
		} else {
			buf = append([]byte(nil), b...)
		}
		c.db.UpdateString(e, buf, keyspace.EncInt)
	} else {
		c.db.SetString(key, b, keyspace.EncInt, false)
	}
	c.signalModified(c.db, key)
	c.Int(v)
}

func incrbyfloatCommand(c *Client) {
	key := c.argv[1]
	e := c.lookupWrite(key)
	if !c.checkType(e, keyspace.TypeString) {
		return
	}
	cur := new(big.Float).SetPrec(ldPrec)
	if e != nil {
		v, inf, ok := parseLongDouble(e.Bytes())
		if !ok {
			c.Error(errNotFloat)
			return
		}
		if inf {
			// An infinite stored value can only produce Inf or NaN.
			if _, _, ok := parseLongDouble(c.argv[2]); !ok {
				c.Error(errNotFloat)
				return
			}
			c.Error(errNaNOrInf)
			return
		}
		cur = v
	}
	incr, inf, ok := parseLongDouble(c.argv[2])
	if !ok {
		c.Error(errNotFloat)
		return
	}
	if inf {
		c.Error(errNaNOrInf)
		return
	}
	sum := new(big.Float).SetPrec(ldPrec).SetMode(big.ToNearestEven).Add(cur, incr)
	if ldOverflows(sum) {
		c.Error(errNaNOrInf)
		return
	}
	out := []byte(formatLongDoubleHuman(sum))
	enc := keyspace.EncEmbstr
	if len(out) > 44 {
		enc = keyspace.EncRaw
	}
	if e != nil {
		c.db.UpdateString(e, out, enc)
	} else {
		c.db.SetStringOwned(key, out, enc, false)
	}
	c.signalModified(c.db, key)
	c.Bulk(out)
	// Float formatting must not depend on the replaying server: Redis
	// writes the result.
	c.rewritePropagation(argSET, key, out, argKEEPTTL)
}

// checkStringLength replies Redis's error when a string would grow past
// proto-max-bulk-len.
func (c *Client) checkStringLength(size, add int64) bool {
	total := size + add
	if total > c.srv.cfg.ProtoMaxBulkLen || total < size || total < add {
		c.Error(errTooLarge)
		return false
	}
	return true
}

func appendCommand(c *Client) {
	key, add := c.argv[1], c.argv[2]
	e := c.lookupWrite(key)
	if e == nil {
		c.db.SetString(key, add, keyspace.StringEncoding(add), false)
		c.signalModified(c.db, key)
		c.Int(int64(len(add)))
		return
	}
	if !c.checkType(e, keyspace.TypeString) {
		return
	}
	cur := e.Bytes()
	if !c.checkStringLength(int64(len(cur)), int64(len(add))) {
		return
	}
	// APPEND makes the value a raw string, as dbUnshareStringValue does.
	c.db.UpdateString(e, append(cur, add...), keyspace.EncRaw)
	c.signalModified(c.db, key)
	c.Int(int64(len(e.Bytes())))
}

func strlenCommand(c *Client) {
	e := c.lookupRead(c.argv[1])
	if !c.checkType(e, keyspace.TypeString) {
		return
	}
	if e == nil {
		c.Int(0)
		return
	}
	c.Int(int64(len(e.Bytes())))
}

func getrangeCommand(c *Client) {
	start, ok := c.intArg(2)
	if !ok {
		return
	}
	end, ok := c.intArg(3)
	if !ok {
		return
	}
	e := c.lookupRead(c.argv[1])
	if e == nil {
		c.Bulk(nil)
		return
	}
	if !c.checkType(e, keyspace.TypeString) {
		return
	}
	s := e.Bytes()
	n := int64(len(s))
	if start < 0 && end < 0 && start > end {
		c.Bulk(nil)
		return
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	if start < 0 {
		start = 0
	}
	if end < 0 {
		end = 0
	}
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		c.Bulk(nil)
		return
	}
	c.Bulk(s[start : end+1])
}

func setrangeCommand(c *Client) {
	offset, ok := c.intArg(2)
	if !ok {
		return
	}
	if offset < 0 {
		c.Error(errOffsetRange)
		return
	}
	key, val := c.argv[1], c.argv[3]
	e := c.lookupWrite(key)
	if e == nil {
		if len(val) == 0 {
			c.Int(0)
			return
		}
		if !c.checkStringLength(offset, int64(len(val))) {
			return
		}
		buf := make([]byte, offset+int64(len(val)))
		copy(buf[offset:], val)
		c.db.SetStringOwned(key, buf, keyspace.EncRaw, false)
		c.signalModified(c.db, key)
		c.Int(int64(len(buf)))
		return
	}
	if !c.checkType(e, keyspace.TypeString) {
		return
	}
	cur := e.Bytes()
	if len(val) == 0 {
		c.Int(int64(len(cur)))
		return
	}
	if !c.checkStringLength(offset, int64(len(val))) {
		return
	}
	if need := offset + int64(len(val)); need > int64(len(cur)) {
		grown := make([]byte, need)
		copy(grown, cur)
		cur = grown
	}
	copy(cur[offset:], val)
	c.db.UpdateString(e, cur, keyspace.EncRaw)
	c.signalModified(c.db, key)
	c.Int(int64(len(cur)))
}
