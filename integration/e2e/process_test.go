package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runOnce runs the binary to completion (for commands that must exit).
func runOnce(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Stdin = strings.NewReader(stdin)
	done := make(chan error, 1)
	require.NoError(t, cmd.Start())
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("%v did not exit", args)
	}
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

func TestVersionAndHelp(t *testing.T) {
	out, _, code := runOnce(t, "", "--version")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "v=7.0.15")
	assert.Contains(t, out, "celerity")
	_, errOut, code := runOnce(t, "", "--help")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "Usage:")
}

func TestBadConfigIsFatalWithRedisMessage(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "redis.conf")
	require.NoError(t, os.WriteFile(conf, []byte("port 7777\n# comment\nfoo-bar 1\n"), 0o644))
	_, errOut, code := runOnce(t, "", conf)
	assert.Equal(t, 1, code)
	assert.Equal(t, "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 3\n>>> 'foo-bar 1'\nBad directive or wrong number of arguments\n", errOut)

	// Invalid save points get Redis's reason.
	_, errOut, code = runOnce(t, "", "--save", "900")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, ">>> 'save \"900\"'")
	assert.Contains(t, errOut, "Invalid save parameters")

	_, errOut, code = runOnce(t, "", "--port", "99999")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "argument must be between 0 and 65535 inclusive")
}

func TestMissingConfigFile(t *testing.T) {
	out, _, code := runOnce(t, "", "/nonexistent/redis.conf")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "Fatal error, can't open config file '/nonexistent/redis.conf': No such file or directory")
}

func TestConfigFileIncludeAndRenameCommand(t *testing.T) {
	dir := t.TempDir()
	inc := filepath.Join(dir, "extra.conf")
	require.NoError(t, os.WriteFile(inc, []byte("rename-command FLUSHALL \"\"\nrename-command CONFIG SECRETCONFIG\n"), 0o644))
	conf := filepath.Join(dir, "redis.conf")
	require.NoError(t, os.WriteFile(conf, []byte("requirepass \"s3 cret\"\ndatabases 4\ninclude "+inc+"\n"), 0o644))
	s := startServer(t, conf)
	c := dial(t, s.addr())
	assert.Equal(t, "NOAUTH Authentication required.", c.do("PING"))
	assert.Equal(t, "OK", c.do("AUTH", "s3 cret"))
	assert.Equal(t, "ERR unknown command 'FLUSHALL', with args beginning with: ", c.do("FLUSHALL"))
	assert.Equal(t, "ERR unknown command 'CONFIG', with args beginning with: 'GET' 'databases' ", c.do("CONFIG", "GET", "databases"))
	assert.Equal(t, "[databases 4]", c.do("SECRETCONFIG", "GET", "databases"))
	assert.Equal(t, "ERR DB index is out of range", c.do("SELECT", "4"))
}

func TestSIGTERMExitsCleanlyWithRedisLogLines(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.addr())
	require.Equal(t, "OK", c.do("SET", "k", "v"))
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		assert.NoError(t, err, "exit status 0")
	case <-time.After(10 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
	log, err := os.ReadFile(s.log)
	require.NoError(t, err)
	text := string(log)
	assert.Contains(t, text, "Ready to accept connections")
	assert.Contains(t, text, "Received SIGTERM scheduling shutdown...")
	assert.Contains(t, text, "ready to exit, bye bye...")
	// Redis's line format: "<pid>:M <dd Mon yyyy HH:MM:SS.mmm> <level> <message>".
	first := strings.SplitN(text, "\n", 2)[0]
	assert.Regexp(t, `^\d+:M \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d\.\d{3} [.*#-] `, first)
}

func TestMaxClients(t *testing.T) {
	s := startServer(t, "--maxclients", "2")
	a := dial(t, s.addr())
	// The start-up probe's connection counts until the server has seen it
	// close.
	waitFor(t, "the probe connection to go", func() bool {
		return strings.Count(a.do("CLIENT", "LIST"), "id=") == 1
	})
	b := dial(t, s.addr())
	require.Equal(t, "PONG", b.do("PING"))
	c := dial(t, s.addr())
	r, err := c.read(5 * time.Second)
	require.NoError(t, err)
	assert.Equal(t, "ERR max number of clients reached", r)
}
