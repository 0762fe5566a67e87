package kombu

import (
	"bytes"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/celerity/celerity/keyspace"
	"github.com/celerity/celerity/resp"
)

const (
	// refreshEveryMs is how stale a leased score may get before Cron
	// rewrites it. Kombu restores an entry once its score is
	// visibility_timeout old, so any visibility_timeout comfortably above
	// this (plus one cron tick) is safe.
	refreshEveryMs = 1000
	// A cron tick sweeps at most this many deliveries or this long.
	sweepBudgetKeys = 4096
	sweepBudget     = time.Millisecond
	// refreshBatch bounds the members of one refreshing ZADD, so no single
	// unit grows with the number of unacked messages.
	refreshBatch = 256
	// maxRestoredTags bounds the restore counts kept for tags waiting in a
	// queue for their redelivery (oldest forgotten first).
	maxRestoredTags = 65536
)

// tagKey names one delivery: its tag in one unacked_index of one database.
type tagKey struct {
	db    int
	index string // "<prefix>unacked_index"
	tag   string
}

// queueKey names one queue of one namespace.
type queueKey struct {
	db            int
	prefix, queue string
}

// delivery is what the server saw of one entry of an unacked_index.
type delivery struct {
	slot      int   // index in tracker.order
	owner     int64 // client that wrote the ZADD; 0 once it is known closed
	delivered int64 // ms: the score of the ZADD that recorded it
	since     int64 // ms, server clock: when the ZADD was seen (kombu-lease-max)
	restores  int   // times a restore of this tag was seen
	expired   bool  // the lease reached kombu-lease-max (logged once)
}

// leased reports whether the lease keeps this delivery's score fresh.
func (d *delivery) leased(on bool, maxMs, now int64) bool {
	return on && d.owner != 0 && (maxMs <= 0 || now-d.since < maxMs)
}

// pendingDel is an HDEL of unacked tags a client just made: a restore if the
// client's next writes push a payload carrying the tag, an ack otherwise.
type pendingDel struct {
	active  bool // the client's last write was this HDEL
	db      int
	prefix  string
	tags    []string
	counted []bool
}

// tracker is the in-memory record the Written, Closed and Cron hooks keep.
type tracker struct {
	deliveries map[tagKey]*delivery
	indexNames map[string]string // interned unacked_index key names
	// order lists the deliveries' keys (delivery.slot indexes it) so the
	// cron can sweep them a budget at a time from cursor: an unacked set
	// of many ETA tasks must not cost one long stall per second.
	order         []tagKey
	cursor        int
	sweepStart    int64          // ms: when the running sweep began
	restoredTags  map[tagKey]int // restores of tags not currently delivered
	restoredOrder []tagKey       // FIFO bounding restoredTags
	// pending holds each client's last HDEL of unacked tags, reused from
	// one ack to the next (every ack is an HDEL: no allocation per
	// message); nActive counts the active ones.
	pending       map[int64]*pendingDel
	nActive       int
	queueRestores map[queueKey]int64
	totalRestores int64
	refreshes     int64 // scores rewritten by leases
	cronAt        int64 // ms of the last Cron call (tests wait on it)
}

func (tr *tracker) init() {
	tr.deliveries = make(map[tagKey]*delivery)
	tr.indexNames = make(map[string]string)
	tr.restoredTags = make(map[tagKey]int)
	tr.pending = make(map[int64]*pendingDel)
	tr.queueRestores = make(map[queueKey]int64)
}

// add starts following tk.
func (tr *tracker) add(tk tagKey) *delivery {
	d := &delivery{slot: len(tr.order)}
	tr.order = append(tr.order, tk)
	tr.deliveries[tk] = d
	return d
}

// forget stops following tk (swap-remove from order: the sweep may see
// the moved key twice or not at all in this pass, which only delays it by
// one pass).
func (tr *tracker) forget(tk tagKey) {
	d := tr.deliveries[tk]
	if d == nil {
		return
	}
	delete(tr.deliveries, tk)
	last := len(tr.order) - 1
	if d.slot != last {
		moved := tr.order[last]
		tr.order[d.slot] = moved
		tr.deliveries[moved].slot = d.slot
	}
	tr.order[last] = tagKey{}
	tr.order = tr.order[:last]
	if len(tr.order) == 0 && cap(tr.order) > 1024 {
		tr.order = nil
	}
}

// ownerLive returns d's owner if its connection is still open, and
// otherwise notes that it closed. Client ids are never reused, so a
// lookup by id is exact; no per-owner set has to be kept on every ZADD.
func (k *Kombu) ownerLive(d *delivery) int64 {
	if d.owner != 0 && k.srv != nil && k.srv.Client(d.owner) == nil {
		d.owner = 0
	}
	return d.owner
}

