package aof_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/aof"
	"github.com/celerity/celerity/aof/rdb"
)

// piece is one element of a crafted file: a command or an annotation.
type piece struct {
	cmd []string
	ann string
}

// sample is a file with every element kind: SELECT, plain commands, a
// binary payload that looks like protocol, an annotation, a MULTI block,
// absolute expiries.
var sample = []piece{
	{cmd: []string{"SELECT", "0"}},
	{cmd: []string{"SET", "a", "1"}},
	{ann: "#TS:1795494792\r\n"},
	{cmd: []string{"RPUSH", "q", "x", "\r\n*3\r\n$3\r\nSET", ""}},
	{cmd: []string{"MULTI"}},
	{cmd: []string{"SET", "b", "2"}},
	{cmd: []string{"INCR", "c"}},
	{cmd: []string{"EXEC"}},
	{cmd: []string{"SET", "k", "v", "PXAT", "1795494865668"}},
	{cmd: []string{"multi"}},
	{cmd: []string{"HSET", "h", "f", "v"}},
	{cmd: []string{"exec"}},
	{cmd: []string{"DEL", "a"}},
}

// build encodes pieces and returns the bytes, the command list, and for
// every offset k the expected valid prefix end and command count when the
// file is cut at k.
func build(pieces []piece) (data []byte, cmds [][]string, starts []int) {
	for _, p := range pieces {
		starts = append(starts, len(data))
		if p.cmd != nil {
			data = append(data, enc(p.cmd...)...)
			cmds = append(cmds, p.cmd)
		} else {
			data = append(data, p.ann...)
		}
	}
	return data, cmds, starts
}

// boundaries returns the offsets after which a cut file is complete: after
// every piece outside a MULTI block and after each EXEC, with the number of
// commands before it.
func boundaries(pieces []piece) map[int]int {
	out := map[int]int{0: 0}
	off, n, inMulti := 0, 0, false
	for _, p := range pieces {
		if p.cmd != nil {
			off += len(enc(p.cmd...))
			n++
			switch strings.ToUpper(p.cmd[0]) {
			case "MULTI":
				inMulti = true
			case "EXEC":
				inMulti = false
			}
		} else {
			off += len(p.ann)
		}
		if !inMulti {
			out[off] = n
		}
	}
	return out
}

func readAll(data []byte, size int64) ([]aof.Command, aof.FileReport) {
	fr := aof.NewFileReader(bytes.NewReader(data), "f.aof", size)
	var cmds []aof.Command
	for fr.Next() {
		cmds = append(cmds, fr.Command())
	}
	return cmds, fr.Report()
}

func TestReaderValidFile(t *testing.T) {
	data, want, starts := build(sample)
	cmds, rep := readAll(data, int64(len(data)))
	require.Nil(t, rep.Damage)
	require.Len(t, cmds, len(want))
	ci := 0
	for i, p := range sample {
		if p.cmd == nil {
			continue
		}
		assert.Equal(t, p.cmd, argvStrings(cmds[ci].Argv))
		assert.EqualValues(t, starts[i], cmds[ci].Offset)
		assert.EqualValues(t, starts[i]+len(enc(p.cmd...)), cmds[ci].End)
		assert.Equal(t, "f.aof", cmds[ci].File)
		ci++
	}
	assert.EqualValues(t, len(data), rep.ValidEnd)
	assert.EqualValues(t, len(want), rep.Commands)
}

// Cutting the file at every byte offset gives a torn tail (never
// corruption), whose valid prefix is the last complete command or closed
// transaction before the cut; the commands yielded are exactly that prefix.
func TestReaderEveryTruncation(t *testing.T) {
	data, want, _ := build(sample)
	bounds := boundaries(sample)
	for _, size := range []bool{true, false} {
		last := 0
		for k := 0; k <= len(data); k++ {
			if _, ok := bounds[k]; ok {
				last = k
			}
			sz := int64(-1)
			if size {
				sz = int64(k)
			}
			cmds, rep := readAll(data[:k], sz)
			require.NoError(t, rep.Err)
			require.EqualValues(t, last, rep.ValidEnd, "cut at %d", k)
			require.Len(t, cmds, bounds[last], "cut at %d", k)
			for i, c := range cmds {
				require.Equal(t, want[i], argvStrings(c.Argv))
			}
			if k == last {
				require.Nil(t, rep.Damage, "cut at %d", k)
				continue
			}
			require.NotNil(t, rep.Damage, "cut at %d", k)
			require.True(t, rep.Damage.Kind.Tail(), "cut at %d: %v", k, rep.Damage)
		}
	}
}

