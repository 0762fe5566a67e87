package keyspace

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// snapVal is a deep copy of an entry's state as a snapshot must reproduce
// it: type, value and expire-at.
type snapVal struct {
	Type Type
	Str  string
	List []string
	Hash map[string]string
	Set  map[string]bool
	ZSet map[string]float64
	TTL  int64
}

type snapKey struct {
	db  int
	key string
}

func (k snapKey) String() string { return fmt.Sprintf("%d:%s", k.db, k.key) }

func capture(e *Entry) snapVal {
	v := snapVal{Type: e.Type(), TTL: e.ExpireAt()}
	switch e.Type() {
	case TypeString:
		v.Str = string(e.Bytes())
	case TypeList:
		l := e.Agg().(*List)
		l.Range(0, l.Len()-1, func(b []byte) bool {
			v.List = append(v.List, string(b))
			return true
		})
	case TypeHash:
		v.Hash = map[string]string{}
		for _, p := range e.Agg().(*Hash).Pairs() {
			v.Hash[p.Field] = p.Value
		}
	case TypeSet:
		s := e.Agg().(*Set)
		v.Set = map[string]bool{}
		for i := 0; i < s.Len(); i++ {
			v.Set[s.MemberString(i)] = true
		}
	case TypeZSet:
		z := e.Agg().(*ZSet)
		v.ZSet = map[string]float64{}
		els, _ := z.Scan(0, z.Len(), nil)
		for _, el := range els {
			v.ZSet[el.Member] = el.Score
		}
	}
	return v
}

// cutState is what a snapshot begun now must emit: every key of every
// database, expired or not.
func cutState(ks *Keyspace) map[snapKey]snapVal {
	want := map[snapKey]snapVal{}
	for i := 0; i < ks.NumDBs(); i++ {
		for _, e := range ks.DB(i).dense {
			want[snapKey{i, e.Key()}] = capture(e)
		}
	}
	return want
}

// recorder is an emit function that deep-copies what it gets and flags
// keys emitted twice.
type recorder struct {
	t    *testing.T
	got  map[snapKey]snapVal
	last []snapKey // emitted since the last reset
}

func newRecorder(t *testing.T) *recorder {
	return &recorder{t: t, got: map[snapKey]snapVal{}}
}

func (r *recorder) emit(db int, e *Entry) {
	k := snapKey{db, e.Key()}
	if _, dup := r.got[k]; dup {
		r.t.Errorf("%v emitted twice", k)
	}
	r.got[k] = capture(e)
	r.last = append(r.last, k)
}

func (r *recorder) takeLast() []string {
	var out []string
	for _, k := range r.last {
		out = append(out, k.String())
	}
	r.last = nil
	return out
}

func finish(t *testing.T, s *Snapshot, n int) {
	t.Helper()
	for i := 0; !s.Step(n); i++ {
		require.Less(t, i, 1_000_000, "snapshot never completes")
	}
}

// checkConsistency verifies the DB's internal indexes after a run.
func checkConsistency(t *testing.T, ks *Keyspace) {
	t.Helper()
	var total int64
	for i := 0; i < ks.NumDBs(); i++ {
		db := ks.DB(i)
		require.Len(t, db.dense, len(db.dict), "db %d", i)
		var mem int64
		for p, e := range db.dense {
			require.Equal(t, int32(p), e.pos)
			require.Same(t, e, db.dict[e.key])
			require.Equal(t, e.expireAt != 0, e.vol >= 0, e.key)
			mem += e.mem
			require.Equal(t, e.footprint(), e.mem, e.key)
		}
		for p, e := range db.volatile {
			require.Equal(t, int32(p), e.vol)
		}
		require.Equal(t, mem, db.mem)
		total += mem + db.overhead()
	}
	require.Equal(t, total, ks.Memory())
}

// snapModel drives random keyspace traffic around an open snapshot.
type snapModel struct {
	t     *testing.T
	ks    *Keyspace
	clock *ManualClock
	rng   *rand.Rand
	lim   Limits
	fresh int
}

func (m *snapModel) key() []byte { return fmt.Appendf(nil, "k%d", m.rng.IntN(24)) }
func (m *snapModel) db() *DB     { return m.ks.DB(m.rng.IntN(m.ks.NumDBs())) }
func (m *snapModel) word() []byte {
	if m.rng.IntN(3) == 0 {
		return fmt.Appendf(nil, "%d", m.rng.IntN(1000))
	}
	return fmt.Appendf(nil, "w%d", m.rng.IntN(40))
}

