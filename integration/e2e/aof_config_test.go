package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// CONFIG SET appendonly yes on a running server: the AOF starts with a
// rewrite of the dataset as it is, so what was written before and after
// survives kill -9; CONFIG SET appendonly no stops it.
func TestConfigSetAppendonlyAtRuntime(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.addr())
	require.Equal(t, "OK", c.do("SET", "before", "1"))
	require.Equal(t, "2", c.do("RPUSH", "q", "a", "b"))
	require.Equal(t, "OK", c.do("CONFIG", "SET", "appendonly", "yes"))
	waitFor(t, "the initial rewrite", func() bool {
		return infoField(t, c, "persistence", "aof_rewrites") == "1" &&
			infoField(t, c, "persistence", "aof_rewrite_in_progress") == "0"
	})
	require.Equal(t, "OK", c.do("SET", "after", "2"))
	assert.Equal(t, "1", infoField(t, c, "persistence", "aof_enabled"))
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGKILL))
	s.cmd.Wait()

	s2 := startServer(t, "--dir", s.dir, "--appendonly", "yes")
	c2 := dial(t, s2.addr())
	assert.Equal(t, "[1 2]", c2.do("MGET", "before", "after"))
	assert.Equal(t, "[a b]", c2.do("LRANGE", "q", "0", "-1"))

	require.Equal(t, "OK", c2.do("CONFIG", "SET", "appendonly", "no"))
	assert.Equal(t, "0", infoField(t, c2, "persistence", "aof_enabled"))
	man, err := os.ReadFile(filepath.Join(s.dir, "appendonlydir", "appendonly.aof.manifest"))
	require.NoError(t, err)
	assert.True(t, strings.Contains(string(man), "type b"), "%s", man)
}
