package aof

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/celerity/celerity/aof/vfs"
)

// AOF is an open multi-part append-only file. See the package
// documentation for its life cycle and guarantees.
type AOF struct {
	opts Options
	// Settings CONFIG SET may change while the writer runs (SetFsync...).
	fsync            atomic.Int32 // FsyncPolicy
	noFsyncOnRewrite atomic.Bool
	timestamps       atomic.Bool
	fs               vfs.FS
	dir              string
	appendDir        string
	plan             *LoadPlan

	// Lock order, outer to inner: manMu, mu, wmu, statsMu. No lock is held
	// across a wait for the writer goroutine.

	// manMu serialises manifest changes; man is the manifest as last
	// persisted (or loaded).
	manMu sync.Mutex
	man   *Manifest

	// mu guards the append path: the buffer of bytes not yet handed to
	// the writer, logical offsets, pending incr switches and life cycle.
	mu       sync.Mutex
	buf      []byte
	spare    []byte
	bufStart uint64 // logical offset of buf[0]
	appended uint64 // logical offset after the last appended byte
	cuts     []*cut
	started  bool
	closing  bool
	lastTS   int64
	rewrite  *Rewrite
	used     map[string]bool // every file name handed out or listed
	baseSeq  int64
	incrSeq  int64

	kick       chan struct{}
	stop       chan struct{}
	writerDone chan struct{}

	// cycleMu is held by whoever runs a writer cycle: the writer goroutine,
	// or a waiter writing inline (writeInline). Everything the cycle
	// touches (the open incr file, written/synced offsets, the fsync in
	// flight, retry and postponement state) belongs to its holder.
	cycleMu      sync.Mutex
	writerExited bool // shutdown ran: no more cycles

	// wmu guards the waiters and the error states.
	wmu       sync.Mutex
	published atomic.Uint64 // durable to the policy; WaitWritten's target
	waiters   waiterHeap
	failStop  *FailStopError
	hasFail   atomic.Bool
	unhealthy atomic.Bool // LastWriteError != nil, readable without wmu
	writeErr  *WriteError // "last write failed" (everysec, no)
	fsyncErr  *WriteError // last background fsync failed
	closed    bool

	// Writer goroutine state: touched only by the writer once started.
	f              vfs.File
	fName          string
	fSize          int64
	written        uint64
	synced         uint64
	inflight       *fsyncJob
	lastFsync      time.Time
	postponedStart time.Time
	lastRetry      time.Time
	finalErr       error

	rewriting    atomic.Bool
	writtenA     atomic.Uint64
	syncedA      atomic.Uint64
	pendingFsync atomic.Int32
	delayedFsync atomic.Int64

	statsMu           sync.Mutex
	baseFileSize      int64
	incrSizes         map[string]int64
	rewriteBaseSize   int64 // aof_base_size
	rewrites          int64
	rewriteFailures   int64 // consecutive
	lastRewriteOK     bool
	lastRewriteTime   time.Duration
	haveLastRewrite   bool
	rewriteStartedAt  time.Time
	rewriteInProgress bool
}

// Open opens (or prepares to create) the AOF of the server directory dir:
// it reads <dir>/<DirName>/<FileName>.manifest and checks that the files it
// lists exist. A pre-7.0 single file <dir>/<FileName> is upgraded first, as
// Redis 7.0 does: it is moved into the AOF directory unchanged and becomes
// the base of a new manifest. Open returns the plan to replay; the AOF
// accepts appends but writes nothing until Start. A missing directory or
// manifest is an empty AOF (Start creates one); a malformed manifest is a
// *ManifestError.
func Open(dir string, opts Options) (*AOF, *LoadPlan, error) {
	opts = opts.withDefaults()
	if strings.ContainsRune(opts.FileName, '/') || strings.ContainsRune(opts.DirName, '/') {
		return nil, nil, errors.New("aof: appendfilename and appenddirname can't be paths, just names")
	}
	a := &AOF{
		opts:       opts,
		fs:         opts.FS,
		dir:        dir,
		appendDir:  filepath.Join(dir, opts.DirName),
		kick:       make(chan struct{}, 1),
		stop:       make(chan struct{}),
		writerDone: make(chan struct{}),
		incrSizes:  map[string]int64{},
		used:       map[string]bool{},
	}
	a.lastRewriteOK = true
	a.fsync.Store(int32(opts.Fsync))
	a.noFsyncOnRewrite.Store(opts.NoFsyncOnRewrite)
	a.timestamps.Store(opts.Timestamps)
	man, err := a.readManifest()
	if err != nil {
		return nil, nil, err
	}
	if man, err = a.upgradeIfNeeded(man); err != nil {
		return nil, nil, err
	}
	a.man = man
	plan := &LoadPlan{a: a}
	if !man.Empty() {
		entries := []ManifestEntry{}
		if man.Base != nil {
			entries = append(entries, *man.Base)
		}
		entries = append(entries, man.Incr...)
		for _, e := range entries {
			fi, err := a.fs.Stat(a.path(e.Name))
			if err != nil {
				return nil, nil, fmt.Errorf("aof: unable to obtain the AOF file %s length: %w", e.Name, err)
			}
			plan.files = append(plan.files, PlanFile{Name: e.Name, Seq: e.Seq, Type: e.Type, Size: fi.Size()})
		}
	}
	a.plan = plan
	return a, plan, nil
}

