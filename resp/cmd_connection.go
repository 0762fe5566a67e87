package resp

import (
	"fmt"
	"github.com/celerity/celerity/keyspace"
	"strings"
	"time"
)

func connectionCommands() []*Command {
	return []*Command{
		{Name: "ping", Arity: -1, Flags: Fast | Sentinel, ACL: CatConnection, Run: pingCommand},
		{Name: "echo", Arity: 2, Flags: Loading | Stale | Fast, ACL: CatConnection, Run: echoCommand},
		{Name: "select", Arity: 2, Flags: Loading | Stale | Fast, ACL: CatConnection, Run: selectCommand},
		{Name: "quit", Arity: -1, Flags: AllowBusy | NoScript | Loading | Stale | Fast | NoAuth, ACL: CatConnection, Run: quitCommand},
		{Name: "reset", Arity: 1, Flags: NoScript | Loading | Stale | Fast | NoAuth | AllowBusy, ACL: CatConnection, Run: resetCommand},
		{Name: "auth", Arity: -2, Flags: NoScript | Loading | Stale | Fast | NoAuth | Sentinel | AllowBusy, ACL: CatConnection, Run: authCommand},
		{Name: "hello", Arity: -1, Flags: NoScript | Loading | Stale | Fast | NoAuth | Sentinel | AllowBusy, ACL: CatConnection, Run: helloCommand},
		{Name: "client", Arity: -2, ACL: CatSlow, Sub: []*Command{
			{Name: "id", Arity: 2, Flags: NoScript | Loading | Stale, ACL: CatConnection, Run: clientIDCommand},
			{Name: "setname", Arity: 3, Flags: NoScript | Loading | Stale, ACL: CatConnection, Run: clientSetnameCommand},
			{Name: "getname", Arity: 2, Flags: NoScript | Loading | Stale, ACL: CatConnection, Run: clientGetnameCommand},
			{Name: "info", Arity: 2, Flags: NoScript | Loading | Stale, ACL: CatConnection, Run: clientInfoCommand},
			{Name: "list", Arity: -2, Flags: Admin | NoScript | Loading | Stale, ACL: CatConnection, Run: clientListCommand},
			{Name: "kill", Arity: -3, Flags: Admin | NoScript | Loading | Stale, ACL: CatConnection, Run: clientKillCommand},
			{Name: "unblock", Arity: -3, Flags: Admin | NoScript | Loading | Stale, ACL: CatConnection, Run: clientUnblockArgs},
			{Name: "help", Arity: 2, Flags: Loading | Stale, ACL: CatConnection, Run: clientHelpCommand},
			{Name: "reply", Arity: 3, Flags: NoScript | Loading | Stale, ACL: CatConnection, Run: clientReplyCommand},
			{Name: "pause", Arity: -3, Flags: Admin | NoScript | Loading | Stale, ACL: CatConnection, Run: clientPauseCommand},
			{Name: "unpause", Arity: 2, Flags: Admin | NoScript | Loading | Stale, ACL: CatConnection, Run: clientUnpauseCommand},
			{Name: "no-evict", Arity: 3, Flags: Admin | NoScript | Loading | Stale, ACL: CatConnection, Run: clientNoEvictCommand},
			{Name: "tracking", Arity: -3, Flags: NoScript | Loading | Stale, ACL: CatConnection, Run: clientTrackingCommand},
			{Name: "caching", Arity: 3, Flags: NoScript | Loading | Stale, ACL: CatConnection, Run: clientCachingCommand},
			{Name: "getredir", Arity: 2, Flags: NoScript | Loading | Stale, ACL: CatConnection, Run: clientGetredirCommand},
			{Name: "trackinginfo", Arity: 2, Flags: NoScript | Loading | Stale, ACL: CatConnection, Run: clientTrackinginfoCommand},
		}},
	}
}

