package conffile

import "strings"

// SplitArgs tokenises one configuration line the way Redis's sdssplitargs
// does.
//
// Tokens are separated by whitespace. A token may contain double-quoted
// sections, in which \n \r \t \b \a and \xHH escapes are decoded and any
// other backslashed byte stands for itself, and single-quoted sections, in
// which only \' is an escape. A quoted section may start in the middle of a
// token (ab"c d" is the single token "abc d"), but its closing quote must be
// followed by whitespace or the end of the line. An unterminated quote, or a
// closing quote followed by anything else, yields ErrUnbalancedQuotes.
//
// The C original works on NUL-terminated strings, so a NUL byte in line ends
// the input there; this matters for CONFIG SET values, which are binary safe
// on the wire but are split by Redis with the same C routine.
//
// A line without tokens yields a nil slice and a nil error.
func SplitArgs(line string) ([]string, error) {
	if i := strings.IndexByte(line, 0); i >= 0 {
		line = line[:i]
	}
	var tokens []string
	p := 0
	n := len(line)
	// at reads like *(p+k) in C: past the end it is the terminating NUL.
	at := func(k int) byte {
		if p+k < n {
			return line[p+k]
		}
		return 0
	}
	for {
		// Skipping between tokens uses C isspace, which includes \v and \f,
		// while an unquoted token only ends at space, \t, \r or \n (below).
		for p < n && isCSpace(line[p]) {
			p++
		}
		if p >= n {
			return tokens, nil
		}
		var cur []byte
		inDouble, inSingle := false, false
		for done := false; !done; {
			c := at(0)
			switch {
			case inDouble:
				switch {
				case c == '\\' && at(1) == 'x' && isHexDigit(at(2)) && isHexDigit(at(3)):
					cur = append(cur, hexValue(at(2))<<4|hexValue(at(3)))
					p += 3
				case c == '\\' && at(1) != 0:
					p++
					cur = append(cur, unescapeDouble(line[p]))
				case c == '"':
					if next := at(1); next != 0 && !isCSpace(next) {
						return nil, ErrUnbalancedQuotes
					}
					done = true
				case c == 0:
					return nil, ErrUnbalancedQuotes
				default:
					cur = append(cur, c)
				}
			case inSingle:
				switch {
				case c == '\\' && at(1) == '\'':
					p++
					cur = append(cur, '\'')
				case c == '\'':
					if next := at(1); next != 0 && !isCSpace(next) {
						return nil, ErrUnbalancedQuotes
					}
					done = true
				case c == 0:
					return nil, ErrUnbalancedQuotes
				default:
					cur = append(cur, c)
				}
			default:
				switch c {
				case ' ', '\n', '\r', '\t', 0:
					done = true
				case '"':
					inDouble = true
				case '\'':
					inSingle = true
				default:
					cur = append(cur, c)
				}
			}
			if p < n {
				p++
			}
		}
		tokens = append(tokens, string(cur))
	}
}

// unescapeDouble decodes the byte after a backslash inside double quotes.
func unescapeDouble(c byte) byte {
	switch c {
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	case 'b':
		return '\b'
	case 'a':
		return '\a'
	}
	return c
}

// isCSpace is C's isspace in the "C" locale, which Redis runs under for
// character classification (it only sets LC_COLLATE from the environment).
func isCSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return true
	}
	return false
}

func isHexDigit(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hexValue(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// Quote renders s as a double-quoted token the way Redis's sdscatrepr does:
// backslash and double quote are backslash-escaped, \n \r \t \a \b use their
// short escapes, other printable ASCII bytes are copied and every remaining
// byte becomes \xHH with lower-case hex digits. SplitArgs decodes the result
// back to s (provided s holds no NUL byte, which SplitArgs treats as the end
// of the line).
func Quote(s string) string {
	return string(AppendQuote(make([]byte, 0, len(s)+2), []byte(s)))
}

// AppendQuote appends b quoted as Quote does (MONITOR lines use it on
// argument buffers, without a string copy).
func AppendQuote(dst, b []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for _, c := range b {
		switch c {
		case '\\', '"':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\a':
			dst = append(dst, '\\', 'a')
		case '\b':
			dst = append(dst, '\\', 'b')
		default:
			if c >= 0x20 && c <= 0x7e {
				dst = append(dst, c)
			} else {
				dst = append(dst, '\\', 'x', hex[c>>4], hex[c&0xf])
			}
		}
	}
	return append(dst, '"')
}

// ExpandMultiArg returns the arguments with which Redis applies a directive
// of a multi-argument config (in 7.0: save, bind, client-output-buffer-limit
// and oom-score-adj-values) read from a config file or the command line.
//
// When such a directive has exactly one non-empty argument, Redis splits
// that argument again with SplitArgs, so that `save "3600 1 300 100"` (the
// form the command line produces for --save "3600 1 300 100") means the
// same as `save 3600 1 300 100`. Any other argument list is returned as is.
// If the inner split fails on unbalanced quotes Redis applies the directive
// with no arguments at all, and so does this function: for save that
// silently clears the save points, which redis-server 7.0.15 was observed
// to do.
func ExpandMultiArg(args []string) []string {
	if len(args) != 1 || args[0] == "" {
		return args
	}
	inner, err := SplitArgs(args[0])
	if err != nil || inner == nil {
		return []string{}
	}
	return inner
}
