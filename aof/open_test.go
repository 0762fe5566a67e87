package aof_test

import (
	"io/fs"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/aof"
	"github.com/celerity/celerity/aof/vfs"
)

const (
	ad       = "/data/appendonlydir/"
	manifest = ad + "appendonly.aof.manifest"
)

// logSink collects log lines.
type logSink struct {
	mu    sync.Mutex
	lines []string
}

func (l *logSink) log(_ aof.Level, msg string) {
	l.mu.Lock()
	l.lines = append(l.lines, msg)
	l.mu.Unlock()
}

func (l *logSink) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// layout writes a manifest and files into /data/appendonlydir.
func layout(t *testing.T, m *vfs.MemFS, man string, files map[string][]byte) {
	t.Helper()
	require.NoError(t, m.MkdirAll(ad, 0o755))
	require.NoError(t, m.WriteFile(manifest, []byte(man)))
	for name, data := range files {
		require.NoError(t, m.WriteFile(ad+name, data))
	}
	m.SyncAll()
}

func mustRead(t *testing.T, m *vfs.MemFS, path string) string {
	t.Helper()
	b, err := m.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

func TestOpenFreshCreatesRedisLayout(t *testing.T) {
	m := memDir(t)
	var logs logSink
	opts := fastOpts(m, aof.FsyncAlways)
	opts.Log = logs.log
	a, cmds := openStart(t, "/data", opts)
	assert.Empty(t, cmds)
	require.NoError(t, a.Close())
	assert.Equal(t, []string{"appendonly.aof.1.base.aof", "appendonly.aof.1.incr.aof", "appendonly.aof.manifest"}, m.List(ad))
	assert.Equal(t, "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n", mustRead(t, m, manifest))
	assert.Contains(t, logs.text(), "Creating AOF base file appendonly.aof.1.base.aof on server start")
	assert.Contains(t, logs.text(), "Creating AOF incr file appendonly.aof.1.incr.aof on server start")

	// Power loss right after Start: the layout survives (every name was
	// made durable before the manifest referred to it).
	m.Crash()
	_, _, err := load(t, "/data", opts)
	require.NoError(t, err)
}

func TestOpenNamesFromOptions(t *testing.T) {
	m := memDir(t)
	opts := fastOpts(m, aof.FsyncNo)
	opts.DirName, opts.FileName = "ad ir", `my "x.aof`
	a, _ := openStart(t, "/data", opts)
	require.NoError(t, a.Close())
	assert.Equal(t, "file \"my \\\"x.aof.1.base.aof\" seq 1 type b\nfile \"my \\\"x.aof.1.incr.aof\" seq 1 type i\n",
		mustRead(t, m, "/data/ad ir/my \"x.aof.manifest"))
}

func TestOpenReopenAppendsToLastIncr(t *testing.T) {
	m := memDir(t)
	opts := fastOpts(m, aof.FsyncAlways)
	a, _ := openStart(t, "/data", opts)
	require.NoError(t, a.WaitWritten(a.Append(enc("SET", "a", "1"))))
	require.NoError(t, a.Close())
	a, cmds := openStart(t, "/data", opts)
	assert.Equal(t, [][]string{{"SET", "a", "1"}}, cmds)
	require.NoError(t, a.WaitWritten(a.Append(enc("SET", "b", "2"))))
	require.NoError(t, a.Close())
	assert.Equal(t, string(encAll([]string{"SET", "a", "1"}, []string{"SET", "b", "2"})), mustRead(t, m, ad+"appendonly.aof.1.incr.aof"))
}

// A torn last incr file, cut at every byte offset of its last records: the
// load yields the longest complete prefix, Start truncates the file there,
// and what is appended next loads after it.
func TestOpenTornTailEveryOffset(t *testing.T) {
	data, want, _ := build(sample)
	bounds := boundaries(sample)
	base := enc("SET", "base", "1")
	from := len(data) - 120
	for k := from; k <= len(data); k++ {
		m := vfs.NewMemFS()
		layout(t, m, "file b seq 1 type b\nfile i seq 1 type i\n", map[string][]byte{"b": base, "i": data[:k]})
		valid := 0
		for b := range bounds {
			if b <= k && b > valid {
				valid = b
			}
		}
		a, plan, err := aof.Open("/data", fastOpts(m, aof.FsyncAlways))
		require.NoError(t, err)
		cmds := drain(t, plan)
		require.NoError(t, plan.Err(), "cut at %d", k)
		require.Equal(t, append([][]string{{"SET", "base", "1"}}, want[:bounds[valid]]...), cmds, "cut at %d", k)
		if tr := plan.Truncation(); valid == k {
			require.Nil(t, tr, "cut at %d", k)
		} else {
			require.NotNil(t, tr, "cut at %d", k)
			assert.Equal(t, "i", tr.File)
			assert.EqualValues(t, valid, tr.Offset)
			assert.EqualValues(t, k, tr.Size)
		}
		require.NoError(t, a.Start())
		require.NoError(t, a.WaitWritten(a.Append(enc("SET", "after", "1"))))
		require.NoError(t, a.Close())
		assert.Equal(t, string(data[:valid])+string(enc("SET", "after", "1")), mustRead(t, m, ad+"i"), "cut at %d", k)
		cmds, _, err = load(t, "/data", fastOpts(m, aof.FsyncAlways))
		require.NoError(t, err)
		require.Equal(t, []string{"SET", "after", "1"}, cmds[len(cmds)-1])
	}
}

func TestOpenTornTailLogsLikeRedis(t *testing.T) {
	m := vfs.NewMemFS()
	inc := encAll([]string{"SET", "b", "1"}, []string{"MULTI"}, []string{"SET", "c", "1"})
	layout(t, m, "file appendonly.aof.1.incr.aof seq 1 type i\n", map[string][]byte{"appendonly.aof.1.incr.aof": inc})
	var logs logSink
	opts := fastOpts(m, aof.FsyncNo)
	opts.Log = logs.log
	_, plan, err := load(t, "/data", opts)
	require.NoError(t, err)
	tr := plan.Truncation()
	require.NotNil(t, tr)
	assert.Equal(t, aof.DamageMulti, tr.Kind)
	assert.EqualValues(t, 27, tr.Offset) // Redis 7.0.15 truncates this file at 27 too
	assert.EqualValues(t, 2, tr.Dropped)
	assert.Equal(t, "Revert incomplete MULTI/EXEC transaction in AOF file appendonly.aof.1.incr.aof\n"+
		"!!! Warning: short read while loading the AOF file appendonly.aof.1.incr.aof!!!\n"+
		"!!! Truncating the AOF appendonly.aof.1.incr.aof at offset 27 !!!\n"+
		"AOF appendonly.aof.1.incr.aof loaded anyway because aof-load-truncated is enabled", logs.text())
}

func TestOpenRefusals(t *testing.T) {
	set := enc("SET", "a", "1")
	torn := append(append([]byte{}, set...), set[:5]...)
	corrupt := append(append(append([]byte{}, set...), "*1\r\n$4\r\nPINGxx"...), set...)
	cases := []struct {
		name  string
		man   string
		files map[string][]byte
		opts  func(*aof.Options)
		check func(t *testing.T, err error)
	}{
		{"torn tail with aof-load-truncated no", "file i seq 1 type i\n", map[string][]byte{"i": torn}, func(o *aof.Options) { o.RefuseTruncated = true },
			func(t *testing.T, err error) {
				var te *aof.TruncatedError
				require.ErrorAs(t, err, &te)
				assert.False(t, te.NotLast)
				assert.Equal(t, "i", te.File)
				assert.EqualValues(t, len(set), te.Offset)
			}},
		{"torn base (not the last file)", "file b seq 1 type b\nfile i seq 1 type i\n", map[string][]byte{"b": torn, "i": nil}, nil,
			func(t *testing.T, err error) {
				var te *aof.TruncatedError
				require.ErrorAs(t, err, &te)
				assert.True(t, te.NotLast)
				assert.Equal(t, "b", te.File)
			}},
		{"torn non-last incr before an empty last", "file i1 seq 1 type i\nfile i2 seq 2 type i\n", map[string][]byte{"i1": torn, "i2": nil}, nil,
			func(t *testing.T, err error) {
				var te *aof.TruncatedError
				require.ErrorAs(t, err, &te)
				assert.True(t, te.NotLast)
			}},
		{"corruption in the middle of the last file", "file i seq 1 type i\n", map[string][]byte{"i": corrupt}, nil,
			func(t *testing.T, err error) {
				var ce *aof.CorruptError
				require.ErrorAs(t, err, &ce)
				assert.Equal(t, "i", ce.File)
				assert.EqualValues(t, len(set), ce.Offset)
				assert.EqualValues(t, len(set)+8, ce.At) // where the bulk starts, as redis-check-aof reports
				assert.Contains(t, ce.Error(), "bad file format reading the append only file i")
			}},
		{"torn RDB preamble base", "file appendonly.aof.1.base.rdb seq 1 type b\nfile i seq 1 type i\n",
			map[string][]byte{"appendonly.aof.1.base.rdb": []byte("REDIS0010\xfa"), "i": nil}, nil,
			func(t *testing.T, err error) {
				// Redis refuses any unreadable preamble, torn or not.
				var ce *aof.CorruptError
				require.ErrorAs(t, err, &ce)
				assert.Equal(t, "appendonly.aof.1.base.rdb", ce.File)
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := vfs.NewMemFS()
			layout(t, m, tc.man, tc.files)
			opts := fastOpts(m, aof.FsyncNo)
			if tc.opts != nil {
				tc.opts(&opts)
			}
			a, plan, err := aof.Open("/data", opts)
			require.NoError(t, err)
			drain(t, plan)
			tc.check(t, plan.Err())
			assert.ErrorIs(t, a.Start(), plan.Err())
			require.NoError(t, a.Close())
			for name, data := range tc.files { // nothing was modified
				assert.Equal(t, string(data), mustRead(t, m, ad+name))
			}
		})
	}
}

func TestOpenMissingFileAndBadManifest(t *testing.T) {
	m := vfs.NewMemFS()
	layout(t, m, "file appendonly.aof.9.incr.aof seq 9 type i\n", nil)
	_, _, err := aof.Open("/data", fastOpts(m, aof.FsyncNo))
	require.ErrorIs(t, err, fs.ErrNotExist)
	assert.Contains(t, err.Error(), "unable to obtain the AOF file appendonly.aof.9.incr.aof length")

	m = vfs.NewMemFS()
	layout(t, m, "", nil)
	_, _, err = aof.Open("/data", fastOpts(m, aof.FsyncNo))
	require.ErrorIs(t, err, aof.ErrManifestEmpty)
}

func TestOpenStartNeedsCompletedPlan(t *testing.T) {
	m := vfs.NewMemFS()
	layout(t, m, "file i seq 1 type i\n", map[string][]byte{"i": encAll([]string{"SET", "a", "1"}, []string{"SET", "b", "1"})})
	a, plan, err := aof.Open("/data", fastOpts(m, aof.FsyncNo))
	require.NoError(t, err)
	require.True(t, plan.Next())
	require.ErrorIs(t, a.Start(), aof.ErrLoadIncomplete)
	require.NoError(t, a.Close())
}

// A manifest with incr files and no base (Redis accepts it) is used as it
// is; one with only history is a new AOF whose names avoid the history's.
func TestOpenIncrOnlyAndHistoryOnly(t *testing.T) {
	m := vfs.NewMemFS()
	layout(t, m, "file appendonly.aof.1.incr.aof seq 1 type i\n", map[string][]byte{"appendonly.aof.1.incr.aof": enc("SET", "a", "1")})
	a, cmds := openStart(t, "/data", fastOpts(m, aof.FsyncNo))
	require.NoError(t, a.Close())
	assert.Len(t, cmds, 1)
	assert.Equal(t, "file appendonly.aof.1.incr.aof seq 1 type i\n", mustRead(t, m, manifest))

	m = vfs.NewMemFS()
	layout(t, m, "file appendonly.aof.1.incr.aof seq 1 type h\n", map[string][]byte{"appendonly.aof.1.incr.aof": enc("SET", "old", "1")})
	a, cmds = openStart(t, "/data", fastOpts(m, aof.FsyncNo))
	require.NoError(t, a.WaitWritten(a.Append(enc("SET", "new", "1"))))
	require.NoError(t, a.Close())
	assert.Empty(t, cmds)
	// (Redis 7.0.15 creates appendonly.aof.1.incr.aof here, then deletes
	// it as the history file of the same name.)
	assert.Equal(t, "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n", mustRead(t, m, manifest))
	cmds, _, err := load(t, "/data", fastOpts(m, aof.FsyncNo))
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"SET", "new", "1"}}, cmds)
}

