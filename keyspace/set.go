package keyspace

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
)

// Set is the set value type.
//
// Representation: while Redis 7.0 would keep the set as an intset (every
// member a 64-bit integer in string2ll's canonical form, and no more than
// set-max-intset-entries members), the members are a sorted []int64, which
// is also the order SMEMBERS, SSCAN and friends expose on Redis. Once Redis
// would have converted it to a hashtable (never back), the members are a
// dense []string plus, past setIndexMin members, a map from member to
// position; deletes move the last member into the hole, so adds, removes,
// membership tests and random picks are O(1) and SSCAN has a cursor over
// the dense slice.
type Set struct {
	ints    []int64          // intset encoding, ascending
	members []string         // hashtable encoding, dense
	index   map[string]int32 // member → position in members; nil while small
	big     bool             // "hashtable" encoding
	alloc   int64            // sds allocations of the members (hashtable; memory.go)
	peak    int              // largest length since the last shrink
}

// setIndexMin is the size past which membership goes through a map instead
// of a linear scan of the members.
const setIndexMin = 16

// NewSet returns an empty set in the intset encoding: the first member that
// is not an integer converts it, as Redis's setTypeCreate/setTypeAdd do.
func NewSet() *Set { return &Set{} }

// Len returns the number of members.
func (s *Set) Len() int {
	if s.big {
		return len(s.members)
	}
	return len(s.ints)
}

// MemoryUsage estimates what Redis 7.0 allocates for the same set: an
// robj and an intset of 2-, 4- or 8-byte integers (the width the largest
// magnitude needs), or an robj, a dict and per member a dict entry and an
// sds string (memory.go).
func (s *Set) MemoryUsage() int64 {
	if s.big {
		n := len(s.members)
		return memObj + dictMemory(n) + memDictEntry*int64(n) + s.alloc
	}
	return memObj + mallocSize(s.intsetBytes())
}

// intsetBytes is the length of the intset Redis would hold: a header and
// 2-, 4- or 8-byte integers, the width the largest magnitude needs.
func (s *Set) intsetBytes() int64 {
	n := int64(len(s.ints))
	if n == 0 {
		return memIntsetHeader
	}
	width := int64(2)
	lo, hi := s.ints[0], s.ints[n-1]
	switch {
	case lo < math.MinInt32 || hi > math.MaxInt32:
		width = 8
	case lo < math.MinInt16 || hi > math.MaxInt16:
		width = 4
	}
	return memIntsetHeader + width*n
}

// Encoding returns intset or hashtable, as Redis 7.0 would report.
func (s *Set) Encoding() Encoding {
	if s.big {
		return EncHashtable
	}
	return EncIntset
}

// Clone returns a deep copy with the same encoding.
func (s *Set) Clone() Aggregate {
	n := &Set{big: s.big, alloc: s.alloc, peak: s.Len()}
	if s.big {
		n.members = append([]string(nil), s.members...)
		if s.index != nil {
			n.buildIndex()
		}
	} else {
		n.ints = append([]int64(nil), s.ints...)
	}
	return n
}

// IsIntset reports whether the set is an intset (members sorted ascending).
func (s *Set) IsIntset() bool { return !s.big }

// Member returns member i (0 <= i < Len): for an intset its integer (isInt
// set), otherwise its string. Intset members come in ascending order.
func (s *Set) Member(i int) (str string, n int64, isInt bool) {
	if s.big {
		return s.members[i], 0, false
	}
	return "", s.ints[i], true
}

// MemberString returns member i as a string (allocating for an intset).
func (s *Set) MemberString(i int) string {
	if s.big {
		return s.members[i]
	}
	return strconv.FormatInt(s.ints[i], 10)
}

func (s *Set) findInt(n int64) (int, bool) {
	return slices.BinarySearch(s.ints, n)
}

func (s *Set) findString(m []byte) int {
	if s.index != nil {
		if i, ok := s.index[string(m)]; ok {
			return int(i)
		}
		return -1
	}
	for i := range s.members {
		if s.members[i] == string(m) {
			return i
		}
	}
	return -1
}

// findStr is findString for a string member (no conversion).
func (s *Set) findStr(m string) int {
	if s.index != nil {
		if i, ok := s.index[m]; ok {
			return int(i)
		}
		return -1
	}
	for i := range s.members {
		if s.members[i] == m {
			return i
		}
	}
	return -1
}

// parseIntStr is ParseInt for a string; longer strings are never integers,
// so the conversion stays on the stack.
func parseIntStr(m string) (int64, bool) {
	if len(m) > 20 {
		return 0, false
	}
	return ParseInt([]byte(m))
}

