package integration

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/resp/resptest"
)

// While clients are paused (CLIENT PAUSE WRITE or ALL) Redis 7.0 keeps the
// dataset static: no active expiry, no eviction, and an expired key reads
// as absent but is neither deleted nor counted until the pause ends. The
// scenario runs on each server in turn and the observations are compared.
//
// The one thing that cannot be awaited is that nothing happens: after the
// keys are logically expired the scenario lets pauseQuiet pass, ten cron
// ticks at hz 100, in which an active expiry cycle would have deleted them.

const pauseQuiet = 100 * time.Millisecond

// pauseExpiryScenario returns the replies a server gave, one line each.
// mode is WRITE or ALL. Under ALL the pausing client is itself held, so
// observations during the pause come from a MONITOR connection, which
// Redis never pauses and which may run commands that do not touch keys.
func pauseExpiryScenario(t *testing.T, addr, mode string) []string {
	c, mon := resptest.Dial(t, addr), resptest.Dial(t, addr)
	var out []string
	// do sends a command and returns its reply; on the monitor connection
	// it skips the monitor lines before it.
	do := func(c *resptest.Conn, args ...string) string {
		c.Send(args...)
		for {
			r := string(c.ReadRaw())
			if c != mon || !monitorStatus.MatchString(r) {
				return r
			}
		}
	}
	obs := func(c *resptest.Conn, args ...string) {
		out = append(out, strings.Join(args, " ")+" -> "+do(c, args...))
	}
	infoField := func(c *resptest.Conn, section, field string) {
		r, err := parseReply([]byte(do(c, "INFO", section)))
		require.NoError(t, err)
		for _, l := range strings.Split(r.Str, "\r\n") {
			if strings.HasPrefix(l, field+":") {
				out = append(out, l)
			}
		}
	}
	require.Equal(t, "+OK\r\n", string(c.DoRaw("FLUSHALL")))
	obs(c, "CONFIG", "SET", "hz", "100")
	obs(c, "CONFIG", "RESETSTAT")
	obs(mon, "MONITOR")
	// The pause starts at the end of the transaction that set the keys.
	obs(c, "MULTI")
	obs(c, "SET", "foo", "bar", "PX", "10")
	obs(c, "SET", "bar", "foo", "PX", "10")
	obs(c, "SET", "keep", "v")
	obs(c, "CLIENT", "PAUSE", "60000", mode)
	obs(c, "EXEC")
	if mode == "WRITE" {
		// Reads still run: wait until the keys read as expired.
		deadline := time.Now().Add(3 * time.Second)
		for string(c.DoRaw("PTTL", "foo")) != ":-2\r\n" {
			require.True(t, time.Now().Before(deadline), "foo never read as expired")
			time.Sleep(2 * time.Millisecond)
		}
		time.Sleep(pauseQuiet)
		obs(c, "GET", "foo")
		obs(c, "EXISTS", "foo", "bar", "keep")
		obs(c, "TTL", "bar")
		obs(c, "DBSIZE")
		obs(c, "KEYS", "*")
		obs(c, "SCAN", "0")
		infoField(c, "stats", "expired_keys")
		infoField(c, "keyspace", "db0")
		obs(c, "CLIENT", "UNPAUSE")
	} else {
		time.Sleep(10*time.Millisecond + pauseQuiet)
		infoField(mon, "stats", "expired_keys")
		infoField(mon, "keyspace", "db0")
		obs(mon, "CLIENT", "UNPAUSE")
		obs(c, "PING") // held until the pause ended
	}
	obs(c, "GET", "foo")
	obs(c, "GET", "bar")
	obs(c, "DBSIZE")
	infoField(c, "stats", "expired_keys")
	obs(c, "CONFIG", "SET", "hz", "10")
	return out
}

// monitorStatus matches a MONITOR line as sent ("+1795486464.027028 [0 ...").
var monitorStatus = regexp.MustCompile(`^\+[0-9]+\.[0-9]{6} \[`)

func TestDiffPauseStopsExpiry(t *testing.T) {
	tg := defaultTarget(t)
	t.Cleanup(func() { resptest.Dial(t, tg.ora).DoRaw("CONFIG", "SET", "hz", "10") })
	for _, mode := range []string{"WRITE", "ALL"} {
		t.Run(mode, func(t *testing.T) {
			cel := pauseExpiryScenario(t, tg.cel, mode)
			ora := pauseExpiryScenario(t, tg.ora, mode)
			if !slices.Equal(cel, ora) {
				t.Errorf("observations differ:\n%s", sideBySide(cel, ora))
			}
			// The scenario must have seen a kept key, or it proves nothing.
			assert.Contains(t, ora, "db0:keys=3,expires=2,avg_ttl=0")
		})
	}
}

// sideBySide renders two observation lists for a failure message.
func sideBySide(cel, ora []string) string {
	var b strings.Builder
	for i := 0; i < max(len(cel), len(ora)); i++ {
		var g, w string
		if i < len(cel) {
			g = cel[i]
		}
		if i < len(ora) {
			w = ora[i]
		}
		mark := "  "
		if g != w {
			mark = "! "
		}
		fmt.Fprintf(&b, "%s%q\n  %q\n", mark, g, w)
	}
	return b.String()
}
