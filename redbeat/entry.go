package redbeat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// RedBeat's JSON (redbeat/decoder.py RedBeatJSONEncoder): an entry hash
// holds "definition" = {name, task, args, kwargs, options, schedule,
// enabled} and "meta" = {last_run_at, total_run_count}. Typed values carry
// "__type__": datetime, interval, crontab, rrule (and weekday inside rrule).

// Schedule kinds.
const (
	kindInterval = "interval"
	kindCrontab  = "crontab"
)

// Entry is one decoded RedBeat entry.
type Entry struct {
	Name    string
	Task    string
	Enabled bool
	// Kind is the schedule's __type__ ("interval", "crontab", "rrule",
	// ...); "" when the definition has no schedule object.
	Kind     string
	Every    float64   // interval: seconds
	Relative bool      // interval: Celery's relative=True (rounded; see nextRun)
	Cron     [5]string // crontab: minute, hour, day_of_week, day_of_month, month_of_year
	Raw      string    // the schedule's JSON, for kinds shown raw

	LastRun  time.Time // zero: never run
	LastZone string    // the timezone last_run_at was stored in
	RunCount int64
	loc      *time.Location // of LastRun; the app's timezone (see nextRun)
}

// cronFields names Entry.Cron's fields as Celery's crontab does.
var cronFields = [5]string{"minute", "hour", "day_of_week", "day_of_month", "month_of_year"}

type definitionJSON struct {
	Name     string          `json:"name"`
	Task     string          `json:"task"`
	Schedule json.RawMessage `json:"schedule"`
	Enabled  *bool           `json:"enabled"`
}

type metaJSON struct {
	LastRunAt     json.RawMessage `json:"last_run_at"`
	TotalRunCount int64           `json:"total_run_count"`
}

// decodeEntry decodes an entry hash's fields; meta may be empty (never
// saved by a run).
func decodeEntry(definition, meta []byte) (*Entry, error) {
	var d definitionJSON
	if err := json.Unmarshal(definition, &d); err != nil {
		return nil, fmt.Errorf("definition: %w", err)
	}
	e := &Entry{Name: d.Name, Task: d.Task, Enabled: d.Enabled == nil || *d.Enabled}
	if err := e.decodeSchedule(d.Schedule); err != nil {
		return nil, err
	}
	if len(meta) == 0 {
		return e, nil
	}
	var m metaJSON
	if err := json.Unmarshal(meta, &m); err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	e.RunCount = m.TotalRunCount
	if len(m.LastRunAt) > 0 && !bytes.Equal(m.LastRunAt, []byte("null")) {
		t, zone, loc, err := decodeDatetime(m.LastRunAt)
		if err != nil {
			return nil, fmt.Errorf("meta: last_run_at: %w", err)
		}
		e.LastRun, e.LastZone, e.loc = t, zone, loc
	}
	return e, nil
}

func (e *Entry) decodeSchedule(raw json.RawMessage) error {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		e.Kind, e.Raw = "unknown", string(raw)
		return nil
	}
	var kind string
	_ = json.Unmarshal(obj["__type__"], &kind)
	e.Kind = kind
	switch kind {
	case kindInterval:
		var iv struct {
			Every    float64 `json:"every"`
			Relative bool    `json:"relative"`
		}
		if err := json.Unmarshal(raw, &iv); err != nil || iv.Every <= 0 || math.IsInf(iv.Every, 0) {
			e.Kind, e.Raw = "unknown", string(raw)
			return nil
		}
		e.Every, e.Relative = iv.Every, iv.Relative
	case kindCrontab:
		for i, f := range cronFields {
			v, ok := cronField(obj[f])
			if !ok {
				e.Kind, e.Raw = "unknown", string(raw)
				return nil
			}
			e.Cron[i] = v
		}
	default:
		if kind == "" {
			e.Kind = "unknown"
		}
		e.Raw = string(raw)
	}
	return nil
}

// cronField renders a crontab field as Celery stored it (_orig_minute...):
// a string ("*/15", "mon-fri"), a number (0) or a list of numbers.
func cronField(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 {
		return "*", true // Celery's default for every field
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String(), true
	}
	var list []json.Number
	if json.Unmarshal(raw, &list) == nil && len(list) > 0 {
		parts := make([]string, len(list))
		for i, x := range list {
			parts[i] = x.String()
		}
		return strings.Join(parts, ","), true
	}
	return "", false
}

type datetimeJSON struct {
	Type        string          `json:"__type__"`
	Year        int             `json:"year"`
	Month       int             `json:"month"`
	Day         int             `json:"day"`
	Hour        int             `json:"hour"`
	Minute      int             `json:"minute"`
	Second      int             `json:"second"`
	Microsecond int             `json:"microsecond"`
	Timezone    json.RawMessage `json:"timezone"`
}

