package resp

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/celerity/celerity/aof/rdb"
	"github.com/celerity/celerity/keyspace"
)

// RDB snapshots (package aof/rdb writes and reads the format) in the
// engine's life, as Redis 7.0 has them:
//
//   - SAVE, SHUTDOWN (with save points or SAVE) and FLUSHALL (with save
//     points) write the dataset synchronously, under the engine lock.
//   - BGSAVE and the save points write it in the background: where Redis
//     forks, Celerity opens a keyspace snapshot (copy-before-write, as the
//     AOF rewrite does) and encodes it in bounded steps of the engine lock;
//     the file is written and fsynced outside the lock. One snapshot may
//     be open at a time, so a BGSAVE and a BGREWRITEAOF wait for each
//     other (scheduled), as Redis's one child process makes them.
//   - Files are written to temp-<pid>.rdb in dir, fsynced, renamed over
//     dbfilename, and the directory fsynced: a copy taken at any moment is
//     either the old file or the new one.
//   - At start-up with appendonly no, dbfilename is loaded if present; a
//     damaged file stops the server, as in Redis.
//   - While the last background save failed and save points are set,
//     stop-writes-on-bgsave-error refuses writes with -MISCONF.

// errMisconfRDB is Redis 7.0.15's refusal of writes after a failed save.
const errMisconfRDB = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. " +
	"Commands that may modify the data set are disabled, because this instance is configured to report errors during " +
	"writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details " +
	"about the RDB error."

// bgsaveRetryDelay is how long save points wait after a failed background
// save before trying again (Redis's CONFIG_BGSAVE_RETRY_DELAY).
const bgsaveRetryDelay = 5 * time.Second

// rdbAutosyncBytes is how often rdb-save-incremental-fsync fsyncs the file
// being written (Redis's REDIS_AUTOSYNC_BYTES).
const rdbAutosyncBytes = 4 << 20

// rdbState is the snapshot bookkeeping INFO persistence and LASTSAVE show.
type rdbState struct {
	dirtyAtSave      int64     // s.dirty as of the last successful save's cut
	lastSave         time.Time // last successful save (LASTSAVE)
	lastBgsaveOK     bool      // rdb_last_bgsave_status
	lastBgsaveTry    time.Time // start of the last background save
	lastBgsaveSec    int64     // rdb_last_bgsave_time_sec, -1 before any
	saves            int64     // rdb_saves
	bgsave           *bgsaveJob
	bgsaveScheduled  bool // BGSAVE SCHEDULE, or BGSAVE during a rewrite
	rewriteScheduled bool // BGREWRITEAOF during a BGSAVE
	denyWrites       bool // stop-writes-on-bgsave-error is in force
	loadedKeys       int64
	expiredKeys      int64
}

// updateDenyWrites recomputes whether writes are refused after a failed
// background save. Called when its inputs change, so that dispatch tests
// one boolean.
func (s *Server) updateDenyWrites() {
	s.rdb.denyWrites = s.cfg.StopWritesOnBgsaveError && len(s.cfg.SavePoints) > 0 && !s.rdb.lastBgsaveOK
}

// rdbWriterOptions maps the configuration onto the writer's options.
func (s *Server) rdbWriterOptions() rdb.WriterOptions {
	l := s.ks.Limits()
	return rdb.WriterOptions{
		Compress: s.cfg.RDBCompression,
		Checksum: s.cfg.RDBChecksum,
		Limits: rdb.Limits{
			HashMaxListpackEntries: l.HashMaxListpackEntries,
			HashMaxListpackValue:   l.HashMaxListpackValue,
			ZSetMaxListpackEntries: l.ZSetMaxListpackEntries,
			ZSetMaxListpackValue:   l.ZSetMaxListpackValue,
			SetMaxIntsetEntries:    l.SetMaxIntsetEntries,
			ListMaxListpackSize:    l.ListMaxListpackSize,
		},
	}
}

