// Package oracle runs Debian's redis-server 7.0.15, the oracle for file
// formats, for the aof packages' tests: started on a directory with the
// caller's arguments, spoken to in RESP2. Tests skip when the binary is
// missing, unless REQUIRE_REDIS=1.
package oracle

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Need returns the path of bin (redis-server, redis-check-rdb, ...), or
// skips t (fails it under REQUIRE_REDIS=1) when it is not installed.
func Need(t testing.TB, bin string) string {
	t.Helper()
	p, err := exec.LookPath(bin)
	if err != nil {
		if os.Getenv("REQUIRE_REDIS") == "1" {
			t.Fatalf("%s not found and REQUIRE_REDIS=1", bin)
		}
		t.Skipf("%s not installed", bin)
	}
	return p
}

// Proc is a running redis-server and one connection to it.
type Proc struct {
	cmd  *exec.Cmd
	conn net.Conn
	r    *bufio.Reader
	Log  string // path of its log file
}

// FreePort returns a TCP port free on 127.0.0.1 a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start runs redis-server with --dir dir and args (e.g. "--appendonly",
// "yes", "--save", ""), waits until it answers PING and kills it when t
// ends.
func Start(t testing.TB, dir string, args ...string) *Proc {
	t.Helper()
	bin := Need(t, "redis-server")
	port := FreePort(t)
	logPath := filepath.Join(t.TempDir(), "redis.log")
	argv := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--logfile", logPath, "--daemonize", "no"}, args...)
	cmd := exec.Command(bin, argv...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &Proc{cmd: cmd, Log: logPath}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			p.conn, p.r = c, bufio.NewReader(c)
			if rep, err := p.Do("PING"); err == nil && rep == "PONG" {
				return p
			}
			c.Close()
		}
		if time.Now().After(deadline) {
			logText, _ := os.ReadFile(logPath)
			t.Fatalf("redis-server did not start: %s", logText)
		}
		time.Sleep(20 * time.Millisecond) // polling a port not listening yet
	}
}

// Do sends one command and returns its reply: string (simple or bulk),
// nil, int64, error (an error reply) or []any.
func (p *Proc) Do(args ...string) (any, error) {
	if _, err := p.conn.Write(Encode(args...)); err != nil {
		return nil, err
	}
	return ReadReply(p.r)
}

// Must is Do that fails t on an I/O error or an error reply.
func (p *Proc) Must(t testing.TB, args ...string) any {
	t.Helper()
	rep, err := p.Do(args...)
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	if e, ok := rep.(error); ok {
		t.Fatalf("%v: %v", args, e)
	}
	return rep
}

// Shutdown sends SHUTDOWN (with args, e.g. "NOSAVE"), waits for the exit
// and returns the log.
func (p *Proc) Shutdown(t testing.TB, args ...string) string {
	t.Helper()
	_, _ = p.Do(append([]string{"SHUTDOWN"}, args...)...)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("redis-server did not exit")
	}
	b, _ := os.ReadFile(p.Log)
	return string(b)
}

// Encode encodes one command as a RESP array of bulk strings.
func Encode(args ...string) []byte {
	b := []byte("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b = append(b, "$"+strconv.Itoa(len(a))+"\r\n"...)
		b = append(b, a...)
		b = append(b, "\r\n"...)
	}
	return b
}

// ReadReply reads one RESP2 reply (see Do for the types).
func ReadReply(r *bufio.Reader) (any, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return nil, fmt.Errorf("empty reply line")
	}
	switch line[0] {
	case '+':
		return line[1:], nil
	case '-':
		return errors.New(line[1:]), nil
	case ':':
		return strconv.ParseInt(line[1:], 10, 64)
	case '$':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return nil, nil
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		return string(b[:n]), nil
	case '*':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return nil, nil
		}
		out := make([]any, 0, n)
		for i := 0; i < n; i++ {
			v, err := ReadReply(r)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("bad reply %q", line)
}
