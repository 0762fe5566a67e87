package aof

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/celerity/celerity/aof/vfs"
)

// tempRewritePrefix starts the name of a base being written; Start deletes
// leftovers (nothing refers to them).
const tempRewritePrefix = "temp-rewriteaof-"

// incrementalFsyncBytes is how often a base being written is fsynced with
// aof-rewrite-incremental-fsync (Redis: 4 MB), so the final fsync does not
// flush gigabytes at once and stall the disk for the incr file's fsyncs.
const incrementalFsyncBytes = 4 << 20

// Rewrite is a rewrite in progress (BGREWRITEAOF or an automatic rewrite).
//
// StartRewrite is the cut: bytes appended before it stay in the current
// incr files, bytes appended after it go to a new incr file. The caller
// writes, through WriteBase or Write, commands that rebuild the dataset as
// it was at the cut, exactly: nothing appended after the cut may show in the
// base, or loading would apply it twice (a copy-on-write snapshot taken
// under the engine lock at StartRewrite, or per-key versions, give that).
// Finish makes the new base and the new incr the AOF and deletes the rest.
//
// A Rewrite is used by one goroutine; Abort may be called from any.
type Rewrite struct {
	a        *AOF
	cut      *cut
	baseSeq  int64
	baseName string
	tmpName  string
	started  time.Time
	rdb      bool // the base is an RDB (RDBBase)

	mu        sync.Mutex
	f         vfs.File
	bw        *bufio.Writer
	scratch   []byte
	size      int64
	sinceSync int64
	err       error
	done      bool
}

// StartRewrite starts a rewrite with its cut at the current end of the
// appended bytes. Call it under the engine lock, at the instant of the
// snapshot. It does no I/O: the writer goroutine creates the new incr file
// and records it in the manifest when it reaches the cut, before writing
// anything into it. Only one rewrite runs at a time.
func (a *AOF) StartRewrite() (*Rewrite, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case a.closing:
		return nil, ErrClosed
	case !a.started:
		return nil, ErrNotStarted
	case a.rewrite != nil:
		return nil, ErrRewriteInProgress
	case a.hasFail.Load():
		return nil, a.failStop
	}
	incrSeq, incrName := a.allocName(TypeIncr)
	c := &cut{off: a.appended, seq: incrSeq, name: incrName, done: make(chan struct{})}
	a.cuts = append(a.cuts, c)
	now := a.opts.Now()
	pid := a.opts.Pid
	if pid == 0 {
		pid = os.Getpid()
	}
	rw := &Rewrite{
		a:       a,
		cut:     c,
		tmpName: fmt.Sprintf("%sbg-%d-%d.aof", tempRewritePrefix, pid, incrSeq),
		started: now,
	}
	a.rewrite = rw
	a.rewriting.Store(true)
	a.statsMu.Lock()
	a.rewriteInProgress = true
	a.rewriteStartedAt = now
	a.statsMu.Unlock()
	select {
	case a.kick <- struct{}{}:
	default:
	}
	return rw, nil
}

// RDBBase declares that the caller writes the base as an RDB file
// (aof-use-rdb-preamble yes): it is named <appendfilename>.<seq>.base.rdb
// and gets no timestamp annotation. Call it before the first write.
func (rw *Rewrite) RDBBase() {
	rw.mu.Lock()
	rw.rdb = true
	rw.mu.Unlock()
}

// IncrName is the name of the incr file that receives the bytes appended
// after the cut.
func (rw *Rewrite) IncrName() string { return rw.cut.name }

// open creates the temporary base on first use. Called with rw.mu.
func (rw *Rewrite) open() error {
	if rw.f != nil {
		return nil
	}
	a := rw.a
	f, err := a.fs.OpenFile(a.path(rw.tmpName), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("aof: creating the temporary base %s: %w", rw.tmpName, err)
	}
	rw.f = f
	rw.bw = bufio.NewWriterSize(rewriteFile{rw}, 64<<10)
	if a.timestamps.Load() && !rw.rdb {
		// Redis starts a rewritten base with the time of the rewrite, so
		// point-in-time truncation knows what the base covers.
		if _, err := rw.bw.Write(appendTimestamp(nil, rw.started.Unix())); err != nil {
			return err
		}
	}
	return nil
}

