package integration

import "testing"

// memoryReset undoes every memory directive a case changed, on the shared
// oracle as on Celerity (maxmemory first, so nothing is evicted on the way).
var memoryReset = [][]string{
	{"CONFIG", "SET", "maxmemory", "0"},
	{"CONFIG", "SET", "maxmemory-policy", "noeviction"},
	{"CONFIG", "SET", "maxmemory-samples", "5"},
	{"CONFIG", "SET", "maxmemory-eviction-tenacity", "10"},
	{"CONFIG", "SET", "lfu-log-factor", "10"},
	{"CONFIG", "SET", "lfu-decay-time", "1"},
	{"CONFIG", "SET", "maxmemory-clients", "0"},
}

// Limits are set to 1 byte: both servers are then over the limit whatever
// their dataset (Redis's used_memory, like Celerity's count for eviction,
// includes the start-up baseline), so what happens depends only on the
// policy and the candidates, never on how big each server thinks a key is.

// TestDiffMaxmemoryConfig covers the memory directives' CONFIG GET/SET and
// Redis's validation texts.
func TestDiffMaxmemoryConfig(t *testing.T) {
	set := func(name, v string) step { return do("CONFIG", "SET", name, v) }
	get := func(name string) step { return do("CONFIG", "GET", name) }
	runCases(t, []diffCase{
		{name: "maxmemory/config", cleanup: memoryReset, steps: []step{
			get("maxmemory"), get("maxmemory-policy"), get("maxmemory-samples"), get("maxmemory-eviction-tenacity"),
			get("lfu-log-factor"), get("lfu-decay-time"), get("maxmemory-clients"),
			unorderedPairs("CONFIG", "GET", "maxmemory*"), unorderedPairs("CONFIG", "GET", "lfu-*"),
			set("maxmemory", "10mb"), get("maxmemory"), set("maxmemory", "1gb"), get("maxmemory"),
			set("maxmemory", "100k"), get("maxmemory"), set("maxmemory", "-1"), set("maxmemory", "abc"),
			set("maxmemory", "1.5mb"), set("maxmemory", "0"), get("maxmemory"),
			set("maxmemory-policy", "allkeys-lru"), get("maxmemory-policy"),
			set("maxmemory-policy", "ALLKEYS-LFU"), get("maxmemory-policy"),
			set("maxmemory-policy", "volatile-ttl"), get("maxmemory-policy"),
			set("maxmemory-policy", "lru"), set("maxmemory-policy", ""), set("maxmemory-policy", "broker"),
			set("maxmemory-policy", "noeviction"), get("maxmemory-policy"),
			set("maxmemory-samples", "0"), set("maxmemory-samples", "10"), get("maxmemory-samples"),
			set("maxmemory-samples", "x"), set("maxmemory-samples", "2147483648"),
			set("maxmemory-eviction-tenacity", "101"), set("maxmemory-eviction-tenacity", "-1"),
			set("maxmemory-eviction-tenacity", "100"), get("maxmemory-eviction-tenacity"),
			set("lfu-log-factor", "-1"), set("lfu-log-factor", "0"), get("lfu-log-factor"),
			set("lfu-decay-time", "-1"), set("lfu-decay-time", "0"), get("lfu-decay-time"),
			set("maxmemory-clients", "10%"), get("maxmemory-clients"), set("maxmemory-clients", "101%"),
			set("maxmemory-clients", "1mb"), get("maxmemory-clients"), set("maxmemory-clients", "-1"),
			set("maxmemory-clients", "abc"), set("maxmemory-clients", "%"), set("maxmemory-clients", "0"),
			// All or nothing: a bad value leaves the good one unapplied.
			do("CONFIG", "SET", "maxmemory", "5mb", "maxmemory-policy", "nope"), get("maxmemory"),
		}},
	})
}

