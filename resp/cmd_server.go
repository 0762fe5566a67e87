package resp

import (
	"slices"
	"strings"
	"time"
)

func serverCommands() []*Command {
	return []*Command{
		{Name: "info", Arity: -1, Flags: Loading | Stale, ACL: CatDangerous, Run: infoCommand},
		{Name: "time", Arity: 1, Flags: Loading | Stale | Fast, Run: timeCommand},
		{Name: "command", Arity: -1, Flags: Loading | Stale, ACL: CatConnection, Run: commandCommand, Sub: []*Command{
			{Name: "count", Arity: 2, Flags: Loading | Stale, ACL: CatConnection, Run: commandCountCommand},
			{Name: "info", Arity: -2, Flags: Loading | Stale, ACL: CatConnection, Run: commandInfoCommand},
			{Name: "docs", Arity: -2, Flags: Loading | Stale, ACL: CatConnection, Run: commandDocsCommand},
			{Name: "list", Arity: -2, Flags: Loading | Stale, ACL: CatConnection, Run: commandListCommand},
			{Name: "getkeys", Arity: -4, Flags: Loading | Stale, ACL: CatConnection, Run: commandGetkeysCommand},
			{Name: "help", Arity: 2, Flags: Loading | Stale, ACL: CatConnection, Run: commandHelpCommand},
		}},
		{Name: "config", Arity: -2, ACL: CatSlow, Sub: []*Command{
			{Name: "get", Arity: -3, Flags: Admin | NoScript | Loading | Stale, Run: configGetCommand},
			{Name: "set", Arity: -4, Flags: Admin | NoScript | Loading | Stale, Run: configSetCommand},
			{Name: "resetstat", Arity: 2, Flags: Admin | NoScript | Loading | Stale, Run: configResetstatCommand},
			{Name: "rewrite", Arity: 2, Flags: Admin | NoScript | Loading | Stale, Run: configRewriteCommand},
			{Name: "help", Arity: 2, Flags: Loading | Stale, Run: configHelpCommand},
		}},
		{Name: "bgrewriteaof", Arity: 1, Flags: Admin | NoScript | NoAsyncLoading, Run: bgrewriteaofCommand},
		{Name: "shutdown", Arity: -1, Flags: Admin | NoScript | Loading | Stale | NoMulti | AllowBusy, Run: shutdownCommand},
	}
}

// shutdownCommand is SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]. With
// save points set (or SAVE) the dataset is saved first, and a failed save
// keeps the server running unless FORCE; then the AOF is flushed and
// fsynced and the process exits. The client gets no reply, as from Redis.
func shutdownCommand(c *Client) {
	var save, nosave, abort, force, other bool
	for _, a := range c.argv[1:] {
		switch {
		case optIs(a, "nosave"):
			nosave = true
		case optIs(a, "save"):
			save = true
		case optIs(a, "force"):
			force, other = true, true
		case optIs(a, "now"):
			other = true
		case optIs(a, "abort"):
			abort = true
		default:
			c.SyntaxError()
			return
		}
	}
	if save && nosave || abort && (save || nosave || other) {
		c.SyntaxError()
		return
	}
	if abort {
		// Shutdowns here never wait for replicas: none is ever in progress.
		c.Error("ERR No shutdown in progress.")
		return
	}
	s := c.srv
	if s.busyClient != nil {
		if !nosave {
			c.Error(errBusyScript)
			return
		}
		// The script stops at its next instruction; its effects were never
		// propagated, so the AOF holds none of them.
		s.scripts.run.killed = true
	}
	s.log.Warn().Msg("User requested shutdown...")
	s.finalSave = finalSaveNone
	if save || !nosave && len(s.cfg.SavePoints) > 0 {
		s.log.Info().Msg("Saving the final RDB snapshot before exiting.")
		if err := s.rdbSave(); err != nil && !force {
			s.log.Warn().Msg("Error trying to save the DB, can't exit.")
			s.log.Warn().Msg("Errors trying to shut down the server. Check the logs for more information.")
			c.Error("ERR Errors trying to SHUTDOWN. Check logs.")
			s.finalSave = finalSaveByConfig
			return
		}
		// Units other reactors run before they stop are saved too.
		s.finalSave = finalSaveChanges
	}
	c.flags |= flagCloseASAP
	// Shutdown waits for the reactors, one of which runs this unit.
	go s.Shutdown()
}

