package keyspace

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jemalloc 5's size classes, the ones Redis's allocations land in.
func TestMallocSizeClasses(t *testing.T) {
	for n, want := range map[int64]int64{1: 8, 8: 8, 9: 16, 17: 32, 33: 48, 128: 128, 129: 160,
		257: 320, 1030: 1280, 2049: 2560, 7203: 8192, 8193: 10240, 16385: 20480, 1 << 20: 1 << 20} {
		assert.Equal(t, want, mallocSize(n), "mallocSize(%d)", n)
	}
	// sds headers: 1 byte below 32, 3 below 256, 5 below 64 KiB.
	assert.Equal(t, int64(8), sdsAlloc(2))
	assert.Equal(t, int64(64), sdsAlloc(53))
	assert.Equal(t, int64(1280), sdsAlloc(1024))
	assert.Equal(t, int64(0), dictTable(0))
	assert.Equal(t, int64(32), dictTable(4))
	assert.Equal(t, int64(64), dictTable(5))
}

// classMemory recomputes the memory by class from scratch.
func classMemory(ks *Keyspace) (m [ClassProtected + 1]int64) {
	for i := 0; i < ks.NumDBs(); i++ {
		for _, e := range ks.DB(i).dense {
			m[ks.Class(i, e)] += e.mem
		}
	}
	return m
}

// Under broker-safe, the memory by class follows every change that can
// move a key between classes or change its size.
func TestClassMemoryFollowsChanges(t *testing.T) {
	ks, _, _ := newTestKeyspace(t)
	// p* protected; keys with a TTL expendable; hashes with a "def" field
	// protected; the rest other.
	ks.SetClassifier(func(db int, e *Entry) KeyClass {
		switch {
		case strings.HasPrefix(e.Key(), "p"):
			return ClassProtected
		case e.Type() == TypeHash && e.Agg().(*Hash).Has([]byte("def")):
			return ClassProtected
		case e.ExpireAt() != 0:
			return ClassExpendable
		}
		return ClassOther
	})
	check := func(step string) {
		t.Helper()
		require.Equal(t, classMemory(ks), ks.ClassMemory(), step)
	}
	db := ks.DB(0)
	db.SetString([]byte("p1"), []byte("v"), EncEmbstr, false)
	db.SetString([]byte("o1"), []byte(strings.Repeat("v", 100)), EncRaw, false)
	e := db.SetString([]byte("x1"), []byte("v"), EncEmbstr, false)
	db.SetExpire(e, ks.Now()+60000)
	assert.Equal(t, [3]int64{}, ks.ClassMemory(), "not tracked before broker-safe")
	ks.SetEviction(Eviction{Policy: BrokerSafe, Samples: 5})
	check("entering broker-safe")
	assert.Positive(t, ks.ClassMemory()[ClassExpendable])

	h := NewHash()
	he := db.SetAggregate([]byte("h"), TypeHash, h)
	check("new hash")
	h.Set([]byte("def"), "x", DefaultLimits())
	db.Reaccount(he)
	check("hash becomes a RedBeat-like entry")
	db.SetExpire(db.Lookup([]byte("o1"), LookupWrite), ks.Now()+1000)
	check("TTL set")
	db.SetString([]byte("o1"), []byte("w"), EncEmbstr, false)
	check("overwrite clears the TTL")
	db.Rename(db.Lookup([]byte("x1"), LookupWrite), []byte("p2"))
	check("rename into the protected prefix")
	assert.True(t, db.Delete([]byte("o1")))
	check("delete")
	ks.SwapDB(0, 1)
	check("swapdb")
	ks.FlushAll()
	check("flush")
	assert.Equal(t, [3]int64{}, ks.ClassMemory())
}
