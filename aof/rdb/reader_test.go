package rdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/aof/internal/oracle"
)

// Hand encoders for the tests: written from the format descriptions in
// reader.go and blobs.go, they build the legacy encodings Redis 7.0.15 no
// longer writes, and corrupt variants of the ones it does.

func encLen(n uint64) []byte {
	switch {
	case n < 1<<6:
		return []byte{byte(n)}
	case n < 1<<14:
		return []byte{0x40 | byte(n>>8), byte(n)}
	case n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32([]byte{0x80}, uint32(n))
	}
	return binary.BigEndian.AppendUint64([]byte{0x81}, n)
}

// encStr is a raw (length-prefixed) RDB string.
func encStr(s string) []byte { return append(encLen(uint64(len(s))), s...) }

// lpBlob builds a listpack; int64 entries use the smallest int encoding,
// strings the smallest string encoding.
func lpBlob(entries ...any) []byte {
	body := []byte{}
	for _, e := range entries {
		var enc []byte
		switch v := e.(type) {
		case int:
			enc = lpInt(int64(v))
		case int64:
			enc = lpInt(v)
		case string:
			switch n := len(v); {
			case n < 64:
				enc = []byte{0x80 | byte(n)}
			case n < 4096:
				enc = []byte{0xE0 | byte(n>>8), byte(n)}
			default:
				enc = binary.LittleEndian.AppendUint32([]byte{0xF0}, uint32(n))
			}
			enc = append(enc, v...)
		}
		var back [5]byte
		bl := encodeBacklen(back[:], len(enc))
		body = append(append(body, enc...), back[:bl]...)
	}
	out := binary.LittleEndian.AppendUint32(nil, uint32(6+len(body)+1))
	out = binary.LittleEndian.AppendUint16(out, uint16(len(entries)))
	return append(append(out, body...), 0xFF)
}

func lpInt(v int64) []byte {
	switch {
	case v >= 0 && v <= 127:
		return []byte{byte(v)}
	case v >= -4096 && v < 4096:
		u := uint64(v) & 0x1fff
		return []byte{0xC0 | byte(u>>8), byte(u)}
	case v >= math.MinInt16 && v <= math.MaxInt16:
		return binary.LittleEndian.AppendUint16([]byte{0xF1}, uint16(v))
	case v >= -1<<23 && v < 1<<23:
		u := uint32(v)
		return []byte{0xF2, byte(u), byte(u >> 8), byte(u >> 16)}
	case v >= math.MinInt32 && v <= math.MaxInt32:
		return binary.LittleEndian.AppendUint32([]byte{0xF3}, uint32(v))
	}
	return binary.LittleEndian.AppendUint64([]byte{0xF4}, uint64(v))
}

// zlBlob builds a ziplist, choosing encodings as Redis did.
func zlBlob(entries ...any) []byte {
	body := []byte{}
	prev, tail := 0, 10
	for _, e := range entries {
		var ent []byte
		if prev < 254 {
			ent = []byte{byte(prev)}
		} else {
			ent = binary.LittleEndian.AppendUint32([]byte{0xFE}, uint32(prev))
		}
		switch v := e.(type) {
		case int:
			ent = append(ent, zlInt(int64(v))...)
		case int64:
			ent = append(ent, zlInt(v)...)
		case string:
			switch n := len(v); {
			case n < 64:
				ent = append(ent, byte(n))
			case n < 16384:
				ent = append(ent, 0x40|byte(n>>8), byte(n))
			default:
				ent = binary.BigEndian.AppendUint32(append(ent, 0x80), uint32(n))
			}
			ent = append(ent, v...)
		}
		tail = 10 + len(body)
		body = append(body, ent...)
		prev = len(ent)
	}
	out := binary.LittleEndian.AppendUint32(nil, uint32(10+len(body)+1))
	out = binary.LittleEndian.AppendUint32(out, uint32(tail))
	out = binary.LittleEndian.AppendUint16(out, uint16(len(entries)))
	return append(append(out, body...), 0xFF)
}

func zlInt(v int64) []byte {
	switch {
	case v >= 0 && v <= 12:
		return []byte{0xF1 + byte(v)}
	case v >= math.MinInt8 && v <= math.MaxInt8:
		return []byte{0xFE, byte(v)}
	case v >= math.MinInt16 && v <= math.MaxInt16:
		return binary.LittleEndian.AppendUint16([]byte{0xC0}, uint16(v))
	case v >= -1<<23 && v < 1<<23:
		u := uint32(v)
		return []byte{0xF0, byte(u), byte(u >> 8), byte(u >> 16)}
	case v >= math.MinInt32 && v <= math.MaxInt32:
		return binary.LittleEndian.AppendUint32([]byte{0xD0}, uint32(v))
	}
	return binary.LittleEndian.AppendUint64([]byte{0xE0}, uint64(v))
}

func intsetBlob(width int, vals ...int64) []byte {
	out := binary.LittleEndian.AppendUint32(nil, uint32(width))
	out = binary.LittleEndian.AppendUint32(out, uint32(len(vals)))
	for _, v := range vals {
		switch width {
		case 2:
			out = binary.LittleEndian.AppendUint16(out, uint16(v))
		case 4:
			out = binary.LittleEndian.AppendUint32(out, uint32(v))
		default:
			out = binary.LittleEndian.AppendUint64(out, uint64(v))
		}
	}
	return out
}

// zipmapBlob builds a zipmap of field, value, field, value...; each value
// gets free bytes of slack, as Redis left after shrinking a value.
func zipmapBlob(free int, kv ...string) []byte {
	zmLen := func(n int) []byte {
		if n < 254 {
			return []byte{byte(n)}
		}
		return binary.LittleEndian.AppendUint32([]byte{254}, uint32(n))
	}
	out := []byte{byte(min(len(kv)/2, 254))}
	for i := 0; i < len(kv); i += 2 {
		out = append(append(out, zmLen(len(kv[i]))...), kv[i]...)
		out = append(append(out, zmLen(len(kv[i+1]))...), byte(free))
		out = append(out, kv[i+1]...)
		out = append(out, make([]byte, free)...)
	}
	return append(out, 0xFF)
}

// lzfLiterals is a valid LZF stream made of literal runs only.
func lzfLiterals(p []byte) []byte {
	var out []byte
	for len(p) > 0 {
		n := min(len(p), 32)
		out = append(append(out, byte(n-1)), p[:n]...)
		p = p[n:]
	}
	return out
}

// encLZF is the C3 string form of s, compressed as lzfLiterals does, or
// from the given compressed bytes.
func encLZF(compressed []byte, ulen int) []byte {
	out := append([]byte{0xC3}, encLen(uint64(len(compressed)))...)
	out = append(out, encLen(uint64(ulen))...)
	return append(out, compressed...)
}

// dumpOf is a DUMP payload of body (type byte included) with version ver
// and the right CRC.
func dumpOf(body []byte, ver uint16) []byte {
	p := binary.LittleEndian.AppendUint16(append([]byte{}, body...), ver)
	return binary.LittleEndian.AppendUint64(p, Checksum(0, p))
}