func (m *snapModel) agg(t Type) Aggregate {
	n := 1 + m.rng.IntN(6)
	switch t {
	case TypeList:
		l := NewList()
		for range n {
			l.PushTail(m.word())
		}
		return l
	case TypeHash:
		h := NewHash()
		for range n {
			h.Set(m.word(), string(m.word()), m.lim)
		}
		return h
	case TypeSet:
		s := NewSet()
		for range n {
			s.Add(m.word(), m.lim)
		}
		return s
	default:
		z := NewZSet()
		for range n {
			z.Add(m.word(), float64(m.rng.IntN(100)), 0, m.lim)
		}
		return z
	}
}

func (m *snapModel) ttl() int64 {
	switch m.rng.IntN(4) {
	case 0:
		return 0
	case 1:
		return m.clock.Ms - int64(m.rng.IntN(1000)) // already expired
	default:
		return m.clock.Ms + int64(1+m.rng.IntN(3000))
	}
}

func (m *snapModel) create(db *DB, key []byte) {
	var e *Entry
	if t := Type(m.rng.IntN(5)); t == TypeString {
		e = db.SetString(key, m.word(), EncEmbstr, false)
	} else {
		e = db.SetAggregate(key, t, m.agg(t))
	}
	if m.rng.IntN(2) == 0 {
		db.SetExpire(e, m.ttl())
	}
}

// mutateInPlace changes e's value the way a write handler does after a
// LookupWrite lookup, deleting the key when its aggregate empties.
func (m *snapModel) mutateInPlace(db *DB, e *Entry) {
	switch e.Type() {
	case TypeString:
		if b := e.Bytes(); len(b) > 0 {
			b[0] ^= 0x20 // SETRANGE-style, in the buffer itself
		}
	case TypeList:
		l := e.Agg().(*List)
		switch m.rng.IntN(3) {
		case 0:
			l.PushTail(m.word())
		case 1:
			l.PushHead(m.word())
		default:
			l.PopHead()
		}
	case TypeHash:
		h := e.Agg().(*Hash)
		if m.rng.IntN(2) == 0 {
			h.Set(m.word(), string(m.word()), m.lim)
		} else if len(h.Pairs()) > 0 {
			h.Delete([]byte(h.Pairs()[0].Field))
		}
	case TypeSet:
		s := e.Agg().(*Set)
		if m.rng.IntN(2) == 0 {
			s.Add(m.word(), m.lim)
		} else if s.Len() > 0 {
			s.Remove([]byte(s.MemberString(0)))
		}
	case TypeZSet:
		z := e.Agg().(*ZSet)
		if m.rng.IntN(2) == 0 {
			z.Add(m.word(), float64(m.rng.IntN(100)), 0, m.lim)
		} else {
			z.Pop(1, false)
		}
	}
	if e.Type() != TypeString && e.Agg().Len() == 0 {
		db.DeleteEntry(e)
		return
	}
	db.Reaccount(e)
}

func (m *snapModel) detachedValue(e *Entry) ([]byte, Aggregate) {
	if e.Type() == TypeString {
		return append([]byte(nil), e.Bytes()...), nil
	}
	return nil, e.Agg().Clone()
}