func pingCommand(c *Client) {
	if len(c.argv) > 2 {
		c.WrongArgs()
		return
	}
	if c.flags&flagPubsub != 0 && c.proto == 2 {
		c.Array(2)
		c.BulkString("pong")
		if len(c.argv) == 1 {
			c.BulkString("")
		} else {
			c.Bulk(c.argv[1])
		}
		return
	}
	if len(c.argv) == 1 {
		c.Status("PONG")
	} else {
		c.Bulk(c.argv[1])
	}
}

func echoCommand(c *Client) { c.Bulk(c.argv[1]) }

func selectCommand(c *Client) {
	db, ok := c.DBArg(1)
	if !ok {
		return
	}
	c.db = db
	c.OK()
}

// DBArg parses argument i as SELECT parses its index and returns that
// database; on a bad index it has replied with SELECT's error (extension
// commands' "DB n" options use it, so they refuse what SELECT refuses).
func (c *Client) DBArg(i int) (*keyspace.DB, bool) {
	id, ok := c.intArgRange(i, -1<<31, 1<<31-1, "")
	if !ok {
		return nil, false
	}
	if id < 0 || id >= int64(c.srv.ks.NumDBs()) {
		c.Error(errDBIndex)
		return nil, false
	}
	return c.srv.ks.DB(int(id)), true
}

func quitCommand(c *Client) {
	c.OK()
	c.flags |= flagCloseAfterReply
}

func resetCommand(c *Client) {
	c.db = c.srv.ks.DB(0)
	c.proto = 2
	c.user, c.authenticated = c.srv.acl.def, c.srv.acl.defaultAuthenticated()
	c.name = ""
	c.discardTransaction()
	c.pubsubUnsubscribeAll() // silently, as Redis's RESET does
	c.flags &^= flagNoEvict | flagNoTouch | flagReplyOff | flagReplySkipNext
	c.stopMonitor()
	c.srv.disableTracking(c)
	c.Status("RESET")
}

// authenticate logs the client in as user if pass is one of its passwords
// (or it has none: nopass) and it is on (ACLAuthenticateUser); a failure
// is recorded in the ACL log.
func (c *Client) authenticate(user, pass []byte) bool {
	a := &c.srv.acl
	u := a.authenticate(user, pass)
	if u == nil {
		ctx := aclCtxToplevel
		if c.flags&flagMulti != 0 {
			ctx = aclCtxMulti
		}
		a.addLogEntry(c, aclDeniedAuth, ctx, string(c.argv[0]), string(user))
		return false
	}
	c.authenticated = true
	c.user = u
	return true
}

// CheckPassword reports whether AUTH user pass would succeed: the user
// exists, is on, and pass is one of its passwords (or it is nopass). The
// metrics port's basic auth goes through it, so both ways in share one
// check. Engine lock.
func (s *Server) CheckPassword(user, pass string) bool {
	return s.acl.authenticate([]byte(user), []byte(pass)) != nil
}

func authCommand(c *Client) {
	if len(c.argv) > 3 {
		c.SyntaxError()
		return
	}
	// Passwords never reach the slow log or MONITOR, even when wrong.
	for j := 1; j < len(c.argv); j++ {
		c.redactArg(j)
	}
	user, pass := []byte("default"), c.argv[1]
	if len(c.argv) == 2 {
		if c.srv.acl.def.flags&userNoPass != 0 {
			c.Error(errNoPassDefault)
			return
		}
	} else {
		user, pass = c.argv[1], c.argv[2]
	}
	if c.authenticate(user, pass) {
		c.OK()
	} else {
		c.Error(errWrongPass)
	}
}

