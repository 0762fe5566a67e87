package keyindex

import (
	"strconv"
	"strings"
	"time"

	"github.com/celerity/celerity/keyspace"
	"github.com/celerity/celerity/resp"
)

// Discovery limits.
const (
	// SyncWalkMax: until the first discovery pass over a database has
	// completed, a command walks a database of at most this many keys
	// itself (exact, as RESULTS.STATS does); a bigger one is answered from
	// the index so far and flagged incomplete.
	SyncWalkMax = 10_000
	// WalkBudgetKeys and WalkBudget bound the keys one cron tick walks,
	// whichever comes first (results/ walks alike).
	WalkBudgetKeys = 50_000
	WalkBudget     = 2 * time.Millisecond
	walkBatch      = 512
	// RepairEvery is how often each database is walked again, to prune
	// candidates nobody asked about and to find keys that arrived by a
	// path the Written hook does not see (a script that SELECTs).
	RepairEvery = 5 * time.Minute
)

// Index remembers, per database, the names of the keys that may be the
// extension's (candidates), so its commands look at those rather than at
// every key. The Written hook adds the names of keys written (a name test,
// no lookup); a walk in the cron adds the keys nobody was seen writing (an
// AOF load) and prunes; a command checks each candidate it uses and drops
// the ones that are gone or changed type. Deletion, expiry and eviction
// need no hook. Engine lock.
type Index struct {
	dbs []*DBIndex // by database id; grown on use
	// IsCandidate is the full test on a key that exists: its type and
	// name make it one. The walk uses it, commands re-check with it.
	IsCandidate func(e *keyspace.Entry) bool
	// IsCandidateName is the Written hook's test on a key name alone.
	IsCandidateName func(key []byte) bool
	SyncMax         int
	// ready: the dataset is loaded, so a pass sees all of it. Until the
	// extension's Cron first runs (never while the AOF loads), a server
	// with appendonly on may still be loading, and no walk may run (INFO
	// and the metrics endpoint can call the commands meanwhile).
	ready    bool
	Passes   int64 // full Passes completed
	Examined int64 // keys commands looked at: candidates and synchronous walks
	scratch  []*keyspace.Entry
}

// DBIndex is the index of one database.
type DBIndex struct {
	keys     map[string]struct{}
	complete bool      // a full pass ended since start (or the database was emptied)
	walking  bool      // a cron pass is under way
	cursor   uint64    // where it is (keyspace.DB.Scan)
	lastPass time.Time // when the last pass ended
}

// Attach learns whether the server may be loading an AOF (index.ready).
func (x *Index) Attach(s *resp.Server) {
	x.ready = !s.Config().AppendOnly
}

// DB returns the index of database id, growing the list on first use.
func (x *Index) DB(id int) *DBIndex {
	for len(x.dbs) <= id {
		x.dbs = append(x.dbs, &DBIndex{})
	}
	return x.dbs[id]
}

// Add notes key as a candidate of database id. The lookup first spares
// the copy of a name already there (the common case: a queue key written
// again and again).
func (x *Index) Add(id int, key []byte) {
	d := x.DB(id)
	if _, ok := d.keys[string(key)]; !ok {
		d.addString(string(key))
	}
}

func (d *DBIndex) addString(key string) {
	if d.keys == nil {
		d.keys = make(map[string]struct{})
	}
	d.keys[key] = struct{}{}
}

// emptied records that a database holds no key now (FLUSHDB, FLUSHALL):
// its index is exact and complete as it stands, empty.
func (d *DBIndex) emptied(now time.Time) {
	*d = DBIndex{complete: true, lastPass: now}
}

// Written is the index's part of the Written hook: the name of every key
// argv wrote is tested, and those that may be candidates noted. The
// commands that empty or swap databases reset or swap their indexes; the
// ones that move a value under a new name (RENAME, COPY, MOVE, RESTORE) are
// rare, and their destination is looked up and tested in full.
func (x *Index) Written(c *resp.Client, cmd *resp.Command, argv [][]byte) {
	switch cmd.FullName() {
	case "del", "unlink":
		return
	case "flushall":
		for _, d := range x.dbs {
			d.emptied(time.Now())
		}
		return
	case "flushdb":
		x.DB(c.DB().ID()).emptied(time.Now())
		return
	case "swapdb":
		a, errA := strconv.Atoi(string(argv[1]))
		b, errB := strconv.Atoi(string(argv[2]))
		if errA == nil && errB == nil && a >= 0 && b >= 0 {
			da, db := x.DB(a), x.DB(b)
			x.dbs[a], x.dbs[b] = db, da
		}
		return
	case "rename", "renamenx":
		x.addEntry(c.DB(), argv[2])
		return
	case "restore", "restore-asking":
		x.addEntry(c.DB(), argv[1])
		return
	case "move":
		if n, err := strconv.Atoi(string(argv[2])); err == nil && n >= 0 && n < c.Server().Keyspace().NumDBs() {
			x.addEntry(c.Server().Keyspace().DB(n), argv[1])
		}
		return
	case "copy":
		to := c.DB()
		for i := 3; i+1 < len(argv); i++ {
			if strings.EqualFold(string(argv[i]), "db") {
				if n, err := strconv.Atoi(string(argv[i+1])); err == nil && n >= 0 && n < c.Server().Keyspace().NumDBs() {
					to = c.Server().Keyspace().DB(n)
				}
			}
		}
		x.addEntry(to, argv[2])
		return
	}
	if k := cmd.Keys; cmd.GetKeys == nil && k.First > 0 {
		last := k.Last
		if last < 0 {
			last += len(argv)
		}
		step := max(k.Step, 1)
		for i := k.First; i <= last && i < len(argv); i += step {
			if x.IsCandidateName(argv[i]) {
				x.Add(c.DB().ID(), argv[i])
			}
		}
		return
	}
	if cmd.GetKeys != nil {
		for _, i := range cmd.GetKeys(argv) {
			if i > 0 && i < len(argv) && x.IsCandidateName(argv[i]) {
				x.Add(c.DB().ID(), argv[i])
			}
		}
	}
}

