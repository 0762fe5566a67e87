package quicklist

import (
	"bytes"
	"slices"
	"unsafe"
)

const (
	// maxNodeBytes caps a node's arena. 32 KiB is the largest Go small-object
	// size class, so a full arena wastes nothing to rounding and the
	// allocator serves it from a per-P cache (larger sizes go to the heap
	// lock). With ~1 KiB messages a node holds 31 of them, leaving under 30
	// bytes of slack per element; Redis's 8 KiB listpacks hold only 7
	// (7203 bytes in an 8 KiB jemalloc class), ~150 bytes of overhead each.
	maxNodeBytes = 32 << 10

	// maxNodeEntries bounds the in-node linear walk for LINDEX/LSET/LINSERT
	// on lists of tiny elements (Redis's 8 KiB node holds up to ~4000).
	maxNodeEntries = 1024

	// minArena is the smallest arena we bother shrinking to.
	minArena = 256
)

// node is a chunk of consecutive list elements packed into one arena.
// Live entries occupy buf[lo:hi]; the free space on both sides lets pushes at
// either end of the node run without moving data.
type node struct {
	buf []byte // len(buf) == cap(buf)
	lo  int
	hi  int
	n   int // number of entries
	lp  int // sum of Redis listpack entry sizes of the entries
}

func (nd *node) live() int { return nd.hi - nd.lo }

// List is a deque of byte strings. The zero value is an empty list ready to
// use. A List is not safe for concurrent use.
type List struct {
	ring  []node // ring buffer of nodes; len(ring) is 0 or a power of two
	head  int    // ring index of the first node
	nn    int    // number of nodes
	count int    // number of elements
	lp    int    // sum of node.lp
	arena int    // total cap of all node arenas plus spare
	spare []byte // one recycled arena from a drained node
}

// New returns an empty list.
func New() *List { return &List{} }

// Len returns the number of elements.
func (l *List) Len() int { return l.count }

// NodeCount returns the number of internal nodes.
func (l *List) NodeCount() int { return l.nn }

// Bytes returns the approximate heap footprint of the list in bytes: the
// List header, the node table and every arena (including the recycled one).
// O(1).
func (l *List) Bytes() int {
	return int(unsafe.Sizeof(*l)) + cap(l.ring)*int(unsafe.Sizeof(node{})) + l.arena
}

// Reset empties the list. It may keep one arena for reuse.
func (l *List) Reset() {
	for p := 0; p < l.nn; p++ {
		l.recycle(l.nd(p).buf)
		*l.nd(p) = node{}
	}
	l.head, l.nn, l.count, l.lp = 0, 0, 0, 0
	if len(l.ring) > 8 {
		l.ring = nil
	}
}

// nd returns the node at position p (0 = head node).
func (l *List) nd(p int) *node { return &l.ring[(l.head+p)&(len(l.ring)-1)] }

// ---- arena management ----

// alloc returns an arena of at least size bytes, reusing the spare when it is
// big enough. The arena's length is its full capacity (the allocator's size
// class rounding is usable space).
func (l *List) alloc(size int) []byte {
	if s := l.spare; s != nil && cap(s) >= size {
		l.spare = nil
		return s[:cap(s)]
	}
	return l.allocFresh(size)
}

func (l *List) allocFresh(size int) []byte {
	b := slices.Grow([]byte(nil), size)
	b = b[:cap(b)]
	l.arena += len(b)
	return b
}

// dropSpare releases the recycled arena.
func (l *List) dropSpare() {
	l.arena -= cap(l.spare)
	l.spare = nil
}

// shrinkIfSparse moves nd into a smaller arena when it uses under a quarter
// of its current one. Growth doubles and shrinking halves at least twice, so
// a node cannot thrash between the two.
func (l *List) shrinkIfSparse(nd *node) {
	live := nd.live()
	if len(nd.buf) <= minArena || len(nd.buf) <= 4*live {
		return
	}
	b := l.allocFresh(max(2*live, minArena))
	copy(b, nd.buf[nd.lo:nd.hi])
	l.replaceBuf(nd, b)
	nd.lo, nd.hi = 0, live
}

