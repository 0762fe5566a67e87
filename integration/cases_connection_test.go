package integration

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/resp"
	"github.com/celerity/celerity/resp/conffile"
	"github.com/celerity/celerity/resp/resptest"
)

// This file holds the connection cases (PING, ECHO, SELECT, QUIT, RESET,
// AUTH, HELLO, CLIENT) and the extended runner they share with the server,
// INFO and authentication cases. runCases compares one connection with
// byte-exact or tolerant modes; these cases also need several connections
// per case (CLIENT KILL of another client), per-server arguments (a client
// id or address differs between the two servers), servers started with a
// password, steps that expect the server to close the connection, and
// comparators for replies that embed ids, addresses or statistics. Each
// such comparator compares the narrowest thing that must match and says
// why where it is defined.

// target is a Celerity and an oracle configured alike.
type target struct {
	cel, ora string
	password string // requirepass of both servers; "" for none
}

// defaultTarget is a fresh in-process Celerity and the package's oracle.
func defaultTarget(t *testing.T) target {
	t.Helper()
	ora := needOracle(t)
	return target{cel: resptest.NewServer(t).Addr(), ora: ora}
}

// testPassword is the requirepass of authTarget's servers.
const testPassword = "pw"

// authTarget starts a redis-server and a Celerity that both require
// testPassword, for the authentication flows (the package's oracle has no
// password, and giving it one would break every other test).
func authTarget(t *testing.T) target {
	t.Helper()
	needOracle(t)
	ora := startRedis(t, "--requirepass", testPassword)
	srv := resptest.NewServer(t, resptest.WithConfig(func(cfg *resp.Config) {
		require.NoError(t, cfg.Apply(conffile.Directive{Name: "requirepass", Args: []string{testPassword}}))
	}))
	return target{cel: srv.Addr(), ora: ora, password: testPassword}
}

// startRedis starts a throw-away redis-server with extra arguments, like
// the package's oracle (random port, no persistence, a temporary
// directory), and stops it when the test ends. Readiness is any reply to
// PING, since a password makes it -NOAUTH.
func startRedis(t *testing.T, extra ...string) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	require.NoError(t, err)
	dir := t.TempDir()
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			lastErr = err
			continue
		}
		logPath := filepath.Join(dir, "redis.log")
		args := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", dir,
			"--daemonize", "no", "--logfile", logPath}, extra...)
		cmd := exec.Command(bin, args...)
		dieWithParent(cmd)
		if err := cmd.Start(); err != nil {
			lastErr = err
			continue
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if err := awaitAnswer(addr, exited, 10*time.Second); err != nil {
			_ = cmd.Process.Kill()
			<-exited
			log, _ := os.ReadFile(logPath)
			lastErr = fmt.Errorf("%v; log tail: %s", err, tail(log, 400))
			continue
		}
		t.Cleanup(func() {
			_ = cmd.Process.Signal(os.Interrupt)
			select {
			case <-exited:
			case <-time.After(5 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
			}
		})
		return addr
	}
	t.Fatalf("starting redis-server %v: %v", extra, lastErr)
	return ""
}

// awaitAnswer polls addr with PING until any status or error line comes
// back, the process exits or the limit passes.
func awaitAnswer(addr string, exited <-chan struct{}, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for delay := 5 * time.Millisecond; ; delay = min(delay*2, 200*time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			_ = c.SetDeadline(time.Now().Add(time.Second))
			_, _ = c.Write([]byte("PING\r\n"))
			line, err := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if err == nil && (line[0] == '+' || line[0] == '-') {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer from %s within %v", addr, limit)
		}
		select {
		case <-exited:
			return errors.New("redis-server exited during start")
		case <-time.After(delay):
		}
	}
}

// comparator reports "" when a Celerity reply (g) matches the oracle's (w)
// for the step's purpose, otherwise why not.
type comparator func(g, w *reply) string

// xstep is one step of an xcase.
type xstep struct {
	conn int      // index of the case's connection it runs on
	args []string // argv; {id}, {addr}, {laddr} and {idN}... are per server
	// login authenticates: AUTH <pw> in RESP2, HELLO 3 AUTH default <pw> in
	// RESP3 (so later steps run in the case's protocol).
	login bool
	send  bool // write only: the reply is read by a later recv step
	recv  bool // no write: read the reply of an earlier send
	// raw, when set, is written as is instead of args (a write error is
	// ignored: the server may close before reading it all); then one
	// reply is read.
	raw string
	cmp comparator
	// closes: after the reply (or, for a step without args, at once) both
	// servers must close the connection.
	closes bool
	// blocked: no command; wait until the connection is blocked on both
	// servers (CLIENT LIST shows flag b), polled from connection 0.
	blocked bool
	// proto, when set, runs the step only in that protocol's run (a RESP3
	// push has no RESP2 counterpart).
	proto int
}

// Step constructors.
func x(args ...string) xstep                { return xstep{args: args} }
func on(conn int, args ...string) xstep     { return xstep{conn: conn, args: args} }
func login(conn int) xstep                  { return xstep{conn: conn, login: true} }
func sendOn(conn int, args ...string) xstep { return xstep{conn: conn, args: args, send: true} }
func recvOn(conn int) xstep                 { return xstep{conn: conn, recv: true} }
func closedOn(conn int) xstep               { return xstep{conn: conn, closes: true} }
func awaitBlocked(conn int) xstep           { return xstep{conn: conn, blocked: true} }
func rawOn(conn int, raw string) xstep      { return xstep{conn: conn, raw: raw} }

