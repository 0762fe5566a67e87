package resp

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// The Lua sandbox: which libraries scripts see, how the globals are made
// read-only, and the redis.* API. Conversions between Lua values and RESP
// live in script_convert.go.
//
// # Libraries
//
// Exactly the globals Redis 7.0 exposes, minus the ones Celerity does not
// implement (cjson, cmsgpack, struct, bit): the base functions (without
// print, dofile, loadfile, require, module, getfenv, setfenv, newproxy),
// table, string, math and coroutine, plus redis, KEYS and ARGV. There is
// no os, io, debug or package: nothing reaches files, processes or the
// interpreter's internals. gopher-lua cannot load bytecode at all, so
// loadstring(string.dump(f)) fails as in Redis (string.dump itself raises).
//
// # Read-only globals
//
// Redis 7.0 patches its Lua to flag tables read-only. gopher-lua has no
// such flag, so every table reachable from the globals (the library
// tables, redis, the globals' own metatable and the string metatable) is
// replaced, wherever scripts can reach it, by an empty proxy whose hidden
// metatable forwards reads to the real table and turns every write into
// Redis's "Attempt to modify a readonly table" error. The raw functions
// that would bypass metamethods (rawset, rawget, next, setmetatable,
// getmetatable, table.insert/remove/sort) know about proxies: writes are
// refused, reads see through. No real table is ever handed to a script, so
// one script cannot redefine redis.call for the next (the script-injection
// CVE class) nor leave globals behind.
//
// Reading an undefined global raises Redis's "Script attempted to access
// nonexistent global variable" error, through the real globals'
// metatable.

// luaMainChunk is the chunk name scripts are compiled under; Redis reports
// it as "@user_script" (the Lua source name) and "user_script" in messages.
const luaMainChunk = "user_script"

// errReadonlyTable is Redis 7.0's error for a write to a protected table.
const errReadonlyTable = "Attempt to modify a readonly table"

// luaAllowedGlobals are the base-library globals Redis 7.0 keeps.
var luaAllowedGlobals = map[string]bool{
	"_G": true, "_VERSION": true, "assert": true, "collectgarbage": true, "coroutine": true,
	"error": true, "getmetatable": true, "ipairs": true, "load": true, "loadstring": true,
	"math": true, "next": true, "pairs": true, "pcall": true, "rawequal": true, "rawget": true,
	"rawset": true, "select": true, "setmetatable": true, "string": true, "table": true,
	"tonumber": true, "tostring": true, "type": true, "unpack": true, "xpcall": true,
}

// Bounds of the interpreter. Lua 5.1 (Redis's) raises "stack overflow"
// past 20000 nested calls and lets a C function use 8000 stack slots. The
// call stack is fixed-size (1.6 MB, once per server): gopher-lua checks a
// fixed stack before every call and raises a catchable "stack overflow",
// while its growing stack panics without a position. Coroutines get small
// stacks, since each is a whole gopher-lua state. The registry (the value
// stack) may grow to 16 MB so deep recursion or huge string.byte results
// cannot take the server's memory.
const (
	luaMaxCStack         = 8000
	luaCallStackSize     = 20000
	luaCoroutineStack    = 200
	luaRegistrySize      = 1024
	luaCoroutineRegistry = 256
	luaRegistryMaxSize   = 1 << 20
	luaRegistryGrow      = 1024
)

