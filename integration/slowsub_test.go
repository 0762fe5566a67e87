package integration

import (
	"bufio"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/resp/resptest"
)

// Client buffers against the keyspace: a subscriber that stops reading
// (a stalled WebSocket gateway, ops-surface.md §6.8) must cost clients,
// never keys. These tests drive real sockets whose receive buffer is tiny
// and never read, so the server's output for them piles up.

// stalledSubscriber connects with a 4 KB receive buffer, sends cmds (the
// last a SUBSCRIBE), reads their replies, then never reads again.
func stalledSubscriber(t *testing.T, addr string, cmds ...[]string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		var err error
		if cerr := rc.Control(func(fd uintptr) {
			err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		}); cerr != nil {
			return cerr
		}
		return err
	}}
	c, err := d.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	r := bufio.NewReader(c)
	for _, cmd := range cmds {
		_, err := c.Write(resptest.Encode(cmd...))
		require.NoError(t, err)
		require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
		// Every reply here is one line or a 3-element array of short
		// lines (the SUBSCRIBE confirmation).
		line, err := r.ReadString('\n')
		require.NoError(t, err, "%q", cmd)
		if strings.HasPrefix(line, "*") {
			for i := 0; i < 3; i++ {
				l, err := r.ReadString('\n')
				require.NoError(t, err)
				if strings.HasPrefix(l, "$") {
					_, err = r.ReadString('\n')
					require.NoError(t, err)
				}
			}
		} else {
			require.NotEqual(t, "-", line[:1], "%q: %s", cmd, line)
		}
	}
	require.Zero(t, r.Buffered(), "unread replies")
	return c
}

// awaitSubscribers polls until channel has n subscribers.
func awaitSubscribers(t *testing.T, c *resptest.Conn, channel string, n int64) {
	t.Helper()
	require.Eventually(t, func() bool { return c.Do("PUBSUB", "NUMSUB", channel).Elems[1].Int == n },
		5*time.Second, time.Millisecond, "subscribers of %s", channel)
}

// floodUntilDropped publishes msg to channel until PUBLISH counts no
// receiver (the subscriber was closed) and returns the bytes published;
// it fails past limit bytes.
func floodUntilDropped(t *testing.T, pub *resptest.Conn, channel, msg string, limit int) int {
	t.Helper()
	sent := 0
	for {
		v := pub.Do("PUBLISH", channel, msg)
		require.Equal(t, byte(':'), v.Kind, "PUBLISH: %s", v.Str)
		if v.Int == 0 {
			return sent
		}
		sent += len(msg)
		require.Less(t, sent, limit, "the subscriber of %s was never dropped", channel)
	}
}

// infoInt reads an integer field of INFO section.
func infoInt(t *testing.T, c *resptest.Conn, section, field string) int64 {
	t.Helper()
	for _, line := range strings.Split(c.Do("INFO", section).Str, "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			require.NoError(t, err, line)
			return n
		}
	}
	t.Fatalf("INFO %s has no %s", section, field)
	return 0
}

// evictionMemory is the memory a server compares with maxmemory, read from
// one INFO: used_memory minus mem_not_counted_for_evict.
func evictionMemory(t *testing.T, c *resptest.Conn) int64 {
	t.Helper()
	f := map[string]int64{}
	for _, line := range strings.Split(c.Do("INFO", "memory").Str, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			f[k], _ = strconv.ParseInt(v, 10, 64)
		}
	}
	require.Contains(t, f, "used_memory")
	return f["used_memory"] - f["mem_not_counted_for_evict"]
}

// slowSubscriberScenario fills addr with keys (half with a TTL, so every
// policy has candidates), sets maxmemory 256 KB above what is stored, a
// pubsub output limit of 1 MB and the policy, and floods a stalled
// subscriber with 64 KB messages until the server drops it. It returns
// evicted_keys and DBSIZE afterwards.
func slowSubscriberScenario(t *testing.T, addr, policy string) (evicted, keys int64) {
	c := resptest.Dial(t, addr)
	require.Equal(t, "OK", c.Do("FLUSHALL").Str)
	require.Equal(t, "OK", c.Do("CONFIG", "RESETSTAT").Str)
	for i := 0; i < 100; i++ {
		require.Equal(t, "OK", c.Do("SET", "cache:"+strconv.Itoa(i), strings.Repeat("v", 100), "EX", "3600").Str)
		require.Equal(t, int64(1), c.Do("RPUSH", "queue:"+strconv.Itoa(i), strings.Repeat("m", 100)).Int)
	}
	limit := evictionMemory(t, c) + 256<<10
	require.Equal(t, "OK", c.Do("CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb 0 0",
		"maxmemory-policy", policy, "maxmemory", strconv.FormatInt(limit, 10)).Str)
	stalledSubscriber(t, addr, []string{"SUBSCRIBE", "ws:gateway"})
	awaitSubscribers(t, c, "ws:gateway", 1)
	floodUntilDropped(t, c, "ws:gateway", strings.Repeat("x", 64<<10), 256<<20)
	return infoInt(t, c, "stats", "evicted_keys"), c.Do("DBSIZE").Int
}

