package integration

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/resp/resptest"
)

// TestDiffMemoryCommand covers MEMORY's subcommands, arities and errors.
// MEMORY STATS is compared by field names, order and value types (the
// figures are each server's own); MEMORY DOCTOR on an instance under 5 MB
// has a fixed text on both.
func TestDiffMemoryCommand(t *testing.T) {
	runX(t, defaultTarget(t), []xcase{
		{name: "memory/usage-and-errors", steps: []xstep{
			x("SET", "k", "v"), x("MEMORY", "USAGE", "k"), x("MEMORY", "USAGE", "k", "SAMPLES", "0"),
			x("MEMORY", "USAGE", "k", "samples", "10"), x("MEMORY", "USAGE", "nokey"),
			x("MEMORY", "USAGE", "k", "SAMPLES", "-1"), x("MEMORY", "USAGE", "k", "SAMPLES", "x"),
			x("MEMORY", "USAGE", "k", "SAMPLES"), x("MEMORY", "USAGE", "k", "foo"),
			x("MEMORY", "USAGE", "k", "SAMPLES", "1", "SAMPLES", "2"),
			x("MEMORY", "USAGE", "nokey", "SAMPLES", "x"),
			x("MEMORY"), x("MEMORY", "USAGE"), x("MEMORY", "FOO"), x("memory", "usage", "k"),
			x("MEMORY", "STATS", "x"), x("MEMORY", "DOCTOR", "x"), x("MEMORY", "PURGE", "x"),
			x("MEMORY", "MALLOC-STATS", "x"), x("MEMORY", "HELP", "x"),
			x("MEMORY", "HELP"), x("memory", "help"), x("MEMORY", "PURGE"),
			// Small strings measure the same on both.
			x("SET", "n", "123"), x("MEMORY", "USAGE", "n"), x("SET", "e", "hello world"),
			x("MEMORY", "USAGE", "e"), x("SET", "r", strings.Repeat("r", 100)), x("MEMORY", "USAGE", "r"),
			x("MULTI"), x("MEMORY", "USAGE", "k"), x("EXEC"),
		}},
		{name: "memory/stats", steps: []xstep{
			x("FLUSHALL"), x("MEMORY", "STATS").with(cmpMemoryStats), x("SET", "k", "v"),
			x("SELECT", "3"), x("SET", "t", "v", "EX", "100"), x("MEMORY", "STATS").with(cmpMemoryStats),
			x("MEMORY", "DOCTOR"), x("MEMORY", "MALLOC-STATS").with(shapeOnly),
		}},
	})
}

// cmpMemoryStats compares MEMORY STATS by keys and value types.
func cmpMemoryStats(g, w *reply) string {
	if g.Kind != w.Kind || len(g.Elems) != len(w.Elems) {
		return fmt.Sprintf("type %q with %d elements, oracle %q with %d", g.Kind, len(g.Elems), w.Kind, len(w.Elems))
	}
	for i := 0; i < len(w.Elems); i += 2 {
		gk, wk := g.Elems[i], w.Elems[i]
		if !bytes.Equal(gk.Raw, wk.Raw) {
			return fmt.Sprintf("key %d is %q, oracle %q", i/2, gk.Raw, wk.Raw)
		}
		gv, wv := g.Elems[i+1], w.Elems[i+1]
		if strings.HasPrefix(wk.Str, "db.") {
			if why := cmpMemoryStats(gv, wv); why != "" {
				return wk.Str + ": " + why
			}
			continue
		}
		if gv.Kind != wv.Kind {
			return fmt.Sprintf("%s: type %q, oracle %q", wk.Str, gv.Kind, wv.Kind)
		}
	}
	return ""
}

// memClass is one kind of Celery data for the accounting comparison.
type memClass struct {
	name string
	keys []string // keys whose MEMORY USAGE is compared
	cmds [][]string
}