// mutate applies one random write, through every API that can change or
// remove an entry.
func (m *snapModel) mutate() {
	db, key := m.db(), m.key()
	switch op := m.rng.IntN(100); {
	case op < 10:
		m.create(db, key)
	case op < 14:
		m.create(db, fmt.Appendf(nil, "new%d", m.fresh))
		m.fresh++
	case op < 20:
		db.SetString(key, m.word(), EncEmbstr, m.rng.IntN(2) == 0)
	case op < 23:
		db.SetStringOwned(key, m.word(), EncEmbstr, m.rng.IntN(2) == 0)
	case op < 27:
		t := Type(1 + m.rng.IntN(4))
		db.SetAggregate(key, t, m.agg(t))
	case op < 32:
		if e := db.Lookup(key, 0); e != nil && e.Type() == TypeString {
			db.UpdateString(e, append(append([]byte(nil), e.Bytes()...), m.word()...), EncRaw)
		}
	case op < 50:
		if e := db.Lookup(key, LookupWrite); e != nil {
			m.mutateInPlace(db, e)
		}
	case op < 55:
		db.Delete(key)
	case op < 58:
		if e := db.Lookup(key, 0); e != nil {
			db.DeleteEntry(e)
		}
	case op < 66:
		if e := db.Peek(key); e != nil {
			db.SetExpire(e, m.ttl())
		}
	case op < 71:
		if e := db.Lookup(key, 0); e != nil {
			if to := m.key(); string(to) != e.Key() {
				db.Rename(e, to)
			}
		}
	case op < 74: // COPY
		dst := m.db()
		if e := db.Lookup(key, 0); e != nil {
			to := m.key()
			if dst != db || string(to) != e.Key() {
				str, agg := m.detachedValue(e)
				dst.Adopt(to, e, str, agg).MarkCopied()
			}
		}
	case op < 77: // MOVE
		dst := m.db()
		if e := db.Lookup(key, 0); e != nil && dst != db && !dst.Exists(key) {
			dst.Adopt(key, e, e.Bytes(), e.Agg())
			db.DeleteEntry(e)
		}
	case op < 80:
		m.ks.SwapDB(m.rng.IntN(m.ks.NumDBs()), m.rng.IntN(m.ks.NumDBs()))
	case op < 81:
		db.Flush()
	case op == 81 && m.rng.IntN(3) == 0:
		m.ks.FlushAll()
	case op < 86:
		m.clock.Advance(time.Duration(m.rng.IntN(500)) * time.Millisecond)
	case op < 89:
		m.ks.ActiveExpireCycle(time.Second)
	case op < 91:
		db.RandomKey()
	case op < 95:
		db.Lookup(key, LookupWrite) // a write that ends up changing nothing
	default:
		db.Lookup(key, 0)
		db.Exists(key)
	}
}

func TestSnapshotRandomizedModel(t *testing.T) {
	for seed := uint64(0); seed < 1000; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			clock := &ManualClock{Ms: 1_700_000_000_000}
			ks := New(4, clock, &recordingHooks{})
			m := &snapModel{t: t, ks: ks, clock: clock, rng: rand.New(rand.NewPCG(seed, 42)), lim: DefaultLimits()}
			// Some history before the cut, including a previous snapshot
			// closed half-way, so stale stamps are around.
			for range 40 + m.rng.IntN(60) {
				m.create(m.db(), m.key())
			}
			if seed%3 == 0 {
				prev := ks.BeginSnapshot(func(int, *Entry) {})
				prev.Step(m.rng.IntN(20))
				for range 20 {
					m.mutate()
				}
				prev.Close()
			}
			for range 30 {
				m.mutate()
			}

			want := cutState(ks)
			rec := newRecorder(t)
			s := ks.BeginSnapshot(rec.emit)
			for steps := 0; ; steps++ {
				require.Less(t, steps, 100_000)
				if m.rng.IntN(4) == 0 {
					if s.Step(1 + m.rng.IntN(6)) {
						break
					}
					continue
				}
				m.mutate()
			}
			assert.Equal(t, want, rec.got)
			// Once complete, nothing is emitted any more.
			n := len(rec.got)
			for range 50 {
				m.mutate()
			}
			s.Close()
			assert.Len(t, rec.got, n)
			assert.Nil(t, ks.snap)
			checkConsistency(t, ks)
		})
	}
}

// hookFixture builds the keyspace the targeted tests start from.
func hookFixture(t *testing.T) (*Keyspace, *ManualClock) {
	t.Helper()
	clock := &ManualClock{Ms: 1_700_000_000_000}
	ks := New(3, clock, &recordingHooks{})
	db0, db1 := ks.DB(0), ks.DB(1)
	db0.SetString([]byte("s"), []byte("v"), EncEmbstr, false)
	l := NewList()
	l.PushTail([]byte("a"))
	l.PushTail([]byte("b"))
	db0.SetAggregate([]byte("l"), TypeList, l)
	h := NewHash()
	h.Set([]byte("f"), "1", DefaultLimits())
	db0.SetAggregate([]byte("h"), TypeHash, h)
	x := db0.SetString([]byte("x"), []byte("ttl"), EncEmbstr, false)
	db0.SetExpire(x, clock.Ms+1000)
	db1.SetString([]byte("s"), []byte("one"), EncEmbstr, false)
	return ks, clock
}

