package resp

import (
	"slices"
	"time"
)

// CLIENT PAUSE / UNPAUSE (Redis 7.0's pauseClients): while a pause lasts,
// commands of every client (ALL) or only those that may write (WRITE:
// write and may-replicate commands, EXEC of a transaction holding one) are
// held back, in order, until the pause ends. Monitors, which Redis counts
// as replicas, are never paused.
//
// A held client is postponed: its parser is rewound to the start of the
// held command, so the command is parsed and checked again when the pause
// ends (its bytes stay in the read buffer, nothing is copied), and the
// client's reactor leaves it alone until then, since no new readiness is
// reported for bytes already read. Ending the pause wakes the held clients.
//
// A held client shows as blocked (CLIENT LIST flag b, INFO
// blocked_clients), as in Redis. While any pause lasts (WRITE or ALL) the
// dataset stays static, as Redis 7.0 keeps it for a failover: the cron's
// active expiry and the evictor do nothing, and an expired key reads as
// absent but is neither deleted nor counted in expired_keys until the
// pause ends (keyspace.SetExpiryPaused).
type clientPause struct {
	all       bool      // ALL rather than WRITE
	end       time.Time // zero when no pause is in effect
	timer     *time.Timer
	postponed []*Client
}

func (p *clientPause) active() bool { return !p.end.IsZero() }

// pausedFor reports whether cmd must wait for the pause to end, ending the
// pause first if its time has passed. Called with the engine lock.
func (c *Client) pausedFor(cmd *Command) bool {
	s := c.srv
	p := &s.pause
	if !p.active() || c.flags&(flagMonitor|flagScript|flagLoading) != 0 {
		return false
	}
	if !time.Now().Before(p.end) {
		s.unpauseClients()
		return false
	}
	return p.all || c.mayReplicate(cmd)
}

// mayReplicate is Redis's is_may_replicate_command: the command, or the
// transaction an EXEC would run, may write.
func (c *Client) mayReplicate(cmd *Command) bool {
	const w = Write | MayReplicate
	if cmd.Flags&w != 0 {
		return true
	}
	if cmd.Name != "exec" || cmd.parent != nil {
		return false
	}
	for _, q := range c.mstate.commands {
		if q.cmd.Flags&w != 0 {
			return true
		}
	}
	return false
}

// touchesKeyspace is the check Redis makes of a replica's (here: a
// monitor's) commands: reads, writes and may-replicate commands.
func (c *Client) touchesKeyspace(cmd *Command) bool {
	if cmd.Flags&Readonly != 0 || c.mayReplicate(cmd) {
		return true
	}
	if cmd.Name != "exec" || cmd.parent != nil {
		return false
	}
	for _, q := range c.mstate.commands {
		if q.cmd.Flags&Readonly != 0 {
			return true
		}
	}
	return false
}

// opsAllows runs the checks Redis's processCommand makes after the busy
// script check: a monitor may not touch the keyspace, and a pause holds
// commands back. It reports false when the command must not run now.
func (c *Client) opsAllows(cmd *Command) bool {
	if c.flags&flagMonitor != 0 && c.touchesKeyspace(cmd) {
		c.reject(cmd, "ERR Replica can't interact with the keyspace")
		return false
	}
	if c.pausedFor(cmd) {
		c.postpone()
		return false
	}
	return true
}

// postpone holds the client's current command until the pause ends.
func (c *Client) postpone() {
	if c.flags&flagPostponed != 0 {
		return // held already, and seen again because more input came
	}
	c.flags |= flagPostponed
	s := c.srv
	s.pause.postponed = append(s.pause.postponed, c)
	s.stats.blockedClients++ // Redis counts held clients as blocked
}

// pauseClients starts or extends a pause: a pause never becomes shorter or
// less strict than the one in effect, as in Redis.
func (s *Server) pauseClients(end time.Time, all bool) {
	p := &s.pause
	if !p.active() {
		p.all = all
		s.ks.SetExpiryPaused(true)
	} else {
		p.all = p.all || all
	}
	if end.After(p.end) {
		p.end = end
		if p.timer != nil {
			p.timer.Stop()
		}
		p.timer = time.AfterFunc(time.Until(end), s.pauseTimeout)
	}
}

// pauseTimeout ends a pause whose time has come.
func (s *Server) pauseTimeout() {
	s.lock()
	defer s.mu.Unlock()
	if s.pause.active() && !time.Now().Before(s.pause.end) {
		s.unpauseClients()
	}
}

// unpauseClients ends the pause and lets the held clients run their
// commands. Called with the engine lock.
func (s *Server) unpauseClients() {
	p := &s.pause
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	p.end, p.all = time.Time{}, false
	s.ks.SetExpiryPaused(false)
	held := p.postponed
	p.postponed = nil
	for _, c := range held {
		c.flags &^= flagPostponed
		s.stats.blockedClients--
		s.wake(c)
	}
}

// removePostponed forgets a held client that disconnected.
func (s *Server) removePostponed(c *Client) {
	if i := slices.Index(s.pause.postponed, c); i >= 0 {
		s.pause.postponed = slices.Delete(s.pause.postponed, i, i+1)
		c.flags &^= flagPostponed
		s.stats.blockedClients--
	}
}

func clientPauseCommand(c *Client) {
	if len(c.argv) > 4 {
		c.Error(errSubcommandSyntax(c.argv))
		return
	}
	all := true
	if len(c.argv) == 4 {
		switch {
		case optIs(c.argv[3], "write"):
			all = false
		case optIs(c.argv[3], "all"):
		default:
			c.Error("ERR CLIENT PAUSE mode must be WRITE or ALL")
			return
		}
	}
	ms, ok := parseStrictInt(c.argv[2])
	switch {
	case !ok:
		c.Error("ERR timeout is not an integer or out of range")
		return
	case ms < 0:
		c.Error("ERR timeout is negative")
		return
	}
	c.srv.pauseClients(time.Now().Add(time.Duration(min(ms, int64(1<<62)/int64(time.Millisecond)))*time.Millisecond), all)
	c.OK()
}

func clientUnpauseCommand(c *Client) {
	c.srv.unpauseClients()
	c.OK()
}

// pausedDataset reports whether a pause keeps the dataset static now,
// ending a pause whose time has passed. Called with the engine lock.
func (s *Server) pausedDataset() bool {
	p := &s.pause
	if p.active() && !time.Now().Before(p.end) {
		s.unpauseClients()
	}
	return p.active()
}
