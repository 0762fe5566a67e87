package aof_test

import (
	"fmt"
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

const incr1 = ad + "appendonly.aof.1.incr.aof"

// gate blocks the operations a hook selects until opened.
type gate struct {
	armed   atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func newGate() *gate {
	return &gate{entered: make(chan struct{}, 100), release: make(chan struct{})}
}

func (g *gate) hook(op vfs.Op, path string, want vfs.Op) {
	if op == want && g.armed.Load() && path == incr1 {
		g.entered <- struct{}{}
		<-g.release
	}
}

func waitDone(t *testing.T, ch <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(5 * time.Second):
		t.Fatalf("timeout waiting for %s", what)
		return nil
	}
}

func notDone(t *testing.T, ch <-chan error, what string) {
	t.Helper()
	select {
	case err := <-ch:
		t.Fatalf("%s returned early (%v)", what, err)
	case <-time.After(50 * time.Millisecond):
	}
}

func waitAsync(a *aof.AOF, off uint64) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- a.WaitWritten(off) }()
	return ch
}

// always publishes an offset only after fdatasync; everysec and no after
// write(2).
func TestWriterPublishPoint(t *testing.T) {
	for _, policy := range []aof.FsyncPolicy{aof.FsyncAlways, aof.FsyncEverysec, aof.FsyncNo} {
		t.Run(policy.String(), func(t *testing.T) {
			m := memDir(t)
			g := newGate()
			m.SetHook(func(op vfs.Op, path string) { g.hook(op, path, vfs.OpSync) })
			a, _ := openStart(t, "/data", fastOpts(m, policy))
			g.armed.Store(true)
			done := waitAsync(a, a.Append(enc("SET", "a", "1")))
			if policy == aof.FsyncAlways {
				<-g.entered
				notDone(t, done, "WaitWritten before fdatasync")
				close(g.release)
				require.NoError(t, waitDone(t, done, "WaitWritten"))
			} else {
				require.NoError(t, waitDone(t, done, "WaitWritten"))
				if policy == aof.FsyncEverysec {
					<-g.entered // the background fsync came, and did not hold the reply
				}
				close(g.release)
			}
			require.NoError(t, a.Close())
		})
	}
}

// What survives a power loss right after WaitWritten returned, per policy.
func TestWriterPowerLossPerPolicy(t *testing.T) {
	for _, policy := range []aof.FsyncPolicy{aof.FsyncAlways, aof.FsyncEverysec, aof.FsyncNo} {
		t.Run(policy.String(), func(t *testing.T) {
			m := memDir(t)
			opts := fastOpts(m, policy)
			opts.FsyncInterval = time.Hour // everysec: no fsync yet
			a, _ := openStart(t, "/data", opts)
			require.NoError(t, a.WaitWritten(a.Append(enc("SET", "a", "1"))))
			// kill -9: the page cache survives whatever the policy.
			m.CrashAfter(0)
			_ = a.Close()
			m.Revive()
			cmds, _, err := load(t, "/data", opts)
			require.NoError(t, err)
			assert.Len(t, cmds, 1)
			// Power loss: only fdatasynced bytes survive.
			m.Crash()
			cmds, _, err = load(t, "/data", opts)
			require.NoError(t, err)
			if policy == aof.FsyncAlways {
				assert.Len(t, cmds, 1)
			} else {
				assert.Empty(t, cmds)
			}
		})
	}
}

func TestWriterEverysecFsyncsInBackground(t *testing.T) {
	m := memDir(t)
	a, _ := openStart(t, "/data", fastOpts(m, aof.FsyncEverysec))
	off := a.Append(enc("SET", "a", "1"))
	require.NoError(t, a.WaitWritten(off))
	require.Eventually(t, func() bool { return a.Stats().Synced >= off }, 5*time.Second, 5*time.Millisecond)
	m.Crash()
	cmds, _, err := load(t, "/data", fastOpts(m, aof.FsyncEverysec))
	require.NoError(t, err)
	assert.Len(t, cmds, 1)
}

func TestWriterNoNeverFsyncsUntilClose(t *testing.T) {
	m := memDir(t)
	a, _ := openStart(t, "/data", fastOpts(m, aof.FsyncNo))
	syncs := m.Count(vfs.OpSync)
	for i := 0; i < 20; i++ {
		require.NoError(t, a.WaitWritten(a.Append(enc("SET", "a", fmt.Sprint(i)))))
	}
	time.Sleep(60 * time.Millisecond)
	assert.Equal(t, syncs, m.Count(vfs.OpSync))
	// Close is the shutdown path: flush and fsync whatever the policy.
	require.NoError(t, a.Close())
	m.Crash()
	cmds, _, err := load(t, "/data", fastOpts(m, aof.FsyncNo))
	require.NoError(t, err)
	assert.Len(t, cmds, 20)
}