// decodeDatetime decodes RedBeat's datetime: wall-clock fields plus a
// "timezone" that is a zone name ("UTC", "Europe/Berlin"; absent means
// UTC) or a UTC offset in seconds (a datetime with a fixed offset).
func decodeDatetime(raw json.RawMessage) (time.Time, string, *time.Location, error) {
	var d datetimeJSON
	if err := json.Unmarshal(raw, &d); err != nil {
		return time.Time{}, "", nil, err
	}
	if d.Type != "datetime" || d.Month < 1 || d.Month > 12 {
		return time.Time{}, "", nil, fmt.Errorf("not a datetime")
	}
	zone, loc := "UTC", time.UTC
	if len(d.Timezone) > 0 && !bytes.Equal(d.Timezone, []byte("null")) {
		var name string
		var offset float64
		switch {
		case json.Unmarshal(d.Timezone, &name) == nil:
			l, err := time.LoadLocation(name)
			if err != nil {
				return time.Time{}, "", nil, fmt.Errorf("unknown timezone %q", name)
			}
			zone, loc = name, l
		case json.Unmarshal(d.Timezone, &offset) == nil:
			zone = strconv.FormatFloat(offset, 'f', -1, 64)
			loc = time.FixedZone("UTC"+zone, int(offset))
		}
	}
	t := time.Date(d.Year, time.Month(d.Month), d.Day, d.Hour, d.Minute, d.Second, d.Microsecond*1000, loc)
	return t, zone, loc, nil
}

// cronParser parses Celery crontab fields in cron's five-field order.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// domAndDow is robfig/cron's marker bit for a '*' field. Setting it on the
// day-of-month set makes cron.SpecSchedule require both the day of month
// and the day of week to match (Celery's crontab.remaining_delta ANDs
// month, day of month and day of week); without it, two restricted day
// fields match when either does (Vixie cron's OR).
const domAndDow = 1 << 63

// cronSpec builds the schedule of a crontab entry in loc.
func cronSpec(fields [5]string, loc *time.Location) (*cron.SpecSchedule, error) {
	minute, hour, dow, dom, month := fields[0], fields[1], fields[2], fields[3], fields[4]
	sched, err := cronParser.Parse(strings.Join([]string{
		minute, hour, dom, celeryNames(month), celeryNames(dow)}, " "))
	if err != nil {
		return nil, err
	}
	spec, ok := sched.(*cron.SpecSchedule)
	if !ok {
		return nil, fmt.Errorf("not a field schedule")
	}
	spec.Dom |= domAndDow
	spec.Location = loc
	return spec, nil
}

// celeryNames shortens day and month names to the three letters cron
// knows: Celery takes the first three letters of any name ("sunday",
// "Mon").
func celeryNames(field string) string {
	var b strings.Builder
	for i := 0; i < len(field); {
		j := i
		for j < len(field) && isLetter(field[j]) {
			j++
		}
		if j > i {
			w := strings.ToLower(field[i:j])
			if len(w) > 3 {
				w = w[:3]
			}
			b.WriteString(w)
			i = j
			continue
		}
		b.WriteByte(field[i])
		i++
	}
	return b.String()
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// nextRun computes when the entry runs next after its last run, the way
// Celery's schedules do, independently of the score RedBeat stored:
//
//   - never run: due now (beat's is_due uses a last run in year 1);
//   - interval: last run + every (Celery adds seconds in UTC); a relative
//     interval is rounded by Celery to its own resolution, which this
//     leaves out (the field says relative);
//   - crontab: the first minute matching every field strictly after the
//     last run, in the timezone the last run was stored in — Celery stores
//     last_run_at as app.now(), in the app's timezone, the one its crontab
//     fields mean;
//   - other kinds: unknown (ok false).
func (e *Entry) nextRun(now time.Time) (time.Time, bool) {
	if e.LastRun.IsZero() {
		switch e.Kind {
		case kindInterval, kindCrontab:
			return now, true
		}
		return time.Time{}, false
	}
	switch e.Kind {
	case kindInterval:
		return e.LastRun.Add(time.Duration(e.Every * float64(time.Second))), true
	case kindCrontab:
		loc := e.loc
		if loc == nil {
			loc = time.UTC
		}
		spec, err := cronSpec(e.Cron, loc)
		if err != nil {
			return time.Time{}, false
		}
		next := spec.Next(e.LastRun)
		return next, !next.IsZero()
	}
	return time.Time{}, false
}