// A torn command or a complete but unterminated transaction at the end
// reverts the whole transaction.
func TestReaderMultiAtTail(t *testing.T) {
	head := encAll([]string{"SET", "a", "1"})
	multi := encAll([]string{"MULTI"}, []string{"SET", "b", "1"}, []string{"SET", "c", "1"})
	cmds, rep := readAll(append(head, multi...), -1)
	require.NotNil(t, rep.Damage)
	assert.Equal(t, aof.DamageMulti, rep.Damage.Kind)
	assert.EqualValues(t, len(head), rep.ValidEnd)
	assert.EqualValues(t, 3, rep.Dropped)
	assert.Len(t, cmds, 1)

	torn := append(append(head, multi...), enc("SET", "d", "1")[:7]...)
	cmds, rep = readAll(torn, -1)
	assert.Equal(t, aof.DamageMulti, rep.Damage.Kind)
	assert.EqualValues(t, len(head), rep.ValidEnd)
	assert.Len(t, cmds, 1)
}

func TestReaderCorruptionInTheMiddle(t *testing.T) {
	data, _, starts := build(sample)
	// Flip every structural byte of the 4th piece (RPUSH), i.e. every byte
	// of its headers and CRLFs, never payload bytes.
	idx := 3
	cmd := enc(sample[idx].cmd...)
	structural := structuralOffsets(sample[idx].cmd)
	require.NotEmpty(t, structural)
	for _, p := range structural {
		bad := append([]byte(nil), data...)
		bad[starts[idx]+p] = 'X'
		cmds, rep := readAll(bad, int64(len(bad)))
		require.NotNil(t, rep.Damage, "flip at %d", p)
		require.Equal(t, aof.DamageCorrupt, rep.Damage.Kind, "flip at %d: %v", p, rep.Damage)
		require.EqualValues(t, starts[idx], rep.ValidEnd)
		require.GreaterOrEqual(t, rep.Damage.At, int64(starts[idx]))
		require.Less(t, rep.Damage.At, int64(starts[idx]+len(cmd)))
		require.Len(t, cmds, 2)
	}
}

// structuralOffsets lists the offsets of header and CRLF bytes in a
// command's encoding.
func structuralOffsets(argv []string) []int {
	var out []int
	b := enc(argv...)
	i := 0
	hdr := func() {
		for b[i] != '\n' {
			out = append(out, i)
			i++
		}
		out = append(out, i)
		i++
	}
	hdr()
	for _, a := range argv {
		hdr()
		i += len(a)
		out = append(out, i, i+1)
		i += 2
	}
	return out
}

func TestReaderOddities(t *testing.T) {
	set := enc("SET", "a", "1")
	cases := []struct {
		name     string
		data     []byte
		kind     aof.DamageKind // 0 = clean
		validEnd int
		cmds     int
		msg      string
	}{
		{"empty", nil, 0, 0, 0, ""},
		{"annotation only", []byte("#TS:1\r\n"), 0, 7, 0, ""},
		{"annotation without newline at EOF", append(append([]byte{}, set...), "#TS:12"...), aof.DamageAnnotation, len(set), 1, ""},
		{"annotation too long", append([]byte("#"), bytes.Repeat([]byte("a"), 5000)...), aof.DamageCorrupt, 0, 0, "too long"},
		{"zero count", []byte("*0\r\n"), aof.DamageCorrupt, 0, 0, "argument count"},
		{"negative length", []byte("*1\r\n$-1\r\n"), aof.DamageCorrupt, 0, 0, "length"},
		{"length beyond limit", []byte("*1\r\n$99999999999999999\r\n"), aof.DamageCorrupt, 0, 0, "out of range"},
		{"garbage line", append(append([]byte{}, set...), "xxxxx\r\n"...), aof.DamageCorrupt, len(set), 1, "Expected '*'"},
		{"bulk without CRLF", []byte("*1\r\n$1\r\nab\r\n"), aof.DamageCorrupt, 0, 0, `Expected \r\n`},
		{"missing $", []byte("*1\r\n:1\r\n"), aof.DamageCorrupt, 0, 0, "Expected prefix '$'"},
		{"nested MULTI", encAll([]string{"MULTI"}, []string{"MULTI"}), aof.DamageCorrupt, 0, 0, "Unexpected MULTI"},
		{"EXEC without MULTI", encAll([]string{"SET", "a", "1"}, []string{"EXEC"}), aof.DamageCorrupt, len(set), 1, "Unexpected EXEC"},
		{"zero-filled tail", append(append([]byte{}, set...), make([]byte, 4096)...), aof.DamageZeroFill, len(set), 1, ""},
		{"zeros inside a command then EOF", append(append([]byte{}, set[:9]...), make([]byte, 100)...), aof.DamageZeroFill, 0, 0, ""},
		{"zeros then data", append(append(append([]byte{}, set...), 0, 0, 0), set...), aof.DamageCorrupt, len(set), 1, ""},
		{"claimed length past EOF", []byte("*2\r\n$3\r\nGET\r\n$1099511627775\r\nab"), aof.DamageTorn, 0, 0, "Expected to read"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmds, rep := readAll(tc.data, int64(len(tc.data)))
			if tc.kind == 0 {
				assert.Nil(t, rep.Damage)
			} else {
				require.NotNil(t, rep.Damage)
				assert.Equal(t, tc.kind, rep.Damage.Kind, rep.Damage.Msg)
				assert.Contains(t, rep.Damage.Msg, tc.msg)
			}
			assert.EqualValues(t, tc.validEnd, rep.ValidEnd)
			assert.Len(t, cmds, tc.cmds)
		})
	}
}

