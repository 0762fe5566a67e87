package vfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// ErrCrashed is returned by every MemFS operation after the simulated
// process died (see CrashAfter).
var ErrCrashed = errors.New("vfs: simulated crash")

// Op names a MemFS operation, for faults, hooks and counters.
type Op string

// The operations MemFS distinguishes. OpOpen covers every OpenFile; OpSync
// covers both Sync and Datasync.
const (
	OpOpen     Op = "open"
	OpWrite    Op = "write"
	OpRead     Op = "read"
	OpSync     Op = "sync"
	OpTruncate Op = "truncate"
	OpRename   Op = "rename"
	OpRemove   Op = "remove"
	OpMkdir    Op = "mkdir"
	OpSyncDir  Op = "syncdir"
	OpClose    Op = "close"
	OpStat     Op = "stat"
	OpReadDir  Op = "readdir"
)

// Fault makes matching operations fail.
type Fault struct {
	Op Op
	// Path selects the operations whose path contains Path ("" = all).
	Path string
	// Err is the error returned (for example syscall.ENOSPC).
	Err error
	// Short, for OpWrite, is how many bytes the failing write still stores
	// before returning Err: a short write.
	Short int
	// Times disarms the fault after it fired this many times; 0 = until
	// removed.
	Times int
}

// MemFS is an in-memory FS that models a crash: each file has the bytes
// written so far (the page cache) and the bytes last made durable by
// Sync/Datasync; each directory has its current entries and the entries last
// made durable by SyncDir. Crash keeps only the durable state, the way an OS
// crash or power loss does. Faults and hooks make operations fail or block.
// The zero value is not usable; call NewMemFS. Safe for concurrent use.
type MemFS struct {
	mu         sync.Mutex
	files      map[string]*inode
	dirs       map[string]bool
	durFiles   map[string]*inode
	durDirs    map[string]bool
	faults     []*faultState
	crashAfter int // mutating operations left before the simulated death; -1 = off
	dead       bool
	gen        int
	counts     map[Op]int
	hook       func(op Op, path string)
}

type inode struct {
	data   []byte
	synced []byte
}

type faultState struct {
	Fault
	fired int
}

// NewMemFS returns an empty MemFS whose root "/" exists durably.
func NewMemFS() *MemFS {
	return &MemFS{
		files:      map[string]*inode{},
		dirs:       map[string]bool{"/": true},
		durFiles:   map[string]*inode{},
		durDirs:    map[string]bool{"/": true},
		crashAfter: -1,
		counts:     map[Op]int{},
	}
}

// Inject arms a fault and returns a function that removes it.
func (m *MemFS) Inject(f Fault) (remove func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := &faultState{Fault: f}
	m.faults = append(m.faults, st)
	return func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		for i, x := range m.faults {
			if x == st {
				m.faults = append(m.faults[:i], m.faults[i+1:]...)
				return
			}
		}
	}
}

// SetHook installs a function called before every operation, outside the
// MemFS lock, so a test can block or slow an operation (nil removes it).
func (m *MemFS) SetHook(h func(op Op, path string)) {
	m.mu.Lock()
	m.hook = h
	m.mu.Unlock()
}

// Count reports how many operations of kind op ran (successful or not).
func (m *MemFS) Count(op Op) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.counts[op]
}

// CrashAfter lets n more mutating operations (open with O_CREATE/O_TRUNC,
// write, sync, truncate, rename, remove, mkdir, syncdir) run; after that the
// simulated process is dead and every operation fails with ErrCrashed. Call
// Crash (power loss) or Revive (process crash: the page cache survives)
// afterwards.
func (m *MemFS) CrashAfter(n int) {
	m.mu.Lock()
	m.crashAfter = n
	m.mu.Unlock()
}