// recycle keeps b (an arena about to leave node use) as the spare if it is a
// normal-sized one, larger than the current spare, and either the list still
// has two or more other nodes (a deep queue that will soon need a fresh
// arena) or b is the last arena of a list being emptied (a queue that
// oscillates around empty would otherwise allocate on every push). A list
// that shrinks to one node does not keep an idle spare.
func (l *List) recycle(b []byte) {
	if (l.nn > 2 || l.nn == 1) && cap(b) <= maxNodeBytes && cap(b) > cap(l.spare) {
		l.arena -= cap(l.spare)
		l.spare = b
		return
	}
	l.arena -= cap(b)
}

// replaceBuf swaps nd's arena for b (already accounted by alloc).
func (l *List) replaceBuf(nd *node, b []byte) {
	l.arena -= cap(nd.buf)
	nd.buf = b
}

// ---- node table (ring) ----

func (l *List) growRing() {
	l.resizeRing(max(2*len(l.ring), 1))
}

// resizeRing moves the nodes into a ring of c slots (a power of two >= nn).
func (l *List) resizeRing(c int) {
	r := make([]node, c)
	for p := 0; p < l.nn; p++ {
		r[p] = *l.nd(p)
	}
	l.ring, l.head = r, 0
}

// insertNode inserts x so that it becomes node p, shifting the shorter side.
func (l *List) insertNode(p int, x node) {
	if l.nn == len(l.ring) {
		l.growRing()
	}
	mask := len(l.ring) - 1
	if p < l.nn-p {
		l.head = (l.head - 1) & mask
		for i := 0; i < p; i++ {
			*l.nd(i) = *l.nd(i + 1)
		}
	} else {
		for i := l.nn; i > p; i-- {
			*l.nd(i) = *l.nd(i - 1)
		}
	}
	l.nn++
	*l.nd(p) = x
}

// removeNode drops node p (whose elements must already be accounted for) and
// recycles its arena.
func (l *List) removeNode(p int) {
	l.recycle(l.nd(p).buf)
	if p < l.nn-1-p {
		for i := p; i > 0; i-- {
			*l.nd(i) = *l.nd(i - 1)
		}
		*l.nd(0) = node{}
		l.head = (l.head + 1) & (len(l.ring) - 1)
	} else {
		for i := p; i < l.nn-1; i++ {
			*l.nd(i) = *l.nd(i + 1)
		}
		*l.nd(l.nn - 1) = node{}
	}
	l.nn--
	if l.nn == 0 {
		l.head = 0
	}
	// Give back a node table that a past burst left mostly empty; halving
	// only below a quarter keeps this amortised O(1).
	if len(l.ring) > 8 && l.nn < len(l.ring)/4 {
		l.resizeRing(len(l.ring) / 2)
	}
}

// newNode builds an empty node able to take need bytes at its head (atHead)
// or tail. Its size follows the neighbouring node so a long list of uniform
// elements gets uniformly sized arenas without regrowth; the first node of a
// list starts exactly-sized and grows geometrically.
func (l *List) newNode(need int, atHead bool) node {
	size := need
	if l.nn > 0 {
		ref := l.nd(l.nn - 1)
		if atHead {
			ref = l.nd(0)
		}
		if c := min(max(ref.live(), len(ref.buf)/2), maxNodeBytes); c > size {
			size = c
		}
	}
	b := l.alloc(size)
	if atHead {
		return node{buf: b, lo: len(b), hi: len(b)}
	}
	return node{buf: b}
}