// rdbFile builds an RDB file by hand.
type rdbFile struct{ b []byte }

func newRDB(ver int) *rdbFile {
	return &rdbFile{b: []byte(Magic + strconv.Itoa(10000 + ver)[1:])}
}

func (f *rdbFile) add(p ...[]byte) *rdbFile {
	for _, x := range p {
		f.b = append(f.b, x...)
	}
	return f
}

func (f *rdbFile) key(t byte, key string, val []byte) *rdbFile {
	return f.add([]byte{t}, encStr(key), val)
}

// end appends the EOF opcode and, from version 5, the checksum.
func (f *rdbFile) end(ver int) []byte {
	f.b = append(f.b, OpEOF)
	if ver >= 5 {
		f.b = binary.LittleEndian.AppendUint64(f.b, Checksum(0, f.b))
	}
	return f.b
}

// shape is a Value in a form assert.Equal compares order-insensitively
// where the type is unordered.
type shape struct {
	Kind Kind
	Str  string
	List []string
	Set  []string // sorted
	Zset map[string]float64
	Hash map[string]string
}

func shapeOf(t testing.TB, v Value) shape {
	t.Helper()
	s := shape{Kind: v.Kind}
	switch v.Kind {
	case KindString:
		s.Str = string(v.Str)
	case KindList:
		for _, e := range v.Elems {
			s.List = append(s.List, string(e))
		}
	case KindSet:
		for _, e := range v.Elems {
			s.Set = append(s.Set, string(e))
		}
		sort.Strings(s.Set)
	case KindZSet:
		s.Zset = map[string]float64{}
		for _, z := range v.Zset {
			s.Zset[string(z.Member)] = z.Score
		}
		require.Len(t, s.Zset, len(v.Zset))
	case KindHash:
		s.Hash = map[string]string{}
		for _, p := range v.Pairs {
			s.Hash[string(p.Field)] = string(p.Value)
		}
		require.Len(t, s.Hash, len(v.Pairs))
	}
	return s
}

// ---- the oracle dataset ----

// dataset creates keys of every kind and encoding Redis 7.0.15 writes
// (prefix distinguishes copies in different databases) and returns their
// names.
func dataset(t *testing.T, p *oracle.Proc) []string {
	t.Helper()
	var keys []string
	cmd := func(args ...string) {
		p.Must(t, args...)
	}
	set := func(k, v string) { cmd("SET", k, v); keys = append(keys, k) }
	set("s:short", "hello")
	set("s:int", "12345")
	set("s:neg", "-1")
	set("s:2^31", "2147483648")
	set("s:maxint", "9223372036854775807")
	set("s:minint", "-9223372036854775808")
	set("s:long", strings.Repeat("compressible ", 20))
	set("s:bin", "a\x00b\x00\xff\r\n")
	set("s:empty", "")
	set("s:big", strings.Repeat("x", 100000))

	push := func(k string, elems ...string) {
		for len(elems) > 0 {
			n := min(len(elems), 500)
			cmd(append([]string{"RPUSH", k}, elems[:n]...)...)
			elems = elems[n:]
		}
		keys = append(keys, k)
	}
	push("l:small", "a", "b", "1", "-2", "")
	many := make([]string, 3000)
	for i := range many {
		many[i] = fmt.Sprintf("element-%d", i)
	}
	push("l:many", many...)
	push("l:huge-elem", "x", strings.Repeat("y", 9000), "z")
	ints := make([]string, 1000)
	for i := range ints {
		ints[i] = strconv.Itoa(i*7919 - 100000)
	}
	push("l:ints", ints...)
	cmd("CONFIG", "SET", "list-compress-depth", "1")
	push("l:compressed", many...)
	cmd("CONFIG", "SET", "list-compress-depth", "0")
	// PLAIN quicklist nodes: elements above the packed threshold.
	cmd("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1000")
	push("l:plain", "a", strings.Repeat("p", 2000), "b", strings.Repeat("q", 1500))
	cmd("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1073741824")

	sadd := func(k string, m ...string) {
		cmd(append([]string{"SADD", k}, m...)...)
		keys = append(keys, k)
	}
	sadd("set:i16", "1", "2", "-3", "300")
	sadd("set:i32", "70000", "-70000", "5")
	sadd("set:i64", "1099511627776", "-1099511627776", "1")
	big := make([]string, 600)
	for i := range big {
		big[i] = strconv.Itoa(i * 3)
	}
	sadd("set:bigints", big...)
	sadd("set:str", "a", "b", "c", "")

	zadd := func(k string, sm ...string) {
		cmd(append([]string{"ZADD", k}, sm...)...)
		keys = append(keys, k)
	}
	zadd("z:small", "1", "one", "1.5", "frac", "inf", "top", "-inf", "bottom", "-2.25", "neg", "1e20", "huge", "0.1", "tenth", "12345", "12345")
	var zs []string
	for i := 0; i < 200; i++ {
		zs = append(zs, strconv.FormatFloat(float64(i)/3, 'g', -1, 64), fmt.Sprintf("m%d", i))
	}
	zs = append(zs, "inf", "plus", "-inf", "minus")
	zadd("z:skiplist", zs...)

	hset := func(k string, fv ...string) {
		cmd(append([]string{"HSET", k}, fv...)...)
		keys = append(keys, k)
	}
	hset("h:small", "f1", "v1", "f2", "2", "", "empty", "n", "-5")
	var hs []string
	for i := 0; i < 200; i++ {
		hs = append(hs, fmt.Sprintf("field%d", i), fmt.Sprintf("value%d", i))
	}
	hset("h:big", hs...)
	hset("h:longval", "f", strings.Repeat("v", 100), "g", "short")
	return keys
}

// serverShape asks the server for key's contents.
func serverShape(t *testing.T, p *oracle.Proc, key string) shape {
	t.Helper()
	strs := func(rep any) []string {
		var out []string
		for _, x := range rep.([]any) {
			out = append(out, x.(string))
		}
		return out
	}
	switch typ := p.Must(t, "TYPE", key); typ {
	case "string":
		return shape{Kind: KindString, Str: p.Must(t, "GET", key).(string)}
	case "list":
		return shape{Kind: KindList, List: strs(p.Must(t, "LRANGE", key, "0", "-1"))}
	case "set":
		m := strs(p.Must(t, "SMEMBERS", key))
		sort.Strings(m)
		return shape{Kind: KindSet, Set: m}
	case "zset":
		r := strs(p.Must(t, "ZRANGE", key, "0", "-1", "WITHSCORES"))
		z := map[string]float64{}
		for i := 0; i < len(r); i += 2 {
			f, err := strconv.ParseFloat(r[i+1], 64)
			require.NoError(t, err)
			z[r[i]] = f
		}
		return shape{Kind: KindZSet, Zset: z}
	case "hash":
		r := strs(p.Must(t, "HGETALL", key))
		h := map[string]string{}
		for i := 0; i < len(r); i += 2 {
			h[r[i]] = r[i+1]
		}
		return shape{Kind: KindHash, Hash: h}
	default:
		t.Fatalf("key %q has type %v", key, typ)
	}
	return shape{}
}

