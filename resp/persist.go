package resp

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/celerity/celerity/aof"
	"github.com/celerity/celerity/keyspace"
)

// Persistence: the append-only file (package aof) in the engine's life.
//
//   - Start-up (LoadData): with appendonly yes the AOF is opened and
//     replayed by a fake client, in slices of the engine lock, while the
//     reactors already answer -LOADING; a damaged file stops the server
//     with the file and offset. Then the AOF starts and units propagate.
//   - Each unit is appended under the engine lock, so the file order is
//     the execution order (prop.go). A reactor waits until everything
//     appended before its batch's replies is written (fsynced with
//     always) before it writes them to sockets: an acknowledged write is
//     in the file. Group commit comes free: a batch of clients waits once.
//   - Write errors: with always the process stops (FailStopError); with
//     everysec/no write commands get -MISCONF until a write succeeds.
//   - BGREWRITEAOF: the aof package cuts the incr stream at one instant
//     and a keyspace snapshot (copy-before-write, keyspace.Snapshot) yields
//     the dataset as of that instant in bounded steps while clients keep
//     writing; the new base is installed atomically.
//   - Shutdown flushes and fsyncs.

// errLoading is the reply to commands refused while the dataset loads.
const errLoading = "LOADING Redis is loading the dataset in memory"

// loadSlice is how many AOF commands the loader runs per hold of the
// engine lock: enough to make the lock's cost vanish, few enough that a
// client asking INFO while a big file loads is answered in microseconds.
const loadSlice = 1024

// rewriteSlice is how many keys a rewrite step serializes per hold of the
// engine lock.
const rewriteSlice = 256

// aofOptions maps the configuration onto the aof package's options.
func (s *Server) aofOptions() aof.Options {
	cfg := s.cfg
	log := s.log
	return aof.Options{
		FS:                        s.aofFS,
		DirName:                   cfg.AppendDirname,
		FileName:                  cfg.AppendFilename,
		Fsync:                     cfg.AppendFsync,
		RefuseTruncated:           !cfg.AOFLoadTruncated,
		Timestamps:                cfg.AOFTimestampEnabled,
		DisableAutoGC:             cfg.AOFDisableAutoGC,
		NoFsyncOnRewrite:          cfg.NoAppendFsyncOnRewrite,
		NoRewriteIncrementalFsync: !cfg.AOFRewriteIncrementalFsync,
		Log: func(level aof.Level, msg string) {
			switch level {
			case aof.LevelWarning:
				log.Warn().Msg(msg)
			case aof.LevelNotice:
				log.Info().Msg(msg)
			default:
				log.Debug().Msg(msg)
			}
		},
	}
}

