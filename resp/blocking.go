package resp

import (
	"math/big"
	"strings"
	"time"

	"github.com/celerity/celerity/keyspace"
)

// Blocking pops (BLPOP, BRPOP, BLMOVE, BZPOPMIN, ...), the broker's hot
// path. The rules, as Redis 7.0 implements them:
//
//   - A blocking command first tries to serve itself at once. Inside MULTI
//     or a script it never blocks: it replies null.
//   - Otherwise the client is appended to a FIFO queue per (db, key) for each
//     key it waits on, and its connection goroutine waits outside the lock.
//   - When a unit creates a list or sorted-set key that has waiters
//     (keyspace's KeyCreated hook), the key is marked ready. At the end of
//     that top-level unit (a command, a whole EXEC, a whole script) the
//     ready keys are served in the order they became ready: for each key,
//     waiters in arrival order are served from that key while it has
//     elements. Serving runs inside the same unit, under the same lock, so
//     no other client can steal the element in between.
//   - A served client's reply is written into its buffer and its goroutine
//     woken to flush it. A client that disconnects while blocked is
//     unregistered at once (its socket is watched while it waits). If it
//     was served in the instant before its disconnect was noticed, and its
//     reply was never written, the elements go back where they came from
//     (undo): a task never vanishes into a dead socket. This is a
//     deliberate, broker-friendly difference from Redis, which loses them.

// blockKey identifies a key in a database.
type blockKey struct {
	db  int
	key string
}

// serveFunc tries to serve a blocked client from the ready key. It runs
// under the engine lock with c as the client; it writes the reply and
// returns true when it served, false when the key cannot serve it (empty,
// wrong type). undo, when not nil, reverses the pop if the reply cannot be
// delivered.
type serveFunc func(c *Client, db *keyspace.DB, key []byte) (served bool, undo func())

// blockState is what a blocked client waits for.
type blockState struct {
	db       *keyspace.DB
	keys     []string
	deadline time.Time // zero: wait forever
	serve    serveFunc
	undo     func()
	argv     [][]byte // private copy of the command, for CLIENT LIST
}

// parseBlockTimeout parses a blocking command's timeout in seconds (a
// float, as Redis 7.0 accepts) and returns the deadline; zero means
// forever. Replies with Redis's errors on failure.
func (c *Client) parseBlockTimeout(arg []byte) (time.Time, bool) {
	v, inf, ok := parseLongDouble(arg)
	// A literal inf parses; a finite text beyond the long double range is
	// ERANGE in strtold, which Redis refuses.
	if !ok || inf && !strings.EqualFold(strings.TrimLeft(string(arg), "+-"), "inf") &&
		!strings.EqualFold(strings.TrimLeft(string(arg), "+-"), "infinity") {
		c.Error("ERR timeout is not a float or out of range")
		return time.Time{}, false
	}
	// Redis 7.0 computes (long long)ceill(seconds * 1000.0) in long
	// double: 0.001 s (0.99999... ms in binary) and anything smaller but
	// positive round up to 1 ms. On x86-64 an infinite or out-of-range
	// product converts to LLONG_MIN, hence "negative".
	if inf {
		c.Error("ERR timeout is negative")
		return time.Time{}, false
	}
	ms := new(big.Float).SetPrec(ldPrec).Mul(v, big.NewFloat(1000))
	msInt, acc := ms.Int64()
	if ms.Sign() > 0 && acc == big.Below && msInt < 1<<63-1 {
		msInt++ // ceill
	}
	if msInt < 0 || acc != big.Exact && (msInt == 1<<63-1 || msInt == -1<<63) {
		c.Error("ERR timeout is negative")
		return time.Time{}, false
	}
	if msInt == 0 {
		return time.Time{}, true
	}
	now := c.srv.ks.ClockNow()
	if msInt > 1<<63-1-now {
		// Redis 7.0 adds the time without an overflow check: the deadline
		// wraps to a value its timeout table never reaches.
		return time.Time{}, true
	}
	return time.UnixMilli(now + msInt), true
}

// mayBlock reports whether the running command may block: not inside
// MULTI/EXEC and not from a script, where blocking commands reply null.
func (c *Client) mayBlock() bool {
	return c.flags&(flagMulti|flagScript|flagInExec) == 0
}

