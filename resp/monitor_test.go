package resp_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/resp/resptest"
)

// MONITOR's lines are compared with redis-server in
// integration/cases_ops_test.go; this test checks what the oracle cannot
// show cheaply: a monitor that does not read is closed at the normal
// class's hard output limit instead of growing without bound.
func TestMonitorClosedAtHardLimit(t *testing.T) {
	srv := resptest.NewServer(t)
	c := resptest.Dial(t, srv.Addr())
	require.Equal(t, "OK", c.Do("CONFIG", "SET", "client-output-buffer-limit", "normal 1mb 0 0").Str)
	m := resptest.Dial(t, srv.Addr())
	require.Equal(t, "OK", m.Do("MONITOR").Str)
	big := strings.Repeat("a", 64<<10)
	for i := 0; i < 300; i++ { // ~19 MB of monitor lines, unread
		require.Equal(t, "OK", c.Do("SET", "k", big).Str)
	}
	// Drain what was sent before the close; the server must end the
	// connection rather than keep it open.
	nc := m.NetConn()
	require.NoError(t, nc.SetReadDeadline(time.Now().Add(10*time.Second)))
	buf := make([]byte, 1<<20)
	var err error
	for err == nil {
		_, err = nc.Read(buf)
	}
	require.True(t, errors.Is(err, io.EOF) || strings.Contains(err.Error(), "reset"), "monitor not closed: %v", err)
	require.Equal(t, "OK", c.Do("CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0").Str)
}

// A monitor is exempt from the idle timeout, as Redis exempts replicas and
// monitors: `redis-cli monitor` must not be cut off after `timeout` seconds.
func TestMonitorExemptFromIdleTimeout(t *testing.T) {
	srv := resptest.NewServer(t)
	idle := resptest.Dial(t, srv.Addr())
	m := resptest.Dial(t, srv.Addr())
	require.Equal(t, "OK", m.Do("MONITOR").Str)
	require.Equal(t, "OK", idle.Do("CONFIG", "SET", "timeout", "1").Str)
	time.Sleep(2500 * time.Millisecond) // the idle limit is whole seconds
	_, err := idle.TryReadRaw(5 * time.Second)
	require.Error(t, err)
	require.True(t, errors.Is(err, io.EOF) || strings.Contains(err.Error(), "reset"), "the idle client was not closed: %v", err)
	require.Equal(t, "PONG", m.Do("PING").Str)
}
