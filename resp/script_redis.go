package resp

import (
	"crypto/sha1"
	"encoding/hex"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// The redis.* API scripts call, the error tables it deals in, and how an
// error is located in the script (for "on @user_script:<line>.").

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

// luaACLCheckCmd implements redis.acl_check_cmd: whether the script's
// caller may run the command (nothing is logged).
func (e *scriptEngine) luaACLCheckCmd(L *lua.LState) int {
	argv, msg := e.luaArgv(L)
	if msg != "" {
		e.raiseErr(L, msg)
	}
	cmd := e.srv.table.lookupArgv(argv)
	if cmd == nil {
		e.raiseErr(L, "Invalid command passed to redis.acl_check_cmd()")
	}
	r, _ := e.srv.acl.check(e.fake.user, cmd, argv)
	L.Push(lua.LBool(r == aclOK))
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
