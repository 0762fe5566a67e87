package resp_test

import (
	"bytes"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/resp"
	"github.com/celerity/celerity/resp/resptest"
)

const errOOMBrokerSafe = "OOM command not allowed when used memory > 'maxmemory': only protected broker data is left (maxmemory-policy broker-safe), retry later."

// infoField reads one field of INFO <section>.
func infoField(t *testing.T, c *resptest.Conn, section, field string) string {
	t.Helper()
	v := c.Do("INFO", section)
	for _, line := range strings.Split(v.Str, "\r\n") {
		if k, val, ok := strings.Cut(line, ":"); ok && k == field {
			return val
		}
	}
	t.Fatalf("INFO %s has no %s", section, field)
	return ""
}

// evictionUsed is the memory compared with maxmemory: used_memory but
// what INFO says eviction does not count (client memory), both from one
// INFO (client memory changes with every reply).
func evictionUsed(t *testing.T, c *resptest.Conn) int64 {
	t.Helper()
	fields := map[string]int64{}
	for _, line := range strings.Split(c.Do("INFO", "memory").Str, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			fields[k], _ = strconv.ParseInt(v, 10, 64)
		}
	}
	require.Contains(t, fields, "mem_not_counted_for_evict")
	return fields["used_memory"] - fields["mem_not_counted_for_evict"]
}

// celeryDataset fills the server with a Celery deployment's keys, one of
// each class.
func celeryDataset(t *testing.T, c *resptest.Conn) {
	t.Helper()
	for _, cmd := range [][]string{
		{"RPUSH", "celery", "task1", "task2"},
		{"RPUSH", "celery\x06\x163", "task3"},
		{"SADD", "_kombu.binding.celery", "celery\x06\x16\x06\x16celery"},
		{"HSET", "redbeat:job", "definition", "{}"},
		{"ZADD", "redbeat::schedule", "1", "redbeat:job"},
		{"SET", "redbeat::lock", "token", "PX", "30000"},
		{"SET", "unacked_mutex", "token", "EX", "300"},
		{"HSET", "unacked", "tag0", "msg0"},
		{"SET", "celery-task-meta-1", "result"},
		{"SET", "celery-task-meta-2", "result", "EX", "86400"},
		{"RPUSH", "abc.reply.celery.pidbox", "reply"},
		{"SET", "perm:1", "cached", "EX", "300"},
		{"SET", "other", "value"},
		// RedBeat under a custom prefix, as the seed deployment runs it.
		{"HSET", "nadoo:redbeat:nightly", "definition", "{}", "meta", "{}"},
		{"ZADD", "nadoo:redbeat::schedule", "1", "nadoo:redbeat:nightly"},
		{"SADD", "nadoo:redbeat::statics", "nadoo:redbeat:nightly"},
		{"SET", "nadoo:redbeat::lock", "token", "PX", "30000"},
	} {
		v := c.Do(cmd...)
		require.NotEqual(t, byte('-'), v.Kind, "%q: %s", cmd, v.Str)
	}
}

