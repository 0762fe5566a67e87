package keyspace

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type recordingHooks struct {
	expired []string
	created []string
}

func (h *recordingHooks) KeyExpired(db *DB, key string)         { h.expired = append(h.expired, key) }
func (h *recordingHooks) KeyCreated(db *DB, key string, t Type) { h.created = append(h.created, key) }

func newTestKeyspace(t *testing.T) (*Keyspace, *ManualClock, *recordingHooks) {
	t.Helper()
	clock := &ManualClock{Ms: 1_700_000_000_000}
	hooks := &recordingHooks{}
	return New(4, clock, hooks), clock, hooks
}

func TestLazyExpiryDeletesOnAccessAndReportsIt(t *testing.T) {
	ks, clock, hooks := newTestKeyspace(t)
	db := ks.DB(0)
	e := db.SetString([]byte("k"), []byte("v"), EncEmbstr, false)
	db.SetExpire(e, clock.Ms+1000)
	require.Equal(t, 1, db.Expires())

	clock.Advance(time.Second) // now == expire-at: still alive (Redis expires when now > at)
	require.NotNil(t, db.Lookup([]byte("k"), 0))
	clock.Advance(time.Millisecond)
	assert.Nil(t, db.Lookup([]byte("k"), 0))
	assert.Equal(t, 0, db.Len())
	assert.Equal(t, 0, db.Expires())
	assert.Equal(t, []string{"k"}, hooks.expired)
	assert.Equal(t, int64(1), ks.Stats().Expired)
	assert.Equal(t, int64(1), ks.Stats().Hits)
	assert.Equal(t, int64(1), ks.Stats().Misses)
}

func TestSetStringClearsTTLUnlessKeepTTL(t *testing.T) {
	ks, clock, _ := newTestKeyspace(t)
	db := ks.DB(0)
	e := db.SetString([]byte("k"), []byte("v1"), EncEmbstr, false)
	db.SetExpire(e, clock.Ms+5000)
	e = db.SetString([]byte("k"), []byte("v2"), EncEmbstr, true)
	assert.Equal(t, clock.Ms+5000, e.ExpireAt())
	e = db.SetString([]byte("k"), []byte("v3"), EncEmbstr, false)
	assert.Zero(t, e.ExpireAt())
	assert.Equal(t, 0, db.Expires())
	assert.Equal(t, "v3", string(e.Bytes()))
}

func TestStoredValuesAreCopies(t *testing.T) {
	ks, _, _ := newTestKeyspace(t)
	db := ks.DB(0)
	buf := []byte("hello")
	db.SetString([]byte("k"), buf, EncEmbstr, false)
	copy(buf, "XXXXX") // the network buffer is reused for the next request
	assert.Equal(t, "hello", string(db.Lookup([]byte("k"), 0).Bytes()))
}

func TestActiveExpireCycleReclaimsExpiredKeys(t *testing.T) {
	ks, clock, hooks := newTestKeyspace(t)
	db := ks.DB(1)
	for i := 0; i < 1000; i++ {
		e := db.SetString([]byte(fmt.Sprint("k", i)), []byte("v"), EncEmbstr, false)
		ttl := int64(100)
		if i%10 == 0 {
			ttl = 1_000_000 // 10% survive
		}
		db.SetExpire(e, clock.Ms+ttl)
	}
	db.SetString([]byte("persistent"), []byte("v"), EncEmbstr, false)
	clock.Advance(time.Second)
	deleted := 0
	for i := 0; i < 100 && db.Len() > 101; i++ {
		deleted += ks.ActiveExpireCycle(time.Second)
	}
	assert.Equal(t, 900, deleted)
	assert.Equal(t, 101, db.Len())
	assert.Equal(t, 100, db.Expires())
	assert.Len(t, hooks.expired, 900)
}

func TestScanReturnsEveryKeyPresentThroughoutDespiteDeletesAndInserts(t *testing.T) {
	ks, _, _ := newTestKeyspace(t)
	db := ks.DB(0)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		db.SetString([]byte(fmt.Sprint("stable", i)), []byte("v"), EncEmbstr, false)
		db.SetString([]byte(fmt.Sprint("churn", i)), []byte("v"), EncEmbstr, false)
	}
	seen := map[string]bool{}
	cursor := uint64(0)
	next := 0
	for {
		var batch []*Entry
		batch, cursor = db.Scan(cursor, 37, nil)
		for _, e := range batch {
			seen[e.Key()] = true
		}
		// Between calls other clients delete and add keys.
		for j := 0; j < 20; j++ {
			db.Delete([]byte(fmt.Sprint("churn", rng.IntN(2000))))
			db.SetString([]byte(fmt.Sprint("new", next)), []byte("v"), EncEmbstr, false)
			next++
		}
		if cursor == 0 {
			break
		}
	}
	for i := 0; i < 2000; i++ {
		assert.True(t, seen[fmt.Sprint("stable", i)], "stable%d missed", i)
	}
}

