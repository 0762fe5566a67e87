package resp

import (
	"strconv"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Scripting tests that the oracle cannot run: the SCRIPT KILL path (its
// busy tick is a stub until the reactor serves clients during a script),
// sandbox properties checked exhaustively, bounds where Redis 7.0.15
// crashes or would allocate gigabytes, and the interpreter's reuse.
// Replies Redis can produce are compared with it in
// integration/script_test.go.

// Scripts of the clients Celerity serves, the test fixtures of both test
// files. Source: redis-py 8.1.0 redis/lock.py (Lock.LUA_RELEASE_SCRIPT)
// and celery-redbeat 2.4.2 redbeat/schedulers.py (LUA_EXTEND_TO_SCRIPT).
const (
	testLockReleaseScript = "\n        local token = redis.call('get', KEYS[1])\n        if not token or token ~= ARGV[1] then\n            return 0\n        end\n        redis.call('del', KEYS[1])\n        return 1\n    "
	testExtendToScript    = "\n    local token = redis.call('get', KEYS[1])\n    if not token or token ~= ARGV[1] then\n        return 0\n    end\n    local expiration = redis.call('pttl', KEYS[1])\n    if not expiration then\n        expiration = 0\n    end\n    if expiration < 0 then\n        return 0\n    end\n    redis.call('pexpire', KEYS[1], ARGV[2])\n    return 1\n"
)

// testConfig is the configuration of the package's test servers: Redis's
// defaults, except that FLUSHALL, SHUTDOWN and save points write no
// dump.rdb into the package's directory.
func testConfig(t testing.TB) *Config {
	cfg := NewConfig()
	cfg.SavePoints, cfg.Dir = nil, t.TempDir()
	return cfg
}

// newScriptTestServer returns an engine that is not serving: commands run
// through processCommand on detached clients.
func newScriptTestServer(t testing.TB) *Server {
	t.Helper()
	s, err := NewServer(testConfig(t), Options{Logger: zerolog.Nop()})
	require.NoError(t, err)
	return s
}

func newScriptTestClient(s *Server, proto int) *Client {
	c := &Client{ReplyWriter: ReplyWriter{proto: proto}, srv: s, db: s.ks.DB(0), authenticated: true}
	c.id = s.nextID.Add(1)
	return c
}

// do runs one command as the dispatcher does and returns the raw reply.
func scriptDo(c *Client, args ...string) string {
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	c.argv = argv
	// Commands run under the engine lock, as in the server; a call from
	// busyHook is already inside the script's unit, which holds it.
	if c.srv.mu.TryLock() {
		defer c.srv.mu.Unlock()
	}
	c.processCommand()
	out := string(c.buf)
	c.buf = c.buf[:0]
	c.argv = nil
	return out
}

func TestScriptKillStopsALoopingScript(t *testing.T) {
	s := newScriptTestServer(t)
	c := newScriptTestClient(s, 2)
	other := newScriptTestClient(s, 2)
	assert.Equal(t, "-"+errNotBusy+"\r\n", scriptDo(other, "SCRIPT", "KILL"))

	s.cfg.BusyReplyThreshold = 0
	e := s.scriptEngine()
	var killReplies []string
	e.busyHook = func() {
		require.True(t, s.ScriptRunning())
		killReplies = append(killReplies, scriptDo(other, "SCRIPT", "KILL"))
	}
	for _, tc := range []struct{ name, script, line string }{
		{"plain loop", "while true do end", "1"},
		{"pcall cannot swallow the kill", "local ok = pcall(function()\n while true do end\nend)\nreturn 'survived'", ""},
		{"inside a coroutine", "coroutine.wrap(function() while true do end end)()", "1"},
		{"inside a created coroutine", "local co = coroutine.create(function() while true do end end)\ncoroutine.resume(co)\nreturn 'survived'", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			killReplies = nil
			got := scriptDo(c, "EVAL", tc.script, "0")
			sha := sha1Hex([]byte(tc.script))
			if tc.line == "" {
				// The kill is caught (by pcall, or by resume as an error
				// value) and raised again by the next instruction of the
				// main chunk.
				assert.True(t, strings.HasPrefix(got, "-"+errScriptKilled+" script: "+sha), got)
			} else {
				assert.Equal(t, "-"+errScriptKilled+" script: "+sha+", on @user_script:"+tc.line+".\r\n", got)
			}
			require.NotEmpty(t, killReplies)
			assert.Equal(t, "+OK\r\n", killReplies[0])
			assert.False(t, s.ScriptRunning())
		})
	}
	// The next script runs normally: the kill does not stick.
	e.busyHook = nil
	assert.Equal(t, ":3\r\n", scriptDo(c, "EVAL", "return 3", "0"))
	assert.Equal(t, "-"+errNotBusy+"\r\n", scriptDo(other, "SCRIPT", "KILL"))
}

func TestScriptKillRefusedAfterAWrite(t *testing.T) {
	s := newScriptTestServer(t)
	c := newScriptTestClient(s, 2)
	other := newScriptTestClient(s, 2)
	s.cfg.BusyReplyThreshold = 0
	var replies []string
	s.scriptEngine().busyHook = func() {
		if len(replies) == 0 {
			replies = append(replies, scriptDo(other, "SCRIPT", "KILL"))
		}
	}
	got := scriptDo(c, "EVAL", "redis.call('set', KEYS[1], 'v') local i = 0 while i < 200000 do i = i + 1 end return i", "1", "k")
	assert.Equal(t, ":200000\r\n", got, "an unkillable script runs to its end")
	assert.Equal(t, []string{"-" + errUnkillable + "\r\n"}, replies)
	assert.Equal(t, "$1\r\nv\r\n", scriptDo(c, "GET", "k"))
}

func TestScriptBusyThresholdGatesTheTick(t *testing.T) {
	s := newScriptTestServer(t)
	c := newScriptTestClient(s, 2)
	ticks := 0
	s.scriptEngine().busyHook = func() { ticks++ }
	// Default 5000 ms: a short loop never reaches the busy state.
	assert.Equal(t, ":100000\r\n", scriptDo(c, "EVAL", "local i = 0 while i < 100000 do i = i + 1 end return i", "0"))
	assert.Zero(t, ticks)
	assert.Equal(t, "+OK\r\n", scriptDo(c, "CONFIG", "SET", "lua-time-limit", "0"))
	assert.Equal(t, ":100000\r\n", scriptDo(c, "EVAL", "local i = 0 while i < 100000 do i = i + 1 end return i", "0"))
	assert.Positive(t, ticks)
}

// TestScriptSandboxHasNoWritableSharedTable walks every table a script
// can reach from its globals and the string metatable and tries to write
// into each, raw and through indexing: only KEYS and ARGV (rebuilt per
// call, writable in Redis too) may accept.
func TestScriptSandboxHasNoWritableSharedTable(t *testing.T) {
	s := newScriptTestServer(t)
	c := newScriptTestClient(s, 2)
	probe := `
local seen, leaked, tried = {}, {}, 0
local function walk(v, path)
  if type(v) ~= 'table' or seen[v] or v == KEYS or v == ARGV then return end
  seen[v] = true
  tried = tried + 1
  if pcall(rawset, v, '__probe', 1) then leaked[#leaked+1] = path .. ' (rawset)' end
  if pcall(function() v.__probe2 = 1 end) then leaked[#leaked+1] = path .. ' (index)' end
  if pcall(setmetatable, v, {}) then leaked[#leaked+1] = path .. ' (setmetatable)' end
  if pcall(table.insert, v, 1) then leaked[#leaked+1] = path .. ' (table.insert)' end
  local mt = getmetatable(v)
  if mt then walk(mt, path .. '<mt>') end
  for k, x in pairs(v) do walk(x, path .. '.' .. tostring(k)) end
end
walk(_G, '_G')
walk(getmetatable(''), '<string mt>')
if #leaked > 0 then return leaked end
return tried`
	got := scriptDo(c, "EVAL", probe, "0")
	require.True(t, strings.HasPrefix(got, ":"), "writable tables: %q", got)
	n, _ := strconv.Atoi(strings.TrimSpace(got[1:]))
	assert.GreaterOrEqual(t, n, 8, "tables visited (_G, its metatable, string, table, math, coroutine, redis, string metatable...)")

	// Attempts that Redis refuses leave nothing behind for the next script.
	for _, attack := range []string{
		"redis.call = function() return 'pwned' end",
		"rawset(redis, 'call', function() return 'pwned' end)",
		"getmetatable('').__index.rep = function() return 'pwned' end",
		"getmetatable('').__index = {}",
		"setmetatable(_G, nil)",
		"getmetatable(_G).__index = function() return 'pwned' end",
		"loadstring('x = 1')()",
		"table.insert(_G, 'pwned')",
		"coroutine.wrap(function() string.rep = nil end)()",
		"_G.redis = nil",
	} {
		reply := scriptDo(c, "EVAL", attack, "0")
		assert.True(t, strings.HasPrefix(reply, "-"), "%s was accepted: %q", attack, reply)
	}
	assert.Equal(t, "+OK\r\n", scriptDo(c, "EVAL", "return redis.call('set', 'k', ('v'):rep(2))", "0"))
	assert.Equal(t, "$2\r\nvv\r\n", scriptDo(c, "EVAL", "return redis.call('get', 'k')", "0"))
	assert.Equal(t, ":0\r\n", scriptDo(c, "EVAL", "return #_G + (rawget(_G, 'x') or 0)", "0"))
	// Unknown globals are an error, not nil.
	assert.Contains(t, scriptDo(c, "EVAL", "return x", "0"), "Script attempted to access nonexistent global variable 'x'")
}

func TestScriptSandboxLibraries(t *testing.T) {
	s := newScriptTestServer(t)
	c := newScriptTestClient(s, 2)
	for _, name := range []string{"os", "io", "debug", "package", "require", "dofile", "loadfile", "print", "getfenv", "setfenv", "module", "newproxy", "channel", "_GOPHER_LUA_VERSION"} {
		reply := scriptDo(c, "EVAL", "return type("+name+")", "0")
		assert.Contains(t, reply, "Script attempted to access nonexistent global variable '"+name+"'", name)
	}
	// gopher-lua has no bytecode loader at all.
	assert.Equal(t, "$-1\r\n", scriptDo(c, "EVAL", "return loadstring(string.dump(function() return 1 end))", "0"))
	assert.Equal(t, "$-1\r\n", scriptDo(c, "EVAL", "return load(function() return nil end)", "0"))
}

// TestScriptBounds: one call cannot allocate without bound or overflow the
// stacks into a panic; each failure is an ordinary script error.
func TestScriptBounds(t *testing.T) {
	s := newScriptTestServer(t)
	c := newScriptTestClient(s, 2)
	for _, tc := range []struct{ script, want string }{
		{"return string.rep('x', 2^40)", "not enough memory"},
		{"return ('ab'):rep(2^30)", "not enough memory"},
		{"return string.format('%100d', 1)", "invalid format (width or precision too long)"},
		{"return string.format('%1.100f', 1)", "invalid format (width or precision too long)"},
		{"return string.format('%------d', 1)", "invalid format (repeated flags)"},
		{"return select('#', unpack({}, 1, 100000))", "too many results to unpack"},
		{"local function f(n) return 1 + f(n + 1) end return f(1)", "ERR user_script:1: stack overflow"},
		{"local function f() local a,b,c,d,e,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u,v,w,x,y,z = 1 return 1 + f() end return f()", "overflow"},
		{"local function f() return pcall(f) end return f()", ""},
		{"error({})", "-ERR unknown error script: "},
	} {
		reply := scriptDo(c, "EVAL", tc.script, "0")
		assert.Contains(t, reply, tc.want, tc.script)
	}
	// The interpreter survived all of it.
	assert.Equal(t, ":7\r\n", scriptDo(c, "EVAL", "return 7", "0"))
	// Deep recursion within Lua 5.1's limit works.
	assert.Equal(t, ":10000\r\n", scriptDo(c, "EVAL", "local function f(n) if n == 0 then return 0 end return 1 + f(n-1) end return f(10000)", "0"))
}

// TestScriptPcallKeepsOuterLocals: a closure that catches errors keeps
// updating its outer locals (see keepUpvaluesOnError).
func TestScriptPcallKeepsOuterLocals(t *testing.T) {
	s := newScriptTestServer(t)
	c := newScriptTestClient(s, 2)
	for _, script := range []string{
		"local errors = 0 local function try(k) if not pcall(redis.call, 'incr', k) then errors = errors + 1 end end try('s') try('s') return errors",
		"local n = 0 local function f() n = n + 1 end pcall(function() pcall(error) f() error('x') end) f() return n",
		"local n = 0 local function f() n = n + 1 end xpcall(function() error('x') end, function(e) return e end) f() f() return n",
		"local n = 0 local function f() n = n + 1 end pcall(coroutine.wrap(function() error('x') end)) f() f() return n",
	} {
		scriptDo(c, "SET", "s", "not a number")
		assert.Equal(t, ":2\r\n", scriptDo(c, "EVAL", script, "0"), script)
	}
}

// TestScriptReplyDepthLimit: Redis stops converting a self-referencing
// table at its Lua stack limit and says so in place of the value.
func TestScriptReplyDepthLimit(t *testing.T) {
	s := newScriptTestServer(t)
	c := newScriptTestClient(s, 2)
	reply := scriptDo(c, "EVAL", "local t = {} t[1] = t return t", "0")
	assert.Equal(t, strings.Repeat("*1\r\n", luaReplyMaxDepth)+"-ERR reached lua stack limit\r\n", reply)
}

func TestScriptSelectMovesOnlyTheScript(t *testing.T) {
	s := newScriptTestServer(t)
	c := newScriptTestClient(s, 3)
	assert.Equal(t, "+OK\r\n", scriptDo(c, "EVAL", "redis.call('select', 5) return redis.call('set', 'k', 'in5')", "0"))
	assert.Equal(t, "_\r\n", scriptDo(c, "GET", "k"))
	assert.Equal(t, "_\r\n", scriptDo(c, "EVAL", "return redis.call('get', 'k')", "0"), "the next script starts in the caller's db")
	assert.Equal(t, "+OK\r\n", scriptDo(c, "SELECT", "5"))
	assert.Equal(t, "$3\r\nin5\r\n", scriptDo(c, "EVAL", "return redis.call('get', 'k')", "0"))
}

func TestScriptHelpers(t *testing.T) {
	for _, tc := range []struct {
		f    float64
		want int64
	}{{3.99, 3}, {-3.99, -3}, {-0.5, 0}, {1e20, -1 << 63}, {-1e20, -1 << 63}, {9.2233720368547748e18, 9223372036854774784}, {9.2233720368547758e18, -1 << 63}} {
		assert.Equal(t, tc.want, luaToInteger(tc.f), "%v", tc.f)
	}
	for _, tc := range []struct{ in, want string }{
		{"x", "ERR x"}, {"-ERR x", "ERR x"}, {"-MY x y", "MY x y"}, {"-", "ERR "}, {"- x", " x"}, {"-OOPS", "ERR OOPS"}, {"-E a\r\n", "E a"},
	} {
		assert.Equal(t, tc.want, luaErrorText(tc.in), tc.in)
	}
	for _, tc := range []struct {
		body, src, msg string
		ro             bool
	}{
		{"return 1", "return 1", "", false},
		{"#!lua\nreturn 1", "\nreturn 1", "", false},
		{"#!lua flags=no-writes,allow-oom\nx", "\nx", "", true},
		{"#!lua  flags=\nx", "\nx", "", false},
		{"#!lua", "", "ERR Invalid script shebang", false},
		{"#!python\n", "", "ERR Unexpected engine in script shebang: #!python", false},
		{"#! lua\n", "", "ERR Unexpected engine in script shebang: #!", false},
		{"#!lua flags=bogus\n", "", "ERR Unexpected flag in script shebang: bogus", false},
		{"#!lua name=x\n", "", "ERR Unknown lua shebang option: name=x", false},
	} {
		src, ro, msg := parseShebang([]byte(tc.body))
		assert.Equal(t, tc.msg, msg, tc.body)
		assert.Equal(t, tc.src, string(src), tc.body)
		assert.Equal(t, tc.ro, ro, tc.body)
	}
	e := &scriptEngine{chunkNames: map[string]string{}}
	assert.Equal(t, `[string "return 1"]`, e.chunkID("return 1"))
	assert.Equal(t, `[string "a..."]`, e.chunkID("a\nb"))
	assert.Equal(t, "mine", e.chunkID("=mine"))
	assert.Equal(t, `[string "`+strings.Repeat("x", 43)+`..."]`, e.chunkID(strings.Repeat("x", 100)))
	assert.Equal(t, "1e+15 0.33333333333333 -nan inf", strings.Join([]string{
		luaNumberString(1e15), luaNumberString(1.0 / 3), string(appendLuaNumber(nil, negNaN(), 14)), luaNumberString(posInf())}, " "))
}

func negNaN() float64 {
	zero := 0.0
	return -(-(zero / zero)) // x86's default NaN, sign bit set
}

func posInf() float64 {
	zero := 0.0
	return 1 / zero
}

// TestScriptInterpreterIsReused: one interpreter, one compilation per
// SHA1; SCRIPT FLUSH drops the cache but keeps the interpreter.
func TestScriptInterpreterIsReused(t *testing.T) {
	s := newScriptTestServer(t)
	c := newScriptTestClient(s, 2)
	assert.Nil(t, s.scripts, "no interpreter before the first script")
	scriptDo(c, "EVAL", "return 1", "0")
	L := s.scripts.L
	fn := s.scripts.cache[sha1Hex([]byte("return 1"))].fn
	scriptDo(c, "EVAL", "return 1", "0")
	assert.Same(t, fn, s.scripts.cache[sha1Hex([]byte("return 1"))].fn, "compiled once")
	assert.Equal(t, "+OK\r\n", scriptDo(c, "SCRIPT", "FLUSH"))
	assert.Empty(t, s.scripts.cache)
	scriptDo(c, "EVAL", "return 1", "0")
	assert.Same(t, L, s.scripts.L)
	n, bytes := s.scriptCacheStats()
	assert.Equal(t, 1, n)
	assert.Positive(t, bytes)
	assert.Contains(t, s.genInfo(nil), "number_of_cached_scripts:1\r\n")
}

// TestEvalshaLockReleaseAllocations keeps the per-call cost of the
// scripts Celery runs on every restore sweep and beat tick bounded (see
// BenchmarkEvalshaLockRelease for the figure).
func TestEvalshaLockReleaseAllocations(t *testing.T) {
	s := newScriptTestServer(t)
	c := newScriptTestClient(s, 2)
	sha := sha1Hex([]byte(testExtendToScript))
	require.Equal(t, "$40\r\n"+sha+"\r\n", scriptDo(c, "SCRIPT", "LOAD", testExtendToScript))
	scriptDo(c, "SET", "lock", "token", "PX", "100000")
	argv := toArgv("EVALSHA", sha, "1", "lock", "token", "25000")
	allocs := testing.AllocsPerRun(200, func() {
		c.argv = argv
		c.processCommand()
		if string(c.buf) != ":1\r\n" {
			t.Fatalf("extend-to replied %q", c.buf)
		}
		c.buf = c.buf[:0]
		s.batch = s.batch[:0]
	})
	assert.LessOrEqual(t, allocs, 16.0)
}

func toArgv(args ...string) [][]byte {
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	return argv
}

// BenchmarkEvalshaLockRelease measures EVALSHA of redis-py's lock release
// script on an owned lock (GET, compare, DEL), with the SET that
// re-acquires it: the Kombu unacked-mutex cycle.
func BenchmarkEvalshaLockRelease(b *testing.B) {
	s := newScriptTestServer(b)
	c := newScriptTestClient(s, 2)
	sha := sha1Hex([]byte(testLockReleaseScript))
	scriptDo(c, "SCRIPT", "LOAD", testLockReleaseScript)
	set := toArgv("SET", "lock", "token", "NX", "PX", "60000")
	release := toArgv("EVALSHA", sha, "1", "lock", "token")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.argv = set
		c.processCommand()
		c.argv = release
		c.processCommand()
		if string(c.buf) != "+OK\r\n:1\r\n" {
			b.Fatalf("replies %q", c.buf)
		}
		c.buf = c.buf[:0]
		s.batch = s.batch[:0] // the reactor's settleBatch does this per batch
	}
}

