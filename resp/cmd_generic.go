package resp

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/celerity/celerity/keyspace"
)

func genericCommands() []*Command {
	return []*Command{
		{Name: "del", Arity: -2, Flags: Write, ACL: CatKeyspace, Keys: KeyPos{1, -1, 1}, Run: delCommand},
		{Name: "unlink", Arity: -2, Flags: Write | Fast, ACL: CatKeyspace, Keys: KeyPos{1, -1, 1}, Run: unlinkCommand},
		{Name: "exists", Arity: -2, Flags: Readonly | Fast, ACL: CatKeyspace, Keys: KeyPos{1, -1, 1}, Run: existsCommand},
		{Name: "type", Arity: 2, Flags: Readonly | Fast, ACL: CatKeyspace, Keys: KeyPos{1, 1, 1}, Run: typeCommand},
		{Name: "touch", Arity: -2, Flags: Readonly | Fast, ACL: CatKeyspace, Keys: KeyPos{1, -1, 1}, Run: touchCommand},
		{Name: "expire", Arity: -3, Flags: Write | Fast, ACL: CatKeyspace, Keys: KeyPos{1, 1, 1}, Run: expireCommand},
		{Name: "pexpire", Arity: -3, Flags: Write | Fast, ACL: CatKeyspace, Keys: KeyPos{1, 1, 1}, Run: pexpireCommand},
		{Name: "expireat", Arity: -3, Flags: Write | Fast, ACL: CatKeyspace, Keys: KeyPos{1, 1, 1}, Run: expireatCommand},
		{Name: "pexpireat", Arity: -3, Flags: Write | Fast, ACL: CatKeyspace, Keys: KeyPos{1, 1, 1}, Run: pexpireatCommand},
		{Name: "ttl", Arity: 2, Flags: Readonly | Fast, ACL: CatKeyspace, Keys: KeyPos{1, 1, 1}, Run: ttlCommand},
		{Name: "pttl", Arity: 2, Flags: Readonly | Fast, ACL: CatKeyspace, Keys: KeyPos{1, 1, 1}, Run: pttlCommand},
		{Name: "expiretime", Arity: 2, Flags: Readonly | Fast, ACL: CatKeyspace, Keys: KeyPos{1, 1, 1}, Run: expiretimeCommand},
		{Name: "pexpiretime", Arity: 2, Flags: Readonly | Fast, ACL: CatKeyspace, Keys: KeyPos{1, 1, 1}, Run: pexpiretimeCommand},
		{Name: "persist", Arity: 2, Flags: Write | Fast, ACL: CatKeyspace, Keys: KeyPos{1, 1, 1}, Run: persistCommand},
		{Name: "keys", Arity: 2, Flags: Readonly, ACL: CatKeyspace | CatDangerous, Run: keysCommand},
		{Name: "scan", Arity: -2, Flags: Readonly, ACL: CatKeyspace, Run: scanCommand},
		{Name: "randomkey", Arity: 1, Flags: Readonly, ACL: CatKeyspace, Run: randomkeyCommand},
		{Name: "rename", Arity: 3, Flags: Write, ACL: CatKeyspace, Keys: KeyPos{1, 2, 1}, Run: renameCommand},
		{Name: "renamenx", Arity: 3, Flags: Write | Fast, ACL: CatKeyspace, Keys: KeyPos{1, 2, 1}, Run: renamenxCommand},
		{Name: "copy", Arity: -3, Flags: Write | DenyOOM, ACL: CatKeyspace, Keys: KeyPos{1, 2, 1}, Run: copyCommand},
		{Name: "move", Arity: 3, Flags: Write | Fast, ACL: CatKeyspace, Keys: KeyPos{1, 1, 1}, Run: moveCommand},
		{Name: "swapdb", Arity: 3, Flags: Write | Fast, ACL: CatKeyspace | CatDangerous, Run: swapdbCommand},
		{Name: "dbsize", Arity: 1, Flags: Readonly | Fast, ACL: CatKeyspace, Run: dbsizeCommand},
		{Name: "flushdb", Arity: -1, Flags: Write, ACL: CatKeyspace | CatDangerous, Run: flushdbCommand},
		{Name: "flushall", Arity: -1, Flags: Write, ACL: CatKeyspace | CatDangerous, Run: flushallCommand},
		{Name: "object", Arity: -2, ACL: CatSlow, Sub: []*Command{
			{Name: "encoding", Arity: 3, Flags: Readonly, ACL: CatKeyspace, Keys: KeyPos{2, 2, 1}, Run: objectCommand},
			{Name: "freq", Arity: 3, Flags: Readonly, ACL: CatKeyspace, Keys: KeyPos{2, 2, 1}, Run: objectCommand},
			{Name: "idletime", Arity: 3, Flags: Readonly, ACL: CatKeyspace, Keys: KeyPos{2, 2, 1}, Run: objectCommand},
			{Name: "refcount", Arity: 3, Flags: Readonly, ACL: CatKeyspace, Keys: KeyPos{2, 2, 1}, Run: objectCommand},
			{Name: "help", Arity: 2, Flags: Loading | Stale, ACL: CatKeyspace, Run: objectCommand},
		}},
	}
}