// block registers c as waiting on keys. The connection goroutine waits after
// the unit ends (see waitUnblocked).
func (c *Client) block(keys [][]byte, deadline time.Time, serve serveFunc) {
	s := c.srv
	st := &blockState{db: c.db, deadline: deadline, serve: serve}
	for _, a := range c.argv {
		st.argv = append(st.argv, append([]byte(nil), a...))
	}
	seen := map[string]bool{}
	for _, k := range keys {
		ks := string(k)
		if seen[ks] {
			continue
		}
		seen[ks] = true
		st.keys = append(st.keys, ks)
		bk := blockKey{c.db.ID(), ks}
		s.blocking[bk] = append(s.blocking[bk], c)
	}
	c.bstate = st
	c.flags |= flagBlocked
	s.stats.blockedClients++
}

// unblock removes c from every key queue. Called with the engine lock held.
func (c *Client) unblock() {
	s := c.srv
	st := c.bstate
	if st == nil {
		return
	}
	for _, k := range st.keys {
		bk := blockKey{st.db.ID(), k}
		q := s.blocking[bk]
		for i, w := range q {
			if w == c {
				q = append(q[:i], q[i+1:]...)
				break
			}
		}
		if len(q) == 0 {
			delete(s.blocking, bk)
		} else {
			s.blocking[bk] = q
		}
	}
	c.flags &^= flagBlocked
	s.stats.blockedClients--
	s.wake(c)
}

// KeyCreated implements keyspace.Hooks: a list or sorted set appeared; if
// anyone waits on it, serve them at the end of this unit.
func (s *Server) KeyCreated(db *keyspace.DB, key string, t keyspace.Type) {
	bk := blockKey{db.ID(), key}
	if _, ok := s.blocking[bk]; !ok || s.readySet[bk] {
		return
	}
	s.readySet[bk] = true
	s.readyKeys = append(s.readyKeys, bk)
}

// handleClientsBlockedOnKeys serves waiters of the keys that became ready
// in the unit just run. Serving can make more keys ready (BLMOVE pushes),
// so it loops until none are left. Called with the engine lock held.
func (s *Server) handleClientsBlockedOnKeys() {
	for len(s.readyKeys) > 0 {
		ready := s.readyKeys
		s.readyKeys = nil
		for _, bk := range ready {
			delete(s.readySet, bk)
			db := s.ks.DB(bk.db)
			key := []byte(bk.key)
			// Serve in arrival order while the key exists. A waiter of
			// another type (BZPOPMIN on a key that became a list) is
			// skipped and stays blocked, as in Redis.
			for _, w := range append([]*Client(nil), s.blocking[bk]...) {
				if db.Lookup(key, keyspace.LookupWrite|keyspace.LookupNoTouch) == nil {
					break
				}
				if w.flags&flagBlocked == 0 {
					continue
				}
				saved := w.db
				w.db = w.bstate.db
				var start time.Time
				if s.cfg.SlowlogLogSlowerThan >= 0 {
					start = time.Now()
				}
				served, undo := w.bstate.serve(w, db, key)
				w.db = saved
				if !served {
					continue
				}
				if !start.IsZero() {
					s.slowlogServed(w, start)
				}
				w.bstate.undo = undo
				w.unblock()
			}
		}
	}
}

// clientUnblockCommand implements CLIENT UNBLOCK id [TIMEOUT|ERROR].
func clientUnblockCommand(c *Client) {
	asError := false
	if len(c.argv) == 4 {
		switch {
		case optIs(c.argv[3], "timeout"):
		case optIs(c.argv[3], "error"):
			asError = true
		default:
			c.Error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
			return
		}
	}
	id, ok := c.intArg(2)
	if !ok {
		return
	}
	target := c.srv.clients[id]
	if target == nil || target.flags&flagBlocked == 0 {
		c.Int(0)
		return
	}
	target.unblock()
	if asError {
		target.Error("UNBLOCKED client unblocked via CLIENT UNBLOCK")
	} else {
		target.NullArray()
	}
	c.Int(1)
}
