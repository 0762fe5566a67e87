package resp

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/celerity/celerity/keyspace"
	"github.com/celerity/celerity/resp/conffile"
)

// Memory limits (maxmemory) as Redis 7.0's evict.c enforces them.
//
// What counts: Redis compares zmalloc_used_memory() minus the replica and
// AOF buffers with maxmemory, so client query and output buffers count and
// a subscriber that stops reading can get keys evicted (ops-surface.md
// §7.3). Celerity counts the dataset only: the startup baseline INFO
// reports as used_memory_startup plus what the keyspace accounts to keys
// and values (keyspace/memory.go models Redis's allocations, so the same
// dataset reaches the limit at about the same point). Client memory is a
// budget of its own (clientevict.go: client-output-buffer-limit and
// maxmemory-clients) and never causes a key to be evicted; INFO shows it
// in mem_clients_normal and mem_not_counted_for_evict. The baseline is
// included so a limit behaves as on Redis for the same dataset (maxmemory
// 1 refuses every write even on an empty server, as Redis does).
//
// When: before every command while maxmemory is set (processCommand), and
// from the cron to finish work cut short by the tenacity time limit.
// Evicting a key deletes it through the keyspace's normal delete path (an
// open AOF-rewrite snapshot saves it first), counts evicted_keys, touches
// its WATCHers and propagates DEL key as a unit of its own, as Redis's
// propagateDeletion does outside a command.

// evictionUsedMemory is the memory compared with maxmemory. Engine lock.
func (s *Server) evictionUsedMemory() int64 {
	return usedMemoryStartup + s.ks.Memory()
}

// evictionTimeLimit is evictionTimeLimitUs: how long one call may evict,
// from maxmemory-eviction-tenacity (0..10 linear up to 500µs, then a 15%
// geometric progression, 100 unlimited).
func evictionTimeLimit(tenacity int) time.Duration {
	switch {
	case tenacity <= 10:
		return time.Duration(50*tenacity) * time.Microsecond
	case tenacity < 100:
		return time.Duration(500*math.Pow(1.15, float64(tenacity-10))) * time.Microsecond
	}
	return time.Duration(math.MaxInt64)
}

// Results of performEvictions, as Redis names them.
const (
	evictOK      = iota // under the limit (or no limit)
	evictRunning        // over the limit, time ran out: the cron goes on
	evictFail           // over the limit and nothing left to evict
)

// performEvictions evicts keys until memory is under maxmemory, the policy
// has no candidate left (evictFail) or the tenacity time limit is reached
// (evictRunning, and the cron continues). Engine lock; not inside a unit's
// call, so each eviction's DEL is written on its own.
func (s *Server) performEvictions() int {
	r := s.evict()
	// Time spent over the limit (INFO's *_eviction_exceeded_time).
	if r == evictOK {
		if !s.stats.overLimitSince.IsZero() {
			s.stats.overLimitTotal += time.Since(s.stats.overLimitSince)
			s.stats.overLimitSince = time.Time{}
		}
	} else if s.stats.overLimitSince.IsZero() {
		s.stats.overLimitSince = time.Now()
	}
	return r
}

// overLimitTimes returns INFO's total_ and current_eviction_exceeded_time
// in milliseconds.
func (s *Server) overLimitTimes() (total, current int64) {
	var cur time.Duration
	if !s.stats.overLimitSince.IsZero() {
		cur = time.Since(s.stats.overLimitSince)
	}
	return (s.stats.overLimitTotal + cur).Milliseconds(), cur.Milliseconds()
}

func (s *Server) evict() int {
	limit := s.cfg.MaxMemory
	if limit == 0 || s.loading || s.busyClient != nil || s.pausedDataset() {
		return evictOK // a pause keeps the dataset static (pause.go)
	}
	if s.evictionUsedMemory() <= limit {
		s.evictPending = false
		return evictOK
	}
	if s.cfg.MaxMemoryPolicy == keyspace.NoEviction {
		return evictFail
	}
	prev := s.ks.UnitTime()
	s.ks.SetUnitTime(s.unitMs)
	defer s.ks.SetUnitTime(prev)
	start := time.Now()
	defer func() { s.latencyAddSampleIfNeeded("eviction-cycle", time.Since(start)) }()
	budget := evictionTimeLimit(s.cfg.EvictionTenacity)
	for freed := 1; s.evictionUsedMemory() > limit; freed++ {
		db, key, ok := s.ks.EvictOne()
		if !ok {
			s.evictPending = false
			return evictFail
		}
		s.keyEvicted(db.ID(), key)
		// Reading the clock every key would cost more than evicting.
		if freed%16 == 0 && time.Since(start) > budget {
			s.evictPending = true
			return evictRunning
		}
	}
	s.evictPending = false
	return evictOK
}

// keyEvicted propagates an evicted key's deletion and signals it modified
// (WATCH), as Redis's performEvictions does for each key (which, like an
// expiry, does not count as a change for rdb_changes_since_last_save).
func (s *Server) keyEvicted(db int, key string) {
	s.alsoPropagate(db, argDEL, []byte(key))
	if len(s.watching) > 0 {
		s.touchWatchedKey(db, key)
	}
	if s.tracking.active() {
		s.trackingInvalidateKey(nil, key)
	}
}