// Crash simulates an OS crash or power loss: only durable names and durable
// file contents remain, open handles become invalid and the FS works again.
func (m *MemFS) Crash() {
	m.mu.Lock()
	defer m.mu.Unlock()
	dirs := map[string]bool{}
	for d := range m.durDirs {
		if m.durableChain(d) {
			dirs[d] = true
		}
	}
	files := map[string]*inode{}
	for name, ino := range m.durFiles {
		if dirs[filepath.Dir(name)] {
			files[name] = &inode{data: clone(ino.synced), synced: clone(ino.synced)}
		}
	}
	m.files, m.dirs = files, dirs
	m.durFiles = map[string]*inode{}
	for k, v := range files {
		m.durFiles[k] = v
	}
	m.durDirs = map[string]bool{}
	for k := range dirs {
		m.durDirs[k] = true
	}
	m.revive()
}

// Revive ends a simulated process death without losing anything: what was
// written stays, as after kill -9. Open handles become invalid, so a
// goroutine of the dead process cannot write any more.
func (m *MemFS) Revive() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.revive()
}

func (m *MemFS) revive() {
	m.dead = false
	m.crashAfter = -1
	m.gen++
}

// SyncAll makes the whole current state durable (a test checkpoint).
func (m *MemFS) SyncAll() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.durFiles = map[string]*inode{}
	for k, v := range m.files {
		v.synced = clone(v.data)
		m.durFiles[k] = v
	}
	m.durDirs = map[string]bool{}
	for k := range m.dirs {
		m.durDirs[k] = true
	}
}

// ReadFile returns a file's current contents.
func (m *MemFS) ReadFile(name string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ino, ok := m.files[clean(name)]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return clone(ino.data), nil
}

// WriteFile creates or replaces a file (not yet durable: call SyncAll).
func (m *MemFS) WriteFile(name string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	name = clean(name)
	if !m.dirs[filepath.Dir(name)] {
		return &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	m.files[name] = &inode{data: clone(data)}
	return nil
}

// List returns the sorted names of the files directly in dir.
func (m *MemFS) List(dir string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir = clean(dir)
	var out []string
	for name := range m.files {
		if filepath.Dir(name) == dir {
			out = append(out, filepath.Base(name))
		}
	}
	sort.Strings(out)
	return out
}

// begin runs the hook, then (under the lock) accounts the operation, checks
// the simulated death and the faults. It returns with m.mu held when err is
// nil or a fault matched (the caller may still need the lock for a short
// write); the caller unlocks.
func (m *MemFS) begin(op Op, path string, mutating bool) (*faultState, error) {
	m.mu.Lock()
	h := m.hook
	m.mu.Unlock()
	if h != nil {
		h(op, path)
	}
	m.mu.Lock()
	m.counts[op]++
	if m.dead {
		return nil, ErrCrashed
	}
	if mutating && m.crashAfter >= 0 {
		if m.crashAfter == 0 {
			m.dead = true
			return nil, ErrCrashed
		}
		m.crashAfter--
	}
	for _, f := range m.faults {
		if f.Op != op || !strings.Contains(path, f.Path) {
			continue
		}
		if f.Times > 0 && f.fired >= f.Times {
			continue
		}
		f.fired++
		return f, f.Err
	}
	return nil, nil
}

func (m *MemFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	name = clean(name)
	mut := flag&(os.O_CREATE|os.O_TRUNC) != 0
	if _, err := m.begin(OpOpen, name, mut); err != nil {
		m.mu.Unlock()
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	defer m.mu.Unlock()
	if m.dirs[name] {
		return nil, &fs.PathError{Op: "open", Path: name, Err: errors.New("is a directory")}
	}
	ino, ok := m.files[name]
	switch {
	case !ok && flag&os.O_CREATE == 0:
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	case ok && flag&os.O_CREATE != 0 && flag&os.O_EXCL != 0:
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrExist}
	case !ok:
		if !m.dirs[filepath.Dir(name)] {
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		}
		ino = &inode{}
		m.files[name] = ino
	}
	if flag&os.O_TRUNC != 0 {
		ino.data = ino.data[:0:0]
	}
	return &memFile{m: m, ino: ino, name: name, flag: flag, gen: m.gen}, nil
}

func (m *MemFS) Rename(oldpath, newpath string) error {
	oldpath, newpath = clean(oldpath), clean(newpath)
	if _, err := m.begin(OpRename, oldpath+" -> "+newpath, true); err != nil {
		m.mu.Unlock()
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
	}
	defer m.mu.Unlock()
	ino, ok := m.files[oldpath]
	if !ok {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: fs.ErrNotExist}
	}
	if !m.dirs[filepath.Dir(newpath)] {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: fs.ErrNotExist}
	}
	delete(m.files, oldpath)
	m.files[newpath] = ino
	return nil
}

