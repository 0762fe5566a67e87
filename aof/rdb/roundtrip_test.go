package rdb

import (
	"bytes"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// randomValue makes a value of a random kind whose size and contents cross
// the encoding thresholds: integers of every width, long and compressible
// strings, big and small collections.
func randomValue(r *rand.Rand) *Value {
	elem := func() []byte {
		switch r.IntN(4) {
		case 0:
			return []byte(strconv.FormatInt(r.Int64()>>r.IntN(63), 10))
		case 1:
			return bytes.Repeat([]byte{byte('a' + r.IntN(26))}, r.IntN(200))
		case 2:
			b := make([]byte, r.IntN(80))
			for i := range b {
				b[i] = byte(r.IntN(256))
			}
			return b
		}
		return []byte("m" + strconv.Itoa(r.IntN(1000)))
	}
	n := []int{0, 1, 5, 130, 600}[r.IntN(5)]
	v := &Value{}
	switch r.IntN(5) {
	case 0:
		v.Kind, v.Str = KindString, elem()
	case 1:
		v.Kind = KindList
		for range n + 1 {
			v.Elems = append(v.Elems, elem())
		}
	case 2:
		v.Kind = KindSet
		seen := map[string]bool{}
		for range n + 1 {
			if e := elem(); !seen[string(e)] {
				seen[string(e)] = true
				v.Elems = append(v.Elems, e)
			}
		}
	case 3:
		v.Kind = KindZSet
		seen := map[string]bool{}
		for range n + 1 {
			if e := elem(); !seen[string(e)] {
				seen[string(e)] = true
				s := []float64{math.Inf(1), math.Inf(-1), 0, 1.5, float64(r.IntN(1000)), r.NormFloat64() * 1e6}[r.IntN(6)]
				v.Zset = append(v.Zset, ScoreMember{Member: e, Score: s})
			}
		}
	default:
		v.Kind = KindHash
		seen := map[string]bool{}
		for range n + 1 {
			if f := elem(); !seen[string(f)] {
				seen[string(f)] = true
				v.Pairs = append(v.Pairs, FieldValue{Field: f, Value: elem()})
			}
		}
	}
	return v
}

// canonical sorts the unordered parts of a value, so two values holding
// the same data compare equal.
func canonical(v Value) Value {
	cmp := func(a, b []byte) int { return bytes.Compare(a, b) }
	if v.Kind == KindSet {
		slices.SortFunc(v.Elems, cmp)
	}
	slices.SortFunc(v.Pairs, func(a, b FieldValue) int { return cmp(a.Field, b.Field) })
	slices.SortFunc(v.Zset, func(a, b ScoreMember) int { return cmp(a.Member, b.Member) })
	if v.Str == nil && v.Kind == KindString {
		v.Str = []byte{}
	}
	for i, e := range v.Elems {
		if e == nil {
			v.Elems[i] = []byte{}
		}
	}
	return v
}

// TestWriterReaderRoundTrip: whatever the writer encodes, the reader
// decodes to the same data, in files (with and without compression and
// checksum, keys in several databases, expiries) and in DUMP payloads.
func TestWriterReaderRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for round := range 20 {
		opts := WriterOptions{Compress: round%2 == 0, Checksum: round%3 != 0, Limits: DefaultLimits()}
		var file bytes.Buffer
		w := NewWriter(&file, opts)
		require.NoError(t, w.Header([]Aux{{Key: "redis-ver", Value: "7.0.15"}}))
		type key struct {
			db  int
			at  int64
			val Value
		}
		var want []key
		for db := range 3 {
			require.NoError(t, w.SelectDB(db*7, 0, 0))
			for i := range 15 {
				v := randomValue(r)
				at := int64(0)
				if i%4 == 0 {
					at = 4102444800000 + int64(i)
				}
				require.NoError(t, w.Key([]byte(strconv.Itoa(db)+":"+strconv.Itoa(i)), at, v))
				want = append(want, key{db * 7, at, canonical(*v)})

				got, err := DecodeDump(AppendDump(nil, v, opts))
				require.NoError(t, err)
				assert.Equal(t, canonical(*v), canonical(got), "DUMP round trip of kind %d", v.Kind)
			}
		}
		require.NoError(t, w.Finish())
		rd, err := NewReader(bytes.NewReader(file.Bytes()))
		require.NoError(t, err)
		for _, k := range want {
			rec, err := rd.Next()
			require.NoError(t, err)
			assert.Equal(t, k.db, rec.DB)
			assert.Equal(t, k.at, rec.ExpireAt)
			assert.Equal(t, k.val, canonical(rec.Value))
		}
		_, err = rd.Next()
		assert.Equal(t, io.EOF, err)
		assert.EqualValues(t, file.Len(), rd.Offset())
	}
}