// Contains reports whether m is a member.
func (s *Set) Contains(m []byte) bool {
	if s.big {
		return s.findString(m) >= 0
	}
	n, ok := ParseInt(m)
	if !ok {
		return false
	}
	_, found := s.findInt(n)
	return found
}

// containsInt reports whether the canonical form of n is a member.
func (s *Set) containsInt(n int64) bool {
	if !s.big {
		_, found := s.findInt(n)
		return found
	}
	var tmp [24]byte
	return s.findString(strconv.AppendInt(tmp[:0], n, 10)) >= 0
}

// containsMember reports whether member i of o is a member of s.
func (s *Set) containsMember(o *Set, i int) bool {
	if !o.big {
		return s.containsInt(o.ints[i])
	}
	m := o.members[i]
	if s.big {
		return s.findStr(m) >= 0
	}
	n, ok := parseIntStr(m)
	if !ok {
		return false
	}
	_, found := s.findInt(n)
	return found
}

// Add adds m and reports whether it was new. A member that is not an
// integer, or an intset growing past set-max-intset-entries, converts the
// set to a hashtable.
func (s *Set) Add(m []byte, lim Limits) bool {
	if !s.big {
		if n, ok := ParseInt(m); ok {
			return s.addInt(n, lim)
		}
		s.convert()
	}
	if s.findString(m) >= 0 {
		return false
	}
	s.appendString(string(m))
	return true
}

func (s *Set) addInt(n int64, lim Limits) bool {
	if s.big {
		var tmp [24]byte
		b := strconv.AppendInt(tmp[:0], n, 10)
		if s.findString(b) >= 0 {
			return false
		}
		s.appendString(string(b))
		return true
	}
	i, found := s.findInt(n)
	if found {
		return false
	}
	s.ints = slices.Insert(s.ints, i, n)
	s.peak = max(s.peak, len(s.ints))
	if len(s.ints) > lim.SetMaxIntsetEntries {
		s.convert()
	}
	return true
}

// addMember adds member i of o.
func (s *Set) addMember(o *Set, i int, lim Limits) bool {
	if !o.big {
		return s.addInt(o.ints[i], lim)
	}
	m := o.members[i]
	if !s.big {
		if n, ok := parseIntStr(m); ok {
			return s.addInt(n, lim)
		}
		s.convert()
	}
	if s.findStr(m) >= 0 {
		return false
	}
	s.appendString(m)
	return true
}

func (s *Set) appendString(m string) {
	s.members = append(s.members, m)
	s.alloc += sdsAlloc(len(m))
	if s.index != nil {
		s.index[m] = int32(len(s.members) - 1)
	} else if len(s.members) > setIndexMin {
		s.buildIndex()
	}
	s.peak = max(s.peak, len(s.members))
}

// convert turns an intset into a hashtable.
func (s *Set) convert() {
	if s.big {
		return
	}
	s.big = true
	s.members = make([]string, 0, len(s.ints))
	s.alloc = 0
	for _, n := range s.ints {
		m := strconv.FormatInt(n, 10)
		s.members = append(s.members, m)
		s.alloc += sdsAlloc(len(m))
	}
	s.ints = nil
	if len(s.members) > setIndexMin {
		s.buildIndex()
	}
}

func (s *Set) buildIndex() {
	s.index = make(map[string]int32, len(s.members))
	for i, m := range s.members {
		s.index[m] = int32(i)
	}
}

// Remove removes m and reports whether it was a member.
func (s *Set) Remove(m []byte) bool {
	if !s.big {
		n, ok := ParseInt(m)
		if !ok {
			return false
		}
		i, found := s.findInt(n)
		if found {
			s.RemoveAt(i)
		}
		return found
	}
	i := s.findString(m)
	if i < 0 {
		return false
	}
	s.RemoveAt(i)
	return true
}

// RemoveAt removes member i (0 <= i < Len). An intset stays sorted; a
// hashtable moves its last member into the hole.
func (s *Set) RemoveAt(i int) {
	if !s.big {
		s.ints = slices.Delete(s.ints, i, i+1)
		s.maybeShrink()
		return
	}
	m := s.members[i]
	s.alloc -= sdsAlloc(len(m))
	last := len(s.members) - 1
	if s.index != nil {
		delete(s.index, m)
	}
	if i != last {
		s.members[i] = s.members[last]
		if s.index != nil {
			s.index[s.members[i]] = int32(i)
		}
	}
	s.members[last] = ""
	s.members = s.members[:last]
	s.maybeShrink()
}