func TestBrokerSafeEvictsOnlyExpendableAndOther(t *testing.T) {
	srv := resptest.NewServer(t)
	c := resptest.Dial(t, srv.Addr())
	celeryDataset(t, c)
	require.Equal(t, "OK", c.Do("CONFIG", "SET", "maxmemory-policy", "broker-safe").Str)
	assert.Equal(t, "broker-safe", c.Do("CONFIG", "GET", "maxmemory-policy").Elems[1].Str)
	classBytes := func() (protected, expendable, other int64) {
		for _, f := range []struct {
			name string
			v    *int64
		}{{"broker_protected_bytes", &protected}, {"broker_expendable_bytes", &expendable}, {"broker_other_bytes", &other}} {
			n, err := strconv.ParseInt(infoField(t, c, "memory", f.name), 10, 64)
			require.NoError(t, err)
			*f.v = n
		}
		return
	}
	protected, expendable, other := classBytes()
	assert.Positive(t, protected)
	assert.Positive(t, expendable)
	assert.Positive(t, other)
	require.Equal(t, "OK", c.Do("CONFIG", "SET", "maxmemory", "1").Str)

	// The next command evicts everything that may go.
	assert.Equal(t, int64(0), c.Do("EXISTS", "celery-task-meta-1", "celery-task-meta-2", "abc.reply.celery.pidbox", "perm:1", "other").Int)
	assert.Equal(t, int64(7), c.Do("EXISTS", "celery", "celery\x06\x163", "_kombu.binding.celery", "redbeat:job",
		"redbeat::schedule", "redbeat::lock", "unacked_mutex").Int)
	assert.Equal(t, int64(4), c.Do("EXISTS", "nadoo:redbeat:nightly", "nadoo:redbeat::schedule", "nadoo:redbeat::statics",
		"nadoo:redbeat::lock").Int)
	assert.Equal(t, int64(2), c.Do("LLEN", "celery").Int)
	assert.Equal(t, "maxmemory_policy:broker-safe", "maxmemory_policy:"+infoField(t, c, "memory", "maxmemory_policy"))
	assert.Equal(t, "4", infoField(t, c, "memory", "broker_evicted_expendable"))
	assert.Equal(t, "1", infoField(t, c, "memory", "broker_evicted_other"))
	assert.Equal(t, "5", infoField(t, c, "stats", "evicted_keys"))
	p2, e2, o2 := classBytes()
	assert.Equal(t, protected, p2, "protected bytes untouched")
	assert.Zero(t, e2)
	assert.Zero(t, o2)

	// Only protected data is left: producers get the distinct error,
	// reads and pops still work.
	assert.Equal(t, errOOMBrokerSafe, c.Do("LPUSH", "celery", "task4").Str)
	assert.Equal(t, errOOMBrokerSafe, c.Do("SET", "x", "y").Str)
	assert.Equal(t, "task2", c.Do("RPOP", "celery").Str)
	assert.Equal(t, "task3", c.Do("BRPOP", "celery\x06\x163", "celery", "1").Elems[1].Str)
	// Far above the reserve, even bookkeeping is refused.
	assert.Equal(t, errOOMBrokerSafe, c.Do("HSET", "unacked", "tag1", "msg1").Str)
}

func TestBrokerSafeReserveKeepsConsumerBookkeeping(t *testing.T) {
	srv := resptest.NewServer(t)
	c := resptest.Dial(t, srv.Addr())
	celeryDataset(t, c)
	require.Equal(t, int64(5), c.Do("DEL", "celery-task-meta-1", "celery-task-meta-2", "abc.reply.celery.pidbox", "perm:1", "other").Int)
	// Just under what is stored: over the limit, well within the reserve.
	limit := evictionUsed(t, c) - 100
	require.Equal(t, "OK", c.Do("CONFIG", "SET", "maxmemory-policy", "broker-safe").Str)
	require.Equal(t, "OK", c.Do("CONFIG", "SET", "maxmemory", strconv.FormatInt(limit, 10)).Str)

	// The consumer pops a message, then records it as Kombu's QoS does
	// (MULTI ZADD unacked_index / HSET unacked / EXEC): both go through.
	assert.Equal(t, "task1", c.Do("LPOP", "celery").Str)
	assert.Equal(t, "OK", c.Do("MULTI").Str)
	assert.Equal(t, "QUEUED", c.Do("ZADD", "unacked_index", "1700000000", "tag1").Str)
	assert.Equal(t, "QUEUED", c.Do("HSET", "unacked", "tag1", "task1-payload").Str)
	assert.Equal(t, "QUEUED", c.Do("HLEN", "unacked").Str, "reads queue in MULTI")
	v := c.Do("EXEC")
	require.Equal(t, byte('*'), v.Kind, "EXEC: %s", v.Str)
	require.Len(t, v.Elems, 3)
	assert.Equal(t, int64(2), v.Elems[2].Int)
	assert.Equal(t, int64(1), c.Do("HSET", "unacked", "tag2", "x").Int)
	assert.Equal(t, "OK", c.Do("SET", "unacked_mutex", "t2", "EX", "300").Str)

	// A producer is refused, in MULTI too (and the transaction with it).
	assert.Equal(t, errOOMBrokerSafe, c.Do("LPUSH", "celery", "task9").Str)
	assert.Equal(t, "OK", c.Do("MULTI").Str)
	assert.Equal(t, errOOMBrokerSafe, c.Do("LPUSH", "celery", "task9").Str)
	assert.Equal(t, "EXECABORT Transaction discarded because of previous errors.", c.Do("EXEC").Str)
	// Bookkeeping mixed with other keys is not bookkeeping.
	assert.Equal(t, errOOMBrokerSafe, c.Do("MSET", "unacked_mutex", "a", "other", "b").Str)

	used := infoField(t, c, "memory", "broker_reserve_used")
	n, err := strconv.ParseInt(used, 10, 64)
	require.NoError(t, err)
	assert.Greater(t, n, int64(0))
	assert.Equal(t, "65536", infoField(t, c, "memory", "broker_reserve_bytes"))
}

