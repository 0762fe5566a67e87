package results

import (
	"sort"
	"strconv"
	"strings"

	"github.com/celerity/celerity/keyspace"
	"github.com/celerity/celerity/resp"
)

// maxStates bounds the distinct task states a walk keeps apart (Celery's
// eight plus custom ones from update_state); the rest are counted under
// stateOther, so stored data cannot grow the reply without bound.
const (
	maxStates  = 32
	stateOther = "OTHER"
)

// ttlBuckets are the upper bounds (exclusive, ms) of the TTL histogram;
// the last bucket is everything longer, then "none" for keys without one.
var ttlBuckets = []struct {
	name  string
	limit int64
}{
	{"<1m", 60_000},
	{"<10m", 600_000},
	{"<1h", 3_600_000},
	{"<1d", 86_400_000},
	{"<7d", 7 * 86_400_000},
	{">=7d", 1<<63 - 1},
}

// Stats are the counts of one walk over a database.
type Stats struct {
	Keys        int64            // keys examined (all kinds)
	Tasks       int64            // celery-task-meta-*
	States      map[string]int64 // task results by state
	Groups      int64            // celery-taskset-meta-<gid>
	Chords      int64            // chord keys
	Replies     int64            // pidbox reply queues
	ReplyElems  int64            // replies waiting in them
	Bytes       int64            // key and value bytes of all the above
	WithoutTTL  int64            // of all the above
	TTL         []int64          // histogram, by ttlBuckets, of keys with a TTL
	replyQueues map[string]bool  // reply queue names (priority lists merged)
}

func newStats() *Stats {
	return &Stats{States: make(map[string]int64), TTL: make([]int64, len(ttlBuckets))}
}

// add counts entry e of db at time now (Unix ms). Engine lock.
func (s *Stats) add(db *keyspace.DB, e *keyspace.Entry, now int64) {
	if at := e.ExpireAt(); at != 0 && at < now {
		return // expired, not yet reclaimed
	}
	s.Keys++
	key := e.Key()
	kind := Classify(key)
	if kind == KindNone {
		return
	}
	switch kind {
	case KindTask:
		s.Tasks++
		state := stateUnknown
		if e.Type() == keyspace.TypeString {
			state = TaskState(e.Bytes())
		}
		if _, ok := s.States[state]; !ok && len(s.States) >= maxStates {
			state = stateOther
		}
		s.States[state]++
	case KindGroup:
		s.Groups++
	case KindChord:
		s.Chords++
	case KindPidboxReply:
		if s.replyQueues == nil {
			s.replyQueues = make(map[string]bool)
		}
		name := key
		if i := strings.LastIndex(key, kombuPrioritySep); i >= 0 {
			name = key[:i]
		}
		if !s.replyQueues[name] {
			s.replyQueues[name] = true
			s.Replies++
		}
		if agg := e.Agg(); agg != nil {
			s.ReplyElems += int64(agg.Len())
		}
	}
	s.Bytes += int64(len(key))
	if e.Type() == keyspace.TypeString {
		s.Bytes += int64(len(e.Bytes()))
	} else if agg := e.Agg(); agg != nil {
		s.Bytes += agg.MemoryUsage()
	}
	at := e.ExpireAt()
	if at == 0 {
		s.WithoutTTL++
		return
	}
	left := at - now
	for i, b := range ttlBuckets {
		if left < b.limit {
			s.TTL[i]++
			break
		}
	}
}

// walkAll counts every key of db. Engine lock; O(keys).
func walkAll(db *keyspace.DB, now int64) *Stats {
	s := newStats()
	var buf []*keyspace.Entry
	cursor := uint64(0)
	for {
		buf, cursor = db.Scan(cursor, 1024, buf[:0])
		for _, e := range buf {
			s.add(db, e, now)
		}
		if cursor == 0 {
			return s
		}
	}
}

// snapshotInfo says where a reply's counts come from.
type snapshotInfo struct {
	source   string // "walk": counted by this command; "snapshot": by the cron
	ageMs    int64  // how old the counts are
	complete bool   // false: the first background walk is still running
}

// writeStats replies with s for database db. The shape is a map (an array
// of alternating names and values in RESP2); see the README.
func writeStats(c *resp.Client, db int, s *Stats, info snapshotInfo, defaultTTL int) {
	c.Map(15)
	c.BulkString("db")
	c.Int(int64(db))
	c.BulkString("source")
	c.BulkString(info.source)
	c.BulkString("complete")
	c.Bool(info.complete)
	c.BulkString("age_ms")
	c.Int(info.ageMs)
	c.BulkString("keys_examined")
	c.Int(s.Keys)
	c.BulkString("task_results")
	c.Int(s.Tasks)
	c.BulkString("states")
	names := make([]string, 0, len(s.States))
	for k := range s.States {
		names = append(names, k)
	}
	sort.Strings(names)
	c.Map(len(names))
	for _, k := range names {
		c.BulkString(k)
		c.Int(s.States[k])
	}
	c.BulkString("groups")
	c.Int(s.Groups)
	c.BulkString("chord_keys")
	c.Int(s.Chords)
	c.BulkString("pidbox_reply_queues")
	c.Int(s.Replies)
	c.BulkString("pidbox_replies_waiting")
	c.Int(s.ReplyElems)
	c.BulkString("bytes")
	c.Int(s.Bytes)
	c.BulkString("without_ttl")
	c.Int(s.WithoutTTL)
	c.BulkString("ttl")
	c.Map(len(ttlBuckets))
	for i, b := range ttlBuckets {
		c.BulkString(b.name)
		c.Int(s.TTL[i])
	}
	c.BulkString("default_ttl")
	c.Int(int64(defaultTTL))
}

// itoa is strconv.FormatInt for INFO values.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }
