package aof_test

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/aof"
)

func TestManifestRoundTrip(t *testing.T) {
	m := &aof.Manifest{
		Base:    &aof.ManifestEntry{Name: "appendonly.aof.3.base.aof", Seq: 3, Type: aof.TypeBase},
		History: []aof.ManifestEntry{{Name: "appendonly.aof.2.base.aof", Seq: 2, Type: aof.TypeHistory}},
		Incr: []aof.ManifestEntry{
			{Name: "appendonly.aof.5.incr.aof", Seq: 5, Type: aof.TypeIncr},
			{Name: "appendonly.aof.7.incr.aof", Seq: 7, Type: aof.TypeIncr},
		},
	}
	text := string(m.Format())
	// Byte for byte what Redis 7.0.15 writes.
	assert.Equal(t, "file appendonly.aof.3.base.aof seq 3 type b\n"+
		"file appendonly.aof.2.base.aof seq 2 type h\n"+
		"file appendonly.aof.5.incr.aof seq 5 type i\n"+
		"file appendonly.aof.7.incr.aof seq 7 type i\n", text)
	got, err := aof.ParseManifest([]byte(text))
	require.NoError(t, err)
	assert.Equal(t, m, got)
}

// Redis quotes names that need it (written by redis-server 7.0.15 with
// appendfilename 'my "x.aof'): file "my \"x.aof.1.base.aof" seq 1 type b.
func TestManifestQuotedNames(t *testing.T) {
	m := &aof.Manifest{Base: &aof.ManifestEntry{Name: `my "x.aof.1.base.aof`, Seq: 1, Type: aof.TypeBase}}
	assert.Equal(t, "file \"my \\\"x.aof.1.base.aof\" seq 1 type b\n", string(m.Format()))

	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		b := make([]byte, 1+r.IntN(20))
		for j := range b {
			b[j] = byte(r.IntN(256))
			if b[j] == '/' {
				b[j] = 'x'
			}
		}
		m := &aof.Manifest{Incr: []aof.ManifestEntry{{Name: string(b), Seq: 1, Type: aof.TypeIncr}}}
		got, err := aof.ParseManifest(m.Format())
		require.NoError(t, err, "%q", b)
		require.Equal(t, string(b), got.Incr[0].Name)
	}
}