// newLuaState builds the sandboxed interpreter of e. Called once per
// server, on the first script.
func (e *scriptEngine) newLuaState() {
	L := lua.NewState(lua.Options{
		SkipOpenLibs:        true,
		CallStackSize:    luaCallStackSize,
		RegistrySize:     luaRegistrySize,
		RegistryMaxSize:  luaRegistryMaxSize,
		RegistryGrowStep: luaRegistryGrow,
	})
	e.L = L
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath},
		{lua.CoroutineLibName, lua.OpenCoroutine},
	} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	g := L.G.Global
	e.globals = g
	// Allow-list, not deny-list: anything gopher-lua adds in a later
	// version stays out until reviewed.
	var drop []string
	g.ForEach(func(k, _ lua.LValue) {
		if ks, ok := k.(lua.LString); !ok || !luaAllowedGlobals[string(ks)] {
			drop = append(drop, k.String())
		}
	})
	for _, k := range drop {
		g.RawSetString(k, lua.LNil)
	}
	g.RawSetString("_VERSION", lua.LString("Lua 5.1"))

	e.patchBase(L, g)
	e.patchLibraries(L, g)
	g.RawSetString("redis", e.newRedisTable(L))
	// Redis defines this global as its pcall message handler; scripts
	// can see and call it, so it exists here too (errors are located
	// without it, see raise).
	g.RawSetString("__redis__err__handler", L.NewFunction(e.errHandler))

	// Undefined globals are an error, not nil: a typo in a script must not
	// silently read nil (Redis's globals protection).
	gmt := L.NewTable()
	gmt.RawSetString("__index", L.NewFunction(e.luaNonexistentGlobal))
	g.Metatable = gmt

	e.roNewIndex = L.NewFunction(func(L *lua.LState) int {
		e.raise(L, lua.LString(luaWhere(L, 1)+errReadonlyTable))
		return 0
	})
	e.proxyOf = map[*lua.LTable]*lua.LTable{}
	e.realOf = map[*lua.LTable]*lua.LTable{}
	e.env = e.protect(g)
	if smt, ok := L.GetMetatable(lua.LString("")).(*lua.LTable); ok {
		e.protect(smt)
	}
	// The context makes gopher-lua call run.Done before every
	// instruction: the time-limit and SCRIPT KILL hook (script.go).
	L.SetContext(&e.run)
}

func (e *scriptEngine) luaNonexistentGlobal(L *lua.LState) int {
	name := "(null)"
	switch k := L.Get(2).(type) {
	case lua.LString:
		name = string(k)
	case lua.LNumber:
		name = luaNumberString(float64(k))
	}
	e.raise(L, lua.LString(luaWhere(L, 1)+"Script attempted to access nonexistent global variable '"+name+"'"))
	return 0
}

// protect returns the read-only proxy of t, creating it (and protecting
// every table t holds, and t's metatable) on first use.
func (e *scriptEngine) protect(t *lua.LTable) *lua.LTable {
	if p, ok := e.proxyOf[t]; ok {
		return p
	}
	if _, isProxy := e.realOf[t]; isProxy {
		return t
	}
	p := e.L.NewTable()
	e.proxyOf[t] = p
	e.realOf[p] = t
	hidden := e.L.NewTable()
	hidden.RawSetString("__index", t)
	hidden.RawSetString("__newindex", e.roNewIndex)
	p.Metatable = hidden
	e.protectFields(t)
	if mt, ok := t.Metatable.(*lua.LTable); ok {
		e.protect(mt)
	}
	return p
}

// protectFields replaces every table value of t by its proxy. t itself
// stays writable from Go (it is never handed to scripts).
func (e *scriptEngine) protectFields(t *lua.LTable) {
	var keys []lua.LValue
	t.ForEach(func(k, v lua.LValue) {
		if _, ok := v.(*lua.LTable); ok {
			keys = append(keys, k)
		}
	})
	for _, k := range keys {
		t.RawSet(k, e.protect(t.RawGet(k).(*lua.LTable)))
	}
}

// real returns the table behind a proxy, or nil when t is not a proxy.
func (e *scriptEngine) real(v lua.LValue) *lua.LTable {
	if t, ok := v.(*lua.LTable); ok {
		return e.realOf[t]
	}
	return nil
}

// raiseReadonly raises the read-only error as Redis does from its C API
// functions (rawset, setmetatable, table.insert): without a position.
func (e *scriptEngine) raiseReadonly(L *lua.LState) {
	e.raise(L, lua.LString(errReadonlyTable))
}

