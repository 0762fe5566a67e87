package resp

import (
	"strconv"

	"github.com/celerity/celerity/aof"
)

// Propagation: what a unit changed, as the commands that replay it, in
// Redis 7.0's exact form, for the append-only file.
//
// Redis's call() adds a command to the unit's list when it made the dataset
// dirty, unless the command rewrote what to propagate (SET EX → SET PXAT,
// EXPIRE → PEXPIREAT or DEL, INCRBYFLOAT → SET KEEPTTL, a served BRPOP →
// RPOP...) or propagated something else itself (SPOP n → one SREM per
// member). Lazily expired keys add a DEL before the command that found them.
// EXEC and scripts add nothing of their own: the commands they ran are the
// unit. When the outermost call returns the unit is written: with SELECT
// when its database differs from the stream's, wrapped in MULTI/EXEC when it
// holds more than one command. Work outside any call (active expiry, a
// blocked client served after the command that fed it) is a unit per
// command. All of it was checked against redis-server 7.0.15's own files
// (integration/aof_prop_test.go).
//
// Commands are encoded as they are added, because their arguments may live
// in buffers the next command reuses (a script's fake client); the SELECT of
// the unit's first command and the MULTI go in front when the unit is
// written.

// propagator holds the unit being built. Engine lock.
type propagator struct {
	on      bool   // an AOF is open: units are encoded and appended
	buf     []byte // the unit's commands after its first one's SELECT
	n       int    // commands in buf
	firstDB int    // database of the unit's first command
	curDB   int    // database of its last command
	selDB   int    // database the AOF stream is on; -1 before any SELECT
	depth   int    // nesting of call()
	head    []byte // scratch for SELECT/MULTI
}

var (
	propMulti = aof.AppendCommand(nil, []byte("MULTI"))
	propExec  = aof.AppendCommand(nil, []byte("EXEC"))
)

// alsoPropagate adds argv, run in database db, to the unit. Outside any call
// it is a unit of its own, written at once.
func (s *Server) alsoPropagate(db int, argv ...[]byte) {
	p := &s.prop
	if !p.on {
		return
	}
	if p.n == 0 {
		p.firstDB = db
	} else if db != p.curDB {
		p.buf = appendSelect(p.buf, db)
	}
	p.curDB = db
	p.buf = aof.AppendCommand(p.buf, argv...)
	p.n++
	if p.depth == 0 {
		s.flushPropagation()
	}
}

// flushPropagation writes the unit to the AOF. Engine lock.
func (s *Server) flushPropagation() {
	p := &s.prop
	if p.n == 0 {
		return
	}
	h := p.head[:0]
	if p.firstDB != p.selDB {
		h = appendSelect(h, p.firstDB)
	}
	if p.n > 1 {
		h = append(h, propMulti...)
	}
	if len(h) > 0 {
		s.aofOff = s.aof.Append(h)
	}
	s.aofOff = s.aof.Append(p.buf)
	if p.n > 1 {
		s.aofOff = s.aof.Append(propExec)
	}
	p.selDB = p.curDB
	p.head = h
	p.n = 0
	if cap(p.buf) > 64<<10 {
		p.buf = nil
	} else {
		p.buf = p.buf[:0]
	}
}

func appendSelect(dst []byte, db int) []byte {
	var num [20]byte
	return aof.AppendCommand(dst, []byte("SELECT"), strconv.AppendInt(num[:0], int64(db), 10))
}

// rewritePropagation makes the running command propagate argv instead of
// the arguments it was called with (Redis's rewriteClientCommandVector).
func (c *Client) rewritePropagation(argv ...[]byte) {
	if c.srv.prop.on {
		c.propArgv = argv
	}
}

// forcePropagation propagates the running command even if it changed
// nothing (FLUSHALL on an empty dataset: replicas and the AOF still see it).
func (c *Client) forcePropagation() { c.forceProp = true }

// propagates reports whether the client's commands reach the AOF: a
// script's, unless it called redis.set_repl without REPL_AOF.
func (c *Client) propagates() bool {
	return c.flags&flagScript == 0 || c.srv.scripts.run.repl&replAOF != 0
}

// preventPropagation keeps the running command itself out of the unit: it
// propagated what it did by other means, or nothing must be.
func (c *Client) preventPropagation() { c.noProp = true }

// Shared argument spellings of rewritten commands, as Redis writes them.
var (
	argDEL       = []byte("DEL")
	argSET       = []byte("SET")
	argPXAT      = []byte("PXAT")
	argKEEPTTL   = []byte("KEEPTTL")
	argPEXPIREAT = []byte("PEXPIREAT")
	argPERSIST   = []byte("PERSIST")
	argHSET      = []byte("HSET")
	argSREM      = []byte("SREM")
	argLPOP      = []byte("LPOP")
	argRPOP      = []byte("RPOP")
	argLMOVE     = []byte("LMOVE")
	argZPOPMIN   = []byte("ZPOPMIN")
	argZPOPMAX   = []byte("ZPOPMAX")
	argLPUSH     = []byte("LPUSH")
	argRPUSH     = []byte("RPUSH")
	argLEFT      = []byte("LEFT")
	argRIGHT     = []byte("RIGHT")
)

func itoaArg(v int64) []byte { return strconv.AppendInt(nil, v, 10) }

// listPopArgv is how a pop from a list is written: LPOP|RPOP key, with the
// count a [B]LMPOP asked for (count -1: none).
func listPopArgv(where int, key []byte, count int64) [][]byte {
	name := argLPOP
	if where == listTail {
		name = argRPOP
	}
	if count == -1 {
		return [][]byte{name, key}
	}
	return [][]byte{name, key, itoaArg(count)}
}

// zpopArgv is how a pop from a sorted set is written: ZPOPMIN|ZPOPMAX key,
// with the count a [B]ZMPOP asked for (count -1: none).
func zpopArgv(max bool, key []byte, count int64) [][]byte {
	name := argZPOPMIN
	if max {
		name = argZPOPMAX
	}
	if count == -1 {
		return [][]byte{name, key}
	}
	return [][]byte{name, key, itoaArg(count)}
}

// listPushArgv is the push that puts popped elements back (the undo of a
// served pop whose client vanished): LPUSH|RPUSH key elements....
func listPushArgv(where int, key []byte, elems [][]byte) [][]byte {
	name := argLPUSH
	if where == listTail {
		name = argRPUSH
	}
	return append([][]byte{name, key}, elems...)
}

func whereArg(where int) []byte {
	if where == listHead {
		return argLEFT
	}
	return argRIGHT
}
