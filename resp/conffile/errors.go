package conffile

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"syscall"
)

// RedisVersion is the version redis-server names in its fatal config error
// banner, which FatalError reproduces.
const RedisVersion = "7.0.15"

// Reasons that redis-server 7.0.15 prints as the last line of a fatal config
// error. They are exported so the config registry reports its own failures
// with the same text.
const (
	// ReasonUnbalancedQuotes is printed when a line cannot be tokenised.
	ReasonUnbalancedQuotes = "Unbalanced quotes in configuration line"
	// ReasonBadDirective is printed for unknown directives and for special
	// directives (include, rename-command, ...) with the wrong arity.
	ReasonBadDirective = "Bad directive or wrong number of arguments"
	// ReasonWrongArgs is printed when a single-valued config gets other than
	// exactly one argument.
	ReasonWrongArgs = "wrong number of arguments"
	// ReasonNotYesNo is printed when a boolean config gets neither yes nor no.
	ReasonNotYesNo = "argument must be 'yes' or 'no'"
	// ReasonNotMemory is printed when a memory config gets an unparsable
	// value.
	ReasonNotMemory = "argument must be a memory value"
)

// Error is a constant error whose text is exactly the reason Redis prints, so
// that it can be used as FatalError.Reason or in a CONFIG SET reply as is.
// It is a string type so the package's sentinel errors can be constants.
type Error string

// Error returns the reason text.
func (e Error) Error() string { return string(e) }

// Sentinel errors returned by this package's value parsers and tokeniser.
const (
	// ErrUnbalancedQuotes is returned by SplitArgs.
	ErrUnbalancedQuotes Error = ReasonUnbalancedQuotes
	// ErrNotYesNo is returned by ParseBool.
	ErrNotYesNo Error = ReasonNotYesNo
	// ErrNotMemory is returned by ParseMemory.
	ErrNotMemory Error = ReasonNotMemory
)

// FatalError is a configuration error reported the way redis-server reports
// it before exiting with status 1. Line and Text locate the offending line:
// Line is 1-based within the text unit Redis was parsing (see the package
// documentation) and Text is the line trimmed of blanks. A Line of zero
// means the error is not tied to a line (Redis's checks after the whole
// text was read) and the location lines are left out, as Redis does.
type FatalError struct {
	Line   int
	Text   string
	Reason string
}

// Error renders the message byte for byte as redis-server 7.0.15 writes it
// to stderr, including the leading and trailing newline.
func (e *FatalError) Error() string {
	s := "\n*** FATAL CONFIG FILE ERROR (Redis " + RedisVersion + ") ***\n"
	if e.Line > 0 {
		s += "Reading the configuration file, at line " + strconv.Itoa(e.Line) + "\n"
		s += ">>> '" + e.Text + "'\n"
	}
	return s + e.Reason + "\n"
}

// OpenError reports a config file (the main one, or one named or matched by
// an include) that could not be opened. Redis does not print the fatal
// config banner for it: it logs Error() at warning level and exits with
// status 1.
type OpenError struct {
	Path string
	Err  error
}

// Error returns the message Redis logs, with the error rendered the way C's
// strerror words it.
func (e *OpenError) Error() string {
	return fmt.Sprintf("Fatal error, can't open config file '%s': %s", e.Path, strerror(e.Err))
}

// Unwrap returns the underlying error.
func (e *OpenError) Unwrap() error { return e.Err }

// strerror words an error like glibc's strerror. Go's errno texts are
// glibc's with the first letter lowered, so restoring that letter is enough
// for real files; errors from other FS implementations are mapped by kind.
func strerror(err error) string {
	var errno syscall.Errno
	switch {
	case errors.As(err, &errno):
		return capitalize(errno.Error())
	case errors.Is(err, fs.ErrNotExist):
		return "No such file or directory"
	case errors.Is(err, fs.ErrPermission):
		return "Permission denied"
	case err == nil:
		return "Success"
	}
	return err.Error()
}

func capitalize(s string) string {
	if s != "" && s[0] >= 'a' && s[0] <= 'z' {
		return string(s[0]-'a'+'A') + s[1:]
	}
	return s
}
