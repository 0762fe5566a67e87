// Package resp is Celerity's engine: connections, the command table, the
// dispatcher, reply encoding (RESP2 and RESP3), configuration, INFO and the
// background cron. It speaks to the data through package keyspace and knows
// nothing about Celery; Celery-aware packages add commands to its table.
//
// # Execution model
//
// Every command runs as a unit under one engine lock (Server.mu). Units are
// atomic and totally ordered, exactly as commands are in Redis's single
// thread. What runs outside the lock is only per-connection I/O: reading
// bytes into the connection's buffer and writing its replies.
//
// A connection's goroutine loops:
//
//  1. read from the socket into the parser's buffer (no lock);
//  2. take the engine lock and, for each complete request in the buffer,
//     parse it and run processCommand: lookup, arity, auth, MULTI rules,
//     then the handler (a unit); replies are appended to the client's
//     ReplyWriter buffer;
//  3. release the lock and write the buffered replies with one write(2).
//
// A pipeline of N requests that arrived in one read therefore costs one lock
// acquisition and one write. Parsing happens under the lock, interleaved
// with execution, because a command can change how the next one is parsed
// (AUTH lifts the pre-authentication size limits, RESET restores them), as
// in Redis's processInputBuffer. Past maxPendingReply bytes of replies the
// lock is released and the replies written before the pipeline continues,
// so one client's huge pipeline neither holds the lock nor grows its buffer
// without bound.
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
// # Connections: why not redcon's server loop
//
// ARCHITECTURE.md starts from tidwall/redcon. Celerity owns its connection
// loop and request parser instead, for three reasons measured or required:
// (1) a client blocked in BRPOP must be detected as disconnected at once,
// which needs the socket watched while the command waits, and redcon's
// handler model gives no hook for that; (2) Redis's exact protocol errors
// and limits (pre-auth multibulk/bulk limits, proto-max-bulk-len checked
// before any allocation, client-query-buffer-limit, NUL-terminated header
// search) are part of the contract and redcon's reader has different texts
// and no limits; (3) RESP3 replies. The loop is the same shape as redcon's
// (pipelined parse, one flush per read batch).
//
// # Errors
//
// Error texts live in errors.go; keyspace sentinels are mapped to them in
// replyErr. A handler never spells an error that another handler shares.
package resp
