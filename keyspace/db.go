package keyspace

import "math/rand/v2"

// LookupFlags tune a lookup the way Redis's lookupKey flags do.
type LookupFlags uint8

const (
	// LookupWrite marks a lookup made by a write: it counts no hit/miss,
	// and an open snapshot saves the entry first, so the caller may then
	// change the value in place (push onto the list, set a hash field...).
	LookupWrite LookupFlags = 1 << iota
	// LookupNoTouch leaves the access clock alone (TYPE, OBJECT, TTL...).
	LookupNoTouch
	// LookupNoStats counts no keyspace hit or miss.
	LookupNoStats
)

// DB is one numbered database: a dictionary of keys plus two dense arrays,
// one of every key (for SCAN, KEYS and RANDOMKEY) and one of the keys with a
// TTL (for the active expiry sampler). Both use swap-remove, so each entry
// records its position.
type DB struct {
	ks       *Keyspace
	id       int
	dict     map[string]*Entry
	dense    []*Entry
	volatile []*Entry
	mem      int64
	// classMem is mem by broker-safe key class, kept while the policy is
	// broker-safe (Keyspace.trackClasses).
	classMem [ClassProtected + 1]int64

	expireCursor int // next position the active expiry cycle looks at
}

// ID returns the database number.
func (db *DB) ID() int { return db.id }

// Len returns the number of keys, including expired keys not yet reclaimed
// (as DBSIZE does in Redis).
func (db *DB) Len() int { return len(db.dict) }

// Expires returns the number of keys with a TTL.
func (db *DB) Expires() int { return len(db.volatile) }

// Memory returns the bytes accounted to this DB's keys and values, and
// to its dicts (memory.go).
func (db *DB) Memory() int64 { return db.mem + db.overhead() }

// Lookup finds a live key, deleting it first if it has expired. Reads count a
// keyspace hit or miss unless flags say otherwise.
func (db *DB) Lookup(key []byte, flags LookupFlags) *Entry {
	e := db.dict[string(key)]
	if e != nil && db.expireIfNeeded(e, flags&LookupWrite != 0) {
		e = nil
	}
	ks := db.ks
	if e != nil {
		// A write lookup is followed by in-place changes (a push onto the
		// list, a field set in the hash...) that no later call sees in
		// time, so this is where an open snapshot must save the entry.
		if ks.snap != nil && flags&LookupWrite != 0 {
			ks.snap.save(db, e)
		}
		if flags&LookupNoTouch == 0 {
			ks.touch(e)
		}
		if flags&(LookupNoStats|LookupWrite) == 0 {
			ks.hits++
		}
	} else if flags&(LookupNoStats|LookupWrite) == 0 {
		ks.misses++
	}
	return e
}

// Peek returns the entry of key whether or not it has expired, without
// deleting, touching or counting anything (WATCH bookkeeping). The entry is
// read-only: changing it in place would escape an open snapshot.
func (db *DB) Peek(key []byte) *Entry { return db.dict[string(key)] }

// Exists reports whether key is live, expiring it if needed. It neither
// touches the key nor counts statistics.
func (db *DB) Exists(key []byte) bool {
	return db.Lookup(key, LookupNoTouch|LookupNoStats) != nil
}

// expireIfNeeded deletes e when it has expired and reports whether it has.
// While expiry is paused an expired key is reported but kept, unless
// force (a write is about to replace or change it).
func (db *DB) expireIfNeeded(e *Entry, force bool) bool {
	if e.expireAt == 0 || db.ks.now() <= e.expireAt || db.ks.loading {
		return false
	}
	if db.ks.expiryPaused && !force {
		return true
	}
	db.deleteEntry(e)
	db.ks.expired++
	if db.ks.hooks != nil {
		db.ks.hooks.KeyExpired(db, e.key)
	}
	return true
}

// SetString stores a string value under key, replacing any previous value
// of any type. The TTL is cleared unless keepTTL. v is copied.
func (db *DB) SetString(key, v []byte, enc Encoding, keepTTL bool) *Entry {
	if e := db.dict[string(key)]; e != nil {
		db.preserve(e)
		e.typ, e.agg, e.enc, e.copied = TypeString, nil, enc, db.ks.unsharedInt(enc)
		// Reuse the old buffer when it fits without wasting much: an
		// overwrite (SET of a counter, a lock token, a result) then
		// allocates nothing.
		if cap(e.str) >= len(v) && cap(e.str) <= 2*len(v)+16 {
			e.str = append(e.str[:0], v...)
		} else {
			e.str = append([]byte(nil), v...)
		}
		if !keepTTL {
			db.setExpire(e, 0)
		}
		e.lru = db.ks.overwriteAccess(e.lru)
		db.account(e)
		return e
	}
	e := &Entry{key: string(key), str: append([]byte(nil), v...), typ: TypeString, enc: enc, vol: -1, copied: db.ks.unsharedInt(enc)}
	db.insert(e)
	return e
}