func TestRenameMovesValueAndTTL(t *testing.T) {
	ks, clock, hooks := newTestKeyspace(t)
	db := ks.DB(0)
	src := db.SetString([]byte("a"), []byte("1"), EncInt, false)
	db.SetExpire(src, clock.Ms+9000)
	db.SetString([]byte("b"), []byte("old"), EncEmbstr, false)
	ne := db.Rename(src, []byte("b"))
	assert.Equal(t, "1", string(ne.Bytes()))
	assert.Equal(t, clock.Ms+9000, ne.ExpireAt())
	assert.Nil(t, db.Lookup([]byte("a"), 0))
	assert.Equal(t, 1, db.Len())
	assert.Equal(t, 1, db.Expires())

	l := NewList()
	l.PushTail([]byte("x"))
	db.SetAggregate([]byte("q"), TypeList, l)
	assert.Equal(t, []string{"q"}, hooks.created, "creating a list signals blocked clients")
}

func TestSwapDBAndFlushAccounting(t *testing.T) {
	ks, _, _ := newTestKeyspace(t)
	ks.DB(0).SetString([]byte("zero"), []byte("0"), EncInt, false)
	ks.DB(2).SetString([]byte("two"), []byte("22"), EncInt, false)
	before := ks.Memory()
	require.Positive(t, before)
	ks.SwapDB(0, 2)
	assert.NotNil(t, ks.DB(0).Lookup([]byte("two"), 0))
	assert.NotNil(t, ks.DB(2).Lookup([]byte("zero"), 0))
	assert.Equal(t, before, ks.Memory())
	ks.DB(0).Flush()
	assert.Equal(t, 0, ks.DB(0).Len())
	assert.Less(t, ks.Memory(), before)
	ks.FlushAll()
	assert.Zero(t, ks.Memory())
}

func TestMemoryAccountingFollowsOverwritesAndDeletes(t *testing.T) {
	ks, _, _ := newTestKeyspace(t)
	db := ks.DB(0)
	db.SetString([]byte("k"), make([]byte, 1000), EncRaw, false)
	big := db.Memory()
	db.SetString([]byte("k"), []byte("x"), EncEmbstr, false)
	assert.Less(t, db.Memory(), big)
	db.Delete([]byte("k"))
	assert.Zero(t, db.Memory())
}

func TestParseIntFollowsString2ll(t *testing.T) {
	for _, tc := range []struct {
		in string
		v  int64
		ok bool
	}{
		{"0", 0, true}, {"-1", -1, true}, {"9223372036854775807", 9223372036854775807, true},
		{"-9223372036854775808", -9223372036854775808, true}, {"9223372036854775808", 0, false},
		{"-0", 0, false}, {"01", 0, false}, {"+1", 0, false}, {" 1", 0, false}, {"1 ", 0, false},
		{"", 0, false}, {"-", 0, false}, {"1a", 0, false}, {"123456789012345678901", 0, false},
	} {
		v, ok := ParseInt([]byte(tc.in))
		assert.Equal(t, tc.ok, ok, tc.in)
		if tc.ok {
			assert.Equal(t, tc.v, v, tc.in)
		}
	}
}

func TestStringEncodingMatchesRedisRules(t *testing.T) {
	assert.Equal(t, EncInt, StringEncoding([]byte("12345")))
	assert.Equal(t, EncEmbstr, StringEncoding([]byte("012")))
	assert.Equal(t, EncEmbstr, StringEncoding(make([]byte, 44)))
	assert.Equal(t, EncRaw, StringEncoding(make([]byte, 45)))
	assert.Equal(t, EncEmbstr, StringEncoding([]byte("99999999999999999999")), "overflows int64")
}

func TestIdleTimeFromAccessClock(t *testing.T) {
	ks, clock, _ := newTestKeyspace(t)
	db := ks.DB(0)
	e := db.SetString([]byte("k"), []byte("v"), EncEmbstr, false)
	clock.Advance(5 * time.Second)
	assert.Equal(t, int64(5000), ks.IdleMs(e))
	db.Lookup([]byte("k"), LookupNoTouch)
	assert.Equal(t, int64(5000), ks.IdleMs(e), "NoTouch keeps the access clock")
	db.Lookup([]byte("k"), 0)
	assert.Zero(t, ks.IdleMs(e))
}
