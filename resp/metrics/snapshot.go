package metrics

import (
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/celerity/celerity/resp"
)

// errBusy is why a collection did not happen: a script past its time limit
// owns the dataset (Redis answers -BUSY to INFO then).
var errBusy = errors.New("busy running a script")

// errNoInfo is why a collection failed on a server whose INFO command was
// renamed away.
var errNoInfo = errors.New("INFO is not available (rename-command)")

// maxChannels bounds the pub/sub channels the status page lists: per-user
// notification channels can number in the thousands. Counts stay exact.
const maxChannels = 100

// maxUnacked is the COUNT of KOMBU.UNACKED: the status page lists the
// oldest unacked messages, not all of them.
const maxUnacked = 20

// Snapshot is what one collection saw: INFO parsed, pub/sub state and the
// extensions' replies, taken in one hold of the engine lock so the numbers
// agree with each other.
type Snapshot struct {
	Time time.Time
	// LockHeld is the longest single hold of the engine lock the
	// collection took; Took, the whole collection.
	LockHeld, Took time.Duration
	// Info is INFO everything by section (lower case) and field.
	Info map[string]map[string]string
	// Sections lists the INFO sections in the order INFO gave them.
	Sections []string
	// Commands is # Commandstats, by command name ("config|get").
	Commands []CommandStat
	// DBs is # Keyspace, by database number.
	DBs []DBStat
	// Channels are the pub/sub channels with their subscriber counts,
	// most subscribed first, at most maxChannels of them; NumChannels and
	// Subscribers count all of them.
	Channels    []Channel
	NumChannels int
	Subscribers int64
	NumPatterns int64
	// The extensions' data, over the databases that have keys. Has tells
	// which of their commands the server has (the extension is present).
	Queues   []Queue
	Unacked  []Unacked // the oldest maxUnacked
	Schedule []ScheduleEntry
	Locks    []Lock
	Results  []ResultStats
	Has      map[string]bool
	// Failed lists extension commands that answered an error (command
	// and error text; never arguments).
	Failed []string
}

// CommandStat is one cmdstat_ line.
type CommandStat struct {
	Name                          string
	Calls, Usec, Rejected, Failed int64
}

// DBStat is one line of # Keyspace.
type DBStat struct {
	DB                   int
	Keys, Expires, AvgMs int64
}

// AvgTTL is the average TTL in seconds.
func (d DBStat) AvgTTL() float64 { return float64(d.AvgMs) / 1000 }

// Channel is a pub/sub channel and its subscriber count.
type Channel struct {
	Name        string
	Subscribers int64
}

// Field returns an INFO field ("" when absent).
func (s *Snapshot) Field(section, field string) string { return s.Info[section][field] }

// Int returns an INFO field as an integer (0 when absent or not one).
func (s *Snapshot) Int(section, field string) int64 {
	n, _ := strconv.ParseInt(s.Info[section][field], 10, 64)
	return n
}

// extension commands, run per database that has keys.
const (
	cmdQueues   = "KOMBU.QUEUES"
	cmdUnacked  = "KOMBU.UNACKED"
	cmdSchedule = "REDBEAT.SCHEDULE"
	cmdLock     = "REDBEAT.LOCK"
	cmdResults  = "RESULTS.STATS"
)

// Collect takes a snapshot. Each step takes the engine lock on its own,
// for as long as its commands run: INFO; the PUBSUB trio; then every
// extension command in every database with keys. Clients are served
// between steps, so the longest stall a scrape causes is its slowest
// command, not their sum (LockHeld reports it). Replies are parsed after
// the lock is released. The commands run through srv.Exec, so they count
// in INFO commandstats as a redis_exporter scrape would.
func Collect(srv *resp.Server) (*Snapshot, error) {
	var (
		l                              = locked{srv: srv}
		info, channels, numsub, numpat resp.Value
		ext                            = map[string][]dbReply{}
	)
	start := time.Now()
	if err := l.run(func() {
		info = exec(srv, 0, "INFO", "everything")
	}); err != nil {
		return nil, err
	}
	if info.Kind != '$' {
		return nil, errNoInfo // INFO renamed away (rename-command)
	}
	if err := l.run(func() {
		channels = exec(srv, 0, "PUBSUB", "CHANNELS")
		if len(channels.Elems) > 0 {
			argv := make([]string, 0, 2+len(channels.Elems))
			argv = append(argv, "PUBSUB", "NUMSUB")
			for _, e := range channels.Elems {
				argv = append(argv, e.Str)
			}
			numsub = exec(srv, 0, argv...)
		}
		numpat = exec(srv, 0, "PUBSUB", "NUMPAT")
	}); err != nil {
		return nil, err
	}
	dbs := parseKeyspace(info.Str)
	for _, run := range []struct {
		name string
		argv func(db int) []string
	}{
		{cmdQueues, func(db int) []string { return []string{cmdQueues, "DB", strconv.Itoa(db)} }},
		{cmdUnacked, func(db int) []string {
			return []string{cmdUnacked, "DB", strconv.Itoa(db), "COUNT", strconv.Itoa(maxUnacked)}
		}},
		{cmdSchedule, func(int) []string { return []string{cmdSchedule} }},
		{cmdLock, func(int) []string { return []string{cmdLock} }},
		{cmdResults, func(db int) []string { return []string{cmdResults, "DB", strconv.Itoa(db)} }},
	} {
		replies := []dbReply{}
		for _, db := range dbs {
			var v resp.Value
			if err := l.run(func() { v = exec(srv, db.DB, run.argv(db.DB)...) }); err != nil {
				return nil, err
			}
			if unknownCommand(v) {
				replies = nil // the extension is not there
				break
			}
			replies = append(replies, dbReply{db: db.DB, v: v})
		}
		if len(dbs) == 0 {
			// An empty server: ask the table, so the page can tell an
			// absent extension from an empty one.
			var v resp.Value
			if err := l.run(func() { v = exec(srv, 0, "COMMAND", "INFO", run.name) }); err != nil {
				return nil, err
			}
			if unknownCommand(v) {
				replies = nil
			}
		}
		ext[run.name] = replies
	}

	s := &Snapshot{Time: start, LockHeld: l.max, Took: time.Since(start), DBs: dbs}
	s.Info, s.Sections = parseInfo(info.Str)
	s.Commands = parseCommandstats(s.Info["commandstats"])
	s.parsePubsub(channels, numsub, numpat)
	s.parseExtensions(ext)
	return s, nil
}

