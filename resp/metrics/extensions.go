package metrics

import (
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/celerity/celerity/resp"
)

// The extensions' replies, decoded. This package never imports kombu/,
// redbeat/ or results/: it reads what their commands answer (RESP2, as
// Server.Exec speaks it: maps arrive as flat arrays of names and values,
// booleans as 0/1, doubles as bulk strings) and is lenient about fields it
// does not know, so an extension can grow its replies without breaking the
// page.

// Queue is one Kombu queue in one database (KOMBU.QUEUES).
type Queue struct {
	DB         int
	Prefix     string // Kombu global_keyprefix, usually ""
	Name       string
	Exchanges  []string
	Messages   int64      // all priorities
	Priorities []Priority // messages per priority step
	Consumers  int64      // clients blocked on the queue
	Unacked    int64
	// OldestUnacked is the age in seconds of the oldest unacked message;
	// HasOldest is false when there is none.
	OldestUnacked float64
	HasOldest     bool
	// UnackedRedelivered counts unacked messages Kombu marked redelivered;
	// Restored, the restores into the queue the server saw since start.
	UnackedRedelivered int64
	Restored           int64
}

// Priority is the depth of one priority step of a queue.
type Priority struct {
	Priority string
	Messages int64
}

// Unacked is one delivered, not yet acknowledged message (KOMBU.UNACKED).
type Unacked struct {
	DB        int
	Prefix    string
	Tag       string
	Queue     string
	Task      string
	Age       float64 // seconds since delivery
	HasAge    bool
	Owner     string // client id of the connection that recorded it, "" when gone
	OwnerName string
	OwnerAddr string
	Leased    bool
	Restored  int64
}

// ScheduleEntry is one RedBeat entry (REDBEAT.SCHEDULE).
type ScheduleEntry struct {
	DB       int
	Prefix   string
	Name     string
	Task     string
	Schedule string // "every 10s", "crontab minute=*/5 ...", or the kind and its raw JSON
	Enabled  bool
	Static   bool // from beat_schedule
	// Unix seconds, 0 when unknown: LastRun from meta; Due, the score in
	// the schedule zset; Next, the next run computed by the server.
	LastRun, Due, Next float64
	NoNextRun          bool // score -1: RedBeat found no next run
	RunCount           int64
	Overdue            bool
	Consistent         bool
	Flags              []string // what the command flagged (never_run, due_mismatch...)
}

// Lock is a RedBeat lock (REDBEAT.LOCK).
type Lock struct {
	DB     int
	Prefix string
	Key    string
	Holder string // token; "" when nobody holds it
	// TTL is the time left in seconds; HasTTL is false when the key is
	// missing or has no TTL.
	TTL    float64
	HasTTL bool
	// Timeout is the PX of the beat's SET, Interval the time between its
	// last two extensions, in seconds; 0 when not observed yet.
	Timeout, Interval float64
	LastExtension     float64 // Unix seconds, 0 when none seen
	Warnings          int64
	LastWarning       string
}

// ResultStats are Celery result counts in one database (RESULTS.STATS).
type ResultStats struct {
	DB         int
	Tasks      int64
	States     []StateCount
	Groups     int64
	Chords     int64
	Replies    int64 // pidbox reply queues
	Bytes      int64
	WithoutTTL int64
	Complete   bool
	AgeMs      int64
}

// StateCount is the number of task results in one state.
type StateCount struct {
	State string
	Count int64
}

// record is a reply map by field name.
type record map[string]resp.Value

// asRecord reads a map reply (RESP3 %, or RESP2's flat array of names and
// values); ok is false when v is not shaped like one.
func asRecord(v resp.Value) (record, bool) {
	if (v.Kind != '*' && v.Kind != '%') || len(v.Elems)%2 != 0 {
		return nil, false
	}
	r := make(record, len(v.Elems)/2)
	for i := 0; i < len(v.Elems); i += 2 {
		k := v.Elems[i]
		if k.Kind != '$' && k.Kind != '+' {
			return nil, false
		}
		r[strings.ToLower(k.Str)] = v.Elems[i+1]
	}
	return r, true
}

// get returns the first of the fields present.
func (r record) get(fields ...string) (resp.Value, bool) {
	for _, f := range fields {
		if v, ok := r[f]; ok && v.Kind != '_' {
			return v, true
		}
	}
	return resp.Value{}, false
}

