package rdb

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
)

// WriterOptions are the settings that change what the writer produces.
type WriterOptions struct {
	// Compress is rdbcompression: strings (including listpack and intset
	// blobs) longer than 20 bytes are LZF-compressed, and the compressed
	// form is kept only when it is at least 5 bytes shorter, the margin
	// observed on Redis 7.0.15 (it gives liblzf an output buffer of
	// len-4 bytes, and liblzf gives up one byte before filling it).
	Compress bool
	// Checksum is rdbchecksum: Finish appends the CRC-64 of the file, or
	// eight zero bytes (which loaders accept as "not computed") when off.
	// AppendDump always checksums, as DUMP does whatever rdbchecksum says.
	Checksum bool
	// Limits are the encoding thresholds (hash-max-listpack-entries, ...)
	// that decide each collection's on-disk type, as they decide the
	// in-memory encoding of the object Redis would hold.
	Limits Limits
}

// Writer writes an RDB file (SAVE/BGSAVE, or the RDB preamble of an AOF
// base) to an io.Writer: Header, then per database SelectDB and its Keys,
// then Finish. It buffers (64 KB) and keeps the running CRC-64 of every
// byte. Errors are sticky: after the first, every method returns it.
// A Writer is not safe for concurrent use.
type Writer struct {
	bw       *bufio.Writer
	enc      encoder
	checksum bool
	crc      uint64
	n        int64
	err      error
	finished bool
}

// NewWriter returns a Writer writing to w with opts.
func NewWriter(w io.Writer, opts WriterOptions) *Writer {
	wr := &Writer{bw: bufio.NewWriterSize(w, 64<<10), checksum: opts.Checksum}
	wr.enc = encoder{compress: opts.Compress, limits: opts.Limits, flush: wr.emit}
	return wr
}

// emit passes p to the buffer, counting it and adding it to the CRC.
func (w *Writer) emit(p []byte) {
	if w.err != nil || len(p) == 0 {
		return
	}
	if w.checksum {
		w.crc = Checksum(w.crc, p)
	}
	w.n += int64(len(p))
	_, w.err = w.bw.Write(p)
}

// record emits what the encoder holds and resets it.
func (w *Writer) record() error {
	w.emit(w.enc.buf)
	w.enc.buf = w.enc.buf[:0]
	if cap(w.enc.buf) > 1<<20 {
		w.enc.buf = nil // don't pin the memory of one huge record
	}
	return w.err
}

func (w *Writer) usable() error {
	if w.err == nil && w.finished {
		w.err = errors.New("rdb: writer already finished")
	}
	return w.err
}

// Header writes the magic "REDIS0010" and then each aux field (opcode
// 0xFA, key and value as RDB strings) in the given order. Redis writes
// redis-ver, redis-bits, ctime, used-mem, then repl-* and aof-base
// fields; which to write is the caller's choice.
func (w *Writer) Header(aux []Aux) error {
	if err := w.usable(); err != nil {
		return err
	}
	e := &w.enc
	e.buf = append(e.buf[:0], fmt.Sprintf("%s%04d", Magic, Version)...)
	for _, a := range aux {
		e.buf = append(e.buf, OpAux)
		e.appendString([]byte(a.Key))
		e.appendString([]byte(a.Value))
	}
	return w.record()
}

// SelectDB starts database db: opcode 0xFE and db, then the resize hint
// 0xFB with the number of keys and of keys with an expire that follow
// (hints only: Redis sizes its tables with them).
func (w *Writer) SelectDB(db int, keys, expires uint64) error {
	if err := w.usable(); err != nil {
		return err
	}
	if db < 0 {
		return fmt.Errorf("rdb: negative db %d", db)
	}
	e := &w.enc
	e.buf = append(e.buf[:0], OpSelectDB)
	e.buf = appendLen(e.buf, uint64(db))
	e.buf = append(e.buf, OpResizeDB)
	e.buf = appendLen(e.buf, keys)
	e.buf = appendLen(e.buf, expires)
	return w.record()
}

