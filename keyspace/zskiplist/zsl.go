package zskiplist

import "unsafe"

// Element is one member of the sorted set with its score.
type Element struct {
	Member string
	Score  float64
}

const (
	// leafCap: 63 elements × 24 bytes + 24 bytes of header = 1536 bytes, an
	// exact Go size class, so a full leaf wastes nothing to rounding.
	leafCap = 63
	minLeaf = leafCap / 3
	// innerCap: 63 × (24-byte key + 8-byte count + 2 × 8-byte child) + 8 =
	// 3032 bytes, inside the 3072-byte size class.
	innerCap = 63
	minInner = innerCap / 3
	// maxHeight bounds the inner levels; 63^12 is far beyond memory.
	maxHeight = 12
)

// leaf holds a sorted run of elements; leaves are chained in order so
// iteration never climbs the tree.
type leaf struct {
	n          int
	prev, next *leaf
	items      [leafCap]Element
}

// inner is an order-statistic index node. Child i holds counts[i] elements,
// all >= keys[i] (for i > 0) and < keys[i+1]. keys[0] is only meaningful
// transiently, when a split hands the node's lower bound to its parent.
// Separators are bounds, not necessarily present elements: deleting an
// element never needs to touch them (a separator may keep a deleted member's
// string reachable until that node is next split or merged).
// Exactly one of kids / leaves is used, depending on the level: keeping two
// typed arrays avoids interface or unsafe conversions on the hot descent,
// and inner nodes are ~1/40 of all nodes so the unused array costs little.
type inner struct {
	n      int
	keys   [innerCap]Element
	counts [innerCap]int
	kids   [innerCap]*inner
	leaves [innerCap]*leaf
}

// ZSL is the ordered index of a sorted set: elements ordered by score, then
// by member bytes. It does not detect duplicate members; the caller keeps
// the member → score map (see the package documentation).
// The zero value is an empty index. A ZSL is not safe for concurrent use.
type ZSL struct {
	root        *inner // nil while height == 0
	rleaf       *leaf  // the root when height == 0 (nil when empty)
	height      int    // number of inner levels
	n           int
	first, last *leaf
	leaves      int // node counts, for Bytes
	inners      int
}

// New returns an empty index.
func New() *ZSL { return &ZSL{} }

// Len returns the number of elements.
func (z *ZSL) Len() int { return z.n }

// Bytes approximates the heap used by the index itself, excluding member
// string data (which the engine shares with its member map). O(1).
func (z *ZSL) Bytes() int {
	return int(unsafe.Sizeof(*z)) + z.leaves*int(unsafe.Sizeof(leaf{})) + z.inners*int(unsafe.Sizeof(inner{}))
}

// less orders (score, member) pairs like Redis: by score, ties by member
// bytes (Go string comparison is a bytewise memcmp with shorter-first).
func less(s1 float64, m1 string, s2 float64, m2 string) bool {
	return s1 < s2 || (s1 == s2 && m1 < m2)
}

// step records one level of a root-to-leaf descent.
type step struct {
	n *inner
	i int
}

// childFor picks the child of nd whose range contains (score, member): the
// last child whose lower bound is <= the key.
func (nd *inner) childFor(score float64, member string) int {
	lo, hi := 1, nd.n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		k := &nd.keys[m]
		if k.Score < score || (k.Score == score && k.Member <= member) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo - 1
}