// LoadData loads the dataset at start-up: with appendonly yes, the AOF is
// opened (created when missing) and replayed, then started. Clients that
// connect meanwhile get -LOADING. An error means the server must not start:
// its text is what the log should say.
func (s *Server) LoadData() error {
	s.mu.Lock()
	on := s.cfg.AppendOnly
	opts := s.aofOptions()
	dir := s.cfg.Dir
	s.mu.Unlock()
	if !on {
		_, err := s.loadRDB()
		return err
	}
	a, plan, err := aof.Open(dir, opts)
	if err != nil {
		return err
	}
	// No AOF yet: a dump.rdb next to it is imported (see importRDB).
	fresh := len(plan.Files()) == 0
	start := time.Now()
	var total int64
	for _, f := range plan.Files() {
		total += f.Size
	}
	s.mu.Lock()
	s.loading = true
	s.load = loadProgress{start: start, total: total}
	s.ks.SetLoading(true)
	s.mu.Unlock()
	lc := s.newFakeClient(flagLoading)
	var loadErr error
	lastLog := start
	sizes, kinds := map[string]int64{}, map[string]string{}
	for _, f := range plan.Files() {
		sizes[f.Name] = f.Size
		kinds[f.Name] = "incr"
		if f.Type == aof.TypeBase {
			kinds[f.Name] = "base"
		}
	}
	curFile, before := "", int64(0) // bytes of the files already replayed
	fileStart := start
	fileLoaded := func(now time.Time) {
		if curFile != "" {
			s.log.Info().Msg(fmt.Sprintf("DB loaded from %s file %s: %.3f seconds", kinds[curFile], curFile, now.Sub(fileStart).Seconds()))
		}
	}
	for more := true; more && loadErr == nil; {
		s.lock()
		for n := 0; n < loadSlice; n++ {
			if !plan.Next() {
				more = false
				break
			}
			cmd := plan.Command()
			if loadErr = s.loadCommand(lc, cmd); loadErr != nil {
				break
			}
			if cmd.File != curFile {
				now := time.Now()
				fileLoaded(now)
				before += sizes[curFile]
				curFile, fileStart = cmd.File, now
			}
			s.load.done = before + cmd.End
			s.load.commands++
		}
		s.mu.Unlock()
		if now := time.Now(); now.Sub(lastLog) >= 2*time.Second {
			lastLog = now
			s.log.Info().Msg(fmt.Sprintf("Loading the append only file: %d commands, %d of %d bytes",
				s.load.commands, s.load.done, total))
		}
	}
	if loadErr == nil {
		loadErr = plan.Err()
	}
	if loadErr == nil {
		fileLoaded(time.Now())
	}
	s.lock()
	if lc.flags&flagMulti != 0 {
		// The plan reverted a MULTI block torn at the tail: what the fake
		// client queued of it never ran.
		lc.discardTransaction()
	}
	s.ks.SetLoading(false)
	s.mu.Unlock()
	if loadErr != nil {
		plan.Close()
		return loadErr
	}
	if s.closing.Load() {
		return nil // SIGTERM during the load: nothing to start
	}
	if before+sizes[curFile] > 0 {
		s.log.Info().Msg(fmt.Sprintf("DB loaded from append only file: %.3f seconds", time.Since(start).Seconds()))
	}
	imported := false
	if fresh {
		if imported, err = s.loadRDB(); err != nil {
			return err
		}
	}
	if err := a.Start(); err != nil {
		return err
	}
	s.mu.Lock()
	s.aof = a
	s.prop = propagator{on: true, selDB: -1}
	s.mu.Unlock()
	if imported {
		if err := s.importRDB(); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.loading = false
	s.mu.Unlock()
	return nil
}

// importRDB makes a dump.rdb loaded at start-up the first base of a new
// AOF, before clients are served. Redis 7.0 ignores dump.rdb when
// appendonly is yes and no AOF exists yet: it starts empty, and its next
// save overwrites the dump with the empty dataset (redis#837), which is
// what the seed's "copy dump.rdb into /data" restore does to a server run
// with --appendonly yes. Celerity loads the dump instead and rewrites it
// into the AOF at once, so the restored keys are durable in the AOF before
// anything else is accepted.
func (s *Server) importRDB() error {
	s.log.Warn().Msg("appendonly yes and no AOF yet: the keys of " + s.cfg.DBFilename +
		" were loaded and are written as the first AOF base (Redis 7.0 would start empty here)")
	s.lock()
	msg := s.startRewrite()
	j := s.rewrite
	s.mu.Unlock()
	if msg != "" || j == nil {
		//lint:ignore ST1005 logged as the reason the server does not start, like Redis's lines
		return fmt.Errorf("Can't write the imported %s into the AOF: %s", s.cfg.DBFilename, msg)
	}
	<-j.finished
	if st := s.aof.Stats(); !st.LastRewriteOK {
		//lint:ignore ST1005 logged as the reason the server does not start, like Redis's lines
		return fmt.Errorf("Can't write the imported %s into the AOF: the rewrite failed", s.cfg.DBFilename)
	}
	return nil
}

// loadProgress is INFO's view of a load in progress.
type loadProgress struct {
	start    time.Time
	total    int64
	done     int64
	commands int64
}

// loadCommand runs one command of the AOF on the loader's fake client, as
// Redis's loadSingleAppendOnlyFile: looked up in the same table, queued
// when inside MULTI, its reply discarded.
func (s *Server) loadCommand(lc *Client, c aof.Command) error {
	argv := c.Argv
	cmd := s.table.lookupArgv(argv)
	if cmd == nil {
		//lint:ignore ST1005 this is the line Redis logs before refusing to start
		return fmt.Errorf("Unknown command '%s' reading the append only file %s", cstr(argv[0], 128), c.File)
	}
	if (cmd.Arity > 0 && cmd.Arity != len(argv)) || len(argv) < -cmd.Arity {
		//lint:ignore ST1005 logged as the reason the server does not start, like Redis's lines
		return fmt.Errorf("Wrong number of arguments for '%s' reading the append only file %s at offset %d",
			cmd.fullName, c.File, c.Offset)
	}
	lc.argv, lc.cmd = argv, cmd
	if lc.flags&flagMulti != 0 && queuesInMulti(cmd) {
		lc.queueMultiCommand(cmd)
	} else {
		lc.call(cmd)
	}
	lc.argv = nil
	lc.buf = lc.buf[:0]
	return nil
}

// newFakeClient returns a client with no connection (the AOF loader).
func (s *Server) newFakeClient(flags clientFlag) *Client {
	c := &Client{srv: s, flags: flags, authenticated: true, ReplyWriter: ReplyWriter{proto: 2}}
	c.db = s.ks.DB(0)
	return c
}

// waitPersisted blocks the calling reactor until every unit appended
// before off is written (fsynced with always). Called without the engine
// lock, before a reactor writes replies. With always, an error stops the
// process: replies promised durability that the disk refused.
func (s *Server) waitPersisted(a *aof.AOF, off uint64) {
	start := time.Now()
	err := a.WaitWritten(off)
	s.noteAOFWait(time.Since(start)) // the latency monitor's aof-* classes
	var fs *aof.FailStopError
	if errors.As(err, &fs) {
		s.exit(1) // the aof package logged Redis's "Can't recover..." line
	}
	// everysec/no: the bytes stay queued and are retried; the replies go
	// out as Redis sends them, and write commands get -MISCONF meanwhile.
}

// misconf returns the -MISCONF error write commands get while the AOF
// cannot be written, or "".
func (s *Server) misconf() string {
	if s.rdb.denyWrites {
		return errMisconfRDB
	}
	if s.aof == nil || s.aof.Healthy() {
		return ""
	}
	err := s.aof.LastWriteError()
	if err == nil {
		return ""
	}
	// Redis prints strerror(errno): the innermost error's text.
	for {
		next := errors.Unwrap(err)
		if next == nil {
			break
		}
		err = next
	}
	return "MISCONF Errors writing to the AOF file: " + syscallErrText(err)
}

// closeAOF flushes and fsyncs the AOF and stops its writer (SHUTDOWN,
// SIGTERM, CONFIG SET appendonly no). Engine lock held.
func (s *Server) closeAOF() {
	if s.aof == nil {
		return
	}
	if s.rewrite != nil {
		s.rewrite.abort()
	}
	s.flushPropagation()
	a := s.aof
	s.aof, s.prop.on = nil, false
	s.log.Info().Msg("Calling fsync() on the AOF file.")
	if err := a.Close(); err != nil && !errors.Is(err, aof.ErrClosed) {
		s.log.Warn().Err(err).Msg("Error closing the append only file")
	}
}

// ---- BGREWRITEAOF ----

// rewriteJob is a background rewrite: the aof package's side (the cut and
// the new base file) and the keyspace snapshot feeding it.
type rewriteJob struct {
	s     *Server
	rw    *aof.Rewrite
	snap  *keyspace.Snapshot
	buf   []byte // serialized keys not yet handed to rw (engine lock)
	db    int    // database of the last SELECT in the base
	cutMs int64  // keys expired at the cut are left out, as Redis does
	done  bool
	keys  int64 // emitted since the last step (rdb-key-save-delay)
	// finished is closed when the rewrite ended, whatever the outcome.
	finished chan struct{}

	// enc encodes the base as an RDB (aof-use-rdb-preamble yes) instead
	// of RESP commands in buf.
	enc *rdbStream
}

// startRewrite starts BGREWRITEAOF. Engine lock held. It returns "" or the
// error to reply.
func (s *Server) startRewrite() string {
	if s.rewrite != nil {
		return "ERR Background append only file rewriting already in progress"
	}
	if s.rdb.bgsave != nil {
		// The one keyspace snapshot is the save's: the rewrite follows it.
		s.rdb.rewriteScheduled = true
		return ""
	}
	// What the unit propagated so far is in the dataset the snapshot
	// sees: it belongs before the cut, or the replay would apply it twice.
	s.flushPropagation()
	rw, err := s.aof.StartRewrite()
	if err != nil {
		s.log.Warn().Err(err).Msg("Can't rewrite append only file in background")
		return "ERR Can't execute an AOF background rewriting. Please check the server logs for more information."
	}
	j := &rewriteJob{s: s, rw: rw, db: -1, cutMs: s.ks.ClockNow(), finished: make(chan struct{})}
	if s.cfg.AOFUseRDBPreamble {
		// Redis's default: the base is an RDB (appendonly.aof.N.base.rdb),
		// which Redis and Celerity load alike.
		rw.RDBBase()
		j.enc = s.newRDBStream(true)
	}
	j.snap = s.ks.BeginSnapshot(j.emit)
	s.rewrite = j
	s.log.Info().Msg("Background append only file rewriting started")
	go j.run()
	return ""
}

// run feeds the new base in bounded steps, then installs it.
func (j *rewriteJob) run() {
	s := j.s
	for {
		s.lock()
		if j.done { // aborted
			s.mu.Unlock()
			return
		}
		done := j.snap.Step(rewriteSlice)
		if done {
			j.snap.Close()
			if j.enc != nil {
				j.enc.finish()
			}
		}
		data, err := j.buf, error(nil)
		if j.enc != nil {
			data, err = j.enc.take(nil)
		}
		j.buf = nil
		keys, delay := j.keys, s.cfg.RDBKeySaveDelay
		j.keys = 0
		s.mu.Unlock()
		if err != nil {
			j.finish(err)
			return
		}
		if len(data) > 0 {
			if _, err := j.rw.Write(data); err != nil {
				j.finish(err)
				return
			}
		}
		if done {
			break
		}
		sleepKeySaveDelay(keys, delay)
	}
	j.finish(j.rw.Finish())
}

// finish records the outcome. Called without the engine lock.
func (j *rewriteJob) finish(err error) {
	s := j.s
	s.lock()
	defer s.mu.Unlock()
	if j.done {
		return
	}
	j.done = true
	close(j.finished)
	j.snap.Close()
	if s.rewrite == j {
		s.rewrite = nil
	}
	if err != nil {
		j.rw.Abort()
		s.log.Warn().Err(err).Msg("Background AOF rewrite terminated with error")
		return
	}
	s.log.Info().Msg("Background AOF rewrite finished successfully")
}

// abort stops a rewrite (the AOF is closing). Engine lock held.
func (j *rewriteJob) abort() {
	if j.done {
		return
	}
	j.done = true
	close(j.finished)
	j.snap.Close()
	j.rw.Abort()
	j.s.rewrite = nil
}

// emit serializes one key as of the cut, in Redis's rewrite format:
// SET, RPUSH, SADD, ZADD or HMSET with at most 64 items per command, then
// PEXPIREAT. Called with the engine lock, from Step or from a write hook
// about to change the key.
func (j *rewriteJob) emit(db int, e *keyspace.Entry) {
	at := e.ExpireAt()
	if at != 0 && at < j.cutMs {
		return
	}
	j.keys++
	if j.enc != nil {
		j.enc.key(db, e, at)
		return
	}
	if db != j.db {
		j.buf = appendSelect(j.buf, db)
		j.db = db
	}
	key := []byte(e.Key())
	if a := e.Agg(); a != nil {
		// Grow once to about the serialized size: a large hash or queue
		// appended item by item would copy the buffer a dozen times.
		j.buf = slices.Grow(j.buf, int(a.MemoryUsage()))
	}
	switch e.Type() {
	case keyspace.TypeString:
		j.buf = aof.AppendCommand(j.buf, argSET, key, e.Bytes())
	case keyspace.TypeList:
		l := e.Agg().(*keyspace.List)
		b := j.batch([]byte("RPUSH"), key)
		l.Range(0, l.Len()-1, func(v []byte) bool {
			b.add(v)
			return true
		})
		b.flush()
	case keyspace.TypeSet:
		st := e.Agg().(*keyspace.Set)
		b := j.batch([]byte("SADD"), key)
		for i := 0; i < st.Len(); i++ {
			b.add([]byte(st.MemberString(i)))
		}
		b.flush()
	case keyspace.TypeZSet:
		z := e.Agg().(*keyspace.ZSet)
		b := j.batch([]byte("ZADD"), key)
		it, ok := z.Index().First()
		for ; ok && it.Valid(); ok = it.Next() {
			el := it.Element()
			b.add(AppendDouble(nil, el.Score), []byte(el.Member))
		}
		b.flush()
	case keyspace.TypeHash:
		h := e.Agg().(*keyspace.Hash)
		b := j.batch([]byte("HMSET"), key)
		for _, p := range h.Pairs() {
			b.add([]byte(p.Field), []byte(p.Value))
		}
		b.flush()
	}
	if at != 0 {
		j.buf = aof.AppendCommand(j.buf, argPEXPIREAT, key, itoaArg(at))
	}
}

// rewriteBatch groups items into commands of at most 64 items (Redis's
// AOF_REWRITE_ITEMS_PER_CMD), so that loading never builds a huge argv.
type rewriteBatch struct {
	j     *rewriteJob
	argv  [][]byte
	items int
}

func (j *rewriteJob) batch(name, key []byte) *rewriteBatch {
	return &rewriteBatch{j: j, argv: [][]byte{name, key}}
}

func (b *rewriteBatch) add(item ...[]byte) {
	b.argv = append(b.argv, item...)
	if b.items++; b.items == 64 {
		b.flush()
	}
}

func (b *rewriteBatch) flush() {
	if b.items > 0 {
		b.j.buf = aof.AppendCommand(b.j.buf, b.argv...)
		b.argv, b.items = b.argv[:2], 0
	}
}

// rewriteCron starts an automatic rewrite when the AOF grew past
// auto-aof-rewrite-percentage of its base and auto-aof-rewrite-min-size.
// Engine lock held.
func (s *Server) rewriteCron() {
	if s.aof == nil || s.childActive() {
		return
	}
	pct := s.cfg.AutoAOFRewritePercentage
	if st := s.aof.Stats(); pct > 0 && st.AutoRewriteDue(pct, s.cfg.AutoAOFRewriteMinSize) {
		growth := int64(0)
		if st.BaseSize > 0 {
			growth = (st.CurrentSize*100)/st.BaseSize - 100
		}
		s.log.Info().Msg(fmt.Sprintf("Starting automatic rewriting of AOF on %d%% growth", growth))
		s.startRewrite()
	}
}

func bgrewriteaofCommand(c *Client) {
	s := c.srv
	switch {
	case s.aof == nil:
		// Redis rewrites even with appendonly no (it writes a fresh AOF);
		// Celerity has no AOF to cut without appendonly.
		c.Error("ERR Background append only file rewriting is only available with appendonly yes")
	case s.rewrite != nil:
		c.Error("ERR Background append only file rewriting already in progress")
	case s.rdb.bgsave != nil:
		s.rdb.rewriteScheduled = true
		c.Status("Background append only file rewriting scheduled")
	default:
		if msg := s.startRewrite(); msg != "" {
			c.Error(msg)
			return
		}
		c.Status("Background append only file rewriting started")
	}
}

// ---- CONFIG SET ----

// applyPersistence follows CONFIG SET of the AOF directives. Engine lock.
func (s *Server) applyPersistence(prev *Config) *applyError {
	cfg := s.cfg
	if s.aof != nil {
		if cfg.AppendFsync != prev.AppendFsync {
			s.aof.SetFsync(cfg.AppendFsync)
		}
		s.aof.SetNoFsyncOnRewrite(cfg.NoAppendFsyncOnRewrite)
		s.aof.SetTimestamps(cfg.AOFTimestampEnabled)
	}
	switch {
	case cfg.AppendOnly && !prev.AppendOnly && s.aof == nil:
		if err := s.startAppendOnly(); err != nil {
			s.log.Warn().Err(err).Msg("AOF could not be enabled")
			return &applyError{"appendonly", "Unable to turn on AOF. Check server logs."}
		}
	case !cfg.AppendOnly && prev.AppendOnly:
		s.closeAOF()
	}
	return nil
}

// startAppendOnly turns the AOF on in a running server (CONFIG SET
// appendonly yes): a fresh AOF whose base is a rewrite of the dataset as
// of now. Engine lock held.
func (s *Server) startAppendOnly() error {
	opts := s.aofOptions()
	a, plan, err := aof.Open(s.cfg.Dir, opts)
	if err != nil {
		return err
	}
	// Files already in the directory are not loaded into a live dataset:
	// the rewrite below makes them history, as Redis overwrites them. The
	// plan is still read through: Start needs to know how they end.
	for plan.Next() {
	}
	if err := plan.Err(); err != nil {
		return err
	}
	if err := a.Start(); err != nil {
		return err
	}
	s.aof = a
	s.prop = propagator{on: true, selDB: -1}
	if msg := s.startRewrite(); msg != "" {
		return errors.New(strings.TrimPrefix(msg, "ERR "))
	}
	return nil
}
