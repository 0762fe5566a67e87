package integration

import (
	"encoding/binary"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/aof/rdb"
	"github.com/celerity/celerity/resp/resptest"
)

// DUMP and RESTORE against the oracle. Payloads of values Redis stores
// without LZF (strings up to 20 bytes, small listpacks, intsets, plain
// sets and hashes of short strings) must be byte-identical; for the rest
// (LZF-compressed strings and nodes, whose exact bytes depend on the
// compressor's matching) each server must RESTORE the other's payload into
// the same value and encoding. Then RESTORE's options and errors, with
// payloads made by the oracle.

// dumpRecipe builds key "k" with cmds; exact says whether DUMP's bytes must
// match.
type dumpRecipe struct {
	name  string
	cmds  [][]string
	exact bool
}

func dumpRecipes() []dumpRecipe {
	many := func(cmd string, n int, item func(i int) []string) []string {
		args := []string{cmd, "k"}
		for i := 0; i < n; i++ {
			args = append(args, item(i)...)
		}
		return args
	}
	long := strings.Repeat(`{"task":"tasks.add","args":[1,2]}`, 30)
	return []dumpRecipe{
		{"string/short", [][]string{{"SET", "k", "hello"}}, true},
		{"string/int", [][]string{{"SET", "k", "12345"}}, true},
		{"string/negative", [][]string{{"SET", "k", "-128"}}, true},
		{"string/int32-edge", [][]string{{"SET", "k", "2147483647"}}, true},
		{"string/int64", [][]string{{"SET", "k", "9223372036854775807"}}, true},
		{"string/leading-zero", [][]string{{"SET", "k", "007"}}, true},
		{"string/binary", [][]string{{"SET", "k", "a\x00b\r\n\xff"}}, true},
		{"string/20-bytes", [][]string{{"SET", "k", strings.Repeat("x", 20)}}, true},
		{"string/lzf", [][]string{{"SET", "k", long}}, false},
		{"string/incompressible", [][]string{{"SET", "k", "0123456789abcdefghijklmnopqrstuvwxyz"}}, false},
		{"list/small", [][]string{{"RPUSH", "k", "a", "b", "1", "-5", "300", "70000", "5000000000"}}, true},
		{"list/entry-sizes", [][]string{{"RPUSH", "k", strings.Repeat("a", 63), strings.Repeat("b", 64), "-4096", "4095", "-4097"}}, true},
		{"list/queue", [][]string{many("RPUSH", 700, func(i int) []string { return []string{fmt.Sprintf("msg-%d-%s", i, long[:40])} })}, false},
		{"list/big-element", [][]string{{"RPUSH", "k", "a", strings.Repeat("z", 9000), "b"}}, false},
		{"set/intset16", [][]string{{"SADD", "k", "3", "1", "2"}}, true},
		{"set/intset32", [][]string{{"SADD", "k", "1", "70000"}}, true},
		// 24 bytes of intset: over 20, so LZF may apply.
		{"set/intset64", [][]string{{"SADD", "k", "-1", "5000000000"}}, false},
		{"set/strings", [][]string{{"SADD", "k", "a"}}, true},
		{"set/big", [][]string{many("SADD", 600, func(i int) []string { return []string{strconv.Itoa(i)} })}, false},
		{"zset/tiny", [][]string{{"ZADD", "k", "1.5", "a", "2", "b"}}, true},
		{"zset/small", [][]string{{"ZADD", "k", "1.5", "a", "2", "b", "-inf", "c", "inf", "d", "0.1", "e", "1e20", "f"}}, false},
		{"zset/big", [][]string{many("ZADD", 200, func(i int) []string { return []string{strconv.Itoa(i) + ".25", "m" + strconv.Itoa(i)} })}, false},
		{"zset/long-member", [][]string{{"ZADD", "k", "1", strings.Repeat("m", 65)}}, false},
		{"hash/small", [][]string{{"HSET", "k", "f", "v", "n", "1"}}, true},
		{"hash/ints", [][]string{{"HSET", "k", "f", "v", "n", "1", "neg", "-7", "big", "5000000000"}}, false},
		{"hash/big", [][]string{many("HSET", 600, func(i int) []string { return []string{"f" + strconv.Itoa(i), "v"} })}, false},
		{"hash/long-value", [][]string{{"HSET", "k", "f", strings.Repeat("v", 65)}}, false},
	}
}

// dumpedValue renders key's value, type and encoding on c.
func dumpedValue(c *resptest.Conn, key string) string {
	typ := string(c.DoRaw("TYPE", key))
	var val []byte
	switch strings.TrimSpace(typ) {
	case "+string":
		val = c.DoRaw("GET", key)
	case "+list":
		val = c.DoRaw("LRANGE", key, "0", "-1")
	case "+set":
		var ms []string
		for _, m := range c.Do("SMEMBERS", key).Elems {
			ms = append(ms, m.Str)
		}
		sort.Strings(ms)
		val = []byte(strings.Join(ms, "\n"))
	case "+zset":
		val = c.DoRaw("ZRANGE", key, "0", "-1", "WITHSCORES")
	case "+hash":
		val = c.DoRaw("HLEN", key)
		for _, f := range c.Do("HKEYS", key).Elems {
			val = append(val, c.DoRaw("HGET", key, f.Str)...)
		}
	}
	return typ + string(val) + string(c.DoRaw("OBJECT", "ENCODING", key))
}

