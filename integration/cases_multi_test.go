package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Transactions on one connection: MULTI/EXEC/DISCARD, queue-time and
// run-time errors, blocking commands inside EXEC, WATCH invalidated by the
// client's own writes (a write by the watching client dirties its own
// WATCH, as any other), and the exact transactions Kombu and Celery send
// (celery-wire.md §3, §4.5-4.6, §5.3). Scenarios that need a second client
// live in multi_watch_test.go.

func TestDiffMulti(t *testing.T) { runCases(t, multiCases()) }

func TestDiffWatch(t *testing.T) { runCases(t, watchCases()) }

func TestDiffTransactionKombu(t *testing.T) { runCases(t, kombuTransactionCases()) }

// kombuSep is Kombu's priority separator.
const kombuSep = "\x06\x16"

// kombuJSON builds a Kombu-shaped JSON message body of about size bytes:
// [raw message, exchange, routing key] as QoS.append stores it.
func kombuJSON(tag string, size int) string {
	head := `[{"body": "`
	tail := fmt.Sprintf(`", "content-encoding": "utf-8", "content-type": "application/json", "headers": {"lang": "py", "task": "tasks.add", "id": "%s", "retries": 0}, "properties": {"correlation_id": "%s", "delivery_mode": 2, "delivery_info": {"exchange": "", "routing_key": "celery"}, "priority": 0, "body_encoding": "base64", "delivery_tag": "%s"}}, "", "celery"]`, tag, tag, tag)
	pad := size - len(head) - len(tail)
	if pad < 0 {
		pad = 0
	}
	return head + strings.Repeat("W1sxLCAyXSwge30sIHsiY2FsbGJhY2tzIjogbnVsbH1d", pad/44+1)[:pad] + tail
}

