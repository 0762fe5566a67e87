package redbeat

import (
	"bytes"
	"sort"
	"strconv"
	"strings"

	"github.com/celerity/celerity/keyspace"
	"github.com/celerity/celerity/resp"
	"github.com/celerity/celerity/resp/keyindex"
)

// The lock watch. RedBeat's beat holds a redis-py Lock on p + ":lock"
// (redbeat_lock_key): it takes it with SET key token NX PX timeout, and on
// every tick runs its "extend-to" script, which PEXPIREs the key to the full
// timeout again if the token still matches (docs/celery-wire.md §7.5, §8).
// Scripts report each redis.call write to the Written hook, so the watch
// sees the SET and every PEXPIRE with their arguments.
//
// The trap (sibson/redbeat#230, #129): beat sleeps up to
// beat_max_loop_interval between ticks. If that is not well below
// redbeat_lock_timeout, the lock expires between two ticks, the next
// extension finds no key and beat exits with LockNotOwnedError (or a
// second beat takes over). The watch warns in two cases, with the values
// that caused it:
//
//   - a late extension: the lock had less than lateFraction of its TTL left
//     when it was extended (the loop interval is close to the timeout);
//   - an expiry: the deadline passed without an extension (noticed by the
//     cron, or by the next SET on the key, whichever comes first).

// Watch limits.
const (
	lateFraction = 5  // warn below 1/lateFraction (20 %) of the TTL left
	ringSize     = 16 // extensions kept per lock
	maxLocks     = 64 // lock keys watched; released ones go first
)

// Warning kinds.
const (
	warnLate    = "late_extension"
	warnExpired = "expired"
)

type lockID struct {
	db  int
	key string
}

// lockEvent is an acquisition or an extension.
type lockEvent struct {
	at      int64 // Unix ms
	leftMs  int64 // TTL left just before; -1 for an acquisition
	ttlMs   int64 // TTL given
	acquire bool
}

// lockState is what the watch knows of one lock key.
type lockState struct {
	prefix     string
	token      string
	timeoutMs  int64 // the TTL last given (SET PX or PEXPIRE); 0 unknown
	acquiredAt int64
	deadline   int64 // Unix ms it expires at unless extended; 0: no TTL
	lastAt     int64 // last acquisition or extension
	intervalMs int64 // time between the last two of them; 0 before
	events     [ringSize]lockEvent
	nEvents    int
	released   bool // DELeted by its holder
	expired    bool // expiry already noted
	warnings   int64
	last       *lockWarning
}

// lockWarning is one warning, with the values behind it.
type lockWarning struct {
	kind       string
	key        string
	db         int
	at         int64
	timeoutMs  int64
	leftMs     int64 // late: TTL left when extended; expired: 0
	intervalMs int64 // late: time since the previous extension; expired: since the last one
}

func (l *lockState) push(ev lockEvent) {
	l.events[l.nEvents%ringSize] = ev
	l.nEvents++
}

// eventList returns the kept events, oldest first.
func (l *lockState) eventList() []lockEvent {
	n := min(l.nEvents, ringSize)
	out := make([]lockEvent, 0, n)
	for i := l.nEvents - n; i < l.nEvents; i++ {
		out = append(out, l.events[i%ringSize])
	}
	return out
}

// written is the Written hook: it feeds the candidate index (resp/keyindex) and
// the lock watch. Engine lock; it sees every write, so it must stay cheap
// (BenchmarkWrittenNonRedbeat).
func (r *RedBeat) written(c *resp.Client, cmd *resp.Command, argv [][]byte) {
	r.idx.Written(c, cmd, argv)
	switch cmd.FullName() {
	case "hset", "hmset":
		// RedBeat saves an entry with HSET key definition ... meta ...
		for i := 2; i < len(argv); i += 2 {
			if bytes.Equal(argv[i], definitionField) {
				r.idx.Add(c.DB().ID(), argv[1])
				break
			}
		}
	case "hsetnx":
		if bytes.Equal(argv[2], definitionField) {
			r.idx.Add(c.DB().ID(), argv[1])
		}
	case "set":
		r.lockSet(c.DB(), argv)
	case "pexpire", "expire", "pexpireat", "expireat":
		if len(r.locks) > 0 {
			r.lockExtend(c.DB(), cmd.FullName(), argv)
		}
	case "del", "unlink", "getdel":
		for _, k := range argv[1:] {
			if l := r.locks[lockID{c.DB().ID(), string(k)}]; l != nil {
				l.released = true
			}
		}
	}
}

