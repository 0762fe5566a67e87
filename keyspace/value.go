package keyspace

// Type is the Redis data type of a value, as TYPE reports it.
type Type uint8

// Value types.
const (
	TypeString Type = iota
	TypeList
	TypeSet
	TypeZSet
	TypeHash
)

var typeNames = [...]string{"string", "list", "set", "zset", "hash"}

// String returns the name TYPE replies with.
func (t Type) String() string { return typeNames[t] }

// Encoding is the internal representation OBJECT ENCODING reports. Celerity
// tracks the encoding Redis 7.0 would have chosen for the same history of
// writes, whatever its own representation is, so tools that read it see what
// they would see on Redis.
type Encoding uint8

// Encodings, named as Redis 7.0 names them.
const (
	EncRaw Encoding = iota
	EncInt
	EncEmbstr
	EncListpack
	EncQuicklist
	EncHashtable
	EncIntset
	EncSkiplist
)

var encodingNames = [...]string{"raw", "int", "embstr", "listpack", "quicklist", "hashtable", "intset", "skiplist"}

// String returns the name OBJECT ENCODING replies with.
func (e Encoding) String() string { return encodingNames[e] }

// Aggregate is implemented by the list, hash, set and sorted-set payloads.
type Aggregate interface {
	// Len is the number of elements; a key whose aggregate reaches 0 is deleted.
	Len() int
	// MemoryUsage estimates the payload's footprint in bytes.
	MemoryUsage() int64
	// Encoding is the encoding Redis 7.0 would report for the same data.
	Encoding() Encoding
	// Clone returns a deep copy (COPY).
	Clone() Aggregate
}

// embstrLimit is the longest string Redis stores as "embstr" (a string object
// allocated together with its header in one 64-byte jemalloc class).
const embstrLimit = 44

// StringEncoding returns the encoding Redis's tryObjectEncoding would pick
// for a string argument stored as-is (SET, MSET, GETSET, SETNX, APPEND on a
// missing key...).
func StringEncoding(v []byte) Encoding {
	if len(v) <= 20 {
		if _, ok := ParseInt(v); ok {
			return EncInt
		}
	}
	if len(v) <= embstrLimit {
		return EncEmbstr
	}
	return EncRaw
}

// Entry is one key's slot in a DB: its value, expiry and access metadata.
// Entries are owned by their DB; callers must not keep them across units,
// and may change a value in place only after a LookupWrite lookup (see the
// Snapshots paragraph of the package documentation).
type Entry struct {
	key      string
	str      []byte    // TypeString payload
	agg      Aggregate // other types
	expireAt int64     // Unix ms; 0 means no expiry
	lru      uint32    // access clock (seconds), for OBJECT IDLETIME and eviction
	pos      int32     // index in DB.dense
	vol      int32     // index in DB.volatile, -1 when the key has no TTL
	snap     uint32    // latest snapshot epoch this entry is done for (see snapshot.go)
	typ      Type
	enc      Encoding // string encoding; aggregates report their own
	copied   bool     // made by COPY, or an integer stored under maxmemory with LRU/LFU: an unshared object
	cls      KeyClass // broker-safe class, kept up to date while Keyspace.trackClasses
	mem      int64    // bytes accounted for this entry
}

// Copied reports whether the value was made by COPY. Redis duplicates the
// object then, so a small integer is no longer its shared object (OBJECT
// REFCOUNT says 1 instead of INT_MAX).
func (e *Entry) Copied() bool { return e.copied }

// MarkCopied records that COPY made this value.
func (e *Entry) MarkCopied() { e.copied = true }

// Key returns the entry's key.
func (e *Entry) Key() string { return e.key }

// Type returns the value's type.
func (e *Entry) Type() Type { return e.typ }

// Bytes returns a string value. The slice is owned by the keyspace: callers
// may read it during the unit but must not modify or keep it.
func (e *Entry) Bytes() []byte { return e.str }

// Agg returns the aggregate payload of a non-string value.
func (e *Entry) Agg() Aggregate { return e.agg }

// ExpireAt returns the expiry time in Unix ms, or 0 when the key has none.
func (e *Entry) ExpireAt() int64 { return e.expireAt }

// LRU returns the access clock recorded at the last access.
func (e *Entry) LRU() uint32 { return e.lru }

// Encoding returns the encoding OBJECT ENCODING reports.
func (e *Entry) Encoding() Encoding {
	if e.typ == TypeString {
		return e.enc
	}
	return e.agg.Encoding()
}