// rewriteFile counts bytes reaching the temporary base and fsyncs it every
// incrementalFsyncBytes.
type rewriteFile struct{ rw *Rewrite }

func (w rewriteFile) Write(p []byte) (int, error) {
	rw := w.rw
	n, err := rw.f.Write(p)
	rw.size += int64(n)
	rw.sinceSync += int64(n)
	if err == nil && n < len(p) {
		err = errors.New("short write")
	}
	if err == nil && !rw.a.opts.NoRewriteIncrementalFsync && rw.sinceSync >= incrementalFsyncBytes {
		rw.sinceSync = 0
		err = rw.f.Datasync()
	}
	return n, err
}

// WriteBase appends commands (each an argv) to the new base. Feed the
// dataset in bounded batches (Redis emits at most 64 items per command),
// with SELECT before each database's keys and expiries as PEXPIREAT.
func (rw *Rewrite) WriteBase(cmds ...[][]byte) error {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if err := rw.usable(); err != nil {
		return err
	}
	for _, argv := range cmds {
		rw.scratch = AppendCommand(rw.scratch[:0], argv...)
		if _, err := rw.bw.Write(rw.scratch); err != nil {
			rw.err = err
			return err
		}
	}
	if cap(rw.scratch) > 1<<20 {
		rw.scratch = nil
	}
	return nil
}

// Write appends already-encoded RESP commands to the new base.
func (rw *Rewrite) Write(p []byte) (int, error) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if err := rw.usable(); err != nil {
		return 0, err
	}
	n, err := rw.bw.Write(p)
	if err != nil {
		rw.err = err
	}
	return n, err
}

func (rw *Rewrite) usable() error {
	if rw.done {
		return ErrRewriteDone
	}
	if rw.err != nil {
		return rw.err
	}
	if err := rw.open(); err != nil {
		rw.err = err
		return err
	}
	return nil
}

