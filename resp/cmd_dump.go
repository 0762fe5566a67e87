package resp

import (
	"errors"

	"github.com/celerity/celerity/aof/rdb"
)

// DUMP and RESTORE: a key's value as an RDB payload (Redis 7.0's format,
// version 10, CRC-64 trailer), so that keys move between Celerity and
// Redis in either direction.

func dumpCommands() []*Command {
	return []*Command{
		{Name: "dump", Arity: 2, Flags: Readonly, ACL: CatKeyspace, Keys: KeyPos{1, 1, 1}, Run: dumpCommand},
		{Name: "restore", Arity: -4, Flags: Write | DenyOOM, ACL: CatKeyspace | CatDangerous, Keys: KeyPos{1, 1, 1}, Run: restoreCommand},
	}
}

func dumpCommand(c *Client) {
	e := c.lookupRead(c.argv[1])
	if e == nil {
		c.Null()
		return
	}
	var v rdb.Value
	c.Bulk(rdb.AppendDump(nil, entryValue(e, &v), c.srv.rdbWriterOptions()))
}

// restoreCommand is RESTORE key ttl payload [REPLACE] [ABSTTL]
// [IDLETIME seconds] [FREQ frequency], with Redis's checks in Redis's
// order. A relative TTL is propagated as an absolute one with ABSTTL.
func restoreCommand(c *Client) {
	replace, absTTL := false, false
	idle, freq := int64(-1), int64(-1)
	for j := 4; j < len(c.argv); j++ {
		more := len(c.argv) - j - 1
		switch {
		case optIs(c.argv[j], "replace"):
			replace = true
		case optIs(c.argv[j], "absttl"):
			absTTL = true
		case optIs(c.argv[j], "idletime") && more >= 1 && freq == -1:
			v, ok := c.intArg(j + 1)
			if !ok {
				return
			}
			if v < 0 {
				c.Error("ERR Invalid IDLETIME value, must be >= 0")
				return
			}
			idle = v
			j++
		case optIs(c.argv[j], "freq") && more >= 1 && idle == -1:
			v, ok := c.intArg(j + 1)
			if !ok {
				return
			}
			if v < 0 || v > 255 {
				c.Error("ERR Invalid FREQ value, must be >= 0 and <= 255")
				return
			}
			freq = v
			j++
		default:
			c.SyntaxError()
			return
		}
	}
	key := c.argv[1]
	if !replace && c.lookupWrite(key) != nil {
		c.Error("BUSYKEY Target key name already exists.")
		return
	}
	ttl, ok := c.intArg(2)
	if !ok {
		return
	}
	if ttl < 0 {
		c.Error("ERR Invalid TTL value, must be >= 0")
		return
	}
	v, err := rdb.DecodeDump(c.argv[3])
	if err != nil {
		if errors.Is(err, rdb.ErrDumpPayload) {
			c.Error("ERR DUMP payload version or checksum are wrong")
		} else {
			c.Error("ERR Bad data format")
		}
		return
	}
	deleted := false
	if replace {
		if e := c.lookupWrite(key); e != nil {
			c.db.DeleteEntry(e)
			deleted = true
		}
	}
	if ttl != 0 && !absTTL {
		ttl += c.srv.ks.ClockNow()
	}
	if ttl != 0 && ttl <= c.srv.ks.ClockNow() {
		// Already expired: the key is not created (an old one was
		// deleted, which is what replays).
		if deleted {
			c.rewritePropagation(argDEL, key)
			c.signalModified(c.db, key)
		}
		c.OK()
		return
	}
	e := c.srv.createFromRDB(c.db, key, &v)
	if ttl != 0 {
		c.db.SetExpire(e, ttl)
		if !absTTL {
			argv := append([][]byte{}, c.argv...)
			argv[2] = itoaArg(ttl)
			argv = append(argv, []byte("ABSTTL"))
			c.rewritePropagation(argv...)
		}
	}
	c.srv.ks.SetAccess(e, idle, int(freq))
	c.signalModified(c.db, key)
	c.OK()
}
