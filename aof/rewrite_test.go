package aof_test

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/aof"
	"github.com/celerity/celerity/aof/vfs"
)

// engine emulates the caller: an engine lock ordering appends, a model of
// the dataset (a list q of ids and a counter), and snapshots.
type engine struct {
	t  *testing.T
	a  *aof.AOF
	mu sync.Mutex
	q  []string
	n  int
}

// push appends one unit (RPUSH q id; INCR n) and returns its offset.
func (e *engine) push() uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	id := strconv.Itoa(len(e.q))
	e.q = append(e.q, id)
	e.n++
	return e.a.Append(encAll([]string{"MULTI"}, []string{"RPUSH", "q", id}, []string{"INCR", "n"}, []string{"EXEC"}))
}

// startRewrite cuts under the engine lock and copies the dataset, as a
// copy-on-write snapshot would.
func (e *engine) startRewrite() (*aof.Rewrite, []string, int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	rw, err := e.a.StartRewrite()
	require.NoError(e.t, err)
	return rw, append([]string(nil), e.q...), e.n
}

// writeBase emits the snapshot in batches of 64 items, as Redis's rewrite.
func writeBase(t *testing.T, rw *aof.Rewrite, q []string, n int) {
	t.Helper()
	require.NoError(t, rw.WriteBase([][]byte{[]byte("SELECT"), []byte("0")}))
	for i := 0; i < len(q); i += 64 {
		argv := [][]byte{[]byte("RPUSH"), []byte("q")}
		for _, id := range q[i:min(i+64, len(q))] {
			argv = append(argv, []byte(id))
		}
		require.NoError(t, rw.WriteBase(argv))
	}
	if n > 0 {
		require.NoError(t, rw.WriteBase([][]byte{[]byte("SET"), []byte("n"), []byte(strconv.Itoa(n))}))
	}
}

func (e *engine) want(upto int) string {
	m := newModel()
	d := m.cur()
	if upto > 0 {
		d["q"] = append([]string(nil), e.q[:upto]...)
		d["n"] = strconv.Itoa(upto)
	}
	return m.dump()
}

func replayDump(t *testing.T, cmds [][]string) string {
	return newModel().applyAll(t, cmds).dump()
}

func TestRewriteBasic(t *testing.T) {
	m := memDir(t)
	var logs logSink
	opts := fastOpts(m, aof.FsyncAlways)
	opts.Log = logs.log
	a, _ := openStart(t, "/data", opts)
	e := &engine{t: t, a: a}
	for i := 0; i < 100; i++ {
		e.push()
	}
	rw, q, n := e.startRewrite()
	assert.Equal(t, "appendonly.aof.2.incr.aof", rw.IncrName())
	for i := 0; i < 10; i++ {
		require.NoError(t, a.WaitWritten(e.push()))
	}
	assert.True(t, a.Stats().RewriteInProgress)
	writeBase(t, rw, q, n)
	require.NoError(t, rw.Finish())
	require.ErrorIs(t, rw.Finish(), aof.ErrRewriteDone)
	s := a.Stats()
	assert.False(t, s.RewriteInProgress)
	assert.EqualValues(t, 1, s.Rewrites)
	assert.EqualValues(t, s.CurrentSize, s.BaseSize)
	assert.Equal(t, "file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n", mustRead(t, m, manifest))
	assert.Equal(t, []string{"appendonly.aof.2.base.aof", "appendonly.aof.2.incr.aof", "appendonly.aof.manifest"}, m.List(ad))
	for _, line := range []string{
		"Creating AOF incr file appendonly.aof.2.incr.aof on background rewrite",
		"Successfully renamed the temporary AOF base file temp-rewriteaof-bg-4242-2.aof into appendonly.aof.2.base.aof",
		"Removing the history file appendonly.aof.1.base.aof in the background",
		"Removing the history file appendonly.aof.1.incr.aof in the background",
	} {
		assert.Contains(t, logs.text(), line)
	}
	require.NoError(t, a.Close())
	m.Crash()
	a, cmds := openStart(t, "/data", opts)
	assert.Equal(t, e.want(110), replayDump(t, cmds))
	// Sequence numbers continue after a restart.
	rw, err := a.StartRewrite()
	require.NoError(t, err)
	assert.Equal(t, "appendonly.aof.3.incr.aof", rw.IncrName())
	rw.Abort()
	require.NoError(t, a.Close())
}

