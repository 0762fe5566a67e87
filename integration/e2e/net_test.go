package e2e

import (
	"bufio"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/resp/resptest"
)

// Listeners and files of the built binary, each compared with redis-server
// 7.0.15 started the same way: maxclients, optional bind addresses, the
// unix socket, TLS with redis-cli (CONFIG REWRITE: config_rewrite_test.go).

// netProc is a server process of a kind, started with arguments of the
// test's choosing (not necessarily a TCP port).
type netProc struct {
	t      testing.TB
	kind   string
	cmd    *exec.Cmd
	out    lockedBuffer
	exited chan struct{}
}

func launchNet(t testing.TB, kind string, args ...string) *netProc {
	t.Helper()
	p := &netProc{t: t, kind: kind, exited: make(chan struct{})}
	p.cmd = exec.Command(kindBinary(t, kind), args...)
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, p.cmd.Start())
	go func() {
		p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("%s output:\n%s", kind, p.out.String())
		}
	})
	return p
}

// waitUp polls dial until it connects and gets an answer to PING.
func (p *netProc) waitUp(network, addr string) {
	p.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if c, err := net.DialTimeout(network, addr, time.Second); err == nil {
			c.SetDeadline(time.Now().Add(2 * time.Second))
			c.Write([]byte("PING\r\n"))
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if line != "" {
				return
			}
		}
		select {
		case <-p.exited:
			p.t.Fatalf("%s exited during start-up:\n%s", p.kind, p.out.String())
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s did not answer on %s %s", p.kind, network, addr)
		}
		time.Sleep(5 * time.Millisecond) // polling a socket not listening yet
	}
}

// waitExit waits for the process to end by itself and returns its exit
// code and output.
func (p *netProc) waitExit() (int, string) {
	p.t.Helper()
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		p.t.Fatalf("%s did not exit", p.kind)
	}
	return p.cmd.ProcessState.ExitCode(), p.out.String()
}

