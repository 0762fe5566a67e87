package resp_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/resp"
	"github.com/celerity/celerity/resp/resptest"
)

// An extension sees the writes clients make (inside EXEC and scripts too,
// attributed to the sending client), learns when they close, gets cron
// ticks, adds an INFO section shown only on request, and its own writes go
// through the table like a client's.
func TestExtensionHooks(t *testing.T) {
	var (
		mu       sync.Mutex
		written  []string
		closed   []int64
		ticks    = make(chan struct{}, 1)
		attached *resp.Server
	)
	ext := &resp.Extension{
		Name: "probe",
		Commands: []*resp.Command{{
			Name: "probe.touch", Arity: 2, Flags: resp.Write, Keys: resp.KeyPos{First: 1, Last: 1, Step: 1},
			Run: func(c *resp.Client) {
				v := c.Server().Exec(c.DB().ID(), []byte("INCR"), c.Argv()[1])
				c.WriteValue(v)
			},
		}},
		Written: func(c *resp.Client, cmd *resp.Command, argv [][]byte) {
			mu.Lock()
			defer mu.Unlock()
			written = append(written, cmd.FullName()+" "+string(argv[1]))
		},
		Closed: func(c *resp.Client) {
			mu.Lock()
			defer mu.Unlock()
			closed = append(closed, c.ID())
		},
		Cron: func(time.Time) {
			select {
			case ticks <- struct{}{}:
			default:
			}
		},
		Info:   func(add func(string, string)) { add("probe_field", "1") },
		Attach: func(s *resp.Server) { attached = s },
	}
	s := resptest.NewServer(t, resptest.WithExtensions(ext))
	require.Same(t, s.Server, attached, "Attach hands over the server before it serves")
	c := resptest.Dial(t, s.Addr())
	id := c.Do("CLIENT", "ID").Int

	require.Equal(t, "OK", c.Do("SET", "a", "1").Str)
	c.Do("GET", "a")
	c.Do("MULTI")
	c.Do("SET", "b", "1")
	c.Do("DEL", "missing")
	require.Len(t, c.Do("EXEC").Elems, 2)
	c.Do("EVAL", "redis.call('set', KEYS[1], 'x')", "1", "c")
	assert.Equal(t, int64(2), c.Do("PROBE.TOUCH", "a").Int, "an extension command writing through Exec")

	info := c.Do("COMMAND", "INFO", "probe.touch")
	require.Len(t, info.Elems, 1)
	assert.Equal(t, "probe.touch", info.Elems[0].Elems[0].Str)
	c.Do("COMMAND", "DOCS", "probe.touch")
	c.Do("COMMAND")

	mu.Lock()
	assert.Equal(t, []string{"set a", "set b", "set c", "probe.touch a"}, written,
		"reads, no-op writes and the extension's own INCR are not reported")
	mu.Unlock()

	assert.NotContains(t, c.Do("INFO").Str, "probe_field")
	assert.Contains(t, c.Do("INFO", "probe").Str, "# Probe\r\nprobe_field:1\r\n")
	assert.True(t, strings.HasSuffix(c.Do("INFO", "everything").Str, "# Probe\r\nprobe_field:1\r\n"))

	select {
	case <-ticks:
	case <-time.After(5 * time.Second):
		t.Fatal("no cron tick")
	}

	c.NetConn().Close()
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(closed) == 1 && closed[0] == id
	}, 5*time.Second, 5*time.Millisecond)
}

// Exec from a Written hook joins the unit of the write that triggered it:
// the hook's command runs at once (plain, inside EXEC, inside a script) and
// is never fed back to the hook.
func TestExtensionExecFromWritten(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []string
	)
	ext := &resp.Extension{
		Name: "ttl",
		Written: func(c *resp.Client, cmd *resp.Command, argv [][]byte) {
			mu.Lock()
			seen = append(seen, cmd.FullName())
			mu.Unlock()
			if strings.HasPrefix(string(argv[1]), "t:") {
				v := c.Server().Exec(c.DB().ID(), []byte("PEXPIRE"), argv[1], []byte("100000"))
				assert.Equal(t, int64(1), v.Int)
			}
		},
	}
	s := resptest.NewServer(t, resptest.WithExtensions(ext))
	c := resptest.Dial(t, s.Addr())
	c.Do("SET", "t:a", "1")
	c.Do("SET", "u", "1")
	c.Do("MULTI")
	c.Do("SET", "t:b", "1")
	c.Do("EXEC")
	assert.Positive(t, c.Do("EVAL", "redis.call('set', KEYS[1], 'x') return redis.call('pttl', KEYS[1])", "1", "t:c").Int,
		"the script sees the TTL the hook set after its SET")
	for _, k := range []string{"t:a", "t:b", "t:c"} {
		assert.Positive(t, c.Do("PTTL", k).Int, k)
	}
	assert.Equal(t, int64(-1), c.Do("PTTL", "u").Int)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"set", "set", "set", "set"}, seen)
}
