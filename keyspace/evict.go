package keyspace

import (
	"math"
	"math/rand/v2"
	"strings"
)

// Eviction follows Redis 7.0's evict.c. Each entry's 24-bit access field
// (Entry.lru) means one of two things depending on the policy in force,
// exactly as Redis's robj.lru does: under LRU (and every non-LFU policy)
// the access clock in seconds; under an LFU policy the minute of the last
// decrement in the high 16 bits and a logarithmic access counter in the
// low 8. Switching policy reinterprets the field rather than converting
// it, which is why Redis warns that "LRU and LFU data will take some time
// to adjust" and why OBJECT FREQ right after a switch shows what Redis
// would.
//
// EvictOne picks the key to evict the way performEvictions does: for the
// LRU, LFU and TTL policies it samples Samples keys from every database
// that has candidates (all keys, or only those with a TTL) into a pool of
// the 16 best candidates seen so far, kept across calls, and evicts the
// best one still present; the random policies take a random candidate from
// the databases in turn.

// EvictionPolicy is maxmemory-policy.
type EvictionPolicy uint8

// Eviction policies, as Redis names them.
const (
	NoEviction EvictionPolicy = iota
	AllKeysLRU
	AllKeysLFU
	AllKeysRandom
	VolatileLRU
	VolatileLFU
	VolatileRandom
	VolatileTTL
	// BrokerSafe is Celerity's own policy: keys are classed by a
	// Classifier, protected keys are never evicted, expendable keys go
	// first (least recently used first), then other keys.
	BrokerSafe
)