// Every line below was fed to redis-server 7.0.15; accepted ones started,
// refused ones logged the error kind named.
func TestManifestRedisCases(t *testing.T) {
	ok := []struct {
		name, text string
		check      func(t *testing.T, m *aof.Manifest)
	}{
		{"comment and upper-case keys", "# comment\nFILE a.1.incr.aof SEQ 1 TYPE i\n", func(t *testing.T, m *aof.Manifest) {
			assert.Equal(t, "a.1.incr.aof", m.Incr[0].Name)
		}},
		{"keys in any order", "seq 1 file a.1.incr.aof type i\n", nil},
		{"unknown pair ignored", "file a seq 1 type i foo bar\n", nil},
		{"CRLF and blanks trimmed", "  file a seq 1 type i  \r\n", nil},
		{"tab separates", "file a\tseq 1 type i\n", nil},
		{"type by first letter", "file a seq 1 type incr\n", func(t *testing.T, m *aof.Manifest) {
			assert.Len(t, m.Incr, 1)
		}},
		{"seq read like atoll", "file a seq 1x type i\n", func(t *testing.T, m *aof.Manifest) {
			assert.EqualValues(t, 1, m.Incr[0].Seq)
		}},
		{"single quotes", "file 'a b' seq 1 type i\n", func(t *testing.T, m *aof.Manifest) {
			assert.Equal(t, "a b", m.Incr[0].Name)
		}},
		{"hex escape", "file \"a\\x2eb\" seq 1 type i\n", func(t *testing.T, m *aof.Manifest) {
			assert.Equal(t, "a.b", m.Incr[0].Name)
		}},
		{"base after incr", "file i seq 1 type i\nfile b seq 1 type b\n", func(t *testing.T, m *aof.Manifest) {
			assert.Equal(t, "b", m.Base.Name)
		}},
		{"history between incr", "file i1 seq 1 type i\nfile h seq 2 type h\nfile i2 seq 2 type i\n", func(t *testing.T, m *aof.Manifest) {
			assert.Len(t, m.Incr, 2)
			assert.Len(t, m.History, 1)
		}},
		{"only comments is empty, not an error", "# nothing\n", func(t *testing.T, m *aof.Manifest) {
			assert.True(t, m.Empty())
		}},
		{"only history is empty", "file h seq 1 type h\n", func(t *testing.T, m *aof.Manifest) {
			assert.True(t, m.Empty())
		}},
		{"last comment without newline", "file a seq 1 type i\n#x", nil},
		{"seq gaps", "file a seq 1 type i\nfile b seq 9 type i\n", nil},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			m, err := aof.ParseManifest([]byte(tc.text))
			require.NoError(t, err)
			if tc.check != nil {
				tc.check(t, m)
			}
		})
	}
	bad := []struct {
		name, text string
		kind       error
		line       int
	}{
		{"empty file", "", aof.ErrManifestEmpty, 0},
		{"blank line", "file a seq 1 type b\n\nfile b seq 1 type i\n", aof.ErrManifestFormat, 2},
		{"whitespace line", "file a seq 1 type i\n   \n", aof.ErrManifestFormat, 2},
		{"duplicate base", "file a seq 1 type b\nfile a2 seq 2 type b\n", aof.ErrManifestDuplicateBase, 2},
		{"non-monotonic", "file a seq 2 type i\nfile b seq 1 type i\n", aof.ErrManifestSequence, 2},
		{"equal seq", "file a seq 1 type i\nfile b seq 1 type i\n", aof.ErrManifestSequence, 2},
		{"negative seq", "file a seq -1 type i\n", aof.ErrManifestSequence, 1},
		{"unknown type", "file a seq 1 type x\n", aof.ErrManifestType, 1},
		{"too few tokens", "file a seq 1\n", aof.ErrManifestFormat, 1},
		{"odd tokens", "file a seq 1 type i foo\n", aof.ErrManifestFormat, 1},
		{"path", "file /tmp/a seq 1 type i\n", aof.ErrManifestPath, 1},
		{"seq not a number", "file a seq x type i\n", aof.ErrManifestFormat, 1},
		{"seq zero", "file a seq 0 type i\n", aof.ErrManifestFormat, 1},
		{"missing file key", "name a seq 1 type i\n", aof.ErrManifestFormat, 1},
		{"unterminated quote", "file \"a seq 1 type i\n", aof.ErrManifestFormat, 1},
		{"text after closing quote", "file \"a\"b seq 1 type i\n", aof.ErrManifestFormat, 1},
		{"no final newline", "file a seq 1 type i", aof.ErrManifestLineTooLong, 1},
		{"line too long", "file a seq 1 type i\nfile " + strings.Repeat("a", 1100) + " seq 2 type i\n", aof.ErrManifestLineTooLong, 2},
		{"duplicate name (Celerity only)", "file a seq 1 type i\nfile a seq 2 type i\n", aof.ErrManifestDuplicateName, 2},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := aof.ParseManifest([]byte(tc.text))
			require.Error(t, err)
			assert.True(t, errors.Is(err, tc.kind), "got %v", err)
			var me *aof.ManifestError
			require.ErrorAs(t, err, &me)
			assert.Equal(t, tc.line, me.Line)
		})
	}
	// The longest accepted line: 1023 bytes plus the newline.
	name := strings.Repeat("n", 1023-len("file  seq 1 type i"))
	_, err := aof.ParseManifest([]byte("file " + name + " seq 1 type i\n"))
	require.NoError(t, err)
	_, err = aof.ParseManifest([]byte("file " + name + "n seq 1 type i\n"))
	require.ErrorIs(t, err, aof.ErrManifestLineTooLong)
}