// patchBase replaces the base functions whose gopher-lua versions would
// see through or past the read-only proxies, or differ from Redis.
func (e *scriptEngine) patchBase(L *lua.LState, g *lua.LTable) {
	set := func(name string, fn lua.LGFunction) { g.RawSetString(name, L.NewFunction(fn)) }
	orig := func(name string) lua.LGFunction { return g.RawGetString(name).(*lua.LFunction).GFunction }

	setmetatable := orig("setmetatable")
	set("setmetatable", func(L *lua.LState) int {
		if e.real(L.Get(1)) != nil {
			e.raiseReadonly(L)
		}
		return setmetatable(L)
	})
	set("getmetatable", func(L *lua.LState) int {
		v := L.CheckAny(1)
		if r := e.real(v); r != nil {
			if mt, ok := r.Metatable.(*lua.LTable); ok {
				L.Push(e.protect(mt))
			} else {
				L.Push(lua.LNil)
			}
			return 1
		}
		mt := L.GetMetatable(v) // honours __metatable
		if t, ok := mt.(*lua.LTable); ok {
			if p, protected := e.proxyOf[t]; protected {
				mt = p
			}
		}
		L.Push(mt)
		return 1
	})
	rawset := orig("rawset")
	set("rawset", func(L *lua.LState) int {
		if e.real(L.Get(1)) != nil {
			e.raiseReadonly(L)
		}
		return rawset(L)
	})
	set("rawget", func(L *lua.LState) int {
		t := L.CheckTable(1)
		k := L.CheckAny(2)
		if r := e.real(t); r != nil {
			t = r
		}
		L.Push(t.RawGet(k))
		return 1
	})
	next := func(L *lua.LState) int {
		t := L.CheckTable(1)
		if r := e.real(t); r != nil {
			t = r
		}
		k, v := t.Next(L.Get(2))
		if k == lua.LNil {
			L.Push(lua.LNil)
			return 1
		}
		L.Push(k)
		L.Push(v)
		return 2
	}
	nextFn := L.NewFunction(next)
	g.RawSetString("next", nextFn)
	set("pairs", func(L *lua.LState) int {
		t := L.CheckTable(1)
		L.Push(nextFn)
		L.Push(t)
		L.Push(lua.LNil)
		return 3
	})
	set("pcall", e.luaPcall)
	xpcall := orig("xpcall")
	set("xpcall", func(L *lua.LState) int {
		n := xpcall(L)
		keepUpvaluesOnError(L)
		return n
	})
	// error adds the position Lua 5.1 adds (to numbers too, and counting
	// levels from the caller, which gopher-lua gets wrong for levels above
	// one) and records where it was raised.
	set("error", func(L *lua.LState) int {
		obj := L.Get(1)
		level := L.OptInt(2, 1)
		if text, ok := luaText(obj); ok && level > 0 {
			obj = lua.LString(luaWhere(L, level) + text)
		}
		e.raise(L, obj)
		return 0
	})
	// assert's message may be a number, as in Lua (luaL_optstring).
	assert := orig("assert")
	set("assert", func(L *lua.LState) int {
		if L.ToBool(1) {
			return L.GetTop()
		}
		if msg, ok := luaText(L.Get(2)); ok {
			e.raise(L, lua.LString(luaWhere(L, 1)+msg))
		}
		return assert(L)
	})
	// tonumber without a base reads what C's strtod reads, which Lua 5.1
	// uses: also hexadecimal ("0x10"), which gopher-lua refuses.
	tonumber := orig("tonumber")
	set("tonumber", func(L *lua.LState) int {
		if L.GetTop() < 2 {
			if s, ok := L.Get(1).(lua.LString); ok {
				if f, ok := luaStr2Number(string(s)); ok {
					L.Push(lua.LNumber(f))
				} else {
					L.Push(lua.LNil)
				}
				return 1
			}
		}
		return tonumber(L)
	})
	// unpack has Lua 5.1's bound: results must fit the 8000 slots a C
	// function may use.
	set("unpack", func(L *lua.LState) int {
		t := L.CheckTable(1)
		i := int64(L.OptInt(2, 1))
		j := int64(L.OptInt(3, t.Len()))
		if i > j {
			return 0
		}
		if n := j - i + 1; n <= 0 || n >= luaMaxCStack-int64(L.GetTop()) {
			L.RaiseError("too many results to unpack")
		}
		for k := i; k <= j; k++ {
			L.Push(t.RawGetInt(int(k)))
		}
		return int(j - i + 1)
	})
	set("tostring", func(L *lua.LState) int {
		v := L.CheckAny(1)
		if n, ok := v.(lua.LNumber); ok {
			L.Push(lua.LString(luaNumberString(float64(n))))
		} else {
			L.Push(L.ToStringMeta(v))
		}
		return 1
	})
	// gopher-lua's collectgarbage runs runtime.GC: a script looping on it
	// would stall the whole server. The Go collector needs no help.
	set("collectgarbage", func(L *lua.LState) int {
		switch L.OptString(1, "collect") {
		case "count":
			L.Push(lua.LNumber(luaReportedKB))
		default:
			L.Push(lua.LNumber(0))
		}
		return 1
	})
	set("gcinfo", func(L *lua.LState) int {
		L.Push(lua.LNumber(luaReportedKB))
		return 1
	})
	// load and loadstring compile with the read-only globals (gopher-lua
	// would give the new function the real ones) and report errors in
	// Lua's shape.
	set("loadstring", func(L *lua.LState) int {
		src := L.CheckString(1)
		return e.loadChunk(L, src, L.OptString(2, src))
	})
	set("load", func(L *lua.LState) int {
		reader := L.CheckFunction(1)
		raw := L.OptString(2, "=(load)")
		var b strings.Builder
		for {
			L.Push(reader)
			L.Call(0, 1)
			piece := L.Get(-1)
			L.Pop(1)
			s, ok := piece.(lua.LString)
			if piece == lua.LNil || ok && s == "" {
				break
			}
			if !ok {
				L.Push(lua.LNil)
				L.Push(lua.LString("reader function must return a string"))
				return 2
			}
			b.WriteString(string(s))
		}
		return e.loadChunk(L, b.String(), raw)
	})
}