// TestDiffMaxmemoryOOM covers what is refused at the limit under each kind
// of policy, and what still runs.
func TestDiffMaxmemoryOOM(t *testing.T) {
	limit := do("CONFIG", "SET", "maxmemory", "1")
	policy := func(p string) step { return do("CONFIG", "SET", "maxmemory-policy", p) }
	runCases(t, []diffCase{
		{name: "maxmemory/noeviction", cleanup: memoryReset, steps: []step{
			do("SET", "a", "x"), do("RPUSH", "l", "a", "b"), limit,
			do("SET", "b", "y"), do("LPUSH", "l", "c"), do("INCR", "n"), do("HSET", "h", "f", "v"),
			do("SADD", "s", "m"), do("ZADD", "z", "1", "m"), do("APPEND", "a", "z"), do("SETNX", "q", "1"),
			do("GET", "a"), do("LRANGE", "l", "0", "-1"), do("DBSIZE"), do("EXISTS", "a", "b"),
			// Writes that free memory are not denyoom.
			do("LPOP", "l"), do("EXPIRE", "a", "100"), do("PERSIST", "a"), do("DEL", "a"), do("EXISTS", "a"),
			do("RPOP", "l"), do("BRPOP", "l", "0.01"),
			do("PING"), do("ECHO", "hi"),
		}},
		{name: "maxmemory/noeviction-command-flags", cleanup: memoryReset, steps: []step{
			do("SET", "s", "abc"), do("SET", "n", "5"), do("RPUSH", "l", "a", "b", "c"), do("SADD", "s1", "a", "b"),
			do("SADD", "s2", "b", "c"), do("ZADD", "z", "1", "a", "2", "b"), do("HSET", "h", "f", "1"), limit,
			// denyoom: refused whether or not they would grow anything.
			do("SETRANGE", "s", "0", "x"), do("MSET", "a", "1"), do("MSETNX", "a", "1"), do("GETSET", "s", "y"),
			do("SETEX", "a", "10", "v"), do("PSETEX", "a", "10", "v"), do("INCRBY", "n", "1"), do("DECR", "n"),
			do("INCRBYFLOAT", "n", "1.5"), do("LINSERT", "l", "BEFORE", "a", "z"), do("LSET", "l", "0", "q"),
			do("RPOPLPUSH", "l", "l2"), do("LMOVE", "l", "l2", "LEFT", "RIGHT"), do("SINTERSTORE", "d", "s1", "s2"),
			do("SUNIONSTORE", "d", "s1", "s2"), do("SDIFFSTORE", "d", "s1", "s2"), do("SMOVE", "s1", "s2", "a"),
			do("ZUNIONSTORE", "d", "1", "z"), do("ZINCRBY", "z", "1", "a"), do("HINCRBY", "h", "f", "1"),
			do("HSETNX", "h", "g", "v"), do("HMSET", "h", "f", "2"), do("COPY", "s", "s3"),
			// Not denyoom: they run.
			do("GETDEL", "a"), do("GETEX", "s", "PERSIST"), do("EXPIRE", "n", "100"), do("PERSIST", "n"),
			do("RENAME", "s", "s4"), do("LTRIM", "l", "0", "1"), do("SREM", "s1", "a"), shape("SPOP", "s2"), do("SCARD", "s2"),
			do("ZREM", "z", "b"), do("ZPOPMIN", "z"), do("HDEL", "h", "f"), do("UNLINK", "s4"),
			do("PUBLISH", "ch", "m"), do("SELECT", "1"), do("SELECT", "0"), do("DBSIZE"),
			do("OBJECT", "ENCODING", "l"), do("TYPE", "l"), do("MEMORY", "USAGE", "nokey"),
		}},
		{name: "maxmemory/noeviction-multi", cleanup: memoryReset, steps: []step{
			do("SET", "a", "x"), limit,
			// Inside MULTI every command is refused, reads included, but
			// EXEC and DISCARD still run.
			do("MULTI"), do("GET", "a"), do("SET", "b", "y"), do("PING"), do("EXEC"),
			do("MULTI"), do("GET", "a"), do("DISCARD"),
			do("MULTI"), do("EXEC"), do("GET", "a"),
		}},
		{name: "maxmemory/noeviction-scripts", cleanup: memoryReset, steps: []step{
			do("SET", "a", "x"), limit,
			do("EVAL", "return redis.call('set','k','v')", "0"),
			do("EVAL", "return redis.pcall('set','k','v')", "0"),
			do("EVAL", "return redis.call('get','a')", "0"),
			// A script that already wrote may go on: it cannot stop
			// half-way.
			do("EVAL", "redis.call('del','a'); return redis.call('set','k','v')", "0"),
			do("GET", "k"),
			do("EVAL", "#!lua\nreturn redis.call('set','k','v')", "0"),
			do("EVAL", "#!lua flags=allow-oom\nreturn redis.call('set','k2','v')", "0"),
			do("EVAL", "#!lua flags=no-writes\nreturn redis.call('get','k2')", "0"),
			do("SCRIPT", "LOAD", "#!lua\nreturn redis.call('set','k','v')"),
			do("EVALSHA", "204c41b37f2eaebe3b73399b1b50f23cb63e97be", "0"),
		}},
		{name: "maxmemory/volatile-no-ttl", cleanup: memoryReset, steps: []step{
			// volatile-* with no key with a TTL behaves as noeviction.
			do("SET", "a", "x"), do("SET", "b", "x"), policy("volatile-lru"), limit,
			do("SET", "c", "y"), do("DBSIZE"), do("GET", "a"), do("GET", "b"),
			policy("volatile-lfu"), do("SET", "c", "y"), policy("volatile-random"), do("SET", "c", "y"),
			policy("volatile-ttl"), do("SET", "c", "y"), do("DBSIZE"),
		}},
		{name: "maxmemory/volatile-evicts-ttl-keys", cleanup: memoryReset, steps: []step{
			do("SET", "a", "x"), do("SET", "t1", "x", "EX", "1000"), do("SET", "t2", "x", "EX", "2000"),
			do("SELECT", "3"), do("SET", "t3", "x", "EX", "3000"), do("SET", "p", "x"), do("SELECT", "0"),
			policy("volatile-ttl"), limit,
			// Every key with a TTL goes, in every DB; the rest stays, and
			// memory is still over the limit.
			do("EXISTS", "a", "t1", "t2"), do("SET", "c", "y"), do("SELECT", "3"), do("EXISTS", "t3", "p"),
		}},
		{name: "maxmemory/volatile-lru", cleanup: memoryReset, steps: []step{
			do("SET", "a", "x"), do("SET", "t1", "x", "EX", "1000"), do("HSET", "t2", "f", "v"),
			do("EXPIRE", "t2", "100"), policy("volatile-lru"), limit, do("DBSIZE"), do("GET", "a"),
		}},
		{name: "maxmemory/volatile-random", cleanup: memoryReset, steps: []step{
			do("SET", "a", "x"), do("SET", "t1", "x", "EX", "1000"), do("SET", "t2", "x", "PX", "100000"),
			policy("volatile-random"), limit, do("DBSIZE"), do("TTL", "a"),
		}},
		{name: "maxmemory/allkeys", cleanup: memoryReset, steps: []step{
			do("SET", "a", "x"), do("RPUSH", "l", "a"), do("SELECT", "2"), do("SET", "b", "x"), do("SELECT", "0"),
			policy("allkeys-lru"), limit,
			// Everything goes and it is still not enough: OOM.
			do("DBSIZE"), do("SELECT", "2"), do("DBSIZE"), do("SET", "c", "y"), do("SELECT", "0"),
			do("CONFIG", "SET", "maxmemory", "0"), do("SET", "a", "1"), do("SET", "b", "2"),
			policy("allkeys-lfu"), limit, do("DBSIZE"), do("SET", "c", "y"),
			do("CONFIG", "SET", "maxmemory", "0"), do("SET", "a", "1"),
			policy("allkeys-random"), limit, do("DBSIZE"), do("SET", "c", "y"),
		}},
		{name: "maxmemory/under-limit", cleanup: memoryReset, steps: []step{
			// A generous limit changes nothing.
			do("CONFIG", "SET", "maxmemory", "1gb"), policy("allkeys-lru"), do("SET", "a", "x"),
			do("RPUSH", "l", "1", "2"), do("DBSIZE"), do("MULTI"), do("GET", "a"), do("EXEC"),
		}},
		{name: "maxmemory/shared-integers", cleanup: memoryReset, steps: []step{
			// Under maxmemory with an LRU/LFU policy Redis stops sharing
			// small integers (each key needs its own access field).
			do("SET", "a", "5"), do("CONFIG", "SET", "maxmemory", "1gb"), do("OBJECT", "REFCOUNT", "a"),
			policy("allkeys-lru"), do("OBJECT", "REFCOUNT", "a"), do("SET", "k", "5"), do("OBJECT", "REFCOUNT", "k"),
			do("INCR", "n"), do("OBJECT", "REFCOUNT", "n"), do("SET", "big", "123456"), do("OBJECT", "REFCOUNT", "big"),
			policy("allkeys-lfu"), do("SET", "k2", "7"), do("OBJECT", "REFCOUNT", "k2"),
			policy("volatile-ttl"), do("SET", "k3", "5"), do("OBJECT", "REFCOUNT", "k3"), do("OBJECT", "REFCOUNT", "k"),
			policy("allkeys-random"), do("SET", "k4", "5"), do("OBJECT", "REFCOUNT", "k4"),
			policy("volatile-lru"), do("CONFIG", "SET", "maxmemory", "0"), do("SET", "k5", "5"), do("OBJECT", "REFCOUNT", "k5"),
		}},
		{name: "maxmemory/object-freq", cleanup: memoryReset, steps: []step{
			do("SET", "c", "world"),
			do("OBJECT", "FREQ", "c"), do("OBJECT", "FREQ", "nokey"),
			// lfu-decay-time 0: no decay, so a minute boundary between
			// steps cannot change the counter.
			do("CONFIG", "SET", "lfu-decay-time", "0"), policy("allkeys-lfu"),
			do("OBJECT", "IDLETIME", "c"), do("SET", "d", "hello"), do("RPUSH", "l", "x"),
			do("OBJECT", "FREQ", "d"), do("OBJECT", "FREQ", "l"),
			// From the initial 5 the first hit always counts.
			do("GET", "d"), do("OBJECT", "FREQ", "d"),
			// lfu-log-factor 0: every hit counts.
			do("CONFIG", "SET", "lfu-log-factor", "0"), do("GET", "d"), do("GET", "d"), do("LLEN", "l"),
			do("OBJECT", "FREQ", "d"), do("OBJECT", "FREQ", "l"),
			policy("volatile-lfu"), do("OBJECT", "FREQ", "d"),
			policy("volatile-lru"), do("OBJECT", "FREQ", "d"), shape("OBJECT", "IDLETIME", "d"),
		}},
	})
}

