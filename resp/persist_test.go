package resp_test

import (
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/aof"
	"github.com/celerity/celerity/aof/vfs"
	"github.com/celerity/celerity/resp"
	"github.com/celerity/celerity/resp/resptest"
)

// Faults of the disk, injected through the AOF's file interface, seen from
// a client: what is acknowledged, what is refused, what is in the file.

// aofServer starts an in-process server with appendonly on a MemFS.
func aofServer(t *testing.T, fs *vfs.MemFS, fsync aof.FsyncPolicy, exit func(int)) *resptest.Server {
	t.Helper()
	// The data directory exists (durably) before the server starts, as on
	// a real machine.
	require.NoError(t, fs.MkdirAll("/data", 0o755))
	require.NoError(t, fs.SyncDir("/"))
	return resptest.NewServer(t, func(cfg *resp.Config, o *resp.Options) {
		cfg.AppendOnly = true
		cfg.AppendFsync = fsync
		cfg.Dir = "/data"
		o.AOFFS = fs
		o.Exit = exit
	})
}

// everysec (and no): a failed write makes write commands and PING answer
// -MISCONF while reads keep working, and the server recovers by itself once
// the disk does; the bytes of the failed write are retried, not lost.
func TestAOFWriteErrorMisconfThenRecovery(t *testing.T) {
	fs := vfs.NewMemFS()
	srv := aofServer(t, fs, aof.FsyncEverysec, nil)
	c := resptest.Dial(t, srv.Addr())
	require.Equal(t, "+OK\r\n", string(c.DoRaw("SET", "a", "1")))

	remove := fs.Inject(vfs.Fault{Op: vfs.OpWrite, Path: "incr", Err: syscall.ENOSPC, Short: 3})
	c.DoRaw("SET", "b", "2") // its write fails: Redis still sends the reply
	misconf := "-MISCONF Errors writing to the AOF file: No space left on device\r\n"
	assert.Eventually(t, func() bool { return string(c.DoRaw("SET", "c", "3")) == misconf }, 5*time.Second, time.Millisecond)
	assert.Equal(t, misconf, string(c.DoRaw("PING")))
	assert.Equal(t, misconf, string(c.DoRaw("INCR", "n")))
	assert.Equal(t, "$1\r\n1\r\n", string(c.DoRaw("GET", "a")), "reads keep working")
	assert.Contains(t, string(c.DoRaw("INFO", "persistence")), "aof_last_write_status:err")

	remove()
	assert.Eventually(t, func() bool { return string(c.DoRaw("SET", "d", "4")) == "+OK\r\n" }, 5*time.Second, 5*time.Millisecond)
	assert.Equal(t, "+PONG\r\n", string(c.DoRaw("PING")))
	assert.Contains(t, string(c.DoRaw("INFO", "persistence")), "aof_last_write_status:ok")
	cmds := resptest.IncrCommands(t, fs)
	assert.Equal(t, []string{"SELECT 0", "SET a 1", "SET b 2", "SET d 4"}, cmds,
		"the short write was cut back and retried whole; refused commands never ran")
}

// always: a write the disk refuses was promised durable, so the process
// stops (exit 1) and the client never sees an acknowledgement.
func TestAOFAlwaysFsyncErrorStopsTheServer(t *testing.T) {
	fs := vfs.NewMemFS()
	exited := make(chan int, 1)
	srv := aofServer(t, fs, aof.FsyncAlways, func(code int) {
		exited <- code
		runtime.Goexit() // os.Exit never returns; the reactor must not go on
	})
	c := resptest.Dial(t, srv.Addr())
	require.Equal(t, "+OK\r\n", string(c.DoRaw("SET", "a", "1")))
	fs.Inject(vfs.Fault{Op: vfs.OpSync, Path: "incr", Err: syscall.EIO})
	c.Send("SET", "b", "2")
	select {
	case code := <-exited:
		assert.Equal(t, 1, code)
	case <-time.After(5 * time.Second):
		t.Fatal("the server did not stop after a failed fsync with appendfsync always")
	}
	_, err := c.TryReadRaw(100 * time.Millisecond)
	assert.Error(t, err, "no reply may acknowledge the unsynced write")
}

// Every acknowledged write is in the file before its reply, whatever the
// policy: with always, fsynced too.
func TestAOFRepliesFollowTheFile(t *testing.T) {
	for _, p := range []aof.FsyncPolicy{aof.FsyncAlways, aof.FsyncEverysec, aof.FsyncNo} {
		t.Run(p.String(), func(t *testing.T) {
			fs := vfs.NewMemFS()
			srv := aofServer(t, fs, p, nil)
			c := resptest.Dial(t, srv.Addr())
			for i := 0; i < 50; i++ {
				require.Equal(t, ":"+strconv.Itoa(i+1)+"\r\n", string(c.DoRaw("INCR", "n")))
				cmds := resptest.IncrCommands(t, fs)
				require.Len(t, cmds, i+2, "INCR %d acknowledged before it was written", i+1)
			}
			if p == aof.FsyncAlways {
				fs.Crash() // only what was fsynced survives
				fs.Revive()
				assert.Len(t, resptest.IncrCommands(t, fs), 51)
			}
		})
	}
}
