package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// SHUTDOWN's forms that stop the server, on Celerity and on redis-server
// alike (appendonly yes, no save points): the client gets no reply, the
// process exits 0 with Redis's log lines, and what was acknowledged is
// there after a restart. The refusals are compared by the differential
// suite (integration/cases_introspection_test.go).
func TestShutdownForms(t *testing.T) {
	for _, form := range [][]string{nil, {"NOSAVE"}, {"NOW"}, {"FORCE"}, {"nosave", "now", "force"}} {
		name := strings.Join(append([]string{"SHUTDOWN"}, form...), "_")
		t.Run(name, func(t *testing.T) {
			forEachKind(t, func(t *testing.T, kind string) {
				s := newAOFServer(t, kind, t.TempDir(), "everysec")
				s.start()
				c := dialT(t, s.addr())
				c.must(t, "SET", "k", "v")
				r, err := c.do(append([]string{"SHUTDOWN"}, form...)...)
				require.Error(t, err, "SHUTDOWN answered %v instead of closing the connection", r)
				code, ok := s.waitExit(15 * time.Second)
				require.True(t, ok, "no exit within 15 s of SHUTDOWN")
				assert.Equal(t, 0, code)
				log := s.logText()
				assert.Contains(t, log, "# User requested shutdown...")
				assert.Contains(t, log, " is now ready to exit, bye bye...")
				s.start()
				assert.Equal(t, "v", dialT(t, s.addr()).must(t, "GET", "k").str)
				s.term()
			})
		})
	}
}

// TestShutdownSave documents the one difference: SHUTDOWN SAVE makes
// Redis write dump.rdb and exit, while Celerity, which writes no RDB
// snapshots, answers as Redis does when that save fails: an error, and the
// server keeps running (the dataset is in the AOF; SHUTDOWN or SHUTDOWN
// NOSAVE stop it).
func TestShutdownSave(t *testing.T) {
	forEachKind(t, func(t *testing.T, kind string) {
		s := newAOFServer(t, kind, t.TempDir(), "everysec")
		s.start()
		c := dialT(t, s.addr())
		c.must(t, "SET", "k", "v")
		r, err := c.do("SHUTDOWN", "SAVE")
		if kind == kindRedis {
			require.Error(t, err, "Redis answered %v", r)
			code, ok := s.waitExit(15 * time.Second)
			require.True(t, ok)
			assert.Equal(t, 0, code)
			_, err := os.Stat(filepath.Join(s.dir, "dump.rdb"))
			assert.NoError(t, err, "Redis saved dump.rdb")
			return
		}
		require.NoError(t, err)
		assert.Equal(t, "-ERR Errors trying to SHUTDOWN. Check logs.", r.String())
		assert.Contains(t, s.logText(), "Error trying to save the DB")
		assert.Equal(t, "v", c.must(t, "GET", "k").str)
		s.term()
	})
}