func (s xstep) with(c comparator) xstep { s.cmp = c; return s }
func (s xstep) closing() xstep          { s.closes = true; return s }
func (s xstep) resp3() xstep            { s.proto = 3; return s }

// xcase is a named sequence of steps over one or more connections, run
// once per protocol from clean state (FLUSHALL where no password stands in
// the way).
type xcase struct {
	name    string
	conns   int // connections to open; 0 means 1
	steps   []xstep
	cleanup [][]string // run on both servers afterwards, uncompared
}

// xconn is one connection to each server: [0] Celerity, [1] the oracle.
type xconn struct {
	c    [2]*resptest.Conn
	vars [2]map[string]string // id, addr, laddr; resolved on first use
}

type xpair struct {
	t     *testing.T
	tg    target
	proto int
	conns []*xconn
}

var sideName = [2]string{"celerity", "oracle"}

// runX runs cases against tg in both protocols, counting them in the
// package summary like runCases does.
func runX(t *testing.T, tg target, cases []xcase) {
	t.Helper()
	names := map[string]bool{}
	for _, c := range cases {
		require.False(t, names[c.name], "duplicate case name %q", c.name)
		names[c.name] = true
	}
	for _, c := range cases {
		for _, proto := range protocols {
			t.Run(fmt.Sprintf("%s/RESP%d", c.name, proto), func(t *testing.T) {
				x := openX(t, tg, proto, max(c.conns, 1))
				if len(c.cleanup) > 0 {
					t.Cleanup(func() { x.cleanup(c.cleanup) })
				}
				for i, st := range c.steps {
					if st.proto != 0 && st.proto != proto {
						continue
					}
					if why := x.run(st); why != "" {
						t.Errorf("case %q step %d: %s", c.name, i+1, why)
					}
					if st.args != nil || st.login || st.raw != "" {
						suiteStats.steps[proto].Add(1)
					}
				}
				suiteStats.cases[proto].Add(1)
			})
		}
	}
}

// openX dials the case's connections. Without a password each connection
// switches to proto (HELLO 3) and the dataset is emptied; with one, the
// connections start unauthenticated in RESP2 and login steps switch them.
func openX(t *testing.T, tg target, proto, n int) *xpair {
	t.Helper()
	x := &xpair{t: t, tg: tg, proto: proto}
	for i := 0; i < n; i++ {
		xc := &xconn{}
		for side, addr := range [2]string{tg.cel, tg.ora} {
			c := resptest.Dial(t, addr)
			if tg.password == "" {
				if proto == 3 {
					v := c.Do("HELLO", "3")
					require.NotEqual(t, byte('-'), v.Kind, "HELLO 3: %s", v.Str)
				}
				if i == 0 {
					require.Equal(t, "+OK\r\n", string(c.DoRaw("FLUSHALL")), "FLUSHALL")
				}
			}
			xc.c[side] = c
		}
		x.conns = append(x.conns, xc)
	}
	if tg.password == "" {
		// Resolve ids and addresses now: a connection may be blocked
		// when a later step names it.
		for _, xc := range x.conns {
			for side := range xc.c {
				x.resolve(xc, side)
			}
		}
	}
	return x
}

// resolve reads the connection's id and addresses from CLIENT INFO on
// the connection itself (its cmd field then reads client|info on both
// servers alike).
func (x *xpair) resolve(xc *xconn, side int) map[string]string {
	x.t.Helper()
	if xc.vars[side] != nil {
		return xc.vars[side]
	}
	r, err := parseReply(xc.c[side].DoRaw("CLIENT", "INFO"))
	require.NoError(x.t, err)
	require.Contains(x.t, "$=", string(r.Kind), "CLIENT INFO on %s: %q", sideName[side], r.Raw)
	lines, why := clientLines(r)
	require.Empty(x.t, why)
	require.Len(x.t, lines, 1)
	vars := map[string]string{}
	for _, kv := range lines[0] {
		vars[kv[0]] = kv[1]
	}
	xc.vars[side] = vars
	return vars
}

// subst replaces the placeholders {id}, {addr}, {laddr} (connection 0)
// and {id1}, {addr1}, {laddr1}... (connection N) with side's values.
func (x *xpair) subst(side int, args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		for strings.Contains(a, "{") {
			open := strings.Index(a, "{")
			end := strings.Index(a[open:], "}")
			if end < 0 {
				break
			}
			name := a[open+1 : open+end]
			key := strings.TrimRight(name, "0123456789")
			if key != "id" && key != "addr" && key != "laddr" {
				break
			}
			n := 0
			if key != name {
				n, _ = strconv.Atoi(name[len(key):])
			}
			v := x.resolve(x.conns[n], side)[key]
			a = a[:open] + v + a[open+end+1:]
		}
		out[i] = a
	}
	return out
}

