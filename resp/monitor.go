package resp

import (
	"slices"
	"strconv"
	"time"

	"github.com/celerity/celerity/resp/conffile"
)

// MONITOR (Redis's replicationFeedMonitors): every command a client runs
// is shown to the monitoring clients as a status line
//
//	+1700000000.123456 [0 127.0.0.1:5555] "SET" "k" "v"
//
// after it ran (so SELECT shows the new database), with the arguments
// quoted as sdscatrepr quotes them. Commands flagged admin (CONFIG, CLIENT
// LIST, SLOWLOG, DEBUG...) are never shown; those flagged skip_monitor
// (EVAL and friends) are shown before they run, so a script appears ahead
// of the commands it calls, which show as "[0 lua]". Passwords that AUTH
// and HELLO redacted show as "(redacted)".
//
// A monitoring client is, for Redis, a replica: it may not touch the
// keyspace (processCommand refuses it) but may still run other commands,
// and sees its own.

func monitorCommands() []*Command {
	return []*Command{
		{Name: "monitor", Arity: 1, Flags: Admin | NoScript | Loading | Stale, Run: monitorCommand},
	}
}

func monitorCommand(c *Client) {
	if c.flags&flagInExec != 0 {
		// A transaction expects one reply per command; MONITOR would keep
		// sending (Redis's CLIENT_DENY_BLOCKING check).
		c.Error("ERR MONITOR isn't allowed for DENY BLOCKING client")
		return
	}
	if c.flags&flagMonitor != 0 {
		return // already monitoring: Redis ignores it, without a reply
	}
	c.flags |= flagMonitor
	c.srv.monitors = append(c.srv.monitors, c)
	c.OK()
}

// stopMonitor takes c off the monitor list (RESET, disconnect). Called with
// the engine lock.
func (c *Client) stopMonitor() {
	if c.flags&flagMonitor == 0 {
		return
	}
	c.flags &^= flagMonitor
	s := c.srv
	if i := slices.Index(s.monitors, c); i >= 0 {
		s.monitors = slices.Delete(s.monitors, i, i+1)
	}
}

// feedMonitors shows c's current command to every monitoring client.
// Called with the engine lock, only when there are monitors.
func (s *Server) feedMonitors(c *Client) {
	now := time.Now()
	line := make([]byte, 0, 64)
	line = append(line, '+')
	line = strconv.AppendInt(line, now.Unix(), 10)
	line = append(line, '.')
	usec := now.Nanosecond() / 1000
	for d := 100000; d > 1 && usec < d; d /= 10 {
		line = append(line, '0')
	}
	line = strconv.AppendInt(line, int64(usec), 10)
	line = append(line, " ["...)
	line = strconv.AppendInt(line, int64(c.db.ID()), 10)
	line = append(line, ' ')
	if c.flags&flagScript != 0 {
		line = append(line, "lua"...)
	} else if c.flags&flagUnixSocket != 0 {
		line = append(line, "unix:"...) // Redis: "[0 unix:/path/to.sock]"
		line = append(line, c.srv.cfg.UnixSocket...)
	} else {
		line = append(line, c.addr...)
	}
	line = append(line, "] "...)
	for j, a := range c.displayArgv() {
		if j > 0 {
			line = append(line, ' ')
		}
		line = conffile.AppendQuote(line, a) // sdscatrepr
	}
	line = append(line, '\r', '\n')
	for _, m := range s.monitors {
		if m.flags&(flagCloseASAP|flagCloseAfterReply|flagReplyOff) != 0 {
			continue // CLIENT REPLY OFF silences monitor lines too
		}
		m.buf = append(m.buf, line...)
		if lim := s.cfg.ClientOutputBufferLimits[obufNormal]; lim.Hard != 0 && uint64(m.OutputPending()) >= lim.Hard {
			// A monitor is a normal client for the limits (Redis 7.0):
			// one that does not read is closed at the hard limit rather
			// than left to grow (the soft limit is not applied).
			s.log.Warn().Msg("Client " + m.infoLine(now.UnixMilli()) +
				" scheduled to be closed ASAP for overcoming of output buffer limits.")
			m.kill()
			continue
		}
		if m != c {
			s.wake(m)
		}
	}
}