func infoCommand(c *Client) {
	c.Verbatim(c.srv.genInfo(c.argv[1:]))
}

func timeCommand(c *Client) {
	now := time.Now()
	c.Array(2)
	c.BulkInt(now.Unix())
	c.BulkInt(int64(now.Nanosecond() / 1000))
}

// writeCommandInfo writes one COMMAND INFO entry in Redis 7.0's layout:
// name, arity, flags, first/last/step, categories, tips, key specs and
// subcommands.
func (c *Client) writeCommandInfo(cmd *Command) {
	c.Array(10)
	c.BulkString(cmd.fullName)
	c.Int(int64(cmd.Arity))
	n := 0
	for i := range flagNames {
		if cmd.Flags&(1<<i) != 0 {
			n++
		}
	}
	c.Set(n)
	for i, name := range flagNames {
		if cmd.Flags&(1<<i) != 0 {
			c.Status(name)
		}
	}
	c.Int(int64(cmd.Keys.First))
	c.Int(int64(cmd.Keys.Last))
	c.Int(int64(cmd.Keys.Step))
	n = 0
	for i := range aclCategoryNames {
		if cmd.ACL&(1<<i) != 0 {
			n++
		}
	}
	c.Set(n)
	for i, name := range aclCategoryNames {
		if cmd.ACL&(1<<i) != 0 {
			c.Status("@" + name)
		}
	}
	if cmd.meta != nil {
		c.WriteValue(cmd.meta.Tips)
		c.WriteValue(cmd.meta.KeySpecs)
	} else {
		c.Set(0)
		c.Array(0)
	}
	// Redis replies an empty set when a command has no subcommands, and an
	// array of their entries otherwise.
	if len(cmd.Sub) == 0 {
		c.Set(0)
		return
	}
	c.Array(len(cmd.Sub))
	for _, sub := range cmd.Sub {
		c.writeCommandInfo(sub)
	}
}

// writeCommandDocs writes one COMMAND DOCS entry: the reference docs plus
// the subcommands this server implements.
func (c *Client) writeCommandDocs(cmd *Command) {
	var doc Value
	if cmd.meta != nil {
		doc = cmd.meta.Docs
	}
	pairs := len(doc.Elems) / 2
	if len(doc.Elems) == 0 {
		pairs = 1 // at least "group"
	}
	if len(cmd.Sub) > 0 {
		pairs++
	}
	c.Map(pairs)
	if len(doc.Elems) == 0 {
		c.BulkString("group")
		c.BulkString("module")
	}
	for _, e := range doc.Elems {
		c.WriteValue(e)
	}
	if len(cmd.Sub) > 0 {
		c.BulkString("subcommands")
		c.Map(len(cmd.Sub))
		for _, sub := range cmd.Sub {
			c.BulkString(sub.fullName)
			c.writeCommandDocs(sub)
		}
	}
}

func commandCommand(c *Client) {
	cmds := c.srv.table.Commands()
	c.Array(len(cmds))
	for _, cmd := range cmds {
		c.writeCommandInfo(cmd)
	}
}

func commandCountCommand(c *Client) { c.Int(int64(len(c.srv.table.Commands()))) }

// lookupFullName resolves "name" or "container|sub".
func (t *Table) lookupFullName(name string) *Command {
	name = strings.ToLower(name)
	base, sub, hasSub := strings.Cut(name, "|")
	cmd := t.cmds[base]
	if cmd == nil || !hasSub {
		return cmd
	}
	return cmd.subIndex[sub]
}

