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
	c.cmd = cmd
	if cmd == nil {
		if base := s.table.Lookup(c.argv[0]); base != nil && base.subIndex != nil {
			c.reject(nil, errUnknownSubcommand(c.argv[1], string(c.argv[0])))
		} else {
			c.reject(nil, errUnknownCommand(c.argv))
		}
		return
	}
	c.lastCmd = cmd
	if (cmd.Arity > 0 && cmd.Arity != len(c.argv)) || len(c.argv) < -cmd.Arity {
		c.reject(cmd, errWrongArgs(cmd.fullName))
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
	c.call(cmd)
	if len(s.readyKeys) > 0 {
		s.handleClientsBlockedOnKeys()
	}
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
	c.Error(msg)
}

// call runs one command as a unit: fixed time, the handler, statistics.
//
// Reading the clock is not free (on some virtual machines clock_gettime is
// a real system call), so a command reads it once, when it ends: that
// reading is both the end of its own duration and the start of the next
// command of the same batch (see Server.unitClock).
func (c *Client) call(cmd *Command) {
	s := c.srv
	errsBefore := s.stats.errorReplies
	start := s.unitStart
	s.ks.SetUnitTime(start.UnixMilli())
	cmd.Run(c)
	end := time.Now()
	s.unitStart = end
	cmd.stats.calls++
	cmd.stats.usec += end.Sub(start).Microseconds()
	if s.stats.errorReplies != errsBefore {
		cmd.stats.failed++
	}
	s.stats.commands++
}
