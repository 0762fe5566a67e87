package aof

import (
	"container/heap"
	"io"
	"os"
	"strconv"
	"time"
)

// The writer goroutine is the only one that writes the incr file. The
// engine appends encoded units to a.buf under a.mu (cheap: a copy) and gets
// back the logical offset after its bytes; the writer takes the whole
// buffer at once, so every unit appended while the previous write(2) or
// fdatasync ran goes out in the next single write (group commit). An offset
// is "published" when the bytes up to it are written (everysec, no) or
// written and fdatasynced (always); WaitWritten returns then.
//
// Logical offsets count every byte appended since Open, across incr files:
// they only order bytes, they are not file positions.

// cut is a pending switch to a new incr file at a logical offset (a rewrite
// started there).
type cut struct {
	off  uint64
	seq  int64
	name string
	done chan struct{} // closed when switched (err nil) or given up
	err  error
}

func (c *cut) finish(err error) {
	c.err = err
	close(c.done)
}

type fsyncJob struct {
	upto uint64
	done chan struct{}
	err  error
}

type waiter struct {
	off uint64
	ch  chan error
}

type waiterHeap []*waiter

func (h waiterHeap) Len() int           { return len(h) }
func (h waiterHeap) Less(i, j int) bool { return h[i].off < h[j].off }
func (h waiterHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *waiterHeap) Push(x any)        { *h = append(*h, x.(*waiter)) }
func (h *waiterHeap) Pop() any {
	old := *h
	w := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return w
}

// tsAnnotation is Redis's timestamp annotation prefix.
const tsAnnotation = "#TS:"

func appendTimestamp(dst []byte, unix int64) []byte {
	dst = append(dst, tsAnnotation...)
	dst = strconv.AppendInt(dst, unix, 10)
	return append(dst, '\r', '\n')
}

// Append queues already-encoded commands (a whole unit: SELECT when the
// database changes, MULTI/EXEC around multi-write units) and returns the
// logical offset just after them: the value to pass to WaitWritten before
// releasing the unit's replies. It copies p, never blocks on I/O and is
// meant to be called under the engine lock, so that the AOF order is the
// execution order. Appends before Start are written once Start runs;
// appends after Close are dropped (their offsets are never published).
func (a *AOF) Append(p []byte) uint64 {
	a.mu.Lock()
	if a.closing {
		a.appended += uint64(len(p))
		off := a.appended
		a.mu.Unlock()
		return off
	}
	if a.timestamps.Load() {
		if now := a.opts.Now().Unix(); now > a.lastTS {
			n := len(a.buf)
			a.buf = appendTimestamp(a.buf, now)
			a.appended += uint64(len(a.buf) - n)
			a.lastTS = now
		}
	}
	a.buf = append(a.buf, p...)
	a.appended += uint64(len(p))
	off := a.appended
	a.mu.Unlock()
	// No kick: the waiter writes inline (WaitWritten), which is cheaper
	// than waking the writer goroutine for every unit only to have it race
	// the waiter for the cycle. Bytes nobody waits for (active expiry's
	// DELs) go out at the writer's next tick.
	return off
}

// wakeWriter tells the writer goroutine there is work.
func (a *AOF) wakeWriter() {
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// Appended returns the logical offset after the last appended byte.
func (a *AOF) Appended() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.appended
}

// fsyncPolicy is the appendfsync policy in force.
func (a *AOF) fsyncPolicy() FsyncPolicy { return FsyncPolicy(a.fsync.Load()) }

// SetFsync changes appendfsync (CONFIG SET): units appended from now on
// are released under the new policy.
func (a *AOF) SetFsync(p FsyncPolicy) {
	a.fsync.Store(int32(p))
	a.wakeWriter()
}

// SetNoFsyncOnRewrite changes no-appendfsync-on-rewrite.
func (a *AOF) SetNoFsyncOnRewrite(v bool) { a.noFsyncOnRewrite.Store(v) }

// SetTimestamps changes aof-timestamp-enabled.
func (a *AOF) SetTimestamps(v bool) { a.timestamps.Store(v) }

// Written returns the published offset: every byte before it is written
// (everysec, no) or written and fdatasynced (always).
func (a *AOF) Written() uint64 { return a.published.Load() }