func commandInfoCommand(c *Client) {
	if len(c.argv) == 2 {
		commandCommand(c)
		return
	}
	c.Array(len(c.argv) - 2)
	for _, a := range c.argv[2:] {
		if cmd := c.srv.table.lookupFullName(string(a)); cmd != nil {
			c.writeCommandInfo(cmd)
		} else {
			c.Null()
		}
	}
}

func commandDocsCommand(c *Client) {
	var cmds []*Command
	if len(c.argv) == 2 {
		cmds = c.srv.table.Commands()
	} else {
		for _, a := range c.argv[2:] {
			if cmd := c.srv.table.lookupFullName(string(a)); cmd != nil {
				cmds = append(cmds, cmd)
			}
		}
	}
	c.Map(len(cmds))
	for _, cmd := range cmds {
		c.BulkString(cmd.fullName)
		c.writeCommandDocs(cmd)
	}
}

func commandListCommand(c *Client) {
	var match func(cmd *Command) bool
	switch {
	case len(c.argv) == 2:
		match = func(*Command) bool { return true }
	case len(c.argv) == 5 && optIs(c.argv[2], "filterby"):
		arg := c.argv[4]
		switch {
		case optIs(c.argv[3], "module"):
			match = func(*Command) bool { return false }
		case optIs(c.argv[3], "aclcat"):
			cat := ACLCategory(0)
			for i, n := range aclCategoryNames {
				if strings.EqualFold(n, string(arg)) {
					cat = 1 << i
				}
			}
			match = func(cmd *Command) bool { return cmd.ACL&cat != 0 }
		case optIs(c.argv[3], "pattern"):
			match = func(cmd *Command) bool { return globMatch(arg, []byte(cmd.fullName), true) }
		default:
			c.SyntaxError()
			return
		}
	default:
		c.SyntaxError()
		return
	}
	var names []string
	var walk func(cmd *Command)
	walk = func(cmd *Command) {
		if match(cmd) {
			names = append(names, cmd.fullName)
		}
		for _, s := range cmd.Sub {
			walk(s)
		}
	}
	for _, cmd := range c.srv.table.Commands() {
		walk(cmd)
	}
	c.Array(len(names))
	for _, n := range names {
		c.BulkString(n)
	}
}

// keyIndexes returns the positions of the key arguments of argv for cmd.
func (cmd *Command) keyIndexes(argv [][]byte) []int {
	if cmd.GetKeys != nil {
		return cmd.GetKeys(argv)
	}
	k := cmd.Keys
	if k.First <= 0 {
		return nil
	}
	last := k.Last
	if last < 0 {
		last += len(argv)
	}
	var out []int
	for i := k.First; i <= last && i < len(argv); i += max(k.Step, 1) {
		out = append(out, i)
	}
	return out
}

func commandGetkeysCommand(c *Client) {
	argv := c.argv[2:]
	cmd := c.srv.table.lookupArgv(argv)
	switch {
	case cmd == nil:
		c.Error("ERR Invalid command specified")
		return
	case cmd.Keys.First <= 0 && cmd.GetKeys == nil:
		c.Error("ERR The command has no key arguments")
		return
	case cmd.Arity > 0 && cmd.Arity != len(argv) || len(argv) < -cmd.Arity:
		c.Error("ERR Invalid number of arguments specified for command")
		return
	}
	idx := cmd.keyIndexes(argv)
	if len(idx) == 0 {
		if cmd.Flags&NoMandatoryKeys != 0 {
			c.Array(0)
		} else {
			c.Error("ERR Invalid arguments specified for command")
		}
		return
	}
	c.Array(len(idx))
	for _, i := range idx {
		c.Bulk(argv[i])
	}
}