func multiCases() []diffCase {
	large := multiLarge(500)
	return []diffCase{
		{name: "multi/basic", steps: []step{
			do("MULTI"), do("SET", "k", "v"), do("GET", "k"), do("INCR", "n"), do("RPUSH", "l", "a", "b"), do("LRANGE", "l", "0", "-1"),
			do("HSET", "h", "f", "1"), do("HGETALL", "h"), do("EXEC"), do("GET", "k"), do("GET", "n")}},
		{name: "multi/exec-empty", steps: []step{do("MULTI"), do("EXEC"), do("MULTI"), do("EXEC"), do("EXEC")}},
		{name: "multi/exec-without-multi", steps: []step{do("EXEC"), do("exec"), do("DISCARD"), do("discard"), do("PING")}},
		{name: "multi/arity-outside", steps: []step{do("MULTI", "x"), do("EXEC", "x"), do("DISCARD", "x"), do("WATCH"), do("UNWATCH", "x"), do("PING")}},
		{name: "multi/discard", steps: []step{
			do("SET", "k", "1"), do("MULTI"), do("SET", "k", "2"), do("INCR", "k"), do("DEL", "k"), do("DISCARD"),
			do("GET", "k"), do("EXEC"), do("DISCARD"), do("MULTI"), do("DISCARD")}},
		{name: "multi/nested", steps: []step{
			do("MULTI"), do("MULTI"), do("SET", "k", "v"), do("MULTI"), do("EXEC"), do("GET", "k")}},
		{name: "multi/case-insensitive", steps: []step{
			do("multi"), do("set", "k", "v"), do("MuLtI"), do("ExEc"), do("mUlTi"), do("get", "k"), do("dIsCaRd")}},
		{name: "multi/queued-replies", steps: []step{
			do("SET", "s", "v"), do("MULTI"), do("GET", "s"), do("GET", "missing"), do("PING"), do("ECHO", "e"),
			do("TYPE", "s"), do("EXISTS", "s", "missing"), do("DBSIZE"), do("KEYS", "*"), do("UNWATCH"),
			do("CLIENT", "SETNAME", "tx"), do("CLIENT", "GETNAME"), do("CONFIG", "GET", "hz"),
			do("COMMAND", "INFO", "get"), do("EXEC"), do("CLIENT", "GETNAME")}},
		{name: "multi/reply-types", steps: []step{
			do("ZADD", "z", "1.5", "a", "2", "b"), do("HSET", "h", "f", "v"), do("SADD", "s", "m"),
			do("MULTI"), do("ZSCORE", "z", "a"), do("ZRANGE", "z", "0", "-1", "WITHSCORES"), do("HGETALL", "h"),
			do("SMEMBERS", "s"), do("GET", "nokey"), do("LPOP", "nolist"), do("LPOP", "nolist", "2"), do("ZPOPMIN", "z"),
			do("HRANDFIELD", "nohash"), do("ZRANDMEMBER", "z", "-1", "WITHSCORES"), do("INCRBYFLOAT", "f", "1.5"),
			do("ZINCRBY", "z", "2", "b"), do("TTL", "z"), do("EXEC")}},
		{name: "multi/nested-exec-array", steps: []step{
			do("RPUSH", "l", "a", "b", "c"), do("MULTI"), do("MULTI"), do("LRANGE", "l", "0", "-1"), do("LPOP", "l", "2"),
			do("EXEC"), do("LRANGE", "l", "0", "-1")}},

		// Errors found while running are reported in the EXEC array and
		// do not stop the commands after them.
		{name: "multi/runtime-wrongtype", steps: []step{
			do("SET", "s", "v"), do("MULTI"), do("LPUSH", "s", "a"), do("INCR", "n"), do("HSET", "s", "f", "v"), do("SADD", "s", "m"),
			do("ZADD", "s", "1", "m"), do("GET", "s"), do("SET", "after", "1"), do("EXEC"), do("GET", "after"), do("GET", "n")}},
		{name: "multi/runtime-not-integer", steps: []step{
			do("SET", "s", "abc"), do("SET", "big", "9223372036854775807"), do("MULTI"), do("INCR", "s"), do("INCRBY", "n", "x"),
			do("INCR", "big"), do("DECRBY", "n", "5"), do("INCRBYFLOAT", "s", "1"), do("HINCRBY", "h", "f", "1.5"),
			do("SET", "k", "v"), do("EXEC"), do("MGET", "s", "n", "big", "k")}},
		{name: "multi/runtime-syntax", steps: []step{
			do("MULTI"), do("SET", "k", "v", "EX", "abc"), do("SET", "k", "v", "FOO"), do("SET", "k2", "v", "NX", "XX"),
			do("ZADD", "z", "notafloat", "m"), do("EXPIRE", "k", "10", "BADFLAG"), do("LRANGE", "l", "a", "b"),
			do("SELECT", "99"), do("SET", "ok", "1"), do("EXEC"), do("EXISTS", "k", "k2", "ok")}},
		{name: "multi/runtime-all-errors", steps: []step{
			do("SET", "s", "v"), do("MULTI"), do("LLEN", "s"), do("INCR", "s"), do("EXEC"), do("GET", "s")}},

		// Errors found while queueing doom the transaction: EXEC answers
		// EXECABORT and nothing runs, not even the commands before.
		{name: "multi/queue-unknown-command", steps: []step{
			do("MULTI"), do("SET", "a", "1"), do("NOSUCHCOMMAND", "x", "y"), do("SET", "b", "2"), do("EXEC"),
			do("EXISTS", "a", "b"), do("EXEC")}},
		{name: "multi/queue-unknown-first", steps: []step{do("MULTI"), do("FOO"), do("EXEC"), do("MULTI"), do("SET", "k", "v"), do("EXEC"), do("GET", "k")}},
		{name: "multi/queue-wrong-arity", steps: []step{
			do("MULTI"), do("SET", "a", "1"), do("GET"), do("INCR", "n"), do("EXEC"), do("EXISTS", "a", "n")}},
		{name: "multi/queue-arity-many", steps: []step{
			do("MULTI"), do("SET", "a"), do("SET", "a", "b", "c", "d", "e", "f", "g"), do("LPUSH", "l"), do("HSET", "h", "f"),
			do("ZADD", "z", "1"), do("EXPIRE", "k"), do("EXEC"), do("DBSIZE")}},
		{name: "multi/queue-unknown-subcommand", steps: []step{
			do("MULTI"), do("SET", "a", "1"), do("CLIENT", "NOSUCH"), do("OBJECT", "nosuch", "k"), do("CONFIG", "x"),
			do("EXEC"), do("EXISTS", "a")}},
		{name: "multi/queue-subcommand-arity", steps: []step{
			do("MULTI"), do("CLIENT", "SETNAME"), do("OBJECT", "ENCODING"), do("CONFIG", "GET"), do("EXEC")}},
		{name: "multi/queue-error-args-in-message", steps: []step{
			do("MULTI"), do("FOO", "a b", "c\r\nd", strings.Repeat("x", 200)), do("EXEC")}},
		{name: "multi/queue-after-abort", steps: []step{
			do("MULTI"), do("FOO"), do("SET", "a", "1"), do("GET", "a"), do("INCR", "a"), do("EXEC"), do("EXISTS", "a"),
			do("MULTI"), do("SET", "a", "1"), do("EXEC"), do("GET", "a")}},
		{name: "multi/queue-error-then-discard", steps: []step{
			do("MULTI"), do("FOO"), do("DISCARD"), do("MULTI"), do("SET", "k", "v"), do("EXEC"), do("GET", "k")}},
		{name: "multi/transaction-commands-arity-inside", steps: []step{
			do("MULTI"), do("SET", "k", "v"), do("EXEC", "x"), do("EXEC"), do("GET", "k"),
			do("MULTI"), do("DISCARD", "x"), do("SET", "k", "w"), do("EXEC"), do("GET", "k"),
			do("MULTI"), do("MULTI", "x"), do("EXEC"), do("MULTI"), do("WATCH"), do("EXEC")}},
		{name: "multi/watch-inside", steps: []step{
			do("MULTI"), do("WATCH", "k"), do("SET", "k", "v"), do("EXEC"), do("GET", "k"),
			do("MULTI"), do("watch", "a", "b"), do("EXEC")}},
		{name: "multi/unwatch-queued", steps: []step{
			do("WATCH", "k"), do("MULTI"), do("UNWATCH"), do("SET", "k", "v"), do("EXEC"), do("GET", "k")}},

		// SELECT inside MULTI switches the database for the commands
		// after it, and the connection stays there after EXEC.
		{name: "multi/select", steps: []step{
			do("SET", "k", "db0"), do("MULTI"), do("SELECT", "1"), do("SET", "k", "db1"), do("GET", "k"), do("SELECT", "2"),
			do("GET", "k"), do("EXEC"), do("GET", "k"), do("SELECT", "1"), do("GET", "k"), do("SELECT", "0"), do("GET", "k")}},
		{name: "multi/select-errors", steps: []step{
			do("MULTI"), do("SELECT", "99"), do("SELECT", "x"), do("SELECT", "-1"), do("SET", "k", "v"), do("EXEC"), do("GET", "k")}},
		{name: "multi/select-discard", steps: []step{
			do("SELECT", "3"), do("SET", "k", "db3"), do("MULTI"), do("SELECT", "0"), do("DISCARD"), do("GET", "k")}},
		{name: "multi/swapdb-flush-inside", steps: []step{
			do("SET", "k", "a"), do("SELECT", "1"), do("SET", "k", "b"), do("SELECT", "0"),
			do("MULTI"), do("SWAPDB", "0", "1"), do("GET", "k"), do("FLUSHDB"), do("DBSIZE"), do("SELECT", "1"), do("GET", "k"),
			do("EXEC"), do("GET", "k"), do("SELECT", "0"), do("DBSIZE")}},

		// Blocking commands never block inside EXEC: null on empty keys,
		// an element when there is one.
		{name: "multi/blocking-empty", steps: []step{
			do("MULTI"), do("BLPOP", "q", "0"), do("BRPOP", "q", "q2", "0"), do("BLMOVE", "q", "d", "LEFT", "RIGHT", "0"),
			do("BRPOPLPUSH", "q", "d", "0"), do("BLMPOP", "0", "2", "q", "q2", "LEFT"), do("BLMPOP", "1", "1", "q", "RIGHT", "COUNT", "3"),
			do("BZPOPMIN", "z", "0"), do("BZPOPMAX", "z", "5"), do("BZMPOP", "0", "1", "z", "MAX"), do("BLPOP", "q", "0.01"),
			do("EXEC"), do("EXISTS", "q", "d", "z")}},
		{name: "multi/blocking-nonempty", steps: []step{
			do("RPUSH", "q", "a", "b", "c", "d", "e", "f"), do("ZADD", "z", "1", "x", "2", "y", "3", "w"),
			do("MULTI"), do("BLPOP", "q", "0"), do("BRPOP", "nokey", "q", "0"), do("BLMOVE", "q", "d", "LEFT", "RIGHT", "0"),
			do("BRPOPLPUSH", "q", "d", "0"), do("BLMPOP", "0", "2", "nokey", "q", "RIGHT", "COUNT", "5"), do("BLPOP", "q", "0"),
			do("BZPOPMIN", "z", "0"), do("BZPOPMAX", "z", "0"), do("BZMPOP", "0", "1", "z", "MIN", "COUNT", "9"), do("BZPOPMIN", "z", "0"),
			do("EXEC"), do("LRANGE", "d", "0", "-1"), do("EXISTS", "q", "z")}},
		{name: "multi/blocking-after-push", steps: []step{
			do("MULTI"), do("BRPOP", "q", "0"), do("LPUSH", "q", "a", "b"), do("BRPOP", "q", "0"), do("ZADD", "z", "1", "m"),
			do("BZPOPMIN", "z", "0"), do("BLMOVE", "q", "q", "RIGHT", "LEFT", "0"), do("EXEC"), do("LRANGE", "q", "0", "-1")}},
		{name: "multi/blocking-errors", steps: []step{
			do("SET", "s", "v"), do("MULTI"), do("BLPOP", "s", "0"), do("BLPOP", "q", "-1"), do("BLPOP", "q", "abc"),
			do("BZPOPMIN", "s", "0"), do("BLMOVE", "q", "d", "UP", "LEFT", "0"), do("BLMPOP", "0", "0", "q", "LEFT"),
			do("SET", "ok", "1"), do("EXEC"), do("GET", "ok")}},

		// HELLO inside EXEC switches the protocol of the replies after it,
		// within the same EXEC array (its own reply holds the client id:
		// compared by shape).
		{name: "multi/hello-inside", steps: []step{
			do("HSET", "h", "f", "v"), do("MULTI"), do("GET", "nokey"), do("HELLO", "3"), do("GET", "nokey"), do("HGETALL", "h"),
			do("HELLO", "2"), do("HGETALL", "h"), do("ZSCORE", "nokey", "m"), shape("EXEC"), do("GET", "nokey"), do("HGETALL", "h")}},
		{name: "multi/hello-resp3-inside", steps: []step{
			do("HSET", "h", "f", "v"), do("MULTI"), do("HELLO", "3"), do("HGETALL", "h"), do("GET", "nokey"), shape("EXEC"),
			do("GET", "nokey"), do("MULTI"), do("GET", "nokey"), do("EXEC")}},
		{name: "multi/reset", steps: []step{
			do("SELECT", "2"), do("MULTI"), do("SET", "k", "v"), do("RESET"), do("EXEC"), do("GET", "k"), do("SELECT", "2"),
			do("GET", "k"), do("MULTI"), do("RESET"), do("DISCARD")}},
		{name: "multi/reset-after-queue-error", steps: []step{
			do("MULTI"), do("FOO"), do("RESET"), do("MULTI"), do("SET", "k", "v"), do("EXEC")}},
		{name: "multi/large-queue", steps: []step{large[0], large[1]}},
		{name: "multi/exec-then-same-key", steps: []step{
			do("MULTI"), do("SET", "k", "1"), do("INCR", "k"), do("INCR", "k"), do("GETDEL", "k"), do("SET", "k", "x"),
			do("APPEND", "k", "y"), do("EXEC"), do("GET", "k")}},
		{name: "multi/expire-inside", steps: []step{
			do("MULTI"), do("SET", "k", "v"), do("EXPIRE", "k", "100"), do("PERSIST", "k"), do("PEXPIRE", "k", "0"),
			do("EXISTS", "k"), do("SET", "k2", "v", "PXAT", "1"), do("GET", "k2"), do("EXEC"), do("EXISTS", "k", "k2")}},
	}
}

