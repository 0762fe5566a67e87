package resp

import (
	"strings"

	"github.com/celerity/celerity/keyspace"
)

// Transactions and WATCH, as Redis 7.0's multi.c:
//
//   - Inside MULTI, every command but EXEC, DISCARD, MULTI, WATCH, QUIT and
//     RESET is queued (+QUEUED). Errors found while queueing (unknown
//     command, arity, NOAUTH...) make EXEC answer EXECABORT; errors a queued
//     command hits when it runs are reported inside EXEC's array.
//   - EXEC runs the queue as one unit: blocking commands do not block, and
//     clients blocked on keys the transaction pushed to are served after it.
//   - An EXEC rejected before it runs (arity, NOAUTH) answers EXECABORT
//     with the rejection as its reason and discards the transaction.
//   - While EXEC runs, the client is still in MULTI with its queue (CLIENT
//     LIST shows flag x and multi=<n>); errors of the queued commands are
//     counted against them, not against EXEC.
//   - WATCH remembers (db, key) pairs; any change to such a key by anyone
//     (a write, expiry, FLUSHDB/FLUSHALL/SWAPDB of its database) marks the
//     watcher dirty, and its EXEC replies null. A key that was live when
//     watched and is logically expired at EXEC time counts as changed; one
//     already expired when watched does not, and its deletion (lazy,
//     active, flush) is no change either (Redis 7.0's watchedKey.expired).

// queuedCommand is a command stored by MULTI, with its own copy of argv
// (the read buffer it came from is reused).
type queuedCommand struct {
	cmd  *Command
	argv [][]byte
}

// multiState is a client's transaction in progress, plus the per-client
// transaction bookkeeping that outlives one (EXEC's error count, WATCH's
// expired-key count).
type multiState struct {
	commands []queuedCommand
	// execErrors counts the error replies of the commands the last EXEC
	// ran, for call to leave out of EXEC's own failed count.
	execErrors int64
	// expiredWatches counts the client's watched keys flagged expired,
	// so touching a key looks the flag up only when one may be set.
	expiredWatches int
	// bytes is the memory of the queued commands (client memory,
	// clientevict.go).
	bytes int64
}

// watchedKey is a key a client watches.
type watchedKey struct {
	db      int
	key     string
	expired bool // already logically expired when WATCH ran
}

func transactionCommands() []*Command {
	return []*Command{
		{Name: "multi", Arity: 1, Flags: NoScript | Loading | Stale | Fast | AllowBusy, ACL: CatTransaction, Run: multiCommand},
		{Name: "exec", Arity: 1, Flags: NoScript | Loading | Stale | SkipSlowlog, ACL: CatTransaction, Run: execCommand},
		{Name: "discard", Arity: 1, Flags: NoScript | Loading | Stale | Fast | AllowBusy, ACL: CatTransaction, Run: discardCommand},
		{Name: "watch", Arity: -2, Flags: NoScript | Loading | Stale | Fast | AllowBusy, ACL: CatTransaction, Keys: KeyPos{1, -1, 1}, Run: watchCommand},
		{Name: "unwatch", Arity: 1, Flags: NoScript | Loading | Stale | Fast | AllowBusy, ACL: CatTransaction, Run: unwatchCommand},
	}
}

// queuesInMulti reports whether cmd is queued rather than run inside MULTI.
func queuesInMulti(cmd *Command) bool {
	if cmd.parent == nil {
		switch cmd.Name {
		case "exec", "discard", "multi", "watch", "quit", "reset":
			return false
		}
	}
	return true
}

// queueMultiCommand stores the running command in the transaction.
func (c *Client) queueMultiCommand(cmd *Command) {
	// Once the transaction is doomed, storing more is pointless.
	if c.flags&(flagDirtyExec|flagDirtyCAS) == 0 {
		// One allocation holds every argument: a Kombu QoS append queues
		// a 1 KB body, and copying it once is the whole cost.
		n := 0
		for _, a := range c.argv {
			n += len(a)
		}
		store := make([]byte, 0, n)
		argv := make([][]byte, len(c.argv))
		for i, a := range c.argv {
			store = append(store, a...)
			argv[i] = store[len(store)-len(a) : len(store) : len(store)]
		}
		c.mstate.commands = append(c.mstate.commands, queuedCommand{cmd: cmd, argv: argv})
		c.mstate.bytes += int64(n + 24*len(argv) + 32)
	}
	c.Status("QUEUED")
}

