package aof_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/aof"
)

func TestSmokeOS(t *testing.T) {
	dir := osDir(t)
	a, cmds := openStart(t, dir, aof.Options{})
	assert.Empty(t, cmds)
	off := a.Append(encAll([]string{"SELECT", "0"}, []string{"SET", "a", "1"}))
	require.NoError(t, a.WaitWritten(off))
	require.NoError(t, a.Close())
	assert.Equal(t, "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n",
		readOS(t, dir, "appendonlydir", "appendonly.aof.manifest"))
	a, cmds = openStart(t, dir, aof.Options{})
	assert.Equal(t, [][]string{{"SELECT", "0"}, {"SET", "a", "1"}}, cmds)
	require.NoError(t, a.Close())
}
