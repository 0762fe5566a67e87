package redbeat

import (
	"math"
	"sort"
	"strings"
	"time"

	"github.com/celerity/celerity/keyspace"
	"github.com/celerity/celerity/resp"
	"github.com/celerity/celerity/resp/keyindex"
)

// Schedule checks.
const (
	// overdueGrace is how late past its due time an enabled entry may be
	// before it is flagged overdue: beat wakes up for the next due entry
	// (it peeks into the schedule), so a live beat is a second or two late
	// at most.
	overdueGrace = 5 * time.Second
	// mismatchTolerance is how far RedBeat's stored due time may be from
	// the one computed here before the entry is flagged: RedBeat stores
	// last_run_at + remaining, truncated to whole seconds, computed a
	// moment after the run.
	mismatchTolerance = 2 * time.Second
)

// Entry flags, as REDBEAT.SCHEDULE spells them.
const (
	flagMissingHash   = "missing_hash"  // in the schedule, no entry hash
	flagNotScheduled  = "not_scheduled" // entry hash, not in the schedule
	flagOverdue       = "overdue"       // due more than overdueGrace ago
	flagDisabled      = "disabled"      // enabled: false
	flagNeverRun      = "never_run"     // no last_run_at
	flagNoNextRun     = "no_next_run"   // score -1: RedBeat found no next run
	flagDueMismatch   = "due_mismatch"  // stored due time != computed next run
	flagUndecodable   = "undecodable"   // definition or meta not RedBeat's JSON
	flagUnknownNext   = "next_run_unknown"
	flagStaticMissing = "static_missing" // a statics name without an entry hash
)

// scheduleRow is one line of REDBEAT.SCHEDULE.
type scheduleRow struct {
	prefix, key, name string
	entry             *Entry // nil: no hash or undecodable
	static            bool
	due               float64 // the schedule's score
	inSchedule        bool
	next              time.Time
	hasNext           bool
	overdue           bool
	flags             []string
}

// redbeatScheduleCommand is REDBEAT.SCHEDULE [PREFIX p]: the entries of
// each RedBeat prefix of the client's database, by due time.
func (r *RedBeat) redbeatScheduleCommand(c *resp.Client) {
	only, given, ok := prefixArg(c)
	if !ok {
		return
	}
	db := c.DB()
	prefixes, hashes, complete := r.prefixes(db, only, given)
	now := time.UnixMilli(r.srv.Keyspace().ClockNow())
	var rows []*scheduleRow
	for _, p := range prefixes {
		rows = append(rows, scheduleOf(db, p, hashes[p], now)...)
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.prefix != b.prefix {
			return a.prefix < b.prefix
		}
		if a.inSchedule != b.inSchedule {
			return a.inSchedule
		}
		if a.due != b.due {
			return a.due < b.due
		}
		return a.name < b.name
	})
	c.Array(len(rows))
	for _, row := range rows {
		writeRow(c, row, now, complete)
	}
}

// scheduleOf builds the rows of prefix p: every member of the schedule
// sorted set, and every entry hash that is not in it. Engine lock.
func scheduleOf(db *keyspace.DB, p string, hashes []*keyspace.Entry, now time.Time) []*scheduleRow {
	statics := make(map[string]bool)
	if e := live(db, p+staticsSuffix, now.UnixMilli()); e != nil && e.Type() == keyspace.TypeSet {
		s := e.Agg().(*keyspace.Set)
		for i := 0; i < s.Len(); i++ {
			str, n, isInt := s.Member(i)
			if isInt {
				str = itoa(n)
			}
			statics[str] = true
		}
	}
	var rows []*scheduleRow
	byKey := make(map[string]*scheduleRow)
	if e := live(db, p+scheduleSuffix, now.UnixMilli()); e != nil && e.Type() == keyspace.TypeZSet {
		for it, ok := e.Agg().(*keyspace.ZSet).Index().First(); ok; ok = it.Next() {
			row := &scheduleRow{prefix: p, key: it.Member(), due: it.Score(), inSchedule: true}
			row.name = strings.TrimPrefix(row.key, p)
			rows = append(rows, row)
			byKey[row.key] = row
		}
	}
	for _, h := range hashes {
		if byKey[h.Key()] == nil {
			row := &scheduleRow{prefix: p, key: h.Key(), name: strings.TrimPrefix(h.Key(), p)}
			rows = append(rows, row)
			byKey[row.key] = row
		}
	}
	for _, row := range rows {
		row.static = statics[row.name]
		row.examine(db, now)
	}
	// A static entry beat will recreate at its next start, but that is
	// gone now (evicted, deleted by hand).
	for name := range statics {
		if byKey[p+name] == nil {
			rows = append(rows, &scheduleRow{prefix: p, key: p + name, name: name, static: true,
				flags: []string{flagStaticMissing}})
		}
	}
	return rows
}

