package kombu

import (
	"bytes"
	"encoding/json"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/celerity/celerity/keyspace"
)

// maxPriority is Kombu's highest priority (virtual.Channel max_priority):
// priorities are clamped to 0..9, so a priority list's suffix is 1..9.
const maxPriority = 9

// binding is one member of a binding table.
type binding struct {
	exchange, routingKey, pattern, queue string
}

// namespace is what one global_keyprefix holds in one database.
type namespace struct {
	db       int
	prefix   string
	queues   map[string]*queueStats
	bindings map[string][]binding // by exchange
	unacked  []*unackedEntry      // oldest delivery first
	hasIndex bool
}

// queueStats is one row of KOMBU.QUEUES.
type queueStats struct {
	name       string
	exchanges  []string
	priorities [maxPriority + 1]int64 // messages per priority step
	present    [maxPriority + 1]bool  // the step's list exists
	messages   int64
	consumers  int
	unacked    int
	oldest     int64 // delivery time (ms) of the oldest unacked, -1 if none
	redeliv    int   // unacked messages Kombu marked redelivered
	restored   int64 // restores into the queue seen since start
}

// unackedEntry is one row of KOMBU.UNACKED.
type unackedEntry struct {
	tag, queue, exchange, routingKey string
	task, taskID                     string
	priority                         int
	redelivered                      bool
	score                            int64 // unacked_index score in ms; -1 if absent
	delivered                        int64 // ms: when the delivery was recorded
	owner                            int64 // writer's client id, 0 if unknown or gone
	leased                           bool
	restored                         int
}

func (ns *namespace) queue(name string) *queueStats {
	q := ns.queues[name]
	if q == nil {
		q = &queueStats{name: name, oldest: -1}
		ns.queues[name] = q
	}
	return q
}

// discover returns the Kombu namespaces of db, sorted by prefix, with their
// queues counted and unacked deliveries decoded. It looks at the index's
// candidates only (resp/keyindex): complete is false while the first discovery
// pass over a big database is still running. Engine lock.
func (k *Kombu) discover(db *keyspace.DB, now int64) (namespaces []*namespace, complete bool) {
	want, set := k.configuredPrefix()
	byPrefix := make(map[string]*namespace)
	get := func(p string) *namespace {
		ns := byPrefix[p]
		if ns == nil {
			ns = &namespace{db: db.ID(), prefix: p, queues: make(map[string]*queueStats),
				bindings: make(map[string][]binding)}
			byPrefix[p] = ns
		}
		return ns
	}
	complete = k.idx.Each(db, func(e *keyspace.Entry) {
		key := e.Key()
		switch e.Type() {
		case keyspace.TypeSet:
			var p string
			if set {
				if !strings.HasPrefix(key, want+bindingMarker) {
					return
				}
				p = want
			} else {
				i := strings.Index(key, bindingMarker)
				if i < 0 {
					return
				}
				p = key[:i]
			}
			get(p).addBindings(key[len(p)+len(bindingMarker):], e.Agg().(*keyspace.Set))
		case keyspace.TypeZSet:
			if p, ok := k.prefixOf(key, unackedIndexKey); ok {
				get(p).hasIndex = true
			}
		}
	})
	out := make([]*namespace, 0, len(byPrefix))
	for _, ns := range byPrefix {
		k.fill(db, ns, now)
		out = append(out, ns)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].prefix < out[j].prefix })
	return out, complete
}

// isKombuKey is the index's test on a key: a binding table (a set whose name
// holds the binding marker) or an unacked_index (a zset). Which prefixes
// count is decided when the key is used, so kombu-global-keyprefix may
// change at any time.
func isKombuKey(e *keyspace.Entry) bool {
	switch e.Type() {
	case keyspace.TypeSet:
		return strings.Contains(e.Key(), bindingMarker)
	case keyspace.TypeZSet:
		return strings.HasSuffix(e.Key(), unackedIndexKey)
	}
	return false
}

