package keyspace

// HashPair is one field and its value. Pairs returned by a Hash are owned
// by it: read them during the unit, never keep or modify them.
type HashPair struct {
	Field, Value string
}

// Hash is the hash value type.
//
// Representation: a dense slice of pairs plus, past hashIndexMin pairs, a
// map from field to position. The same layout serves both encodings Redis
// 7.0 reports; only the delete discipline differs:
//
//   - while Redis would keep the hash as a listpack, the slice is in
//     insertion order (an update keeps the field's position, a delete
//     closes the gap), which is the order HGETALL, HKEYS, HVALS, HSCAN and
//     HRANDFIELD expose on Redis;
//   - once Redis would have converted it to a hashtable (never back), a
//     delete moves the last pair into the hole, so every operation is O(1)
//     however large the hash (Kombu's unacked hash holds thousands of
//     messages), and the dense slice gives O(1) random picks and a cursor
//     for HSCAN.
//
// Converting is therefore O(1): only the flag changes. Fields and values are
// Go strings, so the index shares the field's bytes.
type Hash struct {
	pairs []HashPair
	index map[string]int32 // field → position; nil while small
	big   bool             // "hashtable" encoding
	lp    int64            // listpack entry bytes of fields and values (memory.go)
	alloc int64            // sds allocations of fields and values (memory.go)
	peak  int              // largest length since the last shrink
}

// hashIndexMin is the size past which lookups go through a map instead of a
// linear scan of the pairs.
const hashIndexMin = 16

// NewHash returns an empty hash in the listpack encoding.
func NewHash() *Hash { return &Hash{} }

// Len returns the number of fields.
func (h *Hash) Len() int { return len(h.pairs) }

// MemoryUsage estimates what Redis 7.0 allocates for the same hash: an
// robj and a listpack, or an robj, a dict and per pair a dict entry and
// two sds strings (memory.go).
func (h *Hash) MemoryUsage() int64 {
	if h.big {
		n := len(h.pairs)
		return memObj + dictMemory(n) + memDictEntry*int64(n) + h.alloc
	}
	return memObj + listpackAlloc(h.lp)
}

// account adds (sign 1) or removes (sign -1) a pair's share of the memory
// estimate.
func (h *Hash) account(field, value string, sign int64) {
	h.lp += sign * (lpEntry(field) + lpEntry(value))
	h.alloc += sign * (sdsAlloc(len(field)) + sdsAlloc(len(value)))
}

// Encoding returns listpack or hashtable, as Redis 7.0 would report.
func (h *Hash) Encoding() Encoding {
	if h.big {
		return EncHashtable
	}
	return EncListpack
}

// Clone returns a deep copy with the same encoding and order.
func (h *Hash) Clone() Aggregate {
	n := &Hash{pairs: append([]HashPair(nil), h.pairs...), big: h.big, lp: h.lp, alloc: h.alloc, peak: len(h.pairs)}
	if h.index != nil {
		n.buildIndex()
	}
	return n
}

// IsListpack reports whether Redis would hold the hash as a listpack, in
// which case Pairs is in insertion order.
func (h *Hash) IsListpack() bool { return !h.big }

// Pairs returns the pairs: insertion order for a listpack, an arbitrary but
// stable order otherwise. The slice is owned by the hash.
func (h *Hash) Pairs() []HashPair { return h.pairs }

func (h *Hash) find(field []byte) int {
	if h.index != nil {
		if i, ok := h.index[string(field)]; ok {
			return int(i)
		}
		return -1
	}
	for i := range h.pairs {
		if h.pairs[i].Field == string(field) {
			return i
		}
	}
	return -1
}

// Get returns the value of field.
func (h *Hash) Get(field []byte) (string, bool) {
	if i := h.find(field); i >= 0 {
		return h.pairs[i].Value, true
	}
	return "", false
}

// Has reports whether field exists.
func (h *Hash) Has(field []byte) bool { return h.find(field) >= 0 }

// ConvertForArgs converts a listpack to a hashtable when any of the strings
// about to be written is longer than hash-max-listpack-value, before
// anything is written (Redis's hashTypeTryConversion, which HSET and HMSET
// apply to every field and value even when a field already exists).
func (h *Hash) ConvertForArgs(args [][]byte, lim Limits) {
	if h.big {
		return
	}
	for _, a := range args {
		if len(a) > lim.HashMaxListpackValue {
			h.big = true
			return
		}
	}
}

