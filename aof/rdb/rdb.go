package rdb

import "hash/crc64"

// Version is the RDB format version Redis 7.0 writes (RDB_VERSION in
// src/rdb.h at 7.0.15): what the writer produces, and the newest DUMP
// payload RESTORE accepts, as in Redis 7.0.
const Version = 10

// MaxReadVersion is the newest file version the reader accepts: 11 (Redis
// 7.2) and 12 (Redis 7.4), what redis:7 images write today. Their
// strings, lists, sets, sorted sets and hashes are 7.0's encodings plus
// 7.2's set listpack, so a Celerity replacing a 7.2 or 7.4 server loads its
// dump.rdb and AOF base; Redis 7.0 refuses them. What 7.4 added for hash
// field expiration (types 22 to 25) is refused with that reason.
const MaxReadVersion = 12

// Magic starts every RDB file: "REDIS" and the version as four digits.
const Magic = "REDIS"

// Value types: the first byte of a key's record and of a DUMP payload.
const (
	TypeString           = 0
	TypeList             = 1 // ≤ 3.0
	TypeSet              = 2
	TypeZSet             = 3 // ≤ 4.x, scores as length-prefixed ASCII
	TypeHash             = 4
	TypeZSet2            = 5 // scores as 8-byte little-endian doubles
	TypeModule           = 6
	TypeModule2          = 7
	TypeHashZipmap       = 9
	TypeListZiplist      = 10
	TypeSetIntset        = 11
	TypeZSetZiplist      = 12
	TypeHashZiplist      = 13
	TypeListQuicklist    = 14
	TypeStreamListpacks  = 15
	TypeHashListpack     = 16
	TypeZSetListpack     = 17
	TypeListQuicklist2   = 18
	TypeStreamListpacks2 = 19
	TypeSetListpack      = 20 // 7.2+
	TypeStreamListpacks3 = 21
	// Hashes with field TTLs: 22 and 23 in 7.4's release candidates, 24
	// and 25 in 7.4.0.
	TypeHashMetadataPreGA   = 22
	TypeHashListpackExPreGA = 23
	TypeHashMetadata        = 24
	TypeHashListpackEx      = 25
)

// Opcodes between records.
const (
	OpSlotInfo     = 0xF4 // 7.4, cluster mode: a slot's key counts (hints)
	OpFunction2    = 0xF5
	OpFunction     = 0xF6 // pre-release 7.0 form
	OpModuleAux    = 0xF7
	OpIdle         = 0xF8
	OpFreq         = 0xF9
	OpAux          = 0xFA
	OpResizeDB     = 0xFB
	OpExpireTimeMs = 0xFC
	OpExpireTime   = 0xFD
	OpSelectDB     = 0xFE
	OpEOF          = 0xFF
)

// Kind is a decoded value's data type, whatever its on-disk encoding.
type Kind uint8

const (
	KindString Kind = iota
	KindList
	KindSet
	KindZSet
	KindHash
)

// Value is one key's value, in the form both directions use: the encoder
// reads it (slices may alias the caller's memory; they are not retained
// after the call returns) and the decoder fills it (slices are fresh,
// owned by the caller).
type Value struct {
	Kind  Kind
	Str   []byte        // KindString
	Elems [][]byte      // KindList in order; KindSet members
	Pairs []FieldValue  // KindHash
	Zset  []ScoreMember // KindZSet, in any order
}

// FieldValue is one hash field.
type FieldValue struct{ Field, Value []byte }

// ScoreMember is one sorted-set member.
type ScoreMember struct {
	Member []byte
	Score  float64
}

// crcTable is CRC-64/Jones, the checksum Redis appends to RDB files and
// DUMP payloads (reflected polynomial 0x95ac9329ac4bc9b5, init 0, no final
// xor).
var crcTable = crc64.MakeTable(0x95ac9329ac4bc9b5)

// Checksum returns the CRC-64/Jones of p continued from crc (0 to start).
// The standard library's Update inverts the register on entry and exit;
// Jones does neither, so both inversions are undone here.
func Checksum(crc uint64, p []byte) uint64 {
	return ^crc64.Update(^crc, crcTable, p)
}

// Aux is an auxiliary field of an RDB file's header (redis-ver,
// redis-bits, ctime, used-mem, aof-base, ...), in file order.
type Aux struct{ Key, Value string }

// Limits are the encoding thresholds that decide how the writer stores a
// collection, as Redis decides by the object's in-memory encoding: within
// them a hash or sorted set is a listpack and an all-integer set an
// intset; lists are quicklists whose nodes hold ListMaxListpackSize
// entries (> 0) or up to 4, 8, 16, 32 or 64 KB (-1 to -5).
type Limits struct {
	HashMaxListpackEntries int
	HashMaxListpackValue   int
	ZSetMaxListpackEntries int
	ZSetMaxListpackValue   int
	SetMaxIntsetEntries    int
	ListMaxListpackSize    int
}

// DefaultLimits are redis-server 7.0.15's compiled-in defaults (its
// redis.conf example says 128 hash entries; without a config it is 512).
func DefaultLimits() Limits {
	return Limits{
		HashMaxListpackEntries: 512,
		HashMaxListpackValue:   64,
		ZSetMaxListpackEntries: 128,
		ZSetMaxListpackValue:   64,
		SetMaxIntsetEntries:    512,
		ListMaxListpackSize:    -2,
	}
}
