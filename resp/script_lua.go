package resp

import (
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// The Lua sandbox: which libraries scripts see and how the globals are
// made read-only. The redis.* API is in script_redis.go, conversions
// between Lua values and RESP in script_convert.go.
//
// # Libraries
//
// Exactly the globals Redis 7.0 exposes, minus the ones Celerity does not
// implement (cmsgpack, struct): the base functions (without
// print, dofile, loadfile, require, module, getfenv, setfenv, newproxy),
// table, string, math, coroutine, bit (script_libs.go) and cjson
// (script_cjson.go), plus redis, KEYS and ARGV. There is
// no os, io, debug or package: nothing reaches files, processes or the
// interpreter's internals. gopher-lua cannot load bytecode at all, so
// loadstring(string.dump(f)) fails as in Redis (string.dump returns only a
// chunk header).
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
		SkipOpenLibs:     true,
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
	g.RawSetString("bit", newBitLibrary(L))
	g.RawSetString("cjson", e.newCjsonLibrary(L))
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
		} else if v == e.cjsonNull {
			// Redis's cjson.null is a NULL light userdata.
			L.Push(lua.LString("userdata: (nil)"))
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
