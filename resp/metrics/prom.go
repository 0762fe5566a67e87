package metrics

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/celerity/celerity/resp"
)

// namespace prefixes every metric this package defines.
const namespace = "celerity"

// infoMetric maps one INFO field to a metric.
type infoMetric struct {
	section, field string
	name, help     string
	typ            prometheus.ValueType
}

// infoMetrics are the INFO fields exported as they are. Numbers pass
// through; ok/err become 1/0 (as redis_exporter reads them). A field the
// INFO lacks is not exported (client_output_buffer_limit_disconnections is
// Redis 7.4's, exported when the server grows it).
var infoMetrics = []infoMetric{
	{"server", "uptime_in_seconds", "uptime_seconds", "Seconds since the server started.", prometheus.GaugeValue},
	{"memory", "used_memory", "memory_used_bytes", "Memory used by the dataset and clients (INFO used_memory).", prometheus.GaugeValue},
	{"memory", "used_memory_rss", "memory_rss_bytes", "Resident set size of the process.", prometheus.GaugeValue},
	{"memory", "used_memory_peak", "memory_peak_bytes", "Peak of used_memory.", prometheus.GaugeValue},
	{"memory", "maxmemory", "memory_max_bytes", "The maxmemory limit; 0 = none.", prometheus.GaugeValue},
	{"stats", "evicted_keys", "evicted_keys_total", "Keys evicted by maxmemory.", prometheus.CounterValue},
	{"stats", "expired_keys", "expired_keys_total", "Keys deleted because their TTL passed.", prometheus.CounterValue},
	{"clients", "connected_clients", "connected_clients", "Client connections.", prometheus.GaugeValue},
	{"clients", "blocked_clients", "blocked_clients", "Clients blocked in BRPOP and similar commands.", prometheus.GaugeValue},
	{"clients", "maxclients", "max_clients", "The maxclients limit.", prometheus.GaugeValue},
	{"stats", "total_connections_received", "connections_received_total", "Connections accepted.", prometheus.CounterValue},
	{"stats", "rejected_connections", "rejected_connections_total", "Connections refused (maxclients, protected mode).", prometheus.CounterValue},
	{"stats", "total_commands_processed", "commands_processed_total", "Commands run.", prometheus.CounterValue},
	{"stats", "total_error_replies", "error_replies_total", "Error replies sent.", prometheus.CounterValue},
	{"stats", "instantaneous_ops_per_sec", "instantaneous_ops_per_second", "Commands per second, averaged over the last samples.", prometheus.GaugeValue},
	{"stats", "keyspace_hits", "keyspace_hits_total", "Successful key lookups.", prometheus.CounterValue},
	{"stats", "keyspace_misses", "keyspace_misses_total", "Failed key lookups.", prometheus.CounterValue},
	{"stats", "total_net_input_bytes", "net_input_bytes_total", "Bytes read from clients.", prometheus.CounterValue},
	{"stats", "total_net_output_bytes", "net_output_bytes_total", "Bytes written to clients.", prometheus.CounterValue},
	{"stats", "pubsub_channels", "pubsub_channels", "Pub/sub channels with at least one subscriber.", prometheus.GaugeValue},
	{"stats", "pubsub_patterns", "pubsub_patterns", "Pub/sub patterns with at least one subscriber.", prometheus.GaugeValue},
	{"stats", "client_output_buffer_limit_disconnections", "client_output_buffer_limit_disconnections_total", "Clients disconnected for passing client-output-buffer-limit (slow subscribers).", prometheus.CounterValue},
	{"persistence", "loading", "loading", "1 while the append-only file loads.", prometheus.GaugeValue},
	{"persistence", "aof_enabled", "aof_enabled", "1 when appendonly is on.", prometheus.GaugeValue},
	{"persistence", "aof_last_write_status", "aof_last_write_ok", "1 when the last AOF write succeeded.", prometheus.GaugeValue},
	{"persistence", "aof_rewrite_in_progress", "aof_rewrite_in_progress", "1 while an AOF rewrite runs.", prometheus.GaugeValue},
	{"persistence", "aof_last_bgrewrite_status", "aof_last_rewrite_ok", "1 when the last AOF rewrite succeeded.", prometheus.GaugeValue},
	{"persistence", "aof_rewrites", "aof_rewrites_total", "AOF rewrites done.", prometheus.CounterValue},
	{"persistence", "aof_current_size", "aof_current_size_bytes", "Size of the append-only file.", prometheus.GaugeValue},
	{"persistence", "rdb_changes_since_last_save", "changes_since_last_save", "Writes since start or the last save.", prometheus.GaugeValue},
}