func commandHelpCommand(c *Client) {
	c.replyHelp([]string{
		"(no subcommand)",
		"    Return details about all Redis commands.",
		"COUNT",
		"    Return the total number of commands in this Redis server.",
		"LIST",
		"    Return a list of all commands in this Redis server.",
		"INFO [<command-name> ...]",
		"    Return details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"DOCS [<command-name> ...]",
		"    Return documentation details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"GETKEYS <full-command>",
		"    Return the keys from a full Redis command.",
		"GETKEYSANDFLAGS <full-command>",
		"    Return the keys and the access flags from a full Redis command.",
	})
}

func configGetCommand(c *Client) {
	s := c.srv
	type kv struct{ k, v string }
	var out []kv
	seen := map[string]bool{}
	for _, pat := range c.argv[2:] {
		if !strings.ContainsAny(string(pat), "[*?") {
			// A plain name is answered as typed ("CONFIG GET HZ" gives
			// "HZ"), once whatever its case, as Redis 7.0 does.
			name := strings.ToLower(string(pat))
			if p := s.params[name]; p != nil && !seen[name] {
				seen[name] = true
				out = append(out, kv{string(pat), p.get(s.cfg)})
			}
			continue
		}
		for _, name := range s.paramNames() {
			if f := s.params[name].flags; f&cfgHidden != 0 || f&cfgCelerity != 0 && !celerityGlob(pat, name) {
				continue
			}
			if !seen[name] && globMatch(pat, []byte(name), true) {
				seen[name] = true
				out = append(out, kv{name, s.params[name].get(s.cfg)})
			}
		}
	}
	c.Map(len(out))
	for _, e := range out {
		c.BulkString(e.k)
		c.BulkString(e.v)
	}
}

// celerityGlob reports whether a CONFIG GET pattern names the family of
// Celerity's own directive name (its first word and dash, literally).
func celerityGlob(pat []byte, name string) bool {
	fam, _, _ := strings.Cut(name, "-")
	return len(pat) > len(fam) && strings.EqualFold(string(pat[:len(fam)+1]), fam+"-")
}

func (s *Server) paramNames() []string {
	names := make([]string, 0, len(s.params))
	for n := range s.params {
		names = append(names, n)
	}
	sortStrings(names)
	return names
}

func configSetCommand(c *Client) {
	s := c.srv
	if len(c.argv)%2 != 0 {
		c.SyntaxError()
		return
	}
	n := (len(c.argv) - 2) / 2
	params := make([]*configParam, n)
	names := make([]string, n) // as looked up: an alias is its own parameter
	var invalidName, errArg, errStr string
	for i := 0; i < n; i++ {
		name := c.argv[2+2*i]
		names[i] = strings.ToLower(string(name))
		p := s.params[names[i]]
		if p == nil {
			if invalidName == "" && errArg == "" {
				invalidName = cstr(name, len(name))
			}
			continue
		}
		if p.flags&cfgSensitive != 0 {
			// Even when the command fails: no password in the slow log.
			c.redactArg(3 + 2*i)
		}
		if invalidName != "" || errArg != "" {
			continue
		}
		switch {
		case p.flags&cfgImmutable != 0:
			errStr, errArg = "can't set immutable config", cstr(name, len(name))
			continue
		case p.flags&cfgProtected != 0 && !c.allowsLevel(s.cfg.EnableProtectedConfigs):
			errStr, errArg = "can't set protected config", cstr(name, len(name))
			continue
		}
		// Redis 7.0 registers an alias as a parameter of its own, so
		// "hash-max-ziplist-entries 1 hash-max-listpack-entries 2" is no
		// duplicate (the last one wins).
		for j := 0; j < i; j++ {
			if params[j] == p && names[j] == names[i] {
				errStr, errArg = "duplicate parameter", cstr(name, len(name))
			}
		}
		params[i] = p
	}
	switch {
	case invalidName != "":
		c.Error("ERR Unknown option or number of arguments for CONFIG SET - '" + invalidName + "'")
		return
	case errArg != "":
		c.Error("ERR CONFIG SET failed (possibly related to argument '" + errArg + "') - " + errStr)
		return
	}
	// Set every value on a copy, so a failure leaves the config untouched:
	// CONFIG SET of several parameters is all or nothing.
	next := *s.cfg
	next.Bind = append([]string(nil), s.cfg.Bind...)
	for i, p := range params {
		val := string(c.argv[3+2*i])
		args := []string{val}
		if p.flags&cfgMultiArg != 0 && val != "" {
			// Redis splits a multi-argument value on single spaces, so
			// save " " is two empty words (and invalid).
			args = strings.Split(val, " ")
		}
		if err := p.set(&next, args); err != nil {
			// A bad value is reported under the parameter's own name
			// (lower case), not as typed.
			c.Error("ERR CONFIG SET failed (possibly related to argument '" + names[i] + "') - " + err.Error())
			return
		}
	}
	prev := *s.cfg
	*s.cfg = next
	for _, p := range params {
		if strings.HasPrefix(p.name, "tls-") {
			s.reloadTLS = p.name // applyNet rebuilds TLS, even for an unchanged value
			break
		}
	}
	if err := s.applyConfig(&prev); err != nil {
		*s.cfg = prev
		c.Error("ERR CONFIG SET failed (possibly related to argument '" + err.param + "') - " + err.msg)
		return
	}
	c.OK()
}

