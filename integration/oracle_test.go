package integration

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// oracleVersion is the only Redis version whose replies the suite trusts.
const oracleVersion = "7.0.15"

// oracle is the package's redis-server, started by TestMain.
var oracle struct {
	addr string // host:port; empty when unavailable
	why  string // why it is unavailable
}

func TestMain(m *testing.M) {
	stop, err := startOracle()
	if err != nil {
		oracle.why = err.Error()
		fmt.Fprintf(os.Stderr, "integration: oracle unavailable: %s\n", oracle.why)
	}
	code := m.Run()
	if stop != nil {
		stop()
	}
	printSummary()
	os.Exit(code)
}

// needOracle skips the test when no redis-server is available, or fails it
// when REQUIRE_REDIS=1 says the oracle is mandatory (CI).
func needOracle(tb testing.TB) string {
	tb.Helper()
	if oracle.addr != "" {
		return oracle.addr
	}
	if os.Getenv("REQUIRE_REDIS") == "1" {
		tb.Fatalf("differential test needs redis-server %s (REQUIRE_REDIS=1): %s", oracleVersion, oracle.why)
	}
	tb.Skipf("differential test skipped: redis-server %s unavailable (%s); set REQUIRE_REDIS=1 to make this a failure", oracleVersion, oracle.why)
	return ""
}

// startOracle launches a throw-away redis-server on a free loopback port and
// waits (bounded) until it answers PING. The returned func stops it and
// removes its directory.
func startOracle() (func(), error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New("redis-server not found on PATH")
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("redis-server --version: %v", err)
	}
	if !bytes.Contains(out, []byte("v="+oracleVersion+" ")) {
		return nil, fmt.Errorf("redis-server is not %s: %s", oracleVersion, bytes.TrimSpace(out))
	}
	dir, err := os.MkdirTemp("", "celerity-oracle-")
	if err != nil {
		return nil, err
	}
	// The free port is found by binding :0 and closing it; another process
	// may grab it in between, so a failed start is retried on a new port.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			lastErr = err
			continue
		}
		logPath := filepath.Join(dir, "redis.log")
		cmd := exec.Command(bin,
			"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", dir,
			"--daemonize", "no", "--logfile", logPath)
		dieWithParent(cmd)
		if err := cmd.Start(); err != nil {
			lastErr = err
			continue
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if err := waitForPing(addr, exited, 10*time.Second); err != nil {
			_ = cmd.Process.Kill()
			<-exited
			log, _ := os.ReadFile(logPath)
			lastErr = fmt.Errorf("%v; log tail: %s", err, tail(log, 400))
			continue
		}
		oracle.addr = addr
		return func() {
			_ = cmd.Process.Signal(os.Interrupt)
			select {
			case <-exited:
			case <-time.After(5 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
			}
			os.RemoveAll(dir)
		}, nil
	}
	os.RemoveAll(dir)
	return nil, fmt.Errorf("starting redis-server: %v", lastErr)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitForPing polls addr with PING until +PONG, the process exits or the
// deadline passes.
func waitForPing(addr string, exited <-chan struct{}, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for delay := 5 * time.Millisecond; ; delay = min(delay*2, 200*time.Millisecond) {
		if ping(addr) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no PONG from %s within %v", addr, limit)
		}
		select {
		case <-exited:
			return errors.New("redis-server exited during start")
		case <-time.After(delay):
		}
	}
}

func ping(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && line == "+PONG\r\n"
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
