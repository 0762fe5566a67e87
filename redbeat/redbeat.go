package redbeat

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/celerity/celerity/keyspace"
	"github.com/celerity/celerity/resp"
	"github.com/celerity/celerity/resp/keyindex"
)

// RedBeat's key names under a prefix p (redbeat/schedulers.py
// RedBeatConfig): the schedule is p + ":schedule", so the default prefix
// "redbeat:" gives "redbeat::schedule".
const (
	scheduleSuffix = ":schedule"
	staticsSuffix  = ":statics"
	lockSuffix     = ":lock"
)

// An entry hash's fields.
const (
	fieldDefinition = "definition"
	fieldMeta       = "meta"
)

// RedBeat is the RedBeat extension. Its state is guarded by the engine
// lock: every method runs from a hook or a command.
type RedBeat struct {
	log zerolog.Logger
	srv *resp.Server // set by the Attach hook when the server is built

	locks map[lockID]*lockState // lock keys seen written (lock.go)
	idx   *keyindex.Index       // candidate keys discovery looks at (resp/keyindex)

	// INFO counters and the last warning.
	lateExtensions int64
	expirations    int64
	last           *lockWarning
}

// New returns the extension; log receives its warnings.
func New(log zerolog.Logger) *RedBeat {
	return &RedBeat{log: log, locks: make(map[lockID]*lockState),
		idx: &keyindex.Index{IsCandidate: isRedbeatKey, IsCandidateName: isScheduleName, SyncMax: keyindex.SyncWalkMax}}
}

// Extension declares the extension to the engine.
func (r *RedBeat) Extension() *resp.Extension {
	return &resp.Extension{
		Name: "redbeat",
		Commands: []*resp.Command{
			{Name: "redbeat.schedule", Arity: -1, Flags: resp.Readonly, ACL: resp.CatKeyspace | resp.CatRead,
				Run: r.redbeatScheduleCommand},
			{Name: "redbeat.lock", Arity: -1, Flags: resp.Readonly, ACL: resp.CatKeyspace | resp.CatRead,
				Run: r.redbeatLockCommand},
		},
		Written: r.written,
		Cron:    r.cron,
		Info:    r.info,
		Attach: func(s *resp.Server) {
			r.srv = s
			r.idx.Attach(s)
		},
	}
}

// prefixArg parses [PREFIX p]; ok is false after an error reply.
func prefixArg(c *resp.Client) (prefix string, given, ok bool) {
	argv := c.Argv()
	switch {
	case len(argv) == 1:
		return "", false, true
	case len(argv) == 3 && strings.EqualFold(string(argv[1]), "prefix"):
		return string(argv[2]), true, true
	}
	c.SyntaxError()
	return "", false, false
}

// prefixes returns the RedBeat prefixes of db: the one asked for, or the
// configured ones (redbeat-prefixes), every p with a sorted set
// p + ":schedule" whose first member starts with p (how RedBeat writes
// it), and the prefixes of the locks seen written there. It looks at the
// index's candidates only (resp/keyindex), and collects on the way the entry
// hashes under each prefix for REDBEAT.SCHEDULE. complete is false while
// the first discovery pass over a big database is still running.
func (r *RedBeat) prefixes(db *keyspace.DB, only string, given bool) (list []string, byPrefix map[string][]*keyspace.Entry, complete bool) {
	seen := make(map[string]bool)
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			list = append(list, p)
		}
	}
	if given {
		add(only)
	} else {
		for _, p := range r.srv.Config().RedbeatPrefixes {
			add(p)
		}
		for id, l := range r.locks {
			if id.db == db.ID() {
				add(l.prefix)
			}
		}
	}
	var hashes []*keyspace.Entry
	complete = r.idx.Each(db, func(e *keyspace.Entry) {
		switch e.Type() {
		case keyspace.TypeZSet:
			if !given {
				key := e.Key()
				p := key[:len(key)-len(scheduleSuffix)]
				if it, ok := e.Agg().(*keyspace.ZSet).Index().First(); ok && strings.HasPrefix(it.Member(), p) {
					add(p)
				}
			}
		case keyspace.TypeHash:
			hashes = append(hashes, e)
		}
	})
	byPrefix = make(map[string][]*keyspace.Entry)
	for _, e := range hashes {
		// The longest prefix owns a key that several match.
		best := ""
		found := false
		for _, p := range list {
			if strings.HasPrefix(e.Key(), p) && (!found || len(p) > len(best)) {
				best, found = p, true
			}
		}
		if found {
			byPrefix[best] = append(byPrefix[best], e)
		}
	}
	return list, byPrefix, complete
}

// isRedbeatKey is the index's test on a key: a sorted set named like a
// schedule, or a hash with a definition field (an entry, under whatever
// prefix: which prefixes count is decided when the key is used).
func isRedbeatKey(e *keyspace.Entry) bool {
	switch e.Type() {
	case keyspace.TypeZSet:
		return strings.HasSuffix(e.Key(), scheduleSuffix)
	case keyspace.TypeHash:
		return e.Agg().(*keyspace.Hash).Has(definitionField)
	}
	return false
}

// isScheduleName is the Written hook's test on the name of every key
// written: a schedule's. Entry hashes are noted from their HSET's fields
// (lock.go).
func isScheduleName(key []byte) bool { return bytes.HasSuffix(key, scheduleName) }

var (
	scheduleName    = []byte(scheduleSuffix)
	definitionField = []byte(fieldDefinition)
)

// live returns key's entry in db, nil when missing or expired at now (the
// keyspace clock, Unix ms). It never deletes anything (an expired key is
// left to the engine).
func live(db *keyspace.DB, key string, now int64) *keyspace.Entry {
	e := db.Peek([]byte(key))
	if e == nil || (e.ExpireAt() != 0 && e.ExpireAt() < now) {
		return nil
	}
	return e
}

// info writes the INFO redbeat section. Engine lock.
func (r *RedBeat) info(add func(field, value string)) {
	add("redbeat_locks_watched", strconv.Itoa(len(r.locks)))
	add("redbeat_lock_warnings", itoa(r.lateExtensions+r.expirations))
	add("redbeat_lock_late_extensions", itoa(r.lateExtensions))
	add("redbeat_lock_expirations", itoa(r.expirations))
	if r.srv != nil {
		add("redbeat_discovery_pending_dbs", strconv.Itoa(r.idx.Pending(r.srv.Keyspace())))
	}
	add("redbeat_discovery_passes", itoa(r.idx.Passes))
	add("redbeat_index_keys", strconv.Itoa(r.idx.Size()))
	add("redbeat_keys_examined", itoa(r.idx.Examined))
	w := r.last
	if w == nil {
		return
	}
	add("redbeat_last_warning", w.kind)
	add("redbeat_last_warning_lock", infoSafe(w.key))
	add("redbeat_last_warning_db", strconv.Itoa(w.db))
	add("redbeat_last_warning_at_ms", itoa(w.at))
	add("redbeat_last_warning_lock_timeout_ms", itoa(w.timeoutMs))
	add("redbeat_last_warning_ttl_left_ms", itoa(w.leftMs))
	add("redbeat_last_warning_extension_interval_ms", itoa(w.intervalMs))
}

// infoSafe keeps a key name on its INFO line.
func infoSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// cron advances the discovery walk (resp/keyindex) and notices locks that
// expired without being extended. Engine lock.
func (r *RedBeat) cron(wall time.Time) {
	if r.srv == nil {
		return
	}
	r.idx.Cron(r.srv.Keyspace(), wall)
	if len(r.locks) > 0 {
		r.checkExpired(r.srv.Keyspace().ClockNow())
	}
}