// locked runs collection steps each under its own hold of the engine lock.
type locked struct {
	srv *resp.Server
	max time.Duration // the longest hold
}

// run runs f under the engine lock, unless a script past its time limit
// owns the server (Redis would answer -BUSY): then errBusy.
func (l *locked) run(f func()) error {
	l.srv.Lock()
	defer l.srv.Unlock()
	if l.srv.ScriptRunning() {
		return errBusy
	}
	start := time.Now()
	f()
	l.max = max(l.max, time.Since(start))
	return nil
}

// dbReply is an extension command's reply for one database.
type dbReply struct {
	db int
	v  resp.Value
}

func exec(srv *resp.Server, db int, argv ...string) resp.Value {
	b := make([][]byte, len(argv))
	for i, a := range argv {
		b[i] = []byte(a)
	}
	return srv.Exec(db, b...)
}

// unknownCommand reports whether v is the reply to a command the table
// does not have; for COMMAND INFO, whether it answered a null entry.
func unknownCommand(v resp.Value) bool {
	if v.Kind == '-' {
		return strings.HasPrefix(v.Str, "ERR unknown command")
	}
	return v.Kind == '*' && len(v.Elems) == 1 && v.Elems[0].Kind == '_'
}

// parseInfo splits INFO text into sections of fields, as redis_exporter
// and RedisInsight read it.
func parseInfo(text string) (map[string]map[string]string, []string) {
	out := map[string]map[string]string{}
	var order []string
	cur := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if name, ok := strings.CutPrefix(line, "# "); ok {
			name = strings.ToLower(name)
			cur = map[string]string{}
			out[name] = cur
			order = append(order, name)
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			cur[k] = v
		}
	}
	return out, order
}

// fieldList parses "a=1,b=2" into a map.
func fieldList(v string) map[string]string {
	m := map[string]string{}
	for _, kv := range strings.Split(v, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

func parseCommandstats(sec map[string]string) []CommandStat {
	var out []CommandStat
	for k, v := range sec {
		name, ok := strings.CutPrefix(k, "cmdstat_")
		if !ok {
			continue
		}
		f := fieldList(v)
		out = append(out, CommandStat{Name: name, Calls: atoi(f["calls"]), Usec: atoi(f["usec"]),
			Rejected: atoi(f["rejected_calls"]), Failed: atoi(f["failed_calls"])})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// parseKeyspace reads the dbN lines of INFO's # Keyspace section.
func parseKeyspace(text string) []DBStat {
	var out []DBStat
	in := false
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if strings.HasPrefix(line, "# ") {
			in = line == "# Keyspace"
			continue
		}
		if !in {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		name, isDB := strings.CutPrefix(k, "db")
		n, err := strconv.Atoi(name)
		if !ok || !isDB || err != nil {
			continue
		}
		f := fieldList(v)
		out = append(out, DBStat{DB: n, Keys: atoi(f["keys"]), Expires: atoi(f["expires"]), AvgMs: atoi(f["avg_ttl"])})
	}
	return out
}

func (s *Snapshot) parsePubsub(channels, numsub, numpat resp.Value) {
	s.NumChannels = len(channels.Elems)
	for i := 0; i+1 < len(numsub.Elems); i += 2 {
		ch := Channel{Name: numsub.Elems[i].Str, Subscribers: numsub.Elems[i+1].Int}
		s.Subscribers += ch.Subscribers
		s.Channels = append(s.Channels, ch)
	}
	sort.Slice(s.Channels, func(i, j int) bool {
		a, b := s.Channels[i], s.Channels[j]
		if a.Subscribers != b.Subscribers {
			return a.Subscribers > b.Subscribers
		}
		return a.Name < b.Name
	})
	if len(s.Channels) > maxChannels {
		s.Channels = s.Channels[:maxChannels]
	}
	s.NumPatterns = numpat.Int
}
