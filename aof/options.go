package aof

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/celerity/celerity/aof/vfs"
)

// FsyncPolicy is appendfsync.
type FsyncPolicy int

// The appendfsync policies. The zero value is everysec, Redis's default.
const (
	FsyncEverysec FsyncPolicy = iota
	FsyncAlways
	FsyncNo
)

func (p FsyncPolicy) String() string {
	switch p {
	case FsyncAlways:
		return "always"
	case FsyncEverysec:
		return "everysec"
	case FsyncNo:
		return "no"
	}
	return fmt.Sprintf("FsyncPolicy(%d)", int(p))
}

// ParseFsyncPolicy parses an appendfsync value (case-insensitive, as
// redis.conf enums are).
func ParseFsyncPolicy(s string) (FsyncPolicy, error) {
	switch {
	case strings.EqualFold(s, "always"):
		return FsyncAlways, nil
	case strings.EqualFold(s, "everysec"):
		return FsyncEverysec, nil
	case strings.EqualFold(s, "no"):
		return FsyncNo, nil
	}
	return 0, errors.New("aof: appendfsync must be always, everysec or no")
}

// Level is the severity of a log line, mapped by the caller to its logger
// (Redis's notice '*', warning '#', verbose '-').
type Level int

// Log levels.
const (
	LevelVerbose Level = iota
	LevelNotice
	LevelWarning
)

// Options configure an AOF. The zero value means Redis 7.0's defaults, so a
// caller sets only what its configuration changes.
type Options struct {
	// FS is the file system; nil means the operating system's.
	FS vfs.FS
	// DirName is appenddirname ("appendonlydir"), inside the dir given to
	// Open.
	DirName string
	// FileName is appendfilename ("appendonly.aof"): the prefix of every
	// file name and the name of a pre-7.0 single-file AOF.
	FileName string
	// Fsync is appendfsync.
	Fsync FsyncPolicy
	// RefuseTruncated is "aof-load-truncated no": a torn tail in the last
	// file fails the load instead of being truncated away.
	RefuseTruncated bool
	// Timestamps is aof-timestamp-enabled: a "#TS:<unix>" annotation line
	// before the first unit of every new second, and at the start of a
	// rewritten base.
	Timestamps bool
	// DisableAutoGC is aof-disable-auto-gc: history files stay on disk
	// (listed as history) instead of being deleted after a rewrite.
	DisableAutoGC bool
	// NoFsyncOnRewrite is no-appendfsync-on-rewrite: no fsync of the incr
	// file while a rewrite is in progress (for always, replies are then
	// released after write(2) only, as Redis does).
	NoFsyncOnRewrite bool
	// NoRewriteIncrementalFsync is "aof-rewrite-incremental-fsync no":
	// the new base is fsynced only at the end instead of every 4 MB.
	NoRewriteIncrementalFsync bool

	// Log receives the lines operators know from Redis ("Asynchronous AOF
	// fsync is taking too long", truncation warnings, ...). Never argument
	// values: commands are task payloads. nil discards.
	Log func(level Level, msg string)
	// Now is the clock for timestamps and rewrite durations; nil means
	// time.Now.
	Now func() time.Time

	// FsyncInterval is how often everysec fsyncs (1 s).
	FsyncInterval time.Duration
	// PostponeLimit is how long everysec holds a write back while a
	// background fsync is still running (2 s, then it writes anyway and
	// counts aof_delayed_fsync).
	PostponeLimit time.Duration
	// RetryInterval is how often a failed write is retried (1 s, like
	// Redis's serverCron).
	RetryInterval time.Duration
	// Pid names the temporary rewrite file (os.Getpid() when 0).
	Pid int
}

// withDefaults fills the zero fields with Redis's values.
func (o Options) withDefaults() Options {
	if o.FS == nil {
		o.FS = vfs.OS()
	}
	if o.DirName == "" {
		o.DirName = "appendonlydir"
	}
	if o.FileName == "" {
		o.FileName = "appendonly.aof"
	}
	if o.Log == nil {
		o.Log = func(Level, string) {}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.FsyncInterval <= 0 {
		o.FsyncInterval = time.Second
	}
	if o.PostponeLimit <= 0 {
		o.PostponeLimit = 2 * time.Second
	}
	if o.RetryInterval <= 0 {
		o.RetryInterval = time.Second
	}
	return o
}

func (o Options) logf(level Level, format string, args ...any) {
	o.Log(level, fmt.Sprintf(format, args...))
}

// Errors of the AOF's life cycle.
var (
	// ErrClosed: the AOF was closed before the bytes were written.
	ErrClosed = errors.New("aof: closed")
	// ErrNotStarted: Start has not been called (or failed).
	ErrNotStarted = errors.New("aof: not started")
	// ErrLoadIncomplete: Start was called before the LoadPlan was read to
	// its end without error.
	ErrLoadIncomplete = errors.New("aof: load plan not completed")
	// ErrRewriteInProgress: a rewrite is already running.
	ErrRewriteInProgress = errors.New("aof: background append only file rewriting already in progress")
	// ErrRewriteDone: the Rewrite was already finished or aborted.
	ErrRewriteDone = errors.New("aof: rewrite already finished or aborted")
)

// CorruptError refuses a file damaged before its end: the start of the
// command that cannot be read (Offset), where the problem was detected
// (At) and what was wrong.
type CorruptError struct {
	File   string
	Offset int64
	At     int64
	Msg    string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("aof: bad file format reading the append only file %s: command at offset %d, problem at offset %d: %s",
		e.File, e.Offset, e.At, e.Msg)
}

// TruncatedError refuses a torn tail: in a file that is not the last one
// (NotLast; always fatal, as in Redis), or in the last file when
// RefuseTruncated is set.
type TruncatedError struct {
	File    string
	Offset  int64 // end of the valid prefix
	Size    int64
	Kind    DamageKind
	NotLast bool
}

func (e *TruncatedError) Error() string {
	if e.NotLast {
		return fmt.Sprintf("aof: the truncated file %s is not the last file (%s, valid up to offset %d of %d)",
			e.File, e.Kind, e.Offset, e.Size)
	}
	return fmt.Sprintf("aof: unexpected end of file reading the append only file %s (%s, valid up to offset %d of %d); "+
		"make a backup, then run celerity-check-aof --fix on the manifest, or set aof-load-truncated yes",
		e.File, e.Kind, e.Offset, e.Size)
}

// WriteError is the "last write failed" state of everysec and no (and the
// fail-stop error of always, wrapped in FailStopError). Err is the
// underlying error (a *fs.PathError around a syscall.Errno, typically).
type WriteError struct {
	Op  string // "write" or "fsync"
	Err error
}

func (e *WriteError) Error() string { return "aof: " + e.Op + ": " + e.Err.Error() }
func (e *WriteError) Unwrap() error { return e.Err }

// FailStopError is returned by everything once a write or an fsync failed
// under appendfsync always: replies may already promise durability, so the
// process must exit (Redis: "Can't recover from AOF write error when the
// AOF fsync policy is 'always'. Exiting...").
type FailStopError struct{ Err error }

func (e *FailStopError) Error() string {
	return "aof: can't recover from AOF write error when the AOF fsync policy is 'always': " + e.Err.Error()
}
func (e *FailStopError) Unwrap() error { return e.Err }