func (a *AOF) path(name string) string { return filepath.Join(a.appendDir, name) }

func (a *AOF) manifestPath() string { return a.path(a.opts.FileName + ".manifest") }

func (a *AOF) tempManifestPath() string { return a.path("temp-" + a.opts.FileName + ".manifest") }

// readManifest returns nil when there is no manifest.
func (a *AOF) readManifest() (*Manifest, error) {
	f, err := a.fs.OpenFile(a.manifestPath(), os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("aof: reading the manifest: %w", err)
	}
	defer f.Close()
	var data []byte
	buf := make([]byte, 32<<10)
	for {
		n, err := f.Read(buf)
		data = append(data, buf[:n]...)
		if err != nil {
			if err == io.EOF {
				break
			}
			return nil, fmt.Errorf("aof: reading the manifest: %w", err)
		}
		if len(data) > 64<<20 {
			return nil, &ManifestError{Err: ErrManifestLineTooLong}
		}
	}
	return ParseManifest(data)
}

// upgradeIfNeeded moves a pre-7.0 single-file AOF into the AOF directory,
// with Redis 7.0's three conditions: the old file exists in dir and (the
// AOF directory does not exist, or it has no manifest listing a base or an
// incr, or the manifest lists only a base named like the old file that is
// not in the directory yet: a previous upgrade that crashed between writing
// the manifest and moving the file).
func (a *AOF) upgradeIfNeeded(man *Manifest) (*Manifest, error) {
	old := filepath.Join(a.dir, a.opts.FileName)
	fi, err := a.fs.Stat(old)
	if err != nil || fi.IsDir() {
		return man, nil
	}
	_, dirErr := a.fs.Stat(a.appendDir)
	need := dirErr != nil || man.Empty()
	if !need && man.Base != nil && len(man.Incr) == 0 && man.Base.Name == a.opts.FileName {
		_, err := a.fs.Stat(a.path(a.opts.FileName))
		need = errors.Is(err, fs.ErrNotExist)
	}
	if !need {
		return man, nil
	}
	if err := a.mkdirAppendDir(); err != nil {
		return nil, err
	}
	m := &Manifest{Base: &ManifestEntry{Name: a.opts.FileName, Seq: 1, Type: TypeBase}}
	if man != nil {
		m.History = append(m.History, man.History...)
	}
	// The manifest first: if we crash before the rename, the third
	// condition above finishes the job on the next start.
	if err := a.persistManifest(m); err != nil {
		return nil, err
	}
	if err := a.fs.Rename(old, a.path(a.opts.FileName)); err != nil {
		return nil, fmt.Errorf("aof: moving %s into %s: %w", a.opts.FileName, a.opts.DirName, err)
	}
	if err := a.fs.SyncDir(a.appendDir); err != nil {
		return nil, fmt.Errorf("aof: upgrading: %w", err)
	}
	if err := a.fs.SyncDir(a.dir); err != nil {
		return nil, fmt.Errorf("aof: upgrading: %w", err)
	}
	a.opts.logf(LevelNotice, "Successfully migrated an old-style AOF file (%s) into the AOF directory (%s).",
		a.opts.FileName, a.opts.DirName)
	return m, nil
}