func helloCommand(c *Client) {
	var ver int64
	next := 1
	if len(c.argv) >= 2 {
		v, ok := parseStrictInt(c.argv[1])
		if !ok {
			c.Error("ERR Protocol version is not an integer or out of range")
			return
		}
		if v < 2 || v > 3 {
			c.Error("NOPROTO unsupported protocol version")
			return
		}
		ver = v
		next = 2
	}
	// Redis 7.0 acts on each option as it parses it: AUTH authenticates
	// and SETNAME renames at once, so an error in a later option (or the
	// NOAUTH check below) leaves the earlier ones done.
	for j := next; j < len(c.argv); j++ {
		more := len(c.argv) - 1 - j
		switch {
		case optIs(c.argv[j], "auth") && more >= 2:
			c.redactArg(j + 1)
			c.redactArg(j + 2)
			if !c.authenticate(c.argv[j+1], c.argv[j+2]) {
				c.Error(errWrongPass)
				return
			}
			j += 2
		case optIs(c.argv[j], "setname") && more >= 1:
			if !c.setName(c.argv[j+1]) {
				return
			}
			j++
		default:
			c.Error("ERR Syntax error in HELLO option '" + cstr(c.argv[j], len(c.argv[j])) + "'")
			return
		}
	}
	// Redis asks whether this connection authenticated, not whether it
	// must: a connection made while the default user had a password
	// needs AUTH here even after the password is removed.
	if !c.authenticated {
		c.Error(errNoAuthHello)
		return
	}
	if ver != 0 {
		c.proto = int(ver)
	}
	c.Map(7)
	c.BulkString("server")
	c.BulkString("redis")
	c.BulkString("version")
	c.BulkString(Version)
	c.BulkString("proto")
	c.Int(int64(c.proto))
	c.BulkString("id")
	c.Int(c.id)
	c.BulkString("mode")
	c.BulkString("standalone")
	c.BulkString("role")
	c.BulkString("master")
	c.BulkString("modules")
	c.Array(0)
}

// setName validates and sets the connection name; an empty name clears it.
func (c *Client) setName(name []byte) bool {
	for _, b := range name {
		if b < '!' || b > '~' {
			c.Error("ERR Client names cannot contain spaces, newlines or special characters.")
			return false
		}
	}
	c.name = string(name)
	return true
}

func clientIDCommand(c *Client) { c.Int(c.id) }

func clientSetnameCommand(c *Client) {
	if c.setName(c.argv[2]) {
		c.OK()
	}
}

func clientGetnameCommand(c *Client) {
	if c.name == "" {
		c.Null()
		return
	}
	c.BulkString(c.name)
}

func clientInfoCommand(c *Client) {
	c.Verbatim(c.infoLine(time.Now().UnixMilli()) + "\n")
}

func clientListCommand(c *Client) {
	now := time.Now().UnixMilli()
	var b strings.Builder
	switch {
	case len(c.argv) == 2:
		for _, cl := range c.srv.sortedClients() {
			b.WriteString(cl.infoLine(now))
			b.WriteByte('\n')
		}
	case len(c.argv) == 4 && optIs(c.argv[2], "type"):
		typ, ok := c.clientTypeArg(3)
		if !ok {
			return
		}
		for _, cl := range c.srv.sortedClients() {
			if cl.typeName() == typ {
				b.WriteString(cl.infoLine(now))
				b.WriteByte('\n')
			}
		}
	case len(c.argv) > 3 && optIs(c.argv[2], "id"):
		// Redis 7.0 lists the clients in the order the ids are given,
		// once per occurrence; any integer is a valid (if unknown) id.
		for i := 3; i < len(c.argv); i++ {
			id, ok := parseStrictInt(c.argv[i])
			if !ok {
				c.Error("ERR Invalid client ID")
				return
			}
			if cl := c.srv.clients[id]; cl != nil {
				b.WriteString(cl.infoLine(now))
				b.WriteByte('\n')
			}
		}
	default:
		c.SyntaxError()
		return
	}
	c.Verbatim(b.String())
}

// clientTypeArg parses a client class name (CLIENT LIST/KILL TYPE),
// replying with Redis's error for an unknown one.
func (c *Client) clientTypeArg(i int) (string, bool) {
	typ := strings.ToLower(string(c.argv[i]))
	if typ == "slave" {
		typ = "replica"
	}
	if typ != "normal" && typ != "master" && typ != "replica" && typ != "pubsub" {
		c.Error("ERR Unknown client type '" + cstr(c.argv[i], len(c.argv[i])) + "'")
		return "", false
	}
	return typ, true
}

