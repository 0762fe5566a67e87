package resp

import (
	"crypto/rand"
	"encoding/hex"
	"time"
)

// The ACL command, the ACL log, and what happens to connected clients when
// their user changes (acl.c's aclCommand, addACLLogEntry,
// ACLFreeUserAndKillClients, ACLKillPubsubClientsIfNeeded).

func aclCommands() []*Command {
	const adm = Admin | NoScript | Loading | Stale
	return []*Command{
		{Name: "acl", Arity: -2, ACL: CatSlow, Sub: []*Command{
			{Name: "cat", Arity: -2, Flags: NoScript | Loading | Stale, Run: aclCatCommand},
			{Name: "deluser", Arity: -3, Flags: adm, Run: aclDeluserCommand},
			{Name: "dryrun", Arity: -4, Flags: adm, Run: aclDryrunCommand},
			{Name: "genpass", Arity: -2, Flags: NoScript | Loading | Stale, Run: aclGenpassCommand},
			{Name: "getuser", Arity: 3, Flags: adm, Run: aclGetuserCommand},
			{Name: "help", Arity: 2, Flags: Loading | Stale, Run: aclHelpCommand},
			{Name: "list", Arity: 2, Flags: adm, Run: aclListCommand},
			{Name: "load", Arity: 2, Flags: adm, Run: aclLoadCommand},
			{Name: "log", Arity: -2, Flags: adm, Run: aclLogCommand},
			{Name: "save", Arity: 2, Flags: adm, Run: aclSaveCommand},
			{Name: "setuser", Arity: -3, Flags: adm, Run: aclSetuserCommand},
			{Name: "users", Arity: 2, Flags: adm, Run: aclUsersCommand},
			{Name: "whoami", Arity: 2, Flags: NoScript | Loading | Stale, Run: aclWhoamiCommand},
		}},
	}
}

// ACL error texts (Redis 7.0.15).
const (
	errNoPermCmdPrefix  = "NOPERM this user has no permissions to run the '"
	errNoPermKey        = "NOPERM this user has no permissions to access one of the keys used as arguments"
	errNoPermChannel    = "NOPERM this user has no permissions to access one of the channels used as arguments"
	errNoACLFile        = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration."
	errACLSaveFailed    = "ERR There was an error trying to save the ACLs. Please check the server logs for more information"
	errGenpassBits      = "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096"
	errExecACLChanged   = "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: "
	errScriptNoPermCmd  = "The user executing the script can't run this command or subcommand"
	errScriptNoPermKey  = "The user executing the script can't access at least one of the keys mentioned in the command arguments"
	errScriptNoPermChan = "The user executing the script can't publish to the channel mentioned in the command"
)

// aclDenies runs the ACL check of processCommand: on refusal it logs the
// denial and rejects the command with Redis's NOPERM text.
func (c *Client) aclDenies(cmd *Command) bool {
	a := &c.srv.acl
	r, pos := a.check(c.user, cmd, c.argv)
	if r == aclOK {
		return false
	}
	ctx := aclCtxToplevel
	if c.flags&flagMulti != 0 {
		ctx = aclCtxMulti
	}
	a.logDenial(c, r, ctx, cmd, pos)
	switch r {
	case aclDeniedKey:
		c.reject(cmd, errNoPermKey)
	case aclDeniedChannel:
		c.reject(cmd, errNoPermChannel)
	default:
		c.reject(cmd, errNoPermCmdPrefix+cmd.fullName+"' command")
	}
	return true
}

// aclExecDenies re-checks a queued command when EXEC runs it, as Redis 7.0
// does (the user's rules may have changed since it was queued); on refusal
// the command's slot in EXEC's reply holds the error.
func (c *Client) aclExecDenies(cmd *Command) bool {
	a := &c.srv.acl
	r, pos := a.check(c.user, cmd, c.argv)
	if r == aclOK {
		return false
	}
	a.logDenial(c, r, aclCtxMulti, cmd, pos)
	reason := "no permission to execute the command or subcommand"
	switch r {
	case aclDeniedKey:
		reason = "no permission to touch the specified keys"
	case aclDeniedChannel:
		reason = "no permission to access one of the channels used as arguments"
	}
	c.Error(errExecACLChanged + reason)
	return true
}

// aclScriptDenies checks a command a script calls (c is the scripts' fake
// client, running as the caller's user); on refusal it logs it and sets
// msg to Redis's error text.
func (c *Client) aclScriptDenies(cmd *Command, argv [][]byte, msg *string) bool {
	a := &c.srv.acl
	r, pos := a.check(c.user, cmd, argv)
	if r == aclOK {
		return false
	}
	saved := c.argv
	c.argv = argv
	a.logDenial(c, r, aclCtxLua, cmd, pos)
	c.argv = saved
	switch r {
	case aclDeniedKey:
		*msg = errScriptNoPermKey
	case aclDeniedChannel:
		*msg = errScriptNoPermChan
	default:
		*msg = errScriptNoPermCmd
	}
	return true
}

// aclLogEntry is one ACL LOG entry.
type aclLogEntry struct {
	count    int64
	reason   aclDenial
	context  aclLogContext
	object   string
	username string
	ctimeMs  int64
	cinfo    string
}

// logDenial logs a refused command: the object is the command's name or
// the key or channel at pos.
func (a *aclState) logDenial(c *Client, r aclDenial, ctx aclLogContext, cmd *Command, pos int) {
	object := cmd.fullName
	if r == aclDeniedKey || r == aclDeniedChannel {
		object = string(c.argv[pos])
	}
	name := ""
	if c.user != nil {
		name = c.user.name
	}
	a.addLogEntry(c, r, ctx, object, name)
}

// addLogEntry is addACLLogEntry: an entry like one of the last ten (same
// reason, context, object and user, within a minute) is bumped instead of
// added.
func (a *aclState) addLogEntry(c *Client, r aclDenial, ctx aclLogContext, object, username string) {
	real := c
	if c.flags&flagScript != 0 && c.srv.scripts != nil && c.srv.scripts.run.caller != nil {
		real = c.srv.scripts.run.caller
	}
	now := time.Now().UnixMilli()
	e := &aclLogEntry{count: 1, reason: r, context: ctx, object: object, username: username, ctimeMs: now, cinfo: real.infoLine(now)}
	for i := 0; i < len(a.log) && i < 10; i++ {
		m := a.log[i]
		d := m.ctimeMs - e.ctimeMs
		if m.reason != e.reason || m.context != e.context || m.object != e.object || m.username != e.username || d > 60000 || d < -60000 {
			continue
		}
		m.cinfo, m.ctimeMs = e.cinfo, e.ctimeMs
		m.count++
		copy(a.log[1:i+1], a.log[:i])
		a.log[0] = m
		return
	}
	a.log = append(a.log, nil)
	copy(a.log[1:], a.log)
	a.log[0] = e
	if max := a.cfg.ACLLogMaxLen; len(a.log) > max {
		a.log = a.log[:max]
	}
}

// forgetUser disconnects the clients authenticated as u (a user deleted,
// or replaced by ACL LOAD); they first fall back to the default user,
// unauthenticated, in case anything still runs for them. The running
// client gets its reply first.
func (c *Client) forgetUser(u *aclUser) {
	s := c.srv
	for _, cl := range s.clients {
		if cl.user != u {
			continue
		}
		cl.user, cl.authenticated = s.acl.def, false
		if cl == c {
			c.flags |= flagCloseAfterReply
		} else {
			cl.kill()
		}
	}
}

// killPubsubClientsIfNeeded disconnects the subscribers of u whose
// subscriptions the new rules (next) no longer allow, unless every
// channel pattern u had is still granted (and u did not have them all).
func (c *Client) killPubsubClientsIfNeeded(next, u *aclUser) {
	var upcoming []string
	for _, s := range next.selectors {
		if s.flags&selAllChannels != 0 {
			return
		}
		upcoming = append(upcoming, s.channels...)
	}
	match := true
	for _, s := range u.selectors {
		// All channels before and not now: not a superset.
		match = match && s.flags&selAllChannels == 0
		for _, ch := range s.channels {
			found := false
			for _, up := range upcoming {
				found = found || up == ch
			}
			match = match && found
		}
	}
	if match {
		return
	}
	for _, cl := range c.srv.clients {
		ps := cl.pubsub
		if cl.user != u || cl.flags&flagPubsub == 0 || ps == nil {
			continue
		}
		kill := false
		for _, p := range ps.patterns {
			if p.ps != nil && !channelAllowed(upcoming, p.ps.pat, true) {
				kill = true
			}
		}
		for ch := range ps.channels {
			kill = kill || !channelAllowed(upcoming, []byte(ch), false)
		}
		for ch := range ps.shard {
			kill = kill || !channelAllowed(upcoming, []byte(ch), false)
		}
		if !kill {
			continue
		}
		if cl == c {
			c.flags |= flagCloseAfterReply
		} else {
			cl.kill()
		}
	}
}