func (a *AOF) mkdirAppendDir() error {
	if _, err := a.fs.Stat(a.appendDir); err == nil {
		return nil
	}
	if err := a.fs.MkdirAll(a.appendDir, 0o755); err != nil {
		return fmt.Errorf("aof: can't create the AOF directory %s: %w", a.opts.DirName, err)
	}
	// The new directory's entry lives in dir: make it durable too.
	if err := a.fs.SyncDir(a.dir); err != nil {
		return fmt.Errorf("aof: can't create the AOF directory %s: %w", a.opts.DirName, err)
	}
	return nil
}

// persistManifest replaces the manifest atomically and durably: a temp
// file, fsynced, renamed over the manifest, then the directory fsynced.
// Whatever the crash point, the manifest on disk is the old or the new one.
func (a *AOF) persistManifest(m *Manifest) error {
	tmp := a.tempManifestPath()
	err := a.writeFileSync(tmp, m.Format())
	if err == nil {
		err = a.fs.Rename(tmp, a.manifestPath())
	}
	if err == nil {
		err = a.fs.SyncDir(a.appendDir)
	}
	if err != nil {
		_ = a.fs.Remove(tmp)
		return fmt.Errorf("aof: persisting the manifest: %w", err)
	}
	return nil
}

func (a *AOF) writeFileSync(path string, data []byte) error {
	f, err := a.fs.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if len(data) > 0 {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Start makes the AOF writable after its plan was replayed: it truncates a
// reported torn tail, creates the base and incr files a new AOF needs
// (Redis's "Creating AOF base file ... on server start"), records them in
// the manifest before anything is written to them, deletes history files
// (unless DisableAutoGC) and leftover temporary files, and starts the
// writer. The plan must have been read to its end without error.
func (a *AOF) Start() error {
	a.mu.Lock()
	if a.started || a.closing {
		a.mu.Unlock()
		return errors.New("aof: Start called twice or after Close")
	}
	a.mu.Unlock()
	p := a.plan
	if p.err != nil {
		return p.err
	}
	if !p.done {
		return ErrLoadIncomplete
	}
	if err := a.mkdirAppendDir(); err != nil {
		return err
	}
	if t := p.trunc; t != nil {
		if err := a.truncateFile(t.File, t.Offset); err != nil {
			return err
		}
		for i := range p.files {
			if p.files[i].Name == t.File {
				p.files[i].Size = t.Offset
			}
		}
	}
	a.removeTempFiles()

	a.manMu.Lock()
	defer a.manMu.Unlock()
	m := &Manifest{}
	if a.man != nil {
		m = a.man.Clone()
	}
	a.mu.Lock()
	for _, name := range allNames(m) {
		a.used[name] = true
	}
	if m.Base != nil {
		a.baseSeq = m.Base.Seq
	}
	if n := len(m.Incr); n > 0 {
		a.incrSeq = m.Incr[n-1].Seq
	}
	a.mu.Unlock()

	dirty := false
	var baseSize int64
	if m.Empty() {
		a.mu.Lock()
		seq, name := a.allocName(TypeBase)
		a.mu.Unlock()
		var content []byte
		if a.timestamps.Load() {
			content = appendTimestamp(nil, a.opts.Now().Unix())
		}
		if err := a.writeFileSync(a.path(name), content); err != nil {
			return fmt.Errorf("aof: creating the base file %s: %w", name, err)
		}
		baseSize = int64(len(content))
		m.Base = &ManifestEntry{Name: name, Seq: seq, Type: TypeBase}
		a.opts.logf(LevelNotice, "Creating AOF base file %s on server start", name)
		dirty = true
	} else if m.Base != nil {
		baseSize = a.fileSize(m.Base.Name)
	}
	var f vfs.File
	var err error
	if len(m.Incr) == 0 {
		a.mu.Lock()
		seq, name := a.allocName(TypeIncr)
		a.mu.Unlock()
		f, err = a.fs.OpenFile(a.path(name), os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("aof: creating the incr file %s: %w", name, err)
		}
		m.Incr = append(m.Incr, ManifestEntry{Name: name, Seq: seq, Type: TypeIncr})
		a.opts.logf(LevelNotice, "Creating AOF incr file %s on server start", name)
		dirty = true
	} else {
		name := m.Incr[len(m.Incr)-1].Name
		f, err = a.fs.OpenFile(a.path(name), os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("aof: opening the incr file %s: %w", name, err)
		}
		a.opts.logf(LevelNotice, "Opening AOF incr file %s on server start", name)
	}
	last := m.Incr[len(m.Incr)-1].Name
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("aof: opening the incr file %s: %w", last, err)
	}
	if dirty {
		// New files must be durable names before a durable manifest
		// refers to them.
		err := a.fs.SyncDir(a.appendDir)
		if err == nil {
			err = a.persistManifest(m)
		}
		if err != nil {
			f.Close()
			return err
		}
	}
	a.man = m
	if !a.opts.DisableAutoGC {
		a.gcHistoryLocked()
	}

	a.statsMu.Lock()
	a.baseFileSize = baseSize
	total := baseSize
	for _, e := range m.Incr {
		sz := a.fileSize(e.Name)
		if e.Name == last {
			sz = fi.Size()
		}
		a.incrSizes[e.Name] = sz
		total += sz
	}
	a.rewriteBaseSize = total
	a.statsMu.Unlock()

	a.f, a.fName, a.fSize = f, last, fi.Size()
	// Like Redis, the first everysec fsync comes an interval after start.
	a.lastFsync = time.Now()
	a.mu.Lock()
	a.started = true
	a.mu.Unlock()
	go a.run()
	return nil
}

func (a *AOF) fileSize(name string) int64 {
	fi, err := a.fs.Stat(a.path(name))
	if err != nil {
		return 0
	}
	return fi.Size()
}

func (a *AOF) truncateFile(name string, size int64) error {
	f, err := a.fs.OpenFile(a.path(name), os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("aof: truncating %s: %w", name, err)
	}
	err = f.Truncate(size)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("aof: truncating %s: %w", name, err)
	}
	return nil
}