// WaitWritten blocks until the bytes before off are published, and returns
// nil then. It returns an error instead when they cannot be: a
// *FailStopError (always: the process must exit), a *WriteError (everysec
// and no: the write failed; the bytes stay queued and are retried every
// RetryInterval, in order, but the caller learns now; see the package
// documentation for what to reply) or ErrClosed.
func (a *AOF) WaitWritten(off uint64) error {
	if off <= a.published.Load() {
		return nil
	}
	a.writeInline()
	if off <= a.published.Load() {
		return nil
	}
	a.wakeWriter() // a cycle was running: make sure another follows
	a.wmu.Lock()
	if off <= a.published.Load() {
		a.wmu.Unlock()
		return nil
	}
	if err := a.waitErrLocked(); err != nil {
		a.wmu.Unlock()
		return err
	}
	w := &waiter{off: off, ch: make(chan error, 1)}
	heap.Push(&a.waiters, w)
	a.wmu.Unlock()
	return <-w.ch
}

// waitErrLocked is the error a new waiter gets at once, if any.
func (a *AOF) waitErrLocked() error {
	switch {
	case a.failStop != nil:
		return a.failStop
	case a.closed:
		return ErrClosed
	case a.writeErr != nil:
		return a.writeErr
	}
	return nil
}

// LastWriteError returns the "last write failed" state for everysec and no
// (a failed write, or a failed background fsync), the fail-stop error for
// always, or nil. While it is non-nil the engine refuses write commands
// with -MISCONF, as Redis does.
func (a *AOF) LastWriteError() error {
	a.wmu.Lock()
	defer a.wmu.Unlock()
	switch {
	case a.failStop != nil:
		return a.failStop
	case a.writeErr != nil:
		return a.writeErr
	case a.fsyncErr != nil:
		return a.fsyncErr
	}
	return nil
}

func (a *AOF) publish(off uint64) {
	a.wmu.Lock()
	if off > a.published.Load() {
		a.published.Store(off)
	}
	for len(a.waiters) > 0 && a.waiters[0].off <= off {
		heap.Pop(&a.waiters).(*waiter).ch <- nil
	}
	a.wmu.Unlock()
}

// releaseAllLocked fails every waiter (called with wmu).
func (a *AOF) releaseAllLocked(err error) {
	for len(a.waiters) > 0 {
		heap.Pop(&a.waiters).(*waiter).ch <- err
	}
}

// The error-state setters log after unlocking: a Log callback must be free
// to call back into the AOF (Stats, LastWriteError).

func (a *AOF) setFailStop(err error) {
	a.wmu.Lock()
	if a.failStop != nil {
		a.wmu.Unlock()
		return
	}
	a.failStop = &FailStopError{Err: err}
	a.hasFail.Store(true)
	a.releaseAllLocked(a.failStop)
	a.refreshHealthyLocked()
	a.wmu.Unlock()
	a.opts.logf(LevelWarning, "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting... (%v)", err)
}

func (a *AOF) setWriteErr(err error) {
	a.wmu.Lock()
	first := a.writeErr == nil
	a.writeErr = &WriteError{Op: "write", Err: err}
	a.releaseAllLocked(a.writeErr)
	a.refreshHealthyLocked()
	a.wmu.Unlock()
	if first {
		a.opts.logf(LevelWarning, "Error writing to the AOF file: %v", err)
	}
}

func (a *AOF) clearWriteErr() {
	a.wmu.Lock()
	was := a.writeErr != nil
	a.writeErr = nil
	a.refreshHealthyLocked()
	a.wmu.Unlock()
	if was {
		a.opts.logf(LevelWarning, "AOF write error looks solved, Redis can write again.")
	}
}

func (a *AOF) setFsyncErr(err error) {
	a.wmu.Lock()
	first := a.fsyncErr == nil
	a.fsyncErr = &WriteError{Op: "fsync", Err: err}
	a.refreshHealthyLocked()
	a.wmu.Unlock()
	if first {
		a.opts.logf(LevelWarning, "Error syncing the AOF file: %v", err)
	}
}

func (a *AOF) clearFsyncErr() {
	a.wmu.Lock()
	a.fsyncErr = nil
	a.refreshHealthyLocked()
	a.wmu.Unlock()
}

