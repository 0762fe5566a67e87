package resp

import (
	"errors"
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// The standard libraries as Redis 7.0 has them: gopher-lua's table,
// string and coroutine adjusted to Lua 5.1's contents and messages, with
// bounds on what one call may allocate.

// patchLibraries adjusts table, string and coroutine to Redis's set and
// closes the ways around the sandbox's bounds.
func (e *scriptEngine) patchLibraries(L *lua.LState, g *lua.LTable) {
	tbl := g.RawGetString("table").(*lua.LTable)
	// A proxy's array part is empty: removing from or sorting it
	// writes nothing (Redis answers nil), inserting is refused.
	for _, name := range []string{"insert", "remove", "sort"} {
		fn := tbl.RawGetString(name).(*lua.LFunction).GFunction
		insert := name == "insert"
		tbl.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
			if e.real(L.Get(1)) != nil {
				if insert {
					e.raiseReadonly(L)
				}
				return 0
			}
			return fn(L)
		}))
	}
	// Lua 5.1 names gopher-lua lacks.
	tbl.RawSetString("setn", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("'setn' is obsolete")
		return 0
	}))
	tbl.RawSetString("foreach", L.NewFunction(func(L *lua.LState) int { return luaForeach(L, false) }))
	tbl.RawSetString("foreachi", L.NewFunction(func(L *lua.LState) int { return luaForeach(L, true) }))

	str := g.RawGetString("string").(*lua.LTable)
	// gopher-lua makes the library its own string metatable (__index =
	// itself); Lua has a separate one, so pairs(string) lists functions
	// only.
	str.RawSetString("__index", lua.LNil)
	smt := L.NewTable()
	smt.RawSetString("__index", str)
	L.SetMetatable(lua.LString(""), smt)
	str.RawSetString("gfind", str.RawGetString("gmatch"))
	// No bytecode exists here; string.dump returns the header of a Lua
	// 5.1 chunk, which loadstring refuses like Redis refuses real
	// bytecode.
	str.RawSetString("dump", L.NewFunction(func(L *lua.LState) int {
		L.CheckFunction(1)
		L.Push(lua.LString("\x1bLuaQ\x00\x01\x04\x08\x04\x08\x00"))
		return 1
	}))
	// A single call must not allocate without bound: string.rep and
	// string.format widths are the two ways one call can ask for
	// gigabytes.
	rep := str.RawGetString("rep").(*lua.LFunction).GFunction
	str.RawSetString("rep", L.NewFunction(func(L *lua.LState) int {
		s := L.CheckString(1)
		n := L.CheckInt(2)
		if n > 0 && len(s) > 0 && int64(n) > e.srv.cfg.ProtoMaxBulkLen/int64(len(s)) {
			L.RaiseError("not enough memory")
		}
		return rep(L)
	}))
	// string.byte returns one value per byte: Lua bounds that by its C
	// stack, as unpack.
	strByte := str.RawGetString("byte").(*lua.LFunction).GFunction
	str.RawSetString("byte", L.NewFunction(func(L *lua.LState) int {
		s := L.CheckString(1)
		i := L.OptInt(2, 1)
		j := L.OptInt(3, i)
		if i < 0 {
			i += len(s) + 1
		}
		if j < 0 {
			j += len(s) + 1
		}
		i, j = max(i, 1), min(j, len(s))
		if j-i+1 >= luaMaxCStack-L.GetTop() {
			L.RaiseError("stack overflow (string slice too long)")
		}
		return strByte(L)
	}))
	format := str.RawGetString("format").(*lua.LFunction).GFunction
	str.RawSetString("format", L.NewFunction(func(L *lua.LState) int {
		if msg := luaCheckFormat(L.CheckString(1)); msg != "" {
			L.RaiseError("%s", msg)
		}
		return format(L)
	}))

	co := g.RawGetString("coroutine").(*lua.LTable)
	create := co.RawGetString("create").(*lua.LFunction).GFunction
	resume := co.RawGetString("resume").(*lua.LFunction).GFunction
	// Lua 5.1's words for a coroutine that cannot be resumed.
	co.RawSetString("resume", L.NewFunction(func(L *lua.LState) int {
		th := L.CheckThread(1)
		switch L.Status(th) {
		case "dead":
			L.Push(lua.LFalse)
			L.Push(lua.LString("cannot resume dead coroutine"))
			return 2
		case "running", "normal":
			L.Push(lua.LFalse)
			L.Push(lua.LString("cannot resume non-suspended coroutine"))
			return 2
		}
		return resume(L)
	}))
	wrap := co.RawGetString("wrap").(*lua.LFunction).GFunction
	// Coroutines run on their own gopher-lua state; give each the
	// script's context so the time limit and SCRIPT KILL reach code
	// running inside them too.
	// A new thread copies the options of the state creating it.
	small := func(L *lua.LState, create lua.LGFunction) int {
		saved := L.Options
		L.Options.CallStackSize = luaCoroutineStack
		L.Options.RegistrySize = luaCoroutineRegistry
		defer func() { L.Options = saved }()
		return create(L)
	}
	co.RawSetString("create", L.NewFunction(func(L *lua.LState) int {
		n := small(L, create)
		th := L.Get(-1).(*lua.LState)
		th.SetContext(&e.run)
		keepUpvaluesOnError(th)
		return n
	}))
	co.RawSetString("wrap", L.NewFunction(func(L *lua.LState) int {
		small(L, wrap)
		// wrap returns a closure over the new thread. Lua's wrap
		// propagates an error with the caller's position added to a
		// message (auxwrap), which gopher-lua's does not.
		inner := L.Get(-1).(*lua.LFunction)
		th := inner.Upvalues[0].Value().(*lua.LState)
		th.SetContext(&e.run)
		keepUpvaluesOnError(th)
		L.Pop(1)
		L.Push(L.NewFunction(func(L *lua.LState) int {
			L.Insert(inner, 1)
			err := L.PCall(L.GetTop()-1, lua.MultRet, nil)
			keepUpvaluesOnError(L)
			if err != nil {
				obj := luaErrorObject(err)
				if text, ok := luaText(obj); ok {
					obj = lua.LString(luaWhere(L, 1) + text)
				}
				e.raise(L, obj)
			}
			return L.GetTop()
		}))
		return 1
	}))
}

