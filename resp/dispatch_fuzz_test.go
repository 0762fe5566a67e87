package resp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/keyspace"
	"github.com/celerity/celerity/resp/conffile"
)

// FuzzDispatch runs a real server (a fresh one per input) and talks to it
// over one end of a Unix socketpair handed to the server as an accepted
// connection (adopt), so no TCP port is used. The request is written in
// chunks of the fuzzed size while the replies are read. The invariants:
//
//   - nothing panics (a panic in a reactor goroutine kills the process,
//     which the fuzzing engine reports as a crash);
//   - the server does not hang: every expected reply, or the end of the
//     connection, arrives within dispatchTimeout;
//   - every reply is well-formed RESP, and RESP3-only types appear only
//     after a HELLO;
//   - the number of replies matches the commands, as predicted by parsing
//     the same bytes with a parser (runParser): one reply per command, plus
//     the "-ERR Protocol error" reply that ends a malformed stream, with
//     the exceptions expectReplies documents (QUIT, Host:/POST, CLIENT
//     KILL of itself, CONFIG SET changing limits, blocked clients);
//   - a connection the client closes is released by the server;
//   - afterwards, with the clock moved on and a cron tick run, a new
//     connection still gets an answer to PING.
//
// When the request ends with a complete command, the harness appends QUIT
// as a sentinel: the server then closes the connection after the last
// reply, so extra replies cannot go unnoticed. A request ending in the
// middle of a command is read until the expected number of replies.
//
// An input is either raw bytes (raw=true: anything, including malformed
// requests) or a script (raw=false) whose lines become well-formed
// multibulk commands, see scriptCommands.
//
// Inputs derived from the large seeds are slow to minimize; when fuzzing,
// pass -fuzzminimizetime=5s or so.
func FuzzDispatch(f *testing.F) {
	f.Add(append(bytes.Repeat([]byte("PING "), 14*1024), "\r\nPING\r\n"...), true, uint16(0))
	f.Add(append(bytes.Repeat([]byte("x"), 70*1024), "\r\n"...), true, uint16(4096))
	f.Fuzz(func(t *testing.T, script []byte, raw bool, chunk uint16) {
		var stream []byte
		var sent [][][]byte
		if raw {
			stream = append(stream, script...)
		} else {
			sent = scriptCommands(script)
			for _, argv := range sent {
				stream = appendRequest(stream, argv)
			}
		}
		// The server's own parser sees exactly these bytes; its
		// proto-max-bulk-len cannot change (see newFuzzServer) and the
		// client starts authenticated.
		oracle := runParser(t, stream, []int{len(stream)}, parseOpts{maxBulk: fuzzMaxBulk})
		if !raw {
			// Well-formed commands parse back to themselves; only an
			// argument beyond proto-max-bulk-len (%x macro) stops them.
			requirePrefix(t, oracle.cmds, sent, "script")
			if oracle.err == "" {
				require.Len(t, oracle.cmds, len(sent))
				require.Zero(t, oracle.rest)
			} else {
				require.Equal(t, "Protocol error: invalid bulk length", oracle.err)
			}
		}
		// Past 64 KB, whether a long line is "too big" depends on how the
		// socket splits it (see sizeLimited): the replies to such raw
		// inputs cannot be predicted, so the harness half-closes after
		// writing and reads whatever comes until the server closes too.
		hazard := raw && len(stream) > inlineMaxSize
		if !hazard && oracle.err == "" && oracle.rest == 0 {
			stream = append(stream, quitRequest...)
			oracle.cmds = append(oracle.cmds, [][]byte{[]byte("QUIT")})
		}
		exp := expectReplies(oracle)
		srv, clock := newFuzzServer(t)
		size := len(stream)
		if chunk > 0 {
			size = max(int(chunk), len(stream)/64)
		}
		stopAfter := -1
		if !exp.closes && !hazard {
			stopAfter = exp.want
		}
		conv := converse(t, srv, stream, size, stopAfter, hazard)
		resp3 := false
		for _, argv := range oracle.cmds {
			resp3 = resp3 || strings.EqualFold(string(argv[0]), "hello")
		}
		for i, r := range conv.replies {
			if !resp3 && strings.IndexByte("_,#(=!%~>|", r[0]) >= 0 {
				t.Fatalf("reply %d is RESP3 without HELLO: %s", i, short(r))
			}
		}
		if !hazard {
			checkReplyCount(t, exp, oracle, conv)
		}

		// Let every volatile key expire and run a cron tick (active
		// expiry, stats, idle clients) on whatever the input left.
		srv.lock()
		clock.Advance(1000 * 24 * time.Hour)
		srv.cron(time.Now())
		srv.mu.Unlock()

		ping := converse(t, srv, []byte("*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nQUIT\r\n"), 0, -1, false)
		require.Len(t, ping.replies, 2, "PING, QUIT on a new connection: %q", ping.replies)
		require.Contains(t, []string{"+PONG\r\n", "-" + errNoAuth + "\r\n"}, string(ping.replies[0]))
		require.Equal(t, "+OK\r\n", string(ping.replies[1]))
	})
}