// TestDecodeDumpOracle: every kind and encoding DUMPed by Redis 7.0.15
// decodes to what the server itself returns for the key.
func TestDecodeDumpOracle(t *testing.T) {
	p := oracle.Start(t, t.TempDir(), "--save", "", "--appendonly", "no", "--enable-debug-command", "yes")
	keys := dataset(t, p)
	encodings := map[string]bool{}
	for _, k := range keys {
		enc := p.Must(t, "OBJECT", "ENCODING", k).(string)
		encodings[enc] = true
		payload := p.Must(t, "DUMP", k).(string)
		v, err := DecodeDump([]byte(payload))
		require.NoError(t, err, "key %s (%s)", k, enc)
		assert.Equal(t, serverShape(t, p, k), shapeOf(t, v), "key %s (%s)", k, enc)
	}
	// The dataset does reach every 7.0 encoding.
	for _, e := range []string{"int", "embstr", "raw", "quicklist", "listpack", "intset", "hashtable", "skiplist"} {
		assert.True(t, encodings[e], e)
	}
	p.Shutdown(t, "NOSAVE")
}

// TestReadFileOracle: the same dataset in two databases, with expiries,
// SAVEd by Redis 7.0.15 under several settings, reads back key by key.
func TestReadFileOracle(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		idle bool
		freq bool
	}{
		{name: "default"},
		{name: "nocompression-lru", args: []string{"--rdbcompression", "no", "--maxmemory-policy", "allkeys-lru"}, idle: true},
		{name: "nochecksum-lfu", args: []string{"--rdbchecksum", "no", "--maxmemory-policy", "allkeys-lfu"}, freq: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"--save", "", "--appendonly", "no", "--enable-debug-command", "yes"}, tc.args...)
			p := oracle.Start(t, dir, args...)
			want := map[int]map[string]shape{}
			for _, db := range []int{0, 3} {
				p.Must(t, "SELECT", strconv.Itoa(db))
				want[db] = map[string]shape{}
				for _, k := range dataset(t, p) {
					want[db][k] = serverShape(t, p, k)
				}
			}
			p.Must(t, "SELECT", "3")
			const at = int64(4102444800123) // 2100-01-01, ms
			p.Must(t, "PEXPIREAT", "s:short", strconv.FormatInt(at, 10))
			p.Must(t, "EXPIREAT", "h:big", "4102444801")
			before := time.Now().UnixMilli()
			p.Must(t, "PEXPIRE", "z:small", "100000000")
			after := time.Now().UnixMilli()
			p.Must(t, "SAVE")
			p.Shutdown(t, "NOSAVE")

			f, err := os.Open(filepath.Join(dir, "dump.rdb"))
			require.NoError(t, err)
			defer f.Close()
			r, err := NewReader(f)
			require.NoError(t, err)
			assert.Equal(t, Version, r.Version())
			got := map[int]map[string]shape{0: {}, 3: {}}
			for {
				rec, err := r.Next()
				if err == io.EOF {
					break
				}
				require.NoError(t, err)
				require.Contains(t, got, rec.DB)
				got[rec.DB][string(rec.Key)] = shapeOf(t, rec.Value)
				switch {
				case rec.DB == 3 && string(rec.Key) == "s:short":
					assert.Equal(t, at, rec.ExpireAt)
				case rec.DB == 3 && string(rec.Key) == "h:big":
					assert.Equal(t, int64(4102444801000), rec.ExpireAt)
				case rec.DB == 3 && string(rec.Key) == "z:small":
					assert.GreaterOrEqual(t, rec.ExpireAt, before+100000000)
					assert.LessOrEqual(t, rec.ExpireAt, after+100000000)
				default:
					assert.Zero(t, rec.ExpireAt, "%d %s", rec.DB, rec.Key)
				}
				if tc.idle {
					assert.GreaterOrEqual(t, rec.Idle, int64(0))
				} else {
					assert.Equal(t, int64(-1), rec.Idle)
				}
				if tc.freq {
					assert.GreaterOrEqual(t, rec.Freq, 0)
				} else {
					assert.Equal(t, -1, rec.Freq)
				}
			}
			assert.Equal(t, want, got)
			aux := map[string]string{}
			for _, a := range r.Aux() {
				aux[a.Key] = a.Value
			}
			assert.Equal(t, "7.0.15", aux["redis-ver"])
			assert.Equal(t, "64", aux["redis-bits"])
			assert.Contains(t, aux, "ctime")
			st, err := f.Stat()
			require.NoError(t, err)
			assert.Equal(t, st.Size(), r.Offset())
			assert.Empty(t, r.Buffered())
			assert.Zero(t, r.EmptyKeysSkipped())
			_, err = r.Next()
			assert.Equal(t, io.EOF, err, "EOF is sticky")
		})
	}
}

// savedFile returns a small RDB file Redis 7.0.15 saved: a few keys of
// different types, with aux fields and an expiry.
func savedFile(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	p := oracle.Start(t, dir, "--save", "", "--appendonly", "no")
	p.Must(t, "SET", "str", "value")
	p.Must(t, "RPUSH", "list", "a", "1")
	p.Must(t, "SADD", "set", "1", "2")
	p.Must(t, "HSET", "hash", "f", "v")
	p.Must(t, "ZADD", "zset", "1.5", "m")
	p.Must(t, "PEXPIREAT", "str", "4102444800000")
	p.Must(t, "SAVE")
	p.Shutdown(t, "NOSAVE")
	b, err := os.ReadFile(filepath.Join(dir, "dump.rdb"))
	require.NoError(t, err)
	return b
}

func readAll(data []byte) (recs []*Record, r *Reader, err error) {
	r, err = NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, nil, err
	}
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return recs, r, nil
		}
		if err != nil {
			return recs, r, err
		}
		recs = append(recs, rec)
	}
}

// TestCorruptFile: a flipped byte is a checksum error; a file cut at any
// offset is an error (FormatError), never a panic or a silent success.
func TestCorruptFile(t *testing.T) {
	data := savedFile(t)
	recs, _, err := readAll(data)
	require.NoError(t, err)
	require.Len(t, recs, 5)

	i := bytes.Index(data, []byte("value"))
	require.Positive(t, i)
	flipped := bytes.Clone(data)
	flipped[i] ^= 0x20
	_, _, err = readAll(flipped)
	var fe *FormatError
	require.ErrorAs(t, err, &fe)
	assert.Contains(t, fe.Msg, "Wrong RDB checksum")
	assert.Equal(t, int64(len(data)), fe.Offset)

	// A stored checksum of 0 is "not computed": accepted.
	zero := bytes.Clone(flipped)
	copy(zero[len(zero)-8:], make([]byte, 8))
	_, _, err = readAll(zero)
	assert.NoError(t, err)

	for cut := 0; cut < len(data); cut++ {
		_, _, err := readAll(data[:cut])
		require.Error(t, err, "cut at %d", cut)
		require.ErrorAs(t, err, &fe, "cut at %d", cut)
		// Where the reader stood: at the start of the item it could
		// not complete.
		assert.LessOrEqual(t, fe.Offset, int64(cut), "cut at %d", cut)
		assert.Contains(t, fe.Msg, "Unexpected EOF")
	}
}

