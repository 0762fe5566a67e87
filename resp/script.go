package resp

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// Scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT, as Redis 7.0's
// eval.c and script.c.
//
//   - One Lua interpreter per server (script_lua.go builds its sandbox),
//     created on first use and kept: a script is compiled once per SHA1 and
//     the compiled function cached (EVAL caches too, as Redis does); only
//     KEYS and ARGV are rebuilt per call.
//   - A script runs inside the unit of the command that called it, under
//     the engine lock the handler already holds: it is atomic like any
//     command, and clients blocked on keys it pushed to are served after
//     it, with the rest of the unit.
//   - redis.call/pcall run commands through the same table on a fake
//     client that shares the caller's database and user. SELECT inside a
//     script moves only the fake client (Redis 7). Its writes signal
//     modified keys and count as writes exactly like a client's.
//   - Propagation (AOF) will record scripts as their effects: the
//     commands they ran, not the script.
//   - Long scripts: past busy-reply-threshold (lua-time-limit) the
//     instruction hook calls scriptBusyTick, where other clients are to be
//     answered -BUSY and SCRIPT KILL can set the kill flag, which the hook
//     turns into the script's error at the next instruction.

// Redis 7.0's scripting error texts.
const (
	errNoScript       = "NOSCRIPT No matching script. Please use EVAL."
	errNotBusy        = "NOTBUSY No scripts in execution right now."
	errUnkillable     = "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."
	errScriptKilled   = "ERR Script killed by user with SCRIPT KILL..."
	errCompilePrefix  = "ERR Error compiling script (new function): "
	errNumkeysTooMany = "ERR Number of keys can't be greater than number of args"
	errNumkeysNeg     = "ERR Number of keys can't be negative"
)

// scriptHookEvery is how many Lua instructions run between two looks at
// the clock: a few microseconds of work, so the time limit is precise to
// well under a millisecond and the hook costs nothing measurable.
const scriptHookEvery = 4096

// cachedScript is a compiled script of the cache.
type cachedScript struct {
	sha      string
	fn       *lua.LFunction
	size     int64 // bytes charged to used_memory_scripts_eval
	readOnly bool  // shebang flags=no-writes
	flagged  bool  // has a shebang: its flags replace EVAL's (evict.go)
	allowOOM bool  // shebang flags=allow-oom
}

// scriptEngine is a server's Lua interpreter and script cache. Everything
// in it is used under the engine lock.
type scriptEngine struct {
	srv   *Server
	L     *lua.LState
	cache map[string]*cachedScript // by lower-case SHA1 hex
	bytes int64

	// fake is the client scripts run commands as, reused across calls.
	fake *Client
	// run is the state of the script in execution; it is also L's
	// context, which is how gopher-lua hands us every instruction.
	run scriptRun
	// closed is returned by run.Done once the script is killed: a closed
	// channel makes gopher-lua raise at every following instruction, so
	// not even a pcall can swallow the kill.
	closed chan struct{}

	globals    *lua.LTable // the real globals (gopher-lua's G.Global)
	env        *lua.LTable // their read-only proxy: the scripts' _G
	proxyOf    map[*lua.LTable]*lua.LTable
	realOf     map[*lua.LTable]*lua.LTable
	roNewIndex *lua.LFunction
	chunkNames map[string]string // loadstring chunk id → raw name

	// raised is the last error raised by our Go functions and where
	// (see raise).
	raised struct {
		obj   lua.LValue
		chunk string
		line  int
		ok    bool
	}

	// busyHook, when set (tests only), runs after scriptBusyTick: it
	// stands for the clients a real busy tick would serve, e.g. one
	// sending SCRIPT KILL.
	busyHook func()

	// cjson is the global cjson module, cjsonNull its null value.
	cjson     *cjsonModule
	cjsonNull *lua.LUserData

	// innerErrors counts the error replies of the current script's
	// redis.call/pcall calls.
	innerErrors int64

	// Reused by redis.call: the argument vector and its bytes.
	argv  [][]byte
	arena []byte
	ends  []int
}

// scriptRun is the state of one script execution. It implements
// context.Context for gopher-lua, which calls Done before every
// instruction when a context is set: the only per-instruction hook the
// interpreter offers.
type scriptRun struct {
	eng      *scriptEngine
	caller   *Client // the client whose EVAL runs the script
	active   bool
	sha      string
	start    time.Time
	ticks    uint32
	timedOut bool // past busy-reply-threshold: other clients get -BUSY
	killed   bool // SCRIPT KILL accepted
	wrote    bool // a write command ran: SCRIPT KILL answers UNKILLABLE
	readOnly bool // EVAL_RO, EVALSHA_RO or flags=no-writes
	allowOOM bool // flags=allow-oom: writes go on past maxmemory
	repl     int  // redis.set_repl flags
}