func (r record) str(fields ...string) string {
	v, ok := r.get(fields...)
	if !ok {
		return ""
	}
	switch v.Kind {
	case ':', '#':
		return strconv.FormatInt(v.Int, 10)
	case '*', '~', '%':
		parts := make([]string, 0, len(v.Elems))
		for _, e := range v.Elems {
			parts = append(parts, e.Str)
		}
		return strings.Join(parts, " ")
	}
	return v.Str
}

func (r record) int(fields ...string) int64 {
	v, ok := r.get(fields...)
	if !ok {
		return 0
	}
	if v.Kind == ':' || v.Kind == '#' {
		return v.Int
	}
	f, _ := strconv.ParseFloat(v.Str, 64)
	return int64(f)
}

func (r record) float(fields ...string) (float64, bool) {
	v, ok := r.get(fields...)
	if !ok {
		return 0, false
	}
	if v.Kind == ':' || v.Kind == '#' {
		return float64(v.Int), true
	}
	f, err := strconv.ParseFloat(v.Str, 64)
	if err != nil || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

func (r record) bool(fields ...string) bool {
	v, ok := r.get(fields...)
	if !ok {
		return false
	}
	if v.Kind == ':' || v.Kind == '#' {
		return v.Int != 0
	}
	switch strings.ToLower(v.Str) {
	case "1", "yes", "true":
		return true
	}
	return false
}

// seconds reads a field given in milliseconds as seconds.
func (r record) seconds(ms string) (float64, bool) {
	f, ok := r.float(ms)
	return f / 1000, ok
}

// parseExtensions decodes the extension replies Collect gathered.
func (s *Snapshot) parseExtensions(ext map[string][]dbReply) {
	s.Has = make(map[string]bool, len(ext))
	for name, replies := range ext {
		s.Has[name] = replies != nil
		for _, rep := range replies {
			if rep.v.Kind == '-' {
				s.Failed = append(s.Failed, name+": "+rep.v.Str)
				continue
			}
			switch name {
			case cmdQueues:
				s.Queues = append(s.Queues, parseQueues(rep.db, rep.v)...)
			case cmdUnacked:
				s.Unacked = append(s.Unacked, parseUnacked(rep.db, rep.v)...)
			case cmdSchedule:
				s.Schedule = append(s.Schedule, parseSchedule(rep.db, rep.v)...)
			case cmdLock:
				s.Locks = append(s.Locks, parseLocks(rep.db, rep.v)...)
			case cmdResults:
				if r, ok := asRecord(rep.v); ok {
					s.Results = append(s.Results, parseResults(rep.db, r))
				}
			}
		}
	}
	sort.Strings(s.Failed)
	s.dropEmpty()
	sort.SliceStable(s.Unacked, func(i, j int) bool { return s.Unacked[i].Age > s.Unacked[j].Age })
	if len(s.Unacked) > maxUnacked {
		s.Unacked = s.Unacked[:maxUnacked]
	}
}

// dropEmpty leaves out what only says "nothing here": REDBEAT.LOCK answers
// for every configured prefix in every database, and RESULTS.STATS for
// every database with keys. A lock stays when it is held, was seen used,
// or guards entries of that database; results stay when there are some.
func (s *Snapshot) dropEmpty() {
	scheduled := map[string]bool{}
	for _, e := range s.Schedule {
		scheduled[strconv.Itoa(e.DB)+" "+e.Prefix] = true
	}
	locks := s.Locks[:0]
	for _, l := range s.Locks {
		if l.Holder != "" || l.Timeout > 0 || l.Warnings > 0 || l.LastExtension > 0 || scheduled[strconv.Itoa(l.DB)+" "+l.Prefix] {
			locks = append(locks, l)
		}
	}
	s.Locks = locks
	results := s.Results[:0]
	for _, r := range s.Results {
		if r.Tasks+r.Groups+r.Chords+r.Replies > 0 {
			results = append(results, r)
		}
	}
	s.Results = results
}

func parseQueues(db int, v resp.Value) []Queue {
	var out []Queue
	for _, e := range v.Elems {
		r, ok := asRecord(e)
		if !ok {
			continue
		}
		q := Queue{DB: db, Prefix: r.str("prefix"), Name: r.str("name"), Messages: r.int("messages"),
			Consumers: r.int("consumers"), Unacked: r.int("unacked"),
			UnackedRedelivered: r.int("unacked_redelivered"), Restored: r.int("restored")}
		if ex, ok := r.get("exchanges"); ok {
			for _, x := range ex.Elems {
				q.Exchanges = append(q.Exchanges, x.Str)
			}
		}
		q.OldestUnacked, q.HasOldest = r.seconds("oldest_unacked_age_ms")
		if p, ok := r.get("priorities"); ok {
			q.Priorities = priorities(p)
		}
		out = append(out, q)
	}
	return out
}

// priorities reads messages per priority step: a map from step (an
// integer) to count.
func priorities(v resp.Value) []Priority {
	var out []Priority
	for i := 0; i+1 < len(v.Elems); i += 2 {
		k := v.Elems[i]
		name := k.Str
		if k.Kind == ':' {
			name = strconv.FormatInt(k.Int, 10)
		}
		out = append(out, Priority{Priority: name, Messages: v.Elems[i+1].Int})
	}
	return out
}

func parseUnacked(db int, v resp.Value) []Unacked {
	var out []Unacked
	for _, e := range v.Elems {
		r, ok := asRecord(e)
		if !ok {
			continue
		}
		u := Unacked{DB: db, Prefix: r.str("prefix"), Tag: r.str("tag"), Queue: r.str("queue"), Task: r.str("task"),
			Owner: r.str("owner"), OwnerName: r.str("owner_name"), OwnerAddr: r.str("owner_addr"),
			Leased: r.bool("leased"), Restored: r.int("restored")}
		u.Age, u.HasAge = r.seconds("age_ms")
		out = append(out, u)
	}
	return out
}

func parseSchedule(db int, v resp.Value) []ScheduleEntry {
	var out []ScheduleEntry
	for _, e := range v.Elems {
		r, ok := asRecord(e)
		if !ok {
			continue
		}
		en := ScheduleEntry{DB: db, Prefix: r.str("prefix"), Name: r.str("name"), Task: r.str("task"),
			Enabled: r.bool("enabled"), Static: r.bool("static"), RunCount: r.int("total_run_count"),
			Overdue: r.bool("overdue"), Consistent: r.bool("consistent")}
		if sched, ok := r.get("schedule"); ok {
			en.Schedule = scheduleText(sched)
		}
		en.LastRun, _ = r.seconds("last_run_at_ms")
		if due, ok := r.seconds("due_at_ms"); ok {
			if due < 0 {
				en.NoNextRun = true
			} else {
				en.Due = due
			}
		}
		en.Next, _ = r.seconds("next_run_at_ms")
		if f, ok := r.get("flags"); ok {
			for _, x := range f.Elems {
				en.Flags = append(en.Flags, x.Str)
			}
		}
		out = append(out, en)
	}
	return out
}

// scheduleText renders REDBEAT.SCHEDULE's schedule map: interval as
// "every 10s", others as their type and fields in reply order.
func scheduleText(v resp.Value) string {
	r, ok := asRecord(v)
	if !ok {
		return ""
	}
	kind := r.str("type")
	if kind == "interval" {
		every, _ := r.float("every")
		text := "every " + humanDuration(every)
		if r.bool("relative") {
			text += " (relative)"
		}
		return text
	}
	parts := []string{kind}
	for i := 0; i+1 < len(v.Elems); i += 2 {
		if k := v.Elems[i].Str; k != "type" {
			parts = append(parts, k+"="+r.str(k))
		}
	}
	return strings.Join(parts, " ")
}

func parseLocks(db int, v resp.Value) []Lock {
	var out []Lock
	for _, e := range v.Elems {
		r, ok := asRecord(e)
		if !ok {
			continue
		}
		l := Lock{DB: db, Prefix: r.str("prefix"), Key: r.str("key"), Holder: r.str("holder"),
			Warnings: r.int("warnings"), LastWarning: r.str("last_warning")}
		if ttl, ok := r.seconds("ttl_ms"); ok && ttl >= 0 {
			l.TTL, l.HasTTL = ttl, true
		}
		l.Timeout, _ = r.seconds("timeout_ms")
		l.Interval, _ = r.seconds("extension_interval_ms")
		l.LastExtension, _ = r.seconds("last_extension_at_ms")
		out = append(out, l)
	}
	return out
}

func parseResults(db int, r record) ResultStats {
	st := ResultStats{DB: db, Tasks: r.int("task_results", "tasks"), Groups: r.int("groups"),
		Chords: r.int("chord_keys", "chords"), Replies: r.int("pidbox_reply_queues"), Bytes: r.int("bytes"),
		WithoutTTL: r.int("without_ttl"), Complete: r.bool("complete"), AgeMs: r.int("age_ms")}
	if states, ok := r.get("states"); ok {
		for i := 0; i+1 < len(states.Elems); i += 2 {
			st.States = append(st.States, StateCount{State: states.Elems[i].Str, Count: states.Elems[i+1].Int})
		}
	}
	return st
}
