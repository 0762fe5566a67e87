package aof

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// FileType is the type of a file listed in the manifest, spelled as the
// manifest spells it.
type FileType byte

// The manifest's file types.
const (
	TypeBase    FileType = 'b' // the base: a snapshot, RESP (or RDB with a preamble)
	TypeHistory FileType = 'h' // superseded by a rewrite, to be deleted
	TypeIncr    FileType = 'i' // commands after the base, in seq order
)

func (t FileType) String() string {
	switch t {
	case TypeBase:
		return "base"
	case TypeHistory:
		return "history"
	case TypeIncr:
		return "incr"
	}
	return fmt.Sprintf("FileType(%q)", byte(t))
}

// ManifestEntry is one line of the manifest.
type ManifestEntry struct {
	Name string // a base name inside the AOF directory, never a path
	Seq  int64
	Type FileType
}

// Manifest lists the files of a multi-part AOF, as Redis 7's
// appendonly.aof.manifest does. Loading replays Base, then Incr in order;
// History files are only waiting to be deleted.
type Manifest struct {
	Base    *ManifestEntry
	History []ManifestEntry
	Incr    []ManifestEntry
}

// Manifest errors, one per kind of refusal Redis 7.0 reports (the texts are
// Redis's, lower-cased as Go errors are). ErrManifestDuplicateName is
// Celerity's own: Redis would load a file listed twice twice.
var (
	ErrManifestEmpty         = errors.New("found an empty AOF manifest")
	ErrManifestLineTooLong   = errors.New("the AOF manifest file contains too long line")
	ErrManifestFormat        = errors.New("invalid AOF manifest file format")
	ErrManifestPath          = errors.New("file can't be a path, just a filename")
	ErrManifestDuplicateBase = errors.New("found duplicate base file information")
	ErrManifestSequence      = errors.New("found a non-monotonic sequence number")
	ErrManifestType          = errors.New("unknown AOF file type")
	ErrManifestDuplicateName = errors.New("found duplicate AOF file name")
)

// ManifestError is a refused manifest: the error kind (one of the
// ErrManifest* sentinels, for errors.Is), and the 1-based line and its text
// when the error belongs to a line.
type ManifestError struct {
	Line int
	Text string
	Err  error
}

func (e *ManifestError) Error() string {
	if e.Line == 0 {
		return "AOF manifest: " + e.Err.Error()
	}
	return fmt.Sprintf("AOF manifest, line %d %q: %s", e.Line, e.Text, e.Err)
}

func (e *ManifestError) Unwrap() error { return e.Err }

// maxManifestLine is Redis's limit on a manifest line, newline included
// (it reads lines into a 1024-byte buffer and refuses one that does not
// fit, which also refuses a last line without its newline).
const maxManifestLine = 1024

// ParseManifest parses manifest content with Redis 7.0's rules: one file per
// line as key/value pairs (file, seq, type; keys case-insensitive, in any
// order, unknown pairs ignored for forward compatibility; at least six
// tokens and an even count), tokens split like redis.conf arguments (so
// quoted names work), '#' comment lines skipped, every line terminated by a
// newline and at most 1024 bytes, no blank line, at most one base, incr
// sequence numbers strictly increasing. Redis accepts the lines in any type
// order and so does this parser; Format writes base, history, incr.
func ParseManifest(data []byte) (*Manifest, error) {
	if len(data) == 0 {
		return nil, &ManifestError{Err: ErrManifestEmpty}
	}
	m := &Manifest{}
	names := map[string]bool{}
	var lastIncr int64
	for lineNo := 1; len(data) > 0; lineNo++ {
		nl := bytes.IndexByte(data, '\n')
		// Redis checks comments before the length: a comment line only has
		// to start with '#' (its reader then skips to the next newline).
		if data[0] == '#' {
			if nl < 0 {
				break
			}
			data = data[nl+1:]
			continue
		}
		if nl < 0 || nl+1 > maxManifestLine {
			return nil, &ManifestError{Line: lineNo, Err: ErrManifestLineTooLong}
		}
		raw := string(data[:nl])
		data = data[nl+1:]
		line := strings.Trim(raw, " \t\r\n")
		fail := func(err error) (*Manifest, error) {
			return nil, &ManifestError{Line: lineNo, Text: line, Err: err}
		}
		if line == "" {
			return fail(ErrManifestFormat)
		}
		args, ok := splitArgs(line)
		if !ok || len(args) < 6 || len(args)%2 != 0 {
			return fail(ErrManifestFormat)
		}
		var e ManifestEntry
		var haveName bool
		for i := 0; i < len(args); i += 2 {
			key, val := args[i], args[i+1]
			switch strings.ToLower(key) {
			case "file":
				if strings.ContainsRune(val, '/') {
					return fail(ErrManifestPath)
				}
				e.Name, haveName = val, val != ""
			case "seq":
				e.Seq = parseLeadingInt(val)
			case "type":
				if val != "" {
					e.Type = FileType(val[0])
				}
			}
		}
		if !haveName || e.Seq == 0 || e.Type == 0 {
			return fail(ErrManifestFormat)
		}
		switch e.Type {
		case TypeBase:
			if m.Base != nil {
				return fail(ErrManifestDuplicateBase)
			}
			if e.Seq < 0 {
				return fail(ErrManifestFormat)
			}
			ent := e
			m.Base = &ent
		case TypeHistory:
			m.History = append(m.History, e)
		case TypeIncr:
			if e.Seq <= lastIncr {
				return fail(ErrManifestSequence)
			}
			lastIncr = e.Seq
			m.Incr = append(m.Incr, e)
		default:
			return fail(ErrManifestType)
		}
		if names[e.Name] {
			return fail(ErrManifestDuplicateName)
		}
		names[e.Name] = true
	}
	return m, nil
}