// luaForeach implements Lua 5.1's deprecated table.foreach/foreachi.
func luaForeach(L *lua.LState, indexed bool) int {
	t := L.CheckTable(1)
	fn := L.CheckFunction(2)
	call := func(k, v lua.LValue) bool {
		L.Push(fn)
		L.Push(k)
		L.Push(v)
		L.Call(2, 1)
		r := L.Get(-1)
		if r != lua.LNil {
			return true
		}
		L.Pop(1)
		return false
	}
	if indexed {
		for i := 1; i <= t.Len(); i++ {
			if call(lua.LNumber(i), t.RawGetInt(i)) {
				return 1
			}
		}
		return 0
	}
	for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		if call(k, v) {
			return 1
		}
	}
	return 0
}

// luaCheckFormat applies Lua 5.1's limits on string.format conversions:
// at most two digits of width and of precision, at most five flags.
func luaCheckFormat(f string) string {
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		i++
		if i < len(f) && f[i] == '%' {
			continue
		}
		start := i
		for i < len(f) && strings.IndexByte("-+ #0", f[i]) >= 0 {
			i++
		}
		if i-start > 5 {
			return "invalid format (repeated flags)"
		}
		digits := func() bool {
			n := 0
			for i < len(f) && '0' <= f[i] && f[i] <= '9' {
				i++
				n++
			}
			return n <= 2
		}
		if !digits() {
			return "invalid format (width or precision too long)"
		}
		if i < len(f) && f[i] == '.' {
			i++
			if !digits() {
				return "invalid format (width or precision too long)"
			}
		}
	}
	return ""
}

// luaStr2Number converts a string as Lua 5.1's luaO_str2d: strtod's
// syntax (surrounding white space allowed, inf and nan included) or a
// hexadecimal integer.
func luaStr2Number(s string) (float64, bool) {
	t := strings.Trim(s, " \t\n\v\f\r")
	if t == "" {
		return 0, false
	}
	if f, err := strconv.ParseFloat(t, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		if !strings.Contains(t, "_") {
			return f, true
		}
	}
	neg := strings.HasPrefix(t, "-")
	h := strings.TrimLeft(t, "+-")
	if len(t)-len(h) > 1 {
		return 0, false
	}
	if rest, ok := strings.CutPrefix(strings.ToLower(h), "0x"); ok && rest != "" {
		if n, err := strconv.ParseUint(rest, 16, 64); err == nil {
			if neg {
				return -float64(n), true
			}
			return float64(n), true
		}
	}
	return 0, false
}