// A forged huge length with an unknown size is read in bounded chunks: the
// reader allocates what is there, not what is claimed.
func TestReaderForgedLengthBoundedAllocation(t *testing.T) {
	data := []byte("*1\r\n$1099511627775\r\nabc")
	allocs := testing.AllocsPerRun(3, func() {
		_, rep := readAll(data, -1)
		if rep.Damage == nil || rep.Damage.Kind != aof.DamageTorn {
			t.Fatalf("want torn, got %+v", rep.Damage)
		}
	})
	assert.Less(t, allocs, 100.0)
}

func TestReaderTornRDBPreamble(t *testing.T) {
	cmds, rep := readAll([]byte("REDIS0010\xfa\x09redis-ver"), -1)
	assert.True(t, rep.RDBPreamble)
	assert.Empty(t, cmds)
	require.NotNil(t, rep.Damage)
	assert.Equal(t, aof.DamageCorrupt, rep.Damage.Kind)
}

// errReader fails after some bytes: I/O errors are not format damage.
type errReader struct {
	data []byte
	err  error
}

func (r *errReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestReaderIOError(t *testing.T) {
	eio := errors.New("EIO")
	fr := aof.NewFileReader(&errReader{data: enc("SET", "a", "1")[:5], err: eio}, "f", -1)
	for fr.Next() {
	}
	rep := fr.Report()
	assert.ErrorIs(t, rep.Err, eio)
	assert.Nil(t, rep.Damage)
}

// TestReaderRDBPreambleThenCommands: a pre-7.0 single-file AOF written
// with aof-use-rdb-preamble holds an RDB, then the commands appended after
// the rewrite; a 7.0 base.rdb only the RDB. The keys come out as the
// commands that recreate them, then the commands, with offsets that end at
// the file's end.
func TestReaderRDBPreambleThenCommands(t *testing.T) {
	var file bytes.Buffer
	w := rdb.NewWriter(&file, rdb.WriterOptions{Checksum: true, Limits: rdb.DefaultLimits()})
	require.NoError(t, w.Header([]rdb.Aux{{Key: "redis-ver", Value: "7.0.15"}}))
	require.NoError(t, w.SelectDB(2, 2, 1))
	require.NoError(t, w.Key([]byte("q"), 0, &rdb.Value{Kind: rdb.KindList, Elems: [][]byte{[]byte("a"), []byte("b")}}))
	require.NoError(t, w.Key([]byte("s"), 4102444800000, &rdb.Value{Kind: rdb.KindString, Str: []byte("v")}))
	require.NoError(t, w.Finish())
	rdbLen := file.Len()
	file.Write(encAll([]string{"SELECT", "0"}, []string{"SET", "after", "1"}))

	got, rep := readAll(file.Bytes(), int64(file.Len()))
	require.Nil(t, rep.Damage)
	assert.True(t, rep.RDBPreamble)
	var cmds [][]string
	for _, c := range got {
		cmds = append(cmds, argvStrings(c.Argv))
	}
	assert.Equal(t, [][]string{
		{"SELECT", "2"}, {"RPUSH", "q", "a", "b"}, {"SET", "s", "v"}, {"PEXPIREAT", "s", "4102444800000"},
		{"SELECT", "0"}, {"SET", "after", "1"},
	}, cmds)
	assert.EqualValues(t, file.Len(), rep.ValidEnd)
	assert.Greater(t, rep.ValidEnd, int64(rdbLen))

	// The same RDB alone, as a 7.0 base.rdb: a damaged byte is corruption.
	damaged := append([]byte(nil), file.Bytes()[:rdbLen]...)
	damaged[rdbLen-3] ^= 0xff
	_, rep = readAll(damaged, int64(len(damaged)))
	require.NotNil(t, rep.Damage)
	assert.Equal(t, aof.DamageCorrupt, rep.Damage.Kind)
}