func multiCommand(c *Client) {
	if c.flags&flagMulti != 0 {
		c.Error("ERR MULTI calls can not be nested")
		return
	}
	c.flags |= flagMulti
	c.OK()
}

// discardTransaction ends the transaction and forgets watched keys.
func (c *Client) discardTransaction() {
	c.mstate.commands, c.mstate.bytes = nil, 0
	c.flags &^= flagMulti | flagDirtyExec | flagDirtyCAS
	c.unwatchAllKeys()
}

func discardCommand(c *Client) {
	if c.flags&flagMulti == 0 {
		c.Error("ERR DISCARD without MULTI")
		return
	}
	c.discardTransaction()
	c.OK()
}

func execCommand(c *Client) {
	if c.flags&flagMulti == 0 {
		c.Error("ERR EXEC without MULTI")
		return
	}
	if c.watchedKeyExpired() {
		c.flags |= flagDirtyCAS
	}
	if c.flags&(flagDirtyCAS|flagDirtyExec) != 0 {
		if c.flags&flagDirtyExec != 0 {
			c.Error("EXECABORT Transaction discarded because of previous errors.")
		} else {
			c.NullArray()
		}
		c.discardTransaction()
		return
	}
	c.unwatchAllKeys()
	// The queue stays in place while it runs: CLIENT LIST/INFO run inside
	// the transaction report multi=<queued> and flag x, as in Redis.
	queued := c.mstate.commands
	origArgv, origCmd := c.argv, c.cmd
	errsBefore := c.srv.stats.errorReplies
	c.flags |= flagInExec
	c.Array(len(queued))
	for _, q := range queued {
		c.argv, c.cmd = q.argv, q.cmd
		// Rules may have changed since the command was queued.
		if u := c.user; u != nil && !u.allowAll && c.aclExecDenies(q.cmd) {
			continue
		}
		c.call(q.cmd)
	}
	c.flags &^= flagInExec
	c.argv, c.cmd = origArgv, origCmd
	c.discardTransaction()
	c.preventPropagation() // the commands it ran are the unit
	c.mstate.execErrors = max(c.srv.stats.errorReplies-errsBefore, 0)
}

// takeExecErrors returns and forgets the error replies of the commands the
// EXEC that just ran executed: Redis counts each error against the
// innermost command only, so EXEC itself has not failed because of them.
func (c *Client) takeExecErrors() int64 {
	n := c.mstate.execErrors
	c.mstate.execErrors = 0
	return n
}

// execAbort answers an EXEC rejected before it ran (wrong arity, NOAUTH):
// the transaction, if any, is discarded, and the rejection is reported as
// the reason. Redis's own rejection texts carry no "ERR " prefix.
func (c *Client) execAbort(msg string) {
	c.discardTransaction()
	msg = strings.TrimPrefix(msg, "ERR ")
	c.Error("EXECABORT Transaction discarded because of: " + msg)
}

func watchCommand(c *Client) {
	if c.flags&flagMulti != 0 {
		c.Error("ERR WATCH inside MULTI is not allowed")
		return
	}
	// No point in watching if the client is already dirty.
	if c.flags&flagDirtyCAS == 0 {
		for _, k := range c.argv[1:] {
			c.watchForKey(k)
		}
	}
	c.OK()
}

func unwatchCommand(c *Client) {
	c.unwatchAllKeys()
	c.flags &^= flagDirtyCAS
	c.OK()
}

func (c *Client) watchForKey(key []byte) {
	s := c.srv
	bk := blockKey{c.db.ID(), string(key)}
	for _, w := range c.watched {
		if w.db == bk.db && w.key == bk.key {
			return
		}
	}
	expired := false
	if e := c.db.Peek(key); e != nil {
		expired = c.db.IsExpired(e)
	}
	c.watched = append(c.watched, watchedKey{db: bk.db, key: bk.key, expired: expired})
	if expired {
		c.mstate.expiredWatches++
	}
	s.watching[bk] = append(s.watching[bk], c)
}