// lowerBound returns the first position in lf not less than (score, member).
func (lf *leaf) lowerBound(score float64, member string) int {
	lo, hi := 0, lf.n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		it := &lf.items[m]
		if it.Score < score || (it.Score == score && it.Member < member) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// descend walks to the leaf that does or would hold (score, member),
// filling path and returning the number of elements in leaves before it.
func (z *ZSL) descend(score float64, member string, path *[maxHeight]step, wantRank bool) (*leaf, int) {
	if z.height == 0 {
		return z.rleaf, 0
	}
	rank := 0
	nd := z.root
	for d := 0; ; d++ {
		i := nd.childFor(score, member)
		path[d] = step{nd, i}
		if wantRank {
			for _, c := range nd.counts[:i] {
				rank += c
			}
		}
		if d == z.height-1 {
			return nd.leaves[i], rank
		}
		nd = nd.kids[i]
	}
}

// ---- insertion ----

// Insert adds member with score. The caller guarantees member is not
// already present (use UpdateScore to move an existing member). O(log n).
func (z *ZSL) Insert(score float64, member string) {
	e := Element{Member: member, Score: score}
	if z.n == 0 && z.rleaf == nil {
		lf := &leaf{}
		z.leaves++
		z.rleaf, z.first, z.last = lf, lf, lf
	}
	var path [maxHeight]step
	lf, _ := z.descend(score, member, &path, false)
	for d := range z.height {
		path[d].n.counts[path[d].i]++
	}
	z.n++
	pos := lf.lowerBound(score, member)
	if lf.n < leafCap {
		copy(lf.items[pos+1:lf.n+1], lf.items[pos:lf.n])
		lf.items[pos] = e
		lf.n++
		return
	}
	right := z.splitLeaf(lf, pos, e)
	z.addChild(path[:z.height], right.items[0], lf.n, right.n, nil, right)
}

// splitLeaf splits the full leaf lf while inserting e at pos, returning the
// new right sibling. Appending past the last leaf (or prepending before the
// first) leaves the old leaf full instead of half full, so sets built in
// score order — timestamps — end up with ~100% full leaves.
func (z *ZSL) splitLeaf(lf *leaf, pos int, e Element) *leaf {
	mid := leafCap / 2
	switch {
	case pos == leafCap && lf.next == nil:
		mid = leafCap
	case pos == 0 && lf.prev == nil:
		mid = 0
	}
	r := &leaf{}
	z.leaves++
	r.n = copy(r.items[:], lf.items[mid:lf.n])
	clear(lf.items[mid:lf.n])
	lf.n = mid
	r.prev, r.next = lf, lf.next
	if lf.next != nil {
		lf.next.prev = r
	} else {
		z.last = r
	}
	lf.next = r
	dst, at := r, pos-mid
	if pos < mid || (pos == mid && mid < leafCap) {
		dst, at = lf, pos
	}
	copy(dst.items[at+1:dst.n+1], dst.items[at:dst.n])
	dst.items[at] = e
	dst.n++
	return r
}

// addChild inserts a new right sibling (with lower bound sep) after the
// child that path's last step points at, which now holds leftCount elements.
// Exactly one of kid / lf is non-nil. Splits propagate upwards.
func (z *ZSL) addChild(path []step, sep Element, leftCount, rightCount int, kid *inner, lf *leaf) {
	for {
		if len(path) == 0 {
			// The root split: grow a level.
			nr := &inner{n: 2}
			z.inners++
			nr.keys[1] = sep
			nr.counts[0], nr.counts[1] = leftCount, rightCount
			if lf != nil {
				nr.leaves[0], nr.leaves[1] = z.rleaf, lf
				z.rleaf = nil
			} else {
				nr.kids[0], nr.kids[1] = z.root, kid
			}
			z.root = nr
			z.height++
			return
		}
		st := path[len(path)-1]
		path = path[:len(path)-1]
		nd, at := st.n, st.i+1
		nd.counts[st.i] = leftCount
		if nd.n < innerCap {
			nd.insertChild(at, sep, rightCount, kid, lf)
			return
		}
		// Split nd. Like leaves, the rightmost node splits unevenly when
		// appended to, keeping all but its last child; the new node starts
		// with two children so every non-root inner node keeps a sibling to
		// rebalance against.
		mid := innerCap / 2
		if at == nd.n && rightmost(path) {
			mid = nd.n - 1
		}
		r := &inner{}
		z.inners++
		r.n = nd.n - mid
		copy(r.keys[:], nd.keys[mid:nd.n])
		copy(r.counts[:], nd.counts[mid:nd.n])
		copy(r.kids[:], nd.kids[mid:nd.n])
		copy(r.leaves[:], nd.leaves[mid:nd.n])
		clear(nd.keys[mid:nd.n])
		clear(nd.counts[mid:nd.n])
		clear(nd.kids[mid:nd.n])
		clear(nd.leaves[mid:nd.n])
		nd.n = mid
		if at < mid || (at == mid && mid < innerCap) {
			nd.insertChild(at, sep, rightCount, kid, lf)
		} else {
			r.insertChild(at-mid, sep, rightCount, kid, lf)
		}
		sep, kid, lf = r.keys[0], r, nil
		leftCount, rightCount = nd.total(), r.total()
	}
}

// rightmost reports whether every step of path goes to the last child.
func rightmost(path []step) bool {
	for _, st := range path {
		if st.i != st.n.n-1 {
			return false
		}
	}
	return true
}

func (nd *inner) insertChild(at int, key Element, count int, kid *inner, lf *leaf) {
	copy(nd.keys[at+1:nd.n+1], nd.keys[at:nd.n])
	copy(nd.counts[at+1:nd.n+1], nd.counts[at:nd.n])
	copy(nd.kids[at+1:nd.n+1], nd.kids[at:nd.n])
	copy(nd.leaves[at+1:nd.n+1], nd.leaves[at:nd.n])
	nd.keys[at], nd.counts[at], nd.kids[at], nd.leaves[at] = key, count, kid, lf
	nd.n++
}

func (nd *inner) removeChild(at int) {
	copy(nd.keys[at:], nd.keys[at+1:nd.n])
	copy(nd.counts[at:], nd.counts[at+1:nd.n])
	copy(nd.kids[at:], nd.kids[at+1:nd.n])
	copy(nd.leaves[at:], nd.leaves[at+1:nd.n])
	nd.n--
	nd.keys[nd.n], nd.counts[nd.n], nd.kids[nd.n], nd.leaves[nd.n] = Element{}, 0, nil, nil
}

func (nd *inner) total() int {
	t := 0
	for _, c := range nd.counts[:nd.n] {
		t += c
	}
	return t
}

// ---- deletion ----

// Delete removes (score, member), reporting whether it was present.
// O(log n).
func (z *ZSL) Delete(score float64, member string) bool {
	if z.n == 0 {
		return false
	}
	var path [maxHeight]step
	lf, _ := z.descend(score, member, &path, false)
	pos := lf.lowerBound(score, member)
	if pos == lf.n || lf.items[pos].Score != score || lf.items[pos].Member != member {
		return false
	}
	z.removeRun(path[:z.height], lf, pos, 1)
	return true
}

// removeRun deletes m consecutive elements from lf starting at pos, where
// path is the descent to lf, and restores the tree's fill invariants.
func (z *ZSL) removeRun(path []step, lf *leaf, pos, m int) {
	for _, st := range path {
		st.n.counts[st.i] -= m
	}
	z.n -= m
	copy(lf.items[pos:], lf.items[pos+m:lf.n])
	clear(lf.items[lf.n-m : lf.n])
	lf.n -= m
	if len(path) == 0 {
		if lf.n == 0 {
			z.rleaf, z.first, z.last = nil, nil, nil
			z.leaves = 0
		}
		return
	}
	if lf.n >= minLeaf {
		return
	}
	st := path[len(path)-1]
	p, i := st.n, st.i
	if i > 0 {
		l := p.leaves[i-1]
		if l.n+lf.n <= leafCap {
			// Merge lf into its left sibling.
			copy(l.items[l.n:], lf.items[:lf.n])
			l.n += lf.n
			p.counts[i-1] += p.counts[i]
			z.unlinkLeaf(lf)
			p.removeChild(i)
		} else {
			// Borrow from the left sibling to even them out.
			k := (l.n - lf.n) / 2
			copy(lf.items[k:], lf.items[:lf.n])
			copy(lf.items[:k], l.items[l.n-k:l.n])
			clear(l.items[l.n-k : l.n])
			l.n -= k
			lf.n += k
			p.counts[i-1] -= k
			p.counts[i] += k
			p.keys[i] = lf.items[0]
			return
		}
	} else {
		r := p.leaves[1]
		if lf.n+r.n <= leafCap {
			copy(lf.items[lf.n:], r.items[:r.n])
			lf.n += r.n
			p.counts[0] += p.counts[1]
			z.unlinkLeaf(r)
			p.removeChild(1)
		} else {
			k := (r.n - lf.n) / 2
			copy(lf.items[lf.n:], r.items[:k])
			copy(r.items[:], r.items[k:r.n])
			clear(r.items[r.n-k : r.n])
			r.n -= k
			lf.n += k
			p.counts[0] += k
			p.counts[1] -= k
			p.keys[1] = r.items[0]
			return
		}
	}
	z.rebalanceInner(path[:len(path)-1], p)
}

func (z *ZSL) unlinkLeaf(lf *leaf) {
	if lf.prev != nil {
		lf.prev.next = lf.next
	} else {
		z.first = lf.next
	}
	if lf.next != nil {
		lf.next.prev = lf.prev
	} else {
		z.last = lf.prev
	}
	z.leaves--
}

// rebalanceInner fixes nd (reached through path) after it lost a child.
func (z *ZSL) rebalanceInner(path []step, nd *inner) {
	for {
		if len(path) == 0 {
			// nd is the root: drop levels that have a single child.
			for z.height > 0 && z.root.n == 1 {
				z.inners--
				if z.height == 1 {
					z.rleaf = z.root.leaves[0]
					z.root = nil
				} else {
					z.root = z.root.kids[0]
				}
				z.height--
			}
			return
		}
		if nd.n >= minInner {
			return
		}
		st := path[len(path)-1]
		path = path[:len(path)-1]
		p, i := st.n, st.i
		if i > 0 {
			l := p.kids[i-1]
			if l.n+nd.n <= innerCap {
				// Merge nd into l; nd's first child takes the parent's
				// separator as its lower bound.
				nd.keys[0] = p.keys[i]
				l.appendFrom(nd, 0, nd.n)
				p.counts[i-1] += p.counts[i]
				p.removeChild(i)
				z.inners--
			} else {
				k := (l.n - nd.n) / 2
				nd.keys[0] = p.keys[i]
				nd.shiftRight(k)
				copy(nd.keys[:k], l.keys[l.n-k:l.n])
				copy(nd.counts[:k], l.counts[l.n-k:l.n])
				copy(nd.kids[:k], l.kids[l.n-k:l.n])
				copy(nd.leaves[:k], l.leaves[l.n-k:l.n])
				moved := 0
				for _, c := range nd.counts[:k] {
					moved += c
				}
				l.truncate(l.n - k)
				p.keys[i] = nd.keys[0]
				p.counts[i-1] -= moved
				p.counts[i] += moved
				return
			}
		} else {
			r := p.kids[1]
			if nd.n+r.n <= innerCap {
				r.keys[0] = p.keys[1]
				nd.appendFrom(r, 0, r.n)
				p.counts[0] += p.counts[1]
				p.removeChild(1)
				z.inners--
			} else {
				k := (r.n - nd.n) / 2
				r.keys[0] = p.keys[1]
				moved := 0
				for _, c := range r.counts[:k] {
					moved += c
				}
				nd.appendFrom(r, 0, k)
				r.shiftLeft(k)
				p.keys[1] = r.keys[0]
				p.counts[0] += moved
				p.counts[1] -= moved
				return
			}
		}
		nd = p
	}
}

// appendFrom appends children [from, to) of src to nd.
func (nd *inner) appendFrom(src *inner, from, to int) {
	copy(nd.keys[nd.n:], src.keys[from:to])
	copy(nd.counts[nd.n:], src.counts[from:to])
	copy(nd.kids[nd.n:], src.kids[from:to])
	copy(nd.leaves[nd.n:], src.leaves[from:to])
	nd.n += to - from
}

// shiftRight opens k child slots at the front of nd.
func (nd *inner) shiftRight(k int) {
	copy(nd.keys[k:], nd.keys[:nd.n])
	copy(nd.counts[k:], nd.counts[:nd.n])
	copy(nd.kids[k:], nd.kids[:nd.n])
	copy(nd.leaves[k:], nd.leaves[:nd.n])
	nd.n += k
}

// shiftLeft drops the first k children of nd.
func (nd *inner) shiftLeft(k int) {
	copy(nd.keys[:], nd.keys[k:nd.n])
	copy(nd.counts[:], nd.counts[k:nd.n])
	copy(nd.kids[:], nd.kids[k:nd.n])
	copy(nd.leaves[:], nd.leaves[k:nd.n])
	nd.truncate(nd.n - k)
}

// truncate keeps the first n children, clearing the rest for the GC.
func (nd *inner) truncate(n int) {
	clear(nd.keys[n:nd.n])
	clear(nd.counts[n:nd.n])
	clear(nd.kids[n:nd.n])
	clear(nd.leaves[n:nd.n])
	nd.n = n
}

// ---- score updates ----

// UpdateScore moves member from score cur to newScore, reporting whether
// (cur, member) was present. When the new score keeps the element between
// its neighbours (and within its leaf's bounds) it is updated in place with
// a single descent, which is the common case for small score changes.
func (z *ZSL) UpdateScore(cur float64, member string, newScore float64) bool {
	if z.n == 0 {
		return false
	}
	var path [maxHeight]step
	var lower, upper *Element
	lf := z.rleaf
	if z.height > 0 {
		nd := z.root
		for d := 0; ; d++ {
			i := nd.childFor(cur, member)
			path[d] = step{nd, i}
			if i > 0 {
				lower = &nd.keys[i]
			}
			if i+1 < nd.n {
				upper = &nd.keys[i+1]
			}
			if d == z.height-1 {
				lf = nd.leaves[i]
				break
			}
			nd = nd.kids[i]
		}
	}
	pos := lf.lowerBound(cur, member)
	if pos == lf.n || lf.items[pos].Score != cur || lf.items[pos].Member != member {
		return false
	}
	var okLeft, okRight bool
	if pos > 0 {
		p := &lf.items[pos-1]
		okLeft = less(p.Score, p.Member, newScore, member)
	} else {
		okLeft = lower == nil || !less(newScore, member, lower.Score, lower.Member)
	}
	if pos < lf.n-1 {
		q := &lf.items[pos+1]
		okRight = less(newScore, member, q.Score, q.Member)
	} else {
		okRight = upper == nil || less(newScore, member, upper.Score, upper.Member)
	}
	if okLeft && okRight {
		lf.items[pos].Score = newScore
		return true
	}
	// Re-insert the stored string, not the caller's: callers share one
	// string between their member map and this index.
	stored := lf.items[pos].Member
	z.removeRun(path[:z.height], lf, pos, 1)
	z.Insert(newScore, stored)
	return true
}

// ---- rank and positional access ----

// Rank returns the 0-based rank of (score, member) counted from the lowest
// score (ZRANK), or -1 if absent. The reverse rank (ZREVRANK) is
// Len()-1-Rank. O(log n).
func (z *ZSL) Rank(score float64, member string) int {
	if z.n == 0 {
		return -1
	}
	var path [maxHeight]step
	lf, rank := z.descend(score, member, &path, true)
	pos := lf.lowerBound(score, member)
	if pos == lf.n || lf.items[pos].Score != score || lf.items[pos].Member != member {
		return -1
	}
	return rank + pos
}

// seekRank descends to the element of rank r (0 <= r < Len).
func (z *ZSL) seekRank(r int, path *[maxHeight]step) (*leaf, int) {
	if z.height == 0 {
		return z.rleaf, r
	}
	nd := z.root
	for d := 0; ; d++ {
		i := 0
		for r >= nd.counts[i] {
			r -= nd.counts[i]
			i++
		}
		path[d] = step{nd, i}
		if d == z.height-1 {
			return nd.leaves[i], r
		}
		nd = nd.kids[i]
	}
}

// ByRank returns the element of 0-based rank r, or false if out of range.
// O(log n).
func (z *ZSL) ByRank(r int) (Element, bool) {
	if r < 0 || r >= z.n {
		return Element{}, false
	}
	var path [maxHeight]step
	lf, i := z.seekRank(r, &path)
	return lf.items[i], true
}

// IterAt returns an iterator positioned at rank r, or false if out of range.
// ZRANGE start..stop is IterAt(start) followed by Next; the reverse forms
// start at IterAt(Len()-1-start) and use Prev. LIMIT offsets after a range
// seek can jump with IterAt(it.Rank()+offset) in O(log n). O(log n).
func (z *ZSL) IterAt(r int) (Iterator, bool) {
	if r < 0 || r >= z.n {
		return Iterator{}, false
	}
	var path [maxHeight]step
	lf, i := z.seekRank(r, &path)
	return Iterator{lf: lf, i: i, rank: r}, true
}

// First and Last return iterators at the lowest / highest element.
func (z *ZSL) First() (Iterator, bool) {
	if z.n == 0 {
		return Iterator{}, false
	}
	return Iterator{lf: z.first, i: 0, rank: 0}, true
}

func (z *ZSL) Last() (Iterator, bool) {
	if z.n == 0 {
		return Iterator{}, false
	}
	return Iterator{lf: z.last, i: z.last.n - 1, rank: z.n - 1}, true
}