// Under noeviction the same bookkeeping is refused after the pop: the
// message is gone from the queue and not recorded (the hazard broker-safe
// removes; ops-surface.md §7.3).
func TestNoevictionRefusesBookkeepingAfterPop(t *testing.T) {
	srv := resptest.NewServer(t)
	c := resptest.Dial(t, srv.Addr())
	celeryDataset(t, c)
	require.Equal(t, "OK", c.Do("CONFIG", "SET", "maxmemory", strconv.FormatInt(evictionUsed(t, c)-100, 10)).Str)
	assert.Equal(t, "task1", c.Do("LPOP", "celery").Str)
	assert.Equal(t, "OK", c.Do("MULTI").Str)
	assert.Equal(t, "OOM command not allowed when used memory > 'maxmemory'.", c.Do("ZADD", "unacked_index", "1", "tag1").Str)
	assert.Equal(t, "EXECABORT Transaction discarded because of previous errors.", c.Do("EXEC").Str)
}

func TestBrokerProtectedPrefixes(t *testing.T) {
	srv := resptest.NewServer(t)
	c := resptest.Dial(t, srv.Addr())
	assert.Equal(t, "redbeat:", c.Do("CONFIG", "GET", "broker-protected-prefixes").Elems[1].Str)
	require.Equal(t, "OK", c.Do("CONFIG", "SET", "broker-protected-prefixes", "beat: jobs:").Str)
	for _, k := range []string{"beat:a", "jobs:b", "redbeat:c", "plain"} {
		require.Equal(t, "OK", c.Do("SET", k, "v").Str)
	}
	require.Equal(t, "OK", c.Do("CONFIG", "SET", "maxmemory-policy", "broker-safe", "maxmemory", "1").Str)
	assert.Equal(t, int64(2), c.Do("EXISTS", "beat:a", "jobs:b").Int)
	assert.Equal(t, int64(0), c.Do("EXISTS", "redbeat:c", "plain").Int)
}

// The pop-then-record race (ops-surface.md §7.3): a consumer blocked in
// BRPOP is served by a push that takes memory over maxmemory; under
// broker-safe its bookkeeping still goes through, under noeviction it is
// refused and the message is neither queued nor recorded.
func TestBlockedConsumerServedPastTheLimitRecordsItsMessage(t *testing.T) {
	for _, tc := range []struct {
		policy   string
		recorded bool
	}{{"broker-safe", true}, {"noeviction", false}} {
		t.Run(tc.policy, func(t *testing.T) {
			srv := resptest.NewServer(t)
			producer := resptest.Dial(t, srv.Addr())
			consumer := resptest.Dial(t, srv.Addr())
			celeryDataset(t, producer)
			require.Equal(t, int64(5), producer.Do("DEL", "celery-task-meta-1", "celery-task-meta-2", "abc.reply.celery.pidbox", "perm:1", "other").Int)
			require.Equal(t, int64(2), producer.Do("DEL", "celery", "celery\x06\x163").Int)
			limit := evictionUsed(t, producer) + 512
			require.Equal(t, "OK", producer.Do("CONFIG", "SET", "maxmemory-policy", tc.policy, "maxmemory", strconv.FormatInt(limit, 10)).Str)

			consumer.Send("BRPOP", "celery", "celery\x06\x163", "5")
			require.Eventually(t, func() bool { return infoField(t, producer, "clients", "blocked_clients") == "1" },
				5*time.Second, time.Millisecond)
			// Under the limit before the push: accepted, and over it after,
			// even once the consumer has its message.
			payload, second := strings.Repeat("a", 4096), strings.Repeat("b", 4096)
			v := producer.Do("LPUSH", "celery", payload, second)
			require.Equal(t, int64(2), v.Int, "%s used %d limit %d", v.Str, evictionUsed(t, producer), limit)
			got := consumer.Read()
			require.Len(t, got.Elems, 2)
			assert.Equal(t, payload, got.Elems[1].Str)

			// Kombu's QoS.append, as redis-py pipelines it.
			assert.Equal(t, "OK", consumer.Do("MULTI").Str)
			zadd := consumer.Do("ZADD", "unacked_index", "1700000000", "tag1")
			hset := consumer.Do("HSET", "unacked", "tag1", payload)
			exec := consumer.Do("EXEC")
			if tc.recorded {
				assert.Equal(t, "QUEUED", zadd.Str)
				assert.Equal(t, "QUEUED", hset.Str)
				require.Equal(t, byte('*'), exec.Kind, "EXEC: %s", exec.Str)
				assert.Equal(t, payload, consumer.Do("HGET", "unacked", "tag1").Str)
				// A producer now meets back-pressure.
				assert.Equal(t, errOOMBrokerSafe, producer.Do("LPUSH", "celery", "next").Str)
			} else {
				assert.Equal(t, "OOM command not allowed when used memory > 'maxmemory'.", zadd.Str)
				assert.Equal(t, "EXECABORT Transaction discarded because of previous errors.", exec.Str)
				assert.Equal(t, int64(0), producer.Do("HEXISTS", "unacked", "tag1").Int)
				// The message left the queue and is recorded nowhere.
				assert.Equal(t, second, producer.Do("LINDEX", "celery", "0").Str)
				assert.Equal(t, int64(1), producer.Do("LLEN", "celery").Int)
			}
		})
	}
}