// celeryMemClasses builds Celery-shaped data, the same bytes for both
// servers (a fixed seed): task messages queued in a list, results, the
// unacked hash and its index, binding sets, RedBeat entries and schedule.
func celeryMemClasses(n int) []memClass {
	rnd := rand.New(rand.NewPCG(1, 2))
	text := func(size int) string {
		const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789{}\":, "
		b := make([]byte, size)
		for i := range b {
			b[i] = alphabet[rnd.IntN(len(alphabet))]
		}
		return string(b)
	}
	tag := func() string {
		return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", rnd.Uint32(), rnd.Uint32()&0xffff, rnd.Uint32()&0xffff, rnd.Uint32()&0xffff, rnd.Uint64()&0xffffffffffff)
	}
	var results, queue, unacked, index, bindings, entries, schedule memClass
	results.name = fmt.Sprintf("strings: %d results of 200 B-2 KB with a TTL", n)
	queue.name = fmt.Sprintf("list: %d task messages of 1 KB", n)
	unacked.name = fmt.Sprintf("hash: unacked, %d messages of 1 KB", n)
	index.name = fmt.Sprintf("zset: unacked_index, %d tags", n)
	bindings.name = "sets: 100 bindings of 3 routes"
	entries.name = "hashes: 100 RedBeat entries"
	schedule.name = "zset: RedBeat schedule of 50"
	queue.keys = []string{"celery"}
	unacked.keys = []string{"unacked"}
	index.keys = []string{"unacked_index"}
	schedule.keys = []string{"redbeat::schedule"}
	for i := 0; i < n; i++ {
		k := "celery-task-meta-" + tag()
		results.cmds = append(results.cmds, []string{"SET", k, text(200 + rnd.IntN(1849)), "EX", "86400"})
		if i < 3 {
			results.keys = append(results.keys, k)
		}
		t, msg := tag(), text(1024)
		queue.cmds = append(queue.cmds, []string{"LPUSH", "celery", msg})
		unacked.cmds = append(unacked.cmds, []string{"HSET", "unacked", t, msg})
		index.cmds = append(index.cmds, []string{"ZADD", "unacked_index", strconv.FormatFloat(1700000000+float64(i)*0.001, 'f', 3, 64), t})
	}
	for i := 0; i < 100; i++ {
		k := fmt.Sprintf("_kombu.binding.q%d", i)
		cmd := []string{"SADD", k}
		for j := 0; j < 3; j++ {
			cmd = append(cmd, fmt.Sprintf("q%d\x06\x16\x06\x16rk%d", i, j))
		}
		bindings.cmds = append(bindings.cmds, cmd)
		e := fmt.Sprintf("redbeat:task%d", i)
		entries.cmds = append(entries.cmds, []string{"HSET", e, "definition", text(150), "meta", text(60)})
		if i < 3 {
			bindings.keys = append(bindings.keys, k)
			entries.keys = append(entries.keys, e)
		}
		if i < 50 {
			schedule.cmds = append(schedule.cmds, []string{"ZADD", "redbeat::schedule", strconv.FormatFloat(1700000000.25+float64(i), 'f', 2, 64), e})
		}
	}
	return []memClass{results, queue, unacked, index, bindings, entries, schedule}
}

// memConn is a connection used to load data and read used_memory.
type memConn struct {
	t *testing.T
	c *resptest.Conn
}

// used is used_memory minus client memory: the dataset, plus what the
// server itself holds.
func (m memConn) used() int64 {
	info := m.c.Do("INFO", "memory").Str
	field := func(name string) int64 {
		for _, line := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(line, name+":"); ok {
				n, err := strconv.ParseInt(v, 10, 64)
				require.NoError(m.t, err, line)
				return n
			}
		}
		m.t.Fatalf("INFO memory has no %s", name)
		return 0
	}
	return field("used_memory") - field("mem_clients_normal")
}

// load pipelines cmds and checks every reply.
func (m memConn) load(cmds [][]string) {
	var b bytes.Buffer
	for _, cmd := range cmds {
		b.Write(resptest.Encode(cmd...))
	}
	m.c.WriteRaw(b.Bytes())
	for range cmds {
		v := m.c.Read()
		require.NotEqual(m.t, byte('-'), v.Kind, v.Str)
	}
}

// measure loads a class and returns the growth of used memory. A first
// load, emptied again, warms up what a server allocates once (Redis's
// per-command latency histograms, INFO's included).
func (m memConn) measure(cl memClass) int64 {
	require.Equal(m.t, "OK", m.c.Do("FLUSHALL").Str)
	m.used()
	m.load(cl.cmds)
	require.Equal(m.t, "OK", m.c.Do("FLUSHALL").Str)
	before := m.used()
	m.load(cl.cmds)
	return m.used() - before
}

// memoryUsage sums MEMORY USAGE of keys (SAMPLES 0: all of a value).
func (m memConn) memoryUsage(keys []string) int64 {
	var n int64
	for _, k := range keys {
		v := m.c.Do("MEMORY", "USAGE", k, "SAMPLES", "0")
		require.Equal(m.t, byte(':'), v.Kind, "MEMORY USAGE %s: %s", k, v.Str)
		n += v.Int
	}
	return n
}

// TestMemoryAccountingMatchesRedis loads the same Celery-shaped data into
// a fresh redis-server 7.0.15 and a fresh Celerity and compares the growth
// of used_memory, and MEMORY USAGE of the main keys: each class within
// ±10%, so maxmemory means the same on both. The table is logged (the
// README quotes it).
func TestMemoryAccountingMatchesRedis(t *testing.T) {
	needOracle(t)
	ora := memConn{t, resptest.Dial(t, startRedis(t))}
	cel := memConn{t, resptest.Dial(t, resptest.NewServer(t).Addr())}
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-44s %11s %11s %6s   %s\n", "class", "redis", "celerity", "ratio", "MEMORY USAGE ratio")
	for _, cl := range celeryMemClasses(1000) {
		r, c := ora.measure(cl), cel.measure(cl)
		ru, cu := ora.memoryUsage(cl.keys), cel.memoryUsage(cl.keys)
		rt, ut := float64(c)/float64(r), float64(cu)/float64(ru)
		fmt.Fprintf(&table, "%-44s %11d %11d %6.2f   %.2f\n", cl.name, r, c, rt, ut)
		assert.InDelta(t, 1, rt, 0.1, "%s: used_memory grew by %d on Celerity, %d on Redis", cl.name, c, r)
		assert.InDelta(t, 1, ut, 0.1, "%s: MEMORY USAGE %d on Celerity, %d on Redis", cl.name, cu, ru)
	}
	t.Log(table.String())
}