// TestDiffMaxmemoryTransactions covers an EXEC whose queue holds a denyoom
// command when the limit is reached after queueing, and WATCH of an
// evicted key.
func TestDiffMaxmemoryTransactions(t *testing.T) {
	info := func(sec string) xstep { return x("INFO", sec).with(cmpInfo) }
	runX(t, defaultTarget(t), []xcase{
		{name: "maxmemory/exec-denyoom", conns: 2, cleanup: memoryReset, steps: []xstep{
			x("SET", "a", "x"), x("MULTI"), x("GET", "a"), x("SET", "b", "y"),
			on(1, "CONFIG", "SET", "maxmemory", "1"), x("EXEC"), x("EXISTS", "b"),
			x("MULTI"), on(1, "CONFIG", "SET", "maxmemory", "0"), x("GET", "a"),
			on(1, "CONFIG", "SET", "maxmemory", "1"), x("EXEC"),
		}},
		{name: "maxmemory/watch-evicted", conns: 2, cleanup: memoryReset, steps: []xstep{
			x("SET", "a", "x"), x("SET", "w", "y"), x("WATCH", "w"),
			on(1, "CONFIG", "SET", "maxmemory-policy", "allkeys-random"), on(1, "CONFIG", "SET", "maxmemory", "1"),
			on(1, "DBSIZE"), on(1, "CONFIG", "SET", "maxmemory", "0"),
			x("MULTI"), x("PING"), x("EXEC"),
		}},
		{name: "maxmemory/info", cleanup: memoryReset, steps: []xstep{
			x("SCRIPT", "FLUSH"), x("CONFIG", "RESETSTAT"), info("memory"), info("stats"),
			x("SET", "a", "x"), x("SET", "b", "x"), x("SET", "t", "x", "EX", "100"),
			x("CONFIG", "SET", "maxmemory-policy", "volatile-ttl"), x("CONFIG", "SET", "maxmemory", "1"),
			x("SET", "c", "y"), info("memory"), info("stats"),
			x("CONFIG", "SET", "maxmemory-policy", "allkeys-lru"), x("DBSIZE"), info("stats"),
			x("CONFIG", "SET", "maxmemory", "100mb"), info("memory"),
		}},
	})
}