// leases counts the deliveries a lease currently keeps fresh: owner
// connected, within kombu-lease-max, and Kombu's (the tag is also in the
// unacked hash next to the index).
func (k *Kombu) leases(now int64) int {
	on, maxMs := k.leaseOn(), k.leaseMaxMs()
	if !on {
		return 0
	}
	n := 0
	for tk, d := range k.tr.deliveries {
		k.ownerLive(d)
		if d.leased(on, maxMs, now) && k.held(tk) {
			n++
		}
	}
	return n
}

// held reports whether tk's tag is in the unacked hash next to its index.
func (k *Kombu) held(tk tagKey) bool {
	db := k.srv.Keyspace().DB(tk.db)
	he := live(db, tk.index[:len(tk.index)-len(unackedIndexKey)]+unackedKey, keyspace.TypeHash)
	return he != nil && he.Agg().(*keyspace.Hash).Has([]byte(tk.tag))
}

// written is the Written hook: it feeds the candidate index (resp/keyindex) and
// follows deliveries (ZADD to an unacked_index), acks (ZREM) and restores
// (HDEL then a push of the payload). Engine lock; it must stay cheap, as it
// sees every write (BenchmarkWrittenNonKombu).
func (k *Kombu) written(c *resp.Client, cmd *resp.Command, argv [][]byte) {
	k.idx.Written(c, cmd, argv)
	switch cmd.Name {
	case "zadd":
		k.onZadd(c, argv)
	case "zrem":
		k.onZrem(c, argv)
	case "hdel":
		k.onHdel(c, argv)
		return
	case "rpush", "lpush":
		if k.tr.nActive > 0 {
			k.onPush(c, argv)
		}
		return // a restore may push to several queues
	}
	if k.tr.nActive > 0 {
		k.tr.settle(c.ID())
	}
}

// onZadd records "ZADD <p>unacked_index <score> <tag> ...", Kombu's
// QoS.append, as deliveries owned by c.
func (k *Kombu) onZadd(c *resp.Client, argv [][]byte) {
	if len(argv) < 4 || !bytes.HasSuffix(argv[1], []byte(unackedIndexKey)) {
		return
	}
	if !k.leaseOn() {
		// Per-delivery state (owner, lease) is kept only for the lease:
		// without it Kombu's hot path costs what it costs on Redis (a map
		// insert and delete per message measured 8-14 % of the Celery mix
		// and of Kombu's QoS transaction at -P 16). Restores are still
		// counted (onHdel, onPush).
		return
	}
	key := k.internIndex(argv[1])
	if _, ok := k.prefixOf(key, unackedIndexKey); !ok {
		return
	}
	i := 2
	for ; i < len(argv); i++ {
		a := argv[i]
		if len(a) == 2 && (bytes.EqualFold(a, []byte("nx")) || bytes.EqualFold(a, []byte("gt")) ||
			bytes.EqualFold(a, []byte("lt")) || bytes.EqualFold(a, []byte("ch"))) {
			continue
		}
		if bytes.EqualFold(a, []byte("xx")) || bytes.EqualFold(a, []byte("incr")) {
			return // an update of existing entries: not Kombu's delivery
		}
		break
	}
	now := k.nowMs()
	db, owner := c.DB().ID(), c.ID()
	for ; i+1 < len(argv); i += 2 {
		// The delivery time is the score Kombu wrote (the worker's
		// time.time()): the lease rewrites the score, the age stays.
		at := now
		if f, err := strconv.ParseFloat(unsafeString(argv[i]), 64); err == nil && !math.IsInf(f, 0) && f >= 0 {
			at = scoreMs(f)
		}
		k.record(tagKey{db: db, index: key, tag: string(argv[i+1])}, owner, at, now)
	}
}