// refreshHealthyLocked mirrors the error states in an atomic (with wmu).
func (a *AOF) refreshHealthyLocked() {
	a.unhealthy.Store(a.failStop != nil || a.writeErr != nil || a.fsyncErr != nil)
}

// Healthy reports, without locking, whether LastWriteError is nil: the
// engine asks before every write command.
func (a *AOF) Healthy() bool { return !a.unhealthy.Load() }

func (a *AOF) inWriteErr() bool {
	a.wmu.Lock()
	defer a.wmu.Unlock()
	return a.writeErr != nil
}

// run is the writer goroutine.
func (a *AOF) run() {
	defer close(a.writerDone)
	tick := min(a.opts.FsyncInterval, a.opts.RetryInterval, 100*time.Millisecond)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-a.kick:
		case <-t.C:
		case <-a.stop:
			a.cycleMu.Lock()
			a.shutdown()
			a.writerExited = true
			a.cycleMu.Unlock()
			return
		}
		a.cycleMu.Lock()
		a.cycle(false)
		a.cycleMu.Unlock()
	}
}

// writeInline runs a writer cycle on the caller's goroutine when no cycle
// is running: a waiter then writes its own bytes (and those of everyone
// who appended meanwhile) instead of handing them to the writer goroutine
// and being woken again, two goroutine switches per batch that cost a
// fifth of the throughput of small writes. Redis writes the AOF from its
// event loop the same way. When a cycle is already running, the caller
// waits for it as before.
func (a *AOF) writeInline() {
	if !a.cycleMu.TryLock() {
		return
	}
	defer a.cycleMu.Unlock()
	if a.writerExited {
		return
	}
	a.mu.Lock()
	ok := a.started && !a.closing
	a.mu.Unlock()
	if ok {
		a.cycle(false)
	}
}

// cycle writes what is buffered (switching incr files at cuts), makes it
// durable per policy, publishes, and starts the everysec background fsync
// when due. final is the shutdown flush: no retry delay, no postponement.
func (a *AOF) cycle(final bool) {
	if a.hasFail.Load() {
		return
	}
	a.reapFsync(false)
	now := time.Now()
	if !final && a.inWriteErr() && now.Sub(a.lastRetry) < a.opts.RetryInterval {
		a.maybeFsync(now)
		return
	}
	if a.fsyncPolicy() == FsyncEverysec && !final && a.inflight != nil && a.pendingBytes() {
		if !a.postpone() {
			return
		}
	}

	a.mu.Lock()
	data, start := a.buf, a.bufStart
	if len(data) == 0 && (len(a.cuts) == 0 || a.cuts[0].off != start) {
		a.mu.Unlock()
		a.maybeFsync(now)
		return
	}
	a.buf, a.spare = a.spare[:0], nil
	cuts := append([]*cut(nil), a.cuts...)
	a.mu.Unlock()

	pos := 0
	for {
		for len(cuts) > 0 && cuts[0].off == start+uint64(pos) {
			if !a.switchIncr(cuts[0]) && a.hasFail.Load() {
				a.putBack(data[pos:], start+uint64(pos))
				return
			}
			cuts = cuts[1:]
		}
		if pos == len(data) {
			break
		}
		end := len(data)
		if len(cuts) > 0 && cuts[0].off < start+uint64(len(data)) {
			end = int(cuts[0].off - start)
		}
		n, err := a.writeAll(data[pos:end])
		pos += n
		a.written = start + uint64(pos)
		a.writtenA.Store(a.written)
		if err != nil {
			a.lastRetry = time.Now()
			a.putBack(data[pos:], start+uint64(pos))
			if a.fsyncPolicy() == FsyncAlways {
				a.setFailStop(err)
				return
			}
			a.publish(a.written)
			a.setWriteErr(err)
			return
		}
	}
	a.mu.Lock()
	a.bufStart = start + uint64(len(data))
	if cap(data) <= 4<<20 {
		a.spare = data[:0]
	}
	a.mu.Unlock()
	a.clearWriteErr()

	if a.fsyncPolicy() == FsyncAlways && !a.skipFsync() {
		if err := a.f.Datasync(); err != nil {
			a.setFailStop(err)
			return
		}
		a.synced = a.written
		a.syncedA.Store(a.synced)
	}
	a.publish(a.written)
	a.maybeFsync(time.Now())
}

