package conffile

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// MaxIncludeDepth bounds how deeply include directives may nest. Redis has
// no bound and crashes with a stack overflow on an include cycle; we stop
// with a FatalError at the include line instead.
const MaxIncludeDepth = 32

// Directive is one non-empty, non-comment configuration line after
// tokenising.
type Directive struct {
	// Name is the first token, lower-cased (ASCII only, as C tolower does).
	Name string
	// Args are the tokens after the name, unchanged.
	Args []string
	// File is the file the line came from: the config file, an included
	// file, or "" for stdin and command-line options.
	File string
	// Line is the 1-based line number Redis reports for this line: the
	// position within the text unit being parsed. For the startup unit
	// (config file, then stdin, then options) and for an include whose
	// glob matched several files, that unit is a concatenation, so Line
	// counts from the start of the concatenation rather than of File.
	Line int
	// Text is the whole line trimmed of " \t\r\n", as Redis echoes it in
	// error messages.
	Text string
}

// FS is the file access Walk needs to expand include directives.
type FS interface {
	// ReadFile returns the contents of the named file. An error means the
	// file could not be opened and is fatal to loading, as in Redis.
	ReadFile(name string) ([]byte, error)
	// Glob returns the files matching pattern, in the order they are to be
	// read (Redis reads them in glob(3)'s sorted order). An error is
	// treated like an empty match, because Redis ignores glob failures.
	Glob(pattern string) ([]string, error)
}

// ApplyFunc applies one directive, typically by handing it to the config
// registry. Errors it returns stop the walk: *FatalError and *OpenError
// values are passed through unchanged, and any other error becomes a
// *FatalError at the directive's line whose Reason is the error's text.
type ApplyFunc func(Directive) error

// Walk parses config text and calls apply for each directive in order,
// expanding include directives in place, and stops at the first error.
//
// text is treated as raw file contents (see the package documentation for
// how NUL bytes are handled) and source names the file it came from, "" if
// none. Walk rather than Parse is what a loader should use: Redis applies
// each line before reading the next, so a relative include after a dir
// directive is resolved in the new directory, and the first failing line,
// whether it fails to tokenise or to apply, is the one reported.
func Walk(text, source string, fsys FS, apply ApplyFunc) error {
	w := walker{fs: fsys, apply: apply}
	return w.unit([]part{{name: source, text: readText([]byte(text))}}, 0)
}

// Parse parses config text like Walk and returns all directives. On error
// it returns the directives that precede the failing line together with
// the error, so a caller that applies them in order and stops at its own
// first failure reports the same first error Redis would (except where an
// include's resolution depends on an earlier directive; use Walk for that).
func Parse(text, source string, fsys FS) ([]Directive, error) {
	var out []Directive
	err := Walk(text, source, fsys, func(d Directive) error {
		out = append(out, d)
		return nil
	})
	return out, err
}

// part is one piece of a text unit, remembered so that each line can be
// attributed to the file it starts in.
type part struct {
	name string
	text string
}

type walker struct {
	fs    FS
	apply ApplyFunc
}

// unit parses the concatenation of parts as one text, which is how Redis
// parses the startup config (file + stdin + options) and the files matched
// by one include: line numbers run across the parts and a last line without
// a newline joins the first line of the next part.
func (w *walker) unit(parts []part, depth int) error {
	starts := make([]int, len(parts))
	var sb strings.Builder
	for i, p := range parts {
		starts[i] = sb.Len()
		sb.WriteString(p.text)
	}
	text := sb.String()
	owner := 0
	lineNo := 0
	for off := 0; off < len(text); {
		end := strings.IndexByte(text[off:], '\n')
		if end < 0 {
			end = len(text) - off
		}
		raw := text[off : off+end]
		for owner+1 < len(parts) && starts[owner+1] <= off {
			owner++
		}
		lineNo++
		off += end + 1
		line := strings.Trim(raw, " \t\r\n")
		if line == "" || line[0] == '#' {
			continue
		}
		args, err := SplitArgs(line)
		if err != nil {
			return &FatalError{Line: lineNo, Text: line, Reason: ReasonUnbalancedQuotes}
		}
		if len(args) == 0 {
			continue
		}
		d := Directive{
			Name: asciiLower(args[0]),
			Args: args[1:],
			File: parts[owner].name,
			Line: lineNo,
			Text: line,
		}
		if d.Name == "include" {
			if len(d.Args) != 1 {
				return &FatalError{Line: lineNo, Text: line, Reason: ReasonBadDirective}
			}
			if err := w.include(d, depth); err != nil {
				return err
			}
			continue
		}
		if err := w.apply(d); err != nil {
			var fe *FatalError
			var oe *OpenError
			if errors.As(err, &fe) || errors.As(err, &oe) {
				return err
			}
			return &FatalError{Line: lineNo, Text: line, Reason: err.Error()}
		}
	}
	return nil
}

// include reads the files an include directive names and parses them as one
// unit. Like Redis, a path with a glob metacharacter (* ? [) is globbed and
// may match nothing; any other path must open. All files are read before
// any line is parsed, as Redis does.
func (w *walker) include(d Directive, depth int) error {
	if depth >= MaxIncludeDepth {
		return &FatalError{Line: d.Line, Text: d.Text, Reason: fmt.Sprintf(
			"include nested more than %d levels deep in '%s' (include cycle?)", MaxIncludeDepth, d.File)}
	}
	pattern := d.Args[0]
	names := []string{pattern}
	if strings.ContainsAny(pattern, "*?[") {
		matches, err := w.fs.Glob(pattern)
		if err != nil {
			matches = nil
		}
		names = matches
	}
	parts := make([]part, 0, len(names))
	for _, name := range names {
		data, err := w.fs.ReadFile(name)
		if err != nil {
			return &OpenError{Path: name, Err: err}
		}
		parts = append(parts, part{name: name, text: readText(data)})
	}
	return w.unit(parts, depth+1)
}

// readLen is how many bytes Redis's fgets loop reads at most per call.
const readLen = 1024

// readText returns what Redis's file reading loop keeps of data: it reads
// with fgets into a 1024-byte buffer and appends each chunk with strcat
// semantics, so a NUL byte drops the rest of its chunk (up to the next
// newline or 1024-byte boundary) while later chunks are still kept.
func readText(data []byte) string {
	if bytes.IndexByte(data, 0) < 0 {
		return string(data)
	}
	var sb strings.Builder
	for len(data) > 0 {
		n := min(len(data), readLen)
		if i := bytes.IndexByte(data[:n], '\n'); i >= 0 {
			n = i + 1
		}
		chunk := data[:n]
		if i := bytes.IndexByte(chunk, 0); i >= 0 {
			chunk = chunk[:i]
		}
		sb.Write(chunk)
		data = data[n:]
	}
	return sb.String()
}

// asciiLower lower-cases ASCII letters only, like C tolower in the "C"
// locale; strings.ToLower would also fold non-ASCII letters.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// asciiEqualFold reports whether a and b are equal ignoring ASCII case, like
// C strcasecmp; strings.EqualFold also folds Unicode (e.g. "ſ" and "s").
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x >= 'A' && x <= 'Z' {
			x += 'a' - 'A'
		}
		if y >= 'A' && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
