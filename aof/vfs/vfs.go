// Package vfs is the file-system layer under package aof: an interface small
// enough to fake, the real implementation on top of package os, and MemFS, an
// in-memory implementation that models what survives a crash and injects
// faults (short writes, ENOSPC, EIO, fsync errors).
//
// Durability is explicit in this interface, on purpose: File.Sync and
// File.Datasync make a file's bytes durable, FS.SyncDir makes a directory's
// entries (created, renamed, removed names) durable. The OS implementation
// does not fsync directories behind the caller's back, so the AOF code states
// every durability point itself and MemFS can check that each one is there
// (a crash drops every name whose directory was not synced since it changed).
package vfs

import (
	"io"
	"io/fs"
	"os"
	"syscall"
)

// File is an open file. Writes append at the file position (or at the end
// when opened with O_APPEND); a short write returns n < len(p) and a non-nil
// error, as io.Writer requires.
type File interface {
	io.Reader
	io.Writer
	io.Closer
	// Sync is fsync(2): data and metadata durable.
	Sync() error
	// Datasync is fdatasync(2): data (and the size needed to read it back)
	// durable; cheaper than Sync because unrelated metadata (mtime) is not
	// flushed. The AOF's "always" policy uses it, as Redis does.
	Datasync() error
	// Truncate changes the file's size (ftruncate(2)).
	Truncate(size int64) error
	Stat() (fs.FileInfo, error)
}

// FS is the set of file-system operations package aof uses. Paths are
// ordinary OS paths (the AOF joins them with path/filepath).
type FS interface {
	OpenFile(name string, flag int, perm fs.FileMode) (File, error)
	Rename(oldpath, newpath string) error
	Remove(name string) error
	Stat(name string) (fs.FileInfo, error)
	ReadDir(name string) ([]fs.DirEntry, error)
	MkdirAll(path string, perm fs.FileMode) error
	// SyncDir fsyncs a directory so that entries created, renamed or removed
	// in it survive an OS crash.
	SyncDir(path string) error
}

// OS returns the FS backed by the operating system.
func OS() FS { return osFS{} }

type osFS struct{}

func (osFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) Rename(oldpath, newpath string) error         { return os.Rename(oldpath, newpath) }
func (osFS) Remove(name string) error                     { return os.Remove(name) }
func (osFS) Stat(name string) (fs.FileInfo, error)        { return os.Stat(name) }
func (osFS) ReadDir(name string) ([]fs.DirEntry, error)   { return os.ReadDir(name) }
func (osFS) MkdirAll(path string, perm fs.FileMode) error { return os.MkdirAll(path, perm) }

func (osFS) SyncDir(path string) error {
	d, err := os.Open(path)
	if err != nil {
		return err
	}
	err = d.Sync()
	// Some file systems refuse fsync on a directory; there is nothing more
	// we can do for them, and failing would make the AOF unusable there.
	if err == syscall.EINVAL {
		err = nil
	}
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

type osFile struct{ *os.File }

func (f osFile) Datasync() error { return datasync(f.File) }