// Deadline implements context.Context.
func (r *scriptRun) Deadline() (time.Time, bool) { return time.Time{}, false }

// Value implements context.Context.
func (r *scriptRun) Value(any) any { return nil }

// Err implements context.Context: the text gopher-lua raises once Done
// returned a closed channel (replyScriptError replaces it by Redis's
// message).
func (r *scriptRun) Err() error {
	if r.killed {
		return scriptKilledError{}
	}
	return nil
}

// scriptKilledError is the context error of a killed script.
type scriptKilledError struct{}

func (scriptKilledError) Error() string { return errScriptKilled }

// Done implements context.Context; gopher-lua calls it before every
// instruction. A nil channel lets the instruction run.
func (r *scriptRun) Done() <-chan struct{} {
	if r.killed {
		return r.eng.closed
	}
	r.ticks++
	if r.ticks%scriptHookEvery != 0 || !r.active {
		return nil
	}
	return r.tick()
}

// tick checks the time limit, and once past it lets the server serve
// other clients, one of whom may send SCRIPT KILL.
func (r *scriptRun) tick() <-chan struct{} {
	s := r.eng.srv
	if !r.timedOut {
		if time.Since(r.start) < time.Duration(s.cfg.BusyReplyThreshold)*time.Millisecond {
			return nil
		}
		r.timedOut = true
	}
	s.scriptBusyTick()
	if r.eng.busyHook != nil {
		r.eng.busyHook()
	}
	if r.killed {
		return r.eng.closed
	}
	return nil
}

// scriptBusyTick is called (with the engine lock held) from inside a
// script that has run longer than busy-reply-threshold, every
// scriptHookEvery instructions. It is where the server must keep serving
// other clients while the script runs, as Redis's
// processEventsWhileBlocked: read their requests and answer
// "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or
// SHUTDOWN NOSAVE." to everything but commands flagged AllowBusy (SCRIPT
// KILL among them, which calls scriptKill), and log Redis's "Slow script
// detected" warning once. The script in execution is s.scripts.run: its
// caller (whose connection must not be read meanwhile) and start time.
// When the script ends, runScript clears run.active; ScriptRunning turns
// false.
func (s *Server) scriptBusyTick() {
	if r := &s.scripts.run; r.active {
		s.serveWhileBusy(r.caller, r.start)
	}
}

// ScriptRunning reports whether a script is in execution and past its
// time limit, i.e. whether other clients must be answered -BUSY.
func (s *Server) ScriptRunning() bool {
	return s.scripts != nil && s.scripts.run.active && s.scripts.run.timedOut
}

// scriptKill is SCRIPT KILL: it asks the running script to stop at its
// next instruction and returns "" or the error to reply.
func (s *Server) scriptKill() string {
	e := s.scripts
	if e == nil || !e.run.active {
		return errNotBusy
	}
	if e.run.wrote {
		return errUnkillable
	}
	e.run.killed = true
	return ""
}

// scriptEngine returns the server's engine, building the interpreter on
// first use (a server that never runs a script never pays for it).
func (s *Server) scriptEngine() *scriptEngine {
	if s.scripts == nil {
		e := &scriptEngine{
			srv:        s,
			cache:      map[string]*cachedScript{},
			closed:     make(chan struct{}),
			chunkNames: map[string]string{},
		}
		close(e.closed)
		e.run.eng = e
		e.fake = &Client{srv: s, flags: flagScript, authenticated: true, ReplyWriter: ReplyWriter{proto: 2}}
		e.newLuaState()
		s.scripts = e
	}
	return s.scripts
}

// sha1Hex returns the lower-case hex SHA1 of b.
func sha1Hex(b []byte) string {
	sum := sha1.Sum(b)
	return hex.EncodeToString(sum[:])
}

// load returns the cached script of body, compiling and caching it first.
// On failure it returns Redis's error text.
func (e *scriptEngine) load(body []byte) (*cachedScript, string) {
	sha := sha1Hex(body)
	if sc := e.cache[sha]; sc != nil {
		return sc, ""
	}
	src, readOnly, msg := parseShebang(body)
	if msg != "" {
		return nil, msg
	}
	fn, err := e.L.Load(bytes.NewReader(src), luaMainChunk)
	if err != nil {
		return nil, errCompilePrefix + luaCompileError(err, src, luaMainChunk)
	}
	// Compiled functions get the read-only globals; their closures
	// inherit them.
	fn.Env = e.env
	dropVarargTable(fn)
	sc := &cachedScript{sha: sha, fn: fn, size: int64(len(body)) + 128, readOnly: readOnly}
	sc.flagged, sc.allowOOM = shebangAllowsOOM(body)
	e.cache[sha] = sc
	e.bytes += sc.size
	return sc, ""
}