// Units appended concurrently with rewrites end up exactly once across old
// and new files.
func TestRewriteConcurrentAppendsExactlyOnce(t *testing.T) {
	for _, policy := range []aof.FsyncPolicy{aof.FsyncAlways, aof.FsyncEverysec, aof.FsyncNo} {
		t.Run(policy.String(), func(t *testing.T) {
			m := memDir(t)
			opts := fastOpts(m, policy)
			a, _ := openStart(t, "/data", opts)
			e := &engine{t: t, a: a}
			var stop atomic.Bool
			var wg sync.WaitGroup
			for w := 0; w < 4; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for !stop.Load() {
						require.NoError(t, a.WaitWritten(e.push()))
					}
				}()
			}
			for r := 0; r < 3; r++ {
				time.Sleep(10 * time.Millisecond)
				rw, q, n := e.startRewrite()
				writeBase(t, rw, q, n)
				require.NoError(t, rw.Finish())
			}
			time.Sleep(10 * time.Millisecond)
			stop.Store(true)
			wg.Wait()
			require.NoError(t, a.Close())
			assert.EqualValues(t, 3, a.Stats().Rewrites)
			assert.Equal(t, "file appendonly.aof.4.base.aof seq 4 type b\nfile appendonly.aof.4.incr.aof seq 4 type i\n", mustRead(t, m, manifest))
			cmds, _, err := load(t, "/data", opts)
			require.NoError(t, err)
			require.Greater(t, len(e.q), 50)
			require.Equal(t, e.want(len(e.q)), replayDump(t, cmds))
		})
	}
}

// A power loss (or a process crash) at every file-system step of Finish
// leaves an AOF that loads to exactly the appended dataset.
func TestRewriteFinishCrashPoints(t *testing.T) {
	for _, power := range []bool{true, false} {
		steps := 0
		for n := 0; ; n++ {
			m := memDir(t)
			opts := fastOpts(m, aof.FsyncAlways)
			a, _ := openStart(t, "/data", opts)
			e := &engine{t: t, a: a}
			for i := 0; i < 70; i++ {
				e.push()
			}
			rw, q, cnt := e.startRewrite()
			for i := 0; i < 5; i++ {
				require.NoError(t, a.WaitWritten(e.push())) // the writer switched
			}
			writeBase(t, rw, q, cnt)
			m.CrashAfter(n)
			err := rw.Finish()
			_ = a.Close()
			if power {
				m.Crash()
			} else {
				m.Revive()
			}
			cmds, _, lerr := load(t, "/data", opts)
			require.NoError(t, lerr, "crash after %d steps (power=%v)", n, power)
			require.Equal(t, e.want(75), replayDump(t, cmds), "crash after %d steps (power=%v)", n, power)
			// And the AOF keeps working after the restart.
			a, _ = openStart(t, "/data", opts)
			require.NoError(t, a.WaitWritten(a.Append(enc("SET", "after", "1"))))
			require.NoError(t, a.Close())
			if err == nil {
				steps = n
				break
			}
			require.Less(t, n, 200)
		}
		assert.Greater(t, steps, 8, "Finish has fsync, rename, manifest and GC steps")
	}
}

// A crash at every step of the writer's switch to the new incr file: acked
// units are all there, the rest is a clean prefix.
func TestRewriteSwitchCrashPoints(t *testing.T) {
	for n := 0; n < 30; n++ {
		m := memDir(t)
		opts := fastOpts(m, aof.FsyncAlways)
		a, _ := openStart(t, "/data", opts)
		e := &engine{t: t, a: a}
		for i := 0; i < 10; i++ {
			e.push()
		}
		require.NoError(t, a.WaitWritten(a.Appended()))
		m.CrashAfter(n)
		rw, _, _ := e.startRewrite()
		acked := 10
		for i := 0; i < 5; i++ {
			if a.WaitWritten(e.push()) == nil && acked == 10+i {
				acked++
			}
		}
		rw.Abort()
		_ = a.Close()
		m.Crash()
		cmds, _, err := load(t, "/data", opts)
		require.NoError(t, err, "crash after %d", n)
		got := newModel().applyAll(t, cmds)
		q, _ := got.cur()["q"].([]string)
		require.GreaterOrEqual(t, len(q), acked, "crash after %d", n)
		require.Equal(t, e.want(len(q)), got.dump(), "crash after %d", n)
	}
}