// run executes one step on both servers and compares.
func (x *xpair) run(st xstep) string {
	x.t.Helper()
	xc := x.conns[st.conn]
	if st.blocked {
		return x.awaitBlocked(st.conn)
	}
	if st.args == nil && !st.login && !st.recv && st.raw == "" {
		return x.expectClosed(xc, "")
	}
	args, cmp := st.args, st.cmp
	if st.login {
		args = []string{"AUTH", x.tg.password}
		if x.proto == 3 {
			args, cmp = []string{"HELLO", "3", "AUTH", "default", x.tg.password}, cmpHello
		}
	}
	var raw [2][]byte
	for side, c := range xc.c {
		switch {
		case st.raw != "":
			_ = c.NetConn().SetWriteDeadline(time.Now().Add(10 * time.Second))
			_, _ = c.NetConn().Write([]byte(st.raw))
			args = []string{st.raw[:min(len(st.raw), 40)]}
		case !st.recv:
			c.Send(x.subst(side, args)...)
		}
		if st.send {
			continue
		}
		b, err := c.TryReadRaw(10 * time.Second)
		if err != nil {
			return fmt.Sprintf("%s [RESP%d]: %s: reading the reply: %v (got %q)", showArgs(args), x.proto, sideName[side], err, b)
		}
		raw[side] = b
	}
	if st.send {
		return ""
	}
	if why := compareWith(cmp, raw[0], raw[1]); why != "" {
		show := showReply
		if cmp != nil {
			// A comparator names the difference; long replies (INFO)
			// would bury it.
			show = func(b []byte) string { return showReply(b[:min(len(b), 400)]) }
		}
		return fmt.Sprintf("%s [RESP%d]: %s\n  celerity: %s\n  oracle:   %s", showArgs(args), x.proto, why, show(raw[0]), show(raw[1]))
	}
	if st.closes {
		return x.expectClosed(xc, showArgs(args))
	}
	return ""
}

// compareWith applies cmp (nil: exact bytes) to two raw replies.
func compareWith(cmp comparator, got, want []byte) string {
	if cmp == nil {
		if bytes.Equal(got, want) {
			return ""
		}
		return "bytes differ"
	}
	g, err := parseReply(got)
	if err != nil {
		return "celerity reply does not parse: " + err.Error()
	}
	w, err := parseReply(want)
	if err != nil {
		return "oracle reply does not parse: " + err.Error()
	}
	return cmp(g, w)
}

// expectClosed checks that both servers close the connection (with
// nothing more to send) within a bound.
func (x *xpair) expectClosed(xc *xconn, after string) string {
	for side, c := range xc.c {
		if why := awaitEOF(c); why != "" {
			return fmt.Sprintf("after %s [RESP%d]: %s did not close the connection: %s", after, x.proto, sideName[side], why)
		}
	}
	return ""
}

// awaitEOF reads until the peer closes; anything else is reported.
func awaitEOF(c *resptest.Conn) string {
	b, err := c.TryReadRaw(5 * time.Second)
	switch {
	case isClosed(err) && len(b) == 0:
		return ""
	case err == nil:
		return fmt.Sprintf("unexpected reply %q", b)
	default:
		return fmt.Sprintf("%v (got %q)", err, b)
	}
}

// isClosed reports whether a read error means the peer closed the
// connection (a FIN, or a reset when our unread request was discarded).
func isClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