// roomTail makes need bytes available after nd.hi if that is allowed and
// cheap, and reports whether it did. When the tail side is exhausted but the
// head side has drained (a queue fed at one end and consumed at the other
// while it fits one node), live data is shifted across; this only happens
// when the free space is at least the live data, so each byte shifted pays
// for at least one byte of future pushes and a steady queue never grows.
func (l *List) roomTail(nd *node, need int) bool {
	if nd.n >= maxNodeEntries {
		return false
	}
	c := len(nd.buf)
	if c-nd.hi >= need {
		return true
	}
	live := nd.live()
	free := c - live
	if free >= need && live <= free {
		copy(nd.buf, nd.buf[nd.lo:nd.hi])
		nd.lo, nd.hi = 0, live
		return true
	}
	if live+need > maxNodeBytes {
		return false
	}
	b := l.alloc(min(max(2*c, live+need), maxNodeBytes))
	copy(b, nd.buf[nd.lo:nd.hi])
	l.replaceBuf(nd, b)
	nd.lo, nd.hi = 0, live
	return true
}

// roomHead is the mirror of roomTail for space before nd.lo.
func (l *List) roomHead(nd *node, need int) bool {
	if nd.n >= maxNodeEntries {
		return false
	}
	if nd.lo >= need {
		return true
	}
	c := len(nd.buf)
	live := nd.live()
	free := c - live
	if free >= need && live <= free {
		copy(nd.buf[c-live:], nd.buf[nd.lo:nd.hi])
		nd.lo, nd.hi = c-live, c
		return true
	}
	if live+need > maxNodeBytes {
		return false
	}
	b := l.alloc(min(max(2*c, live+need), maxNodeBytes))
	nc := len(b)
	copy(b[nc-live:], nd.buf[nd.lo:nd.hi])
	l.replaceBuf(nd, b)
	nd.lo, nd.hi = nc-live, nc
	return true
}

// account records one added (+1) or removed (-1) element in nd.
func (l *List) account(nd *node, v []byte, sign int) {
	s := ListpackEntrySize(v) * sign
	nd.n += sign
	nd.lp += s
	l.lp += s
	l.count += sign
}

// ---- push / pop ----

// PushTail appends a copy of v (RPUSH). Amortised O(1).
func (l *List) PushTail(v []byte) {
	need := entrySize(len(v))
	if l.nn == 0 || !l.roomTail(l.nd(l.nn-1), need) {
		l.insertNode(l.nn, l.newNode(need, false))
	}
	nd := l.nd(l.nn - 1)
	putEntry(nd.buf[nd.hi:nd.hi+need], v)
	nd.hi += need
	l.account(nd, v, 1)
}

// PushHead prepends a copy of v (LPUSH). Amortised O(1).
func (l *List) PushHead(v []byte) {
	need := entrySize(len(v))
	if l.nn == 0 || !l.roomHead(l.nd(0), need) {
		l.insertNode(0, l.newNode(need, true))
	}
	nd := l.nd(0)
	putEntry(nd.buf[nd.lo-need:nd.lo], v)
	nd.lo -= need
	l.account(nd, v, 1)
}

// popHeadView removes the first element and returns a view of it that stays
// valid until the next mutation (a drained arena is only recycled, never
// overwritten, before the next push).
func (l *List) popHeadView() ([]byte, bool) {
	if l.count == 0 {
		return nil, false
	}
	nd := l.nd(0)
	v, next := entryAt(nd.buf, nd.lo)
	nd.lo = next
	l.account(nd, v, -1)
	l.afterPop(0)
	return v, true
}

func (l *List) popTailView() ([]byte, bool) {
	if l.count == 0 {
		return nil, false
	}
	p := l.nn - 1
	nd := l.nd(p)
	v, start := entryBefore(nd.buf, nd.hi)
	nd.hi = start
	l.account(nd, v, -1)
	l.afterPop(p)
	return v, true
}