func aclSetuserCommand(c *Client) {
	// Nothing of a user definition reaches the slow log or MONITOR.
	for j := 2; j < len(c.argv); j++ {
		c.redactArg(j)
	}
	a := &c.srv.acl
	name := string(c.argv[2])
	if hasSpaces(name) {
		c.Error("ERR Usernames can't contain spaces or null characters")
		return
	}
	ops := make([]string, len(c.argv)-3)
	for i, op := range c.argv[3:] {
		ops[i] = string(op)
	}
	merged, bad := mergeSelectorArgs(ops)
	if bad >= 0 {
		c.Error("ERR Unmatched parenthesis in acl selector starting at '" + cstr([]byte(ops[bad]), len(ops[bad])) + "'.")
		return
	}
	// Rules apply to a copy first: all of them or none.
	temp := a.newUser(name)
	u := a.users[name]
	if u != nil {
		temp.copyFrom(u)
	}
	for _, op := range merged {
		if err := a.setUser(temp, op); err != aclErrNone {
			c.Error("ERR Error in ACL SETUSER modifier '" + cstr([]byte(op), len(op)) + "': " + err.text())
			return
		}
	}
	if u != nil {
		c.killPubsubClientsIfNeeded(temp, u)
	} else {
		u = a.newUser(name)
		a.users[name] = u
	}
	u.copyFrom(temp)
	c.OK()
}

func aclDeluserCommand(c *Client) {
	a := &c.srv.acl
	for _, n := range c.argv[2:] {
		if string(n) == "default" {
			c.Error("ERR The 'default' user cannot be removed")
			return
		}
	}
	deleted := 0
	for _, n := range c.argv[2:] {
		if u := a.users[string(n)]; u != nil {
			delete(a.users, string(n))
			c.forgetUser(u)
			deleted++
		}
	}
	c.Int(int64(deleted))
}

func aclGetuserCommand(c *Client) {
	u := c.srv.acl.users[string(c.argv[2])]
	if u == nil {
		c.Null()
		return
	}
	c.Map(6)
	c.BulkString("flags")
	n := 0
	for _, f := range userFlagNames {
		if u.flags&f.flag != 0 {
			n++
		}
	}
	c.Set(n)
	for _, f := range userFlagNames {
		if u.flags&f.flag != 0 {
			c.BulkString(f.name)
		}
	}
	c.BulkString("passwords")
	c.Array(len(u.passwords))
	for _, p := range u.passwords {
		c.BulkString(p)
	}
	c.replySelector(u.selectors[0])
	c.BulkString("selectors")
	c.Array(len(u.selectors) - 1)
	for _, s := range u.selectors[1:] {
		c.Map(3)
		c.replySelector(s)
	}
}

func aclListCommand(c *Client) {
	a := &c.srv.acl
	users := a.sortedUsers()
	c.Array(len(users))
	for _, u := range users {
		c.BulkString(a.userLine(u))
	}
}

func aclUsersCommand(c *Client) {
	users := c.srv.acl.sortedUsers()
	c.Array(len(users))
	for _, u := range users {
		c.BulkString(u.name)
	}
}

func aclWhoamiCommand(c *Client) {
	if c.user == nil {
		c.Null()
		return
	}
	c.BulkString(c.user.name)
}

func aclCatCommand(c *Client) {
	switch len(c.argv) {
	case 2:
		c.Array(len(aclCategoryNames))
		for _, n := range aclCategoryNames {
			c.BulkString(n)
		}
	case 3:
		cat := aclCategoryByName(string(c.argv[2]))
		if cat == 0 {
			c.Error("ERR Unknown category '" + cstr(c.argv[2], 128) + "'")
			return
		}
		var names []string
		for _, ac := range c.srv.acl.uni.all {
			if ac.cats&cat != 0 {
				names = append(names, ac.fullName)
			}
		}
		c.Array(len(names))
		for _, n := range names {
			c.BulkString(n)
		}
	default:
		c.Error(errSubcommandSyntax(c.argv))
	}
}