// loadChunk compiles src for load/loadstring: nil and Lua's message on
// failure.
func (e *scriptEngine) loadChunk(L *lua.LState, src, raw string) int {
	id := e.chunkID(raw)
	fn, err := L.Load(strings.NewReader(src), id)
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(luaCompileError(err, []byte(src), id)))
		return 2
	}
	fn.Env = e.env
	dropVarargTable(fn)
	L.Push(fn)
	return 1
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

// luaReportedKB is what collectgarbage("count") and gcinfo() report: the
// same constant INFO gives as used_memory_lua (Go's heap is shared, so a
// per-interpreter figure does not exist).
const luaReportedKB = 32

// chunkID renders a chunk name the way Lua 5.1 shows it in messages
// (`[string "first line..."]`, "=name" as name) and remembers the raw
// name, which Redis reports as the error's source.
func (e *scriptEngine) chunkID(raw string) string {
	const idSize = 60
	var id string
	switch {
	case strings.HasPrefix(raw, "="):
		id = raw[1:]
		if len(id) > idSize-1 {
			id = id[:idSize-1]
		}
	case strings.HasPrefix(raw, "@"):
		id = raw[1:]
		if len(id) > idSize-1 {
			id = "..." + id[len(id)-(idSize-4):]
		}
	default:
		// C sees the name up to its first NUL.
		if i := strings.IndexByte(raw, 0); i >= 0 {
			raw = raw[:i]
		}
		line := raw
		if i := strings.IndexAny(line, "\r\n"); i >= 0 {
			line = line[:i]
		}
		room := idSize - len(` [string "..."] `) - 1
		if len(line) > room {
			line = line[:room]
		}
		if len(line) < len(raw) {
			id = `[string "` + line + `..."]`
		} else {
			id = `[string "` + line + `"]`
		}
	}
	if len(e.chunkNames) > 1024 {
		clear(e.chunkNames)
	}
	e.chunkNames[id] = raw
	return id
}