func delCommand(c *Client)    { c.delGeneric() }
func unlinkCommand(c *Client) { c.delGeneric() }

func (c *Client) delGeneric() {
	var n int64
	for _, k := range c.argv[1:] {
		if c.db.Delete(k) {
			c.signalModified(c.db, k)
			n++
		}
	}
	c.Int(n)
}

func existsCommand(c *Client) {
	var n int64
	for _, k := range c.argv[1:] {
		if c.db.Lookup(k, keyspace.LookupNoTouch) != nil {
			n++
		}
	}
	c.Int(n)
}

func typeCommand(c *Client) {
	e := c.db.Lookup(c.argv[1], keyspace.LookupNoTouch)
	if e == nil {
		c.Status("none")
		return
	}
	c.Status(e.Type().String())
}

func touchCommand(c *Client) {
	var n int64
	for _, k := range c.argv[1:] {
		if c.lookupRead(k) != nil {
			n++
		}
	}
	c.Int(n)
}

// EXPIRE option bits.
const (
	expireNX = 1 << iota
	expireXX
	expireGT
	expireLT
)

func expireCommand(c *Client)    { c.expireGeneric(c.srv.ks.ClockNow(), true) }
func pexpireCommand(c *Client)   { c.expireGeneric(c.srv.ks.ClockNow(), false) }
func expireatCommand(c *Client)  { c.expireGeneric(0, true) }
func pexpireatCommand(c *Client) { c.expireGeneric(0, false) }

func (c *Client) expireGeneric(base int64, seconds bool) {
	var flags int
	for _, opt := range c.argv[3:] {
		switch {
		case optIs(opt, "nx"):
			flags |= expireNX
		case optIs(opt, "xx"):
			flags |= expireXX
		case optIs(opt, "gt"):
			flags |= expireGT
		case optIs(opt, "lt"):
			flags |= expireLT
		default:
			c.Error("ERR Unsupported option " + cstr(opt, len(opt)))
			return
		}
	}
	if flags&expireNX != 0 && flags&(expireXX|expireGT|expireLT) != 0 {
		c.Error("ERR NX and XX, GT or LT options at the same time are not compatible")
		return
	}
	if flags&expireGT != 0 && flags&expireLT != 0 {
		c.Error("ERR GT and LT options at the same time are not compatible")
		return
	}
	when, ok := c.intArg(2)
	if !ok {
		return
	}
	if seconds {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			c.Error(errInvalidExpire(c.cmd.fullName))
			return
		}
		when *= 1000
	}
	if when > math.MaxInt64-base {
		c.Error(errInvalidExpire(c.cmd.fullName))
		return
	}
	when += base
	key := c.argv[1]
	e := c.lookupWrite(key)
	if e == nil {
		c.Int(0)
		return
	}
	if flags != 0 {
		cur := e.ExpireAt()
		has := cur != 0
		switch {
		case flags&expireNX != 0 && has,
			flags&expireXX != 0 && !has,
			flags&expireGT != 0 && (!has || when <= cur),
			flags&expireLT != 0 && has && when >= cur:
			c.Int(0)
			return
		}
	}
	if when <= c.srv.ks.ClockNow() {
		c.db.DeleteEntry(e)
		c.rewritePropagation(argDEL, key)
	} else {
		c.db.SetExpire(e, when)
		if base != 0 || seconds {
			// The deadline, in ms, with the options as given.
			argv := append([][]byte{argPEXPIREAT, key, itoaArg(when)}, c.argv[3:]...)
			c.rewritePropagation(argv...)
		}
	}
	c.signalModified(c.db, key)
	c.Int(1)
}