// Key writes one key: when expireAt is not 0, opcode 0xFC and expireAt
// (Unix time in ms, little-endian); then the value's type, the key and the
// value, the type chosen as Redis 7.0.15 would for an object holding v
// under the writer's Limits. v is only read, not retained. Redis never
// saves an empty collection; one given here is written with length 0
// (a quicklist of no nodes, a plain set, sorted set or hash), which
// Redis's loader skips with a log line and RESTORE refuses. An unknown
// Kind is an error and writes nothing.
func (w *Writer) Key(key []byte, expireAt int64, v *Value) error {
	if err := w.usable(); err != nil {
		return err
	}
	e := &w.enc
	e.buf = e.buf[:0]
	typ, err := e.valueType(v)
	if err != nil {
		return err
	}
	if expireAt != 0 {
		e.buf = append(e.buf, OpExpireTimeMs)
		e.buf = binary.LittleEndian.AppendUint64(e.buf, uint64(expireAt))
	}
	e.buf = append(e.buf, typ)
	e.appendString(key)
	e.appendValue(typ, v)
	return w.record()
}

// Finish writes the EOF opcode and the 8-byte little-endian CRC-64 of
// everything before it (0 when Checksum is off), and flushes. The Writer
// accepts nothing after it.
func (w *Writer) Finish() error {
	if err := w.usable(); err != nil {
		return err
	}
	w.emit([]byte{OpEOF})
	var crc uint64
	if w.checksum {
		crc = w.crc
	}
	tail := binary.LittleEndian.AppendUint64(nil, crc)
	w.checksum = false // the trailer is not part of its own checksum
	w.emit(tail)
	w.finished = true
	if w.err == nil {
		w.err = w.bw.Flush()
	}
	return w.err
}

// Written returns the bytes written so far, including those still in the
// Writer's buffer.
func (w *Writer) Written() int64 { return w.n }

// AppendDump appends the DUMP payload of v to dst and returns it: the
// value's type and encoding as in an RDB file (no key), the RDB version as
// u16 LE, then the CRC-64 of the payload's bytes before it as u64 LE —
// what Redis 7.0.15's DUMP replies and RESTORE accepts. opts.Compress and
// opts.Limits apply as in a file; the checksum is always computed. It
// panics on a Value of unknown Kind (a programming error).
func AppendDump(dst []byte, v *Value, opts WriterOptions) []byte {
	start := len(dst)
	e := encoder{buf: dst, compress: opts.Compress, limits: opts.Limits}
	typ, err := e.valueType(v)
	if err != nil {
		panic(err)
	}
	e.buf = append(e.buf, typ)
	e.appendValue(typ, v)
	e.buf = binary.LittleEndian.AppendUint16(e.buf, Version)
	crc := Checksum(0, e.buf[start:])
	return binary.LittleEndian.AppendUint64(e.buf, crc)
}

// encoder appends RDB encodings to buf. With flush set it hands buf over
// whenever it grows past flushAt inside a large collection, so a record's
// memory stays bounded; without (DUMP) it accumulates.
type encoder struct {
	buf      []byte
	compress bool
	limits   Limits
	flush    func([]byte)

	lzf     lzfTable
	scratch []byte
	lp      listpack
	ints    []int64
	zs      []ScoreMember
	nodes   []int
}

const flushAt = 64 << 10

// lzfMinSaving is how much shorter an LZF-compressed string must be to be
// kept: on the oracle, strings whose liblzf output saved 4 bytes were
// written raw, those saving 5 compressed.
const lzfMinSaving = 5

func (e *encoder) maybeFlush() {
	if e.flush != nil && len(e.buf) >= flushAt {
		e.flush(e.buf)
		e.buf = e.buf[:0]
	}
}

// appendLen appends an RDB length: 6 bits in one byte (00), 14 bits in
// two (01, big-endian), 0x80 and a u32 BE, or 0x81 and a u64 BE.
func appendLen(dst []byte, n uint64) []byte {
	switch {
	case n < 1<<6:
		return append(dst, byte(n))
	case n < 1<<14:
		return append(dst, 0x40|byte(n>>8), byte(n))
	case n <= math.MaxUint32:
		dst = append(dst, 0x80)
		return binary.BigEndian.AppendUint32(dst, uint32(n))
	}
	dst = append(dst, 0x81)
	return binary.BigEndian.AppendUint64(dst, n)
}

