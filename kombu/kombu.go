package kombu

import (
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/celerity/celerity/keyspace"
	"github.com/celerity/celerity/resp"
	"github.com/celerity/celerity/resp/keyindex"
)

// Kombu's key names and separator at their defaults (kombu/transport/redis.py
// Channel: keyprefix_queue, sep, unacked_key, unacked_index_key,
// unacked_mutex_key).
const (
	bindingMarker   = "_kombu.binding."
	sep             = "\x06\x16"
	unackedKey      = "unacked"
	unackedIndexKey = "unacked_index"
	unackedMutexKey = "unacked_mutex"
)

// Kombu is the extension's state. All of it is used under the engine lock
// (every hook and command handler runs with it held).
type Kombu struct {
	log zerolog.Logger
	srv *resp.Server
	tr  tracker
	// patterns caches compiled topic binding patterns.
	patterns patternCache
	// idx holds the candidate keys discovery looks at (resp/keyindex).
	idx *keyindex.Index
}

// New returns the extension's state; Extension plugs it into a server.
func New(log zerolog.Logger) *Kombu {
	k := &Kombu{log: log.With().Str("ext", "kombu").Logger(), patterns: make(patternCache)}
	k.tr.init()
	k.idx = &keyindex.Index{IsCandidate: isKombuKey, IsCandidateName: isKombuName, SyncMax: keyindex.SyncWalkMax}
	return k
}

// Extension returns the resp.Extension to pass in resp.Options.Extensions.
// A Kombu serves one server.
func (k *Kombu) Extension() *resp.Extension {
	return &resp.Extension{
		Name:     "kombu",
		Commands: k.commands(),
		Written:  k.written,
		Closed:   k.closed,
		Cron:     k.cron,
		Info:     k.info,
		Attach: func(s *resp.Server) {
			k.srv = s
			k.idx.Attach(s)
		},
	}
}

// nowMs reads the server's clock (injectable in tests), in Unix ms: Kombu's
// scores are time.time() of the worker's wall clock, in seconds.
func (k *Kombu) nowMs() int64 { return k.srv.Keyspace().ClockNow() }

// configuredPrefix returns kombu-global-keyprefix and whether it is set.
func (k *Kombu) configuredPrefix() (string, bool) {
	p := k.srv.Config().KombuGlobalKeyprefix
	return p, p != ""
}

// prefixOf returns the global_keyprefix of key when key is "<prefix><name>"
// for a prefix allowed by kombu-global-keyprefix (any prefix when unset).
func (k *Kombu) prefixOf(key string, name string) (string, bool) {
	if !strings.HasSuffix(key, name) {
		return "", false
	}
	p := key[:len(key)-len(name)]
	if want, set := k.configuredPrefix(); set && p != want {
		return "", false
	}
	return p, true
}

// live returns key's entry in db when it exists, has not expired and holds
// type t. It never deletes, touches or counts (introspection is not an
// access).
func live(db *keyspace.DB, key string, t keyspace.Type) *keyspace.Entry {
	e := db.Peek([]byte(key))
	if e == nil || e.Type() != t || db.IsExpired(e) {
		return nil
	}
	return e
}

func (k *Kombu) info(add func(field, value string)) {
	var queues, messages, unacked int64
	ks := k.srv.Keyspace()
	now := k.nowMs()
	for i := 0; i < ks.NumDBs(); i++ {
		db := ks.DB(i)
		if db.Len() == 0 {
			continue
		}
		namespaces, _ := k.discover(db, now)
		for _, ns := range namespaces {
			queues += int64(len(ns.queues))
			for _, q := range ns.queues {
				messages += q.messages
			}
			unacked += int64(len(ns.unacked))
		}
	}
	itoa := func(n int64) string { return strconv.FormatInt(n, 10) }
	lease := "0"
	if k.srv.Config().KombuVisibilityLease {
		lease = "1"
	}
	add("kombu_visibility_lease", lease)
	add("kombu_queues", itoa(queues))
	add("kombu_messages", itoa(messages))
	add("kombu_unacked", itoa(unacked))
	add("kombu_leases", itoa(int64(k.leases(now))))
	add("kombu_lease_refreshes", itoa(k.tr.refreshes))
	add("kombu_redeliveries", itoa(k.tr.totalRestores))
	add("kombu_discovery_pending_dbs", itoa(int64(k.idx.Pending(ks))))
	add("kombu_discovery_passes", itoa(k.idx.Passes))
	add("kombu_index_keys", itoa(int64(k.idx.Size())))
	add("kombu_keys_examined", itoa(k.idx.Examined))
}

// leaseOn reports kombu-visibility-lease.
func (k *Kombu) leaseOn() bool { return k.srv.Config().KombuVisibilityLease }

// leaseMaxMs returns kombu-lease-max in ms, 0 for no bound.
func (k *Kombu) leaseMaxMs() int64 {
	return int64(k.srv.Config().KombuLeaseMax) * int64(time.Second/time.Millisecond)
}