// lockPrefix reports whether key, written by SET with a TTL, is a RedBeat
// lock, and under which prefix: any key under a configured prefix (a
// redbeat_lock_key of one's own is prefixed too); p + ":lock" when
// p + ":schedule" is a sorted set; or p + ":lock" with p ending in ':'
// (RedBeat's "::lock" spelling) taken as redis-py's Lock takes it, SET NX
// with a uuid1().hex token, for a beat that has no entries yet. Other keys
// ending in ":lock" are other applications' locks, which may lapse on
// purpose.
func (r *RedBeat) lockPrefix(db *keyspace.DB, argv [][]byte, now int64) (string, bool) {
	key := string(argv[1])
	for _, p := range r.srv.Config().RedbeatPrefixes {
		if strings.HasPrefix(key, p) {
			return p, true
		}
	}
	p, ok := strings.CutSuffix(key, lockSuffix)
	if !ok {
		return "", false
	}
	if e := live(db, p+scheduleSuffix, now); e != nil && e.Type() == keyspace.TypeZSet {
		return p, true
	}
	if strings.HasSuffix(p, ":") && hasNX(argv) && isHexToken(argv[2]) {
		return p, true
	}
	return "", false
}

func hasNX(argv [][]byte) bool {
	for _, a := range argv[3:] {
		if strings.EqualFold(string(a), "nx") {
			return true
		}
	}
	return false
}