// TestHeader: the magic and the version range, with Redis's log lines.
func TestHeader(t *testing.T) {
	_, err := NewReader(strings.NewReader("REDIX0010"))
	assert.EqualError(t, err, "Wrong signature trying to load DB from file")
	_, err = NewReader(strings.NewReader("REDIS0013\xff"))
	assert.EqualError(t, err, "Can't handle RDB format version 13")
	_, err = NewReader(strings.NewReader("REDIS0000\xff"))
	assert.EqualError(t, err, "Can't handle RDB format version 0")
	_, err = NewReader(strings.NewReader("REDIS001"))
	assert.EqualError(t, err, "Unexpected EOF reading RDB file at offset 0")
	for v := 1; v <= MaxReadVersion; v++ {
		recs, r, err := readAll(newRDB(v).end(v))
		require.NoError(t, err, v)
		assert.Empty(t, recs)
		assert.Equal(t, v, r.Version())
	}
}

// TestRedisCheckRDBAgrees: the hand-built files of the legacy test are
// valid for Redis itself (redis-check-rdb loads them), so the encoders in
// these tests say what Redis means.
func TestRedisCheckRDBAgrees(t *testing.T) {
	bin := oracle.Need(t, "redis-check-rdb")
	dir := t.TempDir()
	for _, ver := range []int{6, 9, 10} {
		path := filepath.Join(dir, fmt.Sprintf("legacy%d.rdb", ver))
		require.NoError(t, os.WriteFile(path, legacyFile(ver, false), 0o644))
		out, err := exec.Command(bin, path).CombinedOutput()
		require.NoError(t, err, "%s", out)
		assert.Contains(t, string(out), "RDB looks OK!")
	}
}

// TestLegacyLoadedByRedis: redis-server loads the hand-built legacy file
// and holds exactly what the reader decodes from it.
func TestLegacyLoadedByRedis(t *testing.T) {
	dir := t.TempDir()
	data := legacyFile(9, true)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "dump.rdb"), data, 0o644))
	p := oracle.Start(t, dir, "--save", "", "--appendonly", "no")
	recs, r, err := readAll(data)
	require.NoError(t, err)
	assert.Equal(t, int64(1), r.EmptyKeysSkipped())
	n := 0
	for _, rec := range recs {
		if rec.DB != 0 {
			continue
		}
		n++
		assert.Equal(t, serverShape(t, p, string(rec.Key)), shapeOf(t, rec.Value), string(rec.Key))
	}
	assert.Equal(t, int64(n), p.Must(t, "DBSIZE"), "the empty key is skipped by Redis too")
	p.Shutdown(t, "NOSAVE")
	log, err := os.ReadFile(p.Log)
	require.NoError(t, err)
	assert.Contains(t, string(log), "skipping empty key")
}

// ---- hand-built legacy encodings ----