// internIndex returns the unacked_index key name as a string shared by
// every delivery of that index (a queue's deliveries would otherwise each
// carry a copy).
func (k *Kombu) internIndex(b []byte) string {
	if s, ok := k.tr.indexNames[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(k.tr.indexNames) < 1024 {
		k.tr.indexNames[s] = s
	}
	return s
}

// unsafeString views b as a string for a call that does not keep it
// (strconv.ParseFloat), sparing a copy per ZADD.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// record notes a delivery of tk written by owner, delivered at (Kombu's
// score) and seen now (ms).
func (k *Kombu) record(tk tagKey, owner, at, now int64) {
	tr := &k.tr
	d := tr.deliveries[tk]
	if d == nil {
		d = tr.add(tk)
		if n, ok := tr.restoredTags[tk]; ok {
			d.restores = n
			delete(tr.restoredTags, tk)
		}
	}
	d.owner, d.delivered, d.since, d.expired = owner, at, now, false
}

// onZrem forgets the deliveries "ZREM <p>unacked_index <tag> ..." removes
// (an ack, a reject or the first step of a restore).
func (k *Kombu) onZrem(c *resp.Client, argv [][]byte) {
	if len(k.tr.deliveries) == 0 || !bytes.HasSuffix(argv[1], []byte(unackedIndexKey)) {
		return
	}
	key := string(argv[1])
	for _, m := range argv[2:] {
		tk := tagKey{db: c.DB().ID(), index: key, tag: string(m)}
		if d := k.tr.deliveries[tk]; d != nil && d.restores > 0 {
			// Maybe restored once more: keep the count for the next
			// delivery of the tag.
			k.tr.keepRestores(tk, d.restores)
		}
		k.tr.forget(tk)
	}
}

// keepRestores remembers n restores of a tag that is not delivered now.
func (tr *tracker) keepRestores(tk tagKey, n int) {
	if _, ok := tr.restoredTags[tk]; !ok {
		if len(tr.restoredOrder) >= maxRestoredTags {
			delete(tr.restoredTags, tr.restoredOrder[0])
			tr.restoredOrder = tr.restoredOrder[1:]
		}
		tr.restoredOrder = append(tr.restoredOrder, tk)
	}
	tr.restoredTags[tk] += n
}

// onHdel notes "HDEL <p>unacked <tag> ..." as pending: Kombu's restore
// (restore_by_tag, Channel._restore) pushes the payload next, in the same
// MULTI.
func (k *Kombu) onHdel(c *resp.Client, argv [][]byte) {
	tr := &k.tr
	if !bytes.HasSuffix(argv[1], []byte(unackedKey)) {
		tr.settle(c.ID())
		return
	}
	p, ok := k.prefixOf(unsafeString(argv[1]), unackedKey)
	if !ok {
		tr.settle(c.ID())
		return
	}
	pd := tr.pending[c.ID()]
	if pd == nil {
		pd = &pendingDel{}
		tr.pending[c.ID()] = pd
	}
	if !pd.active {
		pd.active = true
		tr.nActive++
	}
	if pd.prefix != p {
		pd.prefix = strings.Clone(p) // p views the client's buffer
	}
	pd.db = c.DB().ID()
	pd.tags, pd.counted = pd.tags[:0], pd.counted[:0]
	for _, t := range argv[2:] {
		pd.tags = append(pd.tags, string(t))
		pd.counted = append(pd.counted, false)
	}
}

// settle ends client id's pending HDEL: its next write was not a push of
// the payload, so that HDEL was an ack.
func (tr *tracker) settle(id int64) {
	if pd := tr.pending[id]; pd != nil && pd.active {
		pd.active = false
		tr.nActive--
	}
}

// onPush counts a restore when c's push carries a tag it just removed from
// the unacked hash (a restored payload keeps its delivery_tag property).
func (k *Kombu) onPush(c *resp.Client, argv [][]byte) {
	pd := k.tr.pending[c.ID()]
	if pd == nil || !pd.active || pd.db != c.DB().ID() || !bytes.HasPrefix(argv[1], []byte(pd.prefix)) {
		return
	}
	queue := string(argv[1][len(pd.prefix):])
	// Kombu's destination: key.rsplit(sep, 1)[0] for a priority key.
	if i := strings.LastIndex(queue, sep); i >= 0 {
		if _, err := strconv.Atoi(queue[i+len(sep):]); err == nil {
			queue = queue[:i]
		}
	}
	tr := &k.tr
	for _, payload := range argv[2:] {
		for j, tag := range pd.tags {
			if tag == "" || !bytes.Contains(payload, []byte(tag)) {
				continue
			}
			tr.queueRestores[queueKey{db: pd.db, prefix: pd.prefix, queue: queue}]++
			if pd.counted[j] {
				continue // the same restore fanned out to another queue
			}
			pd.counted[j] = true
			tr.totalRestores++
			tk := tagKey{db: pd.db, index: pd.prefix + unackedIndexKey, tag: tag}
			if d := tr.deliveries[tk]; d != nil {
				d.restores++ // Channel._restore leaves the index entry
				continue
			}
			tr.keepRestores(tk, 1)
		}
	}
}

// closed is the Closed hook: the deliveries c wrote lose their owner, so no
// lease refreshes them any more and visibility_timeout runs from the last
// refresh, exactly as under Redis.
func (k *Kombu) closed(c *resp.Client) {
	// Its deliveries learn that it closed when next looked at
	// (ownerLive).
	k.tr.settle(c.ID())
	delete(k.tr.pending, c.ID())
}

// batchKey groups the refreshes of one unacked_index.
type batchKey struct {
	db    int
	index string
}

// cron is the Cron hook: it advances the discovery walk (resp/keyindex) and,
// about once a second, forgets deliveries that left their index or hash
// (acked or removed in ways the hooks do not follow: DEL, FLUSHDB, expiry)
// and, with the lease on, rewrites the stale scores of the deliveries whose
// writer is still connected.
func (k *Kombu) cron(wall time.Time) {
	tr := &k.tr
	if k.srv == nil {
		return
	}
	k.idx.Cron(k.srv.Keyspace(), wall)
	now := k.nowMs()
	tr.cronAt = now
	if len(tr.order) == 0 {
		tr.cursor = 0
		return
	}
	if tr.cursor == 0 {
		// A sweep starts at most once a second (refreshEveryMs).
		if d := now - tr.sweepStart; d >= 0 && d < refreshEveryMs {
			return
		}
		tr.sweepStart = now
	}
	on, maxMs := k.leaseOn(), k.leaseMaxMs()
	ks := k.srv.Keyspace()
	batches := make(map[batchKey][]string)
	start := time.Now()
	for n := 0; tr.cursor < len(tr.order); n++ {
		if n >= sweepBudgetKeys || n&63 == 63 && time.Since(start) > sweepBudget {
			break
		}
		tk := tr.order[tr.cursor]
		d := tr.deliveries[tk]
		if !k.sweepOne(ks, tk, d, on, maxMs, now, batches) {
			continue // forgotten: another key moved into this slot
		}
		tr.cursor++
	}
	if tr.cursor >= len(tr.order) {
		tr.cursor = 0
	}
	if len(batches) > 0 {
		k.refresh(batches, now)
	}
}

// refresh rewrites the scores of batches to now, as ordinary commands:
// "ZADD <index> XX GT <now> <tag> ...". XX never resurrects an entry acked
// meanwhile, GT never moves a fresher score back.
func (k *Kombu) refresh(batches map[batchKey][]string, now int64) {
	keys := make([]batchKey, 0, len(batches))
	for bk := range batches {
		keys = append(keys, bk)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].db != keys[j].db {
			return keys[i].db < keys[j].db
		}
		return keys[i].index < keys[j].index
	})
	score := []byte(strconv.FormatFloat(float64(now)/1000, 'f', 3, 64))
	for _, bk := range keys {
		tags := batches[bk]
		sort.Strings(tags)
		for len(tags) > 0 {
			n := min(len(tags), refreshBatch)
			argv := make([][]byte, 0, 4+2*n)
			argv = append(argv, []byte("ZADD"), []byte(bk.index), []byte("XX"), []byte("GT"))
			for _, t := range tags[:n] {
				argv = append(argv, score, []byte(t))
			}
			if v := k.srv.Exec(bk.db, argv...); v.Kind == '-' {
				k.log.Warn().Int("db", bk.db).Str("error", v.Str).Msg("Kombu visibility lease: refresh failed")
			} else {
				k.tr.refreshes += int64(n)
			}
			tags = tags[n:]
		}
	}
}

