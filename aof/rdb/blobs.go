package rdb

import (
	"encoding/binary"
	"strconv"
)

// The decoders below read the compact encodings Redis stores as one RDB
// string: listpack, ziplist, intset, zipmap. Each validates the whole blob
// against its real size before trusting any of it, the way Redis's deep
// integrity checks do: header totals match, every entry stays inside, the
// terminator is exactly at the end, counts agree when known. String
// entries are returned as sub-slices of blob capped at their own length
// (blob is a fresh allocation owned by the caller, and appending to one
// entry can never overwrite the next); integer entries become their
// decimal text.

// entryCap bounds the first allocation of an entry slice: a blob's count
// field is only a claim, but every entry takes at least one byte.
func entryCap(claimed, size int) int { return min(claimed, size, 1024) }

// decodeListpack returns the entries of a listpack: u32 LE total bytes,
// u16 LE count (65535 = unknown), entries, 0xFF. Each entry is an
// encoding with its data followed by a backlen (1 to 5 bytes, 7 bits each)
// holding the length of encoding and data.
func decodeListpack(lp []byte) ([][]byte, error) {
	const header = 6
	if len(lp) < header+1 {
		return nil, bad("Listpack integrity check failed (%d bytes)", len(lp))
	}
	if uint64(binary.LittleEndian.Uint32(lp)) != uint64(len(lp)) {
		return nil, bad("Listpack integrity check failed (header size mismatch)")
	}
	if lp[len(lp)-1] != 0xFF {
		return nil, bad("Listpack integrity check failed (no terminator)")
	}
	claimed := int(binary.LittleEndian.Uint16(lp[4:]))
	out := make([][]byte, 0, entryCap(claimed, len(lp)))
	end := len(lp) - 1 // the terminator
	p := header
	for p < end {
		b := lp[p]
		var hdr, n int // encoding bytes, data bytes
		var num int64
		isInt := true
		rest := end - p // bytes available before the terminator
		switch {
		case b&0x80 == 0:
			hdr, num = 1, int64(b)
		case b&0xC0 == 0x80:
			hdr, n, isInt = 1, int(b&0x3f), false
		case b&0xE0 == 0xC0:
			if rest < 2 {
				return nil, lpTruncated()
			}
			hdr = 2
			u := int64(b&0x1f)<<8 | int64(lp[p+1])
			if u >= 1<<12 {
				u -= 1 << 13
			}
			num = u
		case b&0xF0 == 0xE0:
			if rest < 2 {
				return nil, lpTruncated()
			}
			hdr, n, isInt = 2, int(b&0x0f)<<8|int(lp[p+1]), false
		case b == 0xF0:
			if rest < 5 {
				return nil, lpTruncated()
			}
			l := uint64(binary.LittleEndian.Uint32(lp[p+1:]))
			if l > uint64(rest) {
				return nil, lpTruncated()
			}
			hdr, n, isInt = 5, int(l), false
		case b >= 0xF1 && b <= 0xF4:
			size := [...]int{2, 3, 4, 8}[b-0xF1]
			if rest < 1+size {
				return nil, lpTruncated()
			}
			hdr = 1 + size
			d := lp[p+1 : p+1+size]
			var u uint64
			for i := size - 1; i >= 0; i-- {
				u = u<<8 | uint64(d[i])
			}
			shift := uint(64 - 8*size)
			num = int64(u<<shift) >> shift // sign-extend
		default:
			return nil, bad("Listpack integrity check failed (bad encoding 0x%02x)", b)
		}
		encLen := hdr + n
		if encLen > rest {
			return nil, lpTruncated()
		}
		var back [5]byte
		bl := encodeBacklen(back[:], encLen)
		if encLen+bl > rest || string(lp[p+encLen:p+encLen+bl]) != string(back[:bl]) {
			return nil, bad("Listpack integrity check failed (backlen)")
		}
		if isInt {
			out = append(out, strconv.AppendInt(nil, num, 10))
		} else {
			s := p + hdr
			out = append(out, lp[s:s+n:s+n])
		}
		p += encLen + bl
	}
	if claimed != 0xFFFF && claimed != len(out) {
		return nil, bad("Listpack integrity check failed (count %d, found %d)", claimed, len(out))
	}
	return out, nil
}

