package keyspace

import "github.com/celerity/celerity/keyspace/quicklist"

// List is the list value type: a quicklist (chunked deque) of byte strings.
// Redis 7.0 always reports lists as "quicklist".
type List struct {
	quicklist.List
}

// NewList returns an empty list.
func NewList() *List { return &List{} }

// MemoryUsage estimates the list's footprint in bytes.
func (l *List) MemoryUsage() int64 { return int64(l.Bytes()) }

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