// isKombuName is isKombuKey on a name alone, for the Written hook: it runs
// on every key every write names, so it must cost a few ns. The marker is
// looked for at each '_' only (a result key has none).
func isKombuName(key []byte) bool {
	if bytes.HasSuffix(key, unackedIndexName) {
		return true
	}
	for {
		i := bytes.IndexByte(key, '_')
		if i < 0 {
			return false
		}
		if bytes.HasPrefix(key[i:], bindingMarkerName) {
			return true
		}
		key = key[i+1:]
	}
}

var (
	unackedIndexName  = []byte(unackedIndexKey)
	bindingMarkerName = []byte(bindingMarker)
)

// addBindings decodes the members of the binding table of exchange.
func (ns *namespace) addBindings(exchange string, set *keyspace.Set) {
	for i := 0; i < set.Len(); i++ {
		parts := strings.SplitN(set.MemberString(i), sep, 3)
		if len(parts) != 3 || parts[2] == "" {
			continue // not written by Kombu
		}
		b := binding{exchange: exchange, routingKey: parts[0], pattern: parts[1], queue: parts[2]}
		ns.bindings[exchange] = append(ns.bindings[exchange], b)
		q := ns.queue(b.queue)
		if n := len(q.exchanges); n == 0 || q.exchanges[n-1] != exchange {
			q.exchanges = append(q.exchanges, exchange)
		}
	}
}

// fill counts the namespace's queues and decodes its unacked deliveries.
func (k *Kombu) fill(db *keyspace.DB, ns *namespace, now int64) {
	k.collectUnacked(db, ns)
	for _, u := range ns.unacked {
		if u.queue == "" {
			continue
		}
		q := ns.queue(u.queue)
		q.unacked++
		if u.delivered >= 0 && (q.oldest < 0 || u.delivered < q.oldest) {
			q.oldest = u.delivered
		}
		if u.redelivered {
			q.redeliv++
		}
	}
	for name, q := range ns.queues {
		sort.Strings(q.exchanges)
		for step := 0; step <= maxPriority; step++ {
			key := ns.prefix + name
			if step > 0 {
				key += sep + strconv.Itoa(step)
			}
			if e := live(db, key, keyspace.TypeList); e != nil {
				n := int64(e.Agg().(*keyspace.List).Len())
				q.priorities[step], q.present[step] = n, true
				q.messages += n
			}
			// A Kombu consumer BRPOPs all priority keys of the queue at
			// once, so the busiest key counts the consumers.
			if b := k.srv.BlockedOn(db.ID(), key); b > q.consumers {
				q.consumers = b
			}
		}
		q.restored = k.tr.queueRestores[queueKey{db: db.ID(), prefix: ns.prefix, queue: name}]
	}
}

// collectUnacked decodes the namespace's unacked hash against its index and
// the deliveries the tracker saw, oldest delivery first.
func (k *Kombu) collectUnacked(db *keyspace.DB, ns *namespace) {
	he := live(db, ns.prefix+unackedKey, keyspace.TypeHash)
	if he == nil {
		return
	}
	var index *keyspace.ZSet
	if ze := live(db, ns.prefix+unackedIndexKey, keyspace.TypeZSet); ze != nil {
		index = ze.Agg().(*keyspace.ZSet)
	}
	leaseOn, leaseMax, now := k.leaseOn(), k.leaseMaxMs(), k.nowMs()
	pairs := he.Agg().(*keyspace.Hash).Pairs()
	ns.unacked = make([]*unackedEntry, 0, len(pairs))
	for _, p := range pairs {
		u := &unackedEntry{tag: p.Field, score: -1}
		u.decode(p.Value)
		u.queue = ns.resolve(k.patterns, u.exchange, u.routingKey)
		if index != nil {
			if s, ok := index.Score([]byte(p.Field)); ok {
				u.score = scoreMs(s)
			}
		}
		u.delivered = u.score
		tk := tagKey{db: ns.db, index: ns.prefix + unackedIndexKey, tag: p.Field}
		if d := k.tr.deliveries[tk]; d != nil {
			u.delivered, u.owner, u.restored = d.delivered, k.ownerLive(d), d.restores
			u.leased = d.leased(leaseOn, leaseMax, now)
		} else if n := k.tr.restoredTags[tk]; n > 0 {
			u.restored = n
		}
		if u.redelivered && u.restored == 0 {
			u.restored = 1 // restored before this server's tracking began
		}
		ns.unacked = append(ns.unacked, u)
	}
	sort.Slice(ns.unacked, func(i, j int) bool {
		a, b := ns.unacked[i], ns.unacked[j]
		if a.delivered != b.delivered {
			return a.delivered < b.delivered
		}
		return a.tag < b.tag
	})
}

