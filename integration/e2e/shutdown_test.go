package e2e

import (
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