// afterPop drops node p if the pop emptied it; once the list is down to a
// single node, that node's arena is shrunk when sparse and the spare arena is
// released. Before the shrink copies, the popped view is still intact in the
// old arena, which is not reused.
func (l *List) afterPop(p int) {
	nd := l.nd(p)
	if nd.n == 0 {
		l.removeNode(p)
		return
	}
	if l.nn == 1 && len(nd.buf) > 4*nd.live() && len(nd.buf) > minArena {
		l.shrinkIfSparse(nd)
		l.dropSpare()
	}
}

// PopHead removes and returns the first element (LPOP) as a fresh slice the
// caller owns. O(1).
func (l *List) PopHead() ([]byte, bool) {
	v, ok := l.popHeadView()
	if !ok {
		return nil, false
	}
	return append(make([]byte, 0, len(v)), v...), true
}

// PopTail removes and returns the last element (RPOP) as a fresh slice the
// caller owns. O(1).
func (l *List) PopTail() ([]byte, bool) {
	v, ok := l.popTailView()
	if !ok {
		return nil, false
	}
	return append(make([]byte, 0, len(v)), v...), true
}

// PopHeadAppend removes the first element and appends it to dst, avoiding a
// per-pop allocation when dst has room (e.g. a reply buffer).
func (l *List) PopHeadAppend(dst []byte) ([]byte, bool) {
	v, ok := l.popHeadView()
	if !ok {
		return dst, false
	}
	return append(dst, v...), true
}

// PopTailAppend removes the last element and appends it to dst.
func (l *List) PopTailAppend(dst []byte) ([]byte, bool) {
	v, ok := l.popTailView()
	if !ok {
		return dst, false
	}
	return append(dst, v...), true
}

// ---- positional access ----

// locate finds element i (0 <= i < Len): its node p, index k within the node
// and byte offset. Nodes are skipped from the nearer end of the list and the
// entry is walked to from the nearer end of its node.
func (l *List) locate(i int) (p, k, off int) {
	if i < l.count/2 {
		for p = 0; i >= l.nd(p).n; p++ {
			i -= l.nd(p).n
		}
	} else {
		j := l.count - 1 - i // index from the tail
		for p = l.nn - 1; j >= l.nd(p).n; p-- {
			j -= l.nd(p).n
		}
		i = l.nd(p).n - 1 - j
	}
	nd := l.nd(p)
	if i <= nd.n/2 {
		off = nd.lo
		for range i {
			_, off = entryAt(nd.buf, off)
		}
		return p, i, off
	}
	off = nd.hi
	for range nd.n - i {
		_, off = entryBefore(nd.buf, off)
	}
	return p, i, off
}

// norm converts a Redis-style index (negative counts from the tail) to an
// absolute one, reporting whether it is in range.
func (l *List) norm(i int) (int, bool) {
	if i < 0 {
		i += l.count
	}
	return i, i >= 0 && i < l.count
}

// Index returns element i (LINDEX); negative indexes count from the tail.
// The returned slice aliases internal storage: it is valid only until the
// next mutation of the list and must not be modified. O(n) worst case,
// O(1) near either end.
func (l *List) Index(i int) ([]byte, bool) {
	i, ok := l.norm(i)
	if !ok {
		return nil, false
	}
	p, _, off := l.locate(i)
	v, _ := entryAt(l.nd(p).buf, off)
	return v, true
}

// clampRange clips [start, stop] to the list; ok is false if nothing remains.
func (l *List) clampRange(start, stop int) (int, int, bool) {
	if start < 0 {
		start = 0
	}
	if stop >= l.count {
		stop = l.count - 1
	}
	return start, stop, start <= stop
}

// Range calls fn for elements start..stop (inclusive, absolute indices,
// clipped to the list) in order until fn returns false. v aliases internal
// storage and is valid only during the call; fn must not mutate the list.
func (l *List) Range(start, stop int, fn func(v []byte) bool) {
	start, stop, ok := l.clampRange(start, stop)
	if !ok {
		return
	}
	left := stop - start + 1
	p, _, off := l.locate(start)
	for {
		nd := l.nd(p)
		for off < nd.hi {
			var v []byte
			v, off = entryAt(nd.buf, off)
			if !fn(v) {
				return
			}
			if left--; left == 0 {
				return
			}
		}
		p++
		off = l.nd(p).lo
	}
}

