package keyspace

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// evictAll evicts until the policy has no candidate and returns the keys
// in eviction order, as "db:key".
func evictAll(ks *Keyspace) []string {
	var out []string
	for {
		db, key, ok := ks.EvictOne()
		if !ok {
			return out
		}
		out = append(out, fmt.Sprintf("%d:%s", db.ID(), key))
	}
}

func TestEvictionPolicyNames(t *testing.T) {
	for p := NoEviction; p <= BrokerSafe; p++ {
		got, ok := ParseEvictionPolicy(p.String())
		require.True(t, ok, p.String())
		assert.Equal(t, p, got)
	}
	got, ok := ParseEvictionPolicy("ALLKEYS-LRU")
	assert.True(t, ok)
	assert.Equal(t, AllKeysLRU, got)
	_, ok = ParseEvictionPolicy("lru")
	assert.False(t, ok)
	assert.False(t, BrokerSafe.Volatile() || BrokerSafe.LFU())
	assert.True(t, VolatileLFU.LFU() && AllKeysLFU.LFU() && !AllKeysLRU.LFU())
	assert.True(t, VolatileTTL.Volatile() && VolatileRandom.Volatile() && !AllKeysRandom.Volatile())
}

func TestEvictLRUTakesTheLeastRecentlyUsedFirst(t *testing.T) {
	ks, clock, _ := newTestKeyspace(t)
	// More samples than keys: every key is in the pool, so the order is
	// exactly least recently used first.
	ks.SetEviction(Eviction{Policy: AllKeysLRU, Samples: 10, LFULogFactor: 10, LFUDecayTime: 1})
	for _, k := range []string{"a", "b", "c", "d"} {
		ks.DB(0).SetString([]byte(k), []byte("v"), EncEmbstr, false)
		clock.Advance(10 * time.Second)
	}
	ks.DB(2).SetString([]byte("e"), []byte("v"), EncEmbstr, false)
	clock.Advance(10 * time.Second)
	// Touch "a": it becomes the most recently used.
	require.NotNil(t, ks.DB(0).Lookup([]byte("a"), 0))
	clock.Advance(10 * time.Second)

	assert.Equal(t, []string{"0:b", "0:c", "0:d", "2:e", "0:a"}, evictAll(ks))
	assert.Equal(t, int64(5), ks.Stats().Evicted)
	assert.Equal(t, int64(0), ks.Memory())
	ks.ResetStats()
	assert.Equal(t, int64(0), ks.Stats().Evicted)
}

func TestEvictVolatileOnlyTouchesKeysWithATTL(t *testing.T) {
	ks, clock, _ := newTestKeyspace(t)
	db := ks.DB(0)
	db.SetString([]byte("persistent"), []byte("v"), EncEmbstr, false)
	for _, p := range []EvictionPolicy{VolatileLRU, VolatileLFU, VolatileRandom, VolatileTTL, NoEviction} {
		ks.SetEviction(Eviction{Policy: p, Samples: 5, LFULogFactor: 10, LFUDecayTime: 1})
		_, _, ok := ks.EvictOne()
		assert.False(t, ok, "%s evicted a key without TTL", p)
	}
	assert.Equal(t, 1, db.Len())

	ks.SetEviction(Eviction{Policy: VolatileTTL, Samples: 10, LFULogFactor: 10, LFUDecayTime: 1})
	for i, ttl := range []time.Duration{time.Hour, time.Minute, 24 * time.Hour} {
		e := db.SetString([]byte(fmt.Sprint("t", i)), []byte("v"), EncEmbstr, false)
		db.SetExpire(e, clock.Ms+ttl.Milliseconds())
	}
	// Nearest expiry first; the key without TTL stays.
	assert.Equal(t, []string{"0:t1", "0:t0", "0:t2"}, evictAll(ks))
	assert.Equal(t, 1, db.Len())
	assert.Equal(t, 0, db.Expires())

	ks.SetEviction(Eviction{Policy: VolatileRandom, Samples: 5, LFULogFactor: 10, LFUDecayTime: 1})
	e := db.SetString([]byte("r"), []byte("v"), EncEmbstr, false)
	db.SetExpire(e, clock.Ms+1000)
	assert.Equal(t, []string{"0:r"}, evictAll(ks))
	assert.NotNil(t, db.Peek([]byte("persistent")))
}

