package e2e

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Protected mode seen from a real second host: the test makes a network
// namespace joined to this one by a veth pair (10.213.N.1 here, 10.213.N.2
// there) and runs redis-cli inside it against Celerity and redis-server,
// both bound to 0.0.0.0 with protected-mode at its default (yes). Without
// a password both must refuse it with the DENIED text and close; with
// requirepass both must answer PONG to an authenticated PING and NOAUTH to
// an anonymous one. Creating a namespace needs root (CAP_NET_ADMIN and
// CAP_SYS_ADMIN) and iproute2; where the test cannot, it skips and says
// why (integration/protected_test.go covers the same rule through a
// non-loopback address of this host).

// netns is a namespace with a veth link to the test's own namespace.
type netns struct {
	name   string
	hostIP string // this side's address, which the servers see the client come to
}

func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// newNetns creates the namespace and link, or skips with the reason.
func newNetns(t *testing.T) *netns {
	t.Helper()
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("iproute2's ip is not installed: no second network namespace can be made")
	}
	n := os.Getpid() % 250
	ns := &netns{name: fmt.Sprintf("celerity-e2e-%d", os.Getpid()), hostIP: fmt.Sprintf("10.213.%d.1", n)}
	vethHost, vethNS := fmt.Sprintf("cel%dh", os.Getpid()%100000), fmt.Sprintf("cel%dn", os.Getpid()%100000)
	if err := ipCmd("netns", "add", ns.name); err != nil {
		t.Skipf("cannot create a network namespace here (needs root with CAP_SYS_ADMIN): %v", err)
	}
	t.Cleanup(func() {
		_ = ipCmd("link", "del", vethHost)
		_ = ipCmd("netns", "del", ns.name)
	})
	steps := [][]string{
		{"link", "add", vethHost, "type", "veth", "peer", "name", vethNS},
		{"link", "set", vethNS, "netns", ns.name},
		{"addr", "add", ns.hostIP + "/30", "dev", vethHost},
		{"link", "set", vethHost, "up"},
		{"-n", ns.name, "addr", "add", fmt.Sprintf("10.213.%d.2/30", n), "dev", vethNS},
		{"-n", ns.name, "link", "set", vethNS, "up"},
		{"-n", ns.name, "link", "set", "lo", "up"},
	}
	for _, s := range steps {
		if err := ipCmd(s...); err != nil {
			t.Skipf("cannot set up the veth link (needs CAP_NET_ADMIN): %v", err)
		}
	}
	return ns
}

// cli runs redis-cli inside the namespace against host:port.
func (ns *netns) cli(t *testing.T, port int, args ...string) string {
	t.Helper()
	argv := append([]string{"netns", "exec", ns.name, redisTool(t, "redis-cli"), "-h", ns.hostIP, "-p", strconv.Itoa(port)}, args...)
	out, _ := exec.Command("ip", argv...).CombinedOutput()
	return strings.TrimSpace(string(out))
}

// startOnAllAddresses starts a server of kind bound to 0.0.0.0 with
// protected-mode at its default and waits until it answers on loopback.
func startOnAllAddresses(t *testing.T, kind string, extra ...string) int {
	t.Helper()
	port := freePort(t)
	dir := t.TempDir()
	argv := append([]string{"--port", strconv.Itoa(port), "--bind", "0.0.0.0", "--dir", dir,
		"--save", "", "--appendonly", "no", "--logfile", dir + "/server.log"}, extra...)
	cmd := exec.Command(kindBinary(t, kind), argv...)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
		if err == nil {
			_, _ = c.Write([]byte("PING\r\n"))
			_ = c.SetReadDeadline(time.Now().Add(time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if line != "" {
				return port
			}
		}
		require.True(t, time.Now().Before(deadline), "%s did not start", kind)
		time.Sleep(10 * time.Millisecond) // the port is not listening yet
	}
}

func TestProtectedModeFromAnotherNamespace(t *testing.T) {
	ns := newNetns(t)
	forEachKind(t, func(t *testing.T, kind string) {
		t.Run("no-password", func(t *testing.T) {
			port := startOnAllAddresses(t, kind)
			out := ns.cli(t, port, "ping")
			assert.True(t, strings.HasPrefix(out, "DENIED Redis is running in protected mode"), "%s from outside: %q", kind, out)
		})
		t.Run("password", func(t *testing.T) {
			port := startOnAllAddresses(t, kind, "--requirepass", "s3cret")
			assert.Equal(t, "PONG", ns.cli(t, port, "--no-auth-warning", "-a", "s3cret", "ping"))
			assert.Equal(t, "NOAUTH Authentication required.", ns.cli(t, port, "ping"))
		})
	})
}
