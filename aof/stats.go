package aof

import "time"

// Stats are the AOF's fields of INFO persistence. The engine adds what it
// owns (aof_enabled, aof_rewrite_scheduled / aof_pending_rewrite,
// aof_last_cow_size: 0 without fork).
type Stats struct {
	// CurrentSize is aof_current_size: the base plus every incr file.
	CurrentSize int64
	// BaseSize is aof_base_size: CurrentSize when the AOF was loaded or
	// last rewritten, the reference of auto-aof-rewrite-percentage.
	BaseSize int64
	// BufferLength is aof_buffer_length: bytes appended, not yet written.
	BufferLength int64
	// PendingBioFsync is aof_pending_bio_fsync: background fsyncs running.
	PendingBioFsync int
	// DelayedFsync is aof_delayed_fsync: writes that stopped waiting for a
	// slow background fsync (everysec).
	DelayedFsync int64
	// LastWriteErr backs aof_last_write_status: nil is "ok".
	LastWriteErr error
	// RewriteInProgress is aof_rewrite_in_progress.
	RewriteInProgress bool
	// LastRewriteOK is aof_last_bgrewrite_status.
	LastRewriteOK bool
	// Rewrites is aof_rewrites; RewritesConsecutiveFailures is
	// aof_rewrites_consecutive_failures.
	Rewrites                    int64
	RewritesConsecutiveFailures int64
	// LastRewriteTimeSec is aof_last_rewrite_time_sec (-1: none yet);
	// CurrentRewriteTimeSec is aof_current_rewrite_time_sec (-1: none
	// running).
	LastRewriteTimeSec    int64
	CurrentRewriteTimeSec int64
	// Appended, Written and Synced are logical offsets: appended, written
	// with write(2), known fdatasynced.
	Appended, Written, Synced uint64
}

// Stats returns a snapshot of the statistics.
func (a *AOF) Stats() Stats {
	a.mu.Lock()
	appended := a.appended
	a.mu.Unlock()
	s := Stats{
		LastWriteErr:    a.LastWriteError(),
		PendingBioFsync: int(a.pendingFsync.Load()),
		DelayedFsync:    a.delayedFsync.Load(),
		Appended:        appended,
		Written:         a.writtenA.Load(),
		Synced:          a.syncedA.Load(),
	}
	s.BufferLength = int64(appended - s.Written)
	a.statsMu.Lock()
	defer a.statsMu.Unlock()
	s.CurrentSize = a.baseFileSize
	for _, n := range a.incrSizes {
		s.CurrentSize += n
	}
	s.BaseSize = a.rewriteBaseSize
	s.RewriteInProgress = a.rewriteInProgress
	s.LastRewriteOK = a.lastRewriteOK
	s.Rewrites = a.rewrites
	s.RewritesConsecutiveFailures = a.rewriteFailures
	s.LastRewriteTimeSec = -1
	if a.haveLastRewrite {
		s.LastRewriteTimeSec = int64(a.lastRewriteTime / time.Second)
	}
	s.CurrentRewriteTimeSec = -1
	if a.rewriteInProgress {
		s.CurrentRewriteTimeSec = int64(a.opts.Now().Sub(a.rewriteStartedAt) / time.Second)
	}
	return s
}

// AutoRewriteDue applies Redis's automatic rewrite rule: with
// auto-aof-rewrite-percentage p > 0, rewrite when the AOF is larger than
// auto-aof-rewrite-min-size and grew by at least p percent over BaseSize (a
// zero BaseSize counts as 1 byte). The caller also checks that no rewrite
// is running.
func (s Stats) AutoRewriteDue(percentage int, minSize int64) bool {
	if percentage <= 0 || s.CurrentSize <= minSize {
		return false
	}
	base := max(s.BaseSize, 1)
	growth := s.CurrentSize*100/base - 100
	return growth >= int64(percentage)
}