// luaPcall is Redis 7.0's pcall: an error that is a table with an err
// field (what redis.call raises) is returned as that string, so scripts
// can print it.
func (e *scriptEngine) luaPcall(L *lua.LState) int {
	fn := L.CheckAny(1)
	if fn.Type() != lua.LTFunction && L.GetMetaField(fn, "__call").Type() != lua.LTFunction {
		L.Push(lua.LFalse)
		L.Push(lua.LString("attempt to call a " + fn.Type().String() + " value"))
		return 2
	}
	err := L.PCall(L.GetTop()-1, lua.MultRet, nil)
	keepUpvaluesOnError(L)
	if err != nil {
		obj := luaErrorObject(err)
		if t, ok := obj.(*lua.LTable); ok {
			if r := e.real(t); r != nil {
				t = r
			}
			switch m := t.RawGetString("err").(type) {
			case lua.LString, lua.LNumber:
				obj = m
			}
		} else if msg, ok := obj.(lua.LString); ok {
			obj = lua.LString(luaMessage(string(msg)))
		}
		L.Push(lua.LFalse)
		L.Push(obj)
		return 2
	}
	L.Insert(lua.LTrue, 1)
	return L.GetTop()
}

// luaErrorObject returns the Lua value an error carries.
func luaErrorObject(err error) lua.LValue {
	if ae, ok := err.(*lua.ApiError); ok && ae.Object != nil {
		return ae.Object
	}
	return lua.LString(err.Error())
}

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

// newRedisTable builds the redis.* API.
func (e *scriptEngine) newRedisTable(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	fns := map[string]lua.LGFunction{
		"call":               func(L *lua.LState) int { return e.redisCall(L, true) },
		"pcall":              func(L *lua.LState) int { return e.redisCall(L, false) },
		"error_reply":        luaErrorReplyFn,
		"status_reply":       luaStatusReplyFn,
		"sha1hex":            e.luaSha1hex,
		"log":                e.luaLog,
		"setresp":            e.luaSetresp,
		"set_repl":           e.luaSetRepl,
		"replicate_commands": func(L *lua.LState) int { L.Push(lua.LTrue); return 1 },
		"breakpoint":         func(L *lua.LState) int { L.Push(lua.LFalse); return 1 },
		"debug":              func(L *lua.LState) int { return 0 },
		"acl_check_cmd":      e.luaACLCheckCmd,
	}
	for name, fn := range fns {
		t.RawSetString(name, L.NewFunction(fn))
	}
	for name, v := range map[string]int{
		"LOG_DEBUG": logDebug, "LOG_VERBOSE": logVerbose, "LOG_NOTICE": logNotice, "LOG_WARNING": logWarning,
		"REPL_NONE": replNone, "REPL_AOF": replAOF, "REPL_SLAVE": replReplica, "REPL_REPLICA": replReplica, "REPL_ALL": replAll,
	} {
		t.RawSetString(name, lua.LNumber(v))
	}
	t.RawSetString("REDIS_VERSION", lua.LString(Version))
	t.RawSetString("REDIS_VERSION_NUM", lua.LNumber(redisVersionNum()))
	return t
}

// Log levels of redis.log, as Redis numbers them.
const (
	logDebug = iota
	logVerbose
	logNotice
	logWarning
)

// Replication targets of redis.set_repl, as Redis numbers them.
const (
	replNone    = 0
	replAOF     = 1
	replReplica = 2
	replAll     = replAOF | replReplica
)

// redisVersionNum is Version as 0x00MMmmpp.
func redisVersionNum() int {
	n := 0
	for _, part := range strings.SplitN(Version, ".", 3) {
		v, _ := strconv.Atoi(part)
		n = n<<8 | v
	}
	return n
}

// luaErrorTable builds the {err=...} table Redis uses for errors, from a
// RESP error text: "-CODE msg" keeps its code, a text without "-" gets
// ERR, and leading/trailing CR/LF are trimmed.
func luaErrorTable(L *lua.LState, text string) *lua.LTable {
	t := L.CreateTable(0, 2)
	t.RawSetString("err", lua.LString(luaErrorText(text)))
	return t
}

