// Package rdb reads and writes Redis's RDB format: the dump.rdb of SAVE and
// BGSAVE, the base of an AOF written with aof-use-rdb-preamble, and the
// payloads of DUMP and RESTORE. It knows values, not the keyspace: a key's
// value crosses the API as a Value (string, list, set, sorted set, hash),
// and the engine (package resp) maps it to and from its own structures.
//
// # Writing
//
// Writer produces version 10, what Redis 7.0.15 writes, byte for byte
// where Redis's choices are deterministic: the on-disk type follows the
// encoding Redis would hold the value in under the given Limits (listpack,
// intset, quicklist nodes split as Redis splits them, skiplist sets saved
// from the greatest score down), integers in the smallest encoding, and
// LZF for strings over 20 bytes when it saves at least 5 (rdbcompression).
// The LZF compressor is Celerity's own: Redis decompresses its output, but
// its matches, and so compressed bytes, can differ from liblzf's.
//
// # Reading
//
// Reader accepts versions 1 to 12 (Redis 7.2 and 7.4 files too, which
// Redis 7.0 refuses) and every encoding Redis 2.x to 7.4 wrote for these
// types (zipmaps, ziplists, quicklists of ziplists or listpacks, intsets,
// listpacks, 7.2's set listpacks); modules, streams, functions and 7.4's
// hashes with field TTLs are refused with a clear error. DUMP payloads
// stay at version 10, as RESTORE in Redis 7.0. Input is hostile until proven otherwise:
// every length is checked against the bytes actually present before
// anything is allocated from it, every blob is validated whole (as Redis
// does with sanitize-dump-payload yes), duplicates are corruption, and no
// input makes it panic (FuzzReader, FuzzDecodeDump). Keys already expired
// are returned as they are; dropping them is the caller's decision.
//
// AppendCommands turns a decoded key into the commands that recreate it,
// which is how package aof replays an RDB preamble with its one loader.
package rdb
