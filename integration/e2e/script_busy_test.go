package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A script past busy-reply-threshold keeps its unit, but the server keeps
// answering: other clients get -BUSY, allow_busy commands still run, and
// SCRIPT KILL stops the script.
//
// With several reactors (io-threads) the script's reactor lends the engine
// lock to the others, which serve their own clients the same way.
func TestLongScriptAnswersBusyAndScriptKill(t *testing.T) {
	for _, threads := range []string{"1", "2"} {
		t.Run("io-threads="+threads, func(t *testing.T) {
			testLongScriptAnswersBusy(t, "--busy-reply-threshold", "100", "--io-threads", threads)
		})
	}
}

func testLongScriptAnswersBusy(t *testing.T, args ...string) {
	s := startServer(t, args...)
	runner := dial(t, s.addr())
	other := dial(t, s.addr())
	require.Equal(t, "OK", other.do("SET", "k", "before"))

	runner.send("EVAL", "redis.call('GET', 'k') while true do end", "0")
	// Wait until the threshold has passed: PING turns into BUSY.
	var r string
	waitFor(t, "the script to be reported busy", func() bool {
		r = other.do("PING")
		return strings.HasPrefix(r, "BUSY")
	})
	assert.Equal(t, "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.", r)
	assert.Equal(t, "OK", other.do("SCRIPT", "KILL"))
	got, err := runner.read(10 * time.Second)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(got, "ERR Script killed by user with SCRIPT KILL..."), got)
	assert.Equal(t, "PONG", other.do("PING"))
	assert.Equal(t, "before", runner.do("GET", "k"))
}

func TestScriptThatWroteIsUnkillable(t *testing.T) {
	s := startServer(t, "--busy-reply-threshold", "100")
	runner := dial(t, s.addr())
	other := dial(t, s.addr())
	// Busy for about 1.5 s of the server's clock, then done by itself.
	runner.send("EVAL", "redis.call('SET', 'k', 'v') local t0 = tonumber(redis.call('TIME')[1]) "+
		"while tonumber(redis.call('TIME')[1]) < t0 + 2 do end return 'done'", "0")
	waitFor(t, "the script to be reported busy", func() bool {
		return strings.HasPrefix(other.do("GET", "k"), "BUSY")
	})
	assert.True(t, strings.HasPrefix(other.do("SCRIPT", "KILL"), "UNKILLABLE"))
	got, err := runner.read(30 * time.Second)
	require.NoError(t, err)
	assert.Equal(t, "done", got)
	assert.Equal(t, "v", other.do("GET", "k"))
}