// dropVarargTable stops gopher-lua from building Lua 5.0's implicit "arg"
// table on every call of a main chunk: no name can reach it there (only
// nested vararg functions have an arg local), and it was most of what a
// call of a small script allocated.
func dropVarargTable(fn *lua.LFunction) {
	fn.Proto.IsVarArg &^= lua.VarArgNeedsArg
}

// parseShebang handles Redis 7's "#!lua flags=..." first line. It returns
// the source to compile, with the shebang line blanked so line numbers
// stay those of the script.
func parseShebang(body []byte) (src []byte, readOnly bool, msg string) {
	if !bytes.HasPrefix(body, []byte("#!")) {
		return body, false, ""
	}
	nl := bytes.IndexByte(body, '\n')
	if nl < 0 {
		return nil, false, "ERR Invalid script shebang"
	}
	parts := strings.Fields(string(body[:nl]))
	if len(parts) == 0 || parts[0] != "#!lua" {
		engine := ""
		if len(parts) > 0 {
			engine = parts[0]
		}
		return nil, false, "ERR Unexpected engine in script shebang: " + engine
	}
	for _, p := range parts[1:] {
		flags, ok := strings.CutPrefix(p, "flags=")
		if !ok {
			return nil, false, "ERR Unknown lua shebang option: " + p
		}
		for _, f := range strings.Split(flags, ",") {
			switch f {
			case "no-writes":
				readOnly = true
			case "", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys":
			default:
				return nil, false, "ERR Unexpected flag in script shebang: " + f
			}
		}
	}
	return body[nl:], readOnly, ""
}

// luaCompileError renders a gopher-lua compile error in Lua 5.1's shape,
// "<chunk>:<line>: <message> near '<token>'". gopher-lua's parser words
// some messages differently from Lua's (it says "syntax error" both where
// Lua says "unexpected symbol" and where it says "'end' expected"); the
// position and the token are exact.
func luaCompileError(err error, src []byte, chunk string) string {
	if ae, ok := err.(*lua.ApiError); ok && ae.Cause != nil {
		err = ae.Cause
	}
	var pe *parse.Error
	if errors.As(err, &pe) {
		line := pe.Pos.Line
		tok := pe.Token
		if line == parse.EOF {
			line = bytes.Count(src, []byte("\n")) + 1
			tok = "<eof>"
		}
		msg := pe.Message
		switch msg {
		case "syntax error":
			msg = "unexpected symbol"
		case "unterminated string":
			msg, tok = "unfinished string", "<eof>"
		case "unterminated multiline string":
			msg, tok = "unfinished long string", "<eof>"
		case "invalid multiline comment":
			msg, tok = "unfinished long comment", "<eof>"
		case "illegal hexadecimal number":
			msg = "malformed number"
		case "Invalid token":
			msg = "unexpected symbol"
		}
		// Lua shows a control character as char(N).
		if len(tok) == 1 && (tok[0] < ' ' || tok[0] == 0x7f) {
			tok = "char(" + strconv.Itoa(int(tok[0])) + ")"
		}
		return chunk + ":" + strconv.Itoa(line) + ": " + msg + " near '" + tok + "'"
	}
	var ce *lua.CompileError
	if errors.As(err, &ce) {
		return chunk + ":" + strconv.Itoa(ce.Line) + ": " + ce.Message
	}
	return strings.TrimRight(err.Error(), "\n")
}

// evalGenericCommand implements EVAL, EVALSHA and their _RO forms.
func evalGenericCommand(c *Client, evalsha, readOnly bool) {
	// A SHA1 of the wrong length cannot match: Redis answers NOSCRIPT
	// before looking at numkeys.
	if evalsha && len(c.argv[1]) != 40 {
		c.Error(errNoScript)
		return
	}
	numkeys, ok := parseStrictInt(c.argv[2])
	if !ok {
		c.Error(errNotInteger)
		return
	}
	if numkeys > int64(len(c.argv)-3) {
		c.Error(errNumkeysTooMany)
		return
	}
	if numkeys < 0 {
		c.Error(errNumkeysNeg)
		return
	}
	e := c.srv.scriptEngine()
	var sc *cachedScript
	if evalsha {
		sc = e.lookupSHA(c.argv[1])
		if sc == nil {
			c.Error(errNoScript)
			return
		}
	} else {
		var msg string
		if sc, msg = e.load(c.argv[1]); sc == nil {
			c.Error(msg)
			return
		}
	}
	keys := c.argv[3 : 3+numkeys]
	args := c.argv[3+numkeys:]
	e.runScript(c, sc, keys, args, readOnly || sc.readOnly)
	c.preventPropagation() // scripts propagate their effects (prop.go)
}

