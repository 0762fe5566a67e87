package resp_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/resp"
	"github.com/celerity/celerity/resp/conffile"
	"github.com/celerity/celerity/resp/resptest"
)

// The slow log's replies are compared with redis-server in
// integration/cases_ops_test.go; these tests check what the oracle cannot:
// the durations Celerity measures under its two timing rules.

func debugServer(t *testing.T) *resptest.Conn {
	t.Helper()
	srv := resptest.NewServer(t, resptest.WithConfig(func(cfg *resp.Config) {
		require.NoError(t, cfg.Apply(conffile.Directive{Name: "enable-debug-command", Args: []string{"yes"}}))
	}))
	return resptest.Dial(t, srv.Addr())
}

// slowlogNames returns the command names of the slow log, newest first,
// and the durations of the entries.
func slowlogNames(t *testing.T, c *resptest.Conn) ([]string, []int64) {
	t.Helper()
	v := c.Do("SLOWLOG", "GET", "-1")
	require.Equal(t, byte('*'), v.Kind, "SLOWLOG GET: %q", v.Str)
	var names []string
	var durations []int64
	for _, e := range v.Elems {
		require.Len(t, e.Elems, 6)
		names = append(names, strings.ToLower(e.Elems[3].Elems[0].Str))
		durations = append(durations, e.Elems[2].Int)
	}
	return names, durations
}

func TestSlowlogTimesLongCommandInPipeline(t *testing.T) {
	c := debugServer(t)
	require.Equal(t, "OK", c.Do("SLOWLOG", "RESET").Str)
	// One write: fast commands around a slow one, run as one batch. At
	// the default threshold (10 ms) only the slow one may be logged, with
	// its own duration rather than a share of the batch's.
	var pipe []byte
	for _, args := range [][]string{{"PING"}, {"SET", "k", "v"}, {"DEBUG", "SLEEP", "0.03"}, {"GET", "k"}, {"INCR", "n"}} {
		pipe = append(pipe, resptest.Encode(args...)...)
	}
	c.WriteRaw(pipe)
	for i := 0; i < 5; i++ {
		c.Read()
	}
	names, durations := slowlogNames(t, c)
	require.Equal(t, []string{"debug"}, names)
	assert.GreaterOrEqual(t, durations[0], int64(30000))
}

func TestSlowlogFineThresholdLogsEveryCommand(t *testing.T) {
	c := debugServer(t)
	require.Equal(t, "OK", c.Do("CONFIG", "SET", "slowlog-log-slower-than", "0").Str)
	require.Equal(t, "OK", c.Do("SLOWLOG", "RESET").Str)
	var pipe []byte
	for _, args := range [][]string{{"PING"}, {"DEBUG", "SLEEP", "0.02"}, {"GET", "k"}} {
		pipe = append(pipe, resptest.Encode(args...)...)
	}
	c.WriteRaw(pipe)
	for i := 0; i < 3; i++ {
		c.Read()
	}
	names, durations := slowlogNames(t, c)
	require.Equal(t, []string{"get", "debug", "ping", "slowlog"}, names)
	// The fast commands are timed alone too: the sleep is not shared out.
	assert.Less(t, durations[0], int64(20000))
	assert.GreaterOrEqual(t, durations[1], int64(20000))
	assert.Less(t, durations[2], int64(20000))
}

// At a coarse threshold a fast command is timed per batch; alone in its
// batch (a client that does not pipeline) it is timed exactly all the
// same, and logged when it ran long. RPUSH of many elements is a fast
// command that runs for milliseconds.
func TestSlowlogLogsLongFastCommandAlone(t *testing.T) {
	c := debugServer(t)
	require.Equal(t, "OK", c.Do("CONFIG", "SET", "slowlog-log-slower-than", "1000").Str)
	require.Equal(t, "OK", c.Do("SLOWLOG", "RESET").Str)
	args := []string{"RPUSH", "l"}
	for i := 0; i < 200000; i++ {
		args = append(args, "element")
	}
	require.Equal(t, int64(200000), c.Do(args...).Int)
	v := c.Do("SLOWLOG", "GET", "1")
	require.Len(t, v.Elems, 1)
	e := v.Elems[0].Elems
	assert.GreaterOrEqual(t, e[2].Int, int64(1000))
	require.Len(t, e[3].Elems, 32, "trimmed to 32 arguments")
	assert.Equal(t, "RPUSH", e[3].Elems[0].Str)
	assert.Equal(t, "... (199971 more arguments)", e[3].Elems[31].Str)
}

// A rejected command parsed after a long fast one in the same read reuses
// the argument slices the batch's note points to: the note must be dropped
// rather than log the long command under the rejected one's arguments.
func TestSlowlogNoteDroppedByRejectedCommand(t *testing.T) {
	c := debugServer(t)
	require.Equal(t, "OK", c.Do("CONFIG", "SET", "slowlog-log-slower-than", "1000").Str)
	require.Equal(t, "OK", c.Do("SLOWLOG", "RESET").Str)
	args := []string{"RPUSH", "l"}
	for i := 0; i < 200000; i++ {
		args = append(args, "element")
	}
	c.WriteRaw(append(resptest.Encode(args...), resptest.Encode("NOSUCHCMD", "x")...))
	c.Read()
	c.Read()
	v := c.Do("SLOWLOG", "GET", "-1")
	for _, e := range v.Elems {
		assert.NotEqual(t, "NOSUCHCMD", e.Elems[3].Elems[0].Str)
	}
}