// A subscriber that stops reading while publishers flood it never causes
// an eviction: client buffers do not count towards maxmemory.
func TestSlowSubscriberCausesNoEviction(t *testing.T) {
	srv := resptest.NewServer(t)
	c := resptest.Dial(t, srv.Addr())
	sub := resptest.Dial(t, srv.Addr())
	for i := 0; i < 50; i++ {
		require.Equal(t, "OK", c.Do("SET", "key:"+strconv.Itoa(i), "value").Str)
	}
	limit := evictionUsed(t, c) + 64<<10
	require.Equal(t, "OK", c.Do("CONFIG", "SET", "maxmemory-policy", "allkeys-lru", "maxmemory", strconv.FormatInt(limit, 10)).Str)
	sub.Send("SUBSCRIBE", "ws:user:1")
	require.Eventually(t, func() bool { return c.Do("PUBSUB", "NUMSUB", "ws:user:1").Elems[1].Int == 1 },
		5*time.Second, time.Millisecond)
	msg := strings.Repeat("m", 8<<10)
	for i := 0; i < 500; i++ { // 4 MB, under the pubsub soft limit
		require.Equal(t, int64(1), c.Do("PUBLISH", "ws:user:1", msg).Int)
	}
	// 4 MB of backlog against 64 KB of headroom: on Redis, which counts
	// client buffers, this evicts keys (ops-surface.md §7.3).
	assert.Equal(t, "0", infoField(t, c, "stats", "evicted_keys"))
	assert.Equal(t, int64(50), c.Do("DBSIZE").Int)
	assert.Equal(t, "OK", c.Do("SET", "one-more", "v").Str)
}

// syncBuffer is a log sink the server writes to from its own goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// An allkeys-* policy set on a dataset with Kombu bindings is logged as
// the hazard it is; other policies, or no Kombu keys, log nothing.
func TestEvictablePolicyOnKombuDatasetIsLogged(t *testing.T) {
	var log syncBuffer
	srv := resptest.NewServer(t, func(_ *resp.Config, o *resp.Options) { o.Logger = zerolog.New(&log) })
	c := resptest.Dial(t, srv.Addr())
	const warning = "maxmemory-policy may evict Celery queues"
	require.Equal(t, "OK", c.Do("CONFIG", "SET", "maxmemory-policy", "allkeys-lru").Str)
	require.Equal(t, "OK", c.Do("CONFIG", "SET", "maxmemory-policy", "noeviction").Str)
	assert.NotContains(t, log.String(), warning, "no Kombu keys yet")
	require.Equal(t, int64(1), c.Do("SADD", "_kombu.binding.celery", "x").Int)
	require.Equal(t, "OK", c.Do("CONFIG", "SET", "maxmemory-policy", "volatile-lru").Str)
	require.Equal(t, "OK", c.Do("CONFIG", "SET", "maxmemory-policy", "broker-safe").Str)
	assert.NotContains(t, log.String(), warning)
	require.Equal(t, "OK", c.Do("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu").Str)
	assert.Contains(t, log.String(), warning)
	assert.Contains(t, log.String(), `"policy":"allkeys-lfu"`)
}