// isHexToken reports whether b looks like redis-py's lock token,
// uuid1().hex: 32 lower-case hex digits.
func isHexToken(b []byte) bool {
	if len(b) != 32 {
		return false
	}
	for _, c := range b {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// setTTL parses SET's options for the TTL it gives (ms), 0 for none.
func setTTL(argv [][]byte, now int64) int64 {
	for i := 3; i < len(argv); i++ {
		opt := strings.ToLower(string(argv[i]))
		if i+1 >= len(argv) {
			break
		}
		n, err := strconv.ParseInt(string(argv[i+1]), 10, 64)
		if err != nil {
			continue
		}
		switch opt {
		case "px":
			return n
		case "ex":
			return n * 1000
		case "pxat":
			return n - now
		case "exat":
			return n*1000 - now
		}
	}
	return 0
}

// lockSet records a SET on a lock key: an acquisition (or a holder
// overwriting its own token). Engine lock.
func (r *RedBeat) lockSet(db *keyspace.DB, argv [][]byte) {
	if len(argv) < 3 || !r.maybeLock(db, argv[1]) {
		return // the common SET: not a lock key
	}
	now := r.srv.Keyspace().ClockNow()
	ttl := setTTL(argv, now)
	if ttl <= 0 && len(r.locks) == 0 {
		return // nothing watched, and a lock is taken with a TTL
	}
	key := string(argv[1])
	id := lockID{db.ID(), key}
	l := r.locks[id]
	if l == nil {
		if ttl <= 0 {
			return // a lock is taken with a TTL
		}
		p, ok := r.lockPrefix(db, argv, now)
		if !ok {
			return
		}
		r.makeRoom()
		l = &lockState{prefix: p}
		r.locks[id] = l
	}
	if !l.released && !l.expired && l.deadline > 0 && now > l.deadline {
		r.noteExpired(id, l, now) // the previous holder let it lapse
	}
	token := string(argv[2])
	if token != l.token || l.released || l.expired {
		*l = lockState{prefix: l.prefix, token: token, acquiredAt: now, warnings: l.warnings, last: l.last}
	}
	l.timeoutMs, l.lastAt = ttl, now
	l.deadline = 0
	if ttl > 0 {
		l.deadline = now + ttl
	}
	l.push(lockEvent{at: now, leftMs: -1, ttlMs: ttl, acquire: true})
}

// maybeLock is lockPrefix's test on the name alone, or the key is watched
// already: the SET of any other key (every result a backend stores) stops
// there, without parsing its options.
func (r *RedBeat) maybeLock(db *keyspace.DB, key []byte) bool {
	if bytes.HasSuffix(key, lockName) {
		return true
	}
	for _, p := range r.srv.Config().RedbeatPrefixes {
		if len(key) >= len(p) && string(key[:len(p)]) == p {
			return true
		}
	}
	return len(r.locks) > 0 && r.locks[lockID{db.ID(), string(key)}] != nil
}

var lockName = []byte(lockSuffix)

// makeRoom keeps the watch under maxLocks keys: released locks go first,
// then the least recently written.
func (r *RedBeat) makeRoom() {
	if len(r.locks) < maxLocks {
		return
	}
	var victim lockID
	found := false
	var oldest int64
	for id, l := range r.locks {
		if l.released {
			delete(r.locks, id)
			return
		}
		if !found || l.lastAt < oldest {
			victim, oldest, found = id, l.lastAt, true
		}
	}
	delete(r.locks, victim)
}

// lockExtend records an expire command on a watched lock. Engine lock.
func (r *RedBeat) lockExtend(db *keyspace.DB, name string, argv [][]byte) {
	if len(argv) < 3 {
		return
	}
	id := lockID{db.ID(), string(argv[1])}
	l := r.locks[id]
	if l == nil || l.released {
		return
	}
	n, err := strconv.ParseInt(string(argv[2]), 10, 64)
	if err != nil {
		return
	}
	now := r.srv.Keyspace().ClockNow()
	var ttl int64
	switch name {
	case "pexpire":
		ttl = n
	case "expire":
		ttl = n * 1000
	case "pexpireat":
		ttl = n - now
	case "expireat":
		ttl = n*1000 - now
	}
	left := int64(-1)
	if l.deadline > 0 {
		left = max(l.deadline-now, 0)
	}
	gap := now - l.lastAt
	if l.deadline > 0 && l.timeoutMs > 0 && left < l.timeoutMs/lateFraction {
		r.warn(id, l, &lockWarning{kind: warnLate, at: now, timeoutMs: l.timeoutMs, leftMs: left, intervalMs: gap})
	}
	l.intervalMs = gap
	l.push(lockEvent{at: now, leftMs: left, ttlMs: ttl})
	l.timeoutMs, l.lastAt, l.deadline, l.expired = ttl, now, now+ttl, false
}

// checkExpired notes the watched locks whose deadline passed while no
// extension came. Engine lock, outside any unit.
func (r *RedBeat) checkExpired(now int64) {
	ks := r.srv.Keyspace()
	for id, l := range r.locks {
		if l.released || l.expired || l.deadline == 0 || now <= l.deadline {
			continue
		}
		if e := live(ks.DB(id.db), id.key, now); e != nil && e.Type() == keyspace.TypeString && string(e.Bytes()) == l.token {
			// Still held: its TTL changed by a way the watch does not
			// follow (PERSIST, a SET KEEPTTL...). Take the key's word.
			l.deadline = e.ExpireAt()
			continue
		}
		r.noteExpired(id, l, now)
	}
}

func (r *RedBeat) noteExpired(id lockID, l *lockState, now int64) {
	l.expired = true
	r.warn(id, l, &lockWarning{kind: warnExpired, at: now, timeoutMs: l.timeoutMs, intervalMs: now - l.lastAt})
}

// warn counts, keeps and logs a warning. Key names and durations only:
// never a token or any other value.
func (r *RedBeat) warn(id lockID, l *lockState, w *lockWarning) {
	w.key, w.db = id.key, id.db
	l.warnings++
	l.last, r.last = w, w
	ev := r.log.Warn().Str("lock", infoSafe(id.key)).Int("db", id.db).Int64("lock_timeout_ms", w.timeoutMs)
	if w.kind == warnLate {
		r.lateExtensions++
		ev.Int64("ttl_left_ms", w.leftMs).Int64("extension_interval_ms", w.intervalMs).
			Msg("RedBeat lock extended with less than 20% of its TTL left: beat_max_loop_interval is too close to redbeat_lock_timeout (sibson/redbeat#230)")
		return
	}
	r.expirations++
	ev.Int64("since_last_extension_ms", w.intervalMs).
		Msg("RedBeat lock expired without being extended: beat_max_loop_interval must be well below redbeat_lock_timeout, or beat exits with LockNotOwnedError (sibson/redbeat#230)")
}

// redbeatLockCommand is REDBEAT.LOCK [PREFIX p]: the lock of each RedBeat
// prefix of the client's database (see the README for the reply).
func (r *RedBeat) redbeatLockCommand(c *resp.Client) {
	only, given, ok := prefixArg(c)
	if !ok {
		return
	}
	db := c.DB()
	prefixes, _, complete := r.prefixes(db, only, given)
	type row struct {
		prefix, key string
		l           *lockState
	}
	var rows []row
	seen := make(map[string]bool)
	for _, p := range prefixes {
		key := p + lockSuffix
		seen[key] = true
		rows = append(rows, row{p, key, r.locks[lockID{db.ID(), key}]})
	}
	for id, l := range r.locks {
		if id.db == db.ID() && !seen[id.key] && (!given || l.prefix == only) {
			rows = append(rows, row{l.prefix, id.key, l})
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].prefix != rows[j].prefix {
			return rows[i].prefix < rows[j].prefix
		}
		return rows[i].key < rows[j].key
	})
	now := r.srv.Keyspace().ClockNow()
	c.Array(len(rows))
	for _, rw := range rows {
		r.writeLock(c, db, rw.prefix, rw.key, rw.l, now, complete)
	}
}

func (r *RedBeat) writeLock(c *resp.Client, db *keyspace.DB, prefix, key string, l *lockState, now int64, complete bool) {
	c.Map(11 + keyindex.IncompleteFields(complete))
	c.BulkString("prefix")
	c.BulkString(prefix)
	c.BulkString("key")
	c.BulkString(key)
	e := live(db, key, now)
	c.BulkString("holder")
	if e != nil && e.Type() == keyspace.TypeString {
		c.Bulk(e.Bytes())
	} else {
		c.Null()
	}
	c.BulkString("ttl_ms")
	switch {
	case e == nil:
		c.Int(-2)
	case e.ExpireAt() == 0:
		c.Int(-1)
	default:
		c.Int(max(e.ExpireAt()-now, 0))
	}
	if l == nil {
		l = &lockState{}
	}
	intOrNull := func(name string, v int64, ok bool) {
		c.BulkString(name)
		if ok {
			c.Int(v)
		} else {
			c.Null()
		}
	}
	intOrNull("timeout_ms", l.timeoutMs, l.timeoutMs > 0)
	intOrNull("acquired_at_ms", l.acquiredAt, l.acquiredAt > 0)
	intOrNull("last_extension_at_ms", l.lastAt, l.lastAt > 0)
	intOrNull("extension_interval_ms", l.intervalMs, l.intervalMs > 0)
	c.BulkString("events")
	evs := l.eventList()
	c.Array(len(evs))
	for _, ev := range evs {
		c.Map(4)
		c.BulkString("type")
		if ev.acquire {
			c.BulkString("acquire")
		} else {
			c.BulkString("extend")
		}
		c.BulkString("at_ms")
		c.Int(ev.at)
		c.BulkString("ttl_left_ms")
		c.Int(ev.leftMs)
		c.BulkString("ttl_ms")
		c.Int(ev.ttlMs)
	}
	c.BulkString("warnings")
	c.Int(l.warnings)
	c.BulkString("last_warning")
	if l.last == nil {
		c.Null()
	} else {
		c.BulkString(l.last.kind)
	}
	keyindex.WriteIncomplete(c, complete)
}