func (m *MemFS) Remove(name string) error {
	name = clean(name)
	if _, err := m.begin(OpRemove, name, true); err != nil {
		m.mu.Unlock()
		return &fs.PathError{Op: "remove", Path: name, Err: err}
	}
	defer m.mu.Unlock()
	if _, ok := m.files[name]; ok {
		delete(m.files, name)
		return nil
	}
	if m.dirs[name] {
		for p := range m.files {
			if filepath.Dir(p) == name {
				return &fs.PathError{Op: "remove", Path: name, Err: errors.New("directory not empty")}
			}
		}
		delete(m.dirs, name)
		return nil
	}
	return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
}

func (m *MemFS) Stat(name string) (fs.FileInfo, error) {
	name = clean(name)
	if _, err := m.begin(OpStat, name, false); err != nil {
		m.mu.Unlock()
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	defer m.mu.Unlock()
	if m.dirs[name] {
		return fileInfo{name: filepath.Base(name), dir: true}, nil
	}
	if ino, ok := m.files[name]; ok {
		return fileInfo{name: filepath.Base(name), size: int64(len(ino.data))}, nil
	}
	return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
}

func (m *MemFS) ReadDir(name string) ([]fs.DirEntry, error) {
	name = clean(name)
	if _, err := m.begin(OpReadDir, name, false); err != nil {
		m.mu.Unlock()
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	defer m.mu.Unlock()
	if !m.dirs[name] {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	var out []fs.DirEntry
	for p, ino := range m.files {
		if filepath.Dir(p) == name {
			out = append(out, fs.FileInfoToDirEntry(fileInfo{name: filepath.Base(p), size: int64(len(ino.data))}))
		}
	}
	for d := range m.dirs {
		if d != name && filepath.Dir(d) == name {
			out = append(out, fs.FileInfoToDirEntry(fileInfo{name: filepath.Base(d), dir: true}))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}

func (m *MemFS) MkdirAll(path string, perm fs.FileMode) error {
	path = clean(path)
	if _, err := m.begin(OpMkdir, path, true); err != nil {
		m.mu.Unlock()
		return &fs.PathError{Op: "mkdir", Path: path, Err: err}
	}
	defer m.mu.Unlock()
	for p := path; !m.dirs[p]; p = filepath.Dir(p) {
		if _, isFile := m.files[p]; isFile {
			return &fs.PathError{Op: "mkdir", Path: p, Err: errors.New("not a directory")}
		}
		m.dirs[p] = true
	}
	return nil
}

func (m *MemFS) SyncDir(path string) error {
	path = clean(path)
	if _, err := m.begin(OpSyncDir, path, true); err != nil {
		m.mu.Unlock()
		return &fs.PathError{Op: "fsync", Path: path, Err: err}
	}
	defer m.mu.Unlock()
	if !m.dirs[path] {
		return &fs.PathError{Op: "fsync", Path: path, Err: fs.ErrNotExist}
	}
	for p := range m.durFiles {
		if filepath.Dir(p) == path {
			delete(m.durFiles, p)
		}
	}
	for p, ino := range m.files {
		if filepath.Dir(p) == path {
			m.durFiles[p] = ino
		}
	}
	for d := range m.durDirs {
		if d != path && filepath.Dir(d) == path && !m.dirs[d] {
			delete(m.durDirs, d)
		}
	}
	for d := range m.dirs {
		if d != path && filepath.Dir(d) == path {
			m.durDirs[d] = true
		}
	}
	return nil
}

// durableChain reports whether d and all its ancestors are durable.
func (m *MemFS) durableChain(d string) bool {
	for {
		if !m.durDirs[d] {
			return false
		}
		p := filepath.Dir(d)
		if p == d {
			return true
		}
		d = p
	}
}

type memFile struct {
	m      *MemFS
	ino    *inode
	name   string
	flag   int
	gen    int
	pos    int64
	closed bool
}

// check validates the handle; called with m.mu held.
func (f *memFile) check() error {
	if f.closed {
		return os.ErrClosed
	}
	if f.gen != f.m.gen {
		return ErrCrashed
	}
	return nil
}

func (f *memFile) Read(p []byte) (int, error) {
	m := f.m
	if _, err := m.begin(OpRead, f.name, false); err != nil {
		m.mu.Unlock()
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: err}
	}
	defer m.mu.Unlock()
	if err := f.check(); err != nil {
		return 0, err
	}
	if f.pos >= int64(len(f.ino.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.ino.data[f.pos:])
	f.pos += int64(n)
	return n, nil
}

func (f *memFile) Write(p []byte) (int, error) {
	m := f.m
	fault, err := m.begin(OpWrite, f.name, true)
	defer m.mu.Unlock()
	if err == nil {
		err = f.check()
	}
	if err != nil && (fault == nil || fault.Short == 0) {
		return 0, &fs.PathError{Op: "write", Path: f.name, Err: err}
	}
	if f.flag&(os.O_WRONLY|os.O_RDWR) == 0 {
		return 0, &fs.PathError{Op: "write", Path: f.name, Err: errors.New("bad file descriptor")}
	}
	n := len(p)
	if fault != nil && fault.Short < n {
		n = fault.Short
	}
	if f.flag&os.O_APPEND != 0 {
		f.pos = int64(len(f.ino.data))
	}
	end := f.pos + int64(n)
	if end > int64(len(f.ino.data)) {
		f.ino.data = append(f.ino.data, make([]byte, end-int64(len(f.ino.data)))...)
	}
	copy(f.ino.data[f.pos:end], p[:n])
	f.pos = end
	if err != nil {
		return n, &fs.PathError{Op: "write", Path: f.name, Err: err}
	}
	return n, nil
}

func (f *memFile) sync() error {
	m := f.m
	if _, err := m.begin(OpSync, f.name, true); err != nil {
		m.mu.Unlock()
		return &fs.PathError{Op: "fsync", Path: f.name, Err: err}
	}
	defer m.mu.Unlock()
	if err := f.check(); err != nil {
		return err
	}
	f.ino.synced = clone(f.ino.data)
	return nil
}

func (f *memFile) Sync() error     { return f.sync() }
func (f *memFile) Datasync() error { return f.sync() }

func (f *memFile) Truncate(size int64) error {
	m := f.m
	if _, err := m.begin(OpTruncate, f.name, true); err != nil {
		m.mu.Unlock()
		return &fs.PathError{Op: "truncate", Path: f.name, Err: err}
	}
	defer m.mu.Unlock()
	if err := f.check(); err != nil {
		return err
	}
	if size < int64(len(f.ino.data)) {
		f.ino.data = f.ino.data[:size]
	} else {
		f.ino.data = append(f.ino.data, make([]byte, size-int64(len(f.ino.data)))...)
	}
	return nil
}

func (f *memFile) Stat() (fs.FileInfo, error) {
	m := f.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := f.check(); err != nil {
		return nil, err
	}
	return fileInfo{name: filepath.Base(f.name), size: int64(len(f.ino.data))}, nil
}

func (f *memFile) Close() error {
	m := f.m
	m.mu.Lock()
	defer m.mu.Unlock()
	m.counts[OpClose]++
	if f.closed {
		return os.ErrClosed
	}
	f.closed = true
	return nil
}

type fileInfo struct {
	name string
	size int64
	dir  bool
}

func (i fileInfo) Name() string { return i.name }
func (i fileInfo) Size() int64  { return i.size }
func (i fileInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}
func (i fileInfo) ModTime() time.Time { return time.Time{} }
func (i fileInfo) IsDir() bool        { return i.dir }
func (i fileInfo) Sys() any           { return nil }

func clean(p string) string {
	p = filepath.Clean(p)
	if !filepath.IsAbs(p) {
		p = "/" + p
	}
	return p
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}