// multiLarge returns one step that queues n commands in a transaction
// (the replies are compared as they come, QUEUED one by one, through a
// follow chain) and the EXEC.
func multiLarge(n int) [2]step {
	first := do("MULTI")
	cur := &first
	for i := 0; i < n; i++ {
		var st step
		switch i % 3 {
		case 0:
			st = do("RPUSH", "l", itoa(i))
		case 1:
			st = do("INCR", "n")
		default:
			st = do("LLEN", "l")
		}
		cur.follow = &st
		cur = cur.follow
	}
	return [2]step{first, do("EXEC")}
}

func watchCases() []diffCase {
	watchMany := []string{"WATCH"}
	for i := 0; i < 200; i++ {
		watchMany = append(watchMany, "key:"+itoa(i))
	}
	return []diffCase{
		{name: "watch/untouched", steps: []step{
			do("SET", "k", "v"), do("WATCH", "k"), do("MULTI"), do("SET", "k", "w"), do("EXEC"), do("GET", "k")}},
		{name: "watch/own-write", steps: []step{
			do("SET", "k", "v"), do("WATCH", "k"), do("SET", "k", "w"), do("MULTI"), do("SET", "k", "x"), do("EXEC"), do("GET", "k")}},
		{name: "watch/reads-do-not-touch", steps: []step{
			do("SET", "k", "v", "EX", "100"), do("WATCH", "k"), do("GET", "k"), do("EXISTS", "k"), do("TYPE", "k"), do("STRLEN", "k"),
			do("OBJECT", "ENCODING", "k"), do("TOUCH", "k"), do("KEYS", "*"), do("RANDOMKEY"), do("SCAN", "0"), do("MULTI"), do("GET", "k"), do("EXEC")}},
		{name: "watch/missing-created", steps: []step{
			do("WATCH", "k"), do("SET", "k", "v"), do("MULTI"), do("GET", "k"), do("EXEC")}},
		{name: "watch/missing-stays-missing", steps: []step{
			do("WATCH", "k"), do("DEL", "k"), do("UNLINK", "k"), do("EXPIRE", "k", "10"), do("PERSIST", "k"), do("LPOP", "k"),
			do("HDEL", "k", "f"), do("SREM", "k", "m"), do("ZREM", "k", "m"), do("GETDEL", "k"), do("RENAME", "k", "x"),
			do("MULTI"), do("EXISTS", "k"), do("EXEC")}},
		// Writes that leave the value as it was still touch the key; the
		// ones that find nothing to do do not.
		{name: "watch/no-op-writes-that-touch", steps: []step{
			do("SET", "k", "v"), do("WATCH", "k"), do("SET", "k", "v"), do("MULTI"), do("EXEC"),
			do("WATCH", "k"), do("APPEND", "k", ""), do("MULTI"), do("EXEC"),
			do("SET", "n", "5"), do("WATCH", "n"), do("INCRBY", "n", "0"), do("MULTI"), do("EXEC"),
			do("WATCH", "k"), do("SETRANGE", "k", "0", "v"), do("MULTI"), do("EXEC")}},
		{name: "watch/no-op-writes-that-do-not-touch", steps: []step{
			do("SET", "k", "v"), do("WATCH", "k"), do("SETNX", "k", "w"), do("SET", "k", "w", "NX"), do("PERSIST", "k"),
			do("EXPIRE", "k", "100", "XX"), do("MSETNX", "k", "1", "other", "2"), do("SETRANGE", "k", "0", ""), do("MULTI"), do("EXEC"),
			do("HSET", "h", "f", "v"), do("WATCH", "h"), do("HDEL", "h", "nofield"), do("HSETNX", "h", "f", "x"), do("MULTI"), do("EXEC"),
			do("RPUSH", "l", "a"), do("WATCH", "l"), do("LREM", "l", "0", "zz"), do("RPUSHX", "nol", "x"), do("LPUSHX", "nol", "x"), do("MULTI"), do("EXEC"),
			do("SADD", "s", "a"), do("WATCH", "s"), do("SREM", "s", "zz"), do("SADD", "s", "a"), do("MULTI"), do("EXEC"),
			do("ZADD", "z", "1", "a"), do("WATCH", "z"), do("ZREM", "z", "zz"), do("ZADD", "z", "NX", "5", "a"), do("MULTI"), do("EXEC")}},
		{name: "watch/container-writes", steps: []step{
			do("HSET", "h", "f", "v"), do("WATCH", "h"), do("HSET", "h", "other", "x"), do("MULTI"), do("EXEC"),
			do("RPUSH", "l", "a"), do("WATCH", "l"), do("LPUSH", "l", "b"), do("MULTI"), do("EXEC"),
			do("WATCH", "l"), do("LPOP", "l"), do("MULTI"), do("EXEC"),
			do("SADD", "s", "a"), do("WATCH", "s"), do("SADD", "s", "b"), do("MULTI"), do("EXEC"),
			do("ZADD", "z", "1", "a"), do("WATCH", "z"), do("ZINCRBY", "z", "1", "a"), do("MULTI"), do("EXEC"),
			do("WATCH", "z"), do("ZADD", "z", "XX", "CH", "2", "a"), do("MULTI"), do("EXEC"),
			do("WATCH", "dst"), do("LMOVE", "l", "dst", "LEFT", "LEFT"), do("MULTI"), do("EXEC"),
			do("WATCH", "st"), do("SUNIONSTORE", "st", "s", "nosuch"), do("MULTI"), do("EXEC")}},
		{name: "watch/del-unlink", steps: []step{
			do("SET", "k", "v"), do("WATCH", "k"), do("DEL", "k"), do("MULTI"), do("EXEC"),
			do("SET", "k", "v"), do("WATCH", "k"), do("UNLINK", "k"), do("MULTI"), do("EXEC"),
			do("SET", "k", "v"), do("WATCH", "k"), do("GETDEL", "k"), do("MULTI"), do("EXEC")}},
		{name: "watch/expire-persist", steps: []step{
			do("SET", "k", "v"), do("WATCH", "k"), do("EXPIRE", "k", "100"), do("MULTI"), do("EXEC"),
			do("WATCH", "k"), do("PERSIST", "k"), do("MULTI"), do("EXEC"),
			do("WATCH", "k"), do("PEXPIREAT", "k", futureMs), do("MULTI"), do("EXEC"),
			do("WATCH", "k"), do("EXPIRE", "k", "10", "GT"), do("MULTI"), do("EXEC"),
			do("WATCH", "k"), do("GETEX", "k", "PERSIST"), do("MULTI"), do("EXEC"),
			do("WATCH", "k"), do("GETEX", "k", "EX", "50"), do("MULTI"), do("EXEC"),
			do("WATCH", "k"), do("EXPIRE", "k", "0"), do("MULTI"), do("EXEC"), do("EXISTS", "k")}},
		{name: "watch/rename", steps: []step{
			do("SET", "a", "1"), do("WATCH", "a"), do("RENAME", "a", "b"), do("MULTI"), do("EXEC"),
			do("WATCH", "a"), do("RENAME", "b", "a"), do("MULTI"), do("EXEC"),
			do("SET", "c", "1"), do("WATCH", "c"), do("RENAMENX", "a", "c"), do("MULTI"), do("EXEC"),
			do("WATCH", "c"), do("RENAME", "a", "a"), do("MULTI"), do("EXEC"),
			do("WATCH", "a"), do("RENAME", "a", "a"), do("MULTI"), do("EXEC")}},
		{name: "watch/move", steps: []step{
			do("SET", "k", "v"), do("WATCH", "k"), do("MOVE", "k", "1"), do("MULTI"), do("EXEC"),
			do("SELECT", "1"), do("WATCH", "k"), do("SELECT", "0"), do("SET", "k", "w"), do("SELECT", "1"), do("MULTI"), do("EXEC"),
			do("WATCH", "k"), do("SELECT", "0"), do("MOVE", "k", "1"), do("MULTI"), do("EXEC"),
			do("SELECT", "1"), do("WATCH", "k"), do("SELECT", "0"), do("SET", "k", "x"), do("MOVE", "k", "1"), do("MULTI"), do("EXEC")}},
		{name: "watch/copy", steps: []step{
			do("SET", "a", "1"), do("WATCH", "b"), do("COPY", "a", "b"), do("MULTI"), do("EXEC"),
			do("WATCH", "b"), do("COPY", "a", "b"), do("MULTI"), do("EXEC"),
			do("WATCH", "b"), do("COPY", "a", "b", "REPLACE"), do("MULTI"), do("EXEC"),
			do("WATCH", "a"), do("COPY", "a", "c"), do("MULTI"), do("EXEC"),
			do("WATCH", "b"), do("COPY", "a", "b", "DB", "1", "REPLACE"), do("MULTI"), do("EXEC"),
			do("SELECT", "1"), do("WATCH", "b"), do("SELECT", "0"), do("COPY", "a", "b", "DB", "1", "REPLACE"), do("SELECT", "1"), do("MULTI"), do("EXEC")}},
		{name: "watch/other-db-same-name", steps: []step{
			do("SET", "k", "v"), do("WATCH", "k"), do("SELECT", "1"), do("SET", "k", "other"), do("DEL", "k"), do("FLUSHDB"),
			do("SELECT", "0"), do("MULTI"), do("GET", "k"), do("EXEC")}},
		{name: "watch/same-name-two-dbs", steps: []step{
			do("WATCH", "k"), do("SELECT", "1"), do("WATCH", "k"), do("SELECT", "2"), do("SET", "k", "v"), do("MULTI"), do("EXEC"),
			do("SELECT", "0"), do("WATCH", "k"), do("SELECT", "1"), do("WATCH", "k"), do("SET", "k", "v"), do("SELECT", "0"),
			do("MULTI"), do("EXEC"), do("WATCH", "k"), do("SELECT", "1"), do("WATCH", "k"), do("SELECT", "0"), do("SWAPDB", "1", "2"),
			do("MULTI"), do("EXEC")}},
		{name: "watch/flushdb-present", steps: []step{
			do("SET", "k", "v"), do("WATCH", "k"), do("FLUSHDB"), do("MULTI"), do("EXEC")}},
		{name: "watch/flushdb-absent", steps: []step{
			do("SET", "other", "v"), do("WATCH", "k"), do("FLUSHDB"), do("MULTI"), do("EXEC"),
			do("WATCH", "k"), do("FLUSHDB"), do("MULTI"), do("EXEC")}},
		{name: "watch/flushdb-other-db", steps: []step{
			do("SET", "k", "v"), do("WATCH", "k"), do("SELECT", "1"), do("SET", "k", "v"), do("FLUSHDB"), do("SELECT", "0"),
			do("MULTI"), do("EXEC"), do("GET", "k")}},
		{name: "watch/flushall", steps: []step{
			do("SET", "k", "v"), do("WATCH", "k"), do("FLUSHALL"), do("MULTI"), do("EXEC"),
			do("WATCH", "k"), do("FLUSHALL"), do("MULTI"), do("EXEC"),
			do("SELECT", "4"), do("SET", "k", "v"), do("SELECT", "0"), do("WATCH", "k"), do("FLUSHALL", "ASYNC"), do("MULTI"), do("EXEC"),
			do("SET", "k", "v"), do("WATCH", "k"), do("FLUSHALL", "SYNC"), do("MULTI"), do("EXEC")}},
		// SWAPDB touches a watched key present in either database.
		{name: "watch/swapdb-present-here", steps: []step{
			do("SET", "k", "v"), do("WATCH", "k"), do("SWAPDB", "0", "1"), do("MULTI"), do("GET", "k"), do("EXEC")}},
		{name: "watch/swapdb-present-there", steps: []step{
			do("SELECT", "1"), do("SET", "k", "v"), do("SELECT", "0"), do("WATCH", "k"), do("SWAPDB", "1", "0"),
			do("MULTI"), do("GET", "k"), do("EXEC")}},
		{name: "watch/swapdb-present-both", steps: []step{
			do("SET", "k", "a"), do("SELECT", "1"), do("SET", "k", "b"), do("SELECT", "0"), do("WATCH", "k"), do("SWAPDB", "0", "1"),
			do("MULTI"), do("GET", "k"), do("EXEC")}},
		{name: "watch/swapdb-absent-both", steps: []step{
			do("SET", "x", "a"), do("SELECT", "1"), do("SET", "y", "b"), do("SELECT", "0"), do("WATCH", "k"), do("SWAPDB", "0", "1"),
			do("MULTI"), do("DBSIZE"), do("EXEC")}},
		{name: "watch/swapdb-unrelated", steps: []step{
			do("SET", "k", "a"), do("SELECT", "2"), do("SET", "k", "b"), do("SELECT", "0"), do("WATCH", "k"), do("SWAPDB", "2", "3"),
			do("SWAPDB", "1", "1"), do("SWAPDB", "0", "0"), do("MULTI"), do("GET", "k"), do("EXEC")}},
		{name: "watch/swapdb-watched-in-other-db", steps: []step{
			do("SELECT", "1"), do("SET", "k", "b"), do("WATCH", "k"), do("SELECT", "0"), do("SWAPDB", "0", "5"),
			do("MULTI"), do("EXEC"), do("SELECT", "1"), do("WATCH", "k"), do("SWAPDB", "1", "5"), do("MULTI"), do("EXEC")}},
		{name: "watch/swapdb-errors", steps: []step{
			do("SET", "k", "v"), do("WATCH", "k"), do("SWAPDB", "0", "99"), do("SWAPDB", "a", "1"), do("MULTI"), do("EXEC")}},
		{name: "watch/unwatch", steps: []step{
			do("WATCH", "k"), do("SET", "k", "v"), do("UNWATCH"), do("MULTI"), do("GET", "k"), do("EXEC"),
			do("UNWATCH"), do("UNWATCH"), do("MULTI"), do("EXEC")}},
		{name: "watch/unwatch-then-watch", steps: []step{
			do("WATCH", "a"), do("UNWATCH"), do("SET", "a", "1"), do("WATCH", "b"), do("MULTI"), do("EXEC"),
			do("WATCH", "a"), do("UNWATCH"), do("WATCH", "a"), do("SET", "a", "2"), do("MULTI"), do("EXEC")}},
		// Once dirty, more WATCHes change nothing, until EXEC, DISCARD or
		// UNWATCH clears the state.
		{name: "watch/after-dirty", steps: []step{
			do("WATCH", "a"), do("SET", "a", "1"), do("WATCH", "b"), do("WATCH", "a"), do("MULTI"), do("EXEC"),
			do("WATCH", "b"), do("MULTI"), do("EXEC")}},
		{name: "watch/dirty-then-discard", steps: []step{
			do("WATCH", "k"), do("SET", "k", "v"), do("MULTI"), do("DISCARD"), do("MULTI"), do("SET", "k", "w"), do("EXEC"), do("GET", "k")}},
		{name: "watch/dirty-and-queue-error", steps: []step{
			do("WATCH", "k"), do("SET", "k", "v"), do("MULTI"), do("FOO"), do("EXEC"),
			do("WATCH", "k"), do("SET", "k", "w"), do("MULTI"), do("GET"), do("SET", "k", "x"), do("EXEC"), do("GET", "k")}},
		{name: "watch/dirty-during-multi", steps: []step{
			// The client's own queued write is not run before EXEC, so it
			// cannot dirty the watch; EXEC then clears it.
			do("WATCH", "k"), do("MULTI"), do("SET", "k", "v"), do("EXEC"), do("SET", "k", "w"), do("MULTI"), do("GET", "k"), do("EXEC")}},
		{name: "watch/exec-clears", steps: []step{
			do("WATCH", "k"), do("MULTI"), do("EXEC"), do("SET", "k", "v"), do("MULTI"), do("GET", "k"), do("EXEC"),
			do("WATCH", "k"), do("SET", "k", "w"), do("MULTI"), do("EXEC"), do("SET", "k", "x"), do("MULTI"), do("GET", "k"), do("EXEC")}},
		{name: "watch/discard-clears", steps: []step{
			do("WATCH", "k"), do("MULTI"), do("DISCARD"), do("SET", "k", "v"), do("MULTI"), do("GET", "k"), do("EXEC")}},
		{name: "watch/many-keys", steps: []step{
			do(watchMany...), do("SET", "key:137", "x"), do("MULTI"), do("EXEC"),
			do(watchMany...), do("SET", "key:200", "x"), do("MULTI"), do("EXEC"),
			do(watchMany...), do("DEL", "key:0"), do("MULTI"), do("EXEC"),
			do(watchMany...), do("MSET", "a", "1", "key:199", "2"), do("MULTI"), do("EXEC")}},
		{name: "watch/duplicate-keys", steps: []step{
			do("WATCH", "k", "k", "k"), do("WATCH", "k"), do("SET", "other", "1"), do("MULTI"), do("EXEC"),
			do("WATCH", "k", "k"), do("WATCH", "k", "j"), do("SET", "k", "v"), do("MULTI"), do("EXEC"),
			do("WATCH", "k", "k"), do("UNWATCH"), do("SET", "k", "w"), do("MULTI"), do("EXEC")}},
		{name: "watch/binary-and-empty-key", steps: []step{
			do("WATCH", "", "a\x00b", "\r\n"), do("SET", "a\x00c", "v"), do("MULTI"), do("EXEC"),
			do("WATCH", "", "a\x00b"), do("SET", "", "v"), do("MULTI"), do("EXEC"),
			do("WATCH", "a\x00b"), do("SET", "a\x00b", "v"), do("MULTI"), do("EXEC")}},
		{name: "watch/wrongtype-write-does-not-touch", steps: []step{
			do("SET", "s", "v"), do("WATCH", "s"), do("LPUSH", "s", "a"), do("HSET", "s", "f", "v"), do("INCR", "s"),
			do("MULTI"), do("EXEC")}},
		{name: "watch/failed-exec-clears", steps: []step{
			do("WATCH", "k"), do("SET", "k", "1"), do("MULTI"), do("EXEC"), do("SET", "k", "2"), do("MULTI"), do("GET", "k"), do("EXEC")}},
		// A key that expires after WATCH is a change; a key that had
		// already expired when watched is not (Redis 7.0). In the
		// "untouched" case no command looks at the key before EXEC, which
		// must notice the expiry itself (an active expiry cycle that
		// deletes it first touches it: the same answer). The TTL leaves
		// WATCH ample time to see the key live.
		{name: "watch/expires-after-watch", steps: []step{
			do("SET", "k", "v", "PX", "150"), do("WATCH", "k"), waitExpired("k"), do("MULTI"), do("EXEC")}},
		{name: "watch/expires-after-watch-untouched", steps: []step{
			do("SET", "k", "v", "PX", "150"), do("WATCH", "k"), pause(175 * time.Millisecond), do("MULTI"), do("EXEC"), do("EXISTS", "k")}},
		{name: "watch/already-expired", steps: []step{
			do("SET", "k", "v", "PX", "1"), pause(5 * time.Millisecond), do("WATCH", "k"), do("MULTI"), do("EXEC"), do("EXISTS", "k")}},
		{name: "watch/already-expired-then-deleted", steps: []step{
			do("SET", "k", "v", "PX", "1"), pause(5 * time.Millisecond), do("WATCH", "k"), do("GET", "k"), do("MULTI"), do("EXEC")}},
		{name: "watch/already-expired-then-set", steps: []step{
			do("SET", "k", "v", "PX", "1"), pause(5 * time.Millisecond), do("WATCH", "k"), do("SET", "k", "w"), do("MULTI"), do("EXEC"), do("GET", "k")}},
		{name: "watch/already-expired-flushdb", steps: []step{
			do("SET", "k", "v", "PX", "1"), pause(5 * time.Millisecond), do("WATCH", "k"), do("FLUSHDB"), do("MULTI"), do("EXEC")}},
		{name: "watch/already-expired-deleted-then-set", steps: []step{
			do("SET", "k", "v", "PX", "1"), pause(5 * time.Millisecond), do("WATCH", "k"), do("EXISTS", "k"), do("SET", "k", "w"),
			do("MULTI"), do("EXEC")}},
		{name: "watch/swapdb-expired-swapped-in", steps: []step{
			do("SELECT", "1"), do("SET", "k", "v", "PX", "1"), do("SELECT", "0"), pause(5 * time.Millisecond), do("WATCH", "k"),
			do("SWAPDB", "0", "1"), do("MULTI"), do("EXEC")}},
		{name: "watch/swapdb-expired-swapped-out", steps: []step{
			do("SET", "k", "v", "PX", "1"), pause(5 * time.Millisecond), do("WATCH", "k"),
			do("SWAPDB", "0", "1"), do("MULTI"), do("EXEC")}},
		{name: "watch/swapdb-expired-both", steps: []step{
			do("SET", "k", "v", "PX", "1"), do("SELECT", "1"), do("SET", "k", "v", "PX", "1"), do("SELECT", "0"), pause(5 * time.Millisecond),
			do("WATCH", "k"), do("SWAPDB", "0", "1"), do("MULTI"), do("EXEC")}},
		{name: "watch/swapdb-expired-for-live", steps: []step{
			do("SET", "k", "v"), do("SELECT", "1"), do("SET", "k", "v", "PX", "1"), do("SELECT", "0"), pause(5 * time.Millisecond),
			do("WATCH", "k"), do("SWAPDB", "0", "1"), do("MULTI"), do("EXEC")}},
	}
}