func ttlCommand(c *Client)         { c.ttlGeneric(false, false) }
func pttlCommand(c *Client)        { c.ttlGeneric(true, false) }
func expiretimeCommand(c *Client)  { c.ttlGeneric(false, true) }
func pexpiretimeCommand(c *Client) { c.ttlGeneric(true, true) }

func (c *Client) ttlGeneric(ms, abs bool) {
	e := c.db.Lookup(c.argv[1], keyspace.LookupNoTouch)
	if e == nil {
		c.Int(-2)
		return
	}
	at := e.ExpireAt()
	if at == 0 {
		c.Int(-1)
		return
	}
	ttl := at
	if !abs {
		ttl = at - c.srv.ks.ClockNow()
	}
	if ttl < 0 {
		ttl = 0
	}
	if !ms {
		ttl = (ttl + 500) / 1000
	}
	c.Int(ttl)
}

func persistCommand(c *Client) {
	e := c.lookupWrite(c.argv[1])
	if e == nil || e.ExpireAt() == 0 {
		c.Int(0)
		return
	}
	c.db.SetExpire(e, 0)
	c.signalModified(c.db, c.argv[1])
	c.Int(1)
}

func keysCommand(c *Client) {
	pat := c.argv[1]
	all := len(pat) == 1 && pat[0] == '*'
	d := c.DeferLen()
	n := 0
	c.db.ForEach(func(e *keyspace.Entry) {
		k := e.Key()
		if all || globMatch(pat, []byte(k), false) {
			c.BulkString(k)
			n++
		}
	})
	c.SetArrayLen(d, n)
}