// quitRequest is the sentinel appended to complete requests.
var quitRequest = []byte("*1\r\n$4\r\nQUIT\r\n")

// fuzzMaxBulk is the proto-max-bulk-len of fuzzed servers: the smallest
// value CONFIG SET accepts. It caps what SETRANGE and APPEND may allocate.
const fuzzMaxBulk = 1 << 20

// dispatchTimeout bounds one conversation; running out of it means the
// server hung (or kept a connection open after its client finished).
const dispatchTimeout = 10 * time.Second

// newFuzzServer starts a server (reactor and cron) with a manual clock and
// a small proto-max-bulk-len. It has no listener: connections are handed
// to adopt directly. The CONFIG SET parameters with effects
// outside the server are removed from it, so CONFIG SET reports them as
// unknown: port and bind would listen on real sockets of a shared machine,
// dir would change the working directory of the test process, and
// proto-max-bulk-len, raised, would let SETRANGE allocate gigabytes.
func newFuzzServer(t *testing.T) (*Server, *keyspace.ManualClock) {
	t.Helper()
	cfg := NewConfig()
	cfg.Port = 0
	cfg.Bind = []string{"127.0.0.1"}
	cfg.ProtoMaxBulkLen = fuzzMaxBulk
	// SAVE, BGSAVE, FLUSHALL and save points write dump.rdb into dir.
	cfg.Dir = t.TempDir()
	// SHUTDOWN would end the server under test, as it should; fuzzing is
	// about surviving everything else.
	cfg.Renames = append(cfg.Renames, [2]string{"shutdown", ""})
	clock := &keyspace.ManualClock{Ms: 1_700_000_000_000}
	srv, err := NewServer(cfg, Options{Logger: zerolog.Nop(), Clock: clock})
	require.NoError(t, err)
	for _, name := range []string{"port", "bind", "dir", "proto-max-bulk-len", "appendonly"} {
		delete(srv.params, name)
	}
	srv.StartCron()
	t.Cleanup(func() {
		// A hung server has already failed the test; do not hang on it.
		done := make(chan struct{})
		go func() { srv.Shutdown(); close(done) }()
		select {
		case <-done:
		case <-time.After(dispatchTimeout):
			t.Errorf("server did not shut down")
		}
	})
	return srv, clock
}

// pairConn is one end of a socketpair with TCP-looking addresses (CLIENT
// LIST, CLIENT KILL ADDR); adopt takes its file descriptor.
type pairConn struct {
	*net.UnixConn
	local, remote net.Addr
}

func (c *pairConn) LocalAddr() net.Addr  { return c.local }
func (c *pairConn) RemoteAddr() net.Addr { return c.remote }

var pairPort atomic.Int32