type applyError struct{ param, msg string }

// applyConfig makes the running server follow configuration changes:
// listeners for port/bind, mirrored limits. Called with the engine lock.
func (s *Server) applyConfig(prev *Config) *applyError {
	s.qbufLimit.Store(s.cfg.ClientQueryBufLimit)
	s.ks.SetLimits(s.cfg.Limits)
	if s.cfg.requirePass != prev.requirePass {
		// Redis resets the default user's passwords only when the value
		// changes: CONFIG SET requirepass <same> keeps ACL-added ones.
		s.acl.setDefaultPassword(s.cfg.requirePass)
	}
	s.applyEviction()
	if s.cfg.MaxMemory != prev.MaxMemory && s.cfg.MaxMemory != 0 {
		// Redis 7.0 replies to CONFIG SET maxmemory first and evicts from
		// a time event; here the next command or the cron does it.
		s.evictPending = true
	}
	if s.cfg.MaxMemoryPolicy != prev.MaxMemoryPolicy {
		s.warnEvictablePolicy()
	} else if !slices.Equal(s.cfg.BrokerProtectedPrefixes, prev.BrokerProtectedPrefixes) {
		s.ks.Reclassify() // broker-safe's memory by class
	}
	s.updateDenyWrites()
	if err := s.applyPersistence(prev); err != nil {
		return err
	}
	return s.applyNet(prev) // listeners and TLS (listen.go)
}

func configResetstatCommand(c *Client) {
	s := c.srv
	s.ks.ResetStats()
	s.stats.connections, s.stats.rejectedConns, s.stats.commands = 0, 0, 0
	s.stats.errorReplies = 0
	s.stats.errorCodes = map[string]int64{}
	s.stats.netInput.Store(0)
	s.stats.netOutput.Store(0)
	s.stats.expireCycleCPUMs = 0
	s.stats.overLimitTotal, s.stats.overLimitSince = 0, time.Time{}
	s.cmem.evicted = 0
	for _, cmd := range s.table.Commands() {
		cmd.stats = commandStats{}
		for _, sub := range cmd.Sub {
			sub.stats = commandStats{}
		}
	}
	c.OK()
}

func configHelpCommand(c *Client) {
	c.replyHelp([]string{
		"GET <pattern>",
		"    Return parameters matching the glob-like <pattern> and their values.",
		"SET <directive> <value>",
		"    Set the configuration <directive> to <value>.",
		"RESETSTAT",
		"    Reset statistics reported by the INFO command.",
		"REWRITE",
		"    Rewrite the configuration file.",
	})
}