// parseScanCursor parses a cursor like Redis's strtoul-based parser: the
// argument is read as a C string (it ends at a NUL byte), an empty string
// is cursor 0, a sign is accepted, garbage is an error.
func (c *Client) parseScanCursor(arg []byte) (uint64, bool) {
	s := cstr(arg, len(arg))
	if s == "" {
		return 0, true
	}
	if s[0] == ' ' || s[0] == '\t' || s[0] == '\n' || s[0] == '\r' || s[0] == '\v' || s[0] == '\f' {
		c.Error("ERR invalid cursor")
		return 0, false
	}
	neg := false
	body := s
	if body[0] == '+' || body[0] == '-' {
		neg = body[0] == '-'
		body = body[1:]
	}
	v, err := strconv.ParseUint(body, 10, 64)
	if err != nil {
		c.Error("ERR invalid cursor")
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// scanOptions are the MATCH/COUNT/TYPE options of the SCAN family.
type scanOptions struct {
	count   int64
	pattern []byte
	typ     []byte
}

func (c *Client) parseScanOptions(from int, allowType bool) (scanOptions, bool) {
	o := scanOptions{count: 10}
	argv := c.argv
	for i := from; i < len(argv); {
		more := len(argv) - i
		switch {
		case optIs(argv[i], "count") && more >= 2:
			n, ok := c.intArg(i + 1)
			if !ok {
				return o, false
			}
			if n < 1 {
				c.SyntaxError()
				return o, false
			}
			o.count = n
			i += 2
		case optIs(argv[i], "match") && more >= 2:
			o.pattern = argv[i+1]
			if len(o.pattern) == 1 && o.pattern[0] == '*' {
				o.pattern = nil
			}
			i += 2
		case allowType && optIs(argv[i], "type") && more >= 2:
			o.typ = argv[i+1]
			i += 2
		default:
			c.SyntaxError()
			return o, false
		}
	}
	return o, true
}

func scanCommand(c *Client) {
	cursor, ok := c.parseScanCursor(c.argv[1])
	if !ok {
		return
	}
	o, ok := c.parseScanOptions(2, true)
	if !ok {
		return
	}
	count := o.count
	if count > math.MaxInt32 {
		count = math.MaxInt32
	}
	entries, next := c.db.Scan(cursor, int(count), nil)
	keys := make([]string, 0, len(entries))
	for _, e := range entries {
		keys = append(keys, e.Key())
	}
	out := keys[:0]
	for _, k := range keys {
		if o.pattern != nil && !globMatch(o.pattern, []byte(k), false) {
			continue
		}
		if o.typ != nil {
			tn := "none"
			if e := c.db.Lookup([]byte(k), keyspace.LookupNoTouch); e != nil {
				tn = e.Type().String()
			}
			if !strings.EqualFold(cstr(o.typ, len(o.typ)), tn) {
				continue
			}
		}
		if !c.db.Exists([]byte(k)) {
			continue
		}
		out = append(out, k)
	}
	c.Array(2)
	c.Bulk(strconv.AppendUint(nil, next, 10))
	c.Array(len(out))
	for _, k := range out {
		c.BulkString(k)
	}
}

func randomkeyCommand(c *Client) {
	e := c.db.RandomKey()
	if e == nil {
		c.Null()
		return
	}
	c.BulkString(e.Key())
}

func renameCommand(c *Client)   { c.renameGeneric(false) }
func renamenxCommand(c *Client) { c.renameGeneric(true) }

func (c *Client) renameGeneric(nx bool) {
	src, dst := c.argv[1], c.argv[2]
	e := c.lookupWrite(src)
	if e == nil {
		c.Error(errNoSuchKey)
		return
	}
	if string(src) == string(dst) {
		if nx {
			c.Int(0)
		} else {
			c.OK()
		}
		return
	}
	if c.lookupWrite(dst) != nil && nx {
		c.Int(0)
		return
	}
	c.db.Rename(e, dst)
	c.signalModified(c.db, src)
	c.signalModified(c.db, dst)
	if nx {
		c.Int(1)
	} else {
		c.OK()
	}
}

// intArgRange parses argument i as an int within [lo, hi] the way Redis's
// getRangeLongFromObjectOrReply does; msg replaces the default errors.
func (c *Client) intArgRange(i int, lo, hi int64, msg string) (int64, bool) {
	v, ok := parseStrictInt(c.argv[i])
	if !ok {
		if msg != "" {
			c.Error(msg)
		} else {
			c.Error(errNotInteger)
		}
		return 0, false
	}
	if v < lo || v > hi {
		if msg != "" {
			c.Error(msg)
		} else {
			c.Error(fmt.Sprintf("ERR value is out of range, value must between %d and %d", lo, hi))
		}
		return 0, false
	}
	return v, true
}

func (c *Client) dbArg(i int) (*keyspace.DB, bool) {
	id, ok := c.intArgRange(i, math.MinInt32, math.MaxInt32, "")
	if !ok {
		return nil, false
	}
	if id < 0 || id >= int64(c.srv.ks.NumDBs()) {
		c.Error(errDBIndex)
		return nil, false
	}
	return c.srv.ks.DB(int(id)), true
}

func copyCommand(c *Client) {
	src, dst := c.db, c.db
	replace := false
	for j := 3; j < len(c.argv); j++ {
		switch {
		case optIs(c.argv[j], "replace"):
			replace = true
		case optIs(c.argv[j], "db") && len(c.argv)-j-1 >= 1:
			db, ok := c.dbArg(j + 1)
			if !ok {
				return
			}
			dst = db
			j++
		default:
			c.SyntaxError()
			return
		}
	}
	key, newKey := c.argv[1], c.argv[2]
	if src == dst && string(key) == string(newKey) {
		c.Error(errSameObject)
		return
	}
	e := c.lookupRead(key)
	if e == nil {
		c.Int(0)
		return
	}
	if dst.Lookup(newKey, keyspace.LookupWrite) != nil && !replace {
		c.Int(0)
		return
	}
	var str []byte
	var agg keyspace.Aggregate
	if e.Type() == keyspace.TypeString {
		str = append([]byte(nil), e.Bytes()...)
	} else {
		agg = e.Agg().Clone()
	}
	dst.Adopt(newKey, e, str, agg).MarkCopied()
	c.signalModified(dst, newKey)
	c.Int(1)
}

func moveCommand(c *Client) {
	src := c.db
	dst, ok := c.dbArg(2)
	if !ok {
		return
	}
	if src == dst {
		c.Error(errSameObject)
		return
	}
	key := c.argv[1]
	e := c.lookupWrite(key)
	if e == nil {
		c.Int(0)
		return
	}
	if dst.Lookup(key, keyspace.LookupWrite) != nil {
		c.Int(0)
		return
	}
	dst.Adopt(key, e, e.Bytes(), e.Agg())
	src.DeleteEntry(e)
	c.signalModified(src, key)
	c.signalModified(dst, key)
	c.Int(1)
}

func swapdbCommand(c *Client) {
	a, ok := c.intArgRange(1, math.MinInt32, math.MaxInt32, "ERR invalid first DB index")
	if !ok {
		return
	}
	b, ok := c.intArgRange(2, math.MinInt32, math.MaxInt32, "ERR invalid second DB index")
	if !ok {
		return
	}
	n := int64(c.srv.ks.NumDBs())
	if a < 0 || a >= n || b < 0 || b >= n {
		c.Error(errDBIndex)
		return
	}
	if a != b {
		da, db := c.srv.ks.DB(int(a)), c.srv.ks.DB(int(b))
		c.srv.touchAllWatchedKeysInDB(da, db)
		c.srv.touchAllWatchedKeysInDB(db, da)
		c.srv.ks.SwapDB(int(a), int(b))
	}
	c.srv.dirty++
	c.OK()
}

func dbsizeCommand(c *Client) { c.Int(int64(c.db.Len())) }

// flushFlags validates FLUSHDB/FLUSHALL's optional ASYNC|SYNC argument, as
// getFlushCommandFlags does: exactly one of them, or nothing; anything
// else (including two options) is a syntax error.
func (c *Client) flushFlags() bool {
	switch {
	case len(c.argv) == 1:
		return true
	case len(c.argv) == 2 && (optIs(c.argv[1], "sync") || optIs(c.argv[1], "async")):
		return true
	}
	c.SyntaxError()
	return false
}

func flushdbCommand(c *Client) {
	if !c.flushFlags() {
		return
	}
	c.srv.dirty += int64(c.db.Len())
	c.srv.touchAllWatchedKeysInDB(c.db, nil)
	if c.srv.tracking.active() {
		c.srv.trackingFlush()
	}
	c.db.Flush()
	c.forcePropagation()
	c.OK()
}

func flushallCommand(c *Client) {
	if !c.flushFlags() {
		return
	}
	for i := 0; i < c.srv.ks.NumDBs(); i++ {
		c.srv.dirty += int64(c.srv.ks.DB(i).Len())
		c.srv.touchAllWatchedKeysInDB(c.srv.ks.DB(i), nil)
	}
	if c.srv.tracking.active() {
		c.srv.trackingFlush()
	}
	c.srv.ks.FlushAll()
	s := c.srv
	if s.rdb.bgsave != nil {
		s.rdb.bgsave.abort() // Redis kills the saving child: its file is moot
	}
	if len(s.cfg.SavePoints) > 0 {
		// As Redis: the empty dataset is saved at once, so a restart
		// cannot bring the keys back from an older dump.
		_ = s.rdbSave() // a failure is logged and shows in INFO
	}
	c.forcePropagation()
	c.OK()
}

var objectHelp = []string{
	"ENCODING <key>",
	"    Return the kind of internal representation used in order to store the value",
	"    associated with a <key>.",
	"FREQ <key>",
	"    Return the access frequency index of the <key>. The returned integer is",
	"    proportional to the logarithm of the recent access frequency of the key.",
	"IDLETIME <key>",
	"    Return the idle time of the <key>, that is the approximated number of",
	"    seconds elapsed since the last access to the key.",
	"REFCOUNT <key>",
	"    Return the number of references of the value associated with the specified",
	"    <key>.",
}

// replyHelp writes a container command's HELP reply in Redis's layout.
func (c *Client) replyHelp(lines []string) {
	c.Array(len(lines) + 3)
	c.Status(upper(string(c.argv[0])) + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range lines {
		c.Status(l)
	}
	c.Status("HELP")
	c.Status("    Prints this help.")
}

func objectCommand(c *Client) {
	sub := c.argv[1]
	if optIs(sub, "help") {
		c.replyHelp(objectHelp)
		return
	}
	e := c.db.Lookup(c.argv[2], keyspace.LookupNoTouch)
	if e == nil {
		c.Null()
		return
	}
	switch {
	case optIs(sub, "encoding"):
		c.BulkString(e.Encoding().String())
	case optIs(sub, "refcount"):
		c.Int(objectRefcount(e))
	case optIs(sub, "idletime"):
		if c.srv.cfg.MaxMemoryPolicy.LFU() {
			c.Error("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
			return
		}
		c.Int(c.srv.ks.IdleMs(e) / 1000)
	case optIs(sub, "freq"):
		if !c.srv.cfg.MaxMemoryPolicy.LFU() {
			c.Error("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
			return
		}
		c.Int(c.srv.ks.Freq(e))
	}
}

// objectRefcount mirrors Redis's shared integers: small non-negative
// integer strings are shared objects with an "infinite" refcount.
func objectRefcount(e *keyspace.Entry) int64 {
	if e.Type() == keyspace.TypeString && e.Encoding() == keyspace.EncInt && !e.Copied() {
		if v, ok := parseStrictInt(e.Bytes()); ok && v >= 0 && v < 10000 {
			return math.MaxInt32
		}
	}
	return 1
}
