package rdb

import (
	"encoding/binary"
	"math"
	"slices"
	"strconv"
)

// This file encodes the two compact blobs Redis 7.0 saves as strings:
// listpacks (hashes, sorted sets and quicklist nodes) and intsets.

// lpHeaderSize is a listpack's header: u32 LE total bytes, u16 LE count.
const lpHeaderSize = 6

// lpEmptySize is an empty listpack: the header and the 0xFF terminator.
const lpEmptySize = lpHeaderSize + 1

// lpCountUnknown is the header count once a listpack holds 65535 entries
// or more: readers must walk it to count.
const lpCountUnknown = 65535

// parseCanonicalInt reports whether b is the canonical decimal form of an
// int64: optional '-', no leading zeros, no '+', no spaces, not "-0", at
// most 20 characters — the strings Redis's string2ll (and the listpack's
// own copy of it) accept, which are exactly those that round-trip.
func parseCanonicalInt(b []byte) (int64, bool) {
	n := len(b)
	if n == 0 || n > 20 {
		return 0, false
	}
	if n == 1 && b[0] == '0' {
		return 0, true
	}
	neg := false
	i := 0
	if b[0] == '-' {
		neg = true
		i = 1
		if n == 1 {
			return 0, false
		}
	}
	if b[i] < '1' || b[i] > '9' {
		return 0, false
	}
	var u uint64
	for ; i < n; i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if u > (math.MaxUint64-9)/10 {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return int64(-u), true // -(1<<63) wraps to itself, which is right
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

// lpIntSize is the encoded size (without backlen) of v as the smallest
// listpack integer encoding.
func lpIntSize(v int64) int {
	switch {
	case v >= 0 && v <= 127:
		return 1
	case v >= -4096 && v <= 4095:
		return 2
	case v >= math.MinInt16 && v <= math.MaxInt16:
		return 3
	case v >= -1<<23 && v <= 1<<23-1:
		return 4
	case v >= math.MinInt32 && v <= math.MaxInt32:
		return 5
	}
	return 9
}

// lpStrHeaderSize is the size of a string entry's encoding byte(s).
func lpStrHeaderSize(n int) int {
	switch {
	case n <= 63:
		return 1
	case n <= 4095:
		return 2
	}
	return 5
}

// lpBacklenSize is how many bytes the backlen of an entry of l bytes takes
// (7 bits per byte; Redis's thresholds are exclusive past the first).
func lpBacklenSize(l int) int {
	switch {
	case l <= 127:
		return 1
	case l < 16383:
		return 2
	case l < 2097151:
		return 3
	case l < 268435455:
		return 4
	}
	return 5
}

// appendLPBacklen writes l so that it can be read from its last byte
// backwards: the byte at the lowest address holds the most significant
// 7-bit group with the high bit clear, every later byte has the high bit
// set, the last holds the least significant group.
func appendLPBacklen(dst []byte, l int) []byte {
	n := lpBacklenSize(l)
	for i := n - 1; i >= 0; i-- {
		b := byte(l>>(7*uint(i))) & 127
		if i != n-1 {
			b |= 128
		}
		dst = append(dst, b)
	}
	return dst
}

// lpEntrySize is the full size (encoding, data, backlen) of elem as a
// listpack entry.
func lpEntrySize(elem []byte) int {
	var l int
	if v, ok := parseCanonicalInt(elem); ok {
		l = lpIntSize(v)
	} else {
		l = lpStrHeaderSize(len(elem)) + len(elem)
	}
	return l + lpBacklenSize(l)
}

// appendLPInt appends v as a listpack integer entry with its backlen.
func appendLPInt(dst []byte, v int64) []byte {
	l := lpIntSize(v)
	switch l {
	case 1:
		dst = append(dst, byte(v))
	case 2:
		u := uint16(v) & 0x1FFF
		dst = append(dst, 0xC0|byte(u>>8), byte(u))
	case 3:
		dst = append(dst, 0xF1)
		dst = binary.LittleEndian.AppendUint16(dst, uint16(v))
	case 4:
		u := uint32(v)
		dst = append(dst, 0xF2, byte(u), byte(u>>8), byte(u>>16))
	case 5:
		dst = append(dst, 0xF3)
		dst = binary.LittleEndian.AppendUint32(dst, uint32(v))
	default:
		dst = append(dst, 0xF4)
		dst = binary.LittleEndian.AppendUint64(dst, uint64(v))
	}
	return appendLPBacklen(dst, l)
}

// appendLPString appends s as a listpack string entry (never as an
// integer) with its backlen.
func appendLPString(dst []byte, s []byte) []byte {
	n := len(s)
	switch {
	case n <= 63:
		dst = append(dst, 0x80|byte(n))
	case n <= 4095:
		dst = append(dst, 0xE0|byte(n>>8), byte(n))
	default:
		dst = append(dst, 0xF0)
		dst = binary.LittleEndian.AppendUint32(dst, uint32(n))
	}
	dst = append(dst, s...)
	return appendLPBacklen(dst, lpStrHeaderSize(n)+n)
}

// appendLPEntry appends elem as Redis's listpack stores a string element:
// an integer entry when it is a canonical int64, a string entry otherwise.
func appendLPEntry(dst []byte, elem []byte) []byte {
	if v, ok := parseCanonicalInt(elem); ok {
		return appendLPInt(dst, v)
	}
	return appendLPString(dst, elem)
}

// listpack builds one listpack in buf.
type listpack struct {
	buf   []byte
	count int
}

// reset starts an empty listpack reusing buf's memory.
func (lp *listpack) reset(buf []byte) {
	lp.buf = append(buf[:0], 0, 0, 0, 0, 0, 0)
	lp.count = 0
}

func (lp *listpack) add(elem []byte) {
	lp.buf = appendLPEntry(lp.buf, elem)
	lp.count++
}

func (lp *listpack) addInt(v int64) {
	lp.buf = appendLPInt(lp.buf, v)
	lp.count++
}

func (lp *listpack) addString(s []byte) {
	lp.buf = appendLPString(lp.buf, s)
	lp.count++
}

// finish terminates the listpack, fills its header and returns it.
func (lp *listpack) finish() []byte {
	lp.buf = append(lp.buf, 0xFF)
	binary.LittleEndian.PutUint32(lp.buf[0:4], uint32(len(lp.buf)))
	c := lp.count
	if c > lpCountUnknown {
		c = lpCountUnknown
	}
	binary.LittleEndian.PutUint16(lp.buf[4:6], uint16(c))
	return lp.buf
}

// addScore appends a sorted-set score as Redis 7.0's listpack zset holds
// it (observed on the oracle): an integral score within ±2^62 as an
// integer entry (so -0 becomes 0); ±infinity as "inf"/"-inf"; anything
// else as C's "%.17g" (0.1 is "0.10000000000000001", 1e20 "1e+20").
func (lp *listpack) addScore(f float64) {
	if f >= -(1<<62) && f <= 1<<62 {
		if i := int64(f); float64(i) == f {
			lp.addInt(i)
			return
		}
	}
	var tmp [32]byte
	lp.addString(formatScore(tmp[:0], f))
}

// formatScore appends f's text as Redis's d2string writes a non-integral
// score: "inf", "-inf", "nan", else "%.17g". Go's 'g' with precision 17
// trims trailing zeros and switches to an exponent at the same points as
// C's %g, with at least two exponent digits, as C does.
func formatScore(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	case math.IsNaN(f):
		return append(dst, "nan"...)
	}
	return strconv.AppendFloat(dst, f, 'g', 17, 64)
}

// appendIntset appends an intset blob holding ints: u32 LE width (2, 4 or
// 8, the smallest holding every value), u32 LE count, the values sorted
// ascending, little-endian. ints is sorted in place.
func appendIntset(dst []byte, ints []int64) []byte {
	slices.Sort(ints)
	width := 2
	for _, v := range ints {
		if v < math.MinInt32 || v > math.MaxInt32 {
			width = 8
			break
		}
		if v < math.MinInt16 || v > math.MaxInt16 {
			width = 4
		}
	}
	dst = binary.LittleEndian.AppendUint32(dst, uint32(width))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(ints)))
	for _, v := range ints {
		switch width {
		case 2:
			dst = binary.LittleEndian.AppendUint16(dst, uint16(v))
		case 4:
			dst = binary.LittleEndian.AppendUint32(dst, uint32(v))
		default:
			dst = binary.LittleEndian.AppendUint64(dst, uint64(v))
		}
	}
	return dst
}