// legacyKey is one key of the hand-built file and what it must decode to.
type legacyKey struct {
	typ  byte
	key  string
	val  []byte
	want shape
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func le64f(f float64) []byte { return binary.LittleEndian.AppendUint64(nil, math.Float64bits(f)) }

// abc12 is "abcabcabcabc" compressed by hand: a literal run of three and
// a long back reference (7 + extra 0 + 2 = 9 bytes at distance 3).
var abc12 = []byte{0x02, 'a', 'b', 'c', 0xE0, 0x00, 0x02}

// legacyKeys covers every type Redis 7.0 reads but no longer writes, and
// the older string encodings, built from the format description.
func legacyKeys() []legacyKey {
	long300 := strings.Repeat("L", 300)
	long20k := strings.Repeat("Z", 20000)
	big254 := strings.Repeat("k", 260)
	return []legacyKey{
		{TypeString, "int8", []byte{0xC0, 0xFB}, shape{Kind: KindString, Str: "-5"}},
		{TypeString, "int16", []byte{0xC1, 0x39, 0x30}, shape{Kind: KindString, Str: "12345"}},
		{TypeString, "int32", []byte{0xC2, 0x00, 0x00, 0x00, 0x80}, shape{Kind: KindString, Str: "-2147483648"}},
		{TypeString, "lzf", encLZF(abc12, 12), shape{Kind: KindString, Str: "abcabcabcabc"}},
		{TypeString, "lzf-short-ref", encLZF([]byte{0x01, 'x', 'y', 0x40, 0x01}, 6), shape{Kind: KindString, Str: "xyxyxy"}},
		{TypeString, "lzf-literals", encLZF(lzfLiterals([]byte(long300)), 300), shape{Kind: KindString, Str: long300}},
		{TypeList, "list", cat(encLen(3), encStr("a"), []byte{0xC0, 7}, encStr("c")), shape{Kind: KindList, List: []string{"a", "7", "c"}}},
		{TypeSet, "set", cat(encLen(3), encStr("x"), encStr("y"), []byte{0xC1, 0x00, 0x01}), shape{Kind: KindSet, Set: []string{"256", "x", "y"}}},
		{TypeZSet, "zset-ascii", cat(encLen(4), encStr("a"), []byte{3}, []byte("1.5"), encStr("b"), []byte{254},
			encStr("c"), []byte{255}, encStr("d"), []byte{5}, []byte("-2e10")),
			shape{Kind: KindZSet, Zset: map[string]float64{"a": 1.5, "b": math.Inf(1), "c": math.Inf(-1), "d": -2e10}}},
		{TypeHash, "hash", cat(encLen(2), encStr("f"), encStr("v"), encStr("g"), []byte{0xC0, 1}),
			shape{Kind: KindHash, Hash: map[string]string{"f": "v", "g": "1"}}},
		{TypeZSet2, "zset2", cat(encLen(2), encStr("a"), le64f(0.25), encStr("b"), le64f(math.Inf(-1))),
			shape{Kind: KindZSet, Zset: map[string]float64{"a": 0.25, "b": math.Inf(-1)}}},
		{TypeHashZipmap, "zipmap", encStr(string(zipmapBlob(2, "f1", "v1", big254, "val", "f3", ""))),
			shape{Kind: KindHash, Hash: map[string]string{"f1": "v1", big254: "val", "f3": ""}}},
		{TypeListZiplist, "list-ziplist", encStr(string(zlBlob("s", 0, 12, -1, 100, 1000, 100000, 10000000, 1<<40, long300, "after-long", long20k, ""))),
			shape{Kind: KindList, List: []string{"s", "0", "12", "-1", "100", "1000", "100000", "10000000", "1099511627776", long300, "after-long", long20k, ""}}},
		{TypeSetIntset, "intset16", encStr(string(intsetBlob(2, -300, 1, 2))), shape{Kind: KindSet, Set: []string{"-300", "1", "2"}}},
		{TypeSetIntset, "intset32", encStr(string(intsetBlob(4, -70000, 70000))), shape{Kind: KindSet, Set: []string{"-70000", "70000"}}},
		{TypeSetIntset, "intset64", encStr(string(intsetBlob(8, math.MinInt64, 0, math.MaxInt64))),
			shape{Kind: KindSet, Set: []string{"-9223372036854775808", "0", "9223372036854775807"}}},
		{TypeZSetZiplist, "zset-ziplist", encStr(string(zlBlob("a", 1, "b", "2.5", "c", "inf", "d", "-inf", "e", "1e3"))),
			shape{Kind: KindZSet, Zset: map[string]float64{"a": 1, "b": 2.5, "c": math.Inf(1), "d": math.Inf(-1), "e": 1000}}},
		{TypeHashZiplist, "hash-ziplist", encStr(string(zlBlob("f", "v", "n", 42))), shape{Kind: KindHash, Hash: map[string]string{"f": "v", "n": "42"}}},
		{TypeListQuicklist, "quicklist", cat(encLen(3), encStr(string(zlBlob("a", 1))), encStr(string(zlBlob())), encStr(string(zlBlob("b")))),
			shape{Kind: KindList, List: []string{"a", "1", "b"}}},
		{TypeHashListpack, "hash-listpack", encStr(string(lpBlob("f", "v", "i", -4000))), shape{Kind: KindHash, Hash: map[string]string{"f": "v", "i": "-4000"}}},
		{TypeZSetListpack, "zset-listpack", encStr(string(lpBlob("a", 3, "b", "-0.5"))), shape{Kind: KindZSet, Zset: map[string]float64{"a": 3, "b": -0.5}}},
		{TypeListQuicklist2, "quicklist2", cat(encLen(3), encLen(2), encStr(string(lpBlob("a", 5))), encLen(1), encLZF(abc12, 12), encLen(2), encStr(string(lpBlob("z")))),
			shape{Kind: KindList, List: []string{"a", "5", "abcabcabcabc", "z"}}},
	}
}

// legacyFile is an RDB file of version ver with legacyKeys in db 0 (one
// with an expiry in seconds, one in ms, idle and freq opcodes), with
// empty an empty list redis-server skips (redis-check-rdb calls it an
// error), and a key in db 1.
func legacyFile(ver int, empty bool) []byte {
	f := newRDB(ver)
	if ver >= 7 {
		f.add([]byte{OpAux}, encStr("redis-ver"), encStr("4.0.0"), []byte{OpAux}, encStr("redis-bits"), []byte{0xC0, 64})
	}
	f.add([]byte{OpSelectDB}, encLen(0), []byte{OpResizeDB}, encLen(100), encLen(3))
	for i, k := range legacyKeys() {
		switch i {
		case 1:
			f.add([]byte{OpExpireTime}, binary.LittleEndian.AppendUint32(nil, 2000000000))
		case 2:
			f.add([]byte{OpExpireTimeMs}, binary.LittleEndian.AppendUint64(nil, 4102444800999))
		case 3:
			f.add([]byte{OpIdle}, encLen(1000))
		case 4:
			f.add([]byte{OpFreq, 7})
		}
		f.key(k.typ, k.key, k.val)
	}
	if empty {
		f.key(TypeList, "empty", encLen(0))
	}
	f.add([]byte{OpSelectDB}, encLen(1))
	f.key(TypeString, "db1", encStr("one"))
	return f.end(ver)
}

// TestLegacyEncodings: every legacy type, old string encodings, the
// expiry/idle/freq opcodes, SELECTDB, and an empty key skipped.
func TestLegacyEncodings(t *testing.T) {
	for _, ver := range []int{1, 4, 5, 6, 9, 10} {
		recs, r, err := readAll(legacyFile(ver, true))
		require.NoError(t, err, ver)
		keys := legacyKeys()
		require.Len(t, recs, len(keys)+1)
		for i, k := range keys {
			rec := recs[i]
			assert.Equal(t, k.key, string(rec.Key))
			assert.Equal(t, 0, rec.DB)
			assert.Equal(t, k.want, shapeOf(t, rec.Value), k.key)
			wantExp, wantIdle, wantFreq := int64(0), int64(-1), -1
			switch i {
			case 1:
				wantExp = 2000000000000
			case 2:
				wantExp = 4102444800999
			case 3:
				wantIdle = 1000
			case 4:
				wantFreq = 7
			}
			assert.Equal(t, wantExp, rec.ExpireAt, k.key)
			assert.Equal(t, wantIdle, rec.Idle, k.key)
			assert.Equal(t, wantFreq, rec.Freq, k.key)
		}
		last := recs[len(recs)-1]
		assert.Equal(t, 1, last.DB)
		assert.Equal(t, "db1", string(last.Key))
		assert.Equal(t, int64(1), r.EmptyKeysSkipped())
		if ver >= 7 {
			assert.Equal(t, []Aux{{"redis-ver", "4.0.0"}, {"redis-bits", "64"}}, r.Aux())
		}
	}
}

// TestSetListpack: type 20 (Redis 7.2) decodes, duplicates refused.
func TestSetListpack(t *testing.T) {
	v, err := DecodeDump(dumpOf(cat([]byte{TypeSetListpack}, encStr(string(lpBlob("a", 1, "b")))), 10))
	require.NoError(t, err)
	assert.Equal(t, shape{Kind: KindSet, Set: []string{"1", "a", "b"}}, shapeOf(t, v))
	_, err = DecodeDump(dumpOf(cat([]byte{TypeSetListpack}, encStr(string(lpBlob("a", "a")))), 10))
	assert.Equal(t, ErrBadData, err)
}

// TestRefusedInFile: module, stream, function and unknown records are
// FormatErrors with a clear message and the offset.
func TestRefusedInFile(t *testing.T) {
	for _, tc := range []struct {
		rec  []byte
		want string
	}{
		{[]byte{TypeModule2, 0x01, 'k'}, "modules are not supported"},
		{[]byte{TypeModule, 0x01, 'k'}, "modules are not supported"},
		{[]byte{TypeStreamListpacks, 0x01, 'k'}, "streams are not supported"},
		{[]byte{TypeStreamListpacks2, 0x01, 'k'}, "streams are not supported"},
		{[]byte{TypeStreamListpacks3, 0x01, 'k'}, "streams are not supported"},
		{[]byte{22, 0x01, 'k'}, "hash field expiration is not supported"},
		{[]byte{TypeHashListpackEx, 0x01, 'k'}, "hash field expiration is not supported"},
		{[]byte{26, 0x01, 'k'}, "Unknown RDB encoding type 26"},
		{[]byte{8, 0x01, 'k'}, "Unknown RDB encoding type 8"},
		{[]byte{0xF0}, "Unknown RDB encoding type 240"},
		{[]byte{OpFunction2, 0x01, 'x'}, "Redis functions, which Celerity does not support"},
		{[]byte{OpFunction, 0x01, 'x'}, "Redis functions, which Celerity does not support"},
		{[]byte{OpModuleAux, 0x01}, "module data"},
		{cat([]byte{TypeZSet2}, encStr("k"), encLen(1), encStr("m"), le64f(math.NaN())), "NAN score"},
		{cat([]byte{TypeSet}, encStr("k"), encLen(2), encStr("m"), encStr("m")), "Duplicate set members"},
		{cat([]byte{TypeHash}, encStr("k"), encLen(2), encStr("f"), encStr("1"), encStr("f"), encStr("2")), "Duplicate hash fields"},
		{cat([]byte{TypeZSet}, encStr("k"), encLen(2), encStr("m"), []byte{254}, encStr("m"), []byte{255}), "Duplicate zset fields"},
		{cat([]byte{TypeListQuicklist2}, encStr("k"), encLen(1), encLen(3), encStr("x")), "Quicklist integrity check failed"},
		{cat([]byte{TypeString}, encStr("k"), []byte{0xC4}), "Unknown RDB string encoding type 4"},
		{cat([]byte{TypeString}, encStr("k"), []byte{0x82}), "Unknown length encoding 130"},
		{cat([]byte{TypeList}, encStr("k"), []byte{0xC0}), "String encoding 0 where a length was expected"},
	} {
		data := newRDB(10).add(tc.rec).end(10)
		_, _, err := readAll(data)
		var fe *FormatError
		require.ErrorAs(t, err, &fe, "%x", tc.rec)
		assert.Contains(t, fe.Msg, tc.want)
		assert.Greater(t, fe.Offset, int64(9))
		assert.Contains(t, err.Error(), fmt.Sprintf(" at offset %d", fe.Offset))
	}
}

// TestOffsetAndBuffered: an old AOF's RDB preamble is followed by RESP;
// Offset is where the RDB ends and Buffered holds what was read past it.
func TestOffsetAndBuffered(t *testing.T) {
	rdbPart := newRDB(10).key(TypeString, "k", encStr("v")).end(10)
	tail := "*1\r\n$4\r\nPING\r\n"
	data := append(bytes.Clone(rdbPart), tail...)

	recs, r, err := readAll(data)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, int64(len(rdbPart)), r.Offset())
	assert.Equal(t, tail, string(r.Buffered()))

	// Read a byte at a time: nothing is read ahead past a small need, and
	// the rest of the stream stays in the underlying reader.
	src := bytes.NewReader(data)
	r, err = NewReader(iotest.OneByteReader(src))
	require.NoError(t, err)
	_, err = r.Next()
	require.NoError(t, err)
	_, err = r.Next()
	require.Equal(t, io.EOF, err)
	assert.Equal(t, int64(len(rdbPart)), r.Offset())
	rest, _ := io.ReadAll(src)
	assert.Equal(t, tail, string(r.Buffered())+string(rest))

	// An I/O error of the underlying reader comes back wrapped, not as a
	// FormatError.
	boom := errors.New("boom")
	r, err = NewReader(io.MultiReader(bytes.NewReader(rdbPart[:12]), iotest.ErrReader(boom)))
	require.NoError(t, err)
	_, err = r.Next()
	assert.ErrorIs(t, err, boom)
	var fe *FormatError
	assert.False(t, errors.As(err, &fe))
}