// socketPair returns the client and server ends of a connected pair.
func socketPair(t *testing.T) (client *net.UnixConn, server net.Conn) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	conns := make([]*net.UnixConn, 2)
	for i, fd := range fds {
		file := os.NewFile(uintptr(fd), "socketpair")
		c, err := net.FileConn(file)
		file.Close()
		require.NoError(t, err)
		conns[i] = c.(*net.UnixConn)
		t.Cleanup(func() { c.Close() })
	}
	port := 10000 + int(pairPort.Add(1)%50000)
	return conns[0], &pairConn{
		UnixConn: conns[1],
		local:    &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 6379},
		remote:   &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port},
	}
}

// conversation is what one connection received.
type conversation struct {
	replies [][]byte
	closed  bool // the server closed the connection
	blocked bool // the client blocked; reading was abandoned
}

// converse serves one connection: it writes req in writes of at most
// chunk bytes (all at once if chunk is 0) while reading replies until the
// server closes the connection or, if stopAfter >= 0, stopAfter replies
// arrived; with halfClose, the write side is shut down after the request.
// A client that blocks (BLPOP on an empty list...) for long
// would stall the fuzzer: a watcher notices it and reading stops there. converse then
// closes the connection and waits for the server to release it. It fails
// the test on a malformed reply, a hang and a connection never released.
func converse(t *testing.T, srv *Server, req []byte, chunk, stopAfter int, halfClose bool) conversation {
	t.Helper()
	client, server := socketPair(t)
	srv.adopt(server, server.RemoteAddr().String(), server.LocalAddr().String(), 0)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer client.Close()
	wg.Go(func() {
		if chunk <= 0 {
			chunk = len(req)
		}
		for len(req) > 0 {
			n := min(chunk, len(req))
			if _, err := client.Write(req[:n]); err != nil {
				return // the server closed first (QUIT, protocol error)
			}
			req = req[n:]
		}
		if halfClose {
			client.CloseWrite()
		}
	})
	var blocked atomic.Bool
	stop := make(chan struct{})
	defer close(stop)
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
			srv.mu.Lock()
			for _, c := range srv.clients {
				// A short timeout is worth waiting for: it is answered.
				if c.flags&flagBlocked != 0 && (c.bstate == nil || c.bstate.deadline.IsZero() ||
					time.Until(c.bstate.deadline) > 100*time.Millisecond) {
					blocked.Store(true)
				}
			}
			srv.mu.Unlock()
			if blocked.Load() {
				client.SetReadDeadline(time.Now())
				return
			}
		}
	})
	require.NoError(t, client.SetReadDeadline(time.Now().Add(dispatchTimeout)))
	rr := bufio.NewReader(client)
	var conv conversation
	for len(conv.replies) != stopAfter {
		var buf bytes.Buffer
		err := readReply(rr, &buf, 0)
		if errors.Is(err, errNoMoreReplies) {
			conv.closed = true
			break
		}
		if errors.Is(err, os.ErrDeadlineExceeded) && blocked.Load() {
			conv.blocked = true
			break
		}
		if err != nil {
			t.Fatalf("reply %d: %v (got %s after %d replies)", len(conv.replies), err, short(buf.Bytes()), len(conv.replies))
		}
		conv.replies = append(conv.replies, buf.Bytes())
	}
	client.Close()
	// The server must notice and release the connection.
	deadline := time.Now().Add(dispatchTimeout)
	for {
		srv.mu.Lock()
		n := len(srv.clients)
		srv.mu.Unlock()
		if n == 0 {
			return conv
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d clients still registered after their connection closed", n)
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// errNoMoreReplies is the connection closing between replies.
var errNoMoreReplies = errors.New("no more replies")

// readReply copies one complete reply from r to out, validating its
// framing strictly: CRLF-terminated lines without other CR or LF, canonical
// lengths, payloads followed by CRLF, known type bytes, sane nesting. A
// RESP3 attribute (|) is read together with the reply it annotates, and a
// push frame (>) is out-of-band, so both count as part of the next reply.
func readReply(r *bufio.Reader, out *bytes.Buffer, depth int) error {
	if depth > 64 {
		return errors.New("reply nested more than 64 levels deep")
	}
	line, err := r.ReadBytes('\n')
	out.Write(line)
	if err != nil {
		if depth == 0 && len(line) == 0 && (err == io.EOF || errors.Is(err, syscall.ECONNRESET)) {
			return errNoMoreReplies
		}
		return fmt.Errorf("incomplete reply: %w", err)
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return fmt.Errorf("line %q does not end with CRLF", line)
	}
	body := line[1 : len(line)-2]
	if bytes.ContainsAny(body, "\r\n") {
		return fmt.Errorf("line %q has a CR or LF inside", line)
	}
	length := func(lo int64) (int64, error) {
		n, err := strconv.ParseInt(string(body), 10, 64)
		if err != nil || strconv.FormatInt(n, 10) != string(body) || n < lo {
			return 0, fmt.Errorf("bad length in %q", line)
		}
		return n, nil
	}
	switch line[0] {
	case '+', '-':
		return nil
	case ':':
		_, err := length(math.MinInt64)
		return err
	case '(':
		digits := strings.TrimPrefix(string(body), "-")
		if digits == "" || strings.Trim(digits, "0123456789") != "" {
			return fmt.Errorf("bad big number %q", line)
		}
		return nil
	case ',':
		switch s := string(body); s {
		case "inf", "-inf", "nan":
			return nil
		default:
			if _, err := strconv.ParseFloat(s, 64); err != nil {
				return fmt.Errorf("bad double %q", line)
			}
		}
		return nil
	case '#':
		if s := string(body); s != "t" && s != "f" {
			return fmt.Errorf("bad boolean %q", line)
		}
		return nil
	case '_':
		if len(body) != 0 {
			return fmt.Errorf("bad null %q", line)
		}
		return nil
	case '$', '!', '=':
		lo := int64(0)
		if line[0] == '$' {
			lo = -1
		}
		n, err := length(lo)
		if err != nil || n < 0 {
			return err
		}
		start := out.Len()
		if _, err := io.CopyN(out, r, n+2); err != nil {
			return fmt.Errorf("incomplete bulk: %w", err)
		}
		payload := out.Bytes()[start:]
		if !bytes.HasSuffix(payload, []byte("\r\n")) {
			return fmt.Errorf("bulk of %d bytes not followed by CRLF", n)
		}
		if line[0] == '=' && (n < 4 || payload[3] != ':') {
			return fmt.Errorf("verbatim string without a format: %q", payload)
		}
		return nil
	case '*', '~', '>', '%', '|':
		lo := int64(0)
		if line[0] == '*' {
			lo = -1
		}
		n, err := length(lo)
		if err != nil {
			return err
		}
		if line[0] == '%' || line[0] == '|' {
			n *= 2
		}
		for i := int64(0); i < n; i++ {
			if err := readReply(r, out, depth+1); err != nil {
				return err
			}
		}
		if depth == 0 && (line[0] == '|' || line[0] == '>') {
			return readReply(r, out, depth)
		}
		return nil
	}
	return fmt.Errorf("unknown reply type in %q", line)
}

// replyExpectation is what a conversation should produce.
type replyExpectation struct {
	want   int  // replies expected (an upper bound when httpAt >= 0)
	closes bool // the server ends the connection itself after them
	httpAt int  // index of a Host:/POST command, or -1
	early  bool // the connection may legitimately end early
	// variable is set when a pub/sub command is present: (P|S)SUBSCRIBE
	// confirms each name, an argument-less (P|S)UNSUBSCRIBE confirms each
	// subscription dropped, and a RESP3 subscriber publishing to its own
	// channel receives a push as well as the reply, so the count is not
	// one per command. The other checks (valid RESP, no panic, no hang,
	// PING afterwards) still apply.
	variable bool
}

// expectReplies predicts the replies to the commands the oracle parsed:
// one each, plus one for the protocol error that ends a malformed stream
// (exactly "-ERR <error>", after which the server closes). The legitimate
// exceptions:
//   - QUIT replies, then closes: later commands get nothing;
//   - a command named "host:" or "post" (HTTP talking to us) closes the
//     connection without a reply and, as Redis skips writing to clients
//     it is about to close, drops the replies still buffered from the
//     same read: anything from none to all earlier replies arrives;
//   - CLIENT KILL may match the connection itself: reply, then close;
//   - after CONFIG SET, the connection may end early and may end with a
//     protocol error the oracle (an authenticated parser) did not see:
//     requirepass, then RESET, subjects multibulk requests to the
//     unauthenticated limits; client-query-buffer-limit closes a client
//     whose pending request exceeds it; timeout closes an idle one;
//   - a client blocked by a blocking command (converse abandons it) has
//     only the replies of the commands before.
func expectReplies(oracle parseRun) replyExpectation {
	e := replyExpectation{want: len(oracle.cmds), closes: oracle.err != "", httpAt: -1}
	if e.closes {
		e.want++
	}
	for i, argv := range oracle.cmds {
		name := strings.ToLower(string(argv[0]))
		switch name {
		case "host:", "post":
			e.want, e.closes, e.httpAt = i, true, i
			return e
		case "quit":
			e.want, e.closes = i+1, true
			return e
		case "client", "config":
			e.early = true
		case "subscribe", "unsubscribe", "psubscribe", "punsubscribe", "ssubscribe", "sunsubscribe", "publish", "spublish", "monitor":
			e.variable = true
		}
	}
	return e
}

// checkReplyCount checks a conversation against expectReplies.
func checkReplyCount(t *testing.T, e replyExpectation, oracle parseRun, conv conversation) {
	t.Helper()
	got := len(conv.replies)
	isProtoErr := func(r []byte) bool { return bytes.HasPrefix(r, []byte("-ERR Protocol error: ")) }
	switch {
	case e.httpAt >= 0:
		require.LessOrEqual(t, got, e.httpAt, "replies before a %q command", oracle.cmds[e.httpAt][0])
	case e.variable:
		// Counted per name or subscription, not per command: see variable.
	case conv.blocked || e.early && got < e.want:
		require.LessOrEqual(t, got, e.want+1, "replies: %q", conv.replies)
	case e.early && got == e.want+1:
		require.True(t, isProtoErr(conv.replies[got-1]), "extra reply %s", short(conv.replies[got-1]))
	default:
		if got != e.want {
			t.Fatalf("%d replies, want %d for %d commands (protocol error %q); last reply %s",
				got, e.want, len(oracle.cmds), oracle.err, short(lastOf(conv.replies)))
		}
		if oracle.err != "" && !e.early && e.want == len(oracle.cmds)+1 {
			// Error replies stay on one line: CR and LF become spaces.
			line := strings.NewReplacer("\r", " ", "\n", " ").Replace(oracle.err)
			require.Equal(t, "-ERR "+line+"\r\n", string(conv.replies[got-1]))
		}
	}
}

func lastOf(replies [][]byte) []byte {
	if len(replies) == 0 {
		return nil
	}
	return replies[len(replies)-1]
}

// appendRequest encodes argv as a multibulk request.
func appendRequest(b []byte, argv [][]byte) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(argv)), 10)
	b = append(b, '\r', '\n')
	for _, a := range argv {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, '\r', '\n')
		b = append(b, a...)
		b = append(b, '\r', '\n')
	}
	return b
}