// SetStringOwned is SetString for a slice the caller hands over (no copy).
func (db *DB) SetStringOwned(key, v []byte, enc Encoding, keepTTL bool) *Entry {
	e := db.SetString(key, nil, enc, keepTTL)
	e.str = v
	db.account(e)
	return e
}

// SetAggregate stores an aggregate value under key, replacing any previous
// value and clearing its TTL.
func (db *DB) SetAggregate(key []byte, t Type, a Aggregate) *Entry {
	if e := db.dict[string(key)]; e != nil {
		db.preserve(e)
		e.typ, e.agg, e.str, e.copied = t, a, nil, false
		db.setExpire(e, 0)
		e.lru = db.ks.overwriteAccess(e.lru)
		db.account(e)
		return e
	}
	e := &Entry{key: string(key), agg: a, typ: t, vol: -1}
	db.insert(e)
	return e
}

// Reaccount refreshes the memory accounted to e after its value changed in
// place (APPEND, LPUSH onto an existing list...). It is too late here to save
// e for an open snapshot: e must come from a LookupWrite lookup.
func (db *DB) Reaccount(e *Entry) { db.account(e) }

// account refreshes e's share of the DB's memory after a change: its
// footprint and, under broker-safe, its class (a key's class follows its
// name, type, TTL and, for a RedBeat entry, its fields).
func (db *DB) account(e *Entry) {
	old := e.mem
	e.mem = e.footprint()
	db.mem += e.mem - old
	if db.ks.trackClasses {
		db.classMem[e.cls] -= old
		e.cls = db.ks.Class(db.id, e)
		db.classMem[e.cls] += e.mem
	}
}

// UpdateString replaces a string value in place, keeping the TTL.
func (db *DB) UpdateString(e *Entry, v []byte, enc Encoding) {
	db.preserve(e)
	e.str, e.enc, e.copied = v, enc, db.ks.unsharedInt(enc)
	db.Reaccount(e)
}

func (db *DB) insert(e *Entry) {
	// A key created while a snapshot is open is not part of it; stamping
	// unconditionally costs no branch, and a key created between snapshots
	// gets an epoch the next one supersedes.
	e.snap = db.ks.epoch
	e.lru = db.ks.newAccess()
	e.pos = int32(len(db.dense))
	db.dense = append(db.dense, e)
	db.dict[e.key] = e
	db.account(e)
	if (e.typ == TypeList || e.typ == TypeZSet) && db.ks.hooks != nil {
		db.ks.hooks.KeyCreated(db, e.key, e.typ)
	}
}

// Delete removes key if it exists (expired keys count as absent) and
// reports whether a live key was removed.
func (db *DB) Delete(key []byte) bool {
	e := db.Lookup(key, LookupWrite)
	if e == nil {
		return false
	}
	db.deleteEntry(e)
	return true
}

// DeleteEntry removes an entry obtained from a lookup in this unit.
func (db *DB) DeleteEntry(e *Entry) { db.deleteEntry(e) }

func (db *DB) deleteEntry(e *Entry) {
	// setExpire saves e for an open snapshot before anything changes.
	db.setExpire(e, 0)
	last := db.dense[len(db.dense)-1]
	db.dense[e.pos] = last
	last.pos = e.pos
	db.dense[len(db.dense)-1] = nil
	db.dense = db.dense[:len(db.dense)-1]
	delete(db.dict, e.key)
	db.mem -= e.mem
	if db.ks.trackClasses {
		db.classMem[e.cls] -= e.mem
	}
}

// SetExpire sets e's absolute expiry (Unix ms); 0 removes it.
func (db *DB) SetExpire(e *Entry, at int64) { db.setExpire(e, at) }

