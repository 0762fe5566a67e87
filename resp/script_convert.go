package resp

import (
	"bytes"
	"strconv"

	lua "github.com/yuin/gopher-lua"
)

// Conversions between Lua values and RESP, with Redis 7.0's rules.
//
// Command reply → Lua (what redis.call returns):
//
//	integer → number            bulk → string        null bulk/array → false
//	status → {ok=s}             error → {err="CODE msg"} (redis.call raises it)
//	array → table (1-based)     RESP3 map → {map={k=v}}    set → {set={k=true}}
//	RESP3 null → nil            double → {double=n}   boolean → true/false
//	big number → {big_number=s} verbatim → {verbatim_string={format=f, string=s}}
//
// The fake client writes its reply into its buffer; it is decoded straight
// into Lua values (a Value tree in between would double the allocations of
// every redis.call).
//
// Lua → script reply: string → bulk; number → integer (truncated toward
// zero; NaN and out-of-range values give LLONG_MIN as on x86); true → 1
// (#t once the script called redis.setresp(3)); false and nil → null
// (#f for false under RESP3); a table with a string err → error, ok →
// status, number double → double, string big_number → big number, map /
// set tables → map / set, a verbatim_string table → verbatim; any other
// table is an array of t[1], t[2], ... up to the first nil.

// luaArgv converts redis.call's arguments: strings as they are, numbers
// with %.17g (Redis avoids Lua's lossy %.14g). The slices share one
// reused buffer and are valid until the next call, like a connection's
// read buffer. msg is Redis's error when an argument has another type.
func (e *scriptEngine) luaArgv(L *lua.LState) (argv [][]byte, msg string) {
	argc := L.GetTop()
	if argc == 0 {
		return nil, "Please specify at least one argument for this redis lib call"
	}
	arena, ends := e.arena[:0], e.ends[:0]
	for i := 1; i <= argc; i++ {
		switch v := L.Get(i).(type) {
		case lua.LString:
			arena = append(arena, v...)
		case lua.LNumber:
			arena = appendLuaNumber(arena, float64(v), 17)
		default:
			return nil, "Lua redis lib command arguments must be strings or integers"
		}
		ends = append(ends, len(arena))
	}
	argv = e.argv[:0]
	start := 0
	for _, end := range ends {
		argv = append(argv, arena[start:end:end])
		start = end
	}
	e.arena, e.ends, e.argv = arena, ends, argv
	return argv, ""
}

// redisCall implements redis.call (raise) and redis.pcall: the command
// goes through the same table and checks as a client's, minus what does
// not apply to scripts, and runs on the fake client under the engine lock
// the EVAL holds.
func (e *scriptEngine) redisCall(L *lua.LState, raise bool) int {
	fail := func(t *lua.LTable) int {
		if raise {
			e.raise(L, t)
		}
		L.Push(t)
		return 1
	}
	argv, msg := e.luaArgv(L)
	if msg != "" {
		return fail(luaErrorTable(L, msg))
	}
	s := e.srv
	errsBefore := s.stats.errorReplies
	defer func() { e.innerErrors += max(s.stats.errorReplies-errsBefore, 0) }()
	cmd := s.table.lookupArgv(argv)
	switch {
	case cmd == nil:
		msg = "Unknown Redis command called from script"
	case cmd.Arity > 0 && cmd.Arity != len(argv) || len(argv) < -cmd.Arity:
		msg = "Wrong number of args calling Redis command from script"
	case cmd.Flags&NoScript != 0:
		msg = "This Redis command is not allowed from script"
	case e.fake.user != nil && !e.fake.user.allowAll && e.fake.aclScriptDenies(cmd, argv, &msg):
		// msg says why: the caller's user may not run this command.
	case cmd.Flags&Write != 0 && e.run.readOnly:
		msg = "Write commands are not allowed from read-only scripts."
	case cmd.Flags&DenyOOM != 0 && s.scriptOOM && s.cfg.MaxMemory != 0 && !e.run.wrote && !e.run.allowOOM:
		// Over maxmemory when the script started: it may not grow the
		// dataset, unless it already wrote (it cannot stop half-way).
		msg = "-" + errOOM
	}
	if msg != "" {
		// A rejected command is counted now, like a client's; the error
		// table says so, so the script's reply does not count it twice.
		t := luaErrorTable(L, msg)
		s.countError(string(t.RawGetString("err").(lua.LString)))
		if cmd != nil {
			cmd.stats.rejected++
		}
		t.RawSetString("ignore_error_stats_update", lua.LTrue)
		return fail(t)
	}
	if cmd.Flags&Write != 0 {
		// From here on SCRIPT KILL would leave a half-done script's
		// writes behind: Redis refuses it (UNKILLABLE), so do we.
		e.run.wrote = true
	}
	f := e.fake
	f.argv, f.cmd = argv, cmd
	f.call(cmd)
	f.argv = nil
	if len(f.buf) == 0 {
		// Every command replies; should one not, the script reads nil
		// rather than the decoder indexing an empty buffer.
		L.Push(lua.LNil)
		return 1
	}
	v, _ := e.replyToLua(L, f.buf, 0, true)
	isErr := len(f.buf) > 0 && f.buf[0] == '-'
	if cap(f.buf) > 64<<10 {
		f.buf = nil // do not keep a KEYS * sized buffer for good
	} else {
		f.buf = f.buf[:0]
	}
	if isErr {
		return fail(v.(*lua.LTable))
	}
	L.Push(v)
	return 1
}

