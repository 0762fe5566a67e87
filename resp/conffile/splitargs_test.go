package conffile

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		name string
		line string
		want []string
		err  bool
	}{
		{name: "empty", line: "", want: nil},
		{name: "only blanks", line: " \t\v\f\r\n ", want: nil},
		{name: "plain words", line: "save 900  1\t300", want: []string{"save", "900", "1", "300"}},
		{name: "crlf separates", line: "a\r\nb", want: []string{"a", "b"}},
		// \v and \f are skipped between tokens but do not end a bare token
		// (verified: redis-server echoes 'foo\vx' as one directive name).
		{name: "vtab inside bare token", line: "\va\vb\fc d", want: []string{"a\vb\fc", "d"}},
		{name: "double quoted", line: `"a b" c`, want: []string{"a b", "c"}},
		{name: "quote opens mid token", line: `ab"c d" e`, want: []string{"abc d", "e"}},
		{name: "empty quoted", line: `'' ""`, want: []string{"", ""}},
		{name: "double quote escapes", line: `"\n\r\t\b\a\\\"\q"`, want: []string{"\n\r\t\b\a\\\"q"}},
		{name: "hex escapes", line: `"\x41\xaF\x4g\xZZ\x"`, want: []string{"A\xafx4gxZZx"}},
		{name: "hex NUL escape", line: `"a\x00b"`, want: []string{"a\x00b"}},
		{name: "single quote escapes only quote", line: `'a\'b\c\n'`, want: []string{`a'b\c\n`}},
		{name: "double inside single", line: `'say "hi"'`, want: []string{`say "hi"`}},
		{name: "closing quote then vtab", line: "\"a\"\vx", want: []string{"a", "x"}},
		{name: "closing quote then text", line: `"a"b`, err: true},
		{name: "closing single then text", line: `a'b c'd`, err: true},
		{name: "adjacent quoted parts", line: `"a"'b'`, err: true},
		{name: "unterminated double", line: `save "a b`, err: true},
		{name: "unterminated single", line: `'abc`, err: true},
		{name: "escaped closing quote", line: `"abc\"`, err: true},
		{name: "trailing backslash in quotes", line: `"abc\`, err: true},
		// A bare backslash is literal and the quote after it opens a section
		// (verified: 'foo \"' is reported as unbalanced).
		{name: "bare backslash then quote", line: `foo \"`, err: true},
		{name: "bare backslash", line: `a\nb \`, want: []string{`a\nb`, `\`}},
		{name: "NUL ends the line", line: "a\x00b c", want: []string{"a"}},
		{name: "NUL inside quotes ends the line", line: "\"a\x00\"", err: true},
		{name: "high bytes kept", line: "\xe2\x82\xac \xff", want: []string{"€", "\xff"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SplitArgs(tt.line)
			if tt.err {
				require.Error(t, err)
				assert.ErrorIs(t, err, ErrUnbalancedQuotes)
				assert.Equal(t, "Unbalanced quotes in configuration line", err.Error())
				assert.Nil(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestQuote(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", `""`},
		{"6380", `"6380"`},
		// Verified: redis-server echoed `foo "a b\"c\\\\d" "\n\t\x01\xff"`
		// for the arguments --foo 'a b"c\\d' $'\n\t\x01\xff'.
		{`a b"c\\d`, `"a b\"c\\\\d"`},
		{"\n\t\x01\xff", `"\n\t\x01\xff"`},
		{"\r\a\b\x7f\x00 ~", `"\r\a\b\x7f\x00 ~"`},
		{"€", `"\xe2\x82\xac"`},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Quote(tt.in), "Quote(%q)", tt.in)
	}
}

func TestExpandMultiArg(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"no args", []string{}, []string{}},
		{"empty single arg kept", []string{""}, []string{""}},
		{"single arg split", []string{"3600 1 300 100"}, []string{"3600", "1", "300", "100"}},
		{"inner quotes", []string{`100 '200'`}, []string{"100", "200"}},
		{"single word", []string{"normal"}, []string{"normal"}},
		{"several args untouched", []string{"10 1", "20 2"}, []string{"10 1", "20 2"}},
		// Verified: `save "1 \"2"` in a config file leaves save empty.
		{"unbalanced gives none", []string{`1 "2`}, []string{}},
		{"blank gives none", []string{"   "}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, ExpandMultiArg(tt.in))
		})
	}
}

func FuzzSplitArgs(f *testing.F) {
	for _, seed := range []string{
		`save "3600 1" '300 100'`,
		`"\x41\x4g\q\n"  '\'\n'`,
		"a\vb \"c\"\f'd'",
		`unbalanced "quote`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		tokens, err := SplitArgs(line)
		if err != nil {
			require.ErrorIs(t, err, ErrUnbalancedQuotes)
			return
		}
		quoted := make([]string, len(tokens))
		for i, tok := range tokens {
			quoted[i] = Quote(tok)
		}
		joined := strings.Join(quoted, " ")
		again, err := SplitArgs(joined)
		require.NoError(t, err, "re-splitting %q", joined)
		if len(tokens) == 0 {
			assert.Empty(t, again)
			return
		}
		assert.Equal(t, tokens, again)
	})
}