func aclGenpassCommand(c *Client) {
	if len(c.argv) > 3 {
		c.Error(errSubcommandSyntax(c.argv))
		return
	}
	bits := int64(256)
	if len(c.argv) == 3 {
		v, ok := c.intArg(2)
		if !ok {
			return
		}
		bits = v
	}
	if bits <= 0 || bits > 4096 {
		c.Error(errGenpassBits)
		return
	}
	var raw [4096 / 8]byte
	_, _ = rand.Read(raw[:])
	c.BulkString(hex.EncodeToString(raw[:])[:(bits+3)/4])
}

func aclLogCommand(c *Client) {
	if len(c.argv) > 3 {
		c.Error(errSubcommandSyntax(c.argv))
		return
	}
	a := &c.srv.acl
	count := int64(10)
	if len(c.argv) == 3 {
		if optIs(c.argv[2], "reset") {
			a.log = nil
			c.OK()
			return
		}
		v, ok := c.intArg(2)
		if !ok {
			return
		}
		count = max(v, 0)
	}
	n := min(int(min(count, int64(len(a.log)))), len(a.log))
	c.Array(n)
	now := time.Now().UnixMilli()
	for _, e := range a.log[:n] {
		c.Map(7)
		c.BulkString("count")
		c.Int(e.count)
		c.BulkString("reason")
		c.BulkString([...]string{aclDeniedCmd: "command", aclDeniedKey: "key", aclDeniedAuth: "auth", aclDeniedChannel: "channel"}[e.reason])
		c.BulkString("context")
		c.BulkString([...]string{aclCtxToplevel: "toplevel", aclCtxMulti: "multi", aclCtxLua: "lua"}[e.context])
		c.BulkString("object")
		c.BulkString(e.object)
		c.BulkString("username")
		c.BulkString(e.username)
		c.BulkString("age-seconds")
		c.Double(float64(now-e.ctimeMs) / 1000)
		c.BulkString("client-info")
		c.BulkString(e.cinfo)
	}
}

func aclDryrunCommand(c *Client) {
	s := c.srv
	u := s.acl.users[string(c.argv[2])]
	if u == nil {
		c.Error("ERR User '" + cstr(c.argv[2], len(c.argv[2])) + "' not found")
		return
	}
	argv := c.argv[3:]
	cmd := s.table.lookupArgv(argv)
	if cmd == nil {
		c.Error("ERR Command '" + cstr(argv[0], len(argv[0])) + "' not found")
		return
	}
	if cmd.Arity > 0 && cmd.Arity != len(argv) || len(argv) < -cmd.Arity {
		c.Error(errWrongArgs(cmd.fullName))
		return
	}
	switch r, pos := s.acl.check(u, cmd, argv); r {
	case aclOK:
		c.OK()
	case aclDeniedKey:
		c.BulkString("This user has no permissions to access the '" + cstr(argv[pos], len(argv[pos])) + "' key")
	case aclDeniedChannel:
		c.BulkString("This user has no permissions to access the '" + cstr(argv[pos], len(argv[pos])) + "' channel")
	default:
		c.BulkString("This user has no permissions to run the '" + cmd.fullName + "' command")
	}
}

func aclHelpCommand(c *Client) {
	c.replyHelp([]string{
		"CAT [<category>]",
		"    List all commands that belong to <category>, or all command categories",
		"    when no category is specified.",
		"DELUSER <username> [<username> ...]",
		"    Delete a list of users.",
		"DRYRUN <username> <command> [<arg> ...]",
		"    Returns whether the user can execute the given command without executing the command.",
		"GETUSER <username>",
		"    Get the user's details.",
		"GENPASS [<bits>]",
		"    Generate a secure 256-bit user password. The optional `bits` argument can",
		"    be used to specify a different size.",
		"LIST",
		"    Show users details in config file format.",
		"LOAD",
		"    Reload users from the ACL file.",
		"LOG [<count> | RESET]",
		"    Show the ACL log entries.",
		"SAVE",
		"    Save the current config to the ACL file.",
		"SETUSER <username> <attribute> [<attribute> ...]",
		"    Create or modify a user with the specified attributes.",
		"USERS",
		"    List all the registered usernames.",
		"WHOAMI",
		"    Return the current connection username.",
	})
}

// userName is the client's user as CLIENT LIST shows it.
func (c *Client) userName() string {
	if c.user == nil {
		return "(superuser)"
	}
	return c.user.name
}