// typeName is the client's class for CLIENT LIST/KILL TYPE.
func (c *Client) typeName() string {
	if c.flags&flagPubsub != 0 {
		return "pubsub"
	}
	return "normal"
}

// infoLine renders the client as one CLIENT LIST line, with Redis 7.0's
// fields in Redis 7.0's order.
func (c *Client) infoLine(nowMs int64) string {
	// Redis 7.0's flag letters, in its order.
	flags := ""
	if c.flags&flagMonitor != 0 {
		flags += "O"
	}
	if c.flags&flagPubsub != 0 {
		flags += "P"
	}
	if c.flags&flagMulti != 0 {
		flags += "x"
	}
	if c.flags&(flagBlocked|flagPostponed) != 0 {
		flags += "b" // a client CLIENT PAUSE holds is blocked, for Redis
	}
	flags += c.trackingFlags() // t, R, B
	if c.flags&flagDirtyCAS != 0 {
		flags += "d"
	}
	if c.flags&flagCloseAfterReply != 0 {
		flags += "c"
	}
	if c.flags&flagCloseASAP != 0 {
		flags += "A"
	}
	if c.flags&flagUnixSocket != 0 {
		flags += "U"
	}
	if c.flags&flagNoEvict != 0 {
		flags += "e"
	}
	if flags == "" {
		flags = "N"
	}
	multi := -1
	if c.flags&flagMulti != 0 {
		multi = len(c.mstate.commands)
	}
	cmd := "NULL"
	if c.lastCmd != nil {
		cmd = c.lastCmd.fullName
	}
	qbuf := c.in.rend - c.in.ppos
	sub, psub, ssub := c.pubsubCounts()
	// omem is the output waiting for the socket (Redis's reply list),
	// obl what units wrote since the reactor last took it.
	return fmt.Sprintf("id=%d addr=%s laddr=%s fd=%d name=%s age=%d idle=%d flags=%s db=%d sub=%d psub=%d ssub=%d multi=%d qbuf=%d qbuf-free=%d argv-mem=0 multi-mem=0 rbs=%d rbp=0 obl=%d oll=0 omem=%d tot-mem=%d events=r cmd=%s user=%s redir=%d resp=%d",
		c.id, c.addr, c.laddr, c.fd, c.name, (nowMs-c.ctimeMs)/1000, (nowMs-c.lastMs)/1000, flags, c.db.ID(),
		sub, psub, ssub, multi, qbuf, len(c.in.rbuf)-c.in.rend, len(c.in.rbuf), len(c.buf), c.unsent.Load(), cap(c.in.rbuf)+cap(c.buf)+1024, cmd, c.userName(), c.trackingRedirect(), c.proto)
}

