package resp

import (
	"crypto/sha1"
	"encoding/hex"
	"math"
	"strconv"
	"strings"

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
// past 20000 nested calls; the registry (gopher-lua's value stack) may grow
// to 4 MB of values so unpack() or deep recursion cannot take the server's
// memory.
const (
	luaCallStackSize   = 20000
	luaRegistrySize    = 1024
	luaRegistryMaxSize = 256 * 1024
	luaRegistryGrow    = 1024
)

// newLuaState builds the sandboxed interpreter of e. Called once per
// server, on the first script.
func (e *scriptEngine) newLuaState() {
	L := lua.NewState(lua.Options{
		SkipOpenLibs:        true,
		CallStackSize:       luaCallStackSize,
		MinimizeStackMemory: true,
		RegistrySize:        luaRegistrySize,
		RegistryMaxSize:     luaRegistryMaxSize,
		RegistryGrowStep:    luaRegistryGrow,
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
	e.handler = L.NewFunction(e.errHandler)
	g.RawSetString("__redis__err__handler", e.handler)
	g.RawSetString("KEYS", L.NewTable())
	g.RawSetString("ARGV", L.NewTable())

	// Undefined globals are an error, not nil: a typo in a script must not
	// silently read nil (Redis's globals protection).
	gmt := L.NewTable()
	gmt.RawSetString("__index", L.NewFunction(luaNonexistentGlobal))
	g.Metatable = gmt

	e.roNewIndex = L.NewFunction(func(L *lua.LState) int {
		L.RaiseError(errReadonlyTable)
		return 0
	})
	e.proxyOf = map[*lua.LTable]*lua.LTable{}
	e.realOf = map[*lua.LTable]*lua.LTable{}
	e.env = e.protect(g)
	if smt, ok := L.GetMetatable(lua.LString("")).(*lua.LTable); ok {
		e.protectFields(smt)
	}
	// The context makes gopher-lua call run.Done before every
	// instruction: the time-limit and SCRIPT KILL hook (script.go).
	L.SetContext(&e.run)
}

func luaNonexistentGlobal(L *lua.LState) int {
	name := "(null)"
	switch k := L.Get(2).(type) {
	case lua.LString:
		name = string(k)
	case lua.LNumber:
		name = luaNumberString(float64(k))
	}
	L.RaiseError("Script attempted to access nonexistent global variable '%s'", name)
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
func raiseReadonly(L *lua.LState) {
	L.Error(lua.LString(errReadonlyTable), 0)
}

// patchBase replaces the base functions whose gopher-lua versions would
// see through or past the read-only proxies, or differ from Redis.
func (e *scriptEngine) patchBase(L *lua.LState, g *lua.LTable) {
	set := func(name string, fn lua.LGFunction) { g.RawSetString(name, L.NewFunction(fn)) }
	orig := func(name string) lua.LGFunction { return g.RawGetString(name).(*lua.LFunction).GFunction }

	setmetatable := orig("setmetatable")
	set("setmetatable", func(L *lua.LState) int {
		if e.real(L.Get(1)) != nil {
			raiseReadonly(L)
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
			raiseReadonly(L)
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
	loadstring := orig("loadstring")
	set("loadstring", func(L *lua.LState) int {
		src := L.CheckString(1)
		raw := L.OptString(2, src)
		L.SetTop(1)
		L.Push(lua.LString(e.chunkID(raw)))
		return e.setLoadedEnv(L, loadstring(L))
	})
	load := orig("load")
	set("load", func(L *lua.LState) int {
		L.CheckFunction(1)
		raw := L.OptString(2, "=(load)")
		L.SetTop(1)
		L.Push(lua.LString(e.chunkID(raw)))
		return e.setLoadedEnv(L, load(L))
	})
}

// luaReportedKB is what collectgarbage("count") and gcinfo() report: the
// same constant INFO gives as used_memory_lua (Go's heap is shared, so a
// per-interpreter figure does not exist).
const luaReportedKB = 32

// setLoadedEnv gives a function made by load or loadstring the read-only
// globals: gopher-lua would give it the real ones.
func (e *scriptEngine) setLoadedEnv(L *lua.LState, n int) int {
	if n >= 1 {
		if fn, ok := L.Get(-n).(*lua.LFunction); ok {
			fn.Env = e.env
		}
	}
	if n == 2 {
		if msg, ok := L.Get(-1).(lua.LString); ok {
			L.Replace(-1, lua.LString(luaCompileMessage(string(msg))))
		}
	}
	return n
}

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
	if err := L.PCall(L.GetTop()-1, lua.MultRet, nil); err != nil {
		obj := luaErrorObject(err)
		if t, ok := obj.(*lua.LTable); ok {
			if r := e.real(t); r != nil {
				t = r
			}
			switch m := t.RawGetString("err").(type) {
			case lua.LString, lua.LNumber:
				obj = m
			}
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
	for _, name := range []string{"insert", "remove", "sort"} {
		fn := tbl.RawGetString(name).(*lua.LFunction).GFunction
		tbl.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
			if e.real(L.Get(1)) != nil {
				raiseReadonly(L)
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
	str.RawSetString("gfind", str.RawGetString("gmatch"))
	str.RawSetString("dump", L.NewFunction(func(L *lua.LState) int {
		L.CheckFunction(1)
		L.RaiseError("unable to dump given function")
		return 0
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
	// Coroutines run on their own gopher-lua state; give each the
	// script's context so the time limit and SCRIPT KILL reach code
	// running inside them too.
	newThread := func(L *lua.LState) *lua.LState {
		create(L)
		th := L.Get(-1).(*lua.LState)
		th.SetContext(&e.run)
		return th
	}
	co.RawSetString("create", L.NewFunction(func(L *lua.LState) int {
		newThread(L)
		return 1
	}))
	co.RawSetString("wrap", L.NewFunction(func(L *lua.LState) int {
		th := newThread(L)
		L.Push(L.NewClosure(func(L *lua.LState) int {
			L.Insert(th, 1)
			top := L.GetTop()
			n := resume(L)
			results := L.GetTop() - n
			if L.Get(results+1) == lua.LFalse {
				// Like Lua's auxwrap: propagate the error, with the
				// caller's position when it is a message.
				obj := L.Get(-1)
				if s, ok := obj.(lua.LString); ok {
					L.RaiseError("%s", string(s))
				}
				L.Error(obj, 0)
			}
			_ = top
			return n - 1
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

// luaRaise raises an {err=...} table error, the way Redis's library
// functions fail.
func luaRaise(L *lua.LState, text string) {
	L.Error(luaErrorTable(L, text), 0)
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
		luaRaise(L, "wrong number of arguments")
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
		luaRaise(L, "redis.log() requires two arguments or more.")
	}
	lv, ok := luaToNumber(L.Get(1))
	if !ok {
		luaRaise(L, "First argument must be a number (log level).")
	}
	level := int(lv)
	if level < logDebug || level > logWarning {
		luaRaise(L, "Invalid debug level.")
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
		luaRaise(L, "redis.setresp() requires one argument.")
	}
	f, _ := luaToNumber(L.Get(1))
	resp := int(f)
	if resp != 2 && resp != 3 {
		luaRaise(L, "RESP version must be 2 or 3.")
	}
	e.fake.proto = resp
	return 0
}

// luaSetRepl records where the script's effects go. Scripts are always
// propagated as their effects (Redis 7 semantics); the flags matter once
// propagation exists.
func (e *scriptEngine) luaSetRepl(L *lua.LState) int {
	if L.GetTop() != 1 {
		luaRaise(L, "redis.set_repl() requires two arguments.")
	}
	f, _ := luaToNumber(L.Get(1))
	flags := int(f)
	if flags&^replAll != 0 {
		luaRaise(L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.")
	}
	e.run.repl = flags
	return 0
}

// luaACLCheckCmd implements redis.acl_check_cmd. Celerity's only user is
// the default one, allowed everything, so a known command is allowed.
func (e *scriptEngine) luaACLCheckCmd(L *lua.LState) int {
	argv, msg := e.luaArgv(L)
	if msg != "" {
		luaRaise(L, msg)
	}
	if e.srv.table.lookupArgv(argv) == nil {
		luaRaise(L, "Invalid command passed to redis.acl_check_cmd()")
	}
	L.Push(lua.LTrue)
	return 1
}

// errHandler is the message handler of every script call (and the global
// __redis__err__handler, as in Redis). gopher-lua runs it before the Lua
// stack unwinds, so it can tell where the error was raised: the function
// that raised it or, when that is a Go function (redis.call, error), its
// caller. It returns {err=..., source=..., line=...}; an error that is not
// a table becomes "ERR " followed by its text.
func (e *scriptEngine) errHandler(L *lua.LState) int {
	obj := L.Get(1)
	out := L.CreateTable(0, 4)
	switch v := obj.(type) {
	case *lua.LTable:
		if r := e.real(v); r != nil {
			v = r
		}
		if s, ok := v.RawGetString("err").(lua.LString); ok {
			out.RawSetString("err", s)
		} else {
			// Redis 7.0.15 crashes on such an error object (a NULL
			// message); answer something a client can read.
			out.RawSetString("err", lua.LString("ERR unknown error"))
		}
		if v.RawGetString("ignore_error_stats_update") == lua.LTrue {
			out.RawSetString("ignore_error_stats_update", lua.LTrue)
		}
	default:
		s, _ := luaText(obj)
		switch obj {
		case lua.LNil:
			s = "nil"
		case lua.LTrue:
			s = "true"
		case lua.LFalse:
			s = "false"
		}
		if _, isText := luaText(obj); !isText && s == "" {
			s = L.ToStringMeta(obj).String()
		}
		out.RawSetString("err", lua.LString("ERR "+s))
	}
	if e.run.killed {
		out.RawSetString("err", lua.LString(errScriptKilled))
	}
	for level := 1; level <= 2; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			break
		}
		if _, err := L.GetInfo("Sl", dbg, lua.LNil); err != nil {
			break
		}
		if dbg.What == "G" {
			continue
		}
		src := dbg.Source
		if src == luaMainChunk {
			src = "@" + luaMainChunk
		} else if raw, ok := e.chunkNames[src]; ok {
			src = raw
		}
		out.RawSetString("source", lua.LString(src))
		out.RawSetString("line", lua.LNumber(dbg.CurrentLine))
		break
	}
	L.Push(out)
	return 1
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