// TestHostileLengths: lengths the input merely claims allocate little and
// fail with an unexpected EOF (or an LZF bound) quickly.
func TestHostileLengths(t *testing.T) {
	for _, tc := range []struct {
		name string
		rec  []byte
		want string
	}{
		{"4GB string", cat([]byte{TypeString}, encStr("k"), []byte{0x80, 0xFF, 0xFF, 0xFF, 0xFF}, []byte("abc")), "Unexpected EOF"},
		{"2^64 string", cat([]byte{TypeString}, encStr("k"), []byte{0x81, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}), "Unexpected EOF"},
		{"2^60 list", cat([]byte{TypeList}, encStr("k"), encLen(1<<60), encStr("a")), "Unexpected EOF"},
		{"2^60 hash", cat([]byte{TypeHash}, encStr("k"), encLen(1<<60), encStr("a")), "Unexpected EOF"},
		{"2^60 quicklist", cat([]byte{TypeListQuicklist2}, encStr("k"), encLen(1<<60)), "Unexpected EOF"},
		{"LZF ulen 1G", cat([]byte{TypeString}, encStr("k"), encLZF(abc12, 1<<30)), "Invalid LZF"},
		{"LZF ulen 2^64", cat([]byte{TypeString}, encStr("k"), []byte{0xC3, 0x07, 0x81, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, abc12), "Invalid LZF"},
		{"LZF clen 4G", cat([]byte{TypeString}, encStr("k"), []byte{0xC3, 0x80, 0xFF, 0xFF, 0xFF, 0xFF, 0x0C}, abc12), "Unexpected EOF"},
		{"LZF short output", cat([]byte{TypeString}, encStr("k"), encLZF(abc12, 13)), "Invalid LZF"},
		{"LZF long output", cat([]byte{TypeString}, encStr("k"), encLZF(abc12, 11)), "Invalid LZF"},
		{"LZF bad ref", cat([]byte{TypeString}, encStr("k"), encLZF([]byte{0x00, 'a', 0x20, 0x01}, 4)), "Invalid LZF"},
		{"LZF cut ref", cat([]byte{TypeString}, encStr("k"), encLZF([]byte{0x00, 'a', 0x20}, 4)), "Invalid LZF"},
		{"LZF cut literal", cat([]byte{TypeString}, encStr("k"), encLZF([]byte{0x05, 'a'}, 6)), "Invalid LZF"},
	} {
		data := newRDB(10).add(tc.rec).b // no end: the claim is the last thing
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, _, err := readAll(data)
		runtime.ReadMemStats(&after)
		var fe *FormatError
		require.ErrorAs(t, err, &fe, tc.name)
		assert.Contains(t, fe.Msg, tc.want, tc.name)
		assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(4<<20), tc.name)
	}
}

// ---- DUMP payload errors ----