// replyToLua decodes the reply at b[pos:] into a Lua value and returns the
// position after it. The buffer was written by our own ReplyWriter, so it
// is well formed. top marks the command's own reply: its error was
// already counted when the command replied.
func (e *scriptEngine) replyToLua(L *lua.LState, b []byte, pos int, top bool) (lua.LValue, int) {
	kind := b[pos]
	eol := pos + bytes.IndexByte(b[pos:], '\r')
	line := b[pos+1 : eol]
	next := eol + 2
	switch kind {
	case '+':
		t := L.CreateTable(0, 1)
		t.RawSetString("ok", lua.LString(line))
		return t, next
	case '-':
		t := luaErrorTable(L, "-"+string(line))
		if top {
			t.RawSetString("ignore_error_stats_update", lua.LTrue)
		}
		return t, next
	case ':':
		return lua.LNumber(parseReplyInt(line)), next
	case '_':
		return lua.LNil, next
	case '#':
		return lua.LBool(len(line) > 0 && line[0] == 't'), next
	case ',':
		f, _ := strconv.ParseFloat(string(line), 64)
		t := L.CreateTable(0, 1)
		t.RawSetString("double", lua.LNumber(f))
		return t, next
	case '(':
		t := L.CreateTable(0, 1)
		t.RawSetString("big_number", lua.LString(line))
		return t, next
	case '$', '=':
		n := int(parseReplyInt(line))
		if n < 0 {
			return lua.LFalse, next
		}
		payload := b[next : next+n]
		next += n + 2
		if kind == '$' {
			return lua.LString(payload), next
		}
		inner := L.CreateTable(0, 2)
		inner.RawSetString("format", lua.LString(payload[:3]))
		inner.RawSetString("string", lua.LString(payload[4:]))
		t := L.CreateTable(0, 1)
		t.RawSetString("verbatim_string", inner)
		return t, next
	case '*', '~', '%', '>':
		n := int(parseReplyInt(line))
		if n < 0 {
			return lua.LFalse, next
		}
		switch kind {
		case '%':
			m := L.CreateTable(0, n)
			for i := 0; i < n; i++ {
				var k, v lua.LValue
				k, next = e.replyToLua(L, b, next, false)
				v, next = e.replyToLua(L, b, next, false)
				if k != lua.LNil {
					m.RawSet(k, v)
				}
			}
			t := L.CreateTable(0, 1)
			t.RawSetString("map", m)
			return t, next
		case '~':
			set := L.CreateTable(0, n)
			for i := 0; i < n; i++ {
				var k lua.LValue
				k, next = e.replyToLua(L, b, next, false)
				if k != lua.LNil {
					set.RawSet(k, lua.LTrue)
				}
			}
			t := L.CreateTable(0, 1)
			t.RawSetString("set", set)
			return t, next
		}
		t := L.CreateTable(n, 0)
		for i := 0; i < n; i++ {
			var v lua.LValue
			v, next = e.replyToLua(L, b, next, false)
			if v != lua.LNil {
				t.RawSetInt(i+1, v)
			}
		}
		return t, next
	}
	// Unreachable with our writer; keep the script going with nil.
	return lua.LNil, next
}

// parseReplyInt parses the decimal integer of a reply header without
// allocating.
func parseReplyInt(b []byte) int64 {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	var n int64
	for _, c := range b {
		n = n*10 + int64(c-'0')
	}
	if neg {
		return -n
	}
	return n
}

// luaReplyMaxDepth is how deeply nested a script's reply can be: Redis
// checks its Lua stack (8000 slots, five in use) at every level and
// answers "reached lua stack limit" in place of the value that does not
// fit.
const luaReplyMaxDepth = 7995