// newBitLibrary builds Redis's bit library (LuaBitOp): operations on
// 32-bit integers. Arguments are numbers (or numeric strings) reduced to
// 32 bits the way LuaBitOp does: rounded to the nearest integer (ties to
// even) and wrapped modulo 2^32; results are signed.
func newBitLibrary(L *lua.LState) *lua.LTable {
	ret := func(L *lua.LState, b uint32) int {
		L.Push(lua.LNumber(int32(b)))
		return 1
	}
	fold := func(op func(a, b uint32) uint32) lua.LGFunction {
		return func(L *lua.LState) int {
			b := bitArg(L, 1)
			for i := L.GetTop(); i > 1; i-- {
				b = op(b, bitArg(L, i))
			}
			return ret(L, b)
		}
	}
	shift := func(op func(b uint32, n uint) uint32) lua.LGFunction {
		return func(L *lua.LState) int {
			b := bitArg(L, 1)
			n := uint(bitArg(L, 2) & 31)
			return ret(L, op(b, n))
		}
	}
	fns := map[string]lua.LGFunction{
		"tobit":  func(L *lua.LState) int { return ret(L, bitArg(L, 1)) },
		"bnot":   func(L *lua.LState) int { return ret(L, ^bitArg(L, 1)) },
		"band":   fold(func(a, b uint32) uint32 { return a & b }),
		"bor":    fold(func(a, b uint32) uint32 { return a | b }),
		"bxor":   fold(func(a, b uint32) uint32 { return a ^ b }),
		"lshift": shift(func(b uint32, n uint) uint32 { return b << n }),
		"rshift": shift(func(b uint32, n uint) uint32 { return b >> n }),
		"arshift": shift(func(b uint32, n uint) uint32 {
			return uint32(int32(b) >> n)
		}),
		"rol": shift(func(b uint32, n uint) uint32 { return b<<n | b>>(32-n) }),
		"ror": shift(func(b uint32, n uint) uint32 { return b>>n | b<<(32-n) }),
		"bswap": func(L *lua.LState) int {
			b := bitArg(L, 1)
			return ret(L, b>>24|b>>8&0xff00|b<<8&0xff0000|b<<24)
		},
		"tohex": func(L *lua.LState) int {
			b := bitArg(L, 1)
			n := int32(8)
			if L.GetTop() >= 2 {
				n = int32(bitArg(L, 2))
			}
			digits := "0123456789abcdef"
			// LuaBitOp negated INT32_MIN into itself and wrote a negative
			// length (CVE-2024-31449); Redis 7.0.15 clamps it first.
			if n == math.MinInt32 {
				n = math.MinInt32 + 1
			}
			if n < 0 {
				n, digits = -n, "0123456789ABCDEF"
			}
			n = min(n, 8)
			var buf [8]byte
			for i := n - 1; i >= 0; i-- {
				buf[i] = digits[b&15]
				b >>= 4
			}
			L.Push(lua.LString(buf[:n]))
			return 1
		},
	}
	t := L.CreateTable(0, len(fns))
	for name, fn := range fns {
		t.RawSetString(name, L.NewFunction(fn))
	}
	return t
}

// bitArg reads argument n as LuaBitOp does: a number (a numeric string
// converts) normalized to 32 bits by adding 2^52+2^51, which leaves the
// rounded integer in the low word of the double.
func bitArg(L *lua.LState, n int) uint32 {
	var f float64
	switch v := L.Get(n).(type) {
	case lua.LNumber:
		f = float64(v)
	case lua.LString:
		var ok bool
		if f, ok = luaStr2Number(string(v)); !ok {
			L.ArgError(n, "number expected, got string")
		}
	default:
		got := "no value"
		if n <= L.GetTop() {
			got = v.Type().String()
		}
		L.ArgError(n, "number expected, got "+got)
	}
	return uint32(math.Float64bits(f + 6755399441055744.0))
}
