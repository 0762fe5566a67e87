package e2e

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// blockedCount waits until INFO reports n blocked clients.
func waitBlocked(t *testing.T, admin *conn, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d blocked clients", n), func() bool {
		return infoField(t, admin, "clients", "blocked_clients") == strconv.Itoa(n)
	})
}

func TestBlockedClientsServedInArrivalOrder(t *testing.T) {
	s := startServer(t)
	admin := dial(t, s.addr())
	var clients []*conn
	for i := 0; i < 3; i++ {
		c := dial(t, s.addr())
		c.send("BRPOP", "q", "0")
		waitBlocked(t, admin, i+1) // arrival order is the order they blocked in
		clients = append(clients, c)
	}
	require.Equal(t, "3", admin.do("RPUSH", "q", "a", "b", "c"))
	// BRPOP takes from the tail: first waiter gets c, then b, then a.
	for i, want := range []string{"c", "b", "a"} {
		got, err := clients[i].read(5 * time.Second)
		require.NoError(t, err)
		assert.Equal(t, "[q "+want+"]", got, "waiter %d", i)
	}
	assert.Equal(t, "0", admin.do("LLEN", "q"))
}

func TestPipelinedPushesWakeOneWaiterPerElement(t *testing.T) {
	s := startServer(t)
	admin := dial(t, s.addr())
	const waiters = 5
	var clients []*conn
	for i := 0; i < waiters; i++ {
		c := dial(t, s.addr())
		c.send("BLPOP", "jobs", "0")
		waitBlocked(t, admin, i+1)
		clients = append(clients, c)
	}
	// Three pushes in one write: exactly three waiters are served.
	pipe := append(append(encode("LPUSH", "jobs", "1"), encode("LPUSH", "jobs", "2")...), encode("LPUSH", "jobs", "3")...)
	_, err := admin.c.Write(pipe)
	require.NoError(t, err)
	for i := 0; i < 3; i++ {
		_, err := admin.read(5 * time.Second)
		require.NoError(t, err)
	}
	got := map[string]bool{}
	for i := 0; i < 3; i++ {
		r, err := clients[i].read(5 * time.Second)
		require.NoError(t, err)
		got[r] = true
	}
	assert.Equal(t, map[string]bool{"[jobs 1]": true, "[jobs 2]": true, "[jobs 3]": true}, got)
	waitBlocked(t, admin, waiters-3)
	assert.Equal(t, "0", admin.do("LLEN", "jobs"))
	for _, c := range clients[3:] {
		_, err := c.read(50 * time.Millisecond)
		assert.Error(t, err, "an unserved waiter must get nothing")
	}
}

func TestMultiKeyBRPOPTakesKeysInArgumentOrder(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.addr())
	c.do("RPUSH", "celery\x06\x166", "low")
	c.do("RPUSH", "celery\x06\x163", "mid")
	c.do("RPUSH", "celery", "high")
	order := []string{"celery", "celery\x06\x163", "celery\x06\x166", "celery\x06\x169"}
	for _, want := range []string{"high", "mid", "low"} {
		got := c.do(append(append([]string{"BRPOP"}, order...), "1")...)
		assert.Contains(t, got, want)
	}
}

func TestClientKilledWhileBlockedIsGoneBeforeNextPush(t *testing.T) {
	s := startServer(t)
	admin := dial(t, s.addr())
	victim := dial(t, s.addr())
	victim.send("BRPOP", "q", "0")
	waitBlocked(t, admin, 1)
	require.NoError(t, victim.c.Close())
	// The server notices the disconnect by itself: no command needed.
	waitBlocked(t, admin, 0)
	require.Equal(t, "1", admin.do("LPUSH", "q", "x"))
	assert.Equal(t, "1", admin.do("LLEN", "q"), "the element must stay queued")
}

func TestThousandBlockedClientsEachServedOnce(t *testing.T) {
	s := startServer(t)
	admin := dial(t, s.addr())
	const n = 1000
	clients := make([]*conn, n)
	for i := range clients {
		clients[i] = dial(t, s.addr())
		clients[i].send("BLPOP", "q", "0")
	}
	waitBlocked(t, admin, n)
	args := []string{"RPUSH", "q"}
	for i := 0; i < n; i++ {
		args = append(args, strconv.Itoa(i))
	}
	require.Equal(t, strconv.Itoa(n), admin.do(args...))
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func(c *conn) {
			defer wg.Done()
			r, err := c.read(10 * time.Second)
			if assert.NoError(t, err) {
				mu.Lock()
				seen[r]++
				mu.Unlock()
			}
		}(c)
	}
	wg.Wait()
	require.Len(t, seen, n, "every element delivered to exactly one client")
	for k, v := range seen {
		assert.Equal(t, 1, v, k)
	}
	assert.Equal(t, "0", admin.do("LLEN", "q"))
	assert.Equal(t, "0", infoField(t, admin, "clients", "blocked_clients"))
}

func TestBlockingTimeoutAndUnblock(t *testing.T) {
	s := startServer(t)
	admin := dial(t, s.addr())
	c := dial(t, s.addr())
	start := time.Now()
	assert.Equal(t, "(nil)", c.do("BLPOP", "none", "0.2"))
	assert.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)

	id := c.do("CLIENT", "ID")
	c.send("BLPOP", "none", "0")
	waitBlocked(t, admin, 1)
	assert.Equal(t, "1", admin.do("CLIENT", "UNBLOCK", id, "ERROR"))
	r, err := c.read(5 * time.Second)
	require.NoError(t, err)
	assert.Equal(t, "UNBLOCKED client unblocked via CLIENT UNBLOCK", r)
	// The connection keeps working afterwards.
	assert.Equal(t, "PONG", c.do("PING"))
}

func TestPipelineBehindBlockingCommandRunsAfterServe(t *testing.T) {
	s := startServer(t)
	admin := dial(t, s.addr())
	c := dial(t, s.addr())
	_, err := c.c.Write(append(encode("BLPOP", "q", "0"), encode("ECHO", "after")...))
	require.NoError(t, err)
	waitBlocked(t, admin, 1)
	admin.do("RPUSH", "q", "v")
	r1, err := c.read(5 * time.Second)
	require.NoError(t, err)
	r2, err := c.read(5 * time.Second)
	require.NoError(t, err)
	assert.Equal(t, "[q v]", r1)
	assert.Equal(t, "after", r2)
}
