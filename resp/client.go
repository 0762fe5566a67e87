package resp

import (
	"strings"
	"sync/atomic"

	"github.com/celerity/celerity/keyspace"
)

// clientFlag holds per-connection state bits.
type clientFlag uint32

const (
	flagCloseAfterReply clientFlag = 1 << iota // QUIT, protocol error
	flagCloseASAP                              // CLIENT KILL, limits: close without flushing more
	flagMulti                                  // inside MULTI
	flagDirtyExec                              // a queued command was rejected: EXEC aborts
	flagPubsub                                 // subscribed to a channel or pattern
	flagBlocked                                // waiting in a blocking command
	flagNoEvict                                // CLIENT NO-EVICT on
	flagNoTouch                                // CLIENT NO-TOUCH on
	flagScript                                 // the fake client scripts run as
	flagLoading                                // the fake client the AOF loader runs as
	flagInExec                                 // running the commands of an EXEC
	flagDirtyCAS                               // a WATCHed key changed: EXEC fails
	flagMonitor                                // MONITOR: receives every command (monitor.go)
	flagReplyOff                               // CLIENT REPLY OFF
	flagReplySkip                              // CLIENT REPLY SKIP: this command's reply is dropped
	flagReplySkipNext                          // CLIENT REPLY SKIP just ran: drop the next reply
	flagPostponed                              // held by CLIENT PAUSE until the pause ends
	flagExtension                              // the client extensions write as (extension.go)
	flagUnixSocket                             // connected through unixsocket (CLIENT LIST flag U)
)

// Client is one connection's state. Everything except the I/O buffers is
// read and written under the engine lock; handlers receive the client whose
// command they run and reply through its embedded ReplyWriter.
type Client struct {
	ReplyWriter

	srv   *Server
	id    int64
	addr  string
	laddr string
	fd    int
	r     *reactor // owner of the socket

	// Owned by the reactor goroutine.
	out         []byte // replies taken from buf, being written
	outPos      int    // bytes of out already written
	wantWrite   bool   // EPOLLOUT armed
	dead        bool   // the socket failed or the peer closed it
	released    bool   // unregistered and its socket closed
	stamp       uint64 // reactor loop iteration that last listed the client
	pendingUndo func() // reverses a served pop until its reply is written

	woken bool // listed in r.woken (under the engine lock)

	// unsent is len(out)-outPos as of the reactor's last look, readable
	// under the engine lock: with len(buf) it is what the client has not
	// received yet (output-buffer limits, CLIENT LIST omem).
	unsent atomic.Int64

	name string
	user *aclUser // nil: a fake client allowed everything (AOF loader, extensions)

	db            *keyspace.DB
	authenticated bool
	flags         clientFlag

	argv    [][]byte
	cmd     *Command
	lastCmd *Command
	// redacted lists the arguments of the running command that the slow
	// log and MONITOR must not show (passwords; see redactArg).
	redacted []int

	// Propagation of the running command (prop.go): what to write instead
	// of argv, or nothing, or argv even if nothing changed.
	propArgv  [][]byte
	noProp    bool
	forceProp bool

	ctimeMs int64 // connection time, Unix ms
	lastMs  int64 // last interaction, Unix ms

	in parser

	bstate *blockState // what the client waits for while flagBlocked

	mstate  multiState   // the transaction being queued while flagMulti
	watched []watchedKey // keys this client WATCHes

	pubsub *clientPubsub // subscriptions; nil when there are none (pubsub.go)

	cmem  clientMem       // memory share for maxmemory-clients (clientevict.go)
	track *clientTracking // CLIENT TRACKING; nil when never enabled (tracking.go)
}

// ID returns the client's unique, monotonically assigned id.
func (c *Client) ID() int64 { return c.id }

// Argv returns the arguments of the command being run. They alias the
// connection's read buffer: copy anything kept beyond the unit.
func (c *Client) Argv() [][]byte { return c.argv }

// DB returns the client's selected database.
func (c *Client) DB() *keyspace.DB { return c.db }

// Server returns the server the client belongs to.
func (c *Client) Server() *Server { return c.srv }

// Error replies with an error. msg carries its code ("ERR ...",
// "WRONGTYPE ..."); the code is counted in INFO errorstats.
func (c *Client) Error(msg string) {
	c.rawError(msg)
	c.srv.countError(msg)
}

// SyntaxError replies with ERR syntax error.
func (c *Client) SyntaxError() { c.Error(errSyntax) }

// WrongArgs replies with the arity error of the running command.
func (c *Client) WrongArgs() { c.Error(errWrongArgs(c.cmd.fullName)) }

// errorCode returns the first word of an error text, as Redis's errorstats
// key it.
func errorCode(msg string) string {
	if i := strings.IndexByte(msg, ' '); i >= 0 {
		return msg[:i]
	}
	return msg
}

// authRequired reports whether the client must authenticate before running
// anything but no-auth commands (Redis's authRequired): it has not, and the
// default user has a password or is off.
func (c *Client) authRequired() bool {
	return !c.authenticated && c.srv.acl.defaultNeedsAuth()
}