// redisSections are INFO's own sections; the others are the extensions',
// whose numeric fields are exported generically (celerity_ext_*).
var redisSections = map[string]bool{
	"server": true, "clients": true, "memory": true, "persistence": true, "stats": true,
	"replication": true, "cpu": true, "modules": true, "commandstats": true, "errorstats": true,
	"latencystats": true, "cluster": true, "keyspace": true,
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(namespace+"_"+name, help, labels, nil)
}

// Collector is a prometheus.Collector that takes a Snapshot on every
// scrape: there is no background polling, so an idle endpoint costs
// nothing and a scrape's numbers are one consistent view.
type Collector struct {
	srv  *resp.Server
	info []*prometheus.Desc // parallel to infoMetrics

	up, lockHeld, took, buildInfo                                        *prometheus.Desc
	cmdCalls, cmdSeconds, cmdFailed, cmdRejected                         *prometheus.Desc
	dbKeys, dbExpiring, dbAvgTTL                                         *prometheus.Desc
	pubsubSubscribers                                                    *prometheus.Desc
	qMessages, qConsumers, qUnacked, qOldest, qRedelivered, qRestored    *prometheus.Desc
	rbDue, rbNext, rbLastRun, rbOverdue, rbRuns, rbEnabled, rbConsistent *prometheus.Desc
	lockHolder, lockTTL, lockTimeout, lockInterval, lockWarnings         *prometheus.Desc
	results, resBytes, resNoTTL, resGroups, resChords, resReplies        *prometheus.Desc
}

// NewCollector returns the collector of srv's metrics.
func NewCollector(srv *resp.Server) *Collector {
	c := &Collector{srv: srv}
	for _, m := range infoMetrics {
		c.info = append(c.info, desc(m.name, m.help))
	}
	c.up = desc("up", "1 when the scrape could read the server; 0 while a script past its time limit holds it.")
	c.lockHeld = desc("metrics_lock_seconds", "Longest single hold of the engine lock during this scrape (each collection step holds it on its own): the longest stall it caused other clients.")
	c.took = desc("metrics_collect_seconds", "Time this scrape took to collect its data.")
	c.buildInfo = desc("build_info", "Celerity's version and the Redis version it is compatible with.", "version", "redis_version")
	c.cmdCalls = desc("command_calls_total", "Calls per command (INFO commandstats).", "command")
	c.cmdSeconds = desc("command_duration_seconds_total", "Time spent per command (INFO commandstats usec).", "command")
	c.cmdFailed = desc("command_failed_calls_total", "Calls that replied an error, per command.", "command")
	c.cmdRejected = desc("command_rejected_calls_total", "Calls refused before running, per command.", "command")
	c.dbKeys = desc("db_keys", "Keys per database.", "db")
	c.dbExpiring = desc("db_keys_expiring", "Keys with a TTL per database.", "db")
	c.dbAvgTTL = desc("db_avg_ttl_seconds", "Average TTL of the keys that have one, per database (INFO keyspace).", "db")
	c.pubsubSubscribers = desc("pubsub_subscribers", "Channel subscriptions over all pub/sub channels (PUBSUB NUMSUB summed).")
	c.qMessages = desc("queue_messages", "Messages waiting in a Kombu queue, per priority step (KOMBU.QUEUES).", "db", "prefix", "queue", "priority")
	c.qConsumers = desc("queue_consumers", "Clients blocked waiting on a Kombu queue.", "db", "prefix", "queue")
	c.qUnacked = desc("queue_unacked", "Delivered, not yet acknowledged messages of a Kombu queue.", "db", "prefix", "queue")
	c.qOldest = desc("queue_oldest_unacked_age_seconds", "Age of the oldest unacked message of a Kombu queue.", "db", "prefix", "queue")
	c.qRedelivered = desc("queue_unacked_redelivered", "Unacked messages of a Kombu queue that are redeliveries.", "db", "prefix", "queue")
	c.qRestored = desc("queue_restored_total", "Messages restored (redelivered) into a Kombu queue since the server started.", "db", "prefix", "queue")
	entry := []string{"db", "prefix", "entry"}
	c.rbDue = desc("redbeat_due_timestamp_seconds", "Due time of a RedBeat entry: its score in the schedule zset (Unix seconds).", entry...)
	c.rbNext = desc("redbeat_next_run_timestamp_seconds", "Next run of a RedBeat entry computed by the server from its schedule (Unix seconds).", entry...)
	c.rbLastRun = desc("redbeat_last_run_timestamp_seconds", "Last run of a RedBeat entry (meta last_run_at, Unix seconds).", entry...)
	c.rbOverdue = desc("redbeat_overdue", "1 when an enabled RedBeat entry is past its due time.", entry...)
	c.rbRuns = desc("redbeat_entry_runs", "total_run_count of a RedBeat entry.", entry...)
	c.rbEnabled = desc("redbeat_entry_enabled", "1 when a RedBeat entry is enabled.", entry...)
	c.rbConsistent = desc("redbeat_entry_consistent", "0 when REDBEAT.SCHEDULE flags an inconsistency (zset member without hash, hash not scheduled, due time not the computed next run).", entry...)
	c.lockHolder = desc("redbeat_lock_held", "1 when a beat holds the RedBeat lock.", "db", "prefix")
	c.lockTTL = desc("redbeat_lock_ttl_seconds", "Time left on the RedBeat lock.", "db", "prefix")
	c.lockTimeout = desc("redbeat_lock_timeout_seconds", "Lock timeout observed from the beat's SET ... PX.", "db", "prefix")
	c.lockInterval = desc("redbeat_lock_extension_interval_seconds", "Time between the beat's last two lock extensions.", "db", "prefix")
	c.lockWarnings = desc("redbeat_lock_warnings_total", "Late extensions and expiries of the RedBeat lock (beat_max_loop_interval vs redbeat_lock_timeout).", "db", "prefix")
	c.results = desc("results", "Celery task results by state (RESULTS.STATS).", "db", "state")
	c.resBytes = desc("results_bytes", "Bytes of Celery result, group, chord and reply keys.", "db")
	c.resNoTTL = desc("results_without_ttl", "Celery result keys without a TTL.", "db")
	c.resGroups = desc("results_groups", "Saved group results.", "db")
	c.resChords = desc("results_chord_keys", "Redis-native chord keys.", "db")
	c.resReplies = desc("pidbox_reply_queues", "Remote-control reply queues (*.reply.celery.pidbox).", "db")
	return c
}