// rdbAux is the header Redis 7.0.15 writes: its version, word size, the
// time, memory in use and whether the file is an AOF base.
func (s *Server) rdbAux(aofBase bool) []rdb.Aux {
	base := "0"
	if aofBase {
		base = "1"
	}
	return []rdb.Aux{
		{Key: "redis-ver", Value: Version},
		{Key: "redis-bits", Value: "64"},
		{Key: "ctime", Value: strconv.FormatInt(time.Now().Unix(), 10)},
		{Key: "used-mem", Value: strconv.FormatInt(s.memoryOverview().used, 10)},
		{Key: "aof-base", Value: base},
	}
}

// entryValue describes e's value for the writer, in v (reused between
// keys). Its slices alias the keyspace: v is valid until the lock is
// released or the key changes.
func entryValue(e *keyspace.Entry, v *rdb.Value) *rdb.Value {
	v.Str = nil
	v.Elems = v.Elems[:0]
	v.Pairs = v.Pairs[:0]
	v.Zset = v.Zset[:0]
	switch e.Type() {
	case keyspace.TypeString:
		v.Kind, v.Str = rdb.KindString, e.Bytes()
	case keyspace.TypeList:
		v.Kind = rdb.KindList
		l := e.Agg().(*keyspace.List)
		l.Range(0, l.Len()-1, func(b []byte) bool {
			v.Elems = append(v.Elems, b)
			return true
		})
	case keyspace.TypeSet:
		v.Kind = rdb.KindSet
		st := e.Agg().(*keyspace.Set)
		for i := 0; i < st.Len(); i++ {
			v.Elems = append(v.Elems, []byte(st.MemberString(i)))
		}
	case keyspace.TypeZSet:
		v.Kind = rdb.KindZSet
		z := e.Agg().(*keyspace.ZSet)
		it, ok := z.Index().First()
		for ; ok && it.Valid(); ok = it.Next() {
			el := it.Element()
			v.Zset = append(v.Zset, rdb.ScoreMember{Member: []byte(el.Member), Score: el.Score})
		}
	case keyspace.TypeHash:
		v.Kind = rdb.KindHash
		for _, p := range e.Agg().(*keyspace.Hash).Pairs() {
			v.Pairs = append(v.Pairs, rdb.FieldValue{Field: []byte(p.Field), Value: []byte(p.Value)})
		}
	}
	return v
}

// syncWriter counts the bytes written to f and, with incremental fsync,
// fsyncs every rdbAutosyncBytes.
type syncWriter struct {
	f           *os.File
	n, lastSync int64
	incremental bool
}

func (w *syncWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.n += int64(n)
	if err == nil && w.incremental && w.n-w.lastSync >= rdbAutosyncBytes {
		w.lastSync = w.n
		err = w.f.Sync()
	}
	return n, err
}

// rdbTempName is the file a save writes before renaming it.
// SAVE names it after the process, as Redis does; a background save, which
// Redis names after its child, uses a name of its own, so that an aborted
// one cleaning up can never remove a synchronous save's file.
func rdbTempName(background bool) string {
	if background {
		return fmt.Sprintf("temp-%d-bgsave.rdb", os.Getpid())
	}
	return fmt.Sprintf("temp-%d.rdb", os.Getpid())
}

// createRDBTemp opens the temporary file of a save, logging Redis's line
// when it cannot.
func (s *Server) createRDBTemp(background bool) (*os.File, string, error) {
	name := rdbTempName(background)
	f, err := os.Create(filepath.Join(s.cfg.Dir, name))
	if err != nil {
		cwd, werr := os.Getwd()
		if werr != nil {
			cwd = "unknown"
		}
		s.log.Warn().Msg(fmt.Sprintf("Failed opening the temp RDB file %s (in server root dir %s) for saving: %s",
			name, cwd, syscallErrText(err)))
		return nil, "", err
	}
	return f, f.Name(), nil
}

