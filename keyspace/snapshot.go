package keyspace

// Snapshots give the AOF rewrite what Redis gets from fork: the dataset
// frozen at one instant (the cut) while clients keep writing. Without fork,
// the keyspace copies before writing instead: every path that modifies or
// removes an entry first hands the entry, still in its state as of the cut,
// to the snapshot's emit function, unless the snapshot already has it.
// Between the engine's Step calls the rest is walked in bounded batches.
//
// Bookkeeping is one uint32 per entry, Entry.snap, compared with
// Keyspace.epoch, which each BeginSnapshot advances: an entry is done for
// the open snapshot (emitted already, or created after the cut) exactly when
// its snap equals the epoch. Emitting stamps it, insert stamps new entries,
// and every entry older than the cut carries an older epoch, so the cut
// itself touches no entry (except once every 2^32 snapshots, when the
// epoch wraps). The field grew Entry from 88 to 96 bytes, the size class
// Go allocated it from anyway, so it costs no memory.
//
// What to walk: each database's dense array of keys as of the cut, called a
// table here. SwapDB moves tables between database numbers and Flush
// replaces a table with a fresh one; the snapshot follows each table of the
// cut wherever it goes, and emits its entries with the number the database
// had at the cut.
//
// Invariant of the walk: a table's positions >= pos hold no entry of the cut
// that is still to be emitted; every such entry sits below pos. It holds at
// the cut (pos = len). Step decrements pos past each entry it looks at.
// Insertions append at the end, at or above pos, and are stamped.
// DB.deleteEntry swap-removes: the last entry moves down into the hole, so
// entries only ever move to lower positions and an entry below pos stays
// below pos; an entry from at or above pos that lands below pos is met
// again, but it is stamped and skipped. When the array shrinks below pos,
// pos is clamped to the length, which loses nothing since every entry is
// below the length. So when pos reaches 0 the table is complete, and the
// stamps guarantee that nothing is emitted twice. (The same reasoning makes
// SCAN's downward cursor in DB.Scan safe.)

// Snapshot is a consistent, incrementally read image of every database as
// of the instant BeginSnapshot was called. See BeginSnapshot.
type Snapshot struct {
	ks   *Keyspace
	emit func(db int, e *Entry)

	tables  []snapTable // indexed by database number at the cut
	tableAt []int       // by current database number: the table it holds, or -1
	cur     int         // tables before cur are complete
	done    bool
}

// snapTable follows one database's table of the cut.
type snapTable struct {
	db    int      // database number holding the table now; -1 once flushed
	dense []*Entry // the flushed table's dense array, owned by the snapshot
	pos   int      // see the walk's invariant above
}

// BeginSnapshot starts a snapshot of every database as of now. emit is
// called exactly once for each key that existed at this instant, with the
// database index it had at this instant and the entry in its state at this
// instant (key, type, value, expire-at); emit must not retain e or modify
// anything. Keys created after the cut are never emitted.
//
// emit runs from Step and also from inside the keyspace's write paths, just
// before they change an entry of the cut the snapshot has not emitted yet,
// so it must not call back into the keyspace. Keys logically expired at the
// cut but not yet deleted are emitted too, with their expire-at; the caller
// decides what to do with them. Only one snapshot may be open at a time:
// BeginSnapshot panics otherwise. The cut costs O(number of databases).
func (ks *Keyspace) BeginSnapshot(emit func(db int, e *Entry)) *Snapshot {
	if ks.snap != nil {
		panic("keyspace: BeginSnapshot while a snapshot is open")
	}
	ks.epoch++
	if ks.epoch == 0 {
		// After 2^32 snapshots an entry untouched since epoch 1 would look
		// done; restamp everything once, so the stamps stay exact.
		for _, db := range ks.dbs {
			for _, e := range db.dense {
				e.snap = 0
			}
		}
		ks.epoch = 1
	}
	n := len(ks.dbs)
	s := &Snapshot{ks: ks, emit: emit, tables: make([]snapTable, n), tableAt: make([]int, n)}
	for i, db := range ks.dbs {
		s.tables[i] = snapTable{db: i, pos: len(db.dense)}
		s.tableAt[i] = i
	}
	ks.snap = s
	return s
}