// rejectOnOOM runs the OOM step of processCommand and reports whether it
// answered the command with -OOM. Redis 7.0 rejects denyoom commands (and
// an EXEC whose queue holds one) when eviction cannot make room, and,
// inside MULTI, every command but EXEC, DISCARD, QUIT and RESET, since
// queueing itself takes memory. EVAL records whether memory was over the
// limit when it started: its script may then not run a denyoom command
// before it has written anything (scriptVerifyOOM).
func (c *Client) rejectOnOOM(cmd *Command) bool {
	s := c.srv
	if s.cfg.MaxMemory == 0 || s.busyClient != nil {
		return false
	}
	oom := s.performEvictions() == evictFail
	reject := cmd.Flags&DenyOOM != 0 || c.execDenyOOM(cmd) || oom && c.scriptDeniesOOM(cmd)
	if c.flags&flagMulti != 0 && !(cmd.parent == nil && (cmd.Name == "exec" || cmd.Name == "discard" || cmd.Name == "quit" || cmd.Name == "reset")) {
		reject = true
	}
	if oom && s.cfg.MaxMemoryPolicy == keyspace.BrokerSafe {
		if ok, msg := c.brokerSafeAllows(cmd); !ok {
			c.reject(cmd, msg)
			return true
		}
		reject = false
	}
	if oom && reject {
		c.reject(cmd, errOOM)
		return true
	}
	if isEval(cmd) {
		s.scriptOOM = oom
	}
	return false
}

// execDenyOOM reports whether cmd is an EXEC whose queue holds a denyoom
// command (Redis's mstate.cmd_flags & CMD_DENYOOM).
func (c *Client) execDenyOOM(cmd *Command) bool {
	if cmd.Name != "exec" || cmd.parent != nil {
		return false
	}
	for _, q := range c.mstate.commands {
		if q.cmd.Flags&DenyOOM != 0 {
			return true
		}
	}
	return false
}

func isEval(cmd *Command) bool {
	if cmd.parent != nil {
		return false
	}
	switch cmd.Name {
	case "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro":
		return true
	}
	return false
}

// scriptDeniesOOM reports whether cmd runs a script whose shebang makes
// it denyoom: a script declaring flags is denyoom unless it declares
// allow-oom or no-writes (scriptFlagsToCmdFlags); one without keeps
// EVAL's flags, and its commands are checked as it runs. Only asked when
// memory is over the limit.
func (c *Client) scriptDeniesOOM(cmd *Command) bool {
	if !isEval(cmd) || len(c.argv) < 2 {
		return false
	}
	switch cmd.Name {
	case "eval", "eval_ro":
		flagged, allow := shebangAllowsOOM(c.argv[1])
		return flagged && !allow
	case "evalsha", "evalsha_ro":
		if sc := c.srv.scriptEngine().lookupSHA(c.argv[1]); sc != nil {
			return sc.flagged && !sc.allowOOM && !sc.readOnly
		}
	}
	return false
}

// shebangAllowsOOM reads a script's "#!lua flags=..." line: whether it
// has one, and whether its flags let it run past maxmemory (allow-oom, or
// no-writes, which implies it).
func shebangAllowsOOM(body []byte) (flagged, allow bool) {
	_, readOnly, msg := parseShebang(body)
	if msg != "" || len(body) < 2 || body[0] != '#' || body[1] != '!' {
		return false, false
	}
	line := body
	if nl := strings.IndexByte(string(body), '\n'); nl >= 0 {
		line = body[:nl]
	}
	for _, p := range strings.Fields(string(line))[1:] {
		flags, _ := strings.CutPrefix(p, "flags=")
		for _, f := range strings.Split(flags, ",") {
			if f == "allow-oom" {
				allow = true
			}
		}
	}
	return true, allow || readOnly
}

// evictionCron finishes an eviction the tenacity limit cut short (Redis's
// evictionTimeProc). Engine lock.
func (s *Server) evictionCron() {
	if s.evictPending {
		s.performEvictions()
	}
}

// applyEviction hands the eviction directives to the keyspace. Engine lock
// (or before the server runs).
func (s *Server) applyEviction() {
	// The classifier first: entering broker-safe classes every key.
	if !s.ks.HasClassifier() {
		s.ks.SetClassifier(s.brokerKeyClass)
	}
	s.ks.SetEviction(keyspace.Eviction{
		Policy:       s.cfg.MaxMemoryPolicy,
		Samples:      s.cfg.MaxMemorySamples,
		LFULogFactor: s.cfg.LFULogFactor,
		LFUDecayTime: s.cfg.LFUDecayTime,
		Limited:      s.cfg.MaxMemory != 0,
	})
}

// maxMemoryClientsParam is maxmemory-clients: a memory value or a
// percentage of maxmemory, stored negative as Redis stores it; client
// eviction applies it (clientevict.go).
func maxMemoryClientsParam() *configParam {
	return &configParam{
		name: "maxmemory-clients",
		get: func(cfg *Config) string {
			if v := cfg.MaxMemoryClients; v < 0 {
				return strconv.FormatInt(-v, 10) + "%"
			}
			return strconv.FormatInt(cfg.MaxMemoryClients, 10)
		},
		set: func(cfg *Config, args []string) error {
			a := args[0]
			if v, err := conffile.ParseMemory(a); err == nil {
				cfg.MaxMemoryClients = v
				return nil
			}
			if pct, ok := strings.CutSuffix(a, "%"); ok && pct != "" {
				if v, ok := parseConfigInt(pct); ok && v >= 0 {
					if v > 100 {
						return configErr("percentage argument must be less or equal to 100")
					}
					cfg.MaxMemoryClients = -v
					return nil
				}
			}
			return configErr("argument must be a memory or percent value")
		},
	}
}