// lookupSHA finds a cached script by SHA1, in any letter case.
func (e *scriptEngine) lookupSHA(sha []byte) *cachedScript {
	if len(sha) != 40 {
		return nil
	}
	var lower [40]byte
	for i, ch := range sha {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		lower[i] = ch
	}
	return e.cache[string(lower[:])]
}

// runScript calls a compiled script with KEYS and ARGV and replies with
// its result. Called with the engine lock held, from the handler.
func (e *scriptEngine) runScript(c *Client, sc *cachedScript, keys, args [][]byte, readOnly bool) {
	L := e.L
	g := e.globals
	g.RawSetString("KEYS", luaStringArray(L, keys))
	g.RawSetString("ARGV", luaStringArray(L, args))

	f := e.fake
	f.db, f.user, f.proto, f.flags = c.db, c.user, 2, flagScript
	f.buf = f.buf[:0]
	e.run = scriptRun{eng: e, caller: c, active: true, sha: sc.sha, start: time.Now(), readOnly: readOnly, allowOOM: sc.allowOOM, repl: replAll}
	e.raised.obj = nil
	e.innerErrors = 0
	e.resetCjson()

	L.Push(sc.fn)
	keepUpvaluesOnError(L)
	if err := e.pcall(); err != nil {
		e.replyScriptError(c, sc, err)
	} else {
		e.writeLuaReply(c, L.Get(-1), 0)
	}
	e.run.active = false
	e.run.killed = false
	e.run.caller = nil
	e.srv.endBusy()
	if e.L == L {
		L.SetTop(0)
		g.RawSetString("KEYS", lua.LNil)
		g.RawSetString("ARGV", lua.LNil)
	}
	clear(e.chunkNames)
	e.raised.obj = nil
	f.db = nil
	f.argv = nil
	// Errors of the commands the script ran (and of the calls it made
	// that were refused) are charged to those commands, not to the
	// script: Redis counts an error against the innermost command only,
	// which call() learns the way it does for EXEC.
	c.mstate.execErrors += e.innerErrors
}

// pcall calls the function on top of the stack. gopher-lua turns Lua
// errors and Go panics under it into an error; anything that still
// escapes (a bug in the interpreter) must not take the server down: the
// interpreter is then rebuilt, since its stacks may be inconsistent, and
// the cached scripts are rebound to the new one.
func (e *scriptEngine) pcall() (err error) {
	defer func() {
		if r := recover(); r != nil {
			e.srv.log.Error().Interface("panic", r).Msg("Lua interpreter failed; rebuilding it")
			e.newLuaState()
			for _, sc := range e.cache {
				sc.fn.Env = e.env
			}
			err = &lua.ApiError{Type: lua.ApiErrorPanic, Object: lua.LString("internal error in the Lua interpreter")}
		}
	}()
	return e.L.PCall(0, 1, nil)
}

// luaStringArray builds KEYS or ARGV.
func luaStringArray(L *lua.LState, items [][]byte) *lua.LTable {
	t := L.CreateTable(len(items), 0)
	for i, it := range items {
		t.RawSetInt(i+1, lua.LString(it))
	}
	return t
}

// replyScriptError answers a script that failed, as Redis: the error's
// message, then where it was raised ("<msg> script: <sha>, on
// @user_script:<line>."). A table error (what redis.call raises) keeps its
// text; anything else becomes "ERR <text>".
func (e *scriptEngine) replyScriptError(c *Client, sc *cachedScript, err error) {
	obj := luaErrorObject(err)
	info := e.errorInfo(obj)
	msg, _ := info.RawGetString("err").(lua.LString)
	text := string(msg)
	if e.run.killed {
		text = errScriptKilled
	}
	chunk, line, ok := e.errorPosition(obj)
	if ok {
		text += " script: " + sc.sha + ", on " + e.sourceName(chunk) + ":" + strconv.Itoa(line) + "."
	} else {
		text += " script: " + sc.sha
	}
	replyScriptErrorText(c, text, info.RawGetString("ignore_error_stats_update") == lua.LTrue)
}