func TestSnapshotHooksEmitBeforeTheFirstChange(t *testing.T) {
	b := func(s string) []byte { return []byte(s) }
	for _, tc := range []struct {
		name   string
		change func(ks *Keyspace, clock *ManualClock)
		want   []string // emitted by the change itself, in order
	}{
		{"LookupWrite then list push", func(ks *Keyspace, _ *ManualClock) {
			db := ks.DB(0)
			e := db.Lookup(b("l"), LookupWrite)
			e.Agg().(*List).PushTail(b("c"))
			db.Reaccount(e)
		}, []string{"0:l"}},
		{"LookupWrite then hash set", func(ks *Keyspace, _ *ManualClock) {
			db := ks.DB(0)
			e := db.Lookup(b("h"), LookupWrite)
			e.Agg().(*Hash).Set(b("f"), "2", DefaultLimits())
			db.Reaccount(e)
		}, []string{"0:h"}},
		{"LookupWrite then string changed in place", func(ks *Keyspace, _ *ManualClock) {
			e := ks.DB(0).Lookup(b("s"), LookupWrite)
			e.Bytes()[0] = 'V'
		}, []string{"0:s"}},
		{"second change emits nothing more", func(ks *Keyspace, _ *ManualClock) {
			db := ks.DB(0)
			db.SetString(b("s"), b("1"), EncInt, false)
			db.SetString(b("s"), b("2"), EncInt, false)
			db.Delete(b("s"))
		}, []string{"0:s"}},
		{"reads emit nothing", func(ks *Keyspace, _ *ManualClock) {
			db := ks.DB(0)
			db.Lookup(b("l"), 0)
			db.Lookup(b("l"), LookupNoTouch|LookupNoStats)
			db.Peek(b("h"))
			db.Exists(b("s"))
			db.ForEach(func(*Entry) {})
			db.Scan(0, 10, nil)
			db.RandomKey()
		}, nil},
		{"SetString overwrite", func(ks *Keyspace, _ *ManualClock) {
			ks.DB(0).SetString(b("s"), b("w"), EncEmbstr, false)
		}, []string{"0:s"}},
		{"SetString KEEPTTL overwrite", func(ks *Keyspace, _ *ManualClock) {
			ks.DB(0).SetString(b("x"), b("w"), EncEmbstr, true)
		}, []string{"0:x"}},
		{"SetStringOwned overwrite", func(ks *Keyspace, _ *ManualClock) {
			ks.DB(1).SetStringOwned(b("s"), b("w"), EncEmbstr, false)
		}, []string{"1:s"}},
		{"SetAggregate overwrite", func(ks *Keyspace, _ *ManualClock) {
			ks.DB(0).SetAggregate(b("s"), TypeSet, NewSet())
		}, []string{"0:s"}},
		{"UpdateString", func(ks *Keyspace, _ *ManualClock) {
			db := ks.DB(0)
			db.UpdateString(db.Lookup(b("s"), 0), b("vv"), EncEmbstr)
		}, []string{"0:s"}},
		{"Delete", func(ks *Keyspace, _ *ManualClock) {
			ks.DB(0).Delete(b("h"))
			ks.DB(0).Delete(b("missing"))
		}, []string{"0:h"}},
		{"DeleteEntry", func(ks *Keyspace, _ *ManualClock) {
			db := ks.DB(0)
			db.DeleteEntry(db.Lookup(b("l"), 0))
		}, []string{"0:l"}},
		{"SetExpire", func(ks *Keyspace, clock *ManualClock) {
			db := ks.DB(0)
			db.SetExpire(db.Lookup(b("s"), 0), clock.Ms+50)
			db.SetExpire(db.Lookup(b("x"), 0), 0)
		}, []string{"0:s", "0:x"}},
		{"lazy expiry", func(ks *Keyspace, clock *ManualClock) {
			clock.Advance(2 * time.Second)
			ks.DB(0).Lookup(b("x"), 0)
		}, []string{"0:x"}},
		{"active expiry", func(ks *Keyspace, clock *ManualClock) {
			clock.Advance(2 * time.Second)
			ks.ActiveExpireCycle(time.Second)
		}, []string{"0:x"}},
		{"Rename onto an existing key", func(ks *Keyspace, _ *ManualClock) {
			db := ks.DB(0)
			ne := db.Rename(db.Lookup(b("s"), 0), b("l"))
			db.SetString(b("l"), b("after"), EncEmbstr, false) // the renamed entry is new
			db.SetExpire(ne, 0)
		}, []string{"0:l", "0:s"}},
		{"Rename to a new key", func(ks *Keyspace, _ *ManualClock) {
			db := ks.DB(0)
			e := db.Rename(db.Lookup(b("x"), 0), b("z"))
			db.DeleteEntry(e)
		}, []string{"0:x"}},
		{"Adopt (COPY) replacing a key", func(ks *Keyspace, _ *ManualClock) {
			src := ks.DB(0).Lookup(b("s"), 0)
			ks.DB(1).Adopt(b("s"), src, append([]byte(nil), src.Bytes()...), nil)
		}, []string{"1:s"}},
		{"Adopt and DeleteEntry (MOVE)", func(ks *Keyspace, _ *ManualClock) {
			src := ks.DB(0).Lookup(b("l"), 0)
			ks.DB(2).Adopt(b("l"), src, nil, src.Agg())
			ks.DB(0).DeleteEntry(src)
			e := ks.DB(2).Lookup(b("l"), LookupWrite)
			e.Agg().(*List).PopHead()
		}, []string{"0:l"}},
		{"Flush emits nothing under the lock", func(ks *Keyspace, _ *ManualClock) {
			ks.DB(0).Flush()
			ks.DB(0).SetString(b("s"), b("new"), EncEmbstr, false)
			ks.DB(0).Delete(b("s"))
		}, nil},
		{"FlushAll emits nothing under the lock", func(ks *Keyspace, _ *ManualClock) {
			ks.FlushAll()
		}, nil},
		{"SwapDB keeps the database number of the cut", func(ks *Keyspace, _ *ManualClock) {
			ks.SwapDB(0, 1)
			ks.DB(1).Delete(b("s")) // was db 0's
			ks.SwapDB(1, 2)
			ks.DB(2).Delete(b("h")) // db 0's again
			ks.DB(0).SetString(b("s"), b("1"), EncInt, false)
		}, []string{"0:s", "0:h", "1:s"}},
		{"SwapDB then Flush then SwapDB", func(ks *Keyspace, _ *ManualClock) {
			ks.SwapDB(0, 2)
			ks.DB(2).Flush() // db 0's table of the cut
			ks.SwapDB(2, 1)
			ks.DB(2).Delete(b("s")) // db 1's
			ks.DB(1).SetString(b("s"), b("fresh"), EncEmbstr, false)
		}, []string{"1:s"}},
		{"keys created after the cut", func(ks *Keyspace, _ *ManualClock) {
			db := ks.DB(0)
			db.SetString(b("n"), b("1"), EncInt, false)
			e := db.Lookup(b("n"), LookupWrite)
			db.SetExpire(e, 0)
			db.Delete(b("n"))
			l := NewList()
			l.PushTail(b("q"))
			db.SetAggregate(b("q"), TypeList, l)
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ks, clock := hookFixture(t)
			want := cutState(ks)
			rec := newRecorder(t)
			s := ks.BeginSnapshot(rec.emit)
			tc.change(ks, clock)
			assert.Equal(t, tc.want, rec.takeLast())
			finish(t, s, 1)
			assert.Equal(t, want, rec.got, "every key of the cut once, as it was")
			checkConsistency(t, ks)
		})
	}
}

