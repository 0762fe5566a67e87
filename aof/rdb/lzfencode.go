package rdb

// An LZF compressor (the format of liblzf, which Redis uses for strings in
// RDB files and DUMP payloads). The stream is a sequence of:
//
//   - literal runs: a control byte 0..31 holding the run length - 1, then
//     that many bytes;
//   - back references: a control byte whose top 3 bits hold length - 2
//     (7 meaning "add the next byte") and whose low 5 bits are the high
//     bits of offset - 1, then (the extra length byte and) the low byte of
//     offset - 1. Lengths are 3..264, offsets 1..8192; a reference may
//     overlap the bytes it produces.
//
// This is an independent implementation: a greedy matcher over a hash of
// 3-byte sequences. Its output is valid LZF that Redis's lzf_decompress
// reproduces exactly, but it is NOT byte-identical to liblzf's, so a
// compressed string's bytes (and so a DUMP payload's) can differ from what
// Redis writes for the same value, and its size can differ by a few bytes.

const (
	lzfMaxLit     = 32
	lzfMaxOff     = 1 << 13
	lzfMaxRef     = 7 + 255 + 2
	lzfMaxHashLog = 14
	lzfMinHashLog = 8
)

// lzfTable is the compressor's hash table, kept between calls so small
// strings don't each allocate and clear 64 KB.
type lzfTable []int32

// lzfCompress appends the LZF compression of src to dst and reports
// whether it fit in maxOut bytes; on false dst is returned as given
// (possibly with grown capacity), as liblzf returns 0 when the output
// buffer is too small. t may be nil.
func lzfCompress(t *lzfTable, dst, src []byte, maxOut int) ([]byte, bool) {
	start := len(dst)
	n := len(src)
	if n == 0 {
		return dst, true
	}
	hashLog := lzfMinHashLog
	for hashLog < lzfMaxHashLog && 1<<hashLog < n {
		hashLog++
	}
	if t == nil {
		t = new(lzfTable)
	}
	if len(*t) < 1<<hashLog {
		*t = make(lzfTable, 1<<hashLog)
	}
	table := (*t)[:1<<hashLog] // position + 1; 0 is empty
	clear(table)
	shift := uint(32 - hashLog)
	hash := func(i int) uint32 {
		v := uint32(src[i])<<16 | uint32(src[i+1])<<8 | uint32(src[i+2])
		return (v * 2654435761) >> shift
	}
	litStart := 0 // first byte of the pending literal run
	flushLits := func(end int) {
		for litStart < end {
			k := end - litStart
			if k > lzfMaxLit {
				k = lzfMaxLit
			}
			dst = append(dst, byte(k-1))
			dst = append(dst, src[litStart:litStart+k]...)
			litStart += k
		}
	}
	i := 0
	for i+2 < n {
		if len(dst)-start > maxOut {
			return dst[:start], false
		}
		h := hash(i)
		ref := int(table[h]) - 1
		table[h] = int32(i + 1)
		if ref < 0 || i-ref > lzfMaxOff || src[ref] != src[i] || src[ref+1] != src[i+1] || src[ref+2] != src[i+2] {
			i++
			continue
		}
		l := 3
		for l < lzfMaxRef && i+l < n && src[ref+l] == src[i+l] {
			l++
		}
		flushLits(i)
		off := i - ref - 1
		if l-2 < 7 {
			dst = append(dst, byte((l-2)<<5|off>>8), byte(off))
		} else {
			dst = append(dst, byte(7<<5|off>>8), byte(l-2-7), byte(off))
		}
		// Index the positions the match covers so later data can refer
		// to them.
		end := i + l
		for j := i + 1; j < end && j+2 < n; j++ {
			table[hash(j)] = int32(j + 1)
		}
		i = end
		litStart = i
	}
	flushLits(n)
	if len(dst)-start > maxOut {
		return dst[:start], false
	}
	return dst, true
}