// luaErrorText normalizes an error text to "CODE message" as Redis's
// luaPushError does: a leading "-" marks a text that carries its own code
// (the first word); any other text gets the generic ERR code.
func luaErrorText(text string) string {
	code, msg := "ERR", text
	if strings.HasPrefix(text, "-") {
		if sp := strings.IndexByte(text, ' '); sp >= 0 {
			code, msg = text[1:sp], text[sp+1:]
		} else {
			msg = text[1:]
		}
	}
	return code + " " + strings.Trim(msg, "\r\n")
}

func luaErrorReplyFn(L *lua.LState) int {
	s, ok := L.Get(1).(lua.LString)
	if L.GetTop() != 1 || !ok {
		L.Push(luaErrorTable(L, "wrong number or type of arguments"))
		return 1
	}
	text := string(s)
	if !strings.HasPrefix(text, "-") {
		text = "-" + text
	}
	L.Push(luaErrorTable(L, text))
	return 1
}

func luaStatusReplyFn(L *lua.LState) int {
	s, ok := L.Get(1).(lua.LString)
	if L.GetTop() != 1 || !ok {
		L.Push(luaErrorTable(L, "wrong number or type of arguments"))
		return 1
	}
	t := L.CreateTable(0, 1)
	t.RawSetString("ok", s)
	L.Push(t)
	return 1
}

// raiseErr raises an {err=...} table error, the way Redis's library
// functions fail.
func (e *scriptEngine) raiseErr(L *lua.LState, text string) {
	e.raise(L, luaErrorTable(L, text))
}

// raise raises obj from a Go function, first recording where: the Lua
// code that called the function. That is the position Redis's message
// handler reports ("on @user_script:3."), for errors whose text does not
// carry it. (A real message handler cannot be used: gopher-lua calls it on
// top of the failed stack, and a stack or registry overflow then fails
// again inside it.)
func (e *scriptEngine) raise(L *lua.LState, obj lua.LValue) {
	e.raised.obj = obj
	e.raised.chunk, e.raised.line, e.raised.ok = luaFrame(L, 1)
	L.Error(obj, 0)
}

// luaFrame returns the chunk and current line of the function level
// frames up from the running Go function (1: its caller); ok is false when
// that is a Go function or there is none.
func luaFrame(L *lua.LState, level int) (chunk string, line int, ok bool) {
	dbg, found := L.GetStack(level)
	if !found {
		return "", 0, false
	}
	if _, err := L.GetInfo("Sl", dbg, lua.LNil); err != nil || dbg.Source == "" || dbg.CurrentLine < 0 {
		return "", 0, false
	}
	return dbg.Source, dbg.CurrentLine, true
}

// luaWhere is Lua's luaL_where: "chunk:line: " for a Lua function, "" for
// a Go one.
func luaWhere(L *lua.LState, level int) string {
	if chunk, line, ok := luaFrame(L, level); ok {
		return chunk + ":" + strconv.Itoa(line) + ": "
	}
	return ""
}

// luaText converts a string or number argument as lua_tolstring does;
// ok is false for other types.
func luaText(v lua.LValue) (string, bool) {
	switch x := v.(type) {
	case lua.LString:
		return string(x), true
	case lua.LNumber:
		return luaNumberString(float64(x)), true
	}
	return "", false
}

// luaToNumber converts as lua_tonumber: numbers and numeric strings, else 0.
func luaToNumber(v lua.LValue) (float64, bool) {
	switch x := v.(type) {
	case lua.LNumber:
		return float64(x), true
	case lua.LString:
		f, err := strconv.ParseFloat(strings.TrimSpace(string(x)), 64)
		if err == nil {
			return f, true
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(string(x)), 0, 64); err == nil {
			return float64(n), true
		}
	}
	return 0, false
}

