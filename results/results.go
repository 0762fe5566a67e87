package results

import (
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/celerity/celerity/keyspace"
	"github.com/celerity/celerity/resp"
)

// Walk limits (see doc.go): a database up to walkSyncMax keys is counted
// inside RESULTS.STATS; a bigger one by the cron, at most walkBudgetKeys
// keys or walkBudget of time per tick, for as long as RESULTS.STATS was
// asked about it in the last walkKeepAlive.
const (
	walkSyncMax    = 10_000
	walkBudgetKeys = 20_000
	walkBudget     = 2 * time.Millisecond
	walkKeepAlive  = time.Minute
	walkBatch      = 256
)

// Results is the result-backend extension. Its state is guarded by the
// engine lock: every method runs from a hook or a command.
type Results struct {
	log zerolog.Logger
	srv *resp.Server // set by the Attach hook when the server is built

	walks   map[int]*walk // background walks of big databases, by DB
	syncMax int           // walkSyncMax; tests lower it

	// INFO counters.
	ttlApplied       int64 // default TTLs given to result keys
	ttlAppliedPidbox int64 // ... and to pidbox reply queues
	ttlRespected     int64 // PERSISTs left alone
	walksDone        int64 // background walks completed
}

// walk is a cron walk over one database.
type walk struct {
	cursor    uint64
	running   bool
	partial   *Stats
	last      *Stats // the last complete walk; nil before the first
	lastAt    int64  // when it completed, Unix ms
	askedAt   int64  // last RESULTS.STATS for this DB, Unix ms
	scratch   []*keyspace.Entry
	startedAt int64
}

// New returns the extension; log receives its log lines.
func New(log zerolog.Logger) *Results {
	return &Results{log: log, walks: make(map[int]*walk), syncMax: walkSyncMax}
}

// Extension declares the extension to the engine.
func (r *Results) Extension() *resp.Extension {
	return &resp.Extension{
		Name: "results",
		Commands: []*resp.Command{{
			Name: "results.stats", Arity: -1, Flags: resp.Readonly, ACL: resp.CatKeyspace | resp.CatRead,
			Run: r.resultsStatsCommand,
		}},
		Attach:  func(s *resp.Server) { r.srv = s },
		Written: r.written,
		Cron:    r.cron,
		Info:    r.info,
	}
}

// resultsStatsCommand is RESULTS.STATS [DB n].
func (r *Results) resultsStatsCommand(c *resp.Client) {
	argv := c.Argv()
	db := c.DB()
	ks := r.srv.Keyspace()
	for i := 1; i < len(argv); i += 2 {
		if !strings.EqualFold(string(argv[i]), "db") || i+1 >= len(argv) {
			c.SyntaxError()
			return
		}
		var ok bool
		if db, ok = c.DBArg(i + 1); !ok { // SELECT's rules
			return
		}
	}
	now := ks.ClockNow()
	ttl := r.srv.Config().ResultsDefaultTTL
	if db.Len() <= r.syncMax {
		writeStats(c, db.ID(), walkAll(db, now), snapshotInfo{source: "walk", complete: true}, ttl)
		return
	}
	w := r.walks[db.ID()]
	if w == nil {
		w = &walk{}
		r.walks[db.ID()] = w
	}
	w.askedAt = now
	if w.last != nil {
		writeStats(c, db.ID(), w.last, snapshotInfo{source: "snapshot", ageMs: now - w.lastAt, complete: true}, ttl)
		return
	}
	// The first walk is still going: show how far it got.
	s := w.partial
	if s == nil {
		s = newStats()
	}
	writeStats(c, db.ID(), s, snapshotInfo{source: "snapshot", ageMs: 0, complete: false}, ttl)
}

// cron advances the background walks of the databases someone asks about.
// Engine lock.
func (r *Results) cron(time.Time) {
	if r.srv == nil || len(r.walks) == 0 {
		return
	}
	ks := r.srv.Keyspace()
	now := ks.ClockNow()
	start := time.Now()
	budget := walkBudgetKeys
	for id, w := range r.walks {
		if now-w.askedAt > walkKeepAlive.Milliseconds() {
			delete(r.walks, id)
			continue
		}
		db := ks.DB(id)
		if !w.running {
			w.running, w.cursor, w.partial, w.startedAt = true, 0, newStats(), now
		}
		for budget > 0 {
			w.scratch, w.cursor = db.Scan(w.cursor, walkBatch, w.scratch[:0])
			for _, e := range w.scratch {
				w.partial.add(db, e, now)
			}
			budget -= walkBatch
			if w.cursor == 0 {
				w.last, w.lastAt, w.running = w.partial, now, false
				r.walksDone++
				break
			}
			if time.Since(start) > walkBudget {
				return
			}
		}
		if budget <= 0 {
			return
		}
	}
}

// written gives a default TTL to a result key or reply queue that the
// command just left without one. Engine lock, inside the command's unit.
func (r *Results) written(c *resp.Client, cmd *resp.Command, argv [][]byte) {
	srv := r.srv
	ttl := srv.Config().ResultsDefaultTTL
	if ttl <= 0 {
		return
	}
	if cmd.FullName() == "persist" {
		// A TTL removed on purpose stays removed (doc.go).
		if Classify(string(argv[1])) != KindNone {
			r.ttlRespected++
		}
		return
	}
	db := c.DB()
	forEachKey(cmd, argv, func(key []byte) {
		kind := Classify(string(key))
		if kind == KindNone {
			return
		}
		e := db.Peek(key)
		if e == nil || e.ExpireAt() != 0 {
			return
		}
		at := srv.Keyspace().ClockNow() + int64(ttl)*1000
		v := srv.Exec(db.ID(), []byte("PEXPIREAT"), key, strconv.AppendInt(nil, at, 10))
		if v.Kind != ':' || v.Int != 1 {
			r.log.Warn().Str("key", string(key)).Msg("results-default-ttl: PEXPIREAT failed")
			return
		}
		if kind == KindPidboxReply {
			r.ttlAppliedPidbox++
		} else {
			r.ttlApplied++
		}
	})
}

// forEachKey calls fn with every key argument of a command, by the
// table's key positions.
func forEachKey(cmd *resp.Command, argv [][]byte, fn func(key []byte)) {
	if cmd.GetKeys != nil {
		for _, i := range cmd.GetKeys(argv) {
			if i > 0 && i < len(argv) {
				fn(argv[i])
			}
		}
		return
	}
	k := cmd.Keys
	if k.First <= 0 {
		return
	}
	last := k.Last
	if last < 0 {
		last = len(argv) + last
	}
	step := max(k.Step, 1)
	for i := k.First; i <= last && i < len(argv); i += step {
		fn(argv[i])
	}
}

// info writes the INFO results section. Engine lock.
func (r *Results) info(add func(field, value string)) {
	add("results_default_ttl_applied", itoa(r.ttlApplied))
	add("results_default_ttl_applied_pidbox", itoa(r.ttlAppliedPidbox))
	add("results_persist_respected", itoa(r.ttlRespected))
	add("results_background_walks", itoa(int64(len(r.walks))))
	add("results_background_walks_done", itoa(r.walksDone))
}