// parseLeadingInt reads an optionally signed decimal prefix the way C's
// atoll does ("12x" is 12, "x" is 0), because Redis reads seq that way and a
// manifest it accepts must load here too.
func parseLeadingInt(s string) int64 {
	i := 0
	neg := false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	n, err := strconv.ParseInt(s[i:j], 10, 64)
	if err != nil {
		return 0
	}
	if neg {
		return -n
	}
	return n
}

// Format returns the manifest's content in Redis's layout: the base, then
// history, then incr files, one "file <name> seq <n> type <t>" line each,
// names quoted only when they need it.
func (m *Manifest) Format() []byte {
	var b bytes.Buffer
	line := func(e ManifestEntry) {
		b.WriteString("file ")
		b.WriteString(quoteName(e.Name))
		b.WriteString(" seq ")
		b.WriteString(strconv.FormatInt(e.Seq, 10))
		b.WriteString(" type ")
		b.WriteByte(byte(e.Type))
		b.WriteByte('\n')
	}
	if m.Base != nil {
		line(*m.Base)
	}
	for _, e := range m.History {
		line(e)
	}
	for _, e := range m.Incr {
		line(e)
	}
	return b.Bytes()
}

// Clone returns a deep copy.
func (m *Manifest) Clone() *Manifest {
	c := &Manifest{
		History: append([]ManifestEntry(nil), m.History...),
		Incr:    append([]ManifestEntry(nil), m.Incr...),
	}
	if m.Base != nil {
		b := *m.Base
		c.Base = &b
	}
	return c
}

// Empty reports whether the manifest lists nothing to load (Redis then
// starts a new AOF, as if there were no manifest).
func (m *Manifest) Empty() bool { return m == nil || (m.Base == nil && len(m.Incr) == 0) }

// splitArgs splits a line into arguments the way redis.conf lines and the
// manifest are split: blanks separate arguments; "double quotes" allow the
// escapes \n \r \t \b \a \xHH and \<c>; 'single quotes' allow only \'; a
// closing quote must be followed by a blank or the end of the line; a quote
// inside an unquoted argument starts a quoted part of the same argument.
// ok is false for unbalanced quotes.
func splitArgs(line string) (args []string, ok bool) {
	i := 0
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i == len(line) {
			return args, true
		}
		var cur []byte
		inDouble, inSingle := false, false
	token:
		for {
			switch {
			case inDouble:
				if i == len(line) {
					return nil, false
				}
				c := line[i]
				switch {
				case c == '\\' && i+3 < len(line) && line[i+1] == 'x' && isHex(line[i+2]) && isHex(line[i+3]):
					cur = append(cur, unhex(line[i+2])<<4|unhex(line[i+3]))
					i += 4
					continue
				case c == '\\' && i+1 < len(line):
					i++
					switch e := line[i]; e {
					case 'n':
						cur = append(cur, '\n')
					case 'r':
						cur = append(cur, '\r')
					case 't':
						cur = append(cur, '\t')
					case 'b':
						cur = append(cur, '\b')
					case 'a':
						cur = append(cur, '\a')
					default:
						cur = append(cur, e)
					}
				case c == '"':
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return nil, false
					}
					i++
					break token
				default:
					cur = append(cur, c)
				}
				i++
			case inSingle:
				if i == len(line) {
					return nil, false
				}
				c := line[i]
				switch {
				case c == '\\' && i+1 < len(line) && line[i+1] == '\'':
					cur = append(cur, '\'')
					i += 2
					continue
				case c == '\'':
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return nil, false
					}
					i++
					break token
				default:
					cur = append(cur, c)
				}
				i++
			default:
				if i == len(line) {
					break token
				}
				switch c := line[i]; c {
				case ' ', '\n', '\r', '\t', 0:
					break token
				case '"':
					inDouble = true
				case '\'':
					inSingle = true
				default:
					cur = append(cur, c)
				}
				i++
			}
		}
		args = append(args, string(cur))
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// quoteName returns name as Redis writes it in a manifest: bare when it has
// no blank, quote, backslash or non-printable byte, otherwise in double
// quotes with C-style escapes, which splitArgs reads back.
func quoteName(name string) string {
	needs := name == ""
	for i := 0; i < len(name) && !needs; i++ {
		c := name[i]
		needs = c == '\\' || c == '"' || c == '\'' || c <= ' ' || c >= 0x7f
	}
	if !needs {
		return name
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(name); i++ {
		switch c := name[i]; c {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\a':
			b.WriteString(`\a`)
		case '\b':
			b.WriteString(`\b`)
		default:
			if c < ' ' || c >= 0x7f {
				fmt.Fprintf(&b, `\x%02x`, c)
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
