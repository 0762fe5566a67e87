package resp

import (
	"strconv"
	"time"
)

// The slow log (Redis's slowlog.c): the latest slowlog-max-len commands
// that ran for at least slowlog-log-slower-than microseconds, with their
// arguments trimmed as Redis trims them.
//
// Timing. call() normally times commands per batch (see its comment), which
// cannot say which command of a pipeline was the slow one. So when the slow
// log is on, some commands are timed on their own:
//
//   - at a fine threshold (below slowlogExactBelow) every command is, so
//     the log is exact for an operator who asked for sub-millisecond
//     entries;
//   - at a coarse threshold (the default 10 ms) only commands not flagged
//     fast are: the O(1) fast commands are what a Celery pipeline is made
//     of, and they do not run for milliseconds. A fast command alone in
//     its batch (a client that does not pipeline) is still timed exactly,
//     by the batch, and logged from there (slowlogBatched); fast commands
//     sharing a batch are not logged. A non-pipelining client pays nothing
//     either way: its batch is one command, whose start is the batch's.
//
// Like Redis, a command that blocks is not logged when it blocks but when
// another client's push serves it (never when it times out), EXEC is
// not logged (skip_slowlog) but the commands it ran are, one by one, and
// commands run by scripts are logged with the peer "?:0".
type slowlog struct {
	entries []slowlogEntry // oldest first
	nextID  int64
}

type slowlogEntry struct {
	id       int64
	time     int64 // Unix seconds
	duration int64 // microseconds
	argv     [][]byte
	peer     string
	name     string
}

const (
	slowlogExactBelow = 1000 // µs: below this threshold every command is timed alone
	slowlogMaxArgc    = 32   // SLOWLOG_ENTRY_MAX_ARGC
	slowlogMaxString  = 128  // SLOWLOG_ENTRY_MAX_STRING
	redactedArg       = "(redacted)"
)

func slowlogCommands() []*Command {
	const f = Admin | Loading | Stale
	return []*Command{
		{Name: "slowlog", Arity: -2, Sub: []*Command{
			{Name: "get", Arity: -2, Flags: f, Run: slowlogGetCommand},
			{Name: "len", Arity: 2, Flags: f, Run: slowlogLenCommand},
			{Name: "reset", Arity: 2, Flags: f, Run: slowlogResetCommand},
			{Name: "help", Arity: 2, Flags: Loading | Stale, Run: slowlogHelpCommand},
		}},
	}
}

// timesAlone reports whether call() must time cmd on its own (see the
// comment at the top of this file).
func (s *Server) timesAlone(cmd *Command) bool {
	t := s.cfg.SlowlogLogSlowerThan
	if t >= 0 && (t < slowlogExactBelow || cmd.Flags&Fast == 0) {
		return true
	}
	// The latency monitor needs the same of non-fast commands.
	return s.cfg.LatencyMonitorThreshold > 0 && cmd.Flags&Fast == 0
}

// timedStart returns the start time of a command timed alone. A top-level
// command that opens its batch starts when the batch did: no clock read.
func (s *Server) timedStart(top bool) time.Time {
	// The batch's note is stale from here: parsing this command reused
	// the argument slices it points to, and a long script may settle the
	// batch from a nested reactor iteration (busy.go) before it ends.
	s.lastBatched = batchedCmd{}
	if top && len(s.batch) == 0 {
		return s.unitStart
	}
	return time.Now()
}

// endTimed accounts a command timed alone: statistics, the slow log, and
// the batch clock (a top-level command's time is not shared again among
// the batch's other commands). Called with the engine lock.
func (s *Server) endTimed(c *Client, cmd *Command, start time.Time, top bool) {
	end := time.Now()
	ns := max(end.Sub(start).Nanoseconds(), 0)
	cmd.stats.nsec += ns
	s.recordLatency(cmd, ns)
	if s.cfg.LatencyMonitorThreshold > 0 {
		s.latencyAddSampleIfNeeded(commandLatencyEvent(cmd), time.Duration(ns))
	}
	if top {
		if len(s.batch) == 0 {
			s.unitStart = end
			s.unitMs = s.unitTime(end)
		} else {
			s.batchTimedNs += ns
		}
	}
	if c.flags&flagBlocked == 0 && cmd.Flags&SkipSlowlog == 0 {
		s.slowlogPush(c, ns/1000, end)
	}
}

// batchedCmd remembers the last top-level command timed per batch, so a
// batch of one can be logged when it ends: the client, and its arguments
// as they were (they alias the read buffer, which does not move before
// the batch is settled) with their redactions.
type batchedCmd struct {
	c        *Client
	argv     [][]byte
	redacted []int
}

// noteBatched records c's command as the last one timed per batch. Two
// stores: this runs for every command of the hot path.
func (s *Server) noteBatched(c *Client) {
	s.lastBatched = batchedCmd{c, c.argv, c.redacted}
}