// installRDB makes the written temporary file the dump: fsync, close,
// rename over dbfilename, fsync the directory.
func (s *Server) installRDB(f *os.File, tmp, dir, dbfilename string) error {
	err := f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, dbfilename))
	}
	if err == nil {
		if d, derr := os.Open(dir); derr == nil {
			err = d.Sync()
			d.Close()
		}
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// rdbSave writes the dataset to dbfilename now, under the engine lock:
// SAVE, SHUTDOWN and FLUSHALL. It returns the error that made it fail,
// already logged.
func (s *Server) rdbSave() error {
	if s.rdb.bgsave != nil {
		// Redis kills its child first; here the snapshot is simply
		// dropped, the synchronous save below supersedes it.
		s.rdb.bgsave.abort()
	}
	s.rdb.saves++
	f, tmp, err := s.createRDBTemp(false)
	if err != nil {
		return err
	}
	sw := &syncWriter{f: f, incremental: s.cfg.RDBSaveIncrementalFsync}
	w := rdb.NewWriter(sw, s.rdbWriterOptions())
	err = w.Header(s.rdbAux(false))
	var v rdb.Value
	for i := 0; i < s.ks.NumDBs() && err == nil; i++ {
		db := s.ks.DB(i)
		if db.Len() == 0 {
			continue
		}
		if err = w.SelectDB(i, uint64(db.Len()), uint64(db.Expires())); err != nil {
			break
		}
		db.ForEach(func(e *keyspace.Entry) {
			if err == nil {
				err = w.Key([]byte(e.Key()), e.ExpireAt(), entryValue(e, &v))
			}
		})
	}
	if err == nil {
		err = w.Finish()
	}
	if err == nil {
		err = s.installRDB(f, tmp, s.cfg.Dir, s.cfg.DBFilename)
	} else {
		f.Close()
		os.Remove(tmp)
	}
	if err != nil {
		s.log.Warn().Msg("Write error saving DB on disk: " + syscallErrText(err))
		return err
	}
	s.log.Info().Msg("DB saved on disk")
	s.rdb.dirtyAtSave = s.dirty
	s.rdb.lastSave = time.Now()
	s.rdb.lastBgsaveOK = true
	s.updateDenyWrites()
	return nil
}

// ---- BGSAVE ----

// bgsaveJob is a background save: a keyspace snapshot encoded into an
// RDB writer under the lock, its bytes written to the file outside it.
type bgsaveJob struct {
	s          *Server
	snap       *keyspace.Snapshot
	enc        *rdbStream
	spare      []byte
	f          *os.File
	tmp        string
	dir, name  string // where it goes, as of the start
	start      time.Time
	dirtyAtCut int64
	keys       int64 // emitted since the last step (rdb-key-save-delay)
	done       bool
}

// rdbStream encodes a snapshot as an RDB file into memory, key by key
// under the engine lock, for a job that writes the bytes outside it:
// BGSAVE's dump and the AOF rewrite's RDB base. The first error sticks.
type rdbStream struct {
	w     *rdb.Writer
	sink  sinkBuffer // what the writer flushed, not yet taken
	v     rdb.Value  // reused between keys
	db    int        // database of the last SELECTDB written
	sizes [][2]uint64
	err   error
}

// sinkBuffer collects what the writer flushes.
type sinkBuffer struct{ b []byte }

func (b *sinkBuffer) Write(p []byte) (int, error) {
	b.b = append(b.b, p...)
	return len(p), nil
}

// newRDBStream starts an RDB with the header and each database's sizes as
// of now (the cut). Engine lock held.
func (s *Server) newRDBStream(aofBase bool) *rdbStream {
	st := &rdbStream{db: -1, sizes: make([][2]uint64, s.ks.NumDBs())}
	for i := range st.sizes {
		db := s.ks.DB(i)
		st.sizes[i] = [2]uint64{uint64(db.Len()), uint64(db.Expires())}
	}
	st.w = rdb.NewWriter(&st.sink, s.rdbWriterOptions())
	st.err = st.w.Header(s.rdbAux(aofBase))
	return st
}

// key encodes one key of database db, as of the cut, expiring at at (0:
// never). A write can emit a key of any database before the snapshot's
// walk gets there, so SELECTDB is repeated whenever the database changes.
func (st *rdbStream) key(db int, e *keyspace.Entry, at int64) {
	if st.err != nil {
		return
	}
	if db != st.db {
		st.db = db
		if st.err = st.w.SelectDB(db, st.sizes[db][0], st.sizes[db][1]); st.err != nil {
			return
		}
	}
	st.err = st.w.Key([]byte(e.Key()), at, entryValue(e, &st.v))
}

// finish writes the trailer (EOF and checksum).
func (st *rdbStream) finish() {
	if st.err == nil {
		st.err = st.w.Finish()
	}
}

// take returns the bytes encoded so far and the first error; the stream
// goes on in spare's storage.
func (st *rdbStream) take(spare []byte) ([]byte, error) {
	data := st.sink.b
	st.sink.b = spare[:0]
	return data, st.err
}

// startBgsave starts a background save. Engine lock held. It returns ""
// or the error to reply.
func (s *Server) startBgsave() string {
	s.rdb.saves++
	s.rdb.lastBgsaveTry = time.Now()
	f, tmp, err := s.createRDBTemp(true)
	if err != nil {
		s.log.Warn().Msg("Background saving error")
		s.bgsaveDone(false, 0)
		// Redis reports the fork's success; the child fails later. The
		// status and -MISCONF follow as they would.
		return ""
	}
	j := &bgsaveJob{s: s, f: f, tmp: tmp, dir: s.cfg.Dir, name: s.cfg.DBFilename,
		start: time.Now(), dirtyAtCut: s.dirty, enc: s.newRDBStream(false)}
	j.snap = s.ks.BeginSnapshot(j.emit)
	s.rdb.bgsave = j
	s.rdb.bgsaveScheduled = false
	s.log.Info().Msg(fmt.Sprintf("Background saving started by pid %d", os.Getpid()))
	go j.run()
	return ""
}

// emit encodes one key as of the cut. Engine lock held; called from Step
// or from a write about to change the key.
func (j *bgsaveJob) emit(db int, e *keyspace.Entry) {
	j.enc.key(db, e, e.ExpireAt())
	j.keys++
}

// run walks the snapshot in bounded steps and writes the file.
func (j *bgsaveJob) run() {
	s := j.s
	sw := &syncWriter{f: j.f}
	for {
		s.lock()
		if j.done {
			s.mu.Unlock()
			return
		}
		sw.incremental = s.cfg.RDBSaveIncrementalFsync
		delay := s.cfg.RDBKeySaveDelay
		done := j.snap.Step(rewriteSlice)
		if done {
			j.snap.Close()
			j.enc.finish()
		}
		data, err := j.enc.take(j.spare)
		keys := j.keys
		j.keys = 0
		s.mu.Unlock()
		if err == nil && len(data) > 0 {
			_, err = sw.Write(data)
		}
		j.spare = data
		if err != nil {
			j.f.Close()
			os.Remove(j.tmp)
			s.log.Warn().Msg("Write error saving DB on disk: " + syscallErrText(err))
			j.finish(false)
			return
		}
		sleepKeySaveDelay(keys, delay)
		if done {
			break
		}
	}
	if err := s.installRDB(j.f, j.tmp, j.dir, j.name); err != nil {
		s.log.Warn().Msg("Write error saving DB on disk: " + syscallErrText(err))
		j.finish(false)
		return
	}
	s.log.Info().Msg("DB saved on disk")
	j.finish(true)
}

// sleepKeySaveDelay is rdb-key-save-delay: a background job (BGSAVE,
// BGREWRITEAOF) sleeps us microseconds per key it just wrote, as Redis's
// child does per key; Redis's own tests use it to keep a job running.
// Called without the engine lock.
func sleepKeySaveDelay(keys int64, us int) {
	if us > 0 && keys > 0 {
		time.Sleep(time.Duration(keys) * time.Duration(us) * time.Microsecond)
	}
}

// finish records the outcome. Called without the engine lock.
func (j *bgsaveJob) finish(ok bool) {
	s := j.s
	s.lock()
	defer s.mu.Unlock()
	if j.done {
		return
	}
	j.done = true
	j.snap.Close()
	s.rdb.bgsave = nil
	if ok {
		s.rdb.dirtyAtSave = j.dirtyAtCut
		s.log.Info().Msg("Background saving terminated with success")
	} else {
		s.log.Warn().Msg("Background saving error")
	}
	s.bgsaveDone(ok, time.Since(j.start))
}

// bgsaveDone updates the status after a background save. Engine lock.
func (s *Server) bgsaveDone(ok bool, took time.Duration) {
	s.rdb.lastBgsaveOK = ok
	s.rdb.lastBgsaveSec = int64(took.Seconds())
	if ok {
		s.rdb.lastSave = time.Now()
	}
	s.updateDenyWrites()
}

// abort drops a background save (SAVE, SHUTDOWN, FLUSHALL supersede it),
// removing its temporary file. Engine lock held.
func (j *bgsaveJob) abort() {
	if j.done {
		return
	}
	j.done = true
	j.snap.Close()
	j.f.Close()
	os.Remove(j.tmp)
	j.s.rdb.bgsave = nil
	j.s.log.Info().Msg("Background saving aborted")
}

// childActive reports whether a background save or AOF rewrite runs: the
// work Redis gives its one child process.
func (s *Server) childActive() bool { return s.rdb.bgsave != nil || s.rewrite != nil }

// snapshotCron starts what save points, BGSAVE SCHEDULE and a rewrite
// scheduled behind a save ask for, when no other is running. Engine lock.
func (s *Server) snapshotCron(now time.Time) {
	if s.childActive() {
		return
	}
	if s.rdb.rewriteScheduled && s.aof != nil {
		s.rdb.rewriteScheduled = false
		s.startRewrite()
		return
	}
	if s.rdb.bgsaveScheduled {
		s.startBgsave()
		return
	}
	changes := s.dirty - s.rdb.dirtyAtSave
	for _, sp := range s.cfg.SavePoints {
		if changes >= sp.Changes && now.Sub(s.rdb.lastSave) > time.Duration(sp.Seconds)*time.Second &&
			(s.rdb.lastBgsaveOK || now.Sub(s.rdb.lastBgsaveTry) > bgsaveRetryDelay) {
			s.log.Info().Msg(fmt.Sprintf("%d changes in %d seconds. Saving...", sp.Changes, sp.Seconds))
			s.startBgsave()
			return
		}
	}
}

// ---- commands ----

func snapshotCommands() []*Command {
	return []*Command{
		{Name: "save", Arity: 1, Flags: Admin | NoScript | NoAsyncLoading | NoMulti, Run: saveCommand},
		{Name: "bgsave", Arity: -1, Flags: Admin | NoScript | NoAsyncLoading, Run: bgsaveCommand},
		{Name: "lastsave", Arity: 1, Flags: Loading | Stale | Fast, ACL: CatAdmin | CatDangerous, Run: lastsaveCommand},
	}
}

func saveCommand(c *Client) {
	s := c.srv
	if s.rdb.bgsave != nil {
		c.Error("ERR Background save already in progress")
		return
	}
	if s.rdbSave() != nil {
		c.Error("ERR")
		return
	}
	c.OK()
}

// bgsaveCommand is BGSAVE [SCHEDULE].
func bgsaveCommand(c *Client) {
	s := c.srv
	schedule := false
	if len(c.argv) > 1 {
		if len(c.argv) == 2 && optIs(c.argv[1], "schedule") {
			schedule = true
		} else {
			c.SyntaxError()
			return
		}
	}
	switch {
	case s.rdb.bgsave != nil:
		c.Error("ERR Background save already in progress")
	case s.childActive() || c.flags&flagInExec != 0:
		// Inside EXEC Redis always schedules: the transaction's later
		// commands must not see a fork's effects.
		if schedule || c.flags&flagInExec != 0 {
			s.rdb.bgsaveScheduled = true
			c.Status("Background saving scheduled")
			return
		}
		c.Error("ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.")
	default:
		if msg := s.startBgsave(); msg != "" {
			c.Error(msg)
			return
		}
		c.Status("Background saving started")
	}
}

// lastsaveCommand answers the time of the last successful save (the
// start time before any).
func lastsaveCommand(c *Client) { c.Int(c.srv.rdb.lastSave.Unix()) }

// ---- loading ----

// loadRDB loads dbfilename at start-up, while clients get -LOADING (set
// here unless the caller is loading already). A missing file is no error
// (found is false); a damaged one is.
func (s *Server) loadRDB() (found bool, err error) {
	s.mu.Lock()
	path := filepath.Join(s.cfg.Dir, s.cfg.DBFilename)
	s.mu.Unlock()
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return false, nil
		}
		//lint:ignore ST1005 logged as the reason the server does not start, like Redis's lines
		return false, fmt.Errorf("Fatal error loading the DB: %s. Exiting.", syscallErrText(err))
	}
	defer f.Close()
	st, _ := f.Stat()
	start := time.Now()
	s.mu.Lock()
	own := !s.loading
	s.loading = true
	s.load = loadProgress{start: start, total: st.Size()}
	s.ks.SetLoading(true)
	s.mu.Unlock()
	if own {
		defer func() {
			s.mu.Lock()
			s.ks.SetLoading(false)
			s.loading = false
			s.mu.Unlock()
		}()
	}
	cr := &countingReader{r: f}
	loaded, expired, err := s.loadRDBStream(cr, func() { s.load.done = cr.n })
	if err != nil {
		//lint:ignore ST1005 logged as the reason the server does not start, like Redis's lines
		return true, fmt.Errorf("Short read or OOM loading DB. Unrecoverable error, aborting now. (%v)", err)
	}
	s.log.Info().Msg(fmt.Sprintf("Done loading RDB, keys loaded: %d, keys expired: %d.", loaded, expired))
	s.log.Info().Msg(fmt.Sprintf("DB loaded from disk: %.3f seconds", time.Since(start).Seconds()))
	return true, nil
}