// The other side of the pop-then-record race: a consumer blocked in BRPOP
// vanishes (connection reset) just as a push that crosses maxmemory
// serves it. Whether the server noticed the reset first (the waiter is
// dropped) or served the pop and then failed to write the reply (the pop
// is undone), the message stays queued: never lost.
func TestVanishingConsumerServedPastTheLimitLeavesTheMessageQueued(t *testing.T) {
	for _, policy := range []string{"broker-safe", "noeviction"} {
		t.Run(policy, func(t *testing.T) {
			srv := resptest.NewServer(t)
			producer := resptest.Dial(t, srv.Addr())
			celeryDataset(t, producer)
			require.Equal(t, int64(2), producer.Do("DEL", "celery", "celery\x06\x163").Int)
			limit := evictionUsed(t, producer) + 512
			require.Equal(t, "OK", producer.Do("CONFIG", "SET", "maxmemory-policy", policy, "maxmemory", strconv.FormatInt(limit, 10)).Str)
			payload := strings.Repeat("a", 4096)
			for i := 0; i < 20; i++ {
				consumer := resptest.Dial(t, srv.Addr())
				consumer.Send("BRPOP", "celery", "5")
				require.Eventually(t, func() bool { return infoField(t, producer, "clients", "blocked_clients") == "1" },
					5*time.Second, time.Millisecond)
				tcp := consumer.NetConn().(*net.TCPConn)
				require.NoError(t, tcp.SetLinger(0))
				require.NoError(t, tcp.Close())
				// The push crosses the limit; the next iteration's pushes
				// are refused, so each round pops what it pushed.
				v := producer.Do("LPUSH", "celery", payload)
				require.Equal(t, byte(':'), v.Kind, "LPUSH: %s", v.Str)
				require.Eventually(t, func() bool { return producer.Do("LLEN", "celery").Int == 1 },
					5*time.Second, time.Millisecond, "round %d: the message left the queue with a vanished consumer", i)
				require.Equal(t, payload, producer.Do("RPOP", "celery").Str)
			}
		})
	}
}

// maxmemory-clients evicts a subscriber that stops reading, logs it as
// Redis does, counts it, and leaves the keyspace alone.
func TestClientEvictionLogsAndCounts(t *testing.T) {
	var log syncBuffer
	srv := resptest.NewServer(t, func(_ *resp.Config, o *resp.Options) { o.Logger = zerolog.New(&log) })
	c := resptest.Dial(t, srv.Addr())
	sub := resptest.Dial(t, srv.Addr())
	require.Equal(t, "OK", c.Do("SET", "k", "v").Str)
	require.Equal(t, "OK", c.Do("CLIENT", "NO-EVICT", "on").Str)
	require.Equal(t, "OK", c.Do("CONFIG", "SET", "maxmemory-clients", "128kb").Str)
	sub.Send("SUBSCRIBE", "ws")
	require.Eventually(t, func() bool { return c.Do("PUBSUB", "NUMSUB", "ws").Elems[1].Int == 1 },
		5*time.Second, time.Millisecond)
	// The subscriber never reads: once the socket buffers are full its
	// backlog passes the limit.
	msg := strings.Repeat("m", 32<<10)
	for sent := 0; c.Do("PUBLISH", "ws", msg).Int == 1; sent += len(msg) {
		require.Less(t, sent, 256<<20, "never evicted")
	}
	assert.Equal(t, "1", infoField(t, c, "stats", "evicted_clients"))
	assert.Contains(t, log.String(), "Evicting client: id=")
	assert.Contains(t, log.String(), "flags=P")
	assert.Equal(t, "v", c.Do("GET", "k").Str)
	assert.Equal(t, "0", infoField(t, c, "stats", "evicted_keys"))
}