// scoreMs converts an unacked_index score (Unix seconds) to ms.
func scoreMs(s float64) int64 {
	if math.IsNaN(s) || s < 0 {
		return 0
	}
	if s > math.MaxInt64/1000 {
		return math.MaxInt64
	}
	return int64(math.Round(s * 1000))
}

// wireMessage is the part of a Kombu message the commands show.
type wireMessage struct {
	Headers struct {
		Task        any `json:"task"`
		ID          any `json:"id"`
		Redelivered any `json:"redelivered"`
	} `json:"headers"`
	Properties struct {
		Priority     any `json:"priority"`
		DeliveryInfo struct {
			Redelivered any `json:"redelivered"`
		} `json:"delivery_info"`
	} `json:"properties"`
}

// decode reads an unacked hash value, JSON [message, exchange,
// routing_key] (QoS.append). A value that is not one leaves the fields
// empty.
func (u *unackedEntry) decode(v string) {
	var triple []json.RawMessage
	if json.Unmarshal([]byte(v), &triple) != nil || len(triple) != 3 {
		return
	}
	_ = json.Unmarshal(triple[1], &u.exchange)
	_ = json.Unmarshal(triple[2], &u.routingKey)
	var m wireMessage
	// A field of another type is skipped: Unmarshal fills the rest.
	_ = json.Unmarshal(triple[0], &m)
	u.task, _ = m.Headers.Task.(string)
	u.taskID, _ = m.Headers.ID.(string)
	u.redelivered = m.Headers.Redelivered == true || m.Properties.DeliveryInfo.Redelivered == true
	// Kombu's _get_message_priority: int(priority) clamped to 0..9,
	// anything unreadable is 0.
	switch p := m.Properties.Priority.(type) {
	case float64:
		u.priority = int(math.Max(0, math.Min(maxPriority, math.Trunc(p))))
	case string:
		if n, err := strconv.Atoi(strings.TrimSpace(p)); err == nil {
			u.priority = min(max(n, 0), maxPriority)
		}
	}
}

// resolve returns the queue a delivery came from, as Kombu's _lookup
// routes (exchange, routing_key): the routing key itself for the anonymous
// exchange Celery publishes tasks to, otherwise the binding table (direct:
// equal routing key; topic: its pattern; fanout: any member). When several
// queues match, the first by name is reported. "" when nothing matches.
func (ns *namespace) resolve(cache patternCache, exchange, routingKey string) string {
	if exchange == "" {
		return routingKey
	}
	best := ""
	pick := func(q string) {
		if best == "" || q < best {
			best = q
		}
	}
	table := ns.bindings[exchange]
	for _, b := range table {
		if b.pattern != "" {
			if cache.match(b.pattern, routingKey) {
				pick(b.queue)
			}
		} else if b.routingKey == routingKey {
			pick(b.queue)
		}
	}
	if best == "" {
		for _, b := range table {
			if b.routingKey == "" && b.pattern == "" {
				pick(b.queue)
			}
		}
	}
	return best
}

// patternCache holds compiled topic binding patterns (Kombu's
// key_to_pattern output, e.g. `^a\.[^\.]+$`). A pattern RE2 cannot compile
// is cached as nil and matches nothing.
type patternCache map[string]*regexp.Regexp

func (c patternCache) match(pattern, routingKey string) bool {
	re, ok := c[pattern]
	if !ok {
		if len(c) > 4096 {
			clear(c)
		}
		re, _ = regexp.Compile(pattern)
		c[pattern] = re
	}
	return re != nil && re.MatchString(routingKey)
}
