package vfs_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/aof/vfs"
)

func create(t *testing.T, fs vfs.FS, name, data string) vfs.File {
	t.Helper()
	f, err := fs.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	require.NoError(t, err)
	_, err = f.Write([]byte(data))
	require.NoError(t, err)
	return f
}

func TestMemFSCrashKeepsOnlyDurableState(t *testing.T) {
	m := vfs.NewMemFS()
	require.NoError(t, m.MkdirAll("/d", 0o755))
	m.SyncAll()

	// Synced data in a durable name survives; the unsynced tail does not.
	f := create(t, m, "/d/a", "hello")
	require.NoError(t, f.Datasync())
	require.NoError(t, m.SyncDir("/d"))
	_, err := f.Write([]byte(" world"))
	require.NoError(t, err)
	// A file whose name was never made durable is lost even if synced.
	g := create(t, m, "/d/b", "x")
	require.NoError(t, g.Sync())
	// A rename without SyncDir is undone.
	c := create(t, m, "/d/c", "c")
	require.NoError(t, c.Sync())
	require.NoError(t, m.SyncDir("/d"))
	require.NoError(t, m.Rename("/d/c", "/d/c2"))
	// A directory whose parent was not synced is lost with its files.
	require.NoError(t, m.MkdirAll("/d/sub", 0o755))
	s := create(t, m, "/d/sub/f", "s")
	require.NoError(t, s.Sync())
	require.NoError(t, m.SyncDir("/d/sub"))

	m.Crash()
	assert.Equal(t, []string{"a", "b", "c"}, m.List("/d")[:3])
	got, err := m.ReadFile("/d/a")
	require.NoError(t, err)
	assert.Equal(t, "hello", string(got))
	got, err = m.ReadFile("/d/b")
	require.NoError(t, err)
	assert.Equal(t, "x", string(got)) // b became durable with the SyncDir for c
	_, err = m.ReadFile("/d/c2")
	assert.Error(t, err)
	_, err = m.Stat("/d/sub")
	assert.Error(t, err)
	// Handles of the crashed "process" are dead.
	_, err = f.Write([]byte("late"))
	assert.ErrorIs(t, err, vfs.ErrCrashed)
}

func TestMemFSFaultsAndCrashAfter(t *testing.T) {
	m := vfs.NewMemFS()
	require.NoError(t, m.MkdirAll("/d", 0o755))
	f := create(t, m, "/d/a", "")
	remove := m.Inject(vfs.Fault{Op: vfs.OpWrite, Path: "/d/a", Err: syscall.ENOSPC, Short: 2, Times: 1})
	n, err := f.Write([]byte("abcd"))
	assert.Equal(t, 2, n)
	assert.ErrorIs(t, err, syscall.ENOSPC)
	n, err = f.Write([]byte("ef"))
	assert.Equal(t, 2, n)
	assert.NoError(t, err)
	remove()
	got, _ := m.ReadFile("/d/a")
	assert.Equal(t, "abef", string(got))

	m.CrashAfter(1)
	require.NoError(t, f.Truncate(1))
	assert.ErrorIs(t, f.Sync(), vfs.ErrCrashed)
	_, err = m.Stat("/d/a")
	assert.ErrorIs(t, err, vfs.ErrCrashed)
	m.Revive()
	got, _ = m.ReadFile("/d/a")
	assert.Equal(t, "a", string(got))
	assert.Equal(t, 1, m.Count(vfs.OpTruncate))
}

func TestOSFS(t *testing.T) {
	fs := vfs.OS()
	dir := filepath.Join(t.TempDir(), "x", "y")
	require.NoError(t, fs.MkdirAll(dir, 0o755))
	f := create(t, fs, filepath.Join(dir, "f"), "abc")
	require.NoError(t, f.Datasync())
	require.NoError(t, f.Sync())
	require.NoError(t, f.Truncate(1))
	fi, err := f.Stat()
	require.NoError(t, err)
	assert.EqualValues(t, 1, fi.Size())
	require.NoError(t, f.Close())
	require.NoError(t, fs.SyncDir(dir))
	require.NoError(t, fs.Rename(filepath.Join(dir, "f"), filepath.Join(dir, "g")))
	ents, err := fs.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, ents, 1)
	assert.Equal(t, "g", ents[0].Name())
	r, err := fs.OpenFile(filepath.Join(dir, "g"), os.O_RDONLY, 0)
	require.NoError(t, err)
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	assert.Equal(t, "a", string(b))
	require.NoError(t, r.Close())
	require.NoError(t, fs.Remove(filepath.Join(dir, "g")))
	_, err = fs.Stat(filepath.Join(dir, "g"))
	assert.True(t, errors.Is(err, os.ErrNotExist))
}