// addEntry notes key of db when it exists and is a candidate.
func (x *Index) addEntry(db *keyspace.DB, key []byte) {
	if e := db.Peek(key); e != nil && x.IsCandidate(e) {
		x.Add(db.ID(), key)
	}
}

// Each calls fn with every live candidate of db, dropping on the way the
// names whose key is gone or no longer a candidate. Until db's first pass
// has ended it walks a small database itself first. complete is false when
// a bigger one's first pass is still under way: fn saw the keys written
// since the start and those the walk found so far. Engine lock.
func (x *Index) Each(db *keyspace.DB, fn func(e *keyspace.Entry)) (complete bool) {
	d := x.DB(db.ID())
	if !d.complete && x.ready && db.Len() <= x.SyncMax {
		x.Examined += int64(db.Len())
		x.Walk(db, d, 0, time.Time{})
	}
	for key := range d.keys {
		x.Examined++
		e := db.Peek([]byte(key))
		if e == nil || !x.IsCandidate(e) {
			delete(d.keys, key)
			continue
		}
		if db.IsExpired(e) {
			continue // the engine reclaims it; the candidate goes then
		}
		fn(e)
	}
	return d.complete
}

// Walk advances d's pass over db by up to budget keys (0: to the end),
// stopping early past deadline (zero: none). It reports the keys walked
// and whether the pass ended.
func (x *Index) Walk(db *keyspace.DB, d *DBIndex, budget int, deadline time.Time) (int, bool) {
	if !d.walking {
		d.walking, d.cursor = true, 0
	}
	walked := 0
	for budget <= 0 || walked < budget {
		x.scratch, d.cursor = db.Scan(d.cursor, walkBatch, x.scratch[:0])
		walked += len(x.scratch)
		for _, e := range x.scratch {
			if x.IsCandidate(e) {
				d.addString(e.Key())
			}
		}
		if d.cursor == 0 {
			x.finish(db, d)
			return walked, true
		}
		if !deadline.IsZero() && time.Now().After(deadline) {
			break
		}
	}
	clear(x.scratch) // hold no entries between ticks
	return walked, false
}

// finish ends a pass: the index now holds every candidate of db, and
// the names that are no longer candidates are pruned.
func (x *Index) finish(db *keyspace.DB, d *DBIndex) {
	for key := range d.keys {
		if e := db.Peek([]byte(key)); e == nil || !x.IsCandidate(e) {
			delete(d.keys, key)
		}
	}
	clear(x.scratch)
	d.complete, d.walking, d.cursor, d.lastPass = true, false, 0, time.Now()
	x.Passes++
}

// Cron walks the databases whose first pass is due (at start, once the
// AOF is loaded: the cron does not run before) or whose last pass is
// RepairEvery old, within the tick's budget. Engine lock.
func (x *Index) Cron(ks *keyspace.Keyspace, now time.Time) {
	x.ready = true
	budget, deadline := WalkBudgetKeys, time.Now().Add(WalkBudget)
	for id := 0; id < ks.NumDBs() && budget > 0; id++ {
		d := x.DB(id)
		if d.complete && !d.walking && now.Sub(d.lastPass) < RepairEvery {
			continue
		}
		walked, done := x.Walk(ks.DB(id), d, budget, deadline)
		budget -= walked
		if !done {
			return // out of budget
		}
	}
}

// Pending counts the databases of ks whose first pass has not ended.
func (x *Index) Pending(ks *keyspace.Keyspace) int {
	n := 0
	for id := 0; id < ks.NumDBs(); id++ {
		if !x.DB(id).complete {
			n++
		}
	}
	return n
}

// Size counts the candidates of all databases.
func (x *Index) Size() int {
	n := 0
	for _, d := range x.dbs {
		n += len(d.keys)
	}
	return n
}

// Restart marks the database's first discovery pass as not done, as at
// start (tests and benchmarks).
func (d *DBIndex) Restart() { d.complete, d.walking = false, false }

// IncompleteFields is how many fields WriteIncomplete adds to a reply row.
func IncompleteFields(complete bool) int {
	if complete {
		return 0
	}
	return 1
}

// WriteIncomplete ends a row with "discovery_complete: false" while the
// first discovery pass over the database is running: the reply may lack
// keys the server has not seen written. Complete replies keep their shape.
func WriteIncomplete(c *resp.Client, complete bool) {
	if !complete {
		c.BulkString("discovery_complete")
		c.Bool(false)
	}
}