func TestSnapshotEmitsExpiredKeysAndNotNewOnes(t *testing.T) {
	ks, clock := hookFixture(t)
	clock.Advance(5 * time.Second) // x is logically expired, not yet deleted
	want := cutState(ks)
	require.Contains(t, want, snapKey{0, "x"})
	rec := newRecorder(t)
	s := ks.BeginSnapshot(rec.emit)
	ks.DB(0).SetString([]byte("late"), []byte("1"), EncInt, false)
	finish(t, s, 100)
	assert.Equal(t, want, rec.got)
}

func TestSnapshotStepEmitsInBoundedBatches(t *testing.T) {
	ks := New(2, &ManualClock{Ms: 1}, nil)
	for i := range 100 {
		ks.DB(i%2).SetString(fmt.Appendf(nil, "k%d", i), []byte("v"), EncEmbstr, false)
	}
	rec := newRecorder(t)
	s := ks.BeginSnapshot(rec.emit)
	assert.False(t, s.Step(0))
	assert.Empty(t, rec.got)
	assert.False(t, s.Step(30))
	assert.Len(t, rec.got, 30)
	assert.False(t, s.Step(30), "crosses from db 0 into db 1")
	assert.Len(t, rec.got, 60)
	assert.True(t, s.Step(40))
	assert.Len(t, rec.got, 100)
	assert.True(t, s.Step(1), "done stays done")
	assert.Len(t, rec.got, 100)
	s.Close()
}