func clientKillCommand(c *Client) {
	// An address filter is active once given, even if empty: Redis compares
	// strings, so an empty address matches no client (it must not mean
	// "any").
	var addr, laddr, typ string
	var user *aclUser
	var hasAddr, hasLaddr bool
	var id int64
	skipme := true
	switch {
	case len(c.argv) == 3:
		addr, hasAddr = cstr(c.argv[2], len(c.argv[2])), true
		skipme = false
	case len(c.argv) > 3:
		for i := 2; i < len(c.argv); i += 2 {
			more := i+1 < len(c.argv)
			opt := c.argv[i]
			switch {
			case optIs(opt, "id") && more:
				v, ok := c.intArgRange(i+1, 1, 1<<63-1, "ERR client-id should be greater than 0")
				if !ok {
					return
				}
				id = v
			case optIs(opt, "type") && more:
				t, ok := c.clientTypeArg(i + 1)
				if !ok {
					return
				}
				typ = t
			case optIs(opt, "addr") && more:
				addr, hasAddr = cstr(c.argv[i+1], len(c.argv[i+1])), true
			case optIs(opt, "laddr") && more:
				laddr, hasLaddr = cstr(c.argv[i+1], len(c.argv[i+1])), true
			case optIs(opt, "user") && more:
				user = c.srv.acl.users[string(c.argv[i+1])]
				if user == nil {
					c.Error("ERR No such user '" + cstr(c.argv[i+1], len(c.argv[i+1])) + "'")
					return
				}
			case optIs(opt, "skipme") && more:
				switch {
				case optIs(c.argv[i+1], "yes"):
					skipme = true
				case optIs(c.argv[i+1], "no"):
					skipme = false
				default:
					c.SyntaxError()
					return
				}
			default:
				c.SyntaxError()
				return
			}
		}
	default:
		c.SyntaxError()
		return
	}
	killed := 0
	closeSelf := false
	for _, cl := range c.srv.sortedClients() {
		if hasAddr && cl.addr != addr || hasLaddr && cl.laddr != laddr ||
			typ != "" && cl.typeName() != typ || id != 0 && cl.id != id ||
			user != nil && cl.user != user || cl == c && skipme {
			continue
		}
		if cl == c {
			closeSelf = true
		} else {
			cl.kill()
		}
		killed++
	}
	if len(c.argv) == 3 {
		if killed == 0 {
			c.Error("ERR No such client")
		} else {
			c.OK()
		}
	} else {
		c.Int(int64(killed))
	}
	if closeSelf {
		c.flags |= flagCloseAfterReply
	}
}

// clientUnblockArgs bounds CLIENT UNBLOCK to its 3 or 4 arguments: Redis
// 7.0 declares the subcommand with arity -3 but answers longer forms with
// its generic subcommand error.
func clientUnblockArgs(c *Client) {
	if len(c.argv) > 4 {
		c.Error(errSubcommandSyntax(c.argv))
		return
	}
	clientUnblockCommand(c)
}

func clientHelpCommand(c *Client) {
	c.replyHelp([]string{
		"CACHING (YES|NO)",
		"    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
		"GETREDIR",
		"    Return the client ID we are redirecting to when tracking is enabled.",
		"GETNAME",
		"    Return the name of the current connection.",
		"ID",
		"    Return the ID of the current connection.",
		"INFO",
		"    Return information about the current client connection.",
		"KILL <ip:port>",
		"    Kill connection made from <ip:port>.",
		"KILL <option> <value> [<option> <value> [...]]",
		"    Kill connections. Options are:",
		"    * ADDR (<ip:port>|<unixsocket>:0)",
		"      Kill connections made from the specified address",
		"    * LADDR (<ip:port>|<unixsocket>:0)",
		"      Kill connections made to specified local address",
		"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
		"      Kill connections by type.",
		"    * USER <username>",
		"      Kill connections authenticated by <username>.",
		"    * SKIPME (YES|NO)",
		"      Skip killing current connection (default: yes).",
		"LIST [options ...]",
		"    Return information about client connections. Options:",
		"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
		"      Return clients of specified type.",
		"UNPAUSE",
		"    Stop the current client pause, resuming traffic.",
		"PAUSE <timeout> [WRITE|ALL]",
		"    Suspend all, or just write, clients for <timeout> milliseconds.",
		"REPLY (ON|OFF|SKIP)",
		"    Control the replies sent to the current connection.",
		"SETNAME <name>",
		"    Assign the name <name> to the current connection.",
		"UNBLOCK <clientid> [TIMEOUT|ERROR]",
		"    Unblock the specified blocked client.",
		"TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
		"         [OPTIN] [OPTOUT] [NOLOOP]",
		"    Control server assisted client side caching.",
		"TRACKINGINFO",
		"    Report tracking status for the current connection.",
		"NO-EVICT (ON|OFF)",
		"    Protect current client connection from eviction.",
	})
}