func TestEvictRandomVisitsEveryDB(t *testing.T) {
	ks, _, _ := newTestKeyspace(t)
	ks.SetEviction(Eviction{Policy: AllKeysRandom, Samples: 5})
	for i := 0; i < ks.NumDBs(); i++ {
		for j := 0; j < 3; j++ {
			ks.DB(i).SetString([]byte(fmt.Sprint("k", j)), []byte("v"), EncEmbstr, false)
		}
	}
	got := evictAll(ks)
	assert.Len(t, got, 3*ks.NumDBs())
	// Round robin: the first evictions come from different databases.
	assert.Equal(t, "1:", got[0][:2])
	assert.Equal(t, "2:", got[1][:2])
	assert.Equal(t, int64(0), ks.Memory())
}

func TestLFUCounter(t *testing.T) {
	ks, clock, _ := newTestKeyspace(t)
	db := ks.DB(0)
	// lfu-log-factor 0: every access increments (probability 1).
	ks.SetEviction(Eviction{Policy: AllKeysLFU, Samples: 10, LFULogFactor: 0, LFUDecayTime: 1})
	e := db.SetString([]byte("hot"), []byte("v"), EncEmbstr, false)
	assert.Equal(t, int64(lfuInitVal), ks.Freq(e), "new keys start at LFU_INIT_VAL")
	for i := 0; i < 10; i++ {
		db.Lookup([]byte("hot"), 0)
	}
	assert.Equal(t, int64(15), ks.Freq(e))
	db.Lookup([]byte("hot"), LookupNoTouch)
	assert.Equal(t, int64(15), ks.Freq(e), "NOTOUCH lookups do not count")

	// Decay: one per lfu-decay-time minutes, computed on read.
	clock.Advance(3 * time.Minute)
	assert.Equal(t, int64(12), ks.Freq(e))
	clock.Advance(time.Hour)
	assert.Equal(t, int64(0), ks.Freq(e))
	ks.SetEviction(Eviction{Policy: AllKeysLFU, Samples: 10, LFULogFactor: 0, LFUDecayTime: 0})
	assert.Equal(t, int64(15), ks.Freq(e), "lfu-decay-time 0 never decays")

	// The counter saturates at 255.
	for i := 0; i < 300; i++ {
		db.Lookup([]byte("hot"), 0)
	}
	assert.Equal(t, int64(255), ks.Freq(e))

	// Overwriting a key keeps its counter, as dbOverwrite does under LFU.
	db.SetString([]byte("hot"), []byte("w"), EncEmbstr, false)
	assert.Equal(t, int64(255), ks.Freq(db.Peek([]byte("hot"))))
}

func TestLFULogFactorSlowsTheCounter(t *testing.T) {
	ks, _, _ := newTestKeyspace(t)
	db := ks.DB(0)
	ks.SetEviction(Eviction{Policy: AllKeysLFU, Samples: 5, LFULogFactor: 10, LFUDecayTime: 0})
	e := db.SetString([]byte("k"), []byte("v"), EncEmbstr, false)
	for i := 0; i < 1000; i++ {
		db.Lookup([]byte("k"), 0)
	}
	// Redis's table for lfu-log-factor 10: 1K hits reach about 18; the
	// exact value is random, the order of magnitude is not.
	f := ks.Freq(e)
	assert.Greater(t, f, int64(10))
	assert.Less(t, f, int64(40))
}

func TestEvictLFUTakesTheLeastFrequentFirst(t *testing.T) {
	ks, _, _ := newTestKeyspace(t)
	db := ks.DB(0)
	ks.SetEviction(Eviction{Policy: AllKeysLFU, Samples: 10, LFULogFactor: 0, LFUDecayTime: 0})
	for i, hits := range []int{3, 0, 7, 1} {
		k := []byte(fmt.Sprint("k", i))
		db.SetString(k, []byte("v"), EncEmbstr, false)
		for j := 0; j < hits; j++ {
			db.Lookup(k, 0)
		}
	}
	assert.Equal(t, []string{"0:k1", "0:k3", "0:k0", "0:k2"}, evictAll(ks))
}