// BenchmarkEvalshaExtendTo measures RedBeat's extend-to script (GET,
// compare, PTTL, PEXPIRE) on a held lock: one beat tick.
func BenchmarkEvalshaExtendTo(b *testing.B) {
	s := newScriptTestServer(b)
	c := newScriptTestClient(s, 2)
	sha := sha1Hex([]byte(testExtendToScript))
	scriptDo(c, "SCRIPT", "LOAD", testExtendToScript)
	scriptDo(c, "SET", "lock", "token", "PX", "100000")
	argv := toArgv("EVALSHA", sha, "1", "lock", "token", "25000")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.argv = argv
		c.processCommand()
		c.buf = c.buf[:0]
		s.batch = s.batch[:0]
	}
}

// TestScriptCommandSweep runs every command of the table from a script,
// with argument shapes that reach past the arity checks, and requires an
// ordinary reply each time: a handler that assumed a real connection
// (reactor, socket, parser) would panic on the fake client, which the
// interpreter would report as "runtime error".
func TestScriptCommandSweep(t *testing.T) {
	s := newScriptTestServer(t)
	c := newScriptTestClient(s, 2)
	shapes := [][]string{{}, {"k"}, {"k", "v"}, {"k", "0", "-1"}, {"k", "v", "w", "x"}, {"0", "1", "k", "LEFT"}}
	var names []string
	for _, cmd := range s.table.Commands() {
		if cmd.Name == "shutdown" || cmd.Name == "debug" {
			continue
		}
		if len(cmd.Sub) > 0 {
			for _, sub := range cmd.Sub {
				names = append(names, cmd.Name+" "+sub.Name)
			}
			continue
		}
		names = append(names, cmd.Name)
	}
	require.Greater(t, len(names), 150, "commands swept")
	for _, name := range names {
		for _, shape := range shapes {
			args := append(strings.Fields(name), shape...)
			for _, proto := range []string{"2", "3"} {
				scriptDo(c, "FLUSHALL")
				scriptDo(c, "RPUSH", "k", "a", "b")
				reply := scriptDo(c, append([]string{"EVAL", "redis.setresp(" + proto + ") return redis.pcall(unpack(ARGV))", "0"}, args...)...)
				require.NotEmpty(t, reply, "%q", args)
				assert.NotContains(t, reply, "runtime error", "%q", args)
				assert.NotContains(t, reply, "internal error", "%q", args)
			}
		}
	}
	assert.Equal(t, ":1\r\n", scriptDo(c, "EVAL", "return 1", "0"))
}

// TestScriptCjsonConfigDoesNotLeak: a script's cjson settings end with it
// (a deliberate difference: Redis keeps them for every later script).
func TestScriptCjsonConfigDoesNotLeak(t *testing.T) {
	s := newScriptTestServer(t)
	c := newScriptTestClient(s, 2)
	assert.Equal(t, "$3\r\n0.3\r\n", scriptDo(c, "EVAL", "cjson.encode_number_precision(1) cjson.encode_max_depth(1) return cjson.encode(1/3)", "0"))
	assert.Equal(t, "$16\r\n0.33333333333333\r\n", scriptDo(c, "EVAL", "return cjson.encode(1/3)", "0"))
	assert.Equal(t, "$7\r\n[[[1]]]\r\n", scriptDo(c, "EVAL", "return cjson.encode({{{1}}})", "0"))
	assert.Equal(t, "*3\r\n$-1\r\n:2\r\n:10\r\n", scriptDo(c, "EVAL", "return {cjson.encode_sparse_array()}", "0"))
}