// appendString appends s as Redis's rdbSaveRawString does: a canonical
// decimal within int32 of at most 11 characters as an integer encoding
// (0xC0 int8, 0xC1 int16 LE, 0xC2 int32 LE, the smallest that fits); else,
// when compressing and s is longer than 20 bytes, LZF (0xC3, compressed
// length, original length, data) if that is at most len(s) - 5 bytes;
// else its length and bytes.
func (e *encoder) appendString(s []byte) {
	if len(s) <= 11 {
		if v, ok := parseCanonicalInt(s); ok {
			switch {
			case v >= math.MinInt8 && v <= math.MaxInt8:
				e.buf = append(e.buf, 0xC0, byte(v))
				return
			case v >= math.MinInt16 && v <= math.MaxInt16:
				e.buf = append(e.buf, 0xC1)
				e.buf = binary.LittleEndian.AppendUint16(e.buf, uint16(v))
				return
			case v >= math.MinInt32 && v <= math.MaxInt32:
				e.buf = append(e.buf, 0xC2)
				e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(v))
				return
			}
		}
	}
	if e.compress && len(s) > 20 {
		var ok bool
		e.scratch, ok = lzfCompress(&e.lzf, e.scratch[:0], s, len(s)-lzfMinSaving)
		if ok && len(e.scratch) > 0 {
			e.buf = append(e.buf, 0xC3)
			e.buf = appendLen(e.buf, uint64(len(e.scratch)))
			e.buf = appendLen(e.buf, uint64(len(s)))
			e.buf = append(e.buf, e.scratch...)
			if cap(e.scratch) > 1<<20 {
				e.scratch = nil
			}
			return
		}
	}
	e.buf = appendLen(e.buf, uint64(len(s)))
	e.buf = append(e.buf, s...)
}

// valueType picks v's on-disk type under e.limits (see the per-kind
// comments in appendValue). An empty set, sorted set or hash gets the
// plain form with length 0, which Redis's loader recognises as an empty
// key and skips (an empty intset fails its integrity check instead).
func (e *encoder) valueType(v *Value) (byte, error) {
	if v == nil {
		return 0, errors.New("rdb: nil value")
	}
	l := &e.limits
	switch v.Kind {
	case KindString:
		return TypeString, nil
	case KindList:
		return TypeListQuicklist2, nil
	case KindSet:
		if len(v.Elems) == 0 || len(v.Elems) > l.SetMaxIntsetEntries {
			return TypeSet, nil
		}
		for _, m := range v.Elems {
			if _, ok := parseCanonicalInt(m); !ok {
				return TypeSet, nil
			}
		}
		return TypeSetIntset, nil
	case KindZSet:
		if len(v.Zset) == 0 || len(v.Zset) > l.ZSetMaxListpackEntries {
			return TypeZSet2, nil
		}
		for _, sm := range v.Zset {
			if len(sm.Member) > l.ZSetMaxListpackValue {
				return TypeZSet2, nil
			}
		}
		return TypeZSetListpack, nil
	case KindHash:
		if len(v.Pairs) == 0 || len(v.Pairs) > l.HashMaxListpackEntries {
			return TypeHash, nil
		}
		for _, fv := range v.Pairs {
			if len(fv.Field) > l.HashMaxListpackValue || len(fv.Value) > l.HashMaxListpackValue {
				return TypeHash, nil
			}
		}
		return TypeHashListpack, nil
	}
	return 0, fmt.Errorf("rdb: unknown value kind %d", v.Kind)
}

// appendValue appends v's encoding as type typ (from valueType).
func (e *encoder) appendValue(typ byte, v *Value) {
	switch typ {
	case TypeString:
		e.appendString(v.Str)
	case TypeListQuicklist2:
		e.appendQuicklist(v.Elems)
	case TypeSetIntset:
		// Members are canonical integers (checked by valueType); the
		// intset holds them sorted at the narrowest width.
		e.ints = e.ints[:0]
		for _, m := range v.Elems {
			n, _ := parseCanonicalInt(m)
			e.ints = append(e.ints, n)
		}
		e.scratch = appendIntset(e.scratch[:0], e.ints)
		blob := e.scratch
		e.scratch = nil // appendString may compress into scratch
		e.appendString(blob)
		e.scratch = blob[:0]
	case TypeSet:
		e.buf = appendLen(e.buf, uint64(len(v.Elems)))
		for _, m := range v.Elems {
			e.appendString(m)
			e.maybeFlush()
		}
	case TypeZSetListpack:
		// Ascending by (score, member bytes), as the listpack keeps them;
		// each member then its score.
		zs := e.sortedZset(v.Zset)
		e.lp.reset(e.lp.buf)
		for _, sm := range zs {
			e.lp.add(sm.Member)
			e.lp.addScore(sm.Score)
		}
		e.appendString(e.lp.finish())
	case TypeZSet2:
		// From the greatest to the smallest, as Redis walks its skiplist
		// backwards so that loading inserts each at the head.
		zs := e.sortedZset(v.Zset)
		e.buf = appendLen(e.buf, uint64(len(zs)))
		for i := len(zs) - 1; i >= 0; i-- {
			e.appendString(zs[i].Member)
			e.buf = binary.LittleEndian.AppendUint64(e.buf, math.Float64bits(zs[i].Score))
			e.maybeFlush()
		}
	case TypeHashListpack:
		e.lp.reset(e.lp.buf)
		for _, fv := range v.Pairs {
			e.lp.add(fv.Field)
			e.lp.add(fv.Value)
		}
		e.appendString(e.lp.finish())
	case TypeHash:
		e.buf = appendLen(e.buf, uint64(len(v.Pairs)))
		for _, fv := range v.Pairs {
			e.appendString(fv.Field)
			e.appendString(fv.Value)
			e.maybeFlush()
		}
	}
	if cap(e.lp.buf) > 1<<20 {
		e.lp.buf = nil
	}
	if cap(e.zs) > 1<<16 {
		e.zs = nil
	}
}