func TestOpenGarbageCollectsHistoryAndTempFiles(t *testing.T) {
	m := vfs.NewMemFS()
	layout(t, m, "file b2 seq 2 type b\nfile b1 seq 1 type h\nfile i1 seq 1 type h\nfile i2 seq 2 type i\n", map[string][]byte{
		"b1": enc("SET", "x", "old"), "i1": nil, "b2": enc("SET", "x", "new"), "i2": nil,
		"temp-rewriteaof-bg-1-3.aof": []byte("partial"), "temp-appendonly.aof.manifest": []byte("x"),
	})
	a, cmds := openStart(t, "/data", fastOpts(m, aof.FsyncNo))
	require.NoError(t, a.Close())
	assert.Equal(t, [][]string{{"SET", "x", "new"}}, cmds)
	assert.Equal(t, []string{"appendonly.aof.manifest", "b2", "i2"}, m.List(ad))
	assert.Equal(t, "file b2 seq 2 type b\nfile i2 seq 2 type i\n", mustRead(t, m, manifest))

	// aof-disable-auto-gc keeps them.
	m = vfs.NewMemFS()
	layout(t, m, "file b2 seq 2 type b\nfile b1 seq 1 type h\nfile i2 seq 2 type i\n", map[string][]byte{"b1": nil, "b2": nil, "i2": nil})
	opts := fastOpts(m, aof.FsyncNo)
	opts.DisableAutoGC = true
	a, _ = openStart(t, "/data", opts)
	require.NoError(t, a.Close())
	assert.Equal(t, []string{"appendonly.aof.manifest", "b1", "b2", "i2"}, m.List(ad))
}