// scriptCommands turns a script into commands: one per non-blank line,
// split into words as redis-cli would (conffile.SplitArgs: quotes, \xHH;
// plain whitespace splitting if the quotes do not balance). Two word forms
// are expanded so that a one-byte mutation reaches far:
//   - #N is dictionaryWord(N): a command name, an option, a number, a
//     glob, a config parameter...
//   - %xN is N bytes of 'x' (at most one byte beyond fuzzMaxBulk), for
//     large arguments and replies without large inputs.
func scriptCommands(script []byte) [][][]byte {
	var cmds [][][]byte
	for line := range strings.Lines(string(script)) {
		words, err := conffile.SplitArgs(line)
		if err != nil {
			words = strings.Fields(line)
		}
		if len(words) == 0 {
			continue
		}
		argv := make([][]byte, len(words))
		for i, w := range words {
			argv[i] = []byte(expandWord(w))
		}
		cmds = append(cmds, argv)
	}
	return cmds
}

func expandWord(w string) string {
	if len(w) > 1 && w[0] == '#' {
		if n, err := strconv.ParseUint(w[1:], 10, 64); err == nil {
			return dictionaryWord(n)
		}
	}
	if len(w) > 2 && w[:2] == "%x" {
		if n, err := strconv.ParseUint(w[2:], 10, 64); err == nil {
			return strings.Repeat("x", int(min(n, fuzzMaxBulk+1)))
		}
	}
	return w
}