// countingReader counts the bytes read (INFO's loading progress).
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// loadRDBStream reads an RDB from r into the keyspace, taking the engine
// lock per slice of keys; progress runs under the lock after each slice.
// Keys already expired are dropped and counted, as a Redis master does.
func (s *Server) loadRDBStream(r io.Reader, progress func()) (loaded, expired int64, err error) {
	rd, err := rdb.NewReader(r)
	if err != nil {
		return 0, 0, err
	}
	logged := false
	for {
		s.lock()
		now := s.ks.ClockNow()
		n := 0
		for ; n < loadSlice; n++ {
			var rec *rdb.Record
			rec, err = rd.Next()
			if err != nil {
				break
			}
			if !logged {
				logged = true
				s.logRDBAux(rd.Aux())
			}
			if rec.DB < 0 || rec.DB >= s.ks.NumDBs() {
				err = fmt.Errorf("FATAL: Data file was created with a Redis server configured to handle more than %d databases. Exiting", s.ks.NumDBs())
				break
			}
			if rec.ExpireAt != 0 && rec.ExpireAt < now {
				expired++
				continue
			}
			db := s.ks.DB(rec.DB)
			if db.Peek(rec.Key) != nil {
				err = fmt.Errorf("RDB has duplicated key '%s' in DB %d", cstr(rec.Key, 128), rec.DB)
				break
			}
			e := s.createFromRDB(db, rec.Key, &rec.Value)
			if rec.ExpireAt != 0 {
				db.SetExpire(e, rec.ExpireAt)
			}
			// Saved under an LRU or LFU policy: the idle time or counter
			// carries over, as Redis's loader keeps it.
			s.ks.SetAccess(e, rec.Idle, rec.Freq)
			loaded++
		}
		if progress != nil {
			progress()
		}
		s.rdb.loadedKeys, s.rdb.expiredKeys = loaded, expired
		s.mu.Unlock()
		if err == io.EOF {
			if !logged {
				s.logRDBAux(rd.Aux())
			}
			return loaded, expired, nil
		}
		if err != nil {
			return loaded, expired, err
		}
	}
}