// setExpire saves e for an open snapshot itself, rather than SetExpire,
// which then stays small enough to inline.
func (db *DB) setExpire(e *Entry, at int64) {
	db.preserve(e)
	switch {
	case at != 0 && e.vol < 0:
		e.vol = int32(len(db.volatile))
		db.volatile = append(db.volatile, e)
	case at == 0 && e.vol >= 0:
		last := db.volatile[len(db.volatile)-1]
		db.volatile[e.vol] = last
		last.vol = e.vol
		db.volatile[len(db.volatile)-1] = nil
		db.volatile = db.volatile[:len(db.volatile)-1]
		e.vol = -1
	}
	if e.expireAt != at {
		e.expireAt = at
		if db.ks.trackClasses {
			db.classMem[e.cls] -= e.mem
			e.cls = db.ks.Class(db.id, e)
			db.classMem[e.cls] += e.mem
		}
	}
}

// Rename moves the entry e to newKey, replacing whatever newKey held; the
// TTL moves with it.
func (db *DB) Rename(e *Entry, newKey []byte) *Entry {
	if old := db.dict[string(newKey)]; old != nil {
		db.deleteEntry(old)
	}
	at := e.expireAt
	db.deleteEntry(e)
	ne := &Entry{key: string(newKey), str: e.str, agg: e.agg, typ: e.typ, enc: e.enc, copied: e.copied, vol: -1}
	db.insert(ne)
	ne.lru = e.lru
	db.setExpire(ne, at)
	return ne
}

// Adopt inserts a detached entry copy (from Copy or Move) under key,
// replacing whatever key held.
func (db *DB) Adopt(key []byte, src *Entry, str []byte, agg Aggregate) *Entry {
	if old := db.dict[string(key)]; old != nil {
		db.deleteEntry(old)
	}
	ne := &Entry{key: string(key), str: str, agg: agg, typ: src.typ, enc: src.enc, copied: src.copied, vol: -1}
	db.insert(ne)
	db.setExpire(ne, src.expireAt)
	return ne
}

// RandomKey returns a random live key, or nil when the DB is empty.
// Expired keys met on the way are deleted, as Redis's dbRandomKey does.
func (db *DB) RandomKey() *Entry {
	for tries := 0; len(db.dense) > 0; tries++ {
		e := db.dense[rand.IntN(len(db.dense))]
		if tries >= 100 && db.ks.expiryPaused {
			// Every key may be logically expired and kept: return one
			// rather than loop, as Redis does on a replica.
			return e
		}
		if db.expireIfNeeded(e, false) {
			continue
		}
		return e
	}
	return nil
}

// Scan returns up to count entries starting at cursor and the next cursor
// (0 when the iteration is complete). The cursor is the upper bound of the
// not-yet-visited region of the dense key array, walked downwards: a
// deletion moves the last (already visited) key into the hole, and additions
// land in the visited region, so every key present for the whole iteration is
// returned at least once, as SCAN guarantees. Expired entries are returned
// too: the caller filters and reclaims them, as Redis's SCAN does.
func (db *DB) Scan(cursor uint64, count int, out []*Entry) ([]*Entry, uint64) {
	pos := uint64(len(db.dense))
	if cursor != 0 && cursor < pos {
		pos = cursor
	}
	for ; pos > 0 && count > 0; count-- {
		pos--
		out = append(out, db.dense[pos])
	}
	return out, pos
}

// IsExpired reports whether e's TTL has passed, without deleting it.
func (db *DB) IsExpired(e *Entry) bool {
	return e.expireAt != 0 && db.ks.now() > e.expireAt
}

// ForEach visits every live key in unspecified order.
func (db *DB) ForEach(fn func(e *Entry)) {
	now := db.ks.now()
	for _, e := range db.dense {
		if e.expireAt != 0 && now > e.expireAt {
			continue
		}
		fn(e)
	}
}

// Flush removes every key. It installs fresh tables rather than clearing
// them, so an open snapshot keeps walking the old ones, which nobody
// modifies any more.
func (db *DB) Flush() {
	if db.ks.snap != nil {
		db.ks.snap.detach(db)
	}
	db.dict = make(map[string]*Entry)
	db.dense = nil
	db.volatile = nil
	db.mem = 0
	db.classMem = [ClassProtected + 1]int64{}
}

// AvgTTL returns the average remaining TTL in ms of keys with a TTL, as
// estimated by the active expiry cycle (INFO keyspace avg_ttl).
func (db *DB) AvgTTL() int64 {
	if len(db.volatile) == 0 {
		return 0
	}
	now := db.ks.now()
	var sum, n int64
	step := len(db.volatile)/64 + 1
	for i := 0; i < len(db.volatile); i += step {
		if t := db.volatile[i].expireAt - now; t > 0 {
			sum += t
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / n
}