// RangeReverse calls fn for elements stop, stop-1, ..., start (absolute,
// clipped) until fn returns false. Same aliasing rules as Range.
func (l *List) RangeReverse(start, stop int, fn func(v []byte) bool) {
	start, stop, ok := l.clampRange(start, stop)
	if !ok {
		return
	}
	left := stop - start + 1
	p, _, off := l.locate(stop)
	_, end := entryAt(l.nd(p).buf, off)
	for {
		nd := l.nd(p)
		for end > nd.lo {
			var v []byte
			v, end = entryBefore(nd.buf, end)
			if !fn(v) {
				return
			}
			if left--; left == 0 {
				return
			}
		}
		p--
		end = l.nd(p).hi
	}
}

// ---- in-node editing ----

// openGap makes size bytes of room at offset at inside nd (between entries),
// moving the shorter side or repacking into a larger arena. It refuses to
// grow the node beyond maxNodeBytes unless force. It returns the gap offset.
func (l *List) openGap(nd *node, at, size int, force bool) (int, bool) {
	c := len(nd.buf)
	front, back := at-nd.lo, nd.hi-at
	if nd.lo >= size && (front <= back || c-nd.hi < size) {
		copy(nd.buf[nd.lo-size:], nd.buf[nd.lo:at])
		nd.lo -= size
		return at - size, true
	}
	if c-nd.hi >= size {
		copy(nd.buf[at+size:], nd.buf[at:nd.hi])
		nd.hi += size
		return at, true
	}
	live := nd.live()
	if c-live >= size {
		// Enough room in total but split across both ends: repack in place,
		// front part to offset 0 first (it only moves left), then the back.
		copy(nd.buf, nd.buf[nd.lo:at])
		copy(nd.buf[front+size:], nd.buf[at:nd.hi])
		nd.lo, nd.hi = 0, live+size
		return front, true
	}
	if live+size > maxNodeBytes && !force {
		return 0, false
	}
	b := l.alloc(max(live+size, min(2*c, maxNodeBytes)))
	copy(b, nd.buf[nd.lo:at])
	copy(b[front+size:], nd.buf[at:nd.hi])
	l.replaceBuf(nd, b)
	nd.lo, nd.hi = 0, live+size
	return front, true
}

// closeGap removes bytes [at, at+size) from nd by moving the shorter side and
// returns the offset at which the data that followed the gap now starts.
func closeGap(nd *node, at, size int) int {
	if at-nd.lo < nd.hi-(at+size) {
		copy(nd.buf[nd.lo+size:], nd.buf[nd.lo:at])
		nd.lo += size
		return at + size
	}
	copy(nd.buf[at:], nd.buf[at+size:nd.hi])
	nd.hi -= size
	return at
}

// insertAt inserts v as the k-th entry of node p, currently at byte offset
// off (k == n, off == hi appends to the node).
func (l *List) insertAt(p, k, off int, v []byte) {
	need := entrySize(len(v))
	nd := l.nd(p)
	if nd.n < maxNodeEntries {
		if g, ok := l.openGap(nd, off, need, false); ok {
			putEntry(nd.buf[g:g+need], v)
			l.account(nd, v, 1)
			return
		}
	}
	// The node is full.
	switch {
	case k == nd.n:
		if p+1 < l.nn && l.roomHead(l.nd(p+1), need) {
			p++
		} else {
			l.insertNode(p+1, l.newNode(need, true))
			p++
		}
		nd = l.nd(p)
		putEntry(nd.buf[nd.lo-need:nd.lo], v)
		nd.lo -= need
	case k == 0:
		if !(p > 0 && l.roomTail(l.nd(p-1), need)) {
			l.insertNode(p, l.newNode(need, false))
			p++
		}
		nd = l.nd(p - 1)
		putEntry(nd.buf[nd.hi:nd.hi+need], v)
		nd.hi += need
	default:
		l.splitNode(p, k, off)
		l.insertAt(p, k, l.nd(p).hi, v)
		return
	}
	l.account(nd, v, 1)
}

