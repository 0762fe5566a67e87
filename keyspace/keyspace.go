package keyspace

// Hooks lets the engine react to deletions the keyspace makes on its own.
type Hooks interface {
	// KeyExpired is called after an expired key was deleted, lazily or by
	// the active cycle, so the engine can propagate a DEL and signal the
	// key as modified (WATCH).
	KeyExpired(db *DB, key string)
	// KeyCreated is called after a list or sorted-set key was created (a
	// push onto a missing key, RENAME, MOVE, COPY...), so the engine can
	// serve clients blocked on it, as Redis's dbAdd signals ready keys.
	KeyCreated(db *DB, key string, t Type)
}

// Limits are the encoding thresholds of Redis 7.0's compact encodings
// (hash-max-listpack-entries, ...). Values keep their real representation;
// the limits decide which encoding OBJECT ENCODING reports, so it matches
// what Redis would report for the same history of writes.
type Limits struct {
	HashMaxListpackEntries int
	HashMaxListpackValue   int
	SetMaxIntsetEntries    int
	ZSetMaxListpackEntries int
	ZSetMaxListpackValue   int
	ListMaxListpackSize    int
}

// DefaultLimits are Redis 7.0's defaults.
func DefaultLimits() Limits {
	return Limits{
		HashMaxListpackEntries: 512, HashMaxListpackValue: 64,
		SetMaxIntsetEntries:    512,
		ZSetMaxListpackEntries: 128, ZSetMaxListpackValue: 64,
		ListMaxListpackSize: -2,
	}
}

// Keyspace is the set of databases plus the statistics Redis keeps about
// them. It is not safe for concurrent use: the engine lock guards it.
type Keyspace struct {
	dbs   []*DB
	clock Clock
	hooks Hooks

	fixedNow int64 // when non-zero, the time every lookup in this unit uses
	loading  bool  // replaying a persisted dataset: nothing expires
	// expiryPaused: a CLIENT PAUSE is in effect, so expired keys read as
	// absent but stay until it ends (SetExpiryPaused).
	expiryPaused bool
	limits       Limits

	hits, misses, expired int64
	expireStale           float64 // percentage of stale keys seen by the last sample
	expireCapReached      int64

	evict       Eviction              // policy and LFU parameters (evict.go)
	pool        [evpoolSize]poolEntry // eviction candidates kept across calls
	nextEvictDB int                   // round robin of the random policies
	evicted     int64
	// evictedClass counts broker-safe evictions by key class.
	evictedClass [ClassProtected + 1]int64
	classify     Classifier // broker-safe key classes; nil: all ClassOther
	// trackClasses is whether entries keep their class and DBs their
	// memory by class (under broker-safe only: it costs a classification
	// per write).
	trackClasses bool

	snap  *Snapshot // the open snapshot, nil when none (see snapshot.go)
	epoch uint32    // epoch of the latest snapshot begun
}

// New returns a keyspace of n empty databases.
func New(n int, clock Clock, hooks Hooks) *Keyspace {
	ks := &Keyspace{clock: clock, hooks: hooks, limits: DefaultLimits(),
		evict: Eviction{Samples: 5, LFULogFactor: 10, LFUDecayTime: 1}}
	ks.dbs = make([]*DB, n)
	for i := range ks.dbs {
		ks.dbs[i] = &DB{ks: ks, id: i, dict: make(map[string]*Entry)}
	}
	return ks
}

// SetHooks installs the engine's hooks.
func (ks *Keyspace) SetHooks(h Hooks) { ks.hooks = h }

// Limits returns the encoding thresholds in force.
func (ks *Keyspace) Limits() Limits { return ks.limits }

// SetLimits changes the encoding thresholds (CONFIG SET). Existing values
// keep their encoding, as in Redis.
func (ks *Keyspace) SetLimits(l Limits) { ks.limits = l }

// NumDBs returns the number of databases.
func (ks *Keyspace) NumDBs() int { return len(ks.dbs) }

// DB returns database i (0 <= i < NumDBs).
func (ks *Keyspace) DB(i int) *DB { return ks.dbs[i] }

// BeginUnit fixes the time seen by every lookup until EndUnit, so a unit
// (one command, an EXEC block or a script) sees one consistent clock, as
// Redis does for scripts and transactions.
func (ks *Keyspace) BeginUnit() int64 {
	ks.fixedNow = ks.clock.NowMs()
	return ks.fixedNow
}

// SetUnitTime fixes the time seen by lookups to ms (Unix milliseconds),
// for an engine that already read the clock.
func (ks *Keyspace) SetUnitTime(ms int64) { ks.fixedNow = ms }