func (e *scriptEngine) luaSha1hex(L *lua.LState) int {
	if L.GetTop() != 1 {
		e.raiseErr(L, "wrong number of arguments")
	}
	s, _ := luaText(L.Get(1))
	sum := sha1.Sum([]byte(s))
	L.Push(lua.LString(hex.EncodeToString(sum[:])))
	return 1
}

// luaLog implements redis.log: the message is the script's own text and
// goes to the server log at the mapped level.
func (e *scriptEngine) luaLog(L *lua.LState) int {
	argc := L.GetTop()
	if argc < 2 {
		e.raiseErr(L, "redis.log() requires two arguments or more.")
	}
	lv, ok := luaToNumber(L.Get(1))
	if !ok {
		e.raiseErr(L, "First argument must be a number (log level).")
	}
	level := int(lv)
	if level < logDebug || level > logWarning {
		e.raiseErr(L, "Invalid debug level.")
	}
	var b strings.Builder
	for j := 2; j <= argc; j++ {
		s, ok := luaText(L.Get(j))
		if !ok {
			continue
		}
		if j != 2 {
			b.WriteByte(' ')
		}
		b.WriteString(s)
	}
	log := e.srv.log
	switch level {
	case logWarning:
		log.Warn().Msg(b.String())
	case logNotice:
		log.Info().Msg(b.String())
	default:
		log.Debug().Msg(b.String())
	}
	return 0
}

func (e *scriptEngine) luaSetresp(L *lua.LState) int {
	if L.GetTop() != 1 {
		e.raiseErr(L, "redis.setresp() requires one argument.")
	}
	f, _ := luaToNumber(L.Get(1))
	resp := int(f)
	if resp != 2 && resp != 3 {
		e.raiseErr(L, "RESP version must be 2 or 3.")
	}
	e.fake.proto = resp
	return 0
}