// Describe sends the fixed descriptors. The extensions' generic
// celerity_ext_* metrics are not known in advance; the registry accepts them
// because their names never collide with these.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.info {
		ch <- d
	}
	for _, d := range []*prometheus.Desc{c.up, c.lockHeld, c.took, c.buildInfo, c.cmdCalls, c.cmdSeconds, c.cmdFailed,
		c.cmdRejected, c.dbKeys, c.dbExpiring, c.dbAvgTTL, c.pubsubSubscribers, c.qMessages, c.qConsumers,
		c.qUnacked, c.qOldest, c.qRedelivered, c.qRestored, c.rbDue, c.rbNext, c.rbLastRun, c.rbOverdue, c.rbRuns, c.rbEnabled, c.rbConsistent,
		c.lockHolder, c.lockTTL, c.lockTimeout, c.lockInterval, c.lockWarnings, c.results, c.resBytes, c.resNoTTL, c.resGroups, c.resChords, c.resReplies} {
		ch <- d
	}
}

// emitter sends const metrics, skipping a repeated series (an extension
// listing a name twice must not fail the whole scrape).
type emitter struct {
	ch   chan<- prometheus.Metric
	seen map[string]bool
}

func (e *emitter) emit(d *prometheus.Desc, t prometheus.ValueType, v float64, labels ...string) {
	key := d.String() + "\x00" + strings.Join(labels, "\x00")
	if e.seen[key] {
		return
	}
	e.seen[key] = true
	for i, l := range labels {
		if !utf8.ValidString(l) {
			labels[i] = strings.ToValidUTF8(l, "\uFFFD") // key names are bytes
		}
	}
	m, err := prometheus.NewConstMetric(d, t, v, labels...)
	if err != nil {
		m = prometheus.NewInvalidMetric(d, err)
	}
	e.ch <- m
}

func gauge(e *emitter, d *prometheus.Desc, v float64, labels ...string) {
	e.emit(d, prometheus.GaugeValue, v, labels...)
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Collect takes a snapshot and sends it as metrics.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	e := &emitter{ch: ch, seen: map[string]bool{}}
	s, err := Collect(c.srv)
	if err != nil {
		gauge(e, c.up, 0)
		return
	}
	gauge(e, c.up, 1)
	gauge(e, c.lockHeld, s.LockHeld.Seconds())
	gauge(e, c.took, s.Took.Seconds())
	gauge(e, c.buildInfo, 1, s.Field("server", "celerity_version"), s.Field("server", "redis_version"))
	for i, m := range infoMetrics {
		raw, ok := s.Info[m.section][m.field]
		if !ok {
			continue
		}
		v, ok := infoNumber(raw)
		if !ok {
			continue
		}
		e.emit(c.info[i], m.typ, v)
	}
	for _, cs := range s.Commands {
		e.emit(c.cmdCalls, prometheus.CounterValue, float64(cs.Calls), cs.Name)
		e.emit(c.cmdSeconds, prometheus.CounterValue, float64(cs.Usec)/1e6, cs.Name)
		e.emit(c.cmdFailed, prometheus.CounterValue, float64(cs.Failed), cs.Name)
		e.emit(c.cmdRejected, prometheus.CounterValue, float64(cs.Rejected), cs.Name)
	}
	for _, db := range s.DBs {
		n := strconv.Itoa(db.DB)
		gauge(e, c.dbKeys, float64(db.Keys), n)
		gauge(e, c.dbExpiring, float64(db.Expires), n)
		gauge(e, c.dbAvgTTL, float64(db.AvgMs)/1000, n)
	}
	gauge(e, c.pubsubSubscribers, float64(s.Subscribers))
	c.collectExtensions(e, s)
	c.collectExtensionInfo(e, s)
}