// sortedZset returns a copy of zs ordered by score, then member bytes.
func (e *encoder) sortedZset(zs []ScoreMember) []ScoreMember {
	e.zs = append(e.zs[:0], zs...)
	slices.SortFunc(e.zs, func(a, b ScoreMember) int {
		switch {
		case a.Score < b.Score:
			return -1
		case a.Score > b.Score:
			return 1
		}
		return bytes.Compare(a.Member, b.Member)
	})
	return e.zs
}

// Quicklist node limits of Redis 7.0.15 (quicklist.c), confirmed on the
// oracle by the node boundaries of RPUSH-built lists.
const (
	qlPackedThreshold = 1 << 30 // an element this large gets a PLAIN node
	qlSizeSafetyLimit = 8192    // bytes a count-limited node may reach
	qlSizeEstimate    = 8       // per-entry overhead the size check assumes
	qlFillMax         = 1<<15 - 1
	qlContainerPlain  = 1
	qlContainerPacked = 2
)

// qlSizeLimits are the node byte limits of list-max-listpack-size -1..-5.
var qlSizeLimits = [...]int{4096, 8192, 16384, 32768, 65536}

// quicklistNodes splits elems into nodes as Redis's quicklist fills them
// when the elements are pushed at the tail in order, and returns each
// node's first index (the last node ends at len(elems)). A new element
// joins the tail node when that node is packed, the element is below the
// plain threshold, and node bytes + element length + 8 stay within the
// size limit (negative fill) or within 8 KB with the count below fill
// (fill >= 0, 0 counting as 1). fill is clamped to -5..32767, as Redis
// clamps it.
func quicklistNodes(dst []int, elems [][]byte, fill int) []int {
	fill = max(-5, min(fill, qlFillMax))
	nodeSz, count, plain := 0, 0, false
	for i, el := range elems {
		sz := len(el)
		large := sz >= qlPackedThreshold
		if len(dst) > 0 && !plain && !large && quicklistAllows(nodeSz, count, sz, fill) {
			nodeSz += lpEntrySize(el)
			count++
			continue
		}
		dst = append(dst, i)
		plain, count = large, 1
		if !large {
			nodeSz = lpEmptySize + lpEntrySize(el)
		}
	}
	return dst
}

func quicklistAllows(nodeSz, count, sz, fill int) bool {
	newSz := nodeSz + sz + qlSizeEstimate
	if fill < 0 {
		return newSz <= qlSizeLimits[-fill-1]
	}
	if newSz > qlSizeSafetyLimit {
		return false
	}
	return count+1 <= max(fill, 1)
}

// appendQuicklist appends a list as a quicklist of listpacks (type 18):
// the node count, then per node its container (2 packed, 1 plain) and its
// listpack (or the plain element) as an RDB string, so compressible.
func (e *encoder) appendQuicklist(elems [][]byte) {
	e.nodes = quicklistNodes(e.nodes[:0], elems, e.limits.ListMaxListpackSize)
	e.buf = appendLen(e.buf, uint64(len(e.nodes)))
	for k, start := range e.nodes {
		end := len(elems)
		if k+1 < len(e.nodes) {
			end = e.nodes[k+1]
		}
		if len(elems[start]) >= qlPackedThreshold {
			e.buf = appendLen(e.buf, qlContainerPlain)
			e.appendString(elems[start])
		} else {
			e.buf = appendLen(e.buf, qlContainerPacked)
			e.lp.reset(e.lp.buf)
			for _, el := range elems[start:end] {
				e.lp.add(el)
			}
			e.appendString(e.lp.finish())
		}
		e.maybeFlush()
	}
}