// replyScriptErrorText writes an error a script produced. An error already
// counted when a command replied it (the table says
// ignore_error_stats_update) is not counted again; as in Redis, the
// script's command still counts as failed.
func replyScriptErrorText(c *Client, text string, counted bool) {
	if !counted {
		c.Error(text)
		return
	}
	c.rawError(text)
	if c.cmd != nil {
		c.cmd.stats.failed++
	}
}

// errorPosition finds where the script's error was raised: recorded by
// raise for our own functions, else read from the "chunk:line:" prefix
// that gopher-lua puts on the errors of the VM and its libraries.
func (e *scriptEngine) errorPosition(obj lua.LValue) (chunk string, line int, ok bool) {
	if e.raised.obj != nil && e.raised.obj == obj {
		return e.raised.chunk, e.raised.line, e.raised.ok
	}
	text, isText := obj.(lua.LString)
	if !isText {
		return "", 0, false
	}
	try := func(prefix string) bool {
		rest, found := strings.CutPrefix(string(text), prefix+":")
		if !found {
			return false
		}
		i := 0
		for i < len(rest) && '0' <= rest[i] && rest[i] <= '9' {
			i++
		}
		if i == 0 || i == len(rest) || rest[i] != ':' {
			return false
		}
		n, err := strconv.Atoi(rest[:i])
		if err != nil {
			return false
		}
		chunk, line, ok = prefix, n, true
		return true
	}
	if try(luaMainChunk) {
		return
	}
	for id := range e.chunkNames {
		if try(id) {
			return
		}
	}
	return "", 0, false
}

func evalCommand(c *Client)      { evalGenericCommand(c, false, false) }
func evalRoCommand(c *Client)    { evalGenericCommand(c, false, true) }
func evalShaCommand(c *Client)   { evalGenericCommand(c, true, false) }
func evalShaRoCommand(c *Client) { evalGenericCommand(c, true, true) }

func scriptLoadCommand(c *Client) {
	sc, msg := c.srv.scriptEngine().load(c.argv[2])
	if sc == nil {
		c.Error(msg)
		return
	}
	c.BulkString(sc.sha)
}

func scriptExistsCommand(c *Client) {
	e := c.srv.scripts
	c.Array(len(c.argv) - 2)
	for _, sha := range c.argv[2:] {
		if e != nil && e.lookupSHA(sha) != nil {
			c.Int(1)
		} else {
			c.Int(0)
		}
	}
}

// scriptFlushCommand empties the cache. ASYNC and SYNC are the same here:
// the compiled functions become garbage for Go's collector either way.
// The interpreter is kept: scripts cannot leave state in it (its globals
// are read-only), which is why Redis had to recreate its own.
func scriptFlushCommand(c *Client) {
	if len(c.argv) > 3 || len(c.argv) == 3 && !optIs(c.argv[2], "sync") && !optIs(c.argv[2], "async") {
		c.Error("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
		return
	}
	if e := c.srv.scripts; e != nil {
		e.cache = map[string]*cachedScript{}
		e.bytes = 0
	}
	c.OK()
}

func scriptKillCommand(c *Client) {
	if msg := c.srv.scriptKill(); msg != "" {
		c.Error(msg)
		return
	}
	c.OK()
}

// scriptDebugCommand accepts only NO: Celerity has no Lua debugger.
func scriptDebugCommand(c *Client) {
	switch {
	case optIs(c.argv[2], "no"):
		c.OK()
	case optIs(c.argv[2], "yes"), optIs(c.argv[2], "sync"):
		c.Error("ERR SCRIPT DEBUG is not supported: Celerity has no Lua debugger")
	default:
		c.Error("ERR Use SCRIPT DEBUG YES/SYNC/NO")
	}
}

func scriptHelpCommand(c *Client) {
	c.replyHelp([]string{
		"DEBUG (YES|SYNC|NO)",
		"    Set the debug mode for subsequent scripts executed.",
		"EXISTS <sha1> [<sha1> ...]",
		"    Return information about the existence of the scripts in the script cache.",
		"FLUSH [ASYNC|SYNC]",
		"    Flush the Lua scripts cache. Very dangerous on replicas.",
		"    When called without the optional mode argument, the behavior is determined by the",
		"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
		"    * ASYNC: Asynchronously flush the scripts cache.",
		"    * SYNC: Synchronously flush the scripts cache.",
		"KILL",
		"    Kill the currently executing Lua script.",
		"LOAD <script>",
		"    Load a script into the scripts cache without executing it.",
	})
}

// scriptCacheStats returns the number of cached scripts and the bytes
// charged to them, for INFO memory.
func (s *Server) scriptCacheStats() (n int, bytes int64) {
	if s.scripts == nil {
		return 0, 0
	}
	return len(s.scripts.cache), s.scripts.bytes
}