// stop sends SIGTERM and waits (SIGKILL after 10 s).
func (p *netProc) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// TestMaxclientsRefusalMatchesRedis: the connection past maxclients gets
// Redis's error and is closed.
func TestMaxclientsRefusalMatchesRedis(t *testing.T) {
	got := map[string]string{}
	forEachKind(t, func(t *testing.T, kind string) {
		port := freePort(t)
		p := launchNet(t, kind, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--maxclients", "2")
		addr := "127.0.0.1:" + strconv.Itoa(port)
		p.waitUp("tcp", addr)
		a := dial(t, addr)
		// The start-up probe's connection may not be released yet.
		waitFor(t, "one client left", func() bool { return infoField(t, a, "clients", "connected_clients") == "1" })
		b := dial(t, addr)
		require.Equal(t, "PONG", b.do("PING"))
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		require.NoError(t, err)
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		data, err := io.ReadAll(c) // until the server closes it
		require.NoError(t, err)
		got[kind] = string(data)
		assert.Equal(t, "1", infoField(t, a, "stats", "rejected_connections"))
	})
	if len(got) == 2 {
		assert.Equal(t, got[kindRedis], got[kindCelerity])
	}
}

// TestBindOptionalAddress: "-addr" is skipped when the address does not
// exist here; a mandatory one is fatal; nothing left is fatal too. The log
// lines are Redis's.
func TestBindOptionalAddress(t *testing.T) {
	const absent = "192.0.2.1" // TEST-NET-1: not configured on this host
	forEachKind(t, func(t *testing.T, kind string) {
		port := strconv.Itoa(freePort(t))
		p := launchNet(t, kind, "--port", port, "--bind", "127.0.0.1", "-"+absent, "--save", "")
		p.waitUp("tcp", "127.0.0.1:"+port)
		assert.Contains(t, p.out.String(), "# Warning: Could not create server TCP listening socket "+absent+":"+port+": bind: Cannot assign requested address")

		p = launchNet(t, kind, "--port", port, "--bind", "-"+absent, "--save", "")
		code, out := p.waitExit()
		assert.Equal(t, 1, code)
		assert.Contains(t, out, "# Configured to not listen anywhere, exiting.")

		p = launchNet(t, kind, "--port", port, "--bind", absent, "127.0.0.1", "--save", "")
		code, out = p.waitExit()
		assert.Equal(t, 1, code)
		assert.Contains(t, out, "# Failed listening on port "+port+" (TCP), aborting.")
	})
}

// TestUnixSocketMatchesRedis: a stale file at the path is replaced, the
// socket gets unixsocketperm, clients show "<path>:0", redis-cli -s works,
// and the file is removed at shutdown.
func TestUnixSocketMatchesRedis(t *testing.T) {
	cli := redisTool(t, "redis-cli")
	infos := map[string]string{}
	forEachKind(t, func(t *testing.T, kind string) {
		dir := t.TempDir()
		sock := filepath.Join(dir, "s.sock")
		require.NoError(t, os.WriteFile(sock, []byte("stale"), 0o644))
		p := launchNet(t, kind, "--port", "0", "--unixsocket", sock, "--unixsocketperm", "700", "--save", "")
		p.waitUp("unix", sock)
		st, err := os.Lstat(sock)
		require.NoError(t, err)
		assert.Equal(t, os.ModeSocket|0o700, st.Mode()&(os.ModeType|os.ModePerm))

		out, err := exec.Command(cli, "-s", sock, "ping").CombinedOutput()
		require.NoError(t, err)
		assert.Equal(t, "PONG\n", string(out))
		out, err = exec.Command(cli, "-s", sock, "client", "info").CombinedOutput()
		require.NoError(t, err)
		infos[kind] = regexp.MustCompile(`^id=\d+ (addr=\S+ laddr=\S+) .* (flags=\S+) .*\n$`).ReplaceAllString(strings.ReplaceAll(string(out), dir, "DIR"), "$1 $2")

		// MONITOR names a unix socket client "unix:<path>".
		mon, err := net.Dial("unix", sock)
		require.NoError(t, err)
		defer mon.Close()
		mon.SetDeadline(time.Now().Add(5 * time.Second))
		mr := bufio.NewReader(mon)
		mon.Write([]byte("MONITOR\r\n"))
		line, err := mr.ReadString('\n')
		require.NoError(t, err)
		require.Equal(t, "+OK\r\n", line)
		require.NoError(t, exec.Command(cli, "-s", sock, "ping", "unix").Run())
		line, err = mr.ReadString('\n')
		require.NoError(t, err)
		assert.Regexp(t, `^\+\d+\.\d{6} \[0 unix:`+regexp.QuoteMeta(sock)+`\] "ping" "unix"\r\n$`, line)

		p.stop()
		_, err = os.Lstat(sock)
		assert.True(t, os.IsNotExist(err), "socket file removed at shutdown: %v", err)
	})
	if len(infos) == 2 {
		assert.Equal(t, infos[kindRedis], infos[kindCelerity])
		assert.Equal(t, "addr=DIR/s.sock:0 laddr=DIR/s.sock:0 flags=U", infos[kindCelerity])
	}
}

// TestUnixSocketLongPathAddr: Redis formats "<path>:0" into a 78-byte buffer,
// so a socket path of 100 bytes (CI's temporary directories are that deep)
// shows cut to 77 bytes in CLIENT INFO; both servers get the same path.
func TestUnixSocketLongPathAddr(t *testing.T) {
	cli := redisTool(t, "redis-cli")
	base := t.TempDir()
	dir := filepath.Join(base, strings.Repeat("d", 100-len(base)-len("/s.sock")-1))
	require.NoError(t, os.Mkdir(dir, 0o755))
	sock := filepath.Join(dir, "s.sock")
	require.Len(t, sock, 100)
	addrs := map[string]string{}
	forEachKind(t, func(t *testing.T, kind string) {
		p := launchNet(t, kind, "--port", "0", "--unixsocket", sock, "--save", "")
		p.waitUp("unix", sock)
		out, err := exec.Command(cli, "-s", sock, "client", "info").CombinedOutput()
		require.NoError(t, err)
		addrs[kind] = regexp.MustCompile(`^id=\d+ (addr=\S+ laddr=\S+) .*\n$`).ReplaceAllString(string(out), "$1")
		p.stop()
	})
	if len(addrs) == 2 {
		assert.Equal(t, addrs[kindRedis], addrs[kindCelerity])
		assert.Equal(t, "addr="+sock[:77]+" laddr="+sock[:77], addrs[kindCelerity])
	}
}

// TestTLSOnlyWithRedisCli: port 0 and tls-port, redis-cli --tls with the
// test CA and a client certificate; without a certificate the default
// tls-auth-clients yes refuses the client. Both servers alike.
func TestTLSOnlyWithRedisCli(t *testing.T) {
	cli := redisTool(t, "redis-cli")
	pki := resptest.WritePKI(t, t.TempDir())
	got := map[string][]string{}
	forEachKind(t, func(t *testing.T, kind string) {
		port := strconv.Itoa(freePort(t))
		p := launchNet(t, kind, "--port", "0", "--tls-port", port, "--bind", "127.0.0.1", "--save", "",
			"--tls-cert-file", pki.ServerCert, "--tls-key-file", pki.ServerKey, "--tls-ca-cert-file", pki.CACert)
		tlsArgs := []string{"--tls", "--cacert", pki.CACert, "-p", port}
		withCert := append(append([]string{}, tlsArgs...), "--cert", pki.ClientCert, "--key", pki.ClientKey)
		deadline := time.Now().Add(15 * time.Second)
		for {
			out, _ := exec.Command(cli, append(withCert, "ping")...).CombinedOutput()
			if string(out) == "PONG\n" {
				break
			}
			require.True(t, time.Now().Before(deadline), "%s TLS port never answered: %s\n%s", kind, out, p.out.String())
			time.Sleep(10 * time.Millisecond) // polling a port not listening yet
		}
		out, _ := exec.Command(cli, append(withCert, "set", "k", "v")...).CombinedOutput()
		got[kind] = append(got[kind], string(out))
		out, _ = exec.Command(cli, append(withCert, "get", "k")...).CombinedOutput()
		got[kind] = append(got[kind], string(out))
		out, _ = exec.Command(cli, append(tlsArgs, "ping")...).CombinedOutput()
		assert.NotEqual(t, "PONG\n", string(out), "a client without a certificate is refused")
		out, _ = exec.Command(cli, append(withCert, "client", "info")...).CombinedOutput()
		assert.Regexp(t, `addr=127\.0\.0\.1:\d+ laddr=127\.0\.0\.1:`+port+` `, string(out))
		// Plain text on the TLS port gets no RESP reply.
		c, err := net.Dial("tcp", "127.0.0.1:"+port)
		require.NoError(t, err)
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Write([]byte("PING\r\n"))
		data, _ := io.ReadAll(c)
		assert.NotContains(t, string(data), "PONG")
	})
	if len(got) == 2 {
		assert.Equal(t, got[kindRedis], got[kindCelerity])
	}
}

// TestIdleTimeoutSparesBlockedClients: with timeout 1 an idle client is
// closed, a client blocked in BLPOP (Kombu's BRPOP loop with a long
// timeout) is not and still gets its element. Both servers alike.
func TestIdleTimeoutSparesBlockedClients(t *testing.T) {
	forEachKind(t, func(t *testing.T, kind string) {
		port := strconv.Itoa(freePort(t))
		p := launchNet(t, kind, "--port", port, "--bind", "127.0.0.1", "--save", "", "--timeout", "1")
		addr := "127.0.0.1:" + port
		p.waitUp("tcp", addr)
		blocked, idle := dial(t, addr), dial(t, addr)
		blocked.send("BLPOP", "q", "0")
		require.Equal(t, "PONG", idle.do("PING"))
		_, err := idle.read(5 * time.Second)
		require.ErrorIs(t, err, io.EOF, "the idle client is closed")
		assert.Equal(t, "1", dial(t, addr).do("RPUSH", "q", "task"))
		r, err := blocked.read(5 * time.Second)
		require.NoError(t, err)
		assert.Equal(t, "[q task]", r)
	})
}

// TestSyslogEnabledRefused: Celerity has no syslog output and says so at
// start-up rather than logging elsewhere silently.
func TestSyslogEnabledRefused(t *testing.T) {
	p := launchNet(t, kindCelerity, "--port", strconv.Itoa(freePort(t)), "--syslog-enabled", "yes")
	code, out := p.waitExit()
	assert.Equal(t, 1, code)
	assert.Contains(t, out, ">>> 'syslog-enabled \"yes\"'\nsyslog-enabled yes is not supported")
}

// TestConfigSetPortAndBind: CONFIG SET port/bind/tls-port move the
// listeners at runtime; a port in use or an absent address fails with
// Redis's error and leaves the server listening where it was.
func TestConfigSetPortAndBind(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	busyPort := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)
	got := map[string][]string{}
	forEachKind(t, func(t *testing.T, kind string) {
		port := strconv.Itoa(freePort(t))
		p := launchNet(t, kind, "--port", port, "--bind", "127.0.0.1", "--save", "")
		addr := "127.0.0.1:" + port
		p.waitUp("tcp", addr)
		c := dial(t, addr)
		set := func(args ...string) {
			got[kind] = append(got[kind], c.do(append([]string{"CONFIG", "SET"}, args...)...))
		}
		set("port", busyPort)
		set("bind", "192.0.2.1")
		set("tls-port", port)
		set("bind", "127.0.0.1 -192.0.2.1")
		got[kind] = append(got[kind], c.do("CONFIG", "GET", "bind"))
		assert.True(t, pingPong(addr), "still listening on the old port")
		newPort := strconv.Itoa(freePort(t))
		set("port", newPort)
		assert.True(t, pingPong("127.0.0.1:"+newPort), "listening on the new port")
		assert.False(t, pingPong(addr), "the old port is closed")
		assert.Equal(t, "PONG", c.do("PING"), "established clients stay")
	})
	if len(got) == 2 {
		assert.Equal(t, got[kindRedis], got[kindCelerity])
	}
}