func TestEvictionPoolKeepsTheBestSixteen(t *testing.T) {
	ks, clock, _ := newTestKeyspace(t)
	db := ks.DB(0)
	ks.SetEviction(Eviction{Policy: AllKeysLRU, Samples: 100})
	for i := 0; i < 40; i++ {
		db.SetString([]byte(fmt.Sprint("k", i)), []byte("v"), EncEmbstr, false)
		clock.Advance(time.Second)
	}
	ks.populatePool(db, db.dense[:40])
	// Sorted ascending, full, holding the 16 oldest keys.
	for k := 0; k < evpoolSize; k++ {
		require.NotEmpty(t, ks.pool[k].key)
		if k > 0 {
			assert.LessOrEqual(t, ks.pool[k-1].score, ks.pool[k].score)
		}
	}
	assert.Equal(t, "k0", ks.pool[evpoolSize-1].key)
	assert.Equal(t, "k15", ks.pool[0].key)

	// A key deleted after it was pooled is skipped (a ghost).
	require.True(t, db.Delete([]byte("k0")))
	_, key, ok := ks.EvictOne()
	require.True(t, ok)
	assert.Equal(t, "k1", key)

	// Changing the policy empties the pool.
	ks.SetEviction(Eviction{Policy: VolatileTTL, Samples: 5})
	assert.Empty(t, ks.pool[evpoolSize-2].key)
}

func TestEvictionGoesThroughTheSnapshot(t *testing.T) {
	ks, _, _ := newTestKeyspace(t)
	ks.SetEviction(Eviction{Policy: AllKeysRandom, Samples: 5})
	for i := 0; i < 10; i++ {
		ks.DB(0).SetString([]byte(fmt.Sprint("k", i)), []byte("v"), EncEmbstr, false)
	}
	emitted := map[string]int{}
	snap := ks.BeginSnapshot(func(db int, e *Entry) { emitted[e.Key()]++ })
	evicted := evictAll(ks)
	require.Len(t, evicted, 10)
	for !snap.Step(100) {
	}
	snap.Close()
	// Every key of the cut comes out once, though all were evicted
	// before the walk reached them.
	assert.Len(t, emitted, 10)
	for k, n := range emitted {
		assert.Equal(t, 1, n, k)
	}
}

func TestBrokerSafeEvictsExpendableThenOtherNeverProtected(t *testing.T) {
	ks, clock, _ := newTestKeyspace(t)
	ks.SetEviction(Eviction{Policy: BrokerSafe, Samples: 5})
	// Classes by name prefix: p* protected, x* expendable, the rest other.
	ks.SetClassifier(func(db int, e *Entry) KeyClass {
		switch e.Key()[0] {
		case 'p':
			return ClassProtected
		case 'x':
			return ClassExpendable
		}
		return ClassOther
	})
	set := func(db int, k string) {
		ks.DB(db).SetString([]byte(k), []byte("v"), EncEmbstr, false)
		clock.Advance(time.Second)
	}
	set(0, "o1")
	set(0, "p1")
	set(1, "x1")
	set(0, "o2")
	set(0, "x2")
	set(1, "p2")
	// Expendable first, least recently used first; then the others; the
	// protected keys stay.
	assert.Equal(t, []string{"1:x1", "0:x2", "0:o1", "0:o2"}, evictAll(ks))
	assert.Equal(t, 1, ks.DB(0).Len())
	assert.Equal(t, 1, ks.DB(1).Len())

	// Without a classifier every key is "other".
	ks.SetClassifier(nil)
	assert.Len(t, evictAll(ks), 2)
}

func TestBrokerSafeFindsFewExpendableKeysAmongMany(t *testing.T) {
	ks, _, _ := newTestKeyspace(t)
	ks.SetEviction(Eviction{Policy: BrokerSafe, Samples: 5})
	ks.SetClassifier(func(db int, e *Entry) KeyClass {
		if e.ExpireAt() != 0 {
			return ClassExpendable
		}
		return ClassProtected
	})
	db := ks.DB(0)
	for i := 0; i < 5000; i++ {
		db.SetString([]byte(fmt.Sprint("q", i)), []byte("v"), EncEmbstr, false)
	}
	for i := 0; i < 3; i++ {
		e := db.SetString([]byte(fmt.Sprint("cache", i)), []byte("v"), EncEmbstr, false)
		db.SetExpire(e, 1<<50)
	}
	// The keys with a TTL are found through the volatile index whatever
	// the number of protected keys.
	assert.ElementsMatch(t, []string{"0:cache0", "0:cache1", "0:cache2"}, evictAll(ks))
	assert.Equal(t, 5000, db.Len())
}
