package kombu

import (
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/resp/resptest"
)

// waitDiscovered waits until the discovery walk has passed over every
// database once.
func waitDiscovered(tb testing.TB, srv *resptest.Server, k *Kombu) {
	tb.Helper()
	require.Eventually(tb, func() bool {
		srv.Lock()
		defer srv.Unlock()
		return k.idx.Pending(srv.Keyspace()) == 0
	}, 60*time.Second, 5*time.Millisecond, "the first discovery pass")
}

// KOMBU.QUEUES on a database of a million result keys and one Celery queue.
func BenchmarkQueuesMillionKeys(b *testing.B) {
	k := New(zerolog.Nop())
	srv := resptest.NewServer(b, resptest.WithExtensions(k.Extension()))
	srv.Lock()
	resptest.FillResultKeys(srv.Keyspace().DB(0), 1_000_000)
	srv.ExecOK(b, 0, "SADD", "_kombu.binding.celery", "celery"+SEP+SEP+"celery")
	srv.ExecOK(b, 0, "LPUSH", "celery", "m1", "m2")
	srv.Unlock()
	waitDiscovered(b, srv, k)
	argv := [][]byte{[]byte("KOMBU.QUEUES")}
	for b.Loop() {
		srv.Lock()
		v := srv.Exec(0, argv...)
		srv.Unlock()
		if len(v.Elems) != 1 {
			b.Fatalf("KOMBU.QUEUES: %+v", v)
		}
	}
}

// The Written hook's cost on the writes it sees most: a result backend's
// SET and a producer's LPUSH of keys that are not Kombu's.
func BenchmarkWrittenNonKombu(b *testing.B) {
	ws := resptest.CaptureWrites(b,
		[]string{"SET", "celery-task-meta-2f0a8a4e-46f4-4d55-9c51-0a0b1c2d3e4f", `{"status": "SUCCESS"}`, "EX", "86400"},
		[]string{"LPUSH", "app:events", "e1"})
	for _, w := range ws {
		b.Run(w.Cmd.Name, func(b *testing.B) {
			k := New(zerolog.Nop())
			for b.Loop() {
				k.written(w.Client, w.Cmd, w.Argv)
			}
		})
	}
}

// One full discovery pass over a million result keys, as the cron makes it
// in slices of keyindex.WalkBudgetKeys keys or keyindex.WalkBudget.
func BenchmarkDiscoveryPassMillionKeys(b *testing.B) {
	k := New(zerolog.Nop())
	srv := resptest.NewServer(b, resptest.WithExtensions(k.Extension()))
	srv.Lock()
	defer srv.Unlock()
	db := srv.Keyspace().DB(0)
	resptest.FillResultKeys(db, 1_000_000)
	for b.Loop() {
		d := k.idx.DB(0)
		d.Restart()
		if _, done := k.idx.Walk(db, d, 0, time.Time{}); !done {
			b.Fatal("the pass did not end")
		}
	}
}