func (c *Client) unwatchAllKeys() {
	s := c.srv
	for _, w := range c.watched {
		bk := blockKey{w.db, w.key}
		q := s.watching[bk]
		for i, x := range q {
			if x == c {
				q = append(q[:i], q[i+1:]...)
				break
			}
		}
		if len(q) == 0 {
			delete(s.watching, bk)
		} else {
			s.watching[bk] = q
		}
	}
	c.watched = nil
	c.mstate.expiredWatches = 0
}

// watchedKeyExpired reports whether a key that was live when watched has
// logically expired since.
func (c *Client) watchedKeyExpired() bool {
	for _, w := range c.watched {
		if w.expired {
			continue
		}
		db := c.srv.ks.DB(w.db)
		if e := db.Peek([]byte(w.key)); e != nil && db.IsExpired(e) {
			return true
		}
	}
	return false
}

// touchWatchedKey marks every client watching key dirty. Called with the
// engine lock by signalModified and the expiry hook, after the change. A
// watcher whose key had already expired when it was watched sees no
// logical change when that key is deleted: its flag is cleared instead,
// and the next change of the key dirties it.
func (s *Server) touchWatchedKey(db int, key string) {
	cs := s.watching[blockKey{db, key}]
	if len(cs) == 0 {
		return
	}
	gone := s.ks.DB(db).Peek([]byte(key)) == nil
	for _, c := range cs {
		if gone && c.setWatchExpired(db, key, false) {
			continue
		}
		c.flags |= flagDirtyCAS
	}
}

// watchExpired reports whether c watches (db, key) as a key that had
// already expired when watched.
func (c *Client) watchExpired(db int, key string) bool {
	if c.mstate.expiredWatches == 0 {
		return false
	}
	w := c.watchedEntry(db, key)
	return w != nil && w.expired
}

// setWatchExpired changes the expired flag of c's watch of (db, key) and
// reports whether it changed.
func (c *Client) setWatchExpired(db int, key string, expired bool) bool {
	if !expired && c.mstate.expiredWatches == 0 {
		return false
	}
	w := c.watchedEntry(db, key)
	if w == nil || w.expired == expired {
		return false
	}
	w.expired = expired
	if expired {
		c.mstate.expiredWatches++
	} else {
		c.mstate.expiredWatches--
	}
	return true
}

// watchedEntry returns c's record of watching (db, key), or nil.
func (c *Client) watchedEntry(db int, key string) *watchedKey {
	for i := range c.watched {
		if w := &c.watched[i]; w.db == db && w.key == key {
			return w
		}
	}
	return nil
}

// touchAllWatchedKeysInDB handles a database about to be emptied (FLUSHDB,
// FLUSHALL: replacedWith nil) or swapped with replacedWith (SWAPDB, called
// once per side), as Redis 7.0's touchAllWatchedKeysInDb: a watched key
// that exists on either side is touched, except that
//   - a key already expired when watched that is removed (or replaced by
//     nothing) is no change, and its flag is cleared;
//   - one already expired replaced by another expired key is no change;
//   - a missing key replaced by an expired key is no change, but the
//     watcher now counts as watching an expired key.
func (s *Server) touchAllWatchedKeysInDB(emptied, replacedWith *keyspace.DB) {
	if len(s.watching) == 0 {
		return
	}
	for bk, cs := range s.watching {
		if bk.db != emptied.ID() {
			continue
		}
		k := []byte(bk.key)
		inEmptied := emptied.Peek(k) != nil
		var repl *keyspace.Entry
		if replacedWith != nil {
			repl = replacedWith.Peek(k)
		}
		if !inEmptied && repl == nil {
			continue
		}
		replExpired := repl != nil && replacedWith.IsExpired(repl)
		for _, c := range cs {
			if repl == nil || replExpired {
				wasExpired := c.watchExpired(bk.db, bk.key)
				switch {
				case wasExpired && repl == nil:
					c.setWatchExpired(bk.db, bk.key, false)
					continue
				case wasExpired:
					continue
				case !inEmptied:
					c.setWatchExpired(bk.db, bk.key, true)
					continue
				}
			}
			c.flags |= flagDirtyCAS
		}
	}
}