// The pre-7.0 single file is moved into the directory under its own name
// and becomes the base; observed with redis-server 7.0.15:
//
//	file appendonly.aof seq 1 type b
//	file appendonly.aof.1.incr.aof seq 1 type i
func TestOpenUpgradesSingleFile(t *testing.T) {
	old := encAll([]string{"SELECT", "0"}, []string{"SET", "k", "v"})
	setups := map[string]func(m *vfs.MemFS){
		"no directory": func(m *vfs.MemFS) {},
		"directory without manifest": func(m *vfs.MemFS) {
			require.NoError(t, m.MkdirAll(ad, 0o755))
		},
		"upgrade interrupted after the manifest": func(m *vfs.MemFS) {
			require.NoError(t, m.MkdirAll(ad, 0o755))
			require.NoError(t, m.WriteFile(manifest, []byte("file appendonly.aof seq 1 type b\n")))
		},
	}
	for name, setup := range setups {
		t.Run(name, func(t *testing.T) {
			m := memDir(t)
			require.NoError(t, m.WriteFile("/data/appendonly.aof", old))
			setup(m)
			m.SyncAll()
			var logs logSink
			opts := fastOpts(m, aof.FsyncAlways)
			opts.Log = logs.log
			a, cmds := openStart(t, "/data", opts)
			require.NoError(t, a.WaitWritten(a.Append(enc("SET", "z", "1"))))
			require.NoError(t, a.Close())
			assert.Equal(t, [][]string{{"SELECT", "0"}, {"SET", "k", "v"}}, cmds)
			assert.Empty(t, m.List("/data"))
			assert.Equal(t, "file appendonly.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n", mustRead(t, m, manifest))
			assert.Equal(t, string(old), mustRead(t, m, ad+"appendonly.aof"))
			assert.Contains(t, logs.text(), "Successfully migrated an old-style AOF file (appendonly.aof) into the AOF directory (appendonlydir).")
		})
	}

	// An existing multi-part AOF wins over a stray old file.
	m := memDir(t)
	require.NoError(t, m.WriteFile("/data/appendonly.aof", old))
	layout(t, m, "file i seq 1 type i\n", map[string][]byte{"i": enc("SET", "new", "1")})
	cmds, _, err := load(t, "/data", fastOpts(m, aof.FsyncNo))
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"SET", "new", "1"}}, cmds)
}

