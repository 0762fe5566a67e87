package conffile

import (
	"io"
	"os"
	"sort"
	"strings"
)

// OSFS returns an FS over the operating system's files that behaves like
// the C library calls Redis uses.
//
// ReadFile succeeds for anything that opens, as fopen does: a directory
// reads as empty and a read error ends the contents silently, because
// Redis's fgets loop stops at either. Relative names are resolved against
// the process's working directory.
//
// Glob follows glibc glob(3) called without flags, not filepath.Glob:
// wildcards do not match a leading "." in a name, "[" without a closing "]"
// is an ordinary character, "[!...]" and "[^...]" negate, POSIX classes
// such as [[:digit:]] work, backslash quotes the next character, and the
// result is sorted bytewise (glibc sorts with strcoll in the LC_COLLATE
// locale Redis takes from the environment, which is bytewise in the C and
// POSIX locales).
func OSFS() FS { return osFS{} }

type osFS struct{}

func (osFS) ReadFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, _ := io.ReadAll(f)
	return data, nil
}

func (osFS) Glob(pattern string) ([]string, error) {
	matches := globAll(pattern)
	sort.Strings(matches)
	return matches, nil
}

// globAll expands pattern one path element at a time from the right, like
// glibc: the directory part is expanded first (recursively, if it has
// wildcards), then the last element is matched in each directory found.
func globAll(pattern string) []string {
	slash := strings.LastIndexByte(pattern, '/')
	type dir struct{ read, prefix string }
	var dirs []dir
	file := pattern[slash+1:]
	switch {
	case slash < 0:
		dirs = []dir{{read: ".", prefix: ""}}
	case slash == 0:
		dirs = []dir{{read: "/", prefix: "/"}}
	default:
		dirPart := pattern[:slash]
		if hasMagic(dirPart) {
			for _, d := range globAll(dirPart) {
				if st, err := os.Stat(d); err == nil && st.IsDir() {
					dirs = append(dirs, dir{read: d, prefix: d + "/"})
				}
			}
		} else {
			d := unescapeGlob(dirPart)
			dirs = []dir{{read: d, prefix: d + "/"}}
		}
	}

	var out []string
	for _, d := range dirs {
		switch {
		case file == "":
			// A trailing slash asks for directories only.
			if st, err := os.Stat(d.read); err == nil && st.IsDir() {
				out = append(out, d.prefix)
			}
		case hasMagic(file):
			entries, err := os.ReadDir(d.read)
			if err != nil {
				continue // glob(3) without GLOB_ERR skips unreadable directories
			}
			// readdir also reports "." and "..", which patterns such as ".*"
			// match.
			names := []string{".", ".."}
			for _, e := range entries {
				names = append(names, e.Name())
			}
			for _, name := range names {
				if fnmatch(file, name) {
					out = append(out, d.prefix+name)
				}
			}
		default:
			p := d.prefix + unescapeGlob(file)
			if _, err := os.Lstat(p); err == nil {
				out = append(out, p)
			}
		}
	}
	return out
}

// hasMagic reports whether a pattern needs matching rather than a lookup:
// it has an unquoted * or ?, or a [ that starts a complete bracket
// expression.
func hasMagic(p string) bool {
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '*', '?':
			return true
		case '[':
			if _, ok := bracketEnd(p[i:]); ok {
				return true
			}
		}
	}
	return false
}