func (a *AOF) pendingBytes() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.buf) > 0
}

// postpone mirrors Redis's everysec rule: while a background fsync runs, a
// write(2) to the same file may block behind it, so the write waits for
// the fsync, for at most PostponeLimit since the postponement began; then
// it goes ahead anyway and counts aof_delayed_fsync. Returns false when the
// writer must stop (closing).
func (a *AOF) postpone() bool {
	if a.postponedStart.IsZero() {
		a.postponedStart = time.Now()
	}
	wait := a.opts.PostponeLimit - time.Since(a.postponedStart)
	if wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-a.inflight.done:
		case <-t.C:
		case <-a.stop:
			t.Stop()
			return false
		}
		t.Stop()
	}
	if !a.reapFsync(false) {
		a.delayedFsync.Add(1)
		a.opts.logf(LevelNotice, "Asynchronous AOF fsync is taking too long (disk is busy?). "+
			"Writing the AOF buffer without waiting for fsync to complete, this may slow down Redis.")
	}
	a.postponedStart = time.Time{}
	return true
}

// putBack returns unwritten bytes to the front of the buffer, ahead of
// whatever was appended meanwhile.
func (a *AOF) putBack(rest []byte, start uint64) {
	a.mu.Lock()
	nb := make([]byte, 0, len(rest)+len(a.buf))
	nb = append(nb, rest...)
	nb = append(nb, a.buf...)
	a.buf, a.bufStart = nb, start
	a.mu.Unlock()
}

// writeAll writes p to the incr file. On a short write it cuts the file
// back to where it was, as Redis does, so the file keeps ending on a
// command boundary and the retry rewrites the same bytes; if the cut fails
// the partial bytes stay and the retry continues after them (n says how
// many stayed).
func (a *AOF) writeAll(p []byte) (int, error) {
	n, err := a.f.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	a.fSize += int64(n)
	if n > 0 {
		a.statsMu.Lock()
		a.incrSizes[a.fName] += int64(n)
		a.statsMu.Unlock()
	}
	if err != nil && n > 0 {
		if terr := a.f.Truncate(a.fSize - int64(n)); terr == nil {
			a.fSize -= int64(n)
			a.statsMu.Lock()
			a.incrSizes[a.fName] -= int64(n)
			a.statsMu.Unlock()
			n = 0
		} else {
			a.opts.logf(LevelWarning, "Could not remove short write from the append-only file. "+
				"The file may stay inconsistent until the next write: %v", terr)
		}
	}
	return n, err
}

func (a *AOF) skipFsync() bool { return a.noFsyncOnRewrite.Load() && a.rewriting.Load() }

// maybeFsync starts the everysec background fsync when one is due.
func (a *AOF) maybeFsync(now time.Time) {
	if a.fsyncPolicy() != FsyncEverysec || a.inflight != nil || a.synced >= a.written ||
		now.Sub(a.lastFsync) < a.opts.FsyncInterval || a.skipFsync() {
		return
	}
	job := &fsyncJob{upto: a.written, done: make(chan struct{})}
	f := a.f
	a.inflight, a.lastFsync = job, now
	a.pendingFsync.Add(1)
	go func() {
		job.err = f.Datasync()
		a.pendingFsync.Add(-1)
		close(job.done)
	}()
}

// reapFsync collects a finished background fsync (waiting for it when
// block) and reports whether none is running any more.
func (a *AOF) reapFsync(block bool) bool {
	job := a.inflight
	if job == nil {
		return true
	}
	if block {
		<-job.done
	} else {
		select {
		case <-job.done:
		default:
			return false
		}
	}
	a.inflight = nil
	if job.err != nil {
		a.setFsyncErr(job.err)
	} else {
		a.synced = max(a.synced, job.upto)
		a.syncedA.Store(a.synced)
		a.clearFsyncErr()
	}
	return true
}

