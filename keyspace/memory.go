package keyspace

import (
	"math"
	"math/bits"
	"strconv"

	"github.com/celerity/celerity/keyspace/quicklist"
)

// Memory accounting models what Redis 7.0 allocates for the same data, not
// what Celerity's own representation takes: used_memory and maxmemory
// then mean the same thing for the same dataset on both servers (a
// maxmemory sized for Redis fills at about the same point here), and
// MEMORY USAGE answers close to Redis's. The model follows Redis's
// structures (dict entries, robj headers, sds strings, listpacks,
// quicklist nodes, skiplist nodes) and rounds every allocation up to
// jemalloc's size class, which is where much of Redis's memory goes: a
// 1 KiB hash value takes a 1280-byte allocation, a quicklist node of seven
// 1 KiB messages an 8 KiB one.
//
// Every estimate is O(1): values keep running sums (of sds allocations,
// of listpack entry sizes) updated as elements come and go, so accounting
// costs a few additions per write, never a walk.

// Sizes of Redis 7.0's fixed structures on a 64-bit build, as jemalloc
// serves them.
const (
	memObj       = 16  // robj
	memDictEntry = 32  // dictEntry (24 bytes, 32-byte class)
	memDict      = 64  // dict (56 bytes)
	memQuicklist = 48  // quicklist (40 bytes)
	memQLNode    = 32  // quicklistNode
	memZSet      = 16  // zset: dict and skiplist pointers
	memZSL       = 32  // zskiplist
	memZSLHeader = 640 // the skiplist's 32-level header node (536 bytes)
	// memZSLNode is the expected allocation of a skiplist node (24 bytes
	// plus 16 per level, levels drawn with p = 1/4): 48 three times in
	// four, 64, 80, 96... for taller ones.
	memZSLNode = 53

	// memIntsetHeader is an intset's encoding and length fields.
	memIntsetHeader = 8
)

// mallocSize returns the size class jemalloc 5 (Redis 7.0's allocator)
// serves an n-byte request from: 8, then multiples of 16 up to 128, then
// four classes per doubling (160, 192, 224, 256, 320, ...).
func mallocSize(n int64) int64 {
	switch {
	case n <= 8:
		return 8
	case n <= 128:
		return (n + 15) &^ 15
	}
	step := int64(1) << (bits.Len64(uint64(n-1)) - 3)
	return (n + step - 1) &^ (step - 1)
}

// sdsAlloc is the allocation of an sds string of length n made by
// sdsnewlen (keys, hash fields and values, set and zset members): the
// smallest header that holds the length, the bytes and a terminator.
func sdsAlloc(n int) int64 {
	var hdr int64
	switch {
	case n < 1<<5:
		hdr = 1
	case n < 1<<8:
		hdr = 3
	case n < 1<<16:
		hdr = 5
	default:
		hdr = 9
	}
	return mallocSize(hdr + int64(n) + 1)
}

// dictTable is the bucket array of a Redis dict holding n entries: a power
// of two, at least 4, grown when it is full.
func dictTable(n int) int64 {
	if n == 0 {
		return 0
	}
	return 8 * int64(max(4, 1<<bits.Len(uint(n-1))))
}

// dictMemory is a Redis dict of n entries besides the entries: the dict
// structure and its bucket array.
func dictMemory(n int) int64 { return memDict + dictTable(n) }

// lpEntry is the size of a listpack entry holding s.
func lpEntry[T string | []byte](s T) int64 {
	if len(s) <= 20 {
		if _, ok := ParseInt([]byte(s)); ok {
			return int64(quicklist.ListpackEntrySize([]byte(s)))
		}
	}
	n := len(s)
	var l int
	switch {
	case n < 64:
		l = 1 + n
	case n < 4096:
		l = 2 + n
	default:
		l = 5 + n
	}
	switch {
	case l < 1<<7:
		return int64(l + 1)
	case l < 1<<14:
		return int64(l + 2)
	case l < 1<<21:
		return int64(l + 3)
	}
	return int64(l + 4)
}