// unescapeGlob removes the backslashes that quote characters in a pattern
// element without wildcards.
func unescapeGlob(p string) string {
	if !strings.Contains(p, `\`) {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '\\' && i+1 < len(p) {
			i++
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

// fnmatch matches one path element against one pattern element with the
// semantics of fnmatch(3) with FNM_PERIOD in the C locale, which is what
// glob(3) uses: a leading "." must be matched by a literal ".".
func fnmatch(p, s string) bool {
	return matchFrom(p, s, true)
}

func matchFrom(p, s string, atStart bool) bool {
	for len(p) > 0 {
		leadingDot := atStart && len(s) > 0 && s[0] == '.'
		switch p[0] {
		case '?':
			if len(s) == 0 || leadingDot {
				return false
			}
			p, s = p[1:], s[1:]
		case '*':
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			if leadingDot {
				return false
			}
			if p == "" {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if matchFrom(p, s[i:], false) {
					return true
				}
			}
			return false
		case '[':
			end, ok := bracketEnd(p)
			if !ok {
				// An unterminated bracket is a literal "[".
				if len(s) == 0 || s[0] != '[' {
					return false
				}
				p, s = p[1:], s[1:]
				break
			}
			if len(s) == 0 || leadingDot || !bracketMatch(p[:end], s[0]) {
				return false
			}
			p, s = p[end:], s[1:]
		case '\\':
			if len(p) < 2 {
				return false // a trailing backslash matches nothing
			}
			if len(s) == 0 || s[0] != p[1] {
				return false
			}
			p, s = p[2:], s[1:]
		default:
			if len(s) == 0 || s[0] != p[0] {
				return false
			}
			p, s = p[1:], s[1:]
		}
		atStart = false
	}
	return s == ""
}

// bracketEnd returns the length of the bracket expression p starts with
// ("[" ... "]"), or false if it is not terminated. A "]" right after "[",
// "[!" or "[^" is a member, not the end.
func bracketEnd(p string) (int, bool) {
	i := 1
	if i < len(p) && (p[i] == '!' || p[i] == '^') {
		i++
	}
	if i < len(p) && p[i] == ']' {
		i++
	}
	for i < len(p) {
		switch {
		case p[i] == ']':
			return i + 1, true
		case p[i] == '\\':
			i += 2
		case p[i] == '[' && i+1 < len(p) && (p[i+1] == ':' || p[i+1] == '.' || p[i+1] == '='):
			closing := string([]byte{p[i+1], ']'})
			k := strings.Index(p[i+2:], closing)
			if k < 0 {
				i++
				continue
			}
			i += 2 + k + 2
		default:
			i++
		}
	}
	return 0, false
}

// bracketMatch reports whether byte c is matched by the complete bracket
// expression b (including its brackets).
func bracketMatch(b string, c byte) bool {
	body := b[1 : len(b)-1]
	negate := false
	if body != "" && (body[0] == '!' || body[0] == '^') {
		negate = true
		body = body[1:]
	}
	matched := false
	for len(body) > 0 {
		var lo byte
		switch {
		case body[0] == '[' && len(body) > 1 && body[1] == ':':
			k := strings.Index(body[2:], ":]")
			if k >= 0 {
				if classMatch(body[2:2+k], c) {
					matched = true
				}
				body = body[2+k+2:]
				continue
			}
			lo, body = body[0], body[1:]
		case body[0] == '[' && len(body) > 1 && (body[1] == '.' || body[1] == '='):
			// Collating symbols and equivalence classes of one character
			// are that character in the C locale.
			closing := string([]byte{body[1], ']'})
			k := strings.Index(body[2:], closing)
			if k == 1 {
				lo, body = body[2], body[2+k+2:]
			} else {
				lo, body = body[0], body[1:]
			}
		case body[0] == '\\' && len(body) > 1:
			lo, body = body[1], body[2:]
		default:
			lo, body = body[0], body[1:]
		}
		hi := lo
		if len(body) > 1 && body[0] == '-' {
			hi = body[1]
			body = body[2:]
			if hi == '\\' && len(body) > 0 {
				hi, body = body[0], body[1:]
			}
		}
		if lo <= c && c <= hi {
			matched = true
		}
	}
	return matched != negate
}

// classMatch implements the POSIX character classes for the C locale.
func classMatch(name string, c byte) bool {
	upper := c >= 'A' && c <= 'Z'
	lower := c >= 'a' && c <= 'z'
	digit := c >= '0' && c <= '9'
	switch name {
	case "alpha":
		return upper || lower
	case "digit":
		return digit
	case "alnum":
		return upper || lower || digit
	case "upper":
		return upper
	case "lower":
		return lower
	case "space":
		return isCSpace(c)
	case "blank":
		return c == ' ' || c == '\t'
	case "punct":
		return c > 0x20 && c < 0x7f && !upper && !lower && !digit
	case "print":
		return c >= 0x20 && c < 0x7f
	case "graph":
		return c > 0x20 && c < 0x7f
	case "cntrl":
		return c < 0x20 || c == 0x7f
	case "xdigit":
		return isHexDigit(c)
	}
	return false
}