// fuzzWords are the words scripts draw from with #N, after which come the
// names of every command in the table. Only append to this list: corpus
// entries refer to words by index.
var fuzzWords = []string{
	// Option words.
	"NX", "XX", "GT", "LT", "EX", "PX", "EXAT", "PXAT", "GET", "KEEPTTL",
	"PERSIST", "MATCH", "COUNT", "TYPE", "ID", "ADDR", "LADDR", "USER",
	"SKIPME", "yes", "no", "AUTH", "SETNAME", "DB", "REPLACE", "ASYNC",
	"SYNC", "NOSAVE", "SAVE", "ABORT", "FILTERBY", "MODULE", "ACLCAT",
	"PATTERN", "string", "none", "normal", "pubsub", "master", "replica",
	"default", "all", "everything", "server", "clients", "memory", "stats",
	"commandstats", "errorstats", "keyspace",
	// Numbers: edges of int32, int64 and uint64, signs, floats,
	// non-canonical forms.
	"0", "1", "-1", "2", "3", "10", "100", "-100", "16", "15",
	"2147483647", "2147483648", "-2147483648", "-2147483649",
	"9223372036854775807", "9223372036854775808", "-9223372036854775808",
	"-9223372036854775809", "18446744073709551615", "18446744073709551616",
	"1048575", "1048576", "536870911", "536870912", "4294967296",
	"1.5", "-0.0", "1e308", "1e309", "-1e309", "inf", "-inf", "+inf",
	"nan", "5e-324", "0x10", "+1", "007", " 1", "1 ", "-0", "",
	// Keys, values and globs.
	"k", "k2", "{k}", "*", "?", "[a-", "[^a]*", "\\", "h*llo", "\x00",
	"\r\n", "\xff\xfe", "Host:", "POST",
	// Subcommands and config parameters.
	"HELP", "LIST", "KILL", "INFO", "DOCS", "GETKEYS", "RESETSTAT", "SET",
	"GETNAME", "ENCODING", "FREQ", "IDLETIME", "REFCOUNT", "maxclients",
	"timeout", "hz", "requirepass", "loglevel", "save", "appendonly",
	"databases", "client-query-buffer-limit", "tcp-keepalive", "logfile",
	"daemonize", "port", "bind", "dir", "proto-max-bulk-len", "debug",
	"notice",
	// Commands Celerity does not implement (yet).
	"DEBUG", "SHUTDOWN", "MULTI", "EXEC", "WATCH", "SUBSCRIBE", "BLPOP",
	"LPUSH", "EVAL", "ACL", "SAVE", "BGSAVE", "MONITOR", "SLOWLOG",
	// Lists, hashes, sets, sorted sets.
	"LEFT", "RIGHT", "BEFORE", "AFTER", "RANK", "MAXLEN", "WITHSCORES",
	"LIMIT", "BYSCORE", "BYLEX", "REV", "MIN", "MAX", "INCR", "CH",
	"AGGREGATE", "SUM", "WEIGHTS", "WITHVALUES", "(1", "[a", "(a", "-",
	"+", "0.001", "0.01", "-0.5", "list-max-listpack-size",
	"zset-max-listpack-entries", "hash-max-listpack-value",
	"set-max-intset-entries",
}

var fuzzDictionary = sync.OnceValue(func() []string {
	words := append([]string(nil), fuzzWords...)
	table, err := NewTable(builtinCommands()...)
	if err != nil {
		panic(err)
	}
	for _, c := range table.Commands() {
		words = append(words, c.Name)
	}
	return words
})

func dictionaryWord(n uint64) string {
	d := fuzzDictionary()
	return d[n%uint64(len(d))]
}
