package rdb

import (
	"math"
	"strconv"
)

// itemsPerCommand bounds the items of one command, as Redis's AOF rewrite
// does (AOF_REWRITE_ITEMS_PER_CMD): loading never builds a huge argv.
const itemsPerCommand = 64

// AppendCommands appends the commands that recreate rec's key to cmds:
// SET, RPUSH, SADD, ZADD or HSET (in batches of at most 64 items), then
// PEXPIREAT when the key expires. This is how an AOF whose base is an RDB
// preamble is replayed: the base becomes the commands a RESP base would
// hold, and the loader needs no second path. Selecting rec.DB is the
// caller's job. The argv slices alias rec.
func AppendCommands(cmds [][][]byte, rec *Record) [][][]byte {
	key := rec.Key
	v := &rec.Value
	batch := func(name string, items [][]byte, per int) {
		for len(items) > 0 {
			n := min(len(items), itemsPerCommand*per)
			argv := make([][]byte, 0, 2+n)
			argv = append(argv, []byte(name), key)
			argv = append(argv, items[:n]...)
			cmds = append(cmds, argv)
			items = items[n:]
		}
	}
	switch v.Kind {
	case KindString:
		cmds = append(cmds, [][]byte{[]byte("SET"), key, v.Str})
	case KindList:
		batch("RPUSH", v.Elems, 1)
	case KindSet:
		batch("SADD", v.Elems, 1)
	case KindZSet:
		items := make([][]byte, 0, 2*len(v.Zset))
		for _, sm := range v.Zset {
			items = append(items, FormatScore(sm.Score), sm.Member)
		}
		batch("ZADD", items, 2)
	case KindHash:
		items := make([][]byte, 0, 2*len(v.Pairs))
		for _, p := range v.Pairs {
			items = append(items, p.Field, p.Value)
		}
		batch("HSET", items, 2)
	}
	if rec.ExpireAt != 0 {
		cmds = append(cmds, [][]byte{[]byte("PEXPIREAT"), key, strconv.AppendInt(nil, rec.ExpireAt, 10)})
	}
	return cmds
}

// FormatScore renders a score so that ZADD reads back the same double:
// the shortest decimal that round-trips, and inf/-inf as Redis spells them.
func FormatScore(f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return []byte("inf")
	case math.IsInf(f, -1):
		return []byte("-inf")
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64)
}