// awaitBlocked polls CLIENT LIST ID <conn's id> from connection 0 on each
// server until the client shows flag b (bounded): a step that unblocks it
// must not overtake the blocking command.
func (x *xpair) awaitBlocked(conn int) string {
	for side := range x.conns[0].c {
		id := x.resolve(x.conns[conn], side)["id"]
		deadline := time.Now().Add(5 * time.Second)
		for {
			r, err := parseReply(x.conns[0].c[side].DoRaw("CLIENT", "LIST", "ID", id))
			if err == nil && strings.Contains(r.Str, " flags=b ") {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Sprintf("%s: connection %d not blocked within 5s", sideName[side], conn)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	return ""
}

// cleanup runs commands on fresh connections to both servers (the case's
// own may be closed), uncompared.
func (x *xpair) cleanup(cmds [][]string) {
	for _, addr := range []string{x.tg.cel, x.tg.ora} {
		c := resptest.Dial(x.t, addr)
		if x.tg.password != "" {
			c.DoRaw("AUTH", x.tg.password)
		}
		for _, args := range cmds {
			c.DoRaw(args...)
		}
	}
}

// shapeOnly compares types, nullness and sizes (ids, times).
func shapeOnly(g, w *reply) string { return compareShape(g, w, "reply") }

// cmpHello compares HELLO replies exactly except the value of "id", which
// counts connections since each server started: only its type must match.
// Errors are compared exactly.
func cmpHello(g, w *reply) string {
	if g.Kind == '-' || w.Kind == '-' || g.Kind != w.Kind || g.Head != w.Head || !g.isAggregate() {
		if bytes.Equal(g.Raw, w.Raw) {
			return ""
		}
		return "bytes differ"
	}
	for i := 0; i+1 < len(w.Elems); i += 2 {
		gk, wk := g.Elems[i], w.Elems[i]
		if !bytes.Equal(gk.Raw, wk.Raw) {
			return fmt.Sprintf("key %d is %q, oracle %q", i/2, gk.Raw, wk.Raw)
		}
		gv, wv := g.Elems[i+1], w.Elems[i+1]
		if wk.Str == "id" {
			if gv.Kind != ':' || wv.Kind != ':' {
				return "id is not an integer"
			}
			continue
		}
		if !bytes.Equal(gv.Raw, wv.Raw) {
			return fmt.Sprintf("%q differs", wk.Str)
		}
	}
	return ""
}

// clientValueFields are the CLIENT LIST/INFO fields whose values must be
// equal for the same connection state. The others (id, addr, laddr, fd,
// age, idle, buffer sizes and memory) depend on the process, the socket
// and the allocator: only their presence and position are compared.
var clientValueFields = map[string]bool{
	"name": true, "flags": true, "db": true, "sub": true, "psub": true, "ssub": true,
	"multi": true, "cmd": true, "user": true, "redir": true, "resp": true,
}

// clientLines parses CLIENT LIST/INFO text: one line per client ending in
// "\n", space-separated k=v fields.
func clientLines(r *reply) ([][][2]string, string) {
	text := r.Str
	if r.Kind == '=' {
		if !strings.HasPrefix(text, "txt:") {
			return nil, "verbatim string without txt: format"
		}
		text = text[4:]
	}
	if text == "" {
		return nil, ""
	}
	if !strings.HasSuffix(text, "\n") {
		return nil, "text does not end in a newline"
	}
	var lines [][][2]string
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		var fields [][2]string
		for _, f := range strings.Split(line, " ") {
			k, v, ok := strings.Cut(f, "=")
			if !ok {
				return nil, fmt.Sprintf("field %q is not k=v", f)
			}
			fields = append(fields, [2]string{k, v})
		}
		lines = append(lines, fields)
	}
	return lines, ""
}

// cmpClients compares CLIENT LIST/INFO replies: the reply type, the number
// of lines, and per line the field names in order and the values of
// clientValueFields. Errors are compared exactly.
func cmpClients(g, w *reply) string {
	return compareClients(g, w, false)
}

// cmpClientsAny is cmpClients for an unfiltered CLIENT LIST, where either
// server may still list connections of earlier tests that are closing:
// every line of both must have the oracle's field names in order, and the
// lines' values are not compared.
func cmpClientsAny(g, w *reply) string {
	return compareClients(g, w, true)
}

func compareClients(g, w *reply, any bool) string {
	if g.Kind != w.Kind {
		return fmt.Sprintf("type %q, oracle %q", g.Kind, w.Kind)
	}
	if w.Kind == '-' || w.Kind != '$' && w.Kind != '=' {
		if bytes.Equal(g.Raw, w.Raw) {
			return ""
		}
		return "bytes differ"
	}
	gl, why := clientLines(g)
	if why != "" {
		return "celerity: " + why
	}
	wl, why := clientLines(w)
	if why != "" {
		return "oracle: " + why
	}
	if any {
		if len(wl) == 0 || len(gl) == 0 {
			return fmt.Sprintf("%d lines, oracle %d", len(gl), len(wl))
		}
		for i, l := range gl {
			if a, b := fieldNames(l), fieldNames(wl[0]); a != b {
				return fmt.Sprintf("line %d fields %s, oracle %s", i, a, b)
			}
		}
		return ""
	}
	if len(gl) != len(wl) {
		return fmt.Sprintf("%d lines, oracle %d", len(gl), len(wl))
	}
	for i := range wl {
		if a, b := fieldNames(gl[i]), fieldNames(wl[i]); a != b {
			return fmt.Sprintf("line %d fields\n    %s\n  oracle\n    %s", i, a, b)
		}
		for j, kv := range wl[i] {
			if kv[0] == "redir" && redirClass(gl[i][j][1]) == redirClass(kv[1]) {
				continue // a client id: the servers number clients differently
			}
			if clientValueFields[kv[0]] && gl[i][j][1] != kv[1] {
				return fmt.Sprintf("line %d: %s=%q, oracle %q", i, kv[0], gl[i][j][1], kv[1])
			}
		}
	}
	return ""
}

// redirClass is what a CLIENT LIST redir value says: -1 (no tracking), 0
// (no redirection) or a client id.
func redirClass(v string) string {
	if v == "-1" || v == "0" {
		return v
	}
	return "id"
}

func fieldNames(l [][2]string) string {
	names := make([]string, len(l))
	for i, kv := range l {
		names[i] = kv[0]
	}
	return strings.Join(names, " ")
}

// ---- connection cases ----

func TestDiffConnection(t *testing.T) {
	runCases(t, connectionCases())
}

// connectionCases are the single-connection cases runCases compares byte
// for byte.
func connectionCases() []diffCase {
	return []diffCase{
		{name: "ping/args", steps: []step{do("PING"), do("PING", "hello"), do("PING", ""), do("PING", "a", "b"), do("ping"), do("PiNg", "x y")}},
		{name: "echo/args", steps: []step{do("ECHO", "x"), do("ECHO", ""), do("ECHO", "a\r\nb\x00c"), do("ECHO"), do("ECHO", "a", "b"), do("echo", "Q")}},
		{name: "select/valid", steps: []step{
			do("SET", "k", "0"), do("SELECT", "1"), do("GET", "k"), do("SET", "k", "1"), do("SELECT", "15"), do("DBSIZE"),
			do("SELECT", "0"), do("GET", "k"), do("SELECT", "1"), do("GET", "k"), do("SELECT", "01"), do("GET", "k"), do("SELECT", "0")}},
		{name: "select/invalid", steps: []step{
			do("SELECT", "16"), do("SELECT", "-1"), do("SELECT", "x"), do("SELECT", ""), do("SELECT", "1.5"), do("SELECT", " 1"),
			do("SELECT", "0x1"), do("SELECT", "+1"), do("SELECT", "2147483647"), do("SELECT", "2147483648"),
			do("SELECT", "-2147483648"), do("SELECT", "-2147483649"), do("SELECT", "99999999999"),
			do("SELECT", "99999999999999999999"), do("SELECT"), do("SELECT", "1", "2"), do("SET", "k", "v"), do("DBSIZE")}},
		{name: "auth/no-password", steps: []step{
			do("AUTH", "x"), do("AUTH", ""), do("AUTH", "default", "x"), do("AUTH", "default", ""), do("AUTH", "bob", "x"),
			do("AUTH", "DEFAULT", "x"), do("AUTH", "a", "b", "c"), do("AUTH"), do("auth", "x"), do("PING")}},
		{name: "hello/versions", steps: []step{
			do("HELLO", "4"), do("HELLO", "1"), do("HELLO", "0"), do("HELLO", "-1"), do("HELLO", "x"), do("HELLO", ""),
			do("HELLO", "3.0"), do("HELLO", "99999999999999999999"), do("HELLO", " 3"), do("PING")}},
		{name: "hello/options-errors", steps: []step{
			do("HELLO", "3", "FOO"), do("HELLO", "3", "AUTH"), do("HELLO", "3", "AUTH", "default"), do("HELLO", "3", "SETNAME"),
			do("HELLO", "3", "SETNAME", "a b"), do("HELLO", "3", "SETNAME", "a\nb"), do("HELLO", "3", "SETNAME", "ok", "FOO"),
			do("HELLO", "3", "SETNAME", "a b", "FOO"), do("HELLO", "3", "AUTH", "bob", "x"), do("HELLO", "3", "AUTH", "bob", "x", "SETNAME", "n"),
			do("HELLO", "AUTH", "default", "x"), do("HELLO", "SETNAME", "x"), do("HELLO", "3", "auth", "bob", "x", "FOO"),
			do("CLIENT", "GETNAME"), do("PING")}},
		{name: "client/setname-getname", steps: []step{
			do("CLIENT", "GETNAME"), do("CLIENT", "SETNAME", "abc"), do("CLIENT", "GETNAME"), do("CLIENT", "SETNAME", "a-b_c.d!~"),
			do("CLIENT", "GETNAME"), do("CLIENT", "SETNAME", "a b"), do("CLIENT", "SETNAME", "a\nb"), do("CLIENT", "SETNAME", "\x7f"),
			do("CLIENT", "SETNAME", "é"), do("CLIENT", "GETNAME"), do("CLIENT", "SETNAME", ""), do("CLIENT", "GETNAME"),
			do("client", "setname", "X"), do("CLIENT", "getname")}},
		{name: "client/arity", steps: []step{
			do("CLIENT"), do("CLIENT", "SETNAME"), do("CLIENT", "SETNAME", "a", "b"), do("CLIENT", "GETNAME", "x"), do("CLIENT", "ID", "x"),
			do("CLIENT", "INFO", "x"), do("CLIENT", "KILL"), do("CLIENT", "UNBLOCK"), do("CLIENT", "UNBLOCK", "1", "TIMEOUT", "x"),
			do("CLIENT", "UNBLOCK", "1", "2", "3", "4"), do("CLIENT", "HELP", "x"), do("client", "setname"), do("CLIENT", "Id", "1")}},
		{name: "client/help", steps: []step{do("CLIENT", "HELP"), do("client", "help")}},
		{name: "client/unknown-subcommand", steps: []step{
			do("CLIENT", "FOO"), do("CLIENT", "foo", "bar"), do("CLIENT", ""), do("CLIENT", strings.Repeat("s", 200)),
			// redis-py 5+ sends SETINFO and (RESP3) MAINT_NOTIFICATIONS
			// after connecting and ignores the error: 7.0 has neither.
			do("CLIENT", "SETINFO", "LIB-NAME", "redis-py"), do("CLIENT", "SETINFO", "LIB-VER", "5.0.0"), do("CLIENT", "SETINFO"),
			do("CLIENT", "MAINT_NOTIFICATIONS", "ON", "moving-endpoint-type", "internal-ip"), do("CLIENT", "maint_notifications"),
			do("CLIENT", "SETNAME|x")}},
		{name: "client/unblock-errors", steps: []step{
			do("CLIENT", "UNBLOCK", "x"), do("CLIENT", "UNBLOCK", "0"), do("CLIENT", "UNBLOCK", "-1"), do("CLIENT", "UNBLOCK", "99999999"),
			do("CLIENT", "UNBLOCK", "99999999", "ERROR"), do("CLIENT", "UNBLOCK", "99999999", "timeout"), do("CLIENT", "UNBLOCK", "99999999", "FOO"),
			do("CLIENT", "UNBLOCK", "x", "FOO"), do("CLIENT", "UNBLOCK", "1.5"), do("CLIENT", "UNBLOCK", "99999999999999999999")}},
		{name: "client/kill-errors", steps: []step{
			do("CLIENT", "KILL", "1.2.3.4:5"), do("CLIENT", "KILL", "nosuch"), do("CLIENT", "KILL", "ID", "x"), do("CLIENT", "KILL", "ID", "0"),
			do("CLIENT", "KILL", "ID", "-1"), do("CLIENT", "KILL", "ID", "99999999"), do("CLIENT", "KILL", "TYPE", "foo"),
			do("CLIENT", "KILL", "TYPE", "master"), do("CLIENT", "KILL", "TYPE", "slave"), do("CLIENT", "KILL", "TYPE", "replica"),
			do("CLIENT", "KILL", "TYPE", "pubsub"), do("CLIENT", "KILL", "USER", "bob"), do("CLIENT", "KILL", "ADDR", "1.2.3.4:5"),
			do("CLIENT", "KILL", "LADDR", "1.2.3.4:5"), do("CLIENT", "KILL", "SKIPME", "maybe"), do("CLIENT", "KILL", "FOO", "bar"),
			do("CLIENT", "KILL", "ID"), do("CLIENT", "KILL", "ID", "1", "TYPE"), do("CLIENT", "KILL", "a", "b", "c"),
			do("CLIENT", "KILL", "ID", "99999999", "SKIPME", "no"), do("CLIENT", "KILL", "skipme", "YES", "id", "99999999"),
			do("CLIENT", "KILL", "ID", "99999999999999999999"), do("CLIENT", "KILL", "ID", "1.5"),
			// MAXAGE (7.4) and NO-TOUCH (7.2) are not 7.0's.
			do("CLIENT", "KILL", "MAXAGE", "10"), do("CLIENT", "KILL", "ID", "99999999", "MAXAGE", "1"), do("CLIENT", "NO-TOUCH", "on"),
			do("CLIENT", "NO-TOUCH"), do("PING")}},
		{name: "client/list-errors", steps: []step{
			do("CLIENT", "LIST", "TYPE", "foo"), do("CLIENT", "LIST", "ID", "x"), do("CLIENT", "LIST", "ID", "0"), do("CLIENT", "LIST", "ID", "-5"),
			do("CLIENT", "LIST", "ID", "99999999"), do("CLIENT", "LIST", "ID", "99999999", "1.5"), do("CLIENT", "LIST", "FOO"),
			do("CLIENT", "LIST", "TYPE"), do("CLIENT", "LIST", "ID"), do("CLIENT", "LIST", "TYPE", "master"), do("CLIENT", "LIST", "TYPE", "replica"),
			do("CLIENT", "LIST", "TYPE", "slave"), do("CLIENT", "LIST", "TYPE", "pubsub"), do("CLIENT", "LIST", "TYPE", "master", "x"),
			do("CLIENT", "LIST", "TYPE", "normal", "ID", "5"), do("CLIENT", "LIST", "ID", "99999999", "TYPE", "normal"),
			do("CLIENT", "LIST", "type", "PUBSUB")}},
	}
}

func TestDiffConnectionX(t *testing.T) {
	runX(t, defaultTarget(t), connectionXCases())
}

// connectionXCases need the extended runner: ids, closes, several
// connections, HELLO's id.
func connectionXCases() []xcase {
	hello := func(args ...string) xstep { return x(append([]string{"HELLO"}, args...)...).with(cmpHello) }
	info := x("CLIENT", "INFO").with(cmpClients)
	return []xcase{
		{name: "hello/no-args-and-versions", steps: []xstep{
			hello(), hello("2"), x("GET", "nokey"), hello("3"), x("GET", "nokey"), hello(), hello("2"), x("GET", "nokey"), info}},
		{name: "hello/setname", steps: []xstep{
			hello("3", "SETNAME", "n1"), x("CLIENT", "GETNAME"), hello("2", "setname", "n2"), x("CLIENT", "GETNAME"),
			hello("3", "SETNAME", ""), x("CLIENT", "GETNAME"), hello("SETNAME", "x"), x("CLIENT", "GETNAME"), info}},
		{name: "hello/auth-without-password", steps: []xstep{
			// A nopass default user accepts any password through HELLO,
			// unlike the one-argument AUTH (celery-wire.md §2.4).
			hello("3", "AUTH", "default", "anything"), x("PING"), hello("2", "AUTH", "default", ""),
			hello("3", "AUTH", "default", "x", "SETNAME", "n"), x("CLIENT", "GETNAME"), hello("3", "AUTH", "bob", "x")}},
		{name: "hello/resp3-reply-types", steps: []xstep{
			hello("3"), x("SET", "k", "1"), x("GET", "k"), x("GET", "nokey"), x("MGET", "k", "nokey"), x("INCR", "k"),
			x("CONFIG", "GET", "hz"), x("CLIENT", "GETNAME"), x("CLIENT", "ID").with(shapeOnly), info, x("TIME").with(shapeOnly),
			x("PING"), x("ECHO", "e"), x("EXISTS", "k"), x("TYPE", "k"), x("COMMAND", "COUNT").with(shapeOnly),
			x("INFO", "keyspace"), x("FOO"), hello("2"), x("GET", "nokey"), x("CONFIG", "GET", "hz"), info}},
		{name: "client/id", steps: []xstep{x("CLIENT", "ID").with(shapeOnly), x("client", "id").with(shapeOnly)}},
		{name: "client/info", steps: []xstep{
			info, x("CLIENT", "SETNAME", "me"), x("SELECT", "5"), info, x("GET", "k"), info, x("client", "info").with(cmpClients)}},
		{name: "client/list-by-id", conns: 2, steps: []xstep{
			on(1, "CLIENT", "SETNAME", "other"), on(1, "SELECT", "3"), x("CLIENT", "LIST", "ID", "{id}").with(cmpClients),
			x("CLIENT", "LIST", "ID", "{id1}").with(cmpClients), x("CLIENT", "LIST", "ID", "{id}", "{id1}").with(cmpClients),
			// Redis lists the clients in the order the ids are given.
			x("CLIENT", "LIST", "ID", "{id1}", "{id}").with(cmpClients), x("CLIENT", "LIST", "ID", "{id1}", "99999999", "{id}").with(cmpClients),
			x("CLIENT", "LIST", "id", "{id1}", "{id1}").with(cmpClients), x("CLIENT", "LIST", "ID", "{id}", "x").with(cmpClients)}},
		{name: "client/list-all", conns: 2, steps: []xstep{
			x("CLIENT", "LIST").with(cmpClientsAny), x("CLIENT", "LIST", "TYPE", "normal").with(cmpClientsAny),
			x("CLIENT", "LIST", "TYPE", "NORMAL").with(cmpClientsAny), x("CLIENT", "LIST", "TYPE", "pubsub")}},
		{name: "client/kill-old-form", conns: 3, steps: []xstep{
			x("CLIENT", "KILL", "{addr1}"), closedOn(1), x("CLIENT", "LIST", "ID", "{id1}"),
			on(2, "CLIENT", "KILL", "{addr1}"), on(2, "CLIENT", "KILL", "{laddr}"), x("PING")}},
		{name: "client/kill-self-old-form", steps: []xstep{x("CLIENT", "KILL", "{addr}").closing()}},
		// An empty address is a filter that matches nobody, not "any".
		{name: "client/kill-empty-address", conns: 2, steps: []xstep{
			x("CLIENT", "KILL", ""), x("CLIENT", "KILL", "ADDR", ""), x("CLIENT", "KILL", "LADDR", "", "SKIPME", "no"),
			on(1, "PING"), x("PING")}},
		{name: "client/kill-by-id", conns: 3, steps: []xstep{
			x("CLIENT", "KILL", "ID", "{id1}"), closedOn(1), x("CLIENT", "KILL", "ID", "{id1}"), x("CLIENT", "KILL", "ID", "{id}"),
			x("CLIENT", "KILL", "ID", "{id}", "SKIPME", "yes"), on(2, "PING"), x("CLIENT", "LIST", "ID", "{id}", "{id2}").with(cmpClients)}},
		{name: "client/kill-filters", conns: 3, steps: []xstep{
			x("CLIENT", "KILL", "TYPE", "pubsub", "ID", "{id1}"), x("CLIENT", "KILL", "TYPE", "master", "ID", "{id1}"),
			x("CLIENT", "KILL", "USER", "default", "ID", "{id1}", "ADDR", "{addr2}"), x("CLIENT", "KILL", "LADDR", "1.2.3.4:5", "ID", "{id1}"),
			x("CLIENT", "KILL", "TYPE", "normal", "ID", "{id1}"), closedOn(1),
			x("CLIENT", "KILL", "ADDR", "{addr2}", "LADDR", "{laddr}", "USER", "default", "SKIPME", "yes"), closedOn(2), x("PING")}},
		{name: "client/kill-self-skipme-no", steps: []xstep{
			x("CLIENT", "KILL", "ID", "{id}", "SKIPME", "no").closing()}},
		{name: "client/kill-addr-self", conns: 2, steps: []xstep{
			x("CLIENT", "KILL", "ADDR", "{addr}"), x("CLIENT", "KILL", "ADDR", "{addr}", "SKIPME", "NO").closing(), on(1, "PING")}},
		{name: "client/unblock", conns: 2, steps: []xstep{
			x("CLIENT", "UNBLOCK", "{id1}"), sendOn(1, "BLPOP", "list", "0"), awaitBlocked(1),
			x("CLIENT", "LIST", "ID", "{id1}").with(cmpClients), x("CLIENT", "UNBLOCK", "{id1}"), recvOn(1), x("CLIENT", "UNBLOCK", "{id1}"),
			sendOn(1, "BRPOP", "list", "0"), awaitBlocked(1), x("CLIENT", "UNBLOCK", "{id1}", "ERROR"), recvOn(1),
			sendOn(1, "BLPOP", "list", "0"), awaitBlocked(1), x("CLIENT", "UNBLOCK", "{id1}", "FOO"),
			x("CLIENT", "UNBLOCK", "{id1}", "TIMEOUT"), recvOn(1), on(1, "PING")}},
		{name: "quit/reply-then-close", steps: []xstep{x("SET", "k", "v"), x("QUIT").closing()}},
		{name: "quit/with-args", steps: []xstep{x("quit", "x", "y").closing()}},
		{name: "quit/other-connection-unaffected", conns: 2, steps: []xstep{on(1, "QUIT").closing(), x("PING")}},
		{name: "reset/state", steps: []xstep{
			x("SELECT", "3"), x("SET", "k", "v"), x("CLIENT", "SETNAME", "named"), hello("3"), x("RESET"),
			x("GET", "k"), x("CLIENT", "GETNAME"), x("CONFIG", "GET", "hz"), info, x("SELECT", "3"), x("GET", "k"), x("RESET"), x("RESET")}},
		{name: "reset/arity", steps: []xstep{x("RESET", "x"), x("reset"), x("PING")}},
	}
}

func TestDiffAuth(t *testing.T) {
	runX(t, authTarget(t), authCases())
}

// authCases run against servers with requirepass: which commands work
// before authentication, the AUTH and HELLO AUTH forms, and RESET. Before
// its login step a connection is in RESP2 in both runs (a RESP3 client
// authenticates with HELLO 3 AUTH); after it, in the run's protocol.
func authCases() []xcase {
	hello := func(args ...string) xstep { return x(append([]string{"HELLO"}, args...)...).with(cmpHello) }
	info := x("CLIENT", "INFO").with(cmpClients)
	return []xcase{
		{name: "auth/noauth-before-auth", steps: []xstep{
			x("PING"), x("GET", "k"), x("SET", "k", "v"), x("SELECT", "1"), x("ECHO", "x"), x("CLIENT", "ID"), x("CLIENT", "GETNAME"),
			x("CLIENT", "INFO"), x("CLIENT", "LIST"), x("CLIENT", "KILL", "ID", "1"), x("CONFIG", "GET", "hz"), x("INFO"), x("COMMAND"),
			x("COMMAND", "COUNT"), x("DBSIZE"), x("TIME"), x("KEYS", "*"), x("FLUSHALL"),
			// The command lookup and arity checks come before the
			// authentication check.
			x("FOO"), x("FOO", "bar"), x("GET"), x("CLIENT", "FOO"), x("CLIENT", "SETNAME"), x("CONFIG", "FOO"), x("SELECT"),
			login(0), x("PING"), x("GET", "k"), x("DBSIZE")}},
		{name: "auth/allowed-before-auth", steps: []xstep{
			x("HELLO"), x("HELLO", "3"), x("HELLO", "2"), x("HELLO", "3", "SETNAME", "a"), x("HELLO", "4"), x("HELLO", "x"),
			x("HELLO", "3", "FOO"), x("HELLO", "3", "AUTH", "default"), x("RESET"), x("AUTH", "wrong"), x("AUTH", "default", "wrong"),
			x("AUTH", "bob", testPassword), x("AUTH", "a", "b", "c"), x("AUTH"), x("PING"), x("QUIT").closing()}},
		{name: "auth/auth-forms", steps: []xstep{
			x("AUTH", testPassword), x("PING"), x("AUTH", "default", testPassword), x("PING"), x("AUTH", "wrong"), x("PING"),
			x("AUTH", "DEFAULT", testPassword), x("AUTH", "bob", testPassword), x("AUTH", "default", "wrong"), x("PING"),
			x("AUTH", "a", "b", "c"), info}},
		{name: "auth/hello-auth", steps: []xstep{
			hello("3", "AUTH", "default", testPassword), x("GET", "nokey"), info, x("CONFIG", "GET", "requirepass"),
			hello("2", "AUTH", "default", testPassword), x("GET", "nokey"), hello("3", "AUTH", "default", "wrong"), x("GET", "nokey"),
			hello("3", "AUTH", "bob", testPassword), hello("3", "auth", "default", testPassword), x("GET", "nokey")}},
		{name: "auth/hello-auth-setname", steps: []xstep{
			hello("3", "AUTH", "default", testPassword, "SETNAME", "nm"), x("CLIENT", "GETNAME"), info, x("RESET"), x("PING"),
			x("CLIENT", "GETNAME"), login(0), x("CLIENT", "GETNAME"), info}},
		{name: "auth/hello-failures-leave-state", steps: []xstep{
			// HELLO checks a SETNAME argument while parsing, before
			// authenticating, and sets the name only once authenticated.
			x("HELLO", "3", "SETNAME", "a b", "AUTH", "default", testPassword), x("PING"),
			x("HELLO", "3", "SETNAME", "ab", "AUTH", "default", "wrong"), x("PING"),
			x("HELLO", "3", "SETNAME", "ab"), x("PING"), x("HELLO", "5", "AUTH", "default", testPassword), x("PING"),
			x("HELLO", "AUTH", "default", testPassword), x("PING"), x("HELLO", "3", "AUTH", "default", testPassword, "FOO"), x("PING"),
			hello("2", "AUTH", "default", testPassword, "SETNAME", "a b"), x("PING"),
			login(0), x("CLIENT", "GETNAME"), info}},
		{name: "auth/reset-deauthenticates", steps: []xstep{
			login(0), x("SELECT", "2"), x("SET", "k", "v"), x("CLIENT", "SETNAME", "n"), x("RESET"), x("PING"), x("GET", "k"),
			login(0), x("GET", "k"), x("SELECT", "2"), x("GET", "k"), x("DEL", "k"), info}},
		{name: "auth/resp3-after-login", steps: []xstep{
			login(0), x("SET", "k", "1"), x("GET", "k"), x("GET", "nokey"), x("CONFIG", "GET", "timeout"), x("CLIENT", "GETNAME"),
			x("DEL", "k"), x("INFO", "keyspace"), info}},
		{name: "auth/other-connections", conns: 2, steps: []xstep{
			login(0), on(1, "PING"), x("PING"), login(1), on(1, "PING"), on(0, "RESET"), on(1, "PING"), x("PING")}},
		{name: "auth/config-set-requirepass", conns: 3,
			cleanup: [][]string{{"AUTH", "newpw"}, {"CONFIG", "SET", "requirepass", testPassword}},
			steps: []xstep{
				login(0), x("CONFIG", "SET", "requirepass", "newpw"), x("PING"), on(1, "PING"), on(1, "AUTH", testPassword),
				on(1, "AUTH", "newpw"), on(1, "PING"), x("CONFIG", "GET", "requirepass"),
				x("CONFIG", "SET", "requirepass", ""), on(2, "PING"), on(2, "AUTH", "x"), on(2, "CLIENT", "GETNAME"),
				x("CONFIG", "SET", "requirepass", testPassword), on(2, "PING"), x("RESET"), x("PING")}},
	}
}