// sweepOne checks one delivery for the cron: it forgets one that left its
// index or hash (and reports false), and queues the score refresh of one a
// lease keeps. Engine lock.
func (k *Kombu) sweepOne(ks *keyspace.Keyspace, tk tagKey, d *delivery, on bool, maxMs, now int64, batches map[batchKey][]string) bool {
	tr := &k.tr
	k.ownerLive(d)
	db := ks.DB(tk.db)
	score, ok := 0.0, false
	if ze := live(db, tk.index, keyspace.TypeZSet); ze != nil {
		score, ok = ze.Agg().(*keyspace.ZSet).Score([]byte(tk.tag))
	}
	if !ok {
		tr.forget(tk)
		return false
	}
	if !k.held(tk) {
		// Kombu writes the hash field in the ZADD's MULTI: an index
		// entry without one is not a live delivery (someone else's
		// zset, or Channel._restore's leftover) and is not followed.
		if now-d.since >= refreshEveryMs {
			if d.restores > 0 {
				tr.keepRestores(tk, d.restores)
			}
			tr.forget(tk)
			return false
		}
		return true
	}
	if !d.leased(on, maxMs, now) {
		if on && d.owner != 0 && !d.expired {
			d.expired = true
			k.log.Warn().Int("db", tk.db).Int64("client", d.owner).Int("kombu_lease_max", k.srv.Config().KombuLeaseMax).
				Msg("Kombu visibility lease reached kombu-lease-max: the delivery is left to visibility_timeout")
		}
		return true
	}
	if now-scoreMs(score) < refreshEveryMs {
		return true
	}
	bk := batchKey{db: tk.db, index: tk.index}
	batches[bk] = append(batches[bk], tk.tag)
	return true
}