// Units appended while a write is in progress go out together in the next
// write (and, with always, one fdatasync): group commit.
func TestWriterGroupCommit(t *testing.T) {
	m := memDir(t)
	g := newGate()
	m.SetHook(func(op vfs.Op, path string) { g.hook(op, path, vfs.OpWrite) })
	a, _ := openStart(t, "/data", fastOpts(m, aof.FsyncAlways))
	g.armed.Store(true)
	first := waitAsync(a, a.Append(enc("SET", "first", "1")))
	<-g.entered
	g.armed.Store(false)
	writes, syncs := m.Count(vfs.OpWrite), m.Count(vfs.OpSync)

	const n = 200
	var wg sync.WaitGroup
	offs := make([]uint64, n)
	errs := make([]error, n)
	var mu sync.Mutex
	var order []int
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			// The engine appends under its lock; the lock orders the file.
			mu.Lock()
			offs[i] = a.Append(enc("RPUSH", "q", fmt.Sprint(i)))
			order = append(order, i)
			mu.Unlock()
			errs[i] = a.WaitWritten(offs[i])
		}(i)
	}
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(order) == n }, 5*time.Second, time.Millisecond)
	close(g.release)
	require.NoError(t, waitDone(t, first, "first"))
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	// The blocked first write (not counted yet when it blocked: the hook
	// runs first), then one write and one fdatasync for the whole group.
	assert.Equal(t, writes+2, m.Count(vfs.OpWrite), "one write for the whole group")
	assert.Equal(t, syncs+2, m.Count(vfs.OpSync), "one fdatasync for the whole group")
	require.NoError(t, a.Close())

	// Offsets are strictly increasing in append order and the file holds
	// the units in that order.
	cmds, _, err := load(t, "/data", fastOpts(m, aof.FsyncAlways))
	require.NoError(t, err)
	require.Len(t, cmds, n+1)
	prev := uint64(0)
	for k, i := range order {
		require.Greater(t, offs[i], prev)
		prev = offs[i]
		require.Equal(t, []string{"RPUSH", "q", fmt.Sprint(i)}, cmds[k+1])
	}
}

func TestWriterEverysecWriteErrorIsStickyThenClears(t *testing.T) {
	for _, short := range []int{0, 5} {
		t.Run(fmt.Sprintf("short=%d", short), func(t *testing.T) {
			m := memDir(t)
			var logs logSink
			opts := fastOpts(m, aof.FsyncEverysec)
			opts.Log = logs.log
			a, _ := openStart(t, "/data", opts)
			require.NoError(t, a.WaitWritten(a.Append(enc("SET", "ok", "1"))))
			remove := m.Inject(vfs.Fault{Op: vfs.OpWrite, Path: "incr", Err: syscall.ENOSPC, Short: short})
			off := a.Append(enc("SET", "full", "1"))
			err := a.WaitWritten(off)
			var we *aof.WriteError
			require.ErrorAs(t, err, &we)
			require.ErrorIs(t, err, syscall.ENOSPC)
			require.ErrorIs(t, a.LastWriteError(), syscall.ENOSPC)
			assert.Error(t, a.Stats().LastWriteErr)
			// No partial record: the short write was cut back.
			assert.Equal(t, string(enc("SET", "ok", "1")), mustRead(t, m, incr1))
			// While failing, new waiters learn at once.
			require.ErrorIs(t, a.WaitWritten(a.Append(enc("SET", "more", "1"))), syscall.ENOSPC)

			remove()
			require.Eventually(t, func() bool { return a.LastWriteError() == nil }, 5*time.Second, 5*time.Millisecond)
			require.NoError(t, a.WaitWritten(off))
			require.NoError(t, a.Close())
			assert.Equal(t, string(encAll([]string{"SET", "ok", "1"}, []string{"SET", "full", "1"}, []string{"SET", "more", "1"})), mustRead(t, m, incr1))
			assert.Contains(t, logs.text(), "AOF write error looks solved, Redis can write again.")
		})
	}
}