func TestDiffDumpRestore(t *testing.T) {
	needOracle(t)
	srv := resptest.NewServer(t)
	for _, r := range dumpRecipes() {
		t.Run(r.name, func(t *testing.T) {
			p := openPair(t, srv.Addr(), 2)
			for _, cmd := range r.cmds {
				cel, ora := p.both(cmd)
				require.Equal(t, string(ora), string(cel), "%q", cmd)
			}
			celDump, oraDump := p.cel.Do("DUMP", "k"), p.ora.Do("DUMP", "k")
			require.Equal(t, byte('$'), oraDump.Kind)
			require.Equal(t, byte('$'), celDump.Kind)
			if r.exact {
				assert.Equal(t, fmt.Sprintf("%x", oraDump.Str), fmt.Sprintf("%x", celDump.Str), "DUMP bytes")
			}
			want := dumpedValue(p.ora, "k")
			require.Equal(t, want, dumpedValue(p.cel, "k"), "the values themselves")
			// Each server restores the other's payload.
			assert.Equal(t, "+OK\r\n", string(p.cel.DoRaw("RESTORE", "k2", "0", oraDump.Str)))
			assert.Equal(t, "+OK\r\n", string(p.ora.DoRaw("RESTORE", "k2", "0", celDump.Str)))
			assert.Equal(t, want, dumpedValue(p.cel, "k2"), "Celerity restoring Redis's payload")
			assert.Equal(t, want, dumpedValue(p.ora, "k2"), "Redis restoring Celerity's payload")
		})
	}
}

// withFooter replaces a payload's version and recomputes its checksum.
func withFooter(payload string, version uint16) string {
	body := []byte(payload[:len(payload)-10])
	body = binary.LittleEndian.AppendUint16(body, version)
	return string(binary.LittleEndian.AppendUint64(body, rdb.Checksum(0, body)))
}

// TestDiffRestoreOptionsAndErrors compares RESTORE's replies and effects,
// in both protocols, for options and damaged payloads (made from the
// oracle's own DUMP).
func TestDiffRestoreOptionsAndErrors(t *testing.T) {
	ora := resptest.Dial(t, needOracle(t))
	ora.DoRaw("SET", "src", "value")
	good := ora.Do("DUMP", "src").Str
	ora.DoRaw("RPUSH", "srclist", "a", "b")
	goodList := ora.Do("DUMP", "srclist").Str
	ora.DoRaw("DEL", "src", "srclist")
	flipped := []byte(good)
	flipped[1] ^= 0xff
	badBody := withFooter("\x00\x40"+good[2:], 10)                     // a 14-bit length running past the end
	badType := withFooter("\x07"+good[1:], 10)                         // a module type
	emptyList := withFooter("\x12\x00"+strings.Repeat("\x00", 10), 10) // a quicklist with no nodes
	cases := []diffCase{
		{name: "restore/basic", steps: []step{
			do("RESTORE", "k", "0", good), do("GET", "k"), do("TTL", "k"), do("RESTORE", "k", "0", good),
			do("RESTORE", "k", "0", good, "REPLACE"), do("RESTORE", "l", "0", goodList), do("LRANGE", "l", "0", "-1"),
			do("RESTORE", "l", "0", good, "replace"), do("TYPE", "l")}},
		{name: "restore/ttl", steps: []step{
			do("RESTORE", "k", "100000", good), pttl("PTTL", "k"), do("RESTORE", "k", "-1", good, "REPLACE"),
			do("RESTORE", "k", "abc", good, "REPLACE"), do("RESTORE", "a", "1", good, "ABSTTL"), do("EXISTS", "a"),
			do("SET", "b", "old"), do("RESTORE", "b", "1000", good, "ABSTTL", "REPLACE"), do("EXISTS", "b"),
			do("RESTORE", "c", "4102444800000", good, "ABSTTL"), do("PEXPIRETIME", "c")}},
		{name: "restore/lru-lfu", steps: []step{
			do("RESTORE", "k", "0", good, "IDLETIME", "1000"), do("OBJECT", "IDLETIME", "k"),
			do("RESTORE", "k", "0", good, "IDLETIME", "-1", "REPLACE"), do("RESTORE", "k", "0", good, "IDLETIME", "x", "REPLACE"),
			do("RESTORE", "k", "0", good, "FREQ", "5", "REPLACE"), do("RESTORE", "k", "0", good, "FREQ", "256", "REPLACE"),
			do("RESTORE", "k", "0", good, "FREQ", "-1", "REPLACE"), do("RESTORE", "k", "0", good, "IDLETIME", "1", "FREQ", "1", "REPLACE"),
			do("RESTORE", "k", "0", good, "FREQ", "1", "IDLETIME", "1", "REPLACE"), do("RESTORE", "k", "0", good, "IDLETIME")}},
		{name: "restore/syntax", steps: []step{
			do("RESTORE", "k", "0", good, "FOO"), do("RESTORE", "k", "0"), do("RESTORE", "k"), do("EXISTS", "k")}},
		{name: "restore/bad-payloads", steps: []step{
			do("RESTORE", "k", "0", "short"), do("RESTORE", "k", "0", string(flipped)), do("RESTORE", "k", "0", withFooter(good, 11)),
			do("RESTORE", "k", "0", withFooter(good, 9)), do("RESTORE", "k", "0", badBody), do("RESTORE", "k", "0", badType),
			do("RESTORE", "k", "0", emptyList), do("RESTORE", "k", "0", ""), do("EXISTS", "k")}},
		{name: "dump/basic", steps: []step{do("DUMP", "nokey"), do("DUMP"), do("DUMP", "a", "b")}},
	}
	runCases(t, cases)
}