// TestDecodeDumpErrors: footer problems are ErrDumpPayload, body problems
// ErrBadData, returned unwrapped.
func TestDecodeDumpErrors(t *testing.T) {
	good := dumpOf(cat([]byte{TypeString}, encStr("hello")), 10)
	v, err := DecodeDump(good)
	require.NoError(t, err)
	assert.Equal(t, "hello", string(v.Str))

	badCRC := bytes.Clone(good)
	badCRC[len(badCRC)-1] ^= 1
	for name, p := range map[string][]byte{
		"nil":         nil,
		"short":       good[:9],
		"version 11":  dumpOf(cat([]byte{TypeString}, encStr("hello")), 11),
		"version 256": dumpOf(cat([]byte{TypeString}, encStr("hello")), 256),
		"bad crc":     badCRC,
	} {
		_, err := DecodeDump(p)
		assert.Equal(t, ErrDumpPayload, err, name)
	}
	// An older version is fine.
	_, err = DecodeDump(dumpOf(cat([]byte{TypeString}, encStr("hello")), 6))
	assert.NoError(t, err)

	countOff := lpBlob("f", "v")
	countOff[4] = 4
	for name, body := range map[string][]byte{
		"no body":            {},
		"trailing garbage":   cat([]byte{TypeString}, encStr("hello"), []byte("X")),
		"truncated":          cat([]byte{TypeString}, encStr("hello")[:4]),
		"duplicate set":      cat([]byte{TypeSet}, encLen(2), encStr("a"), encStr("a")),
		"duplicate intset":   cat([]byte{TypeSetIntset}, encStr(string(intsetBlob(2, 1, 1)))),
		"unsorted intset":    cat([]byte{TypeSetIntset}, encStr(string(intsetBlob(2, 2, 1)))),
		"empty intset":       cat([]byte{TypeSetIntset}, encStr(string(intsetBlob(2)))),
		"listpack count":     cat([]byte{TypeHashListpack}, encStr(string(countOff))),
		"odd hash listpack":  cat([]byte{TypeHashListpack}, encStr(string(lpBlob("f", "v", "g")))),
		"dup hash listpack":  cat([]byte{TypeHashListpack}, encStr(string(lpBlob("f", "v", "f", "w")))),
		"dup zset listpack":  cat([]byte{TypeZSetListpack}, encStr(string(lpBlob("m", 1, "m", 2)))),
		"nan zset listpack":  cat([]byte{TypeZSetListpack}, encStr(string(lpBlob("m", "nan")))),
		"junk zset score":    cat([]byte{TypeZSetListpack}, encStr(string(lpBlob("m", "x1")))),
		"empty list":         cat([]byte{TypeList}, encLen(0)),
		"empty quicklist2":   cat([]byte{TypeListQuicklist2}, encLen(0)),
		"empty hash lp":      cat([]byte{TypeHashListpack}, encStr(string(lpBlob()))),
		"empty zipmap":       cat([]byte{TypeHashZipmap}, encStr(string(zipmapBlob(0)))),
		"stream":             cat([]byte{TypeStreamListpacks2}, encLen(0)),
		"module":             cat([]byte{TypeModule2}, encLen(0)),
		"unknown type":       {30, 0},
		"opcode as type":     {OpEOF},
		"plain node empty":   cat([]byte{TypeListQuicklist2}, encLen(1), encLen(1), encStr("")),
		"quicklist2 bad lp":  cat([]byte{TypeListQuicklist2}, encLen(1), encLen(2), encStr("xxxxxxx")),
		"ziplist not a list": cat([]byte{TypeListZiplist}, encStr(string(lpBlob("a")))),
	} {
		_, err := DecodeDump(dumpOf(body, 10))
		assert.Equal(t, ErrBadData, err, name)
	}
}

// TestRestoreClassification: Redis 7.0.15 classifies the same broken
// payloads the same way: RESTORE's reply is "ERR " and our error's text.
// sanitize-dump-payload yes makes Redis validate as deeply as we always do.
// Known differences, where DecodeDump is stricter: Redis ignores bytes
// between the value and the footer, and lets a value's last string run on
// into the footer's bytes; DecodeDump refuses both.
func TestRestoreClassification(t *testing.T) {
	p := oracle.Start(t, t.TempDir(), "--save", "", "--appendonly", "no", "--sanitize-dump-payload", "yes")
	good := dumpOf(cat([]byte{TypeString}, encStr("hello")), 10)
	badCRC := bytes.Clone(good)
	badCRC[len(badCRC)-2] ^= 1
	countOff := lpBlob("f", "v")
	countOff[4] = 4
	cases := map[string][]byte{
		"good":              good,
		"good old version":  dumpOf(cat([]byte{TypeString}, encStr("hello")), 7),
		"short":             good[:9],
		"version 11":        dumpOf(cat([]byte{TypeString}, encStr("hello")), 11),
		"bad crc":           badCRC,
		"duplicate set":     dumpOf(cat([]byte{TypeSet}, encLen(2), encStr("a"), encStr("a")), 10),
		"duplicate intset":  dumpOf(cat([]byte{TypeSetIntset}, encStr(string(intsetBlob(2, 1, 1)))), 10),
		"empty intset":      dumpOf(cat([]byte{TypeSetIntset}, encStr(string(intsetBlob(2)))), 10),
		"listpack count":    dumpOf(cat([]byte{TypeHashListpack}, encStr(string(countOff))), 10),
		"odd hash listpack": dumpOf(cat([]byte{TypeHashListpack}, encStr(string(lpBlob("f", "v", "g")))), 10),
		"empty list":        dumpOf(cat([]byte{TypeList}, encLen(0)), 10),
		"empty quicklist2":  dumpOf(cat([]byte{TypeListQuicklist2}, encLen(0)), 10),
		"bad ziplist tail":  dumpOf(cat([]byte{TypeListZiplist}, encStr(string(badTail()))), 10),
		"truncated string":  dumpOf(cat([]byte{TypeString}, encLen(20), []byte("abc")), 10),
		"lzf bad":           dumpOf(cat([]byte{TypeString}, encLZF(abc12, 13)), 10),
		"legacy zipmap":     dumpOf(cat([]byte{TypeHashZipmap}, encStr(string(zipmapBlob(1, "a", "b")))), 10),
		"zipmap dup":        dumpOf(cat([]byte{TypeHashZipmap}, encStr(string(zipmapBlob(1, "a", "b", "a", "c")))), 10),
		"unknown type":      dumpOf([]byte{30, 0}, 10),
		"zset nan":          dumpOf(cat([]byte{TypeZSet2}, encLen(1), encStr("m"), le64f(math.NaN())), 10),
	}
	for name, payload := range cases {
		rep, err := p.Do("RESTORE", "k:"+name, "0", string(payload))
		require.NoError(t, err)
		_, ours := DecodeDump(payload)
		if ours == nil {
			assert.Equal(t, "OK", rep, name)
			continue
		}
		e, ok := rep.(error)
		require.True(t, ok, "%s: redis said %v, we said %v", name, rep, ours)
		assert.Equal(t, "ERR "+ours.Error(), e.Error(), name)
	}
	p.Shutdown(t, "NOSAVE")
}

func badTail() []byte {
	zl := zlBlob("a", "b")
	zl[4]++
	return zl
}

// ---- blob decoders ----

func strs(b [][]byte) []string {
	out := []string{}
	for _, x := range b {
		out = append(out, string(x))
	}
	return out
}