// UnitTime returns the time fixed for the running unit (0 if none).
func (ks *Keyspace) UnitTime() int64 { return ks.fixedNow }

// SetLoading marks the keyspace as being rebuilt from persistence (the AOF
// at start-up): lookups then never expire keys, as Redis's keyIsExpired
// answers "no" while loading, because the file replays a history in which
// those keys were still alive when later commands used them. Keys past
// their deadline are expired once loading ends.
func (ks *Keyspace) SetLoading(v bool) { ks.loading = v }

// EndUnit releases the time fixed by BeginUnit.
func (ks *Keyspace) EndUnit() { ks.fixedNow = 0 }

// Now returns the unit's time, or the clock's when no unit is running.
func (ks *Keyspace) Now() int64 { return ks.now() }

// ClockNow reads the clock, ignoring the unit's fixed time. Redis 7.0
// freezes time only for deciding whether a key has expired (a script or
// an EXEC block sees a key either alive or gone throughout); the base of a
// relative expiry, the "already in the past" check of EXPIREAT and the
// remaining time TTL reports are taken from the clock as it runs, which
// shows inside a long script.
func (ks *Keyspace) ClockNow() int64 { return ks.clock.NowMs() }

func (ks *Keyspace) now() int64 {
	if ks.fixedNow != 0 {
		return ks.fixedNow
	}
	return ks.clock.NowMs()
}

// lruClockMask keeps the access clock in Redis's 24 bits of seconds.
const lruClockMask = 1<<24 - 1

func (ks *Keyspace) lruClock() uint32 { return uint32(ks.now()/1000) & lruClockMask }

// IdleMs returns how long ago e was last accessed, as OBJECT IDLETIME
// estimates it (with wrap-around of the 24-bit clock).
func (ks *Keyspace) IdleMs(e *Entry) int64 {
	now := ks.lruClock()
	if now >= e.lru {
		return int64(now-e.lru) * 1000
	}
	return int64(lruClockMask-e.lru+now) * 1000
}

// SwapDB exchanges the contents of databases a and b.
func (ks *Keyspace) SwapDB(a, b int) {
	if ks.snap != nil {
		ks.snap.swap(a, b)
	}
	da, db := ks.dbs[a], ks.dbs[b]
	da.dict, db.dict = db.dict, da.dict
	da.dense, db.dense = db.dense, da.dense
	da.volatile, db.volatile = db.volatile, da.volatile
	da.mem, db.mem = db.mem, da.mem
	da.classMem, db.classMem = db.classMem, da.classMem
}

// FlushAll empties every database.
func (ks *Keyspace) FlushAll() {
	for _, db := range ks.dbs {
		db.Flush()
	}
}

// Memory returns the bytes accounted to all keys and values.
func (ks *Keyspace) Memory() int64 {
	var n int64
	for _, db := range ks.dbs {
		n += db.Memory()
	}
	return n
}

// Stats is a snapshot of keyspace counters for INFO.
type Stats struct {
	Hits, Misses, Expired int64
	Evicted               int64
	// EvictedExpendable and EvictedOther count the broker-safe policy's
	// evictions by key class.
	EvictedExpendable, EvictedOther int64
	ExpiredStalePerc                float64
	ExpireCapReached                int64
}

// Stats returns the keyspace counters.
func (ks *Keyspace) Stats() Stats {
	return Stats{Hits: ks.hits, Misses: ks.misses, Expired: ks.expired, Evicted: ks.evicted,
		EvictedExpendable: ks.evictedClass[ClassExpendable], EvictedOther: ks.evictedClass[ClassOther],
		ExpiredStalePerc: ks.expireStale, ExpireCapReached: ks.expireCapReached}
}

// ResetStats zeroes the counters (CONFIG RESETSTAT).
func (ks *Keyspace) ResetStats() {
	ks.hits, ks.misses, ks.expired, ks.expireCapReached, ks.evicted = 0, 0, 0, 0, 0
	ks.expireStale = 0
	ks.evictedClass = [ClassProtected + 1]int64{}
}

// SetExpiryPaused stops or resumes the deletion of expired keys, as Redis
// does while clients are paused (so the dataset stays static for a
// failover): an expired key reads as absent but is neither deleted nor
// counted as expired until the pause ends. Writes still delete it, so a
// write never meets a stale entry. The active cycle is the caller's to
// skip.
func (ks *Keyspace) SetExpiryPaused(v bool) { ks.expiryPaused = v }