func lpTruncated() error { return bad("Listpack integrity check failed (entry overflows)") }

// encodeBacklen writes the backlen for an entry of l bytes into buf and
// returns its size: big-endian groups of 7 bits, every byte but the first
// flagged with 0x80, so it can be read from its last byte backwards.
func encodeBacklen(buf []byte, l int) int {
	n := 1
	for x := l >> 7; x > 0; x >>= 7 {
		n++
	}
	for i := n - 1; i >= 0; i-- {
		buf[i] = byte(l & 0x7f)
		if i != 0 {
			buf[i] |= 0x80
		}
		l >>= 7
	}
	return n
}

// decodeZiplist returns the entries of a ziplist: u32 LE zlbytes, u32 LE
// zltail (offset of the last entry), u16 LE zllen (65535 = unknown),
// entries, 0xFF. An entry is the previous entry's length (1 byte below
// 254, or 0xFE and u32 LE), an encoding, and its data.
func decodeZiplist(zl []byte) ([][]byte, error) {
	const header = 10
	if len(zl) < header+1 || uint64(binary.LittleEndian.Uint32(zl)) != uint64(len(zl)) {
		return nil, bad("Ziplist integrity check failed (header size mismatch)")
	}
	if zl[len(zl)-1] != 0xFF {
		return nil, bad("Ziplist integrity check failed (no terminator)")
	}
	tail := uint64(binary.LittleEndian.Uint32(zl[4:]))
	if tail > uint64(len(zl)-1) {
		return nil, bad("Ziplist integrity check failed (tail offset)")
	}
	claimed := int(binary.LittleEndian.Uint16(zl[8:]))
	out := make([][]byte, 0, entryCap(claimed, len(zl)))
	end := len(zl) - 1
	p, prev, prevLen := header, -1, 0
	for p < end {
		start := p
		// previous entry length
		var pl int
		if zl[p] < 0xFE {
			pl = int(zl[p])
			p++
		} else if zl[p] == 0xFE {
			if end-p < 5 {
				return nil, zlTruncated()
			}
			pl = int(binary.LittleEndian.Uint32(zl[p+1:]))
			p += 5
		} else {
			return nil, bad("Ziplist integrity check failed (prevlen 0xff)")
		}
		if pl != prevLen {
			return nil, bad("Ziplist integrity check failed (prevlen %d, previous entry %d)", pl, prevLen)
		}
		if p >= end {
			return nil, zlTruncated()
		}
		b := zl[p]
		rest := end - p
		var hdr, n, size int // encoding bytes; string bytes; int bytes
		var num int64
		isInt := true
		switch {
		case b>>6 == 0:
			hdr, n, isInt = 1, int(b&0x3f), false
		case b>>6 == 1:
			if rest < 2 {
				return nil, zlTruncated()
			}
			hdr, n, isInt = 2, int(b&0x3f)<<8|int(zl[p+1]), false
		case b>>6 == 2:
			// Redis reads the length from the next four bytes and ignores
			// the low bits of this one.
			if rest < 5 {
				return nil, zlTruncated()
			}
			l := uint64(binary.BigEndian.Uint32(zl[p+1:]))
			if l > uint64(rest) {
				return nil, zlTruncated()
			}
			hdr, n, isInt = 5, int(l), false
		case b == 0xC0:
			hdr, size = 1, 2
		case b == 0xD0:
			hdr, size = 1, 4
		case b == 0xE0:
			hdr, size = 1, 8
		case b == 0xF0:
			hdr, size = 1, 3
		case b == 0xFE:
			hdr, size = 1, 1
		case b >= 0xF1 && b <= 0xFD:
			hdr, num = 1, int64(b&0x0f)-1
		default:
			return nil, bad("Ziplist integrity check failed (bad encoding 0x%02x)", b)
		}
		if hdr+n+size > rest {
			return nil, zlTruncated()
		}
		if isInt && size > 0 {
			d := zl[p+1 : p+1+size]
			var u uint64
			for i := size - 1; i >= 0; i-- {
				u = u<<8 | uint64(d[i])
			}
			shift := uint(64 - 8*size)
			num = int64(u<<shift) >> shift
		}
		if isInt {
			out = append(out, strconv.AppendInt(nil, num, 10))
		} else {
			s := p + hdr
			out = append(out, zl[s:s+n:s+n])
		}
		p += hdr + n + size
		prevLen, prev = p-start, start
	}
	if prev >= 0 && uint64(prev) != tail {
		return nil, bad("Ziplist integrity check failed (tail offset)")
	}
	if claimed != 0xFFFF && claimed != len(out) {
		return nil, bad("Ziplist integrity check failed (count %d, found %d)", claimed, len(out))
	}
	return out, nil
}

