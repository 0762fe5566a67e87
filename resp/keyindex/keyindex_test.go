package keyindex

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/keyspace"
)

type noHooks struct{}

func (noHooks) KeyExpired(*keyspace.DB, string)                {}
func (noHooks) KeyCreated(*keyspace.DB, string, keyspace.Type) {}

// An index whose candidates are the string keys named "c:*".
func newIndex() *Index {
	return &Index{
		IsCandidate: func(e *keyspace.Entry) bool {
			return e.Type() == keyspace.TypeString && strings.HasPrefix(e.Key(), "c:")
		},
		IsCandidateName: func(key []byte) bool { return strings.HasPrefix(string(key), "c:") },
		SyncMax:         SyncWalkMax,
	}
}

func set(db *keyspace.DB, key string) {
	db.SetString([]byte(key), []byte("v"), keyspace.EncRaw, false)
}

func keys(x *Index, db *keyspace.DB) (names []string, complete bool) {
	complete = x.Each(db, func(e *keyspace.Entry) { names = append(names, e.Key()) })
	return names, complete
}

// A small database is walked by the first command; a big one is answered
// from what was noted so far (incomplete) until the cron's pass ends, and
// each later call examines the candidates only.
func TestEachWalksSmallDatabasesAndWaitsForTheCronOnBigOnes(t *testing.T) {
	ks := keyspace.New(2, keyspace.SystemClock{}, noHooks{})
	x := newIndex()
	x.ready = true
	small := ks.DB(0)
	set(small, "c:a")
	set(small, "other")
	got, complete := keys(x, small)
	assert.Equal(t, []string{"c:a"}, got)
	assert.True(t, complete)

	x.SyncMax = 10
	big := ks.DB(1)
	for i := 0; i < 100; i++ {
		set(big, "other:"+strings.Repeat("x", i))
	}
	set(big, "c:loaded") // present before anything was noted (an AOF load)
	set(big, "c:seen")
	x.Add(1, []byte("c:seen")) // what the Written hook noted
	got, complete = keys(x, big)
	assert.Equal(t, []string{"c:seen"}, got)
	assert.False(t, complete)
	assert.Equal(t, 1, x.Pending(ks))

	for x.Pending(ks) > 0 {
		x.Cron(ks, time.Now())
	}
	before := x.Examined
	got, complete = keys(x, big)
	assert.ElementsMatch(t, []string{"c:loaded", "c:seen"}, got)
	assert.True(t, complete)
	assert.Equal(t, int64(2), x.Examined-before, "candidates only")
	assert.Equal(t, 3, x.Size())
}

// A candidate that is gone or changed type is dropped when used; an
// emptied database is complete at once.
func TestStaleCandidatesAreDroppedOnUse(t *testing.T) {
	ks := keyspace.New(1, keyspace.SystemClock{}, noHooks{})
	x := newIndex()
	x.ready = true
	db := ks.DB(0)
	set(db, "c:a")
	set(db, "c:b")
	_, complete := keys(x, db)
	require.True(t, complete)
	db.Delete([]byte("c:a"))
	got, _ := keys(x, db)
	assert.Equal(t, []string{"c:b"}, got)
	assert.Equal(t, 1, x.Size())

	x.DB(0).emptied(time.Now())
	assert.Zero(t, x.Size())
	assert.Zero(t, x.Pending(ks))
}