// Failed rewrites leave their incr files listed after the old ones (as in
// Redis); a later rewrite folds them all into history.
func TestRewriteFailuresKeepIncrFiles(t *testing.T) {
	m := memDir(t)
	opts := fastOpts(m, aof.FsyncAlways)
	a, _ := openStart(t, "/data", opts)
	e := &engine{t: t, a: a}
	e.push()
	rw, _, _ := e.startRewrite()
	require.NoError(t, a.WaitWritten(e.push()))
	rw.Abort()
	assert.False(t, a.Stats().LastRewriteOK)
	assert.EqualValues(t, 1, a.Stats().RewritesConsecutiveFailures)

	// A rename failure fails the rewrite too; nothing is lost.
	rw, q, n := e.startRewrite()
	require.NoError(t, a.WaitWritten(e.push()))
	writeBase(t, rw, q, n)
	remove := m.Inject(vfs.Fault{Op: vfs.OpRename, Path: "temp-rewriteaof", Err: syscall.EIO})
	require.ErrorIs(t, rw.Finish(), syscall.EIO)
	remove()
	assert.EqualValues(t, 2, a.Stats().RewritesConsecutiveFailures)
	assert.Equal(t, "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"+
		"file appendonly.aof.2.incr.aof seq 2 type i\nfile appendonly.aof.3.incr.aof seq 3 type i\n", mustRead(t, m, manifest))
	cmds, _, err := load(t, "/data", opts)
	require.NoError(t, err)
	require.Equal(t, e.want(3), replayDump(t, cmds))
	assert.NotContains(t, m.List(ad), "temp-rewriteaof-bg-4242-3.aof")

	rw, q, n = e.startRewrite()
	require.NoError(t, a.WaitWritten(e.push()))
	writeBase(t, rw, q, n)
	require.NoError(t, rw.Finish())
	assert.EqualValues(t, 0, a.Stats().RewritesConsecutiveFailures)
	// Base seq 2 went to the rewrite whose rename failed: a name handed
	// out once is never reused.
	assert.Equal(t, "file appendonly.aof.3.base.aof seq 3 type b\nfile appendonly.aof.4.incr.aof seq 4 type i\n", mustRead(t, m, manifest))
	require.NoError(t, a.Close())
	cmds, _, err = load(t, "/data", opts)
	require.NoError(t, err)
	require.Equal(t, e.want(4), replayDump(t, cmds))
}

// If the new incr file cannot be created, writes continue in the current
// one and the rewrite fails.
func TestRewriteCannotOpenIncr(t *testing.T) {
	m := memDir(t)
	opts := fastOpts(m, aof.FsyncEverysec)
	a, _ := openStart(t, "/data", opts)
	e := &engine{t: t, a: a}
	e.push()
	remove := m.Inject(vfs.Fault{Op: vfs.OpOpen, Path: "aof.2.incr.aof", Err: syscall.ENOSPC})
	rw, q, n := e.startRewrite()
	require.NoError(t, a.WaitWritten(e.push()))
	writeBase(t, rw, q, n)
	require.ErrorIs(t, rw.Finish(), syscall.ENOSPC)
	remove()
	require.NoError(t, a.WaitWritten(e.push()))
	require.NoError(t, a.Close())
	assert.Equal(t, "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n", mustRead(t, m, manifest))
	cmds, _, err := load(t, "/data", opts)
	require.NoError(t, err)
	require.Equal(t, e.want(3), replayDump(t, cmds))
}

func TestRewriteLifecycleErrors(t *testing.T) {
	m := memDir(t)
	a, plan, err := aof.Open("/data", fastOpts(m, aof.FsyncNo))
	require.NoError(t, err)
	_, err = a.StartRewrite()
	require.ErrorIs(t, err, aof.ErrNotStarted)
	drain(t, plan)
	require.NoError(t, a.Start())
	rw, err := a.StartRewrite()
	require.NoError(t, err)
	_, err = a.StartRewrite()
	require.ErrorIs(t, err, aof.ErrRewriteInProgress)
	require.NoError(t, rw.WriteBase([][]byte{[]byte("SET"), []byte("a"), []byte("1")}))
	// Close aborts the rewrite and removes its temporary file.
	require.NoError(t, a.Close())
	require.ErrorIs(t, rw.Finish(), aof.ErrRewriteDone)
	for _, name := range m.List(ad) {
		assert.NotContains(t, name, "temp-")
	}
	_, err = a.StartRewrite()
	require.ErrorIs(t, err, aof.ErrClosed)
}

func TestRewriteDisableAutoGC(t *testing.T) {
	m := memDir(t)
	opts := fastOpts(m, aof.FsyncNo)
	opts.DisableAutoGC = true
	a, _ := openStart(t, "/data", opts)
	e := &engine{t: t, a: a}
	e.push()
	rw, q, n := e.startRewrite()
	writeBase(t, rw, q, n)
	require.NoError(t, rw.Finish())
	require.NoError(t, a.Close())
	assert.Equal(t, "file appendonly.aof.2.base.aof seq 2 type b\n"+
		"file appendonly.aof.1.base.aof seq 1 type h\nfile appendonly.aof.1.incr.aof seq 1 type h\n"+
		"file appendonly.aof.2.incr.aof seq 2 type i\n", mustRead(t, m, manifest))
	assert.Len(t, m.List(ad), 5)
	cmds, _, err := load(t, "/data", opts)
	require.NoError(t, err)
	require.Equal(t, e.want(1), replayDump(t, cmds))
}

