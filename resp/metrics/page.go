package metrics

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/celerity/celerity/resp"
)

// The status page: one server-rendered HTML document, no script, no
// external asset (operators open it where there is no internet), that
// reloads itself every refreshSeconds. html/template escapes every name
// it shows: queue, entry and channel names are user data.

//go:embed page.html
var pageHTML string

const refreshSeconds = 5

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"dur":   humanDuration,
	"ago":   func(now time.Time, unix float64) string { return relative(now, unix) },
	"ts":    timestamp,
	"bytes": humanBytes,
	"join":  strings.Join,
}).Parse(pageHTML))

// page is the template's data.
type page struct {
	Now     time.Time
	Refresh int
	Err     string // why nothing could be collected
	S       *Snapshot
	// Summary figures.
	Version, RedisVersion, Uptime, Memory, MaxMemory, Policy string
	Clients, Blocked, Ops, Commands, Keys, Evicted           int64
	AOF, Loading                                             bool
	AOFStatus                                                string
	Patterns                                                 int64
	MoreChannels                                             int
	QueueMessages, QueueUnacked                              int64
	// Which extension commands exist.
	HasQueues, HasUnacked, HasSchedule, HasLock, HasResults bool
}

func servePage(w http.ResponseWriter, srv *resp.Server) {
	s, err := Collect(srv)
	p := &page{Now: time.Now(), Refresh: refreshSeconds}
	status := http.StatusOK
	if err != nil {
		p.Err, status = err.Error(), http.StatusServiceUnavailable
	} else {
		p.fill(s)
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, p); err != nil {
		http.Error(w, "status page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	// The page needs nothing from anywhere, so it may load nothing.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (p *page) fill(s *Snapshot) {
	p.S, p.Now = s, s.Time
	p.Version, p.RedisVersion = s.Field("server", "celerity_version"), s.Field("server", "redis_version")
	p.Uptime = humanDuration(float64(s.Int("server", "uptime_in_seconds")))
	p.Memory = humanBytes(s.Int("memory", "used_memory"))
	if m := s.Int("memory", "maxmemory"); m > 0 {
		p.MaxMemory = humanBytes(m)
	}
	p.Policy = s.Field("memory", "maxmemory_policy")
	p.Clients, p.Blocked = s.Int("clients", "connected_clients"), s.Int("clients", "blocked_clients")
	p.Ops, p.Commands = s.Int("stats", "instantaneous_ops_per_sec"), s.Int("stats", "total_commands_processed")
	p.Evicted = s.Int("stats", "evicted_keys")
	for _, db := range s.DBs {
		p.Keys += db.Keys
	}
	p.AOF, p.Loading = s.Field("persistence", "aof_enabled") == "1", s.Field("persistence", "loading") == "1"
	p.AOFStatus = s.Field("persistence", "aof_last_write_status")
	p.Patterns = s.NumPatterns
	p.MoreChannels = s.NumChannels - len(s.Channels)
	p.HasQueues, p.HasUnacked = s.Has[cmdQueues], s.Has[cmdUnacked]
	p.HasSchedule, p.HasLock, p.HasResults = s.Has[cmdSchedule], s.Has[cmdLock], s.Has[cmdResults]
	sort.SliceStable(s.Queues, func(i, j int) bool {
		a, b := s.Queues[i], s.Queues[j]
		return a.DB < b.DB || a.DB == b.DB && a.Name < b.Name
	})
	for _, q := range s.Queues {
		p.QueueMessages += q.Messages
		p.QueueUnacked += q.Unacked
	}
	sort.SliceStable(s.Schedule, func(i, j int) bool {
		a, b := s.Schedule[i], s.Schedule[j]
		if a.DB != b.DB {
			return a.DB < b.DB
		}
		if a.Prefix != b.Prefix {
			return a.Prefix < b.Prefix
		}
		return a.Name < b.Name
	})
}

// humanDuration renders seconds as "3d 4h", "2h 5m", "4m 10s", "12s" or
// "0.3s".
func humanDuration(sec float64) string {
	neg := sec < 0
	if neg {
		sec = -sec
	}
	var out string
	switch s := int64(sec); {
	case sec < 10 && sec != math.Trunc(sec):
		out = strconv.FormatFloat(sec, 'f', 1, 64) + "s"
	case s < 60:
		out = fmt.Sprintf("%ds", s)
	case s < 3600:
		out = fmt.Sprintf("%dm %ds", s/60, s%60)
	case s < 86400:
		out = fmt.Sprintf("%dh %dm", s/3600, s%3600/60)
	default:
		out = fmt.Sprintf("%dd %dh", s/86400, s%86400/3600)
	}
	if neg {
		return "-" + out
	}
	return out
}

// relative renders a Unix time as "in 4m 10s" or "12s ago".
func relative(now time.Time, unix float64) string {
	if unix <= 0 {
		return ""
	}
	d := unix - float64(now.UnixMilli())/1000
	if d >= 0 {
		return "in " + humanDuration(d)
	}
	return humanDuration(-d) + " ago"
}

// timestamp renders a Unix time in UTC.
func timestamp(unix float64) string {
	if unix <= 0 {
		return "—"
	}
	sec, frac := math.Modf(unix)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC().Format("2006-01-02 15:04:05Z")
}

// humanBytes renders a byte count as INFO's *_human fields do.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + "B"
	}
	d, i := float64(n), 0
	for d >= unit && i < 5 {
		d /= unit
		i++
	}
	return strconv.FormatFloat(d, 'f', 2, 64) + string("BKMGTP"[i])
}
