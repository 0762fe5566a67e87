package e2e

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// binary is the celerity-server built by TestMain.
var binary string

func TestMain(m *testing.M) {
	// CELERITY_BINARY runs the suite against an already built binary.
	if b := os.Getenv("CELERITY_BINARY"); b != "" {
		binary = b
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "celerity-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "celerity-server")
	build := exec.Command("go", "build", "-o", binary, "github.com/celerity/celerity/cmd/celerity-server")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building celerity-server:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is a running celerity-server process.
type server struct {
	cmd  *exec.Cmd
	port int
	dir  string
	log  string
}

func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startServer starts the binary with extra directives and waits until it
// answers PING (bounded). It is stopped with SIGTERM when the test ends.
func startServer(t testing.TB, args ...string) *server {
	t.Helper()
	s := &server{port: freePort(t), dir: t.TempDir()}
	s.log = filepath.Join(s.dir, "server.log")
	var argv []string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		argv, args = []string{args[0]}, args[1:] // a config file comes first, as for redis-server
	}
	argv = append(argv, "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--dir", s.dir,
		"--logfile", s.log)
	argv = append(argv, args...)
	s.cmd = exec.Command(binary, argv...)
	require.NoError(t, s.cmd.Start())
	t.Cleanup(func() {
		s.stop(t)
		if t.Failed() {
			logText, _ := os.ReadFile(s.log)
			t.Logf("server log:\n%s", logText)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.addr(), time.Second)
		if err == nil {
			c.Write([]byte("PING\r\n"))
			c.SetReadDeadline(time.Now().Add(time.Second))
			line, err := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if err == nil && line != "" {
				return s
			}
		}
		if time.Now().After(deadline) {
			logText, _ := os.ReadFile(s.log)
			t.Fatalf("server did not start: %v\n%s", err, logText)
		}
		time.Sleep(10 * time.Millisecond) // polling a port that is not listening yet
	}
}

func (s *server) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

func (s *server) stop(t testing.TB) {
	if s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-done
		t.Errorf("server did not exit on SIGINT within 10 s")
	}
}

// conn is a minimal RESP client for tests.
type conn struct {
	t testing.TB
	c net.Conn
	r *bufio.Reader
}

func dial(t testing.TB, addr string) *conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return &conn{t: t, c: c, r: bufio.NewReader(c)}
}

func encode(args ...string) []byte {
	var b strings.Builder
	b.WriteString("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b.WriteString("$" + strconv.Itoa(len(a)) + "\r\n" + a + "\r\n")
	}
	return []byte(b.String())
}

func (c *conn) send(args ...string) {
	c.t.Helper()
	_, err := c.c.Write(encode(args...))
	require.NoError(c.t, err)
}

// read returns one reply rendered compactly: bulk/status as text, null as
// "(nil)", arrays as "[a b]", errors as "ERR ...", integers as numbers.
func (c *conn) read(timeout time.Duration) (string, error) {
	c.c.SetReadDeadline(time.Now().Add(timeout))
	return readReply(c.r)
}

func (c *conn) do(args ...string) string {
	c.t.Helper()
	c.send(args...)
	r, err := c.read(10 * time.Second)
	require.NoError(c.t, err)
	return r
}

func readReply(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return line[1:], nil
	case '_':
		return "(nil)", nil
	case '$':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return "(nil)", nil
		}
		buf := make([]byte, n+2)
		if _, err := ioReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	case '*', '>', '~':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return "(nil)", nil
		}
		parts := make([]string, n)
		for i := range parts {
			if parts[i], err = readReply(r); err != nil {
				return "", err
			}
		}
		return "[" + strings.Join(parts, " ") + "]", nil
	}
	return line, nil
}

func ioReadFull(r *bufio.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// waitFor polls cond until it holds or the bound passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// infoField reads one INFO field.
func infoField(t testing.TB, c *conn, section, field string) string {
	info := c.do("INFO", section)
	for _, l := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return v
		}
	}
	t.Fatalf("INFO %s has no %s", section, field)
	return ""
}