// maybeShrink gives memory back after a large set drained.
func (s *Set) maybeShrink() {
	n := s.Len()
	if s.peak < 64 || n > s.peak/4 {
		return
	}
	s.peak = n
	if !s.big {
		s.ints = append(make([]int64, 0, 2*n), s.ints...)
		return
	}
	s.members = append(make([]string, 0, 2*n), s.members...)
	if n > setIndexMin {
		s.buildIndex()
	} else {
		s.index = nil
	}
}

// Scan visits up to count members from cursor and returns the next cursor
// (0 at the end). An intset is visited whole in one call whatever the
// cursor, as Redis does; a hashtable is walked like Hash.Scan.
func (s *Set) Scan(cursor uint64, count int, fn func(i int)) uint64 {
	if !s.big {
		for i := range s.ints {
			fn(i)
		}
		return 0
	}
	return denseScan(len(s.members), cursor, count, fn)
}

// RandomIndex returns a uniformly random position in [0, n); n > 0.
func RandomIndex(n int) int { return rand.IntN(n) }

// UniqueRandomIndexes returns count distinct positions in [0, n), in random
// order; 0 < count <= n.
func UniqueRandomIndexes(n, count int) []int {
	out := make([]int, 0, count)
	if count*3 > n {
		// Dense case: a partial Fisher-Yates shuffle of all positions.
		perm := make([]int, n)
		for i := range perm {
			perm[i] = i
		}
		for i := 0; i < count; i++ {
			j := i + rand.IntN(n-i)
			perm[i], perm[j] = perm[j], perm[i]
		}
		return append(out, perm[:count]...)
	}
	seen := make(map[int]struct{}, count)
	for len(out) < count {
		i := rand.IntN(n)
		if _, dup := seen[i]; dup {
			continue
		}
		seen[i] = struct{}{}
		out = append(out, i)
	}
	return out
}

// PopRandom removes count random members (0 < count < Len) and calls fn
// with each, following Redis's SPOP strategies: when few members remain,
// the members to keep are drawn instead and the set is rebuilt from them,
// which can turn a hashtable of integers back into an intset (as Redis's
// spopWithCountCommand does); fn then sees the popped members in the old
// set's order.
func (s *Set) PopRandom(count int, lim Limits, fn func(str string, n int64, isInt bool)) {
	const moveStrategyMul = 5
	remaining := s.Len() - count
	if remaining*moveStrategyMul > count {
		for ; count > 0; count-- {
			i := rand.IntN(s.Len())
			fn(s.Member(i))
			s.RemoveAt(i)
		}
		return
	}
	keep := UniqueRandomIndexes(s.Len(), remaining)
	ns := NewSet()
	kept := make([]bool, s.Len())
	for _, i := range keep {
		ns.addMember(s, i, lim)
		kept[i] = true
	}
	for i := range kept {
		if !kept[i] {
			fn(s.Member(i))
		}
	}
	*s = *ns
}

// SetUnion returns the union of sets (nil entries are missing keys), built
// member by member from an empty intset as Redis builds it, so its encoding
// and order are those of Redis's result.
func SetUnion(sets []*Set, lim Limits) *Set {
	out := NewSet()
	for _, s := range sets {
		if s == nil {
			continue
		}
		for i := 0; i < s.Len(); i++ {
			out.addMember(s, i, lim)
		}
	}
	return out
}

// SetDiff returns the members of sets[0] that are in none of the others
// (nil entries are missing keys), built like SetUnion.
func SetDiff(sets []*Set, lim Limits) *Set {
	out := NewSet()
	first := sets[0]
	if first == nil {
		return out
	}
next:
	for i := 0; i < first.Len(); i++ {
		for _, o := range sets[1:] {
			if o == first || o != nil && o.containsMember(first, i) {
				continue next
			}
		}
		out.addMember(first, i, lim)
	}
	return out
}

// SetInter calls fn with each member of the intersection of sets (all
// non-nil and non-empty), in the order of the smallest set, as Redis
// iterates it; fn returns false to stop (SINTERCARD's LIMIT). base is the
// set the positions refer to.
func SetInter(sets []*Set, fn func(base *Set, i int) bool) {
	sorted := slices.Clone(sets)
	sort.SliceStable(sorted, func(a, b int) bool { return sorted[a].Len() < sorted[b].Len() })
	base := sorted[0]
next:
	for i := 0; i < base.Len(); i++ {
		for _, o := range sorted[1:] {
			if o != base && !o.containsMember(base, i) {
				continue next
			}
		}
		if !fn(base, i) {
			return
		}
	}
}

// InterStore returns the intersection of sets as a new set built like
// SetUnion's result.
func InterStore(sets []*Set, lim Limits) *Set {
	out := NewSet()
	SetInter(sets, func(base *Set, i int) bool {
		out.addMember(base, i, lim)
		return true
	})
	return out
}
