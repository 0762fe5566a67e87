package kombu

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/keyspace"
	"github.com/celerity/celerity/resp"
	"github.com/celerity/celerity/resp/resptest"
)

// SEP is Kombu's separator, spelled out for test keys.
const SEP = "\x06\x16"

// t0 is the manual clock's start: a Unix time in ms like Kombu's scores.
const t0 = int64(1_795_487_183_000)

type fixture struct {
	t     *testing.T
	srv   *resptest.Server
	k     *Kombu
	clock *keyspace.ManualClock
}

// newFixture starts a server carrying the extension, driven by a manual
// clock; cfg adjusts directives before the start.
func newFixture(t *testing.T, cfg func(*resp.Config)) *fixture {
	t.Helper()
	k := New(zerolog.Nop())
	clock := &keyspace.ManualClock{Ms: t0}
	opts := []resptest.Option{resptest.WithExtensions(k.Extension()), resptest.WithClock(clock)}
	if cfg != nil {
		opts = append(opts, resptest.WithConfig(cfg))
	}
	return &fixture{t: t, srv: resptest.NewServer(t, opts...), k: k, clock: clock}
}

func (f *fixture) dial() *resptest.Conn { return resptest.Dial(f.t, f.srv.Addr()) }

// advance moves the clock under the engine lock (the server reads it there).
func (f *fixture) advance(d time.Duration) int64 {
	f.srv.Lock()
	defer f.srv.Unlock()
	f.clock.Advance(d)
	return f.clock.Ms
}

// swept waits until the extension's cron has run at the clock's current
// reading, so what it did (or did not do) there can be observed.
func (f *fixture) swept() {
	f.t.Helper()
	require.Eventually(f.t, func() bool {
		f.srv.Lock()
		defer f.srv.Unlock()
		return f.k.tr.cronAt == f.clock.Ms
	}, 10*time.Second, 2*time.Millisecond, "a cron sweep at the current time")
}

// seconds renders ms as Kombu writes a score (time.time()).
func seconds(ms int64) string { return strconv.FormatFloat(float64(ms)/1000, 'f', 6, 64) }

// payload is an unacked hash value as Kombu's QoS.append writes it: JSON
// [message, exchange, routing_key].
func payload(tag, task, id, exchange, rk string, priority int, redelivered bool) string {
	headers := map[string]any{"lang": "py", "task": task, "id": id, "eta": nil, "retries": 0}
	info := map[string]any{"exchange": exchange, "routing_key": rk}
	if redelivered {
		headers["redelivered"] = true
		info["redelivered"] = true
	}
	msg := map[string]any{
		"body":             "W1tdLCB7fSwgeyJjYWxsYmFja3MiOiBudWxsfV0=",
		"content-encoding": "utf-8",
		"content-type":     "application/json",
		"headers":          headers,
		"properties": map[string]any{
			"correlation_id": id, "delivery_mode": 2, "delivery_info": info,
			"priority": priority, "body_encoding": "base64", "delivery_tag": tag,
		},
	}
	b, _ := json.Marshal([]any{msg, exchange, rk})
	return string(b)
}

// deliver replays Kombu's QoS.append on c.
func deliver(t *testing.T, c *resptest.Conn, prefix, tag string, at int64, value string) {
	t.Helper()
	require.Equal(t, "OK", c.Do("MULTI").Str)
	c.Do("ZADD", prefix+"unacked_index", seconds(at), tag)
	c.Do("HSET", prefix+"unacked", tag, value)
	require.Len(t, c.Do("EXEC").Elems, 2)
}

// ack replays QoS.ack on c.
func ack(t *testing.T, c *resptest.Conn, prefix, tag string) {
	t.Helper()
	c.Do("MULTI")
	c.Do("ZREM", prefix+"unacked_index", tag)
	c.Do("HDEL", prefix+"unacked", tag)
	require.Len(t, c.Do("EXEC").Elems, 2)
}

// restore replays QoS.restore_by_tag on c: WATCH, HGET, then MULTI ZREM
// HDEL RPUSH of the payload marked redelivered.
func restore(t *testing.T, c *resptest.Conn, prefix, tag, queueKey, msg string) {
	t.Helper()
	c.Do("WATCH", prefix+"unacked")
	c.Do("HGET", prefix+"unacked", tag)
	c.Do("MULTI")
	c.Do("ZREM", prefix+"unacked_index", tag)
	c.Do("HDEL", prefix+"unacked", tag)
	c.Do("RPUSH", prefix+queueKey, msg)
	require.Len(t, c.Do("EXEC").Elems, 3)
}

// rows decodes an array of maps (either protocol: RESP2 maps are flat
// arrays) into field -> value maps.
func rows(t *testing.T, v resp.Value) []map[string]resp.Value {
	t.Helper()
	require.Equal(t, byte('*'), v.Kind, "%+v", v)
	out := make([]map[string]resp.Value, 0, len(v.Elems))
	for _, e := range v.Elems {
		out = append(out, fields(t, e))
	}
	return out
}

func fields(t *testing.T, v resp.Value) map[string]resp.Value {
	t.Helper()
	require.Contains(t, []byte{'%', '*'}, v.Kind)
	require.Zero(t, len(v.Elems)%2)
	m := make(map[string]resp.Value, len(v.Elems)/2)
	for i := 0; i < len(v.Elems); i += 2 {
		m[v.Elems[i].Str] = v.Elems[i+1]
	}
	return m
}

// byName indexes KOMBU.QUEUES rows by prefix+name.
func byName(t *testing.T, v resp.Value) map[string]map[string]resp.Value {
	t.Helper()
	out := make(map[string]map[string]resp.Value)
	for _, r := range rows(t, v) {
		out[r["prefix"].Str+r["name"].Str] = r
	}
	return out
}