func TestSnapshotStepBoundsSkippedEntries(t *testing.T) {
	ks := New(1, &ManualClock{Ms: 1}, nil)
	db := ks.DB(0)
	for i := range 1000 {
		db.SetString(fmt.Appendf(nil, "k%d", i), []byte("v"), EncEmbstr, false)
	}
	rec := newRecorder(t)
	s := ks.BeginSnapshot(rec.emit)
	// Clients write every key before the walk gets there.
	for i := range 1000 {
		db.Lookup(fmt.Appendf(nil, "k%d", i), LookupWrite)
	}
	require.Len(t, rec.got, 1000)
	steps := 1
	for !s.Step(1) {
		steps++
	}
	assert.Equal(t, 1000/stepVisitsPerEmit, steps, "each step looks at no more than 10 entries")
	assert.Len(t, rec.got, 1000)
}

func TestSnapshotFlushKeepsTheOldTableForTheWalk(t *testing.T) {
	ks, _ := hookFixture(t)
	want := cutState(ks)
	rec := newRecorder(t)
	s := ks.BeginSnapshot(rec.emit)
	require.False(t, s.Step(1))
	ks.FlushAll()
	assert.Zero(t, ks.DB(0).Len())
	assert.Zero(t, ks.Memory())
	ks.DB(0).SetString([]byte("s"), []byte("after"), EncEmbstr, false)
	ks.DB(0).Flush() // flushing a table born after the cut
	finish(t, s, 2)
	assert.Equal(t, want, rec.got)
}

func TestSnapshotCloseMidwayStopsEverything(t *testing.T) {
	ks, _ := hookFixture(t)
	rec := newRecorder(t)
	s := ks.BeginSnapshot(rec.emit)
	require.False(t, s.Step(2))
	require.Len(t, rec.got, 2)
	s.Close()
	assert.Nil(t, ks.snap, "hooks are off")
	db := ks.DB(0)
	db.SetString([]byte("s"), []byte("w"), EncEmbstr, false)
	db.Delete([]byte("h"))
	e := db.Lookup([]byte("l"), LookupWrite)
	e.Agg().(*List).PushTail([]byte("c"))
	db.Reaccount(e)
	ks.SwapDB(0, 1)
	ks.DB(2).Flush()
	assert.True(t, s.Step(100), "nothing left to wait for")
	assert.Len(t, rec.got, 2, "no emit after Close")
	s.Close()

	// A new snapshot sees everything again, stamps of the old one notwithstanding.
	want := cutState(ks)
	rec2 := newRecorder(t)
	s2 := ks.BeginSnapshot(rec2.emit)
	finish(t, s2, 1)
	assert.Equal(t, want, rec2.got)
	s2.Close()
	s2.Close()
}

func TestSnapshotOneAtATime(t *testing.T) {
	ks, _ := hookFixture(t)
	s := ks.BeginSnapshot(func(int, *Entry) {})
	assert.Panics(t, func() { ks.BeginSnapshot(func(int, *Entry) {}) })
	s.Close()
	s = ks.BeginSnapshot(func(int, *Entry) {})
	finish(t, s, 10)
	assert.Nil(t, ks.snap, "a complete snapshot unhooks itself")
	assert.NotPanics(t, func() { ks.BeginSnapshot(func(int, *Entry) {}).Close() })
	s.Close() // after completion and after a later snapshot: harmless
}

func TestSnapshotEpochWrapAround(t *testing.T) {
	ks, _ := hookFixture(t)
	ks.epoch = math.MaxUint32 - 1
	ks.BeginSnapshot(func(int, *Entry) {}).Close() // stamps nothing: epoch MaxUint32
	ks.DB(0).SetString([]byte("stamped"), []byte("1"), EncInt, false)
	ks.DB(0).Lookup([]byte("stamped"), 0).snap = 1 // as if from epoch 1, 2^32 snapshots ago
	want := cutState(ks)
	rec := newRecorder(t)
	s := ks.BeginSnapshot(rec.emit)
	assert.Equal(t, uint32(1), ks.epoch)
	finish(t, s, 1)
	assert.Equal(t, want, rec.got)
}

func TestEntryStaysInItsAllocationClass(t *testing.T) {
	// The snapshot stamp grew Entry from 88 to 96 bytes; Go allocates 88
	// bytes from the 96-byte size class anyway, so the heap cost per key
	// is unchanged. Growing past 96 would cost 16 more bytes per key.
	assert.LessOrEqual(t, unsafe.Sizeof(Entry{}), uintptr(96))
}