func kombuTransactionCases() []diffCase {
	const tag = "b37d7f4e-3c5a-4d1e-9f7a-2c6f5e1d8a90"
	const tag2 = "c42c1a0b-7e3d-4f55-8a1b-9d2e6f0c3b17"
	body := kombuJSON(tag, 1024)
	body2 := kombuJSON(tag2, 1024)
	gid := "celery-taskset-meta-804e6b1c-5d2f-4a8e-b3c7-0f1e2d3c4b5a"
	part := `[1, "3122a8f0-6b7c-4d5e-8f9a-0b1c2d3e4f5a", "SUCCESS", 0]`
	return []diffCase{
		{name: "kombu/qos-append", steps: []step{
			do("MULTI"), do("ZADD", "unacked_index", "1795487183.2362268", tag), do("HSET", "unacked", tag, body), do("EXEC"),
			do("MULTI"), do("ZADD", "unacked_index", "1795487185.4058571", tag2), do("HSET", "unacked", tag2, body2), do("EXEC"),
			do("ZRANGE", "unacked_index", "0", "-1", "WITHSCORES"), do("HGET", "unacked", tag), do("HLEN", "unacked"),
			do("ZREVRANGEBYSCORE", "unacked_index", "1795487187.1599422", "0", "WITHSCORES"),
			do("ZSCORE", "unacked_index", tag2), do("OBJECT", "ENCODING", "unacked"), do("OBJECT", "ENCODING", "unacked_index")}},
		{name: "kombu/qos-append-score-forms", steps: []step{
			do("MULTI"), do("ZADD", "unacked_index", "1e-05", "a"), do("ZADD", "unacked_index", "1795487183.0", "b"),
			do("ZADD", "unacked_index", "inf", "c"), do("ZADD", "unacked_index", "1.7954871832362268e+09", "d"),
			do("ZADD", "unacked_index", "nan", "e"), do("HSET", "unacked", "a", "{}"), do("EXEC"),
			do("ZRANGE", "unacked_index", "0", "-1", "WITHSCORES")}},
		{name: "kombu/ack", steps: []step{
			do("MULTI"), do("ZADD", "unacked_index", "1795487183.2362268", tag), do("HSET", "unacked", tag, body), do("EXEC"),
			do("MULTI"), do("ZREM", "unacked_index", tag), do("HDEL", "unacked", tag), do("EXEC"),
			do("MULTI"), do("ZREM", "unacked_index", tag), do("HDEL", "unacked", tag), do("EXEC"), do("EXISTS", "unacked", "unacked_index")}},
		{name: "kombu/restore-by-tag", steps: []step{
			do("MULTI"), do("ZADD", "unacked_index", "1795487183.2362268", tag), do("HSET", "unacked", tag, body), do("EXEC"),
			do("WATCH", "unacked"), do("HGET", "unacked", tag), do("MULTI"), do("ZREM", "unacked_index", tag),
			do("HDEL", "unacked", tag), do("RPUSH", "celery", body), do("EXEC"),
			do("LRANGE", "celery", "0", "-1"), do("EXISTS", "unacked", "unacked_index")}},
		{name: "kombu/restore-by-tag-leftmost-priority", steps: []step{
			do("RPUSH", "celery"+kombuSep+"3", "older"),
			do("MULTI"), do("ZADD", "unacked_index", "1795487183.2362268", tag), do("HSET", "unacked", tag, body), do("EXEC"),
			do("WATCH", "unacked"), do("HGET", "unacked", tag), do("MULTI"), do("ZREM", "unacked_index", tag),
			do("HDEL", "unacked", tag), do("LPUSH", "celery"+kombuSep+"3", body), do("EXEC"),
			do("LRANGE", "celery"+kombuSep+"3", "0", "-1")}},
		{name: "kombu/restore-missing-payload", steps: []step{
			do("ZADD", "unacked_index", "1795487183.2362268", tag),
			do("WATCH", "unacked"), do("HGET", "unacked", tag), do("MULTI"), do("ZREM", "unacked_index", tag),
			do("HDEL", "unacked", tag), do("EXEC"), do("EXISTS", "unacked_index")}},
		{name: "kombu/basic-recover-restore", steps: []step{
			do("HSET", "unacked", tag, body, tag2, body2),
			do("WATCH", "unacked"), do("HGET", "unacked", tag), do("MULTI"), do("HDEL", "unacked", tag), do("RPUSH", "celery", body), do("EXEC"),
			do("WATCH", "unacked"), do("HGET", "unacked", tag2), do("MULTI"), do("HDEL", "unacked", tag2), do("RPUSH", "celery", body2), do("EXEC"),
			do("LLEN", "celery"), do("EXISTS", "unacked")}},
		{name: "kombu/restore-visible-sweep", steps: []step{
			do("MULTI"), do("ZADD", "unacked_index", "1795487183.2362268", tag), do("HSET", "unacked", tag, body), do("EXEC"),
			do("SET", "unacked_mutex", "token", "NX", "PX", "300000"),
			do("ZREVRANGEBYSCORE", "unacked_index", "1795487187.1599422", "0", "WITHSCORES"),
			do("WATCH", "unacked"), do("HGET", "unacked", tag), do("MULTI"), do("ZREM", "unacked_index", tag),
			do("HDEL", "unacked", tag), do("RPUSH", "celery", body), do("EXEC"), do("DEL", "unacked_mutex"), do("LLEN", "celery")}},
		{name: "kombu/publish-and-size", steps: []step{
			do("MULTI"), do("LPUSH", "celery", body), do("PEXPIRE", "celery", "60000"), do("PEXPIRE", "celery"+kombuSep+"3", "60000"), do("EXEC"),
			do("MULTI"), do("LLEN", "celery"), do("LLEN", "celery"+kombuSep+"3"), do("LLEN", "celery"+kombuSep+"6"), do("LLEN", "celery"+kombuSep+"9"), do("EXEC"),
			do("MULTI"), do("EXISTS", "celery"), do("EXISTS", "celery"+kombuSep+"3"), do("EXEC"),
			do("MULTI"), do("LLEN", "celery"), do("DEL", "celery"), do("LLEN", "celery"+kombuSep+"3"), do("DEL", "celery"+kombuSep+"3"), do("EXEC")}},
		{name: "celery/chord-ordered", steps: []step{
			do("SETEX", gid+".s", "86400", "3"),
			do("MULTI"), do("ZADD", gid+".j", "0", part), do("ZCOUNT", gid+".j", "-inf", "+inf"), do("GET", gid+".t"), do("GET", gid+".s"),
			do("EXPIRE", gid+".j", "86400"), do("EXPIRE", gid+".t", "86400"), do("EXPIRE", gid+".s", "86400"), do("EXEC"),
			do("MULTI"), do("ZADD", gid+".j", "+inf", part+" "), do("ZCOUNT", gid+".j", "-inf", "+inf"), do("GET", gid+".t"), do("GET", gid+".s"), do("EXEC"),
			do("MULTI"), do("ZRANGE", gid+".j", "0", "-1"), do("EXEC"),
			do("MULTI"), do("DEL", gid+".j"), do("DEL", gid+".t"), do("DEL", gid+".s"), do("EXEC")}},
		{name: "celery/chord-unordered", steps: []step{
			do("MULTI"), do("RPUSH", gid+".j", part), do("LLEN", gid+".j"), do("EXPIRE", gid+".j", "86400"), do("EXEC"),
			do("MULTI"), do("RPUSH", gid+".j", part), do("LLEN", gid+".j"), do("GET", gid+".t"), do("GET", gid+".s"), do("EXPIRE", gid+".j", "86400"), do("EXEC"),
			ttl("TTL", gid+".j"), do("MULTI"), do("LRANGE", gid+".j", "0", "2"), do("EXEC")}},
		{name: "celery/store-result", steps: []step{
			do("GET", "celery-task-meta-d635"), do("MULTI"), do("SETEX", "celery-task-meta-d635", "86400", `{"status": "SUCCESS", "result": 5}`),
			do("EXEC"), do("INCRBY", gid+".t", "1"), do("MGET", "celery-task-meta-d635", gid+".t")}},
	}
}
