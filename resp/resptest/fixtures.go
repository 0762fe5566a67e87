package resptest

import (
	"fmt"
	"testing"

	"github.com/celerity/celerity/aof"
	"github.com/celerity/celerity/keyspace"
	"github.com/celerity/celerity/resp"
)

// ExecOK runs argv in database db through Server.Exec and fails tb on an
// error reply. The caller holds the engine lock (Lock).
func (s *Server) ExecOK(tb testing.TB, db int, argv ...string) resp.Value {
	tb.Helper()
	b := make([][]byte, len(argv))
	for i, a := range argv {
		b[i] = []byte(a)
	}
	v := s.Exec(db, b...)
	if v.Kind == '-' {
		tb.Fatalf("%q: %s", argv, v.Str)
	}
	return v
}

// FillResultKeys stores n Celery result keys (celery-task-meta-<id>)
// straight into db, as an AOF or RDB load does: no Written hook sees them.
// The caller holds the engine lock.
func FillResultKeys(db *keyspace.DB, n int) {
	val := []byte(`{"status": "SUCCESS", "result": 4, "traceback": null, "children": []}`)
	for i := 0; i < n; i++ {
		key := fmt.Appendf(nil, "celery-task-meta-%08x-0000-4000-8000-%012x", i, i)
		db.SetString(key, val, keyspace.EncRaw, false)
	}
}

// WithAOF runs the server with appendonly yes and appendfsync always in
// dir, and hz 100, so that a test restarting on the same directory finds
// every write and the crons come quickly.
func WithAOF(dir string) Option {
	return WithConfig(func(cfg *resp.Config) {
		cfg.AppendOnly = true
		cfg.AppendFsync = aof.FsyncAlways
		cfg.Dir = dir
		cfg.HZ = 100
	})
}