// writeLuaReply writes v as the script's reply to c (see the rules at the
// top of this file). depth counts the Lua stack slots Redis would use.
func (e *scriptEngine) writeLuaReply(c *Client, v lua.LValue, depth int) {
	if depth >= luaReplyMaxDepth {
		c.Error("ERR reached lua stack limit")
		return
	}
	switch x := v.(type) {
	case lua.LString:
		c.BulkString(string(x))
	case lua.LNumber:
		c.Int(luaToInteger(float64(x)))
	case lua.LBool:
		switch {
		case e.fake.proto == 3:
			c.Bool(bool(x))
		case bool(x):
			c.Int(1)
		default:
			c.Null()
		}
	case *lua.LTable:
		if r := e.real(x); r != nil {
			x = r
		}
		e.writeLuaTable(c, x, depth)
	default:
		c.Null()
	}
}

func (e *scriptEngine) writeLuaTable(c *Client, t *lua.LTable, depth int) {
	if s, ok := t.RawGetString("err").(lua.LString); ok {
		replyScriptErrorText(c, string(s), t.RawGetString("ignore_error_stats_update") == lua.LTrue)
		return
	}
	if s, ok := t.RawGetString("ok").(lua.LString); ok {
		c.Status(string(crlfToSpaces([]byte(s))))
		return
	}
	if d, ok := t.RawGetString("double").(lua.LNumber); ok {
		writeScriptDouble(&c.ReplyWriter, float64(d))
		return
	}
	if s, ok := t.RawGetString("big_number").(lua.LString); ok {
		b := crlfToSpaces([]byte(s))
		if c.proto == 3 {
			c.buf = append(c.buf, '(')
			c.buf = append(c.buf, b...)
			c.buf = append(c.buf, '\r', '\n')
		} else {
			c.Bulk(b)
		}
		return
	}
	if vt, ok := t.RawGetString("verbatim_string").(*lua.LTable); ok {
		format, fok := vt.RawGetString("format").(lua.LString)
		str, sok := vt.RawGetString("string").(lua.LString)
		if fok && sok {
			writeScriptVerbatim(&c.ReplyWriter, string(format), string(str))
			return
		}
	}
	if m, ok := t.RawGetString("map").(*lua.LTable); ok {
		if r := e.real(m); r != nil {
			m = r
		}
		n := 0
		m.ForEach(func(_, _ lua.LValue) { n++ })
		c.Map(n)
		for k, v := m.Next(lua.LNil); k != lua.LNil; k, v = m.Next(k) {
			e.writeLuaReply(c, k, depth+2)
			e.writeLuaReply(c, v, depth+2)
		}
		return
	}
	if set, ok := t.RawGetString("set").(*lua.LTable); ok {
		if r := e.real(set); r != nil {
			set = r
		}
		n := 0
		set.ForEach(func(_, _ lua.LValue) { n++ })
		c.Set(n)
		for k, _ := set.Next(lua.LNil); k != lua.LNil; k, _ = set.Next(k) {
			e.writeLuaReply(c, k, depth+2)
		}
		return
	}
	n := 0
	for t.RawGetInt(n+1) != lua.LNil {
		n++
	}
	c.Array(n)
	for i := 1; i <= n; i++ {
		e.writeLuaReply(c, t.RawGetInt(i), depth+1)
	}
}

// luaToInteger converts a Lua number to a reply integer as Redis's C cast
// does on x86-64: truncation toward zero, LLONG_MIN for NaN and for
// values out of range.
func luaToInteger(f float64) int64 {
	if f != f || f >= 1<<63 || f < -(1<<63) {
		return -1 << 63
	}
	return int64(f)
}

// writeScriptDouble writes a double reply with Redis's %.17g, including
// its nan spelling (the reply writer never sees NaN elsewhere).
func writeScriptDouble(w *ReplyWriter, f float64) {
	var tmp [32]byte
	b := appendLuaNumber(tmp[:0], f, 17)
	if w.proto == 3 {
		w.buf = append(w.buf, ',')
		w.buf = append(w.buf, b...)
		w.buf = append(w.buf, '\r', '\n')
		return
	}
	w.Bulk(b)
}

// writeScriptVerbatim writes a verbatim string with the script's format:
// Redis copies exactly three bytes of it.
func writeScriptVerbatim(w *ReplyWriter, format, s string) {
	if w.proto != 3 {
		w.BulkString(s)
		return
	}
	var f [3]byte
	copy(f[:], format)
	w.header('=', int64(len(s)+4))
	w.buf = append(w.buf, f[:]...)
	w.buf = append(w.buf, ':')
	w.buf = append(w.buf, s...)
	w.buf = append(w.buf, '\r', '\n')
}

// crlfToSpaces replaces CR and LF, which would end a status line early.
func crlfToSpaces(b []byte) []byte {
	if !bytes.ContainsAny(b, "\r\n") {
		return b
	}
	out := append([]byte(nil), b...)
	for i, c := range out {
		if c == '\r' || c == '\n' {
			out[i] = ' '
		}
	}
	return out
}
