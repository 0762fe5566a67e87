package resp

import (
	"bufio"
	"bytes"
	"strings"
	"time"
)

// Extensions: how the Celery-aware packages (kombu, redbeat, results) plug
// into the engine without the engine knowing Celery.
//
// An Extension is a value cmd/ builds and passes in Options.Extensions. Its dotted
// commands (KOMBU.QUEUES...) join the one command table like Redis module
// commands; its hooks run under the engine lock at fixed points of a unit:
//
//   - Written, after a command that changed the dataset, inside the unit
//     that ran it (once per command inside EXEC, once per redis.call of a
//     script; never while the AOF loads);
//   - Closed, when a client's connection is gone;
//   - Cron, every cron tick outside any unit, with the same time budget
//     rules as active expiry (Redis's serverCron);
//   - Info, for the extension's own INFO section, shown by "INFO <name>" and
//     "INFO everything" only, as Redis shows module sections (a default INFO
//     stays byte-identical to Redis's).
//
// An extension that writes (a Kombu lease refreshing a score, a result getting
// its default TTL) does so through Server.Exec: the write is an ordinary
// command run as its own unit, so it is propagated to the AOF, bumps WATCH
// versions and wakes blocked clients exactly as a client's would.

// Extension is one Celery-aware extension of the engine.
type Extension struct {
	// Name is lower case; it names the INFO section and the extension's log
	// lines.
	Name string
	// Commands are the extension's commands, declared like the built-in ones.
	Commands []*Command
	// Written runs after a command changed the dataset. c is the client
	// that sent it (for a script, the caller of EVAL), argv the command as
	// run (for a script, redis.call's arguments). Engine lock.
	Written func(c *Client, cmd *Command, argv [][]byte)
	// Closed runs when c's connection has been closed. Engine lock.
	Closed func(c *Client)
	// Cron runs every cron tick while the server is neither loading nor
	// lending its lock to a long script. Engine lock.
	Cron func(now time.Time)
	// Info adds the fields of the extension's INFO section. Engine lock.
	Info func(add func(field, value string))
	// Attach runs once, when NewServer has built the server that carries
	// the extension and before it serves anyone: Cron and Info get no
	// server, so an extension keeps this one for them.
	Attach func(s *Server)
}

// extensions is the server's plugged-in extensions and the client their writes
// run as.
type extensions struct {
	list   []*Extension
	client *Client // Exec's client; created on first use
	// written lists the extensions with a Written hook, so a command pays
	// nothing when none watches.
	written []*Extension
	closed  []*Extension
}

func (m *extensions) init(list []*Extension) {
	m.list = list
	for _, mod := range list {
		if mod.Written != nil {
			m.written = append(m.written, mod)
		}
		if mod.Closed != nil {
			m.closed = append(m.closed, mod)
		}
	}
}

// attachExtensions hands the built server to the extensions' Attach hooks.
func (s *Server) attachExtensions() {
	for _, m := range s.ext.list {
		if m.Attach != nil {
			m.Attach(s)
		}
	}
}

// extensionCommands returns the command groups the extensions declare.
func extensionCommands(list []*Extension) [][]*Command {
	var groups [][]*Command
	for _, m := range list {
		if len(m.Commands) > 0 {
			groups = append(groups, m.Commands)
		}
	}
	return groups
}

// notifyWritten runs the Written hooks for a command c just ran. Engine
// lock.
func (s *Server) notifyWritten(c *Client, cmd *Command) {
	switch cmd.Name {
	case "exec", "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro":
		return // a unit of other commands: they were reported one by one
	}
	owner := c
	if c.flags&flagScript != 0 && s.scripts != nil && s.scripts.run.caller != nil {
		owner = s.scripts.run.caller
	}
	if owner.flags&flagExtension != 0 {
		return // an extension's own write: never feed it back
	}
	for _, m := range s.ext.written {
		m.Written(owner, cmd, c.argv)
	}
}

// notifyClosed runs the Closed hooks. Engine lock.
func (s *Server) notifyClosed(c *Client) {
	for _, m := range s.ext.closed {
		m.Closed(c)
	}
}

// extensionsCron runs the extensions' Cron hooks. Engine lock.
func (s *Server) extensionsCron(now time.Time) {
	for _, m := range s.ext.list {
		if m.Cron != nil {
			m.Cron(now)
		}
	}
}

// Exec runs argv in database db as a unit of its own on the extensions' client
// (authenticated, RESP2, never listed by CLIENT LIST) and returns its reply.
// The command goes through the table like any other, so it is propagated,
// invalidates WATCHes and serves blocked clients. Call it with the engine
// lock held, outside any unit (an extension's Cron, or a command handler after
// its reply is written), or from a Written hook: there the command joins the
// unit that triggered the hook, propagated right after the write it follows
// (one MULTI/EXEC in the AOF), as a command a script runs would.
func (s *Server) Exec(db int, argv ...[]byte) Value {
	c := s.ext.client
	if c == nil {
		c = &Client{srv: s, flags: flagExtension, authenticated: true, ReplyWriter: ReplyWriter{proto: 2}, name: "celerity-extension"}
		s.ext.client = c
	}
	c.db = s.ks.DB(db)
	c.buf = c.buf[:0]
	cmd := s.table.lookupArgv(argv)
	if cmd == nil {
		return Value{Kind: '-', Str: errUnknownCommand(argv)}
	}
	if (cmd.Arity > 0 && cmd.Arity != len(argv)) || len(argv) < -cmd.Arity {
		return Value{Kind: '-', Str: errWrongArgs(cmd.fullName)}
	}
	c.argv, c.cmd = argv, cmd
	c.call(cmd)
	if s.prop.depth == 0 && len(s.readyKeys) > 0 {
		s.handleClientsBlockedOnKeys()
	}
	c.argv = nil
	v, err := ReadValue(bufio.NewReader(bytes.NewReader(c.buf)))
	if err != nil {
		return Value{Kind: '-', Str: "ERR " + err.Error()}
	}
	return v
}

// Clients calls fn for every connected client. Engine lock.
func (s *Server) Clients(fn func(c *Client)) {
	for _, c := range s.clients {
		fn(c)
	}
}

// Client returns the connected client with this id, or nil. Engine lock.
func (s *Server) Client(id int64) *Client { return s.clients[id] }

// BlockedOn returns how many clients are blocked waiting on key in db.
// Engine lock.
func (s *Server) BlockedOn(db int, key string) int {
	return len(s.blocking[blockKey{db: db, key: key}])
}

// extensionInfo renders the INFO section of the extension named name; ok is false
// when none has that name.
func (s *Server) extensionInfo(name string, b *infoBuilder) bool {
	for _, m := range s.ext.list {
		if m.Name != name || m.Info == nil {
			continue
		}
		b.WriteString("# " + strings.ToUpper(name[:1]) + name[1:] + "\r\n")
		m.Info(b.field)
		return true
	}
	return false
}

// Name returns the client's name (CLIENT SETNAME), empty when unset.
func (c *Client) Name() string { return c.name }

// RemoteAddr returns the client's peer address as CLIENT LIST shows it.
func (c *Client) RemoteAddr() string { return c.addr }
