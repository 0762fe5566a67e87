package quicklist

// Redis 7.0 listpack size model.
//
// Celerity does not store lists as listpacks, but a few observable behaviours
// of Redis depend on listpack byte sizes: how Redis 7.0 splits a quicklist into
// nodes (visible through DEBUG OBJECT ql_nodes / ql_uncompressed_size), and,
// from Redis 7.2 on, whether a list is encoded as "listpack" or "quicklist".
// The functions here reproduce those sizes and rules so the engine can report
// them; the values were checked against a real redis-server 7.0.15 (see
// listpack_test.go for the recorded measurements).

const (
	// ObjectEncoding is what OBJECT ENCODING reports for every list in Redis
	// 7.0.x. 7.0 always stores lists as a quicklist, however small (the
	// "listpack" list encoding only appeared in 7.2), so there is no
	// conversion to track: a one-element list reports "quicklist" too.
	ObjectEncoding = "quicklist"

	// ListpackHeaderBytes is the fixed cost of an empty listpack: a 4-byte
	// total length, a 2-byte element count and the 1-byte terminator.
	ListpackHeaderBytes = 7

	// sizeSafetyLimit is the hard node cap Redis applies to positive
	// (count-based) fill values and to negative ones beyond the table.
	sizeSafetyLimit = 8192
	// sizeEstimateOverhead is the slack Redis 7.0 adds to an element's raw
	// length when deciding whether a push still fits the current node.
	sizeEstimateOverhead = 8
	// packedThreshold: elements at least this large get a dedicated "plain"
	// node in Redis 7.0 regardless of fill.
	packedThreshold = 1 << 30

	// Fill (list-max-listpack-size) is clamped by Redis into this range.
	minFill = -5
	maxFill = 1<<15 - 1
)

// ClampFill returns fill as Redis stores it: values below -5 act as -5 and
// values above 32767 act as 32767 (DEBUG OBJECT ql_listpack_max shows the
// clamped value).
func ClampFill(fill int) int {
	if fill < minFill {
		return minFill
	}
	if fill > maxFill {
		return maxFill
	}
	return fill
}

// FillByteLimit returns the node byte limit for a negative fill (-1..-5 →
// 4, 8, 16, 32, 64 KiB) and the 8 KiB safety limit otherwise.
func FillByteLimit(fill int) int {
	fill = ClampFill(fill)
	if fill < 0 {
		return 4096 << (-fill - 1)
	}
	return sizeSafetyLimit
}

// ListpackEntrySize returns the bytes Redis's listpack uses for element v:
// encoding header + payload + backlen. Strings that parse as a canonical
// 64-bit integer are stored as integers, exactly as lpAppend does.
func ListpackEntrySize(v []byte) int {
	if len(v) <= 20 {
		if x, ok := parseCanonicalInt(v); ok {
			switch {
			case x >= 0 && x <= 127:
				return 2 // 7-bit uint + backlen
			case x >= -4096 && x <= 4095:
				return 3 // 13-bit int
			case x >= -32768 && x <= 32767:
				return 4 // 16-bit int
			case x >= -8388608 && x <= 8388607:
				return 5 // 24-bit int
			case x >= -2147483648 && x <= 2147483647:
				return 6 // 32-bit int
			default:
				return 10 // 64-bit int
			}
		}
	}
	n := len(v)
	var l int
	switch {
	case n < 64:
		l = 1 + n // 6-bit length string
	case n < 4096:
		l = 2 + n // 12-bit length string
	default:
		l = 5 + n // 32-bit length string
	}
	return l + backlenSize(l)
}

// backlenSize is the size of the reverse-encoded entry length in a listpack.
func backlenSize(l int) int {
	switch {
	case l < 1<<7:
		return 1
	case l < 1<<14:
		return 2
	case l < 1<<21:
		return 3
	case l < 1<<28:
		return 4
	default:
		return 5
	}
}

// parseCanonicalInt accepts exactly the strings Redis stores as listpack
// integers: optional '-', no leading zeros (except "0" itself), no '+', no
// spaces, and within int64. "-0", "007" and " 5" stay strings.
func parseCanonicalInt(s []byte) (int64, bool) {
	if len(s) == 0 || len(s) > 20 {
		return 0, false
	}
	if len(s) == 1 && s[0] == '0' {
		return 0, true
	}
	neg := false
	i := 0
	if s[0] == '-' {
		neg = true
		i = 1
		if len(s) == 1 {
			return 0, false
		}
	}
	if s[i] < '1' || s[i] > '9' {
		return 0, false
	}
	var u uint64
	for ; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if u > (1<<64-1-d)/10 {
			return 0, false
		}
		u = u*10 + d
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true // -1<<63 wraps to itself, which is correct
	}
	if u > 1<<63-1 {
		return 0, false
	}
	return int64(u), true
}

// NodeAllowsInsert reproduces Redis 7.0's decision, on LPUSH/RPUSH, whether an
// element of elemLen raw bytes may join an existing quicklist node whose
// listpack is nodeBytes long and holds nodeCount entries (otherwise Redis
// starts a new node). The size test uses the raw length plus a fixed 8-byte
// estimate, not the exact entry size — that is why a node of 1-byte strings
// splits at 8185 bytes rather than 8192.
func NodeAllowsInsert(fill, nodeBytes, nodeCount, elemLen int) bool {
	if nodeCount == 0 {
		return true
	}
	if elemLen >= packedThreshold {
		return false
	}
	fill = ClampFill(fill)
	newSz := nodeBytes + elemLen + sizeEstimateOverhead
	if fill < 0 {
		return newSz <= FillByteLimit(fill)
	}
	return newSz <= sizeSafetyLimit && nodeCount < fill
}

// ListpackBytes returns the size a single Redis listpack holding the whole
// list would have (header and terminator included). O(1).
func (l *List) ListpackBytes() int { return ListpackHeaderBytes + l.lp }

// FitsSingleListpack reports whether the whole list is within one listpack
// node's limits for the given list-max-listpack-size: for negative fill the
// listpack byte size is within 4..64 KiB, for positive fill the entry count is
// within fill and the bytes within the 8 KiB safety limit. A list of at most
// one element always fits (Redis never splits a single element). This is the
// static check; to replay Redis's push-by-push split decision use
// NodeAllowsInsert. Redis 7.0 still reports ObjectEncoding for such lists.
func (l *List) FitsSingleListpack(fill int) bool {
	if l.count <= 1 {
		return true
	}
	fill = ClampFill(fill)
	b := l.ListpackBytes()
	if fill < 0 {
		return b <= FillByteLimit(fill)
	}
	return l.count <= fill && b <= sizeSafetyLimit
}