// When the partial write cannot be cut back, the retry continues after the
// partial bytes: the file ends up whole.
func TestWriterShortWriteWithoutTruncate(t *testing.T) {
	m := memDir(t)
	a, _ := openStart(t, "/data", fastOpts(m, aof.FsyncNo))
	removeW := m.Inject(vfs.Fault{Op: vfs.OpWrite, Path: "incr", Err: syscall.EIO, Short: 7, Times: 1})
	removeT := m.Inject(vfs.Fault{Op: vfs.OpTruncate, Err: syscall.EIO})
	off := a.Append(encAll([]string{"SET", "a", "1"}, []string{"SET", "b", "2"}))
	_ = a.WaitWritten(off) // fails once, then the retry writes the rest
	removeW()
	removeT()
	require.Eventually(t, func() bool { return a.WaitWritten(off) == nil }, 5*time.Second, 5*time.Millisecond)
	require.NoError(t, a.Close())
	assert.Equal(t, string(encAll([]string{"SET", "a", "1"}, []string{"SET", "b", "2"})), mustRead(t, m, incr1))
}

func TestWriterAlwaysFailStop(t *testing.T) {
	for _, op := range []vfs.Op{vfs.OpWrite, vfs.OpSync} {
		t.Run(string(op), func(t *testing.T) {
			m := memDir(t)
			a, _ := openStart(t, "/data", fastOpts(m, aof.FsyncAlways))
			require.NoError(t, a.WaitWritten(a.Append(enc("SET", "ok", "1"))))
			remove := m.Inject(vfs.Fault{Op: op, Path: "incr", Err: syscall.EIO, Short: 3})
			err := a.WaitWritten(a.Append(enc("SET", "lost", "1")))
			var fs *aof.FailStopError
			require.ErrorAs(t, err, &fs)
			require.ErrorIs(t, err, syscall.EIO)
			remove()
			// Sticky: the disk coming back does not matter, the process
			// must exit.
			time.Sleep(50 * time.Millisecond)
			require.ErrorAs(t, a.WaitWritten(a.Append(enc("SET", "later", "1"))), &fs)
			require.ErrorAs(t, a.LastWriteError(), &fs)
			_, err = a.StartRewrite()
			require.ErrorAs(t, err, &fs)
			require.ErrorAs(t, a.Close(), &fs)
		})
	}
}

func TestWriterEverysecFsyncErrorReported(t *testing.T) {
	m := memDir(t)
	a, _ := openStart(t, "/data", fastOpts(m, aof.FsyncEverysec))
	remove := m.Inject(vfs.Fault{Op: vfs.OpSync, Path: "incr", Err: syscall.EIO})
	require.NoError(t, a.WaitWritten(a.Append(enc("SET", "a", "1"))))
	require.Eventually(t, func() bool { return a.LastWriteError() != nil }, 5*time.Second, 5*time.Millisecond)
	var we *aof.WriteError
	require.ErrorAs(t, a.LastWriteError(), &we)
	assert.Equal(t, "fsync", we.Op)
	remove()
	require.NoError(t, a.WaitWritten(a.Append(enc("SET", "b", "1"))))
	require.Eventually(t, func() bool { return a.LastWriteError() == nil }, 5*time.Second, 5*time.Millisecond)
	require.NoError(t, a.Close())
}

// everysec: while a background fsync is running, writes wait for it, up to
// PostponeLimit, then go ahead and count aof_delayed_fsync.
func TestWriterEverysecPostponesWhileFsyncRuns(t *testing.T) {
	m := memDir(t)
	g := newGate()
	m.SetHook(func(op vfs.Op, path string) { g.hook(op, path, vfs.OpSync) })
	var logs logSink
	opts := fastOpts(m, aof.FsyncEverysec)
	opts.Log = logs.log
	a, _ := openStart(t, "/data", opts)
	g.armed.Store(true)
	require.NoError(t, a.WaitWritten(a.Append(enc("SET", "a", "1"))))
	<-g.entered // the background fsync is stuck
	assert.Equal(t, 1, a.Stats().PendingBioFsync)
	start := time.Now()
	require.NoError(t, a.WaitWritten(a.Append(enc("SET", "b", "1"))))
	assert.GreaterOrEqual(t, time.Since(start), opts.PostponeLimit/2)
	assert.EqualValues(t, 1, a.Stats().DelayedFsync)
	assert.Contains(t, logs.text(), "Asynchronous AOF fsync is taking too long (disk is busy?)")
	g.armed.Store(false)
	close(g.release)
	require.NoError(t, a.Close())
}

func TestWriterEverysecNoDelayWhenFsyncEndsInTime(t *testing.T) {
	m := memDir(t)
	g := newGate()
	m.SetHook(func(op vfs.Op, path string) { g.hook(op, path, vfs.OpSync) })
	opts := fastOpts(m, aof.FsyncEverysec)
	opts.PostponeLimit = time.Minute
	a, _ := openStart(t, "/data", opts)
	g.armed.Store(true)
	require.NoError(t, a.WaitWritten(a.Append(enc("SET", "a", "1"))))
	<-g.entered
	done := waitAsync(a, a.Append(enc("SET", "b", "1")))
	notDone(t, done, "write during fsync")
	g.armed.Store(false)
	close(g.release)
	require.NoError(t, waitDone(t, done, "write after fsync"))
	assert.EqualValues(t, 0, a.Stats().DelayedFsync)
	require.NoError(t, a.Close())
}

