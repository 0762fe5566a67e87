package resp

import (
	"strings"
	"time"
)

// processCommand runs the checks of Redis's processCommand in its order,
// then queues the command (inside MULTI) or calls it. Called with the engine
// lock held and c.argv set.
func (c *Client) processCommand() {
	s := c.srv
	// A client that talks HTTP to us is an attack (cross-protocol
	// scripting): Redis logs it and drops the connection without a reply.
	if n := c.argv[0]; len(n) == 5 && strings.EqualFold(string(n), "host:") || len(n) == 4 && strings.EqualFold(string(n), "post") {
		s.log.Warn().Msg("Possible SECURITY ATTACK detected. It looks like somebody is sending POST or Host: commands to Redis. This is likely due to an attacker attempting to use Cross Protocol Scripting to compromise your Redis instance. Connection aborted.")
		c.flags |= flagCloseASAP
		return
	}
	cmd := s.table.lookupArgv(c.argv)
	// An unknown command leaves no last command: CLIENT LIST shows
	// cmd=NULL, as Redis sets lastcmd from the lookup before checking it.
	c.cmd, c.lastCmd = cmd, cmd
	if cmd == nil {
		if base := s.table.Lookup(c.argv[0]); base != nil && base.subIndex != nil {
			c.reject(nil, errUnknownSubcommand(c.argv[1], string(c.argv[0])))
		} else {
			c.reject(nil, errUnknownCommand(c.argv))
		}
		return
	}
	if (cmd.Arity > 0 && cmd.Arity != len(c.argv)) || len(c.argv) < -cmd.Arity {
		c.reject(cmd, errWrongArgs(cmd.fullName))
		return
	}
	if cmd.Flags&Protected != 0 && !c.allowProtected(cmd) {
		return
	}
	if c.authRequired() && cmd.Flags&NoAuth == 0 {
		c.reject(cmd, errNoAuth)
		return
	}
	if c.flags&flagMulti != 0 && cmd.Flags&NoMulti != 0 {
		c.reject(cmd, "ERR "+errNotInMulti)
		return
	}
	// The default user (+@all ~* &*) skips the ACL check: one test.
	if u := c.user; u != nil && !u.allowAll && c.aclDenies(cmd) {
		return
	}
	if s.cfg.MaxMemory != 0 && c.rejectOnOOM(cmd) {
		return
	}
	if s.tracking.clients > 0 {
		s.trackingLimitUsedSlots() // tracking-table-max-keys (tracking.go)
	}
	// Writes (and PING, as Redis does) are refused while the AOF cannot be
	// written (nothing may be acknowledged that is not in the file), and
	// after a failed background save under stop-writes-on-bgsave-error.
	if (s.rdb.denyWrites || s.aof != nil && !s.aof.Healthy()) && (cmd.Flags&Write != 0 || c.execWrites(cmd) || cmd.Name == "ping") {
		if msg := s.misconf(); msg != "" {
			c.reject(cmd, msg)
			return
		}
	}
	// RESP2 subscribers may only (un)subscribe, ping, quit and reset; RESP3
	// connections multiplex pushes and replies, so anything goes there.
	if c.flags&flagPubsub != 0 && c.proto == 2 && !allowedWhileSubscribed(cmd) {
		c.reject(cmd, "ERR Can't execute '"+cmd.fullName+"': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
		return
	}
	if s.loading && cmd.Flags&Loading == 0 {
		c.reject(cmd, errLoading)
		return
	}
	if s.busyClient != nil && cmd.Flags&AllowBusy == 0 {
		c.reject(cmd, errBusyScript)
		return
	}
	if !c.opsAllows(cmd) {
		return
	}
	if c.flags&flagMulti != 0 && queuesInMulti(cmd) {
		c.queueMultiCommand(cmd)
		return
	}
	c.call(cmd)
	if len(s.readyKeys) > 0 {
		s.handleClientsBlockedOnKeys()
	}
}

// execWrites reports whether cmd is an EXEC whose queue holds a write
// command (Redis counts such an EXEC as a write).
func (c *Client) execWrites(cmd *Command) bool {
	if cmd.Name != "exec" || cmd.parent != nil {
		return false
	}
	for _, q := range c.mstate.commands {
		if q.cmd.Flags&Write != 0 {
			return true
		}
	}
	return false
}

// allowedWhileSubscribed lists the commands a RESP2 client in subscribed
// mode may send.
func allowedWhileSubscribed(cmd *Command) bool {
	if cmd.parent != nil {
		return false
	}
	switch cmd.Name {
	case "ping", "subscribe", "ssubscribe", "unsubscribe", "sunsubscribe", "psubscribe", "punsubscribe", "quit", "reset":
		return true
	}
	return false
}

// reject answers a command refused before it ran: the rejection is counted
// against the command and, inside MULTI, dooms the transaction.
func (c *Client) reject(cmd *Command, msg string) {
	if c.flags&flagMulti != 0 {
		c.flags |= flagDirtyExec
	}
	if cmd != nil {
		cmd.stats.rejected++
	}
	if cmd != nil && cmd.parent == nil && cmd.Name == "exec" {
		// A rejected EXEC (wrong arity, NOAUTH...) aborts the transaction,
		// in or out of MULTI, as Redis's execCommandAbort does.
		c.execAbort(msg)
		return
	}
	c.Error(msg)
}

// call runs one command as a unit: fixed time, the handler, statistics.
//
// Reading the clock is not free (on some virtual machines clock_gettime is
// a real system call, and at -P 16 it was a fifth of the server's CPU), so
// commands are timed per batch: the reactor reads the clock once after a
// client's batch and settleBatch shares the elapsed time among the
// commands it ran. A batch of one command (every non-pipelining client) is
// timed exactly. The slow log needs some commands timed on their own
// (slowlog.go says which); those are left out of the batch's share.
func (c *Client) call(cmd *Command) {
	s := c.srv
	if c.flags&flagLoading != 0 {
		// The AOF loader: no statistics, no propagation (Redis calls the
		// command's function directly).
		cmd.Run(c)
		return
	}
	errsBefore := s.stats.errorReplies
	s.ks.SetUnitTime(s.unitMs)
	p := &s.prop
	top := p.depth == 0
	alone := s.timesAlone(cmd)
	var start time.Time
	if alone {
		start = s.timedStart(top)
	}
	savedRedacted := c.redacted
	c.redacted = nil
	if cmd.Flags&SkipMonitor != 0 && len(s.monitors) > 0 {
		s.feedMonitors(c) // scripts show before the commands they run
	}
	p.depth++
	dirty := s.dirty
	savedArgv, savedNo, savedForce := c.propArgv, c.noProp, c.forceProp
	c.propArgv, c.noProp, c.forceProp = nil, false, false
	cmd.Run(c)
	if s.tracking.clients > 0 {
		s.trackingAfterCall(c, cmd)
	}
	if p.on && (s.dirty != dirty || c.forceProp) && !c.noProp && c.propagates() {
		argv := c.propArgv
		if argv == nil {
			argv = c.argv
		}
		s.alsoPropagate(c.db.ID(), argv...)
	}
	if len(s.ext.written) > 0 && s.dirty != dirty {
		s.notifyWritten(c, cmd)
	}
	c.propArgv, c.noProp, c.forceProp = savedArgv, savedNo, savedForce
	if p.depth--; p.depth == 0 && p.n > 0 {
		s.flushPropagation()
	}
	cmd.stats.calls++
	// ">" rather than "!=": CONFIG RESETSTAT zeroes the counter and must
	// not count itself as failed (Redis compares the same way). Errors of
	// commands EXEC ran were counted against them, not against EXEC.
	if s.stats.errorReplies-c.takeExecErrors() > errsBefore {
		cmd.stats.failed++
	}
	s.stats.commands++
	if alone {
		s.endTimed(c, cmd, start, top)
	} else {
		s.batch = append(s.batch, cmd)
		if top {
			s.noteBatched(c)
		}
	}
	if len(s.monitors) > 0 && cmd.Flags&(SkipMonitor|Admin) == 0 {
		s.feedMonitors(c)
	}
	c.redacted = savedRedacted
}

// settleBatch attributes the time since the batch started to the commands
// it ran and starts the next batch. Called with the engine lock.
func (s *Server) settleBatch() {
	if len(s.batch) == 0 {
		return
	}
	end := time.Now()
	per := max(end.Sub(s.unitStart).Nanoseconds()-s.batchTimedNs, 0) / int64(len(s.batch))
	s.batchTimedNs = 0
	s.slowlogBatched(per, end)
	for _, cmd := range s.batch {
		cmd.stats.nsec += per
		s.recordLatency(cmd, per)
	}
	if t := s.cfg.LatencyMonitorThreshold; t > 0 && per >= int64(t)*int64(time.Millisecond) {
		for _, cmd := range s.batch {
			s.latencyAddSampleIfNeeded(commandLatencyEvent(cmd), time.Duration(per))
		}
	}
	s.batch = s.batch[:0]
	s.unitStart = end
	s.unitMs = s.unitTime(end)
}
