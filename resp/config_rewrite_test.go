package resp

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/resp/conffile"
)

// A multi-word directive's line reads back the same words, the way a
// config file is loaded: tokenised, then a lone argument split again.
func TestFormatWordsRoundTrip(t *testing.T) {
	for _, words := range [][]string{
		{}, {"redbeat:"}, {"a:", "b:"}, {`x'y`}, {`a"b`}, {`a\b`}, {"a\x00b"}, {"\x01\xff"}, {`a"`, `b'`, `c\`},
		{"é:"}, {`'`}, {`"`},
	} {
		line := "redbeat-prefixes " + formatWords(words)
		argv, err := conffile.SplitArgs(line)
		require.NoError(t, err, line)
		got := conffile.ExpandMultiArg(argv[1:])
		if len(words) == 0 {
			assert.Equal(t, []string{""}, got, line) // "": no words
			continue
		}
		assert.Equal(t, words, got, line)
	}
}