// removeTempFiles deletes what an interrupted rewrite or manifest update
// left behind; nothing ever refers to a temp- file.
func (a *AOF) removeTempFiles() {
	ents, err := a.fs.ReadDir(a.appendDir)
	if err != nil {
		return
	}
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, tempRewritePrefix) || n == "temp-"+a.opts.FileName+".manifest" {
			if a.fs.Remove(a.path(n)) == nil {
				a.opts.logf(LevelVerbose, "Removed the leftover temporary file %s", n)
			}
		}
	}
}

// gcHistoryLocked deletes history files and rewrites the manifest without
// them (those that could not be deleted stay listed). Called with manMu.
func (a *AOF) gcHistoryLocked() {
	if len(a.man.History) == 0 {
		return
	}
	m := a.man.Clone()
	m.History = nil
	for _, h := range a.man.History {
		a.opts.logf(LevelNotice, "Removing the history file %s in the background", h.Name)
		if err := a.fs.Remove(a.path(h.Name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			a.opts.logf(LevelWarning, "Can't remove the history file %s: %v", h.Name, err)
			m.History = append(m.History, h)
		}
	}
	if err := a.persistManifest(m); err != nil {
		a.opts.logf(LevelWarning, "Can't update the AOF manifest after removing history files: %v", err)
		return
	}
	a.man = m
}

func allNames(m *Manifest) []string {
	var out []string
	if m.Base != nil {
		out = append(out, m.Base.Name)
	}
	for _, e := range m.History {
		out = append(out, e.Name)
	}
	for _, e := range m.Incr {
		out = append(out, e.Name)
	}
	return out
}

// allocName hands out the next sequence number and file name of a type,
// skipping names already listed (Redis can reuse a history name; here a
// new file never overwrites a listed one). Called with mu held.
func (a *AOF) allocName(t FileType) (int64, string) {
	return a.allocNameExt(t, "aof")
}

// allocNameExt is allocName with the base's extension: "rdb" for a base
// written with an RDB preamble, as Redis names it.
func (a *AOF) allocNameExt(t FileType, ext string) (int64, string) {
	for {
		var seq int64
		var name string
		if t == TypeBase {
			a.baseSeq++
			seq, name = a.baseSeq, fmt.Sprintf("%s.%d.base.%s", a.opts.FileName, a.baseSeq, ext)
		} else {
			a.incrSeq++
			seq, name = a.incrSeq, fmt.Sprintf("%s.%d.incr.aof", a.opts.FileName, a.incrSeq)
		}
		if !a.used[name] {
			a.used[name] = true
			return seq, name
		}
	}
}

// Manifest returns a copy of the manifest as last persisted.
func (a *AOF) Manifest() *Manifest {
	a.manMu.Lock()
	defer a.manMu.Unlock()
	if a.man == nil {
		return &Manifest{}
	}
	return a.man.Clone()
}

// Dir returns the AOF directory (<dir>/<DirName>).
func (a *AOF) Dir() string { return a.appendDir }