// Set sets field to value and reports whether the field is new. A field or
// value longer than hash-max-listpack-value, or more fields than
// hash-max-listpack-entries afterwards (even after an update), turn a
// listpack into a hashtable, as Redis's hashTypeSet does.
func (h *Hash) Set(field []byte, value string, lim Limits) bool {
	if !h.big && (len(field) > lim.HashMaxListpackValue || len(value) > lim.HashMaxListpackValue) {
		h.big = true
	}
	created := false
	if i := h.find(field); i >= 0 {
		h.account("", h.pairs[i].Value, -1)
		h.account("", value, 1)
		h.pairs[i].Value = value
	} else {
		created = true
		f := string(field)
		h.pairs = append(h.pairs, HashPair{Field: f, Value: value})
		h.account(f, value, 1)
		if h.index != nil {
			h.index[f] = int32(len(h.pairs) - 1)
		} else if len(h.pairs) > hashIndexMin {
			h.buildIndex()
		}
		h.peak = max(h.peak, len(h.pairs))
	}
	if !h.big && len(h.pairs) > lim.HashMaxListpackEntries {
		h.big = true
	}
	return created
}

// Delete removes field and reports whether it existed.
func (h *Hash) Delete(field []byte) bool {
	i := h.find(field)
	if i < 0 {
		return false
	}
	h.deleteAt(i)
	return true
}

func (h *Hash) deleteAt(i int) {
	p := h.pairs[i]
	h.account(p.Field, p.Value, -1)
	last := len(h.pairs) - 1
	if h.index != nil {
		delete(h.index, p.Field)
	}
	if h.big {
		// Swap-remove: O(1), and it keeps the HSCAN cursor guarantee (the
		// last pair is either already visited or still below the cursor).
		if i != last {
			h.pairs[i] = h.pairs[last]
			if h.index != nil {
				h.index[h.pairs[i].Field] = int32(i)
			}
		}
	} else {
		copy(h.pairs[i:], h.pairs[i+1:])
		if h.index != nil {
			for j := i; j < last; j++ {
				h.index[h.pairs[j].Field] = int32(j)
			}
		}
	}
	h.pairs[last] = HashPair{}
	h.pairs = h.pairs[:last]
	h.maybeShrink()
}

// maybeShrink gives memory back after a large hash drained: Go slices and
// maps never shrink by themselves. Amortized O(1) per delete.
func (h *Hash) maybeShrink() {
	n := len(h.pairs)
	if h.peak < 64 || n > h.peak/4 {
		return
	}
	h.pairs = append(make([]HashPair, 0, 2*n), h.pairs...)
	h.peak = n
	if n > hashIndexMin {
		h.buildIndex()
	} else {
		h.index = nil
	}
}

func (h *Hash) buildIndex() {
	h.index = make(map[string]int32, len(h.pairs))
	for i, p := range h.pairs {
		h.index[p.Field] = int32(i)
	}
}

// Scan visits up to count pairs from cursor and returns the next cursor (0
// at the end). A listpack is visited whole in one call whatever the cursor,
// as Redis does. A hashtable is walked downwards over the dense pairs:
// additions land above the cursor and deletions move an already visited (or
// still unvisited) pair into the hole, so every pair present for the whole
// iteration is returned at least once.
func (h *Hash) Scan(cursor uint64, count int, fn func(p HashPair)) uint64 {
	if !h.big {
		for _, p := range h.pairs {
			fn(p)
		}
		return 0
	}
	return denseScan(len(h.pairs), cursor, count, func(i int) { fn(h.pairs[i]) })
}

// denseScan walks positions of a dense array downwards from cursor (0 =
// from the top) and returns the next cursor.
func denseScan(n int, cursor uint64, count int, fn func(i int)) uint64 {
	pos := uint64(n)
	if cursor != 0 && cursor < pos {
		pos = cursor
	}
	for ; pos > 0 && count > 0; count-- {
		pos--
		fn(int(pos))
	}
	return pos
}