// slowlogBatched logs the command of a batch of one that ran long; per is
// its duration in ns. Called by settleBatch.
func (s *Server) slowlogBatched(per int64, end time.Time) {
	b := s.lastBatched
	s.lastBatched = batchedCmd{}
	t := int64(s.cfg.SlowlogLogSlowerThan)
	if len(s.batch) != 1 || t < 0 || per/1000 < t || b.c == nil ||
		b.c.flags&flagBlocked != 0 || s.batch[0].Flags&SkipSlowlog != 0 {
		return
	}
	c := b.c
	savedArgv, savedRedacted := c.argv, c.redacted
	c.argv, c.redacted = b.argv, b.redacted
	s.slowlogPush(c, per/1000, end)
	c.argv, c.redacted = savedArgv, savedRedacted
}

// slowlogServed logs a blocking command served by another client's push,
// as Redis does when it unblocks a client; the duration is the serving's.
func (s *Server) slowlogServed(w *Client, start time.Time) {
	end := time.Now()
	savedArgv, savedRedacted := w.argv, w.redacted
	w.argv, w.redacted = w.bstate.argv, nil
	s.slowlogPush(w, end.Sub(start).Nanoseconds()/1000, end)
	w.argv, w.redacted = savedArgv, savedRedacted
}

// slowlogPush logs c's command if it ran for at least the threshold.
func (s *Server) slowlogPush(c *Client, us int64, now time.Time) {
	t := int64(s.cfg.SlowlogLogSlowerThan)
	if t < 0 || us < t {
		return
	}
	argv := c.displayArgv()
	n := min(len(argv), slowlogMaxArgc)
	e := slowlogEntry{id: s.slowlog.nextID, time: now.Unix(), duration: us, argv: make([][]byte, n), name: c.name}
	s.slowlog.nextID++
	for j := 0; j < n; j++ {
		a := argv[j]
		switch {
		case n != len(argv) && j == n-1:
			// The last slot says how many arguments were left out.
			a = []byte("... (" + strconv.Itoa(len(argv)-n+1) + " more arguments)")
		case len(a) > slowlogMaxString:
			a = append(append([]byte(nil), a[:slowlogMaxString]...), "... ("+strconv.Itoa(len(a)-slowlogMaxString)+" more bytes)"...)
		default:
			a = append([]byte(nil), a...)
		}
		e.argv[j] = a
	}
	e.peer = c.addr
	if c.flags&(flagScript|flagLoading) != 0 {
		e.peer = "?:0" // a fake client has no socket
	}
	s.slowlog.entries = append(s.slowlog.entries, e)
	s.slowlogTrim()
}

// slowlogTrim drops the oldest entries beyond slowlog-max-len.
func (s *Server) slowlogTrim() {
	l := &s.slowlog
	if over := len(l.entries) - s.cfg.SlowlogMaxLen; over > 0 {
		l.entries = append(l.entries[:0], l.entries[over:]...)
	}
}

// displayArgv returns the command's arguments as the slow log and MONITOR
// show them: arguments a handler redacted (passwords) read "(redacted)".
func (c *Client) displayArgv() [][]byte {
	if len(c.redacted) == 0 {
		return c.argv
	}
	argv := append([][]byte(nil), c.argv...)
	for _, i := range c.redacted {
		if i < len(argv) {
			argv[i] = []byte(redactedArg)
		}
	}
	return argv
}

// redactArg hides argument i of the running command from the slow log and
// MONITOR (Redis's redactClientCommandArgument).
func (c *Client) redactArg(i int) { c.redacted = append(c.redacted, i) }

func slowlogGetCommand(c *Client) {
	if len(c.argv) > 3 {
		c.Error(errSubcommandSyntax(c.argv))
		return
	}
	s := c.srv
	count := int64(10)
	if len(c.argv) == 3 {
		v, ok := c.intArgRange(2, -1, 1<<63-1, "ERR count should be greater than or equal to -1")
		if !ok {
			return
		}
		count = v
	}
	entries := s.slowlog.entries
	n := int64(len(entries))
	if count >= 0 && count < n {
		n = count
	}
	c.Array(int(n))
	for i := int64(0); i < n; i++ {
		e := &entries[len(entries)-1-int(i)]
		c.Array(6)
		c.Int(e.id)
		c.Int(e.time)
		c.Int(e.duration)
		c.Array(len(e.argv))
		for _, a := range e.argv {
			c.Bulk(a)
		}
		c.BulkString(e.peer)
		c.BulkString(e.name)
	}
}

func slowlogLenCommand(c *Client) { c.Int(int64(len(c.srv.slowlog.entries))) }

func slowlogResetCommand(c *Client) {
	c.srv.slowlog.entries = nil
	c.OK()
}

func slowlogHelpCommand(c *Client) {
	c.replyHelp([]string{
		"GET [<count>]",
		"    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
		"    Entries are made of:",
		"    id, timestamp, time in microseconds, arguments array, client IP and port,",
		"    client name",
		"LEN",
		"    Return the length of the slowlog.",
		"RESET",
		"    Reset the slowlog.",
	})
}
