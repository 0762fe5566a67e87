// Package aof is Celerity's append-only file: Redis 7.0's multi-part layout
// (appendonlydir/, a manifest, one base and incr files), a strict reader with
// torn-tail recovery, a writer goroutine with the three appendfsync policies
// and group commit, and rewrites. It knows argv ([][]byte commands) and RESP
// bytes, not commands, keyspaces or the engine; it imports nothing of ours
// but its vfs sub-package. Standard library only.
//
// # Files (as Redis 7.0.15 writes them; checked against the real server)
//
//	<dir>/<appenddirname>/                   appendonlydir by default
//	    <appendfilename>.<seq>.base.aof      the base in RESP, or
//	    <appendfilename>.<seq>.base.rdb      an RDB (aof-use-rdb-preamble yes)
//	    <appendfilename>.<seq>.incr.aof      commands after the base, seq order
//	    <appendfilename>.manifest            "file <name> seq <n> type <b|h|i>\n" per file
//
// A new AOF has base seq 1 and incr seq 1, both empty. A rewrite opens incr
// seq+1 at once and later renames its new base to base seq+1; the old base
// and incr files become history and are deleted. A pre-7.0
// <dir>/appendonly.aof is moved into the directory under its own name and
// listed as the base (seq 1). A file starting with the "REDIS" magic (a
// .base.rdb written with aof-use-rdb-preamble, or a pre-7.0 single file
// whose rewrite wrote one) is read with package aof/rdb and its keys are
// yielded as the commands that recreate them; the commands after the RDB
// follow. Manifest grammar and errors: ParseManifest.
//
// # Life cycle
//
//	a, plan, err := aof.Open(dir, opts)     // manifest, upgrade, plan; no writes
//	for plan.Next() { apply(plan.Command().Argv) }
//	if err := plan.Err(); err != nil { ... } // refuse to start: file and offset inside
//	a.Start()                                // truncate torn tail, create files, start writer
//	off := a.Append(encodedUnit)             // under the engine lock
//	err := a.WaitWritten(off)                // outside it, before releasing replies
//	a.Close()                                // flush + fsync: SHUTDOWN / SIGTERM
//
// # API at a glance
//
//   - Open(dir, Options) (*AOF, *LoadPlan, error); LoadPlan.Next/Command/Err,
//     Files, Truncation (the torn tail Start will cut), Reports.
//   - AOF.Start; Append(unit) uint64; Appended; Written; WaitWritten(off);
//     LastWriteError (non-nil → -MISCONF); Stats (INFO persistence) and
//     Stats.AutoRewriteDue(percentage, minSize); Manifest; Close.
//   - AOF.StartRewrite() *Rewrite; Rewrite.WriteBase(argv...), Write(resp),
//     Finish, Abort.
//   - Building blocks, also used by cmd/celerity-check-aof: FileReader (one
//     file, strict, with a FileReport of how it ends), ParseManifest /
//     Manifest.Format, AppendCommand (RESP encoding of an argv).
//   - vfs.FS / vfs.File (the file layer), vfs.OS(), vfs.MemFS (crash model
//     and fault injection for tests, ours and the engine's).
//
// # Loading
//
// The plan replays the base then each incr file. The reader is strict: each
// command is "*<n>\r\n" then n times "$<len>\r\n<bytes>\r\n"; "#..." lines
// between commands are annotations (aof-timestamp-enabled) and skipped. How
// a file ends is classified (DamageKind): a torn tail (the file ends inside a
// command, inside a MULTI block, in a zero-filled region, or inside an
// annotation) or corruption (an impossible byte before the end). The rules
// are Redis's: a torn tail is acceptable only in the last file and only with
// aof-load-truncated yes (the default); then Start cuts the file back to the
// end of its last complete command, reverting an unterminated MULTI
// entirely; corruption anywhere, or a torn non-last file, fails the load
// with the file and offset. Deliberate differences from Redis 7.0.15, all
// on the safe side:
//
//   - a torn command inside a MULTI cuts at the MULTI (Redis cuts inside
//     the transaction and leaves a dangling MULTI that swallows the commands
//     appended after it at the next start);
//   - a zero-filled tail (power loss on a file system that extended the
//     file before its data reached the disk) is a torn tail; Redis refuses
//     it as a bad format;
//   - a file ending inside a "#" annotation is trimmed even with
//     aof-load-truncated no (no command is lost; appending after it would
//     glue the next command to the annotation);
//   - "*0", a bulk not followed by CRLF and a non-numeric length are
//     corruption (Redis's loader skips the CRLF unchecked, and its checker
//     accepts "*0");
//   - a non-last file is never truncated (Redis truncates it, then fails);
//   - a stale incr file is truncated when a new AOF is created (Redis
//     appends to it and resurrects it at the next start); a file name listed
//     twice in a manifest is refused; a new file never takes a name the
//     manifest lists (Redis can create an incr named like a history file and
//     then delete it as history).
//
// # Writing and the durability promise
//
// The engine encodes each unit (SELECT on database change, MULTI/EXEC
// around multi-write units) and calls Append under its lock, so the file
// order is the execution order. Append copies the bytes into a buffer and
// returns the logical offset after them. One writer goroutine drains the
// buffer: everything appended while the previous write ran goes out in one
// write(2) (group commit), and the offset is then published:
//
//   - always: after write(2) and fdatasync(2). A reply released after
//     WaitWritten survives a process crash and an OS crash or power loss.
//   - everysec: after write(2); a background fdatasync runs at most once per
//     FsyncInterval (1 s). A released reply survives kill -9 (the page cache
//     survives); an OS crash loses at most about 1 s (2 s when fsync lags:
//     while a background fsync runs, writes wait for it up to PostponeLimit,
//     then go ahead and count aof_delayed_fsync, as Redis does).
//   - no: after write(2); the kernel decides when data reaches the disk.
//     Survives kill -9 only.
//
// The caller's part: after Append, wait with WaitWritten(off) before any
// reply of that unit (or of a later unit, reads included) is written to a
// socket. Waiting once for the highest offset of a batch covers the whole
// batch. This ordering, not the fsync, is what makes kill -9 lose no
// acknowledged write.
//
// Failures. always: a failed or short write(2) or a failed fdatasync is
// fatal; every waiter and later call gets a *FailStopError and the process
// must exit (replies already promised durability; Redis exits too).
// everysec/no: a failed write is cut back to the last complete command
// (ftruncate), the bytes stay queued and are retried every RetryInterval;
// meanwhile LastWriteError is non-nil (the engine answers write commands
// with -MISCONF, as Redis does) and waiters whose bytes are not written get
// the *WriteError at once. Redis sends the replies of such units anyway;
// doing so gives up the kill -9 guarantee for them only, and read replies
// may be sent the same way so that reads keep working during a disk-full
// period. A failed background fsync also shows in LastWriteError until the
// next successful fsync.
//
// # Rewrites
//
// StartRewrite (under the engine lock, at the snapshot instant) cuts the
// stream: the writer switches to a new incr file at that offset, after
// fsyncing the old one, creating the new one and durably recording it in
// the manifest, before writing a byte into it. The caller then writes the
// dataset as of the cut with Rewrite.WriteBase in batches, and Finish
// installs the new base and manifest atomically (temp file, fsync, rename,
// directory fsync) before deleting anything. At every crash point the
// manifest on disk loads to the same dataset: nothing lost, nothing doubled.
// See Rewrite.
//
// # Durability of names
//
// Every created or renamed file is followed by an fsync of its directory
// before anything depends on it (a manifest naming it, a byte written into
// it), and the appendonlydir's own entry is fsynced in dir when created. The
// vfs.FS interface makes these points explicit so that vfs.MemFS can drop
// whatever a crash would drop and the tests can check each step.
//
// # Concurrency
//
// Append, Appended, Written, WaitWritten, LastWriteError, Stats and
// StartRewrite are safe from any goroutine; a LoadPlan and a Rewrite belong
// to one goroutine. Lock order inside the package: manMu, mu, wmu, statsMu.
package aof