// splitNode moves entries k.. of node p (starting at byte off) to a new node
// p+1.
func (l *List) splitNode(p, k, off int) {
	nd := l.nd(p)
	size := nd.hi - off
	b := l.alloc(size)
	copy(b, nd.buf[off:nd.hi])
	right := node{buf: b, lo: 0, hi: size, n: nd.n - k}
	for o := 0; o < size; {
		var v []byte
		v, o = entryAt(b, o)
		right.lp += ListpackEntrySize(v)
	}
	nd.hi = off
	nd.n = k
	nd.lp -= right.lp
	l.insertNode(p+1, right)
}

// Set replaces element i (LSET); negative indexes count from the tail. It
// reports false if i is out of range. v must not alias the list's storage.
func (l *List) Set(i int, v []byte) bool {
	i, ok := l.norm(i)
	if !ok {
		return false
	}
	p, k, off := l.locate(i)
	nd := l.nd(p)
	old, next := entryAt(nd.buf, off)
	oldSize, need := next-off, entrySize(len(v))
	oldLP := ListpackEntrySize(old)
	newLP := ListpackEntrySize(v)
	switch {
	case need == oldSize:
		putEntry(nd.buf[off:next], v)
	case need < oldSize:
		putEntry(nd.buf[off:off+need], v)
		closeGap(nd, off+need, oldSize-need)
	default:
		g, ok := l.openGap(nd, next, need-oldSize, nd.n == 1)
		if !ok {
			// Node full: drop the old entry and insert the new one in
			// its place, letting insertAt split or spill as needed.
			off = closeGap(nd, off, oldSize)
			nd.n--
			nd.lp -= oldLP
			l.lp -= oldLP
			l.count--
			l.insertAt(p, k, off, v)
			return true
		}
		off = g - oldSize
		putEntry(nd.buf[off:off+need], v)
	}
	nd.lp += newLP - oldLP
	l.lp += newLP - oldLP
	return true
}

// Insert inserts v before (or after) the first element equal to pivot,
// scanning from the head (LINSERT). It returns the new length, or -1 if the
// pivot is absent.
func (l *List) Insert(pivot, v []byte, after bool) int {
	for p := 0; p < l.nn; p++ {
		nd := l.nd(p)
		k := 0
		for off := nd.lo; off < nd.hi; k++ {
			e, next := entryAt(nd.buf, off)
			if bytes.Equal(e, pivot) {
				if after {
					l.insertAt(p, k+1, next, v)
				} else {
					l.insertAt(p, k, off, v)
				}
				return l.count
			}
			off = next
		}
	}
	return -1
}

// Remove deletes elements equal to v (LREM): the first count from the head
// if count > 0, the last -count from the tail if count < 0, all if 0. It
// returns the number removed. Each node is compacted in one pass, so the
// cost is O(total bytes) regardless of how many elements match.
func (l *List) Remove(v []byte, count int) int {
	removed := 0
	if count >= 0 {
		budget := count
		if budget == 0 {
			budget = l.count
		}
		for p := 0; p < l.nn && removed < budget; {
			removed += l.filterForward(l.nd(p), v, budget-removed)
			if l.nd(p).n == 0 {
				l.removeNode(p)
			} else {
				p++
			}
		}
	} else {
		budget := -count
		for p := l.nn - 1; p >= 0 && removed < budget; p-- {
			removed += l.filterBackward(l.nd(p), v, budget-removed)
			if l.nd(p).n == 0 {
				l.removeNode(p)
			}
		}
	}
	if removed > 0 {
		l.tidy()
	}
	return removed
}