// no-appendfsync-on-rewrite: no fsync of the incr file while a rewrite
// runs; aof-rewrite-incremental-fsync: the base is fsynced every 4 MB.
func TestRewriteFsyncOptions(t *testing.T) {
	m := memDir(t)
	opts := fastOpts(m, aof.FsyncAlways)
	opts.NoFsyncOnRewrite = true
	var incrSyncs, baseSyncs atomic.Int32
	m.SetHook(func(op vfs.Op, path string) {
		if op == vfs.OpSync && path == ad+"appendonly.aof.2.incr.aof" {
			incrSyncs.Add(1)
		}
		if op == vfs.OpSync && path == ad+"temp-rewriteaof-bg-4242-2.aof" {
			baseSyncs.Add(1)
		}
	})
	a, _ := openStart(t, "/data", opts)
	rw, err := a.StartRewrite()
	require.NoError(t, err)
	for i := 0; i < 5; i++ {
		require.NoError(t, a.WaitWritten(a.Append(enc("SET", "k", fmt.Sprint(i)))))
	}
	assert.EqualValues(t, 0, incrSyncs.Load())
	big := make([]byte, 1<<20)
	for i := 0; i < 9; i++ {
		require.NoError(t, rw.WriteBase([][]byte{[]byte("SET"), []byte(fmt.Sprint("big", i)), big}))
	}
	assert.EqualValues(t, 2, baseSyncs.Load())
	require.NoError(t, rw.Finish())
	assert.EqualValues(t, 3, baseSyncs.Load())
	require.NoError(t, a.WaitWritten(a.Append(enc("SET", "k", "x"))))
	assert.EqualValues(t, 1, incrSyncs.Load())
	require.NoError(t, a.Close())
}

func TestRewriteWriteEncoded(t *testing.T) {
	m := memDir(t)
	opts := fastOpts(m, aof.FsyncNo)
	a, _ := openStart(t, "/data", opts)
	a.Append(enc("SET", "old", "1"))
	rw, err := a.StartRewrite()
	require.NoError(t, err)
	n, err := rw.Write(encAll([]string{"SELECT", "0"}, []string{"SET", "old", "1"}))
	require.NoError(t, err)
	assert.Positive(t, n)
	require.NoError(t, rw.Finish())
	_, err = rw.Write(nil)
	require.ErrorIs(t, err, aof.ErrRewriteDone)
	require.NoError(t, a.Close())
	cmds, _, err := load(t, "/data", opts)
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"SELECT", "0"}, {"SET", "old", "1"}}, cmds)
}

// While writes fail the writer cannot reach the cut, so the rewrite fails
// instead of waiting for the disk; once the disk is back the switch still
// happens and nothing is lost.
func TestRewriteFailsWhileWritesFail(t *testing.T) {
	m := memDir(t)
	opts := fastOpts(m, aof.FsyncEverysec)
	a, _ := openStart(t, "/data", opts)
	e := &engine{t: t, a: a}
	require.NoError(t, a.WaitWritten(e.push()))
	remove := m.Inject(vfs.Fault{Op: vfs.OpWrite, Path: "incr", Err: syscall.ENOSPC})
	require.ErrorIs(t, a.WaitWritten(e.push()), syscall.ENOSPC)
	rw, q, n := e.startRewrite()
	writeBase(t, rw, q, n)
	require.ErrorIs(t, rw.Finish(), syscall.ENOSPC)
	assert.False(t, a.Stats().LastRewriteOK)
	remove()
	require.Eventually(t, func() bool { return a.LastWriteError() == nil }, 5*time.Second, 5*time.Millisecond)
	require.NoError(t, a.WaitWritten(e.push()))
	assert.Equal(t, a.Written(), a.Appended())
	require.NoError(t, a.Close())
	assert.Contains(t, mustRead(t, m, manifest), "appendonly.aof.2.incr.aof seq 2 type i")
	cmds, _, err := load(t, "/data", opts)
	require.NoError(t, err)
	require.Equal(t, e.want(3), replayDump(t, cmds))
}

// Close reports bytes it could not write; what was written stays loadable.
func TestCloseReportsUnwrittenBytes(t *testing.T) {
	m := memDir(t)
	opts := fastOpts(m, aof.FsyncEverysec)
	a, _ := openStart(t, "/data", opts)
	require.NoError(t, a.WaitWritten(a.Append(enc("SET", "a", "1"))))
	m.Inject(vfs.Fault{Op: vfs.OpWrite, Path: "incr", Err: syscall.ENOSPC})
	off := a.Append(enc("SET", "b", "1"))
	require.ErrorIs(t, a.Close(), syscall.ENOSPC)
	require.ErrorIs(t, a.WaitWritten(off), aof.ErrClosed)
	m.Crash()
	cmds, _, err := load(t, "/data", opts)
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"SET", "a", "1"}}, cmds)
}