func zlTruncated() error { return bad("Ziplist integrity check failed (entry overflows)") }

// decodeIntset returns the members of an intset as decimal text: u32 LE
// width (2, 4 or 8), u32 LE count, then count signed little-endian
// integers in strictly ascending order. An empty intset is corrupt, not an
// empty key, as Redis's integrity check has it.
func decodeIntset(is []byte) ([][]byte, error) {
	if len(is) < 8 {
		return nil, bad("Intset integrity check failed (%d bytes)", len(is))
	}
	width := binary.LittleEndian.Uint32(is)
	if width != 2 && width != 4 && width != 8 {
		return nil, bad("Intset integrity check failed (width %d)", width)
	}
	count := uint64(binary.LittleEndian.Uint32(is[4:]))
	if count*uint64(width) != uint64(len(is)-8) || count == 0 {
		return nil, bad("Intset integrity check failed (count %d, width %d, %d bytes)", count, width, len(is))
	}
	out := make([][]byte, 0, count)
	var last int64
	for i := 0; i < int(count); i++ {
		d := is[8+i*int(width):]
		var v int64
		switch width {
		case 2:
			v = int64(int16(binary.LittleEndian.Uint16(d)))
		case 4:
			v = int64(int32(binary.LittleEndian.Uint32(d)))
		default:
			v = int64(binary.LittleEndian.Uint64(d))
		}
		if i > 0 && v <= last {
			return nil, bad("Intset integrity check failed (not sorted or duplicate)")
		}
		last = v
		out = append(out, strconv.AppendInt(nil, v, 10))
	}
	return out, nil
}

// decodeZipmap returns the pairs of a zipmap (hashes of Redis ≤ 2.4): a
// u8 count (254 or more = unknown), then per pair a key length (1 byte
// below 254, or 254 and u32 LE), the key, a value length, one byte of
// free space count, the value and the free bytes; 0xFF ends it. As in
// Redis's check, an empty zipmap or duplicate keys are corrupt.
func decodeZipmap(zm []byte) ([]FieldValue, error) {
	if len(zm) < 2 || zm[len(zm)-1] != 0xFF {
		return nil, bad("Zipmap integrity check failed")
	}
	end := len(zm) - 1
	p := 1
	// length reads one length field; ok false on overflow or the end mark.
	length := func() (int, bool) {
		if p >= end {
			return 0, false
		}
		switch b := zm[p]; {
		case b < 254:
			p++
			return int(b), true
		case b == 254:
			if end-p < 5 {
				return 0, false
			}
			l := binary.LittleEndian.Uint32(zm[p+1:])
			p += 5
			// a length below 254 in the long form would be misread by
			// Redis's own walk; refuse it.
			return int(l), l >= 254
		}
		return 0, false
	}
	var out []FieldValue
	seen := map[string]struct{}{}
	for p < end {
		kl, ok := length()
		if !ok || kl > end-p {
			return nil, bad("Zipmap integrity check failed")
		}
		key := zm[p : p+kl : p+kl]
		p += kl
		vl, ok := length()
		if !ok || p >= end {
			return nil, bad("Zipmap integrity check failed")
		}
		free := int(zm[p])
		p++
		if vl > end-p || free > end-p-vl {
			return nil, bad("Zipmap integrity check failed")
		}
		val := zm[p : p+vl : p+vl]
		p += vl + free
		if _, dup := seen[string(key)]; dup {
			return nil, bad("Hash zipmap with dup elements")
		}
		seen[string(key)] = struct{}{}
		out = append(out, FieldValue{Field: key, Value: val})
	}
	if len(out) == 0 || (zm[0] < 254 && int(zm[0]) != len(out)) {
		return nil, bad("Zipmap integrity check failed (count)")
	}
	return out, nil
}