// luaSetRepl records where the script's effects go. Scripts are always
// propagated as their effects (Redis 7 semantics); the flags matter once
// propagation exists.
func (e *scriptEngine) luaSetRepl(L *lua.LState) int {
	if L.GetTop() != 1 {
		e.raiseErr(L, "redis.set_repl() requires two arguments.")
	}
	f, _ := luaToNumber(L.Get(1))
	flags := int(f)
	if flags&^replAll != 0 {
		e.raiseErr(L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.")
	}
	e.run.repl = flags
	return 0
}

// luaACLCheckCmd implements redis.acl_check_cmd. Celerity's only user is
// the default one, allowed everything, so a known command is allowed.
func (e *scriptEngine) luaACLCheckCmd(L *lua.LState) int {
	argv, msg := e.luaArgv(L)
	if msg != "" {
		e.raiseErr(L, msg)
	}
	if e.srv.table.lookupArgv(argv) == nil {
		e.raiseErr(L, "Invalid command passed to redis.acl_check_cmd()")
	}
	L.Push(lua.LTrue)
	return 1
}

// errHandler is __redis__err__handler: what Redis's message handler
// makes of an error object, {err=..., source=..., line=...}, located at
// the function that called the handler.
func (e *scriptEngine) errHandler(L *lua.LState) int {
	out := e.errorInfo(L.Get(1))
	if chunk, line, ok := luaFrame(L, 1); ok {
		out.RawSetString("source", lua.LString(e.sourceName(chunk)))
		out.RawSetString("line", lua.LNumber(line))
	}
	L.Push(out)
	return 1
}

// errorInfo normalizes an error object as Redis's handler does: a table
// keeps its err text (and its stats flag), anything else becomes
// "ERR <tostring(obj)>".
func (e *scriptEngine) errorInfo(obj lua.LValue) *lua.LTable {
	out := e.L.CreateTable(0, 4)
	if t, ok := obj.(*lua.LTable); ok {
		if r := e.real(t); r != nil {
			t = r
		}
		if s, ok := t.RawGetString("err").(lua.LString); ok {
			out.RawSetString("err", s)
		} else {
			// Redis 7.0.15 crashes on such an error object (a NULL
			// message); answer something a client can read.
			out.RawSetString("err", lua.LString("ERR unknown error"))
		}
		if t.RawGetString("ignore_error_stats_update") == lua.LTrue {
			out.RawSetString("ignore_error_stats_update", lua.LTrue)
		}
		return out
	}
	out.RawSetString("err", lua.LString("ERR "+luaMessage(luaToString(e.L, obj))))
	return out
}

// sourceName turns a chunk id back into the source name Redis reports:
// "@user_script" for scripts, the raw name given to loadstring.
func (e *scriptEngine) sourceName(chunk string) string {
	if chunk == luaMainChunk {
		return "@" + luaMainChunk
	}
	if raw, ok := e.chunkNames[chunk]; ok {
		return raw
	}
	return chunk
}

// luaArgErrorName matches gopher-lua's "bad argument #n to name (" where
// Lua quotes the function's name.
var luaArgErrorName = regexp.MustCompile(`bad argument #(\d+) to ([A-Za-z_][A-Za-z0-9_.:]*) \(`)

// luaMessage rewrites the parts of gopher-lua's error texts that Lua 5.1
// words differently and that scripts commonly hit.
func luaMessage(s string) string {
	if strings.Contains(s, "bad argument #") {
		s = luaArgErrorName.ReplaceAllString(s, "bad argument #$1 to '$2' (")
	}
	return s
}

// luaToString is Lua's tostring.
func luaToString(L *lua.LState, v lua.LValue) string {
	switch x := v.(type) {
	case lua.LString:
		return string(x)
	case lua.LNumber:
		return luaNumberString(float64(x))
	}
	return L.ToStringMeta(v).String()
}

// luaNumberString formats a number as Lua 5.1's tostring does ("%.14g").
func luaNumberString(f float64) string {
	var tmp [32]byte
	return string(appendLuaNumber(tmp[:0], f, 14))
}

// appendLuaNumber formats f as C's "%.<prec>g", with C's inf/nan
// spellings: Redis formats redis.call number arguments with %.17g and Lua
// formats strings with %.14g.
func appendLuaNumber(dst []byte, f float64, prec int) []byte {
	switch {
	case math.IsNaN(f):
		// x86's default NaN (0/0) has the sign bit set: glibc prints it
		// as "-nan", and so does Redis.
		if math.Signbit(f) {
			return append(dst, "-nan"...)
		}
		return append(dst, "nan"...)
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	}
	return strconv.AppendFloat(dst, f, 'g', prec, 64)
}

// keepUpvaluesOnError works around a gopher-lua 1.1.2 bug. When an error
// is raised and the state has no message handler, gopher-lua closes the
// open upvalues of every frame on the stack, including the frames that
// survive because a pcall below catches the error. A closure that keeps
// running afterwards then updates a detached copy of its outer local:
//
//	local errors = 0
//	local function try(k) if not pcall(redis.call, 'incr', k) then errors = errors + 1 end end
//
// leaves errors at 0. gopher-lua skips that step while its private
// hasErrorFunc flag is set, which PCall clears whenever it returns; so the
// flag is set before every script and after every pcall, xpcall and
// coroutine wrap. The cost is that upvalues of the frames an error does
// discard stay open (a closure created inside a failed pcall and kept
// after it may see a reused register): far rarer in scripts than the
// pattern above. If the field ever disappears, nothing is done and
// TestScriptPcallKeepsOuterLocals fails.
func keepUpvaluesOnError(L *lua.LState) {
	if off, ok := luaHasErrorFuncOffset(); ok {
		*(*bool)(unsafe.Add(unsafe.Pointer(L), off)) = true
	}
}

// luaHasErrorFuncOffset finds LState.hasErrorFunc once per process.
var luaHasErrorFuncOffset = sync.OnceValues(func() (uintptr, bool) {
	f, ok := reflect.TypeOf(lua.LState{}).FieldByName("hasErrorFunc")
	if !ok || f.Type.Kind() != reflect.Bool {
		return 0, false
	}
	return f.Offset, true
})