var policyNames = [...]string{"noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random",
	"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "broker-safe"}

// String returns the name CONFIG GET and INFO report.
func (p EvictionPolicy) String() string { return policyNames[p] }

// ParseEvictionPolicy reads a policy name (case-insensitive, as Redis's
// enum configs are).
func ParseEvictionPolicy(s string) (EvictionPolicy, bool) {
	for i, n := range policyNames {
		if strings.EqualFold(s, n) {
			return EvictionPolicy(i), true
		}
	}
	return 0, false
}

// LFU reports whether the policy tracks access frequency.
func (p EvictionPolicy) LFU() bool { return p == AllKeysLFU || p == VolatileLFU }

// Volatile reports whether only keys with a TTL are candidates.
func (p EvictionPolicy) Volatile() bool { return p >= VolatileLRU && p <= VolatileTTL }

// KeyClass is how the broker-safe policy treats a key.
type KeyClass uint8

// Key classes.
const (
	ClassOther      KeyClass = iota // evicted once no expendable key is found
	ClassExpendable                 // evicted first
	ClassProtected                  // never evicted
)

// Classifier classes a key of database db for the broker-safe policy. It
// must not call back into the keyspace.
type Classifier func(db int, e *Entry) KeyClass

// SetClassifier installs the broker-safe policy's classifier; without one
// every key is ClassOther. Under broker-safe every key is classed again.
func (ks *Keyspace) SetClassifier(f Classifier) {
	ks.classify = f
	ks.Reclassify()
}

// HasClassifier reports whether a classifier is installed.
func (ks *Keyspace) HasClassifier() bool { return ks.classify != nil }

// Class returns e's class under the installed classifier.
func (ks *Keyspace) Class(db int, e *Entry) KeyClass {
	if ks.classify == nil {
		return ClassOther
	}
	return ks.classify(db, e)
}

// Eviction is the eviction configuration (maxmemory-policy,
// maxmemory-samples, lfu-log-factor, lfu-decay-time).
type Eviction struct {
	Policy       EvictionPolicy
	Samples      int
	LFULogFactor int
	LFUDecayTime int // minutes per decrement of the counter; 0: no decay
	// Limited is whether maxmemory is set: with an LRU or LFU policy Redis
	// then stops sharing small integer objects, since a shared object has
	// one access field for every key holding it.
	Limited bool
}

// unsharedInt reports whether a string value of encoding enc stored now
// gets an object of its own where Redis would share one (OBJECT REFCOUNT
// says 1), as tryObjectEncoding decides under maxmemory.
func (ks *Keyspace) unsharedInt(enc Encoding) bool {
	if enc != EncInt || !ks.evict.Limited {
		return false
	}
	switch ks.evict.Policy {
	case AllKeysLRU, VolatileLRU, AllKeysLFU, VolatileLFU, BrokerSafe:
		return true
	}
	return false
}

// SetEviction installs the eviction configuration. Changing the policy
// empties the candidate pool, whose scores were computed under the old
// one.
func (ks *Keyspace) SetEviction(ev Eviction) {
	changed := ev.Policy != ks.evict.Policy
	if changed {
		ks.pool = [evpoolSize]poolEntry{}
	}
	ks.evict = ev
	if changed {
		ks.trackClasses = ev.Policy == BrokerSafe
		if ks.trackClasses {
			ks.Reclassify()
		}
	}
}

// Reclassify classes every key again and recomputes the memory by class,
// when the classifier's rules change (a new policy, other protected
// prefixes). O(keys).
func (ks *Keyspace) Reclassify() {
	if !ks.trackClasses {
		return
	}
	for _, db := range ks.dbs {
		db.classMem = [ClassProtected + 1]int64{}
		for _, e := range db.dense {
			e.cls = ks.Class(db.id, e)
			db.classMem[e.cls] += e.mem
		}
	}
}

// ClassMemory returns the memory of the keys of each broker-safe class,
// as accounted while the policy is broker-safe (Keyspace.Memory's
// per-key share: the dicts' own overhead is in no class).
func (ks *Keyspace) ClassMemory() (m [ClassProtected + 1]int64) {
	for _, db := range ks.dbs {
		for c, n := range db.classMem {
			m[c] += n
		}
	}
	return m
}

// LFU constants of server.h.
const (
	lfuInitVal = 5
	evpoolSize = 16
)

// poolEntry is a slot of the eviction pool: a candidate and its score
// (higher evicts first). An empty key marks a free slot.
type poolEntry struct {
	score uint64
	key   string
	db    int
}

// lfuMinutes is Redis's LFUGetTimeInMinutes: the unit's time in minutes,
// 16 bits.
func (ks *Keyspace) lfuMinutes() uint32 { return uint32(ks.now()/60000) & 0xffff }

// lfuElapsed is LFUTimeElapsed: minutes since ldt, with wrap-around.
func (ks *Keyspace) lfuElapsed(ldt uint32) uint32 {
	now := ks.lfuMinutes()
	if now >= ldt {
		return now - ldt
	}
	return 65535 - ldt + now
}

// lfuDecrAndReturn is LFUDecrAndReturn: the counter decayed by the periods
// elapsed since its last decrement (nothing is stored).
func (ks *Keyspace) lfuDecrAndReturn(e *Entry) uint32 {
	ldt, counter := e.lru>>8, e.lru&255
	if d := ks.evict.LFUDecayTime; d > 0 {
		if periods := ks.lfuElapsed(ldt) / uint32(d); periods > 0 {
			if periods > counter {
				return 0
			}
			return counter - periods
		}
	}
	return counter
}

// lfuLogIncr is LFULogIncr: a Morris counter, incremented with probability
// 1/((counter-5)*lfu-log-factor+1).
func (ks *Keyspace) lfuLogIncr(counter uint32) uint32 {
	if counter == 255 {
		return 255
	}
	base := float64(counter) - lfuInitVal
	if base < 0 {
		base = 0
	}
	if rand.Float64() < 1/(base*float64(ks.evict.LFULogFactor)+1) {
		counter++
	}
	return counter
}

// touch records an access to e (Redis's lookupKey without NOTOUCH).
func (ks *Keyspace) touch(e *Entry) {
	if ks.evict.Policy.LFU() {
		c := ks.lfuLogIncr(ks.lfuDecrAndReturn(e))
		e.lru = ks.lfuMinutes()<<8 | c
		return
	}
	e.lru = ks.lruClock()
}

// newAccess is the access field of a new value (Redis's createObject).
func (ks *Keyspace) newAccess() uint32 {
	if ks.evict.Policy.LFU() {
		return ks.lfuMinutes()<<8 | lfuInitVal
	}
	return ks.lruClock()
}

// overwriteAccess is the access field of a value replacing old under the
// same key: Redis's dbOverwrite keeps the old counter under LFU, and the
// new object carries the current clock under LRU.
func (ks *Keyspace) overwriteAccess(old uint32) uint32 {
	if ks.evict.Policy.LFU() {
		return old
	}
	return ks.lruClock()
}

// Freq returns e's access frequency counter, decayed (OBJECT FREQ). It is
// meaningful only under an LFU policy.
func (ks *Keyspace) Freq(e *Entry) int64 { return int64(ks.lfuDecrAndReturn(e)) }

// candidates returns the keys the policy may evict from db.
func (db *DB) candidates(p EvictionPolicy) []*Entry {
	if p.Volatile() {
		return db.volatile
	}
	return db.dense
}

// score is how strongly e should be evicted under the policy (Redis's
// "idle" value in evictionPoolPopulate): idle milliseconds, 255 minus the
// frequency, or the inverse of the expire time.
func (ks *Keyspace) score(e *Entry) uint64 {
	switch ks.evict.Policy {
	case AllKeysLFU, VolatileLFU:
		return uint64(255 - ks.lfuDecrAndReturn(e))
	case VolatileTTL:
		return math.MaxUint64 - uint64(e.expireAt)
	default:
		return uint64(ks.IdleMs(e))
	}
}

// populatePool samples keys of db into the pool (evictionPoolPopulate):
// the pool stays sorted by ascending score, filled from the left with free
// slots on the right, and a sample
// worse than every entry of a full pool is dropped.
func (ks *Keyspace) populatePool(db *DB, src []*Entry) {
	n := ks.evict.Samples
	if n < 1 {
		n = 1
	}
	pool := &ks.pool
	for i := 0; i < n && i < len(src); i++ {
		var e *Entry
		if len(src) <= n {
			e = src[i]
		} else {
			e = src[rand.IntN(len(src))]
		}
		score := ks.score(e)
		// The first slot that is free or scores at least as high.
		k := 0
		for k < evpoolSize && pool[k].key != "" && pool[k].score < score {
			k++
		}
		switch {
		case k == 0 && pool[evpoolSize-1].key != "":
			// Worse than everything in a full pool.
			continue
		case k < evpoolSize && pool[k].key == "":
			// A free slot: insert here.
		case pool[evpoolSize-1].key == "":
			// Free space on the right: shift right from k.
			copy(pool[k+1:], pool[k:evpoolSize-1])
		default:
			// Full: drop the worst (leftmost), shift left.
			k--
			copy(pool[:k], pool[1:k+1])
		}
		pool[k] = poolEntry{score: score, key: e.key, db: db.id}
	}
}

// EvictOne removes the key the policy chooses and returns its database
// and name; ok is false when the policy has no candidate (noeviction, or
// a volatile policy with no key with a TTL). The deletion goes through the
// same path as DEL, so an open snapshot saves the entry first. The caller
// propagates the deletion and tells WATCHers.
func (ks *Keyspace) EvictOne() (db *DB, key string, ok bool) {
	p := ks.evict.Policy
	switch p {
	case NoEviction:
		return nil, "", false
	case AllKeysRandom, VolatileRandom:
		for i := 0; i < len(ks.dbs); i++ {
			ks.nextEvictDB = (ks.nextEvictDB + 1) % len(ks.dbs)
			d := ks.dbs[ks.nextEvictDB]
			if src := d.candidates(p); len(src) > 0 {
				e := src[rand.IntN(len(src))]
				ks.evictEntry(d, e)
				return d, e.key, true
			}
		}
		return nil, "", false
	}
	if p == BrokerSafe {
		return ks.evictBrokerSafe()
	}
	for {
		total := 0
		for _, d := range ks.dbs {
			if src := d.candidates(p); len(src) > 0 {
				total += len(src)
				ks.populatePool(d, src)
			}
		}
		if total == 0 {
			return nil, "", false
		}
		// The best candidate is on the right; entries whose key is gone
		// since they were pooled (ghosts) are dropped on the way.
		for k := evpoolSize - 1; k >= 0; k-- {
			pe := ks.pool[k]
			if pe.key == "" {
				continue
			}
			ks.pool[k] = poolEntry{}
			d := ks.dbs[pe.db]
			e := d.dict[pe.key]
			if e == nil || p.Volatile() && e.vol < 0 {
				continue
			}
			ks.evictEntry(d, e)
			return d, e.key, true
		}
	}
}

func (ks *Keyspace) evictEntry(db *DB, e *Entry) {
	db.deleteEntry(e)
	ks.evicted++
}

// brokerSafeAttempts bounds the random picks per database and round that
// look for a key of the wanted class among the others.
const brokerSafeAttempts = 8

// evictBrokerSafe evicts the least recently used expendable key it can
// find, else the least recently used key of class other; protected keys
// are never candidates. Candidates are found by random sampling, as the
// other policies find theirs: in a broker's dataset protected keys are few
// (a list holds a whole queue) and results and cache entries many, so a
// sample misses an expendable key only when there are almost none left.
// The pool is not kept across calls: a key's class can change (a TTL set
// or removed).
func (ks *Keyspace) evictBrokerSafe() (*DB, string, bool) {
	for _, want := range []KeyClass{ClassExpendable, ClassOther} {
		var best *Entry
		var bestDB *DB
		var bestIdle int64 = -1
		for _, d := range ks.dbs {
			srcs := [][]*Entry{d.dense}
			if want == ClassExpendable {
				// Keys with a TTL are the usual expendable ones: look
				// there first, it is a smaller haystack.
				srcs = [][]*Entry{d.volatile, d.dense}
			}
			for _, src := range srcs {
				if len(src) == 0 {
					continue
				}
				consider := func(e *Entry) bool {
					if ks.Class(d.id, e) != want {
						return false
					}
					if idle := ks.IdleMs(e); idle > bestIdle {
						best, bestDB, bestIdle = e, d, idle
					}
					return true
				}
				limit := ks.evict.Samples * brokerSafeAttempts
				if len(src) <= limit {
					// Small enough to look at every key: exact.
					for _, e := range src {
						consider(e)
					}
					continue
				}
				for i, found := 0, 0; i < limit && found < ks.evict.Samples; i++ {
					if consider(src[rand.IntN(len(src))]) {
						found++
					}
				}
			}
		}
		if best != nil {
			ks.evictedClass[want]++
			ks.evictEntry(bestDB, best)
			return bestDB, best.key, true
		}
	}
	return nil, "", false
}

// SetAccess sets e's access field from a saved idle time (seconds) or LFU
// counter, as Redis's objectSetLRUOrLFU does for RESTORE IDLETIME/FREQ and
// the RDB's idle/freq opcodes: the counter under an LFU policy, the idle
// time otherwise; a negative value leaves the field as it is.
func (ks *Keyspace) SetAccess(e *Entry, idleSeconds int64, freq int) {
	if ks.evict.Policy.LFU() {
		if freq >= 0 {
			e.lru = ks.lfuMinutes()<<8 | uint32(freq&255)
		}
		return
	}
	if idleSeconds < 0 {
		return
	}
	clock := int64(ks.lruClock())
	abs := clock - idleSeconds
	if abs < 0 {
		abs = clock + lruClockMask/2 - idleSeconds
	}
	e.lru = uint32(abs) & lruClockMask
}
