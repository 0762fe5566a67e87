package resp

import "time"

// Operator commands that need no state of their own: LASTSAVE, ROLE, the
// DEBUG gate, CLIENT REPLY and CLIENT NO-EVICT.

func adminCommands() []*Command {
	return []*Command{
		{Name: "role", Arity: 1, Flags: NoScript | Loading | Stale | Fast, ACL: CatAdmin | CatDangerous, Run: roleCommand},
		// DEBUG answers as Redis 7.0 does with the default
		// enable-debug-command no; enabled, it implements only SLEEP.
		{Name: "debug", Arity: -2, Flags: Admin | NoScript | Loading | Stale | Protected, Run: debugCommand},
	}
}

// roleCommand answers as a master without replicas: Celerity does not
// replicate.
func roleCommand(c *Client) {
	c.Array(3)
	c.BulkString("master")
	c.Int(0)
	c.Array(0)
}

// debugCommand implements DEBUG SLEEP <seconds> (the server stops for that
// long, holding the engine lock as Redis holds its thread: what slow-log
// and latency tests need). Other subcommands get Redis's error for an
// unknown one.
func debugCommand(c *Client) {
	if len(c.argv) == 3 && optIs(c.argv[1], "sleep") {
		secs, _, _ := strtod(string(c.argv[2])) // strtod: "abc" sleeps 0
		if secs > 0 {
			time.Sleep(time.Duration(min(secs, 1e9) * float64(time.Second)))
		}
		c.OK()
		return
	}
	c.Error(errSubcommandSyntax(c.argv))
}

// allowProtected is Redis's allowProtectedAction for commands flagged
// protected (DEBUG): refused unless enable-debug-command is yes, or local
// and the client is on a loopback address. MODULE LOAD/LOADEX/UNLOAD are
// refused as under Redis's default enable-module-command no: Celerity
// loads no modules (cmd_module.go).
func (c *Client) allowProtected(cmd *Command) bool {
	if cmd.parent != nil && cmd.parent.Name == "module" {
		c.reject(cmd, "ERR MODULE command not allowed. If the enable-module-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.")
		return false
	}
	if c.allowsLevel(c.srv.cfg.EnableDebugCommand) {
		return true
	}
	c.reject(cmd, "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.")
	return false
}

// isLocal reports whether the client connected from a loopback address.
func (c *Client) isLocal() bool { return IsLocalAddr(c.addr) }

// clientReplyCommand is CLIENT REPLY ON|OFF|SKIP. OFF and SKIP have no
// reply of their own; afterCommand drops the replies they silence.
func clientReplyCommand(c *Client) {
	switch {
	case optIs(c.argv[2], "on"):
		c.flags &^= flagReplyOff | flagReplySkip | flagReplySkipNext
		c.OK()
	case optIs(c.argv[2], "off"):
		c.flags |= flagReplyOff
	case optIs(c.argv[2], "skip"):
		if c.flags&flagReplyOff == 0 {
			c.flags |= flagReplySkipNext
		}
	default:
		c.SyntaxError()
	}
}

// afterCommand ends a command the way Redis's resetClient does: replies
// written since mark are dropped while CLIENT REPLY silences the client,
// and a SKIP that just ran silences the next command. Called with the
// engine lock.
func (c *Client) afterCommand(mark int) {
	if c.flags&(flagReplyOff|flagReplySkip) != 0 && len(c.buf) > mark {
		c.buf = c.buf[:mark]
	}
	c.flags &^= flagReplySkip
	if c.flags&flagReplySkipNext != 0 {
		c.flags = c.flags&^flagReplySkipNext | flagReplySkip
	}
}

func clientNoEvictCommand(c *Client) {
	switch {
	case optIs(c.argv[2], "on"):
		c.flags |= flagNoEvict
	case optIs(c.argv[2], "off"):
		c.flags &^= flagNoEvict
	default:
		c.SyntaxError()
		return
	}
	c.OK()
}