// stepVisitsPerEmit bounds the entries Step may look at per entry it may
// emit, as Redis's SCAN bounds its empty visits: entries emitted by the
// write paths, or moved down after being visited, are skipped cheaply but
// not for free, and a step must stay short.
const stepVisitsPerEmit = 10

// Step emits up to n not-yet-emitted entries and reports whether the
// snapshot is complete (every key of the cut emitted).
//
// A step looks at no more than 10*n entries, so it may emit fewer than n
// without being complete: only done tells. Once complete, the write paths
// no longer consult the snapshot. After Close, Step emits nothing and
// reports true: there is nothing more to wait for, whether or not the
// snapshot had completed.
func (s *Snapshot) Step(n int) (done bool) {
	if s.done || s.ks == nil {
		return true
	}
	ks := s.ks
	emitted, visits := 0, 0
	for s.cur < len(s.tables) && emitted < n && visits < n*stepVisitsPerEmit {
		t := &s.tables[s.cur]
		dense := t.dense
		if t.db >= 0 {
			dense = ks.dbs[t.db].dense
		}
		t.pos = min(t.pos, len(dense))
		for t.pos > 0 && emitted < n && visits < n*stepVisitsPerEmit {
			t.pos--
			e := dense[t.pos]
			if t.db < 0 {
				dense[t.pos] = nil // release flushed entries as they go
			}
			visits++
			if e.snap != ks.epoch {
				e.snap = ks.epoch
				s.emit(s.cur, e)
				emitted++
			}
		}
		if t.pos == 0 {
			t.dense = nil
			s.cur++
		}
	}
	if s.cur == len(s.tables) {
		s.done = true
		s.release()
	}
	return s.done
}

// Close ends the snapshot, complete or not: hooks stop, memory is released.
// Safe to call twice.
func (s *Snapshot) Close() {
	if s.ks != nil {
		s.release()
	}
}

func (s *Snapshot) release() {
	if s.ks.snap == s {
		s.ks.snap = nil
	}
	s.ks, s.emit, s.tables, s.tableAt = nil, nil, nil, nil
}

// preserve hands e to the open snapshot before a write path changes or
// removes it. Without a snapshot it costs one well-predicted branch, and it
// stays small enough to inline.
func (db *DB) preserve(e *Entry) {
	if db.ks.snap != nil {
		db.ks.snap.save(db, e)
	}
}

// save emits e, which db holds and which is about to change, unless it is
// stamped: emitted already, or created after the cut.
func (s *Snapshot) save(db *DB, e *Entry) {
	if e.snap == s.ks.epoch {
		return
	}
	e.snap = s.ks.epoch
	// An unstamped entry always lives in a table of the cut: tables that
	// replaced flushed ones only hold entries inserted, so stamped, since.
	if c := s.tableAt[db.id]; c >= 0 {
		s.emit(c, e)
	}
}

// detach hands db's current table to the snapshot just before Flush
// replaces it. Nobody can reach its entries any more, so the snapshot
// walks the part below pos at leisure instead of emitting it under the
// lock.
func (s *Snapshot) detach(db *DB) {
	c := s.tableAt[db.id]
	if c < 0 {
		return
	}
	t := &s.tables[c]
	t.dense = db.dense[:min(t.pos, len(db.dense))]
	t.pos = len(t.dense)
	t.db = -1
	s.tableAt[db.id] = -1
}

// swap follows SwapDB: the tables of databases a and b trade places.
func (s *Snapshot) swap(a, b int) {
	ca, cb := s.tableAt[a], s.tableAt[b]
	s.tableAt[a], s.tableAt[b] = cb, ca
	if ca >= 0 {
		s.tables[ca].db = b
	}
	if cb >= 0 {
		s.tables[cb].db = a
	}
}