// examine decodes the row's hash and computes its next run and flags.
func (row *scheduleRow) examine(db *keyspace.DB, now time.Time) {
	if !row.inSchedule {
		row.flags = append(row.flags, flagNotScheduled)
	}
	h := live(db, row.key, now.UnixMilli())
	if h == nil || h.Type() != keyspace.TypeHash {
		row.flags = append(row.flags, flagMissingHash)
		return
	}
	hash := h.Agg().(*keyspace.Hash)
	def, _ := hash.Get([]byte(fieldDefinition))
	meta, _ := hash.Get([]byte(fieldMeta))
	if def == "" {
		row.flags = append(row.flags, flagMissingHash)
		return
	}
	e, err := decodeEntry([]byte(def), []byte(meta))
	if err != nil {
		row.flags = append(row.flags, flagUndecodable)
		return
	}
	row.entry = e
	if e.Name != "" {
		row.name = e.Name
	}
	if !e.Enabled {
		row.flags = append(row.flags, flagDisabled)
	}
	if e.LastRun.IsZero() {
		row.flags = append(row.flags, flagNeverRun)
	}
	row.next, row.hasNext = e.nextRun(now)
	if !row.hasNext {
		row.flags = append(row.flags, flagUnknownNext)
	}
	if row.inSchedule && row.due < 0 {
		row.flags = append(row.flags, flagNoNextRun)
	}
	due, hasDue := row.dueTime()
	if e.Enabled {
		switch {
		case hasDue:
			row.overdue = now.Sub(due) > overdueGrace
		case row.hasNext:
			row.overdue = now.Sub(row.next) > overdueGrace
		}
	}
	if row.overdue {
		row.flags = append(row.flags, flagOverdue)
	}
	if hasDue && row.hasNext && !e.LastRun.IsZero() {
		if d := due.Sub(row.next); d > mismatchTolerance || d < -mismatchTolerance {
			row.flags = append(row.flags, flagDueMismatch)
		}
	}
}

// dueTime is the row's due time from the schedule's score.
func (row *scheduleRow) dueTime() (time.Time, bool) {
	if !row.inSchedule || row.due < 0 || math.IsInf(row.due, 0) || math.IsNaN(row.due) {
		return time.Time{}, false
	}
	return time.UnixMilli(int64(row.due * 1000)), true
}

// writeRow writes one entry as a map (see the README for the fields).
func writeRow(c *resp.Client, row *scheduleRow, now time.Time, complete bool) {
	e := row.entry
	c.Map(15 + keyindex.IncompleteFields(complete))
	c.BulkString("prefix")
	c.BulkString(row.prefix)
	c.BulkString("name")
	c.BulkString(row.name)
	c.BulkString("key")
	c.BulkString(row.key)
	c.BulkString("task")
	if e != nil {
		c.BulkString(e.Task)
	} else {
		c.Null()
	}
	c.BulkString("schedule")
	writeSchedule(c, e)
	c.BulkString("enabled")
	c.Bool(e != nil && e.Enabled)
	c.BulkString("static")
	c.Bool(row.static)
	c.BulkString("last_run_at_ms")
	if e != nil && !e.LastRun.IsZero() {
		c.Int(e.LastRun.UnixMilli())
	} else {
		c.Null()
	}
	c.BulkString("total_run_count")
	if e != nil {
		c.Int(e.RunCount)
	} else {
		c.Null()
	}
	c.BulkString("due_at_ms")
	if due, ok := row.dueTime(); ok {
		c.Int(due.UnixMilli())
	} else if row.inSchedule {
		c.Int(-1)
	} else {
		c.Null()
	}
	c.BulkString("next_run_at_ms")
	if row.hasNext {
		c.Int(row.next.UnixMilli())
	} else {
		c.Null()
	}
	c.BulkString("next_run_in_ms")
	if row.hasNext {
		c.Int(row.next.Sub(now).Milliseconds())
	} else {
		c.Null()
	}
	c.BulkString("overdue")
	c.Bool(row.overdue)
	c.BulkString("consistent")
	c.Bool(!hasAny(row.flags, flagMissingHash, flagNotScheduled, flagDueMismatch, flagStaticMissing, flagUndecodable))
	c.BulkString("flags")
	c.Array(len(row.flags))
	for _, f := range row.flags {
		c.BulkString(f)
	}
	keyindex.WriteIncomplete(c, complete)
}

func hasAny(flags []string, want ...string) bool {
	for _, f := range flags {
		for _, w := range want {
			if f == w {
				return true
			}
		}
	}
	return false
}

// writeSchedule writes an entry's schedule: a map whose "type" is its
// kind, with Celery's own field names; kinds without a next-run rule here
// (rrule, solar, ...) carry their JSON in "raw".
func writeSchedule(c *resp.Client, e *Entry) {
	if e == nil || e.Kind == "" {
		c.Null()
		return
	}
	switch e.Kind {
	case kindInterval:
		c.Map(3)
		c.BulkString("type")
		c.BulkString(kindInterval)
		c.BulkString("every")
		c.Double(e.Every)
		c.BulkString("relative")
		c.Bool(e.Relative)
	case kindCrontab:
		c.Map(7)
		c.BulkString("type")
		c.BulkString(kindCrontab)
		for i, f := range cronFields {
			c.BulkString(f)
			c.BulkString(e.Cron[i])
		}
		c.BulkString("timezone")
		zone := e.LastZone
		if zone == "" {
			zone = "UTC"
		}
		c.BulkString(zone)
	default:
		c.Map(2)
		c.BulkString("type")
		c.BulkString(e.Kind)
		c.BulkString("raw")
		c.BulkString(e.Raw)
	}
}
