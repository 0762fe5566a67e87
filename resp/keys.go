package resp

import (
	"strings"

	"github.com/celerity/celerity/keyspace"
)

// lookupRead finds a key for reading: expires it if needed, touches its
// access clock (unless CLIENT NO-TOUCH) and counts a hit or miss.
func (c *Client) lookupRead(key []byte) *keyspace.Entry {
	var f keyspace.LookupFlags
	if c.flags&flagNoTouch != 0 {
		f |= keyspace.LookupNoTouch
	}
	return c.db.Lookup(key, f)
}

// lookupWrite finds a key a write is about to change.
func (c *Client) lookupWrite(key []byte) *keyspace.Entry {
	return c.db.Lookup(key, keyspace.LookupWrite)
}

// checkType replies WRONGTYPE and reports false when e exists with another
// type.
func (c *Client) checkType(e *keyspace.Entry, t keyspace.Type) bool {
	if e != nil && e.Type() != t {
		c.Error(errWrongType)
		return false
	}
	return true
}

// signalModified records that a unit changed key: WATCH invalidation,
// blocked-client wake-ups and the dirty counter all hang off this, like
// Redis's signalModifiedKey + server.dirty++.
func (c *Client) signalModified(db *keyspace.DB, key []byte) {
	s := c.srv
	s.dirty++
	if len(s.watching) > 0 {
		s.touchWatchedKey(db.ID(), string(key))
	}
	if s.tracking.active() {
		s.trackingInvalidateKey(c, string(key))
	}
}

// optIs compares a command option case-insensitively the way Redis's C code
// does: the argument is read as a C string, so it ends at a NUL byte.
func optIs(arg []byte, name string) bool {
	for i, b := range arg {
		if b == 0 {
			arg = arg[:i]
			break
		}
	}
	return len(arg) == len(name) && strings.EqualFold(string(arg), name)
}
