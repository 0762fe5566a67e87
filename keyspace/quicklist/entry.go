package quicklist

// Entry format inside a node arena
//
// Each element is stored as
//
//	[len: forward varint][data: len bytes][len: backward varint]
//
// The forward varint is little-endian 7-bit groups with the high bit set on
// every byte except the last, so the entry can be decoded from its first
// byte. The backward varint holds the same groups mirrored: the byte just
// before the end of the entry carries the lowest group, and a set high bit
// means "one more group precedes me". That lets PopTail and reverse walks find
// the start of the last entry in O(1) without an offsets table, which keeps
// the per-element overhead at 2 bytes for elements under 128 bytes and 4 bytes
// for elements under 16 KiB (the same order as Redis's listpack, whose
// encoding byte + backlen cost 2-4 bytes for typical strings).

// lenSize reports how many bytes the varint encoding of x takes.
func lenSize(x int) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// entrySize is the number of arena bytes an element of length vlen occupies.
func entrySize(vlen int) int {
	if vlen < 0x80 {
		return vlen + 2
	}
	return vlen + 2*lenSize(vlen)
}

// putEntry encodes v into b, which must be exactly entrySize(len(v)) bytes.
func putEntry(b []byte, v []byte) {
	n := len(v)
	if n < 0x80 {
		// Fast path: single-byte lengths on both sides.
		b[0] = byte(n)
		copy(b[1:], v)
		b[n+1] = byte(n)
		return
	}
	i := 0
	for x := n; ; x >>= 7 {
		if x < 0x80 {
			b[i] = byte(x)
			i++
			break
		}
		b[i] = byte(x) | 0x80
		i++
	}
	copy(b[i:], v)
	j := len(b) - 1
	for x := n; ; x >>= 7 {
		if x < 0x80 {
			b[j] = byte(x)
			break
		}
		b[j] = byte(x) | 0x80
		j--
	}
}

// readHeader decodes the forward length at b[off]. It returns the element
// length and the size of the length field.
func readHeader(b []byte, off int) (n, h int) {
	c := b[off]
	if c < 0x80 {
		return int(c), 1
	}
	n = int(c & 0x7f)
	shift := 7
	i := off + 1
	for {
		c = b[i]
		i++
		n |= int(c&0x7f) << shift
		if c < 0x80 {
			return n, i - off
		}
		shift += 7
	}
}

// readTrailer decodes the backward length of the entry that ends at b[end-1].
// It returns the element length and the size of the length field.
func readTrailer(b []byte, end int) (n, h int) {
	i := end - 1
	c := b[i]
	if c < 0x80 {
		return int(c), 1
	}
	n = int(c & 0x7f)
	shift := 7
	for {
		i--
		c = b[i]
		n |= int(c&0x7f) << shift
		if c < 0x80 {
			return n, end - i
		}
		shift += 7
	}
}

// entryAt returns the element starting at off and the offset just past it.
func entryAt(b []byte, off int) (v []byte, next int) {
	n, h := readHeader(b, off)
	s := off + h
	return b[s : s+n : s+n], s + n + h
}

// entryBefore returns the element ending at end and the offset where it starts.
func entryBefore(b []byte, end int) (v []byte, start int) {
	n, h := readTrailer(b, end)
	e := end - h
	return b[e-n : e : e], e - n - h
}