func (c *Collector) collectExtensions(e *emitter, s *Snapshot) {
	for _, q := range s.Queues {
		db := strconv.Itoa(q.DB)
		for _, p := range q.Priorities {
			gauge(e, c.qMessages, float64(p.Messages), db, q.Prefix, q.Name, p.Priority)
		}
		gauge(e, c.qConsumers, float64(q.Consumers), db, q.Prefix, q.Name)
		gauge(e, c.qUnacked, float64(q.Unacked), db, q.Prefix, q.Name)
		if q.HasOldest {
			gauge(e, c.qOldest, q.OldestUnacked, db, q.Prefix, q.Name)
		}
		gauge(e, c.qRedelivered, float64(q.UnackedRedelivered), db, q.Prefix, q.Name)
		e.emit(c.qRestored, prometheus.CounterValue, float64(q.Restored), db, q.Prefix, q.Name)
	}
	for _, r := range s.Schedule {
		l := []string{strconv.Itoa(r.DB), r.Prefix, r.Name}
		if r.Due > 0 {
			gauge(e, c.rbDue, r.Due, l...)
		}
		if r.Next > 0 {
			gauge(e, c.rbNext, r.Next, l...)
		}
		if r.LastRun > 0 {
			gauge(e, c.rbLastRun, r.LastRun, l...)
		}
		gauge(e, c.rbOverdue, boolFloat(r.Overdue), l...)
		gauge(e, c.rbRuns, float64(r.RunCount), l...)
		gauge(e, c.rbEnabled, boolFloat(r.Enabled), l...)
		gauge(e, c.rbConsistent, boolFloat(r.Consistent), l...)
	}
	for _, k := range s.Locks {
		l := []string{strconv.Itoa(k.DB), k.Prefix}
		gauge(e, c.lockHolder, boolFloat(k.Holder != ""), l...)
		if k.Holder != "" && k.HasTTL {
			gauge(e, c.lockTTL, k.TTL, l...)
		}
		if k.Timeout > 0 {
			gauge(e, c.lockTimeout, k.Timeout, l...)
		}
		if k.Interval > 0 {
			gauge(e, c.lockInterval, k.Interval, l...)
		}
		e.emit(c.lockWarnings, prometheus.CounterValue, float64(k.Warnings), l...)
	}
	for _, r := range s.Results {
		db := strconv.Itoa(r.DB)
		for _, st := range r.States {
			gauge(e, c.results, float64(st.Count), db, st.State)
		}
		gauge(e, c.resBytes, float64(r.Bytes), db)
		gauge(e, c.resNoTTL, float64(r.WithoutTTL), db)
		gauge(e, c.resGroups, float64(r.Groups), db)
		gauge(e, c.resChords, float64(r.Chords), db)
		gauge(e, c.resReplies, float64(r.Replies), db)
	}
}

// collectExtensionInfo exports the numeric fields of the extensions' INFO
// sections as celerity_ext_<section>_<field>, untyped (the section says
// what each one means; the README lists them).
func (c *Collector) collectExtensionInfo(e *emitter, s *Snapshot) {
	for _, sec := range s.Sections {
		if redisSections[sec] {
			continue
		}
		for field, raw := range s.Info[sec] {
			v, ok := infoNumber(raw)
			if !ok {
				continue
			}
			// Fields usually carry their section's name already
			// (kombu_queues): celerity_ext_kombu_queues, not _kombu_kombu_.
			name := "ext_" + metricName(field)
			if !strings.HasPrefix(field, sec+"_") {
				name = "ext_" + metricName(sec) + "_" + metricName(field)
			}
			e.emit(desc(name, "INFO "+sec+" field "+field+"."), prometheus.UntypedValue, v)
		}
	}
}

// metricName keeps [a-zA-Z0-9_] and turns anything else into '_'.
func metricName(s string) string {
	b := []byte(strings.ToLower(s))
	for i, ch := range b {
		if !(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

// infoNumber reads an INFO value: a number, or ok/err as 1/0.
func infoNumber(raw string) (float64, bool) {
	switch raw {
	case "ok":
		return 1, true
	case "err":
		return 0, true
	}
	v, err := strconv.ParseFloat(raw, 64)
	return v, err == nil
}