// filterForward deletes up to budget entries equal to v from nd, scanning
// from its head and compacting towards lo.
func (l *List) filterForward(nd *node, v []byte, budget int) int {
	removed := 0
	w := nd.lo
	r := nd.lo
	for r < nd.hi {
		e, next := entryAt(nd.buf, r)
		if bytes.Equal(e, v) {
			l.account(nd, e, -1)
			removed++
			r = next
			if removed == budget {
				break
			}
			continue
		}
		if w != r {
			copy(nd.buf[w:], nd.buf[r:next])
		}
		w += next - r
		r = next
	}
	if w != r {
		w += copy(nd.buf[w:], nd.buf[r:nd.hi])
		nd.hi = w
	}
	return removed
}

// filterBackward deletes up to budget entries equal to v from nd, scanning
// from its tail and compacting towards hi.
func (l *List) filterBackward(nd *node, v []byte, budget int) int {
	removed := 0
	w := nd.hi
	r := nd.hi
	for r > nd.lo {
		e, start := entryBefore(nd.buf, r)
		if bytes.Equal(e, v) {
			l.account(nd, e, -1)
			removed++
			r = start
			if removed == budget {
				break
			}
			continue
		}
		if w != r {
			copy(nd.buf[w-(r-start):], nd.buf[start:r])
		}
		w -= r - start
		r = start
	}
	if w != r {
		rest := r - nd.lo
		copy(nd.buf[w-rest:], nd.buf[nd.lo:r])
		nd.lo = w - rest
	}
	return removed
}

// tidy merges adjacent under-filled nodes and shrinks sparse arenas after
// bulk deletions so that memory and node count track the live data.
func (l *List) tidy() {
	for p := 0; p < l.nn; p++ {
		nd := l.nd(p)
		for p+1 < l.nn {
			nx := l.nd(p + 1)
			if nd.live()+nx.live() > maxNodeBytes/2 || nd.n+nx.n > maxNodeEntries/2 {
				break
			}
			// Append nx to nd.
			g, ok := l.openGap(nd, nd.hi, nx.live(), false)
			if !ok {
				break
			}
			copy(nd.buf[g:], nx.buf[nx.lo:nx.hi])
			nd.n += nx.n
			nd.lp += nx.lp
			l.removeNode(p + 1)
			nd = l.nd(p)
		}
		l.shrinkIfSparse(nd)
	}
	if l.nn <= 1 {
		l.dropSpare()
	}
}

// Trim keeps only elements start..stop (LTRIM with absolute indices; start <
// 0 is treated as 0, stop >= Len as the last element). An empty selection
// empties the list. Whole nodes are dropped in O(1) each.
func (l *List) Trim(start, stop int) {
	start, stop, ok := l.clampRange(start, stop)
	if !ok {
		l.Reset()
		return
	}
	l.deleteRange(stop+1, l.count-stop-1)
	l.deleteRange(0, start)
}

// deleteRange removes cnt elements starting at index idx.
func (l *List) deleteRange(idx, cnt int) {
	if cnt <= 0 {
		return
	}
	p, k, off := l.locate(idx)
	for cnt > 0 {
		nd := l.nd(p)
		if k == 0 && cnt >= nd.n {
			cnt -= nd.n
			l.count -= nd.n
			l.lp -= nd.lp
			l.removeNode(p)
			if p < l.nn {
				off = l.nd(p).lo
			}
			continue
		}
		m := min(cnt, nd.n-k)
		end, lp := off, 0
		for range m {
			var v []byte
			v, end = entryAt(nd.buf, end)
			lp += ListpackEntrySize(v)
		}
		closeGap(nd, off, end-off)
		nd.n -= m
		nd.lp -= lp
		l.lp -= lp
		l.count -= m
		cnt -= m
		p++
		k = 0
		if p < l.nn {
			off = l.nd(p).lo
		}
	}
}