// A power loss at every step of the upgrade leaves something that loads to
// the old file's data.
func TestOpenUpgradeCrashPoints(t *testing.T) {
	old := enc("SET", "k", "v")
	for n := 0; ; n++ {
		m := memDir(t)
		require.NoError(t, m.WriteFile("/data/appendonly.aof", old))
		m.SyncAll()
		m.CrashAfter(n)
		a, plan, err := aof.Open("/data", fastOpts(m, aof.FsyncAlways))
		completed := err == nil
		if completed {
			drain(t, plan)
			completed = plan.Err() == nil && a.Start() == nil
			_ = a.Close()
		}
		m.Crash()
		cmds, _, err := load(t, "/data", fastOpts(m, aof.FsyncAlways))
		require.NoError(t, err, "crash after %d operations", n)
		require.Equal(t, [][]string{{"SET", "k", "v"}}, cmds, "crash after %d operations", n)
		if completed {
			require.Greater(t, n, 5)
			return
		}
		require.Less(t, n, 100)
	}
}

func TestOpenPartialAnnotationIsAlwaysTrimmed(t *testing.T) {
	m := vfs.NewMemFS()
	data := append(enc("SET", "a", "1"), "#TS:17"...)
	layout(t, m, "file i seq 1 type i\n", map[string][]byte{"i": data})
	opts := fastOpts(m, aof.FsyncNo)
	opts.RefuseTruncated = true // no command is lost, so it is not refused
	a, cmds := openStart(t, "/data", opts)
	require.NoError(t, a.Close())
	assert.Len(t, cmds, 1)
	assert.Equal(t, string(enc("SET", "a", "1")), mustRead(t, m, ad+"i"))
}

func TestOpenRejectsPathNames(t *testing.T) {
	_, _, err := aof.Open("/data", aof.Options{FS: vfs.NewMemFS(), FileName: "a/b"})
	require.Error(t, err)
}