func TestListpack(t *testing.T) {
	long := strings.Repeat("s", 5000)
	mid := strings.Repeat("m", 200)
	in := []any{0, 127, 128, -1, -4096, 4095, 4096, math.MinInt16, math.MaxInt16, -1 << 23, 1<<23 - 1, math.MinInt32, math.MaxInt32, int64(math.MinInt64), int64(math.MaxInt64), "", "x", mid, long}
	want := []string{"0", "127", "128", "-1", "-4096", "4095", "4096", "-32768", "32767", "-8388608", "8388607", "-2147483648", "2147483647", "-9223372036854775808", "9223372036854775807", "", "x", mid, long}
	got, err := decodeListpack(lpBlob(in...))
	require.NoError(t, err)
	assert.Equal(t, want, strs(got))

	// Unknown count (65535) is fine.
	lp := lpBlob("a", "b")
	lp[4], lp[5] = 0xFF, 0xFF
	got, err = decodeListpack(lp)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, strs(got))

	// Entries are capped: appending to one cannot clobber the next.
	got, err = decodeListpack(lpBlob("ab", "cd"))
	require.NoError(t, err)
	_ = append(got[0], 'X')
	assert.Equal(t, "cd", string(got[1]))

	corrupt := func(name string, f func(b []byte) []byte) {
		b := f(lpBlob("abc", 1000, mid))
		_, err := decodeListpack(b)
		assert.Error(t, err, name)
	}
	corrupt("total", func(b []byte) []byte { b[0]++; return b })
	corrupt("terminator", func(b []byte) []byte { b[len(b)-1] = 0; return b })
	corrupt("count", func(b []byte) []byte { b[4] = 2; return b })
	corrupt("backlen", func(b []byte) []byte { b[6+4]++; return b })
	corrupt("string overflows", func(b []byte) []byte { b[6] = 0x80 | 63; return b })
	corrupt("bad encoding", func(b []byte) []byte { b[6] = 0xF5; return b })
	corrupt("cut", func(b []byte) []byte {
		b = append(b[:20:20], 0xFF)
		binary.LittleEndian.PutUint32(b, uint32(len(b)))
		return b
	})
	corrupt("short", func(b []byte) []byte { return b[:5] })
}

func TestZiplist(t *testing.T) {
	long := strings.Repeat("L", 300)
	got, err := decodeZiplist(zlBlob())
	require.NoError(t, err)
	assert.Empty(t, got)

	zl := zlBlob("a", long, "b")
	zl[8], zl[9] = 0xFF, 0xFF
	got, err = decodeZiplist(zl)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", long, "b"}, strs(got))

	corrupt := func(name string, f func(b []byte) []byte) {
		b := f(zlBlob("abc", 1000, long, "z"))
		_, err := decodeZiplist(b)
		assert.Error(t, err, name)
	}
	corrupt("total", func(b []byte) []byte { b[0]++; return b })
	corrupt("tail", func(b []byte) []byte { b[4]++; return b })
	corrupt("tail outside", func(b []byte) []byte { b[7] = 0x7F; return b })
	corrupt("terminator", func(b []byte) []byte { b[len(b)-1] = 0; return b })
	corrupt("count", func(b []byte) []byte { b[8] = 3; return b })
	corrupt("first prevlen", func(b []byte) []byte { b[10] = 1; return b })
	corrupt("bad encoding", func(b []byte) []byte { b[11] = 0xC1; return b })
	corrupt("prevlen 255", func(b []byte) []byte { b[10] = 0xFF; return b })
	corrupt("string overflows", func(b []byte) []byte { b[11] = 0x3F; return b })
}

func TestIntsetAndZipmap(t *testing.T) {
	for name, b := range map[string][]byte{
		"width 3":   append(binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, 3), 1), 1, 2, 3),
		"size":      intsetBlob(2, 1, 2)[:11],
		"short":     {2, 0, 0},
		"unsorted":  intsetBlob(4, 5, 3),
		"duplicate": intsetBlob(8, 5, 5),
		"empty":     intsetBlob(4),
	} {
		_, err := decodeIntset(b)
		assert.Error(t, err, name)
	}
	pairs, err := decodeZipmap(zipmapBlob(0, "a", "1"))
	require.NoError(t, err)
	assert.Equal(t, []FieldValue{{[]byte("a"), []byte("1")}}, pairs)
	many := []string{}
	for i := 0; i < 300; i++ {
		many = append(many, fmt.Sprint("f", i), "v")
	}
	pairs, err = decodeZipmap(zipmapBlob(3, many...))
	require.NoError(t, err)
	assert.Len(t, pairs, 300)
	for name, b := range map[string][]byte{
		"empty":      zipmapBlob(0),
		"count":      append([]byte{2}, zipmapBlob(0, "a", "1")[1:]...),
		"dup":        zipmapBlob(0, "a", "1", "a", "2"),
		"free":       zipmapBlob(9, "a", "1")[:6],
		"no end":     zipmapBlob(0, "a", "1")[:5],
		"short long": {1, 254, 1, 0, 0, 0, 'a', 0, 0, 0xFF},
		"key over":   {1, 9, 'a', 0xFF},
	} {
		_, err := decodeZipmap(b)
		assert.Error(t, err, name)
	}
}

// TestRedis72And74Files: files of Redis 7.2 (version 11) and 7.4 (version
// 12) load when they hold what 7.0 can hold, 7.2's set listpack
// included, and 7.4's cluster slot-info hints are skipped. There is no
// 7.2 or 7.4 server here: the files are built from the format (the
// version digits, the set listpack type, the F4 opcode).
func TestRedis72And74Files(t *testing.T) {
	for _, v := range []int{11, 12} {
		lp := []byte{}
		lp = binary.LittleEndian.AppendUint32(lp, 0) // total bytes, patched below
		lp = binary.LittleEndian.AppendUint16(lp, 2)
		lp = append(lp, 0x81, 'a', 2, 0x81, 'b', 2, 0xFF)
		binary.LittleEndian.PutUint32(lp, uint32(len(lp)))
		data := newRDB(v).
			add([]byte{OpSlotInfo}, encLen(42), encLen(2), encLen(0)).
			add([]byte{TypeSetListpack}, encStr("s"), encStr(string(lp))).
			add([]byte{TypeString}, encStr("k"), encStr("v")).
			end(v)
		recs, r, err := readAll(data)
		require.NoError(t, err, "version %d", v)
		assert.Equal(t, v, r.Version())
		require.Len(t, recs, 2)
		assert.Equal(t, KindSet, recs[0].Value.Kind)
		assert.Equal(t, [][]byte{[]byte("a"), []byte("b")}, recs[0].Value.Elems)
		assert.Equal(t, []byte("v"), recs[1].Value.Str)
	}
	// DUMP payloads stay at 7.0's limit, as RESTORE on Redis 7.0.
	payload := AppendDump(nil, &Value{Kind: KindString, Str: []byte("v")}, WriterOptions{Limits: DefaultLimits()})
	body := payload[:len(payload)-10]
	body = binary.LittleEndian.AppendUint16(body, 11)
	body = binary.LittleEndian.AppendUint64(body, Checksum(0, body))
	_, err := DecodeDump(body)
	assert.ErrorIs(t, err, ErrDumpPayload)
}
