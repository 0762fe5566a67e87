package resp

import (
	"strings"

	"github.com/celerity/celerity/keyspace"
)

// maxmemory-policy broker-safe: Celerity's own policy (ops-surface.md §7.4),
// opt-in by name; the eight Redis policies keep Redis's semantics.
//
// Keys are classed by name and type (brokerKeyClass): Kombu's queues (any
// list that is not a pidbox reply queue), bindings and unacked bookkeeping,
// keys under broker-protected-prefixes (RedBeat's "redbeat:" by default),
// and RedBeat's keys under any other prefix, recognised by shape (hashes
// with a "definition" field, "::schedule", "::statics", "::lock") are
// protected and never evicted; Celery results, pidbox reply queues and any
// other key with a TTL (caches) are expendable and go first; the rest goes
// after them. Once eviction finds nothing more to evict:
//
//   - A consumer's bookkeeping (commands whose keys are all "unacked",
//     "unacked_index" or "unacked_mutex", alone or in a MULTI block, which
//     is how Kombu's QoS records a delivered message) may still run while
//     memory stays within a reserve above maxmemory: a message popped by
//     BRPOP is then always recorded, never lost between the pop and its
//     bookkeeping. Pops themselves are never refused (not denyoom).
//   - Inside MULTI, only denyoom commands are refused at queueing time
//     (reads queue as usual), so a bookkeeping block is not doomed by a
//     read in it.
//   - Every other denyoom command gets errOOMBrokerSafe, a distinct
//     OOM error: producers see back-pressure instead of consumers losing
//     messages. (It starts with OOM, so redis-py raises OutOfMemoryError.)
//
// The patterns are Kombu's, Celery's and celery-redbeat's default names
// (docs/celery-wire.md); they live here, next to the policy, until the
// kombu/redbeat packages can supply them.

// brokerReserve is the memory above maxmemory that consumer bookkeeping
// may use: 2% of maxmemory, at least 64 KiB.
func brokerReserve(maxmemory int64) int64 { return max(maxmemory/50, 64<<10) }

// isBookkeepingKey reports whether key is one of Kombu's unacked
// bookkeeping keys.
func isBookkeepingKey(key []byte) bool {
	switch string(key) {
	case "unacked", "unacked_index", "unacked_mutex":
		return true
	}
	return false
}

// brokerKeyClass classes a key for broker-safe eviction.
func (s *Server) brokerKeyClass(db int, e *keyspace.Entry) keyspace.KeyClass {
	k := e.Key()
	switch {
	case strings.HasPrefix(k, "celery-task-meta-"), strings.HasPrefix(k, "celery-taskset-meta-"),
		strings.HasSuffix(k, ".reply.celery.pidbox"):
		return keyspace.ClassExpendable
	case strings.HasPrefix(k, "_kombu.binding."), isBookkeepingKey([]byte(k)), isRedBeatKey(k):
		return keyspace.ClassProtected
	}
	for _, p := range s.cfg.BrokerProtectedPrefixes {
		if strings.HasPrefix(k, p) {
			return keyspace.ClassProtected
		}
	}
	switch {
	case e.Type() == keyspace.TypeList:
		return keyspace.ClassProtected // a queue
	case e.Type() == keyspace.TypeHash && isRedBeatEntry(e):
		return keyspace.ClassProtected
	case e.ExpireAt() != 0:
		return keyspace.ClassExpendable
	}
	return keyspace.ClassOther
}

// isRedBeatKey recognises celery-redbeat's own keys under any prefix:
// <prefix>:schedule, <prefix>:statics and <prefix>:lock, which with the
// usual prefix ending in ':' read "redbeat::lock".
func isRedBeatKey(k string) bool {
	return strings.HasSuffix(k, "::lock") || strings.HasSuffix(k, "::schedule") || strings.HasSuffix(k, "::statics")
}

// isRedBeatEntry recognises a RedBeat schedule entry under any prefix: a
// hash with a "definition" field (and "meta"), as RedBeatSchedulerEntry
// saves it.
func isRedBeatEntry(e *keyspace.Entry) bool {
	h, ok := e.Agg().(*keyspace.Hash)
	return ok && h.Has([]byte("definition"))
}

// brokerSafeAllows decides, under broker-safe with eviction exhausted,
// whether cmd may run anyway: bookkeeping within the reserve, and in MULTI
// anything that is not denyoom. It returns the error to reply otherwise.
func (c *Client) brokerSafeAllows(cmd *Command) (ok bool, msg string) {
	s := c.srv
	inReserve := s.evictionUsedMemory() <= s.cfg.MaxMemory+brokerReserve(s.cfg.MaxMemory)
	if c.flags&flagMulti != 0 && !(cmd.parent == nil && cmd.Name == "exec") {
		if cmd.Flags&DenyOOM == 0 || inReserve && bookkeepingOnly(cmd, c.argv) {
			return true, ""
		}
		return false, errOOMBrokerSafe
	}
	if cmd.parent == nil && cmd.Name == "exec" {
		for _, q := range c.mstate.commands {
			if q.cmd.Flags&DenyOOM != 0 && !(inReserve && bookkeepingOnly(q.cmd, q.argv)) {
				return false, errOOMBrokerSafe
			}
		}
		return true, ""
	}
	if cmd.Flags&DenyOOM == 0 || inReserve && bookkeepingOnly(cmd, c.argv) {
		return true, ""
	}
	return false, errOOMBrokerSafe
}

// bookkeepingOnly reports whether every key argv names is a bookkeeping
// key (and there is at least one).
func bookkeepingOnly(cmd *Command, argv [][]byte) bool {
	idx := cmd.keyIndexes(argv)
	if len(idx) == 0 {
		return false
	}
	for _, i := range idx {
		if i >= len(argv) || !isBookkeepingKey(argv[i]) {
			return false
		}
	}
	return true
}

// warnEvictablePolicy logs, as Sidekiq does at boot, when an allkeys-*
// policy is set on a dataset holding Kombu bindings: such a policy may
// evict queues and routing tables and lose tasks. Engine lock.
func (s *Server) warnEvictablePolicy() {
	switch s.cfg.MaxMemoryPolicy {
	case keyspace.AllKeysLRU, keyspace.AllKeysLFU, keyspace.AllKeysRandom:
	default:
		return
	}
	for i := 0; i < s.ks.NumDBs(); i++ {
		found := false
		s.ks.DB(i).ForEach(func(e *keyspace.Entry) {
			if !found && strings.HasPrefix(e.Key(), "_kombu.binding.") {
				found = true
			}
		})
		if found {
			s.log.Warn().Str("policy", s.cfg.MaxMemoryPolicy.String()).Int("db", i).
				Msg("maxmemory-policy may evict Celery queues, bindings and schedules (Kombu keys found); consider maxmemory-policy broker-safe")
			return
		}
	}
}