func TestWriterTimestampAnnotations(t *testing.T) {
	m := memDir(t)
	now := time.Unix(1795494792, 0)
	var mu sync.Mutex
	opts := fastOpts(m, aof.FsyncNo)
	opts.Timestamps = true
	opts.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	a, _ := openStart(t, "/data", opts)
	a.Append(enc("SET", "a", "1"))
	a.Append(enc("SET", "b", "1"))
	mu.Lock()
	now = now.Add(time.Second)
	mu.Unlock()
	require.NoError(t, a.WaitWritten(a.Append(enc("SET", "c", "1"))))
	require.NoError(t, a.Close())
	assert.Equal(t, "#TS:1795494792\r\n"+string(encAll([]string{"SET", "a", "1"}, []string{"SET", "b", "1"}))+
		"#TS:1795494793\r\n"+string(enc("SET", "c", "1")), mustRead(t, m, incr1))
	assert.Equal(t, "#TS:1795494792\r\n", mustRead(t, m, ad+"appendonly.aof.1.base.aof"))
	cmds, _, err := load(t, "/data", opts)
	require.NoError(t, err)
	assert.Len(t, cmds, 3)
}

func TestWriterAppendBeforeStartAndAfterClose(t *testing.T) {
	m := memDir(t)
	a, plan, err := aof.Open("/data", fastOpts(m, aof.FsyncAlways))
	require.NoError(t, err)
	drain(t, plan)
	early := a.Append(enc("SET", "early", "1"))
	require.NoError(t, a.Start())
	require.NoError(t, a.WaitWritten(early))
	require.NoError(t, a.Close())
	late := a.Append(enc("SET", "late", "1"))
	require.ErrorIs(t, a.WaitWritten(late), aof.ErrClosed)
	require.ErrorIs(t, a.Close(), aof.ErrClosed)
	assert.Equal(t, string(enc("SET", "early", "1")), mustRead(t, m, incr1))
}

func TestWriterStatsAndAutoRewrite(t *testing.T) {
	m := memDir(t)
	a, _ := openStart(t, "/data", fastOpts(m, aof.FsyncNo))
	unit := enc("SET", "a", "1")
	for i := 0; i < 10; i++ {
		a.Append(unit)
	}
	require.NoError(t, a.WaitWritten(a.Appended()))
	s := a.Stats()
	assert.EqualValues(t, 10*len(unit), s.CurrentSize)
	assert.EqualValues(t, 0, s.BaseSize)
	assert.EqualValues(t, 0, s.BufferLength)
	assert.EqualValues(t, -1, s.LastRewriteTimeSec)
	assert.EqualValues(t, -1, s.CurrentRewriteTimeSec)
	assert.True(t, s.LastRewriteOK)
	assert.NoError(t, s.LastWriteErr)
	require.NoError(t, a.Close())

	// Reopened, the loaded size becomes the base size (as INFO shows after
	// a restart).
	a, _ = openStart(t, "/data", fastOpts(m, aof.FsyncNo))
	assert.EqualValues(t, 10*len(unit), a.Stats().BaseSize)
	require.NoError(t, a.Close())

	for _, tc := range []struct {
		cur, base, min int64
		perc           int
		due            bool
	}{
		{cur: 100, base: 0, min: 64, perc: 100, due: true},
		{cur: 64, base: 0, min: 64, perc: 100, due: false}, // not above min
		{cur: 200, base: 100, min: 64, perc: 100, due: true},
		{cur: 199, base: 100, min: 64, perc: 100, due: false},
		{cur: 1000, base: 100, min: 64, perc: 0, due: false}, // disabled
	} {
		s := aof.Stats{CurrentSize: tc.cur, BaseSize: tc.base}
		assert.Equal(t, tc.due, s.AutoRewriteDue(tc.perc, tc.min), "%+v", tc)
	}
}

func TestParseFsyncPolicy(t *testing.T) {
	for s, want := range map[string]aof.FsyncPolicy{"always": aof.FsyncAlways, "EVERYSEC": aof.FsyncEverysec, "no": aof.FsyncNo} {
		p, err := aof.ParseFsyncPolicy(s)
		require.NoError(t, err)
		assert.Equal(t, want, p)
	}
	assert.Equal(t, "everysec", aof.FsyncPolicy(0).String(), "the zero value is Redis's default")
	_, err := aof.ParseFsyncPolicy("sometimes")
	require.Error(t, err)
}
