package kombu

import (
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/keyspace"
	"github.com/celerity/celerity/resp"
	"github.com/celerity/celerity/resp/resptest"
)

// fillResults stores n result-backend keys straight into db, as an AOF load
// does (no Written hook sees them).
func fillResults(db *keyspace.DB, n int) {
	val := []byte(`{"status": "SUCCESS", "result": 4, "traceback": null, "children": []}`)
	for i := 0; i < n; i++ {
		key := fmt.Appendf(nil, "celery-task-meta-%08x-0000-4000-8000-%012x", i, i)
		db.SetString(key, val, keyspace.EncRaw, false)
	}
}

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

// execOK runs argv in db 0 under the engine lock and requires no error.
func execOK(tb testing.TB, srv *resptest.Server, argv ...string) resp.Value {
	tb.Helper()
	b := make([][]byte, len(argv))
	for i, a := range argv {
		b[i] = []byte(a)
	}
	v := srv.Exec(0, b...)
	require.NotEqual(tb, byte('-'), v.Kind, v.Str)
	return v
}

// KOMBU.QUEUES on a database of a million result keys and one Celery queue.
func BenchmarkQueuesMillionKeys(b *testing.B) {
	k := New(zerolog.Nop())
	srv := resptest.NewServer(b, resptest.WithExtensions(k.Extension()))
	srv.Lock()
	fillResults(srv.Keyspace().DB(0), 1_000_000)
	execOK(b, srv, "SADD", "_kombu.binding.celery", "celery"+SEP+SEP+"celery")
	execOK(b, srv, "LPUSH", "celery", "m1", "m2")
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
	fillResults(db, 1_000_000)
	for b.Loop() {
		d := k.idx.DB(0)
		d.Restart()
		if _, done := k.idx.Walk(db, d, 0, time.Time{}); !done {
			b.Fatal("the pass did not end")
		}
	}
}
