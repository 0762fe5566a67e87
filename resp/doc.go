// Package resp is Celerity's engine: connections, the command table, the
// dispatcher, reply encoding (RESP2 and RESP3), configuration, INFO and the
// background cron. It speaks to the data through package keyspace and knows
// nothing about Celery; Celery-aware packages add commands to its table.
//
// # Execution model
//
// Every command runs as a unit under one engine lock (Server.mu). Units are
// atomic and totally ordered, exactly as commands are in Redis's single
// thread. Outside the lock happens only socket I/O.
//
// Connections are served by reactors (reactor_linux.go): event loops on
// their own epoll instance, one by default like Redis. A reactor iteration:
//
//  1. epoll_wait, then one read from each readable socket into that
//     connection's parser buffer (level-triggered: no read that only
//     returns EAGAIN);
//  2. take the engine lock once and, for every ready connection, parse and
//     run its complete requests (processCommand: lookup, arity, auth, MULTI
//     rules, the ACL (acl.go), then the handler); replies are appended to the client's
//     ReplyWriter buffer; serve clients whose blocking timeout passed;
//  3. move each client's replies to its pending output, release the lock,
//     write them (a partial write arms EPOLLOUT).
//
// A pipeline that arrived in one read costs one lock acquisition and one
// write, and so does a batch of ready clients. Parsing happens under the
// lock, interleaved with execution, because a command can change how the
// next one is parsed (AUTH lifts the pre-authentication size limits, RESET
// restores them), as in Redis's processInputBuffer. Past maxPendingReply
// bytes of replies a client's pipeline pauses until they are written.
//
// Any unit may write to any client (serving a blocked client, pub/sub
// messages): it appends to that client's lock-protected buffer and calls
// wake, which lists the client for its reactor and interrupts its
// epoll_wait through a pipe.
//
// Lock order: the engine lock is the only lock a handler holds. Never hold
// it during network I/O, fsync or a channel wait; never take it from a
// handler (handlers run with it held).
//
// # Replies after the log
//
// Once the append-only file exists, a reply is released to the socket only
// after the AOF holds the unit that produced it and every unit before it;
// step 3 above is where that wait goes (group commit across a batch).
//
// # Snapshots
//
// BGREWRITEAOF and BGSAVE need the dataset as of one instant while clients
// keep writing; Redis forks, Celerity opens a keyspace snapshot
// (copy-before-write) and encodes it in steps of the engine lock, writing
// files outside it (persist.go, rdb.go). Only one snapshot may be open, so
// the two wait for each other as Redis's jobs wait for its one child.
//
// # Connections: why not redcon's server loop
//
// ARCHITECTURE.md starts from tidwall/redcon. Celerity owns its connection
// loop and request parser instead: (1) a client blocked in BRPOP must be
// detected as disconnected at once, which needs its socket watched while the
// command waits; (2) Redis's exact protocol errors and limits (pre-auth
// multibulk/bulk limits, proto-max-bulk-len checked before any allocation,
// client-query-buffer-limit, NUL-terminated header search) are part of the
// contract and redcon's reader has different texts and no limits; (3) RESP3;
// (4) measured: a goroutine per connection (redcon's model, and this
// package's first version) reached 0.85-0.9x Redis at redis-benchmark -P 1
// and -P 16 with twice Redis's p99, spending its time in the extra EAGAIN
// read per request and goroutine wake-ups; the epoll reactor reaches parity
// or better (see the README's benchmark table). Linux only: other systems
// would need a kqueue reactor.
//
// # Listeners, unix socket and TLS
//
// listen.go opens what redis-server opens (port and tls-port on every bind
// address, "-" optional addresses, tcp-backlog, unixsocket with
// unixsocketperm) with Redis's start-up messages. Accepted plaintext TCP
// and unix sockets are detached from Go's poller and served by a reactor
// directly, as above.
//
// A TLS connection is terminated by a goroutine of its own (tls.go): it
// runs the crypto/tls handshake and copies plaintext to and from one end
// of a socketpair, whose other end the reactor serves like any socket;
// the Client carries the real peer and local addresses (CLIENT LIST,
// KILL ADDR, MONITOR, protected mode). TLS inside the reactor would need a
// non-blocking TLS engine over memory buffers (OpenSSL's model), which
// crypto/tls does not offer: it owns a blocking net.Conn. The bridge costs
// TLS clients two extra copies and a goroutine wake-up per exchange; it
// adds nothing to the plaintext path, whose per-command work is unchanged.
//
// # Scripts
//
// EVAL runs its Lua script inside its own unit: redis.call runs commands
// through the same table on a fake client, under the lock the EVAL holds,
// so a script is as atomic as one command, and the blocked clients it
// served are woken with the rest of the unit. One interpreter per server
// (gopher-lua, sandboxed in script_lua.go) compiles each script once.
// Scripting errors spell Redis 7.0's texts in script.go, next to the code.
//
// # Memory limits
//
// With maxmemory set, processCommand evicts before every command, after the
// ACL/MULTI checks and before MISCONF, as Redis 7.0 does; evictions are
// units of their own (one DEL each in the AOF). evict.go says what memory
// counts (the dataset, not client buffers) and what -OOM refuses. Client
// memory is a budget of its own (clientevict.go): each client's reactor
// refreshes its share after the batch it served, and maxmemory-clients
// evicts the biggest clients before their replies are written, as Redis's
// beforeSleep does.
//
// # Extensions
//
// The Celery-aware packages (kombu, redbeat, results) are Extensions
// (extension.go): their dotted commands join the table, and their hooks run
// under the engine lock at fixed points — Written after a command changed
// the dataset (inside its unit, attributed to the sending client even from
// EXEC or a script), Closed when a connection is gone, Cron every tick,
// Info for their INFO section. They write only through Server.Exec, so an
// extension's write is propagated, bumps WATCH versions and serves blocked
// clients like any client's. The engine stays ignorant of Celery; cmd/
// decides which extensions a server has.
//
// # Errors
//
// Error texts live in errors.go; keyspace sentinels are mapped to them in
// replyErr. A handler never spells an error that another handler shares.
package resp