// TestSlowSubscriberEvictsNoKeyUnderAnyPolicy: under every policy, a
// subscriber that stops reading while a publisher floods it is closed by
// client-output-buffer-limit pubsub and no key is evicted, although its
// backlog passes maxmemory's headroom four times. The same flood on
// redis-server 7.0.15 under allkeys-lru evicts keys, which proves the
// scenario does press on memory (ops-surface.md §7.3).
func TestSlowSubscriberEvictsNoKeyUnderAnyPolicy(t *testing.T) {
	needOracle(t)
	srv := resptest.NewServer(t)
	for _, policy := range []string{"noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random",
		"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "broker-safe"} {
		t.Run(policy, func(t *testing.T) {
			evicted, keys := slowSubscriberScenario(t, srv.Addr(), policy)
			assert.Zero(t, evicted, "evicted_keys")
			assert.Equal(t, int64(200), keys)
			c := resptest.Dial(t, srv.Addr())
			assert.Equal(t, "OK", c.Do("SET", "after", "v").Str)
			assert.Equal(t, "OK", c.Do("CONFIG", "SET", "maxmemory", "0").Str)
		})
	}
	t.Run("redis-server allkeys-lru", func(t *testing.T) {
		evicted, keys := slowSubscriberScenario(t, startRedis(t), "allkeys-lru")
		assert.Positive(t, evicted, "redis-server counts the backlog against maxmemory")
		assert.Less(t, keys, int64(200))
	})
}

// TestClientEvictionMatchesRedis runs the same maxmemory-clients scenario
// on Celerity and on redis-server 7.0.15 and expects the same outcome:
// with maxmemory-clients at 10% of a 10 MB maxmemory, a stalled
// subscriber is evicted once its backlog takes 1 MB (evicted_clients 1);
// a stalled subscriber with CLIENT NO-EVICT is not, and when its backlog
// passes the limit the publisher, the only evictable client left, is
// evicted instead (evicted_clients 2) while the subscriber stays
// subscribed. No key is evicted.
func TestClientEvictionMatchesRedis(t *testing.T) {
	needOracle(t)
	for name, addr := range map[string]string{"celerity": resptest.NewServer(t).Addr(), "redis-server": startRedis(t)} {
		t.Run(name, func(t *testing.T) {
			admin := resptest.Dial(t, addr)
			require.Equal(t, "OK", admin.Do("CONFIG", "SET", "maxmemory", "10mb", "maxmemory-clients", "10%").Str)
			require.Equal(t, "OK", admin.Do("SET", "k", "v").Str)
			require.Equal(t, "OK", admin.Do("CLIENT", "NO-EVICT", "on").Str)
			stalledSubscriber(t, addr, []string{"SUBSCRIBE", "plain"})
			stalledSubscriber(t, addr, []string{"CLIENT", "NO-EVICT", "on"}, []string{"SUBSCRIBE", "exempt"})
			awaitSubscribers(t, admin, "plain", 1)
			awaitSubscribers(t, admin, "exempt", 1)

			pub := resptest.Dial(t, addr)
			msg := strings.Repeat("x", 64<<10)
			floodUntilDropped(t, pub, "plain", msg, 64<<20)
			assert.Equal(t, int64(1), infoInt(t, admin, "stats", "evicted_clients"))

			// Flooding the exempt subscriber: the publisher goes (the
			// only evictable client: the first one leaves first).
			pub.NetConn().Close()
			require.Eventually(t, func() bool { return infoInt(t, admin, "clients", "connected_clients") == 2 },
				5*time.Second, time.Millisecond)
			pub2 := resptest.Dial(t, addr)
			for sent := 0; ; sent += len(msg) {
				require.Less(t, sent, 64<<20, "the publisher was never evicted")
				pub2.Send("PUBLISH", "exempt", msg)
				if _, err := pub2.TryReadRaw(5 * time.Second); err != nil {
					break // closed by the server
				}
			}
			assert.Equal(t, int64(2), infoInt(t, admin, "stats", "evicted_clients"))
			assert.Equal(t, int64(1), admin.Do("PUBSUB", "NUMSUB", "exempt").Elems[1].Int)
			assert.Equal(t, int64(0), infoInt(t, admin, "stats", "evicted_keys"))
			assert.Equal(t, "v", admin.Do("GET", "k").Str)
		})
	}
}
