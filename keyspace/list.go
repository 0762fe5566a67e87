package keyspace

import "github.com/celerity/celerity/keyspace/quicklist"

// List is the list value type: a quicklist (chunked deque) of byte strings.
// Redis 7.0 always reports lists as "quicklist".
type List struct {
	quicklist.List
}

// NewList returns an empty list.
func NewList() *List { return &List{} }

// MemoryUsage estimates what Redis 7.0 allocates for the same list: the
// robj, the quicklist and its nodes, each a 32-byte node plus a listpack
// of at most 8 KiB (list-max-listpack-size -2), filled as pushes fill them.
// The element sizes are taken as their average, which is exact for a
// queue of similar messages: seven 1 KiB messages share an 8 KiB node.
func (l *List) MemoryUsage() int64 {
	n := int64(l.Len())
	if n == 0 {
		return memObj + memQuicklist
	}
	es := max(1, int64(l.ListpackBytes()-quicklist.ListpackHeaderBytes)/n)
	// quicklistNodeAllowInsert: a node takes one more element while its
	// bytes plus the element's raw length plus 8 stay within 8 KiB.
	raw := max(0, es-3)
	perNode := max(1, (8192-quicklist.ListpackHeaderBytes-8-raw)/es+1)
	full, rest := n/perNode, n%perNode
	mem := memObj + memQuicklist + full*(memQLNode+listpackAlloc(perNode*es))
	if rest > 0 {
		mem += memQLNode + listpackAlloc(rest*es)
	}
	return mem
}

// Encoding is always quicklist in Redis 7.0.
func (l *List) Encoding() Encoding { return EncQuicklist }

// Clone returns a deep copy.
func (l *List) Clone() Aggregate {
	n := NewList()
	l.Range(0, l.Len()-1, func(v []byte) bool {
		n.PushTail(v)
		return true
	})
	return n
}
