package redbeat_test

import (
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/redbeat"
	"github.com/celerity/celerity/resp/resptest"
)

// waitDiscovered waits until the discovery walk has passed over every
// database once.
func waitDiscovered(tb testing.TB, srv *resptest.Server) {
	tb.Helper()
	require.Eventually(tb, func() bool {
		srv.Lock()
		defer srv.Unlock()
		return strings.Contains(srv.ExecOK(tb, 0, "INFO", "redbeat").Str, "redbeat_discovery_pending_dbs:0\r\n")
	}, 60*time.Second, 5*time.Millisecond, "the first discovery pass")
}

// REDBEAT.SCHEDULE on a database of a million result keys and three
// RedBeat entries.
func BenchmarkScheduleMillionKeys(b *testing.B) {
	srv := resptest.NewServer(b, resptest.WithExtensions(redbeat.New(zerolog.Nop()).Extension()))
	srv.Lock()
	resptest.FillResultKeys(srv.Keyspace().DB(0), 1_000_000)
	for _, name := range []string{"a", "b", "c"} {
		srv.ExecOK(b, 0, "HSET", "redbeat:"+name, "definition", interval(name, 10), "meta", meta(t0, 1))
		srv.ExecOK(b, 0, "ZADD", "redbeat::schedule", score(t0+10_000), "redbeat:"+name)
	}
	srv.Unlock()
	waitDiscovered(b, srv)
	argv := [][]byte{[]byte("REDBEAT.SCHEDULE")}
	for b.Loop() {
		srv.Lock()
		v := srv.Exec(0, argv...)
		srv.Unlock()
		if len(v.Elems) != 3 {
			b.Fatalf("REDBEAT.SCHEDULE: %+v", v)
		}
	}
}

// The Written hook's cost on the writes it sees most: a result backend's
// SET, a producer's LPUSH and Kombu's HSET of an unacked delivery.
func BenchmarkWrittenNonRedbeat(b *testing.B) {
	ws := resptest.CaptureWrites(b,
		[]string{"SET", "celery-task-meta-2f0a8a4e-46f4-4d55-9c51-0a0b1c2d3e4f", `{"status": "SUCCESS"}`, "EX", "86400"},
		[]string{"LPUSH", "app:events", "e1"},
		[]string{"HSET", "unacked", "2f0a8a4e-46f4-4d55-9c51-0a0b1c2d3e4f", `[{"body": ""}, "", "celery"]`})
	for _, w := range ws {
		b.Run(w.Cmd.Name, func(b *testing.B) {
			ext := redbeat.New(zerolog.Nop()).Extension()
			// Attach hands the hook its server (the lock check reads its
			// configuration); the hook runs under its engine lock.
			srv := resptest.NewServer(b, resptest.WithExtensions(ext))
			srv.Lock()
			defer srv.Unlock()
			for b.Loop() {
				ext.Written(w.Client, w.Cmd, w.Argv)
			}
		})
	}
}