// Finish completes the rewrite:
//
//  1. the new base is flushed, fdatasynced and closed;
//  2. it waits until the writer switched to the new incr file (which is
//     then durable and listed in the manifest);
//  3. the base is renamed to its final name and the directory fsynced;
//  4. a new manifest (new base, old base and older incr files as history,
//     the new incr files) replaces the old one atomically and durably;
//  5. history files are deleted (unless DisableAutoGC) and the manifest
//     rewritten without them.
//
// A crash at any point leaves a manifest that loads to the same dataset:
// before step 4 the old manifest (old base + old incrs + new incr), after
// it the new one; nothing is deleted before the new manifest is durable.
// On error the rewrite failed: the old files stay, the new incr (if
// created) stays listed after them, as in Redis.
func (rw *Rewrite) Finish() error {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if err := rw.usable(); err != nil {
		return rw.fail(err)
	}
	a := rw.a
	err := rw.bw.Flush()
	if err == nil {
		err = rw.f.Datasync()
	}
	if cerr := rw.f.Close(); err == nil {
		err = cerr
	}
	rw.f = nil
	if err != nil {
		return rw.fail(fmt.Errorf("aof: writing the new base: %w", err))
	}
	if err := rw.waitCut(); err != nil {
		return rw.fail(err)
	}
	// The base's seq is taken only now, so failed rewrites do not use up
	// base numbers (Redis names the base when the rewrite succeeds).
	ext := "aof"
	if rw.rdb {
		ext = "rdb"
	}
	a.mu.Lock()
	rw.baseSeq, rw.baseName = a.allocNameExt(TypeBase, ext)
	a.mu.Unlock()
	tmp := rw.tmpName
	if err := a.fs.Rename(a.path(tmp), a.path(rw.baseName)); err != nil {
		return rw.fail(fmt.Errorf("aof: renaming the new base: %w", err))
	}
	rw.tmpName = ""
	if err := a.fs.SyncDir(a.appendDir); err != nil {
		return rw.fail(fmt.Errorf("aof: renaming the new base: %w", err))
	}
	a.opts.logf(LevelNotice, "Successfully renamed the temporary AOF base file %s into %s", tmp, rw.baseName)

	a.manMu.Lock()
	m := a.man.Clone()
	var hist []ManifestEntry
	if m.Base != nil {
		b := *m.Base
		b.Type = TypeHistory
		hist = append(hist, b)
	}
	var incr []ManifestEntry
	for _, e := range m.Incr {
		if e.Seq < rw.cut.seq {
			e.Type = TypeHistory
			hist = append(hist, e)
		} else {
			incr = append(incr, e)
		}
	}
	m.Base = &ManifestEntry{Name: rw.baseName, Seq: rw.baseSeq, Type: TypeBase}
	m.History = append(m.History, hist...)
	m.Incr = incr
	if err := a.persistManifest(m); err != nil {
		a.manMu.Unlock()
		return rw.fail(err)
	}
	a.man = m
	a.statsMu.Lock()
	a.baseFileSize = rw.size
	total := rw.size
	for _, h := range hist {
		delete(a.incrSizes, h.Name)
	}
	for _, e := range incr {
		total += a.incrSizes[e.Name]
	}
	a.rewriteBaseSize = total
	a.rewrites++
	a.rewriteFailures = 0
	a.lastRewriteOK = true
	a.lastRewriteTime = a.opts.Now().Sub(rw.started)
	a.haveLastRewrite = true
	a.rewriteInProgress = false
	a.statsMu.Unlock()
	if !a.opts.DisableAutoGC {
		a.gcHistoryLocked()
	}
	a.manMu.Unlock()
	rw.end()
	return nil
}

// waitCut waits for the writer to switch incr files at the cut. The
// writer cannot get there while writes fail, and then the rewrite fails
// rather than wait for the disk.
func (rw *Rewrite) waitCut() error {
	a := rw.a
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-rw.cut.done:
			if rw.cut.err != nil {
				return fmt.Errorf("aof: opening the new incr file: %w", rw.cut.err)
			}
			return nil
		case <-a.stop:
			return ErrClosed
		case <-t.C:
			select {
			case <-rw.cut.done:
				continue
			default:
			}
			if a.hasFail.Load() || a.inWriteErr() {
				return fmt.Errorf("aof: the writer can't reach the rewrite's cut: %w", a.LastWriteError())
			}
		}
	}
}

// Abort gives up the rewrite: the temporary base is deleted; the incr file
// opened at the cut (if any) stays in use.
func (rw *Rewrite) Abort() {
	rw.abort(errors.New("aof: rewrite aborted"))
}

func (rw *Rewrite) abort(err error) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if rw.done {
		return
	}
	_ = rw.fail(err)
}

// fail records a failed rewrite. Called with rw.mu.
func (rw *Rewrite) fail(err error) error {
	if rw.done {
		return err
	}
	a := rw.a
	if rw.f != nil {
		_ = rw.f.Close()
		rw.f = nil
	}
	if rw.tmpName != "" {
		_ = a.fs.Remove(a.path(rw.tmpName))
	}
	a.statsMu.Lock()
	a.rewriteFailures++
	a.lastRewriteOK = false
	a.rewriteInProgress = false
	a.statsMu.Unlock()
	a.opts.logf(LevelWarning, "Background AOF rewrite terminated with error: %v", err)
	rw.end()
	return err
}

// end detaches the rewrite from the AOF. Called with rw.mu.
func (rw *Rewrite) end() {
	rw.done = true
	a := rw.a
	a.mu.Lock()
	if a.rewrite == rw {
		a.rewrite = nil
		a.rewriting.Store(false)
	}
	a.mu.Unlock()
}
