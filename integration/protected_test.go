package integration

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/resp"
	"github.com/celerity/celerity/resp/conffile"
	"github.com/celerity/celerity/resp/resptest"
)

// Protected mode refuses clients that connect from outside the loopback
// interface. Such a client is made here without a network namespace: the
// test connects to one of this host's own non-loopback addresses, and the
// server sees that address (not 127.0.0.1) as the peer, which is exactly
// the condition Redis checks. The test skips, saying why, on a host with
// no such address.

// externalIPv4 returns a non-loopback IPv4 address of an interface that is
// up, or "".
func externalIPv4() string {
	ifs, err := net.Interfaces()
	if err != nil {
		return ""
	}
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
				return n.IP.String()
			}
		}
	}
	return ""
}

// protectedServer starts a Celerity with protected-mode at its default,
// listening on every IPv4 address, and returns its port. directives are
// applied first, as from redis.conf.
func protectedServer(t *testing.T, directives ...conffile.Directive) string {
	t.Helper()
	cfg := resp.NewConfig()
	cfg.SavePoints = nil // shutting down writes no dump.rdb here
	for _, d := range directives {
		require.NoError(t, cfg.Apply(d))
	}
	srv, err := resp.NewServer(cfg, resp.Options{Logger: zerolog.Nop()})
	require.NoError(t, err)
	ln, err := net.Listen("tcp4", "0.0.0.0:0")
	require.NoError(t, err)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	srv.StartCron()
	go srv.ServeListener(ln)
	require.NoError(t, srv.LoadData())
	t.Cleanup(srv.Shutdown)
	return port
}

// dialExternal dials addr, optionally sends args, and returns what the
// server sent until it closed the connection (closed) or went quiet.
func dialExternal(t *testing.T, addr string, args ...string) ([]byte, bool) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(t, err)
	defer nc.Close()
	if len(args) > 0 {
		_, _ = nc.Write(resptest.Encode(args...))
	}
	_ = nc.SetReadDeadline(time.Now().Add(2 * time.Second))
	var got []byte
	buf := make([]byte, 4096)
	for {
		n, err := nc.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			return got, isClosed(err)
		}
	}
}

func TestDiffProtectedMode(t *testing.T) {
	ora := needOracle(t)
	ext := externalIPv4()
	if ext == "" {
		t.Skip("this host has no non-loopback IPv4 address: a client outside the loopback interface cannot be made")
	}
	_ = ora
	oracleAddr := startRedis(t, "--bind", "127.0.0.1", ext, "--protected-mode", "yes")
	_, oraPort, _ := net.SplitHostPort(oracleAddr)
	celPort := protectedServer(t)
	ports := map[string]string{"celerity": celPort, "oracle": oraPort}

	run := func(what string, f func(name, loop, external string) string) {
		got := map[string]string{}
		for _, name := range []string{"celerity", "oracle"} {
			got[name] = f(name, net.JoinHostPort("127.0.0.1", ports[name]), net.JoinHostPort(ext, ports[name]))
		}
		assert.Equal(t, got["oracle"], got["celerity"], what)
	}
	run("external client, no password: DENIED then closed", func(_, _, external string) string {
		b, closed := dialExternal(t, external)
		require.True(t, closed, "connection not closed after %q", b)
		return string(b)
	})
	run("external client sending PING first: same", func(_, _, external string) string {
		b, closed := dialExternal(t, external, "PING")
		require.True(t, closed, "connection not closed after %q", b)
		return string(b)
	})
	run("loopback client accepted", func(_, loop, _ string) string {
		return string(resptest.Dial(t, loop).DoRaw("PING"))
	})
	run("with a password: external accepted, NOAUTH until AUTH", func(_, loop, external string) string {
		c := resptest.Dial(t, loop)
		require.Equal(t, "+OK\r\n", string(c.DoRaw("CONFIG", "SET", "requirepass", "pw")))
		e := resptest.Dial(t, external)
		out := string(e.DoRaw("PING")) + string(e.DoRaw("AUTH", "pw")) + string(e.DoRaw("PING"))
		out += string(e.DoRaw("CONFIG", "SET", "requirepass", ""))
		return out
	})
	run("protected-mode no: external accepted", func(_, loop, external string) string {
		c := resptest.Dial(t, loop)
		out := string(c.DoRaw("CONFIG", "GET", "protected-mode"))
		out += string(c.DoRaw("CONFIG", "SET", "protected-mode", "maybe"))
		out += string(c.DoRaw("CONFIG", "SET", "protected-mode", "no"))
		out += string(resptest.Dial(t, external).DoRaw("PING"))
		out += string(c.DoRaw("CONFIG", "SET", "protected-mode", "yes"))
		return out
	})
	run("refusals counted", func(_, loop, _ string) string {
		v := resptest.Dial(t, loop).Do("INFO", "stats")
		for _, line := range strings.Split(v.Str, "\r\n") {
			if strings.HasPrefix(line, "rejected_connections:") {
				return line
			}
		}
		return "no rejected_connections field"
	})
}

// TestDiffDebugLocal checks enable-debug-command local: DEBUG runs for a
// loopback client and is refused, with Redis's text, for one connecting
// from another address.
func TestDiffDebugLocal(t *testing.T) {
	needOracle(t)
	ext := externalIPv4()
	if ext == "" {
		t.Skip("this host has no non-loopback IPv4 address: a client outside the loopback interface cannot be made")
	}
	oracleAddr := startRedis(t, "--bind", "127.0.0.1", ext, "--protected-mode", "no", "--enable-debug-command", "local")
	_, oraPort, _ := net.SplitHostPort(oracleAddr)
	celPort := protectedServer(t,
		conffile.Directive{Name: "protected-mode", Args: []string{"no"}},
		conffile.Directive{Name: "enable-debug-command", Args: []string{"local"}})
	for _, host := range []string{"127.0.0.1", ext} {
		cel := resptest.Dial(t, net.JoinHostPort(host, celPort))
		ora := resptest.Dial(t, net.JoinHostPort(host, oraPort))
		for _, args := range [][]string{{"DEBUG", "SLEEP", "0"}, {"CONFIG", "GET", "enable-debug-command"}} {
			assert.Equal(t, string(ora.DoRaw(args...)), string(cel.DoRaw(args...)), "%v from %s", args, host)
		}
	}
}