// lpScore is the size of the listpack entry Redis writes for a score
// (d2string): an integer when the score is one, else the text of "%.17g",
// which Go's 'g' format with 17 digits spells the same way.
func lpScore(score float64) int64 {
	if score == math.Trunc(score) && math.Abs(score) < 1<<52 {
		v := int64(score)
		switch {
		case v >= 0 && v <= 127:
			return 2
		case v >= -4096 && v <= 4095:
			return 3
		case v >= -32768 && v <= 32767:
			return 4
		case v >= -8388608 && v <= 8388607:
			return 5
		case v >= -2147483648 && v <= 2147483647:
			return 6
		}
		return 10
	}
	var buf [32]byte
	return lpEntry(strconv.AppendFloat(buf[:0], score, 'g', 17, 64))
}

// listpackAlloc is the allocation of a listpack whose entries take n bytes
// (plus its 7 bytes of header and terminator).
func listpackAlloc(n int64) int64 { return mallocSize(quicklist.ListpackHeaderBytes + n) }

// sharedIntegers is OBJ_SHARED_INTEGERS: Redis points string values 0 to
// 9999 at shared objects instead of allocating one.
const sharedIntegers = 10000

// stringValueMemory is what Redis allocates for a string value: nothing
// for a shared small integer, an robj for another integer, one
// allocation of robj and sds for an embstr, an robj and an sds for a raw
// string. objectSize is what MEMORY USAGE reports (objectComputeSize
// counts a shared integer's robj too).
func (e *Entry) stringValueMemory() (alloc, objectSize int64) {
	switch e.enc {
	case EncInt:
		if !e.copied {
			if v, ok := ParseInt(e.str); ok && v >= 0 && v < sharedIntegers {
				return 0, memObj
			}
		}
		return memObj, memObj
	case EncEmbstr:
		n := mallocSize(memObj + 3 + int64(len(e.str)) + 1)
		return n, n
	}
	n := memObj + sdsAlloc(len(e.str))
	return n, n
}

// footprint is what Redis allocates for the key in its main dict: the dict
// entry, the key's sds and the value. The TTL's entry in the expires dict
// and both dicts' bucket arrays are counted per DB (DB.Memory), as they
// depend on the number of keys.
func (e *Entry) footprint() int64 {
	n := memDictEntry + sdsAlloc(len(e.key))
	if e.typ == TypeString {
		v, _ := e.stringValueMemory()
		return n + v
	}
	return n + e.agg.MemoryUsage()
}

// MemoryUsage is MEMORY USAGE's answer for e: the value as Redis's
// objectComputeSize measures it, the key's sds and a dict entry's 24
// bytes. Aggregates are measured whole rather than sampled.
func (e *Entry) MemoryUsage() int64 {
	n := sizeofDictEntry + sdsAlloc(len(e.key))
	if e.typ == TypeString {
		_, v := e.stringValueMemory()
		return n + v
	}
	return n + objectComputeSize(e.agg)
}

// Structure sizes as objectComputeSize adds them: sizeof, not the
// allocation jemalloc makes for it.
const (
	sizeofDictEntry = 24
	sizeofDict      = 56
	sizeofQuicklist = 40
)

// objectComputeSize is Redis's estimate of an aggregate's size, which
// differs from what it allocates (MemoryUsage) where it adds up sizeof()
// values and listpack lengths instead of allocations.
func objectComputeSize(a Aggregate) int64 {
	switch v := a.(type) {
	case *List:
		return v.MemoryUsage() - memQuicklist + sizeofQuicklist
	case *Set:
		if !v.big {
			return memObj + v.intsetBytes()
		}
		return v.MemoryUsage() - memDict + sizeofDict - (memDictEntry-sizeofDictEntry)*int64(len(v.members))
	case *Hash:
		if !v.big {
			return memObj + quicklist.ListpackHeaderBytes + v.lp
		}
		return v.MemoryUsage() - memDict + sizeofDict - (memDictEntry-sizeofDictEntry)*int64(len(v.pairs))
	case *ZSet:
		if v.listpack {
			return v.MemoryUsage() // zmalloc_size of the listpack, unlike a hash's
		}
		return v.MemoryUsage() - memDict + sizeofDict - (memDictEntry-sizeofDictEntry)*int64(len(v.dict))
	}
	return a.MemoryUsage()
}

// overhead is what a DB holds besides its entries: the expires dict's
// entries and both dicts' bucket arrays.
func (db *DB) overhead() int64 {
	return dictTable(len(db.dict)) + dictTable(len(db.volatile)) + memDictEntry*int64(len(db.volatile))
}