// logRDBAux logs what Redis logs of a file's header.
func (s *Server) logRDBAux(aux []rdb.Aux) {
	for _, a := range aux {
		switch a.Key {
		case "redis-ver":
			s.log.Info().Msg("Loading RDB produced by version " + a.Value)
		case "ctime":
			if t, err := strconv.ParseInt(a.Value, 10, 64); err == nil {
				age := time.Now().Unix() - t
				if age < 0 {
					age = 0
				}
				s.log.Info().Msg(fmt.Sprintf("RDB age %d seconds", age))
			}
		case "used-mem":
			if m, err := strconv.ParseInt(a.Value, 10, 64); err == nil {
				s.log.Info().Msg(fmt.Sprintf("RDB memory usage when created %.2f Mb", float64(m)/(1024*1024)))
			}
		}
	}
}

// createFromRDB creates key in db with a decoded value. Engine lock held;
// the key does not exist.
func (s *Server) createFromRDB(db *keyspace.DB, key []byte, v *rdb.Value) *keyspace.Entry {
	lim := s.ks.Limits()
	switch v.Kind {
	case rdb.KindList:
		l := keyspace.NewList()
		for _, el := range v.Elems {
			l.PushTail(el)
		}
		e := db.SetAggregate(key, keyspace.TypeList, l)
		db.Reaccount(e)
		return e
	case rdb.KindSet:
		st := keyspace.NewSet()
		for _, m := range v.Elems {
			st.Add(m, lim)
		}
		return db.SetAggregate(key, keyspace.TypeSet, st)
	case rdb.KindZSet:
		z := keyspace.NewZSet()
		for _, sm := range v.Zset {
			z.Add(sm.Member, sm.Score, 0, lim)
		}
		return db.SetAggregate(key, keyspace.TypeZSet, z)
	case rdb.KindHash:
		h := keyspace.NewHash()
		for _, p := range v.Pairs {
			h.Set(p.Field, string(p.Value), lim)
		}
		return db.SetAggregate(key, keyspace.TypeHash, h)
	default:
		// The decoder's slices are the caller's: no copy.
		return db.SetStringOwned(key, v.Str, keyspace.StringEncoding(v.Str), false)
	}
}

// finalSaveMode is what shutdown does about an RDB snapshot.
type finalSaveMode uint8

const (
	finalSaveByConfig finalSaveMode = iota // SIGTERM: save when save points are set
	finalSaveChanges                       // SHUTDOWN saved: save again only if changed since
	finalSaveNone                          // SHUTDOWN NOSAVE, or no save points
)

// finalRDBSave is shutdown's snapshot, once the reactors stopped. Engine
// lock held. A failure is logged; the process exits anyway (Redis keeps
// running after a failed save on SIGTERM, but here the clients are gone
// already; with appendonly yes the AOF holds every acknowledged write).
func (s *Server) finalRDBSave() {
	if s.rdb.bgsave != nil {
		s.rdb.bgsave.abort()
	}
	switch {
	case s.finalSave == finalSaveByConfig && len(s.cfg.SavePoints) > 0:
		s.log.Info().Msg("Saving the final RDB snapshot before exiting.")
	case s.finalSave == finalSaveChanges && s.dirty != s.rdb.dirtyAtSave:
	default:
		return
	}
	if s.rdbSave() != nil {
		s.log.Warn().Msg("Error trying to save the DB, can't exit.")
	}
}