// switchIncr moves writing to the cut's new incr file, with every byte
// before the cut already written to the current one. The old file is
// fsynced first whatever the policy: once bytes land in the next file, a
// torn old file could no longer be repaired (only the last file may be
// truncated on load). The new file is created, made a durable name, and
// recorded in a durably replaced manifest before a byte goes into it. On
// failure writing continues in the old file and the cut reports the error
// (the rewrite that asked for it fails). Returns whether it switched.
func (a *AOF) switchIncr(c *cut) bool {
	a.reapFsync(true)
	if err := a.f.Datasync(); err != nil {
		if a.fsyncPolicy() == FsyncAlways {
			a.setFailStop(err)
			a.dropCut(c, err)
			return false
		}
		a.setFsyncErr(err)
	} else {
		a.synced = a.written
		a.syncedA.Store(a.synced)
	}
	f, err := a.fs.OpenFile(a.path(c.name), os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
	if err == nil {
		err = a.fs.SyncDir(a.appendDir)
		if err == nil {
			a.manMu.Lock()
			m := a.man.Clone()
			m.Incr = append(m.Incr, ManifestEntry{Name: c.name, Seq: c.seq, Type: TypeIncr})
			err = a.persistManifest(m)
			if err == nil {
				a.man = m
			}
			a.manMu.Unlock()
		}
		if err != nil {
			f.Close()
		}
	}
	if err != nil {
		a.opts.logf(LevelWarning, "Can't open new incr AOF %s: %v", c.name, err)
		a.dropCut(c, err)
		return false
	}
	old := a.f
	a.f, a.fName, a.fSize = f, c.name, 0
	_ = old.Close()
	a.statsMu.Lock()
	a.incrSizes[c.name] = 0
	a.statsMu.Unlock()
	a.opts.logf(LevelNotice, "Creating AOF incr file %s on background rewrite", c.name)
	a.dropCut(c, nil)
	return true
}

func (a *AOF) dropCut(c *cut, err error) {
	a.mu.Lock()
	for i, x := range a.cuts {
		if x == c {
			a.cuts = append(a.cuts[:i], a.cuts[i+1:]...)
			break
		}
	}
	a.mu.Unlock()
	c.finish(err)
}

// shutdown is the writer's last act: pending switches are dropped (the
// rewrite was aborted), everything buffered is written to the current file
// and fsynced whatever the policy, as Redis's shutdown does.
func (a *AOF) shutdown() {
	a.mu.Lock()
	cuts := a.cuts
	a.cuts = nil
	a.mu.Unlock()
	for _, c := range cuts {
		c.finish(ErrClosed)
	}
	a.reapFsync(true)
	if a.hasFail.Load() {
		a.finalErr = a.LastWriteError()
		_ = a.f.Close()
		return
	}
	a.cycle(true)
	if a.hasFail.Load() {
		a.finalErr = a.LastWriteError()
	} else if a.pendingBytes() {
		a.finalErr = a.LastWriteError()
	}
	a.reapFsync(true)
	if err := a.f.Sync(); err != nil && a.finalErr == nil {
		a.finalErr = &WriteError{Op: "fsync", Err: err}
	} else if err == nil {
		a.synced = a.written
		a.syncedA.Store(a.synced)
		a.publish(a.written)
	}
	if err := a.f.Close(); err != nil && a.finalErr == nil {
		a.finalErr = err
	}
}

// Close flushes everything appended, fsyncs it and closes the files (the
// SHUTDOWN / SIGTERM path: Redis's "Calling fsync() on the AOF file."). A
// rewrite in progress is aborted. Waiters whose bytes could not be written
// get ErrClosed (or the fail-stop error). The error says whether every
// appended byte reached the disk.
func (a *AOF) Close() error {
	a.mu.Lock()
	if a.closing {
		a.mu.Unlock()
		return ErrClosed
	}
	a.closing = true
	started, rw := a.started, a.rewrite
	a.mu.Unlock()
	if rw != nil {
		rw.abort(ErrClosed)
	}
	var err error
	if started {
		close(a.stop)
		<-a.writerDone
		err = a.finalErr
	}
	if a.plan != nil {
		_ = a.plan.Close()
	}
	a.wmu.Lock()
	a.closed = true
	if a.failStop != nil {
		a.releaseAllLocked(a.failStop)
	} else {
		a.releaseAllLocked(ErrClosed)
	}
	a.wmu.Unlock()
	return err
}
