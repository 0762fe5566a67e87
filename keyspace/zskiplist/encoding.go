package zskiplist

// Redis 7.0 zset encoding rules (OBJECT ENCODING "listpack" vs "skiplist").
//
// Celerity always stores a sorted set as a ZSL plus a member map; the engine
// only needs to remember which encoding Redis would report. The rules below
// were verified against redis-server 7.0.15 (see encoding_test.go):
//
//   - A zset is "listpack" while it has at most zset-max-listpack-entries
//     members, all at most zset-max-listpack-value bytes long.
//   - Adding a new member that breaks either limit converts it to "skiplist"
//     (ZADD, ZINCRBY, GEOADD — including the key's first member, so with
//     max-entries 0 every zset is born a skiplist). Updating the score of an
//     existing member never converts.
//   - Removing members never converts back (ZREM, ZPOPMIN, ZREMRANGEBY*).
//   - Commands that build a fresh destination — ZUNIONSTORE, ZINTERSTORE,
//     ZDIFFSTORE, ZRANGESTORE, GEORADIUS/GEOSEARCH ... STORE — choose by Fits
//     on the result, as does loading the value again (RESTORE, DEBUG RELOAD,
//     restart from RDB). Lowering the config does not touch existing keys
//     until their next insertion.
//
// Redis also refuses a listpack above 1 GiB (lpSafeToAdd); that limit is not
// modelled here.

// Default limits of Redis 7.0.
const (
	DefaultMaxListpackEntries = 128
	DefaultMaxListpackValue   = 64
)

// Limits holds zset-max-listpack-entries and zset-max-listpack-value.
type Limits struct {
	MaxEntries int
	MaxValue   int
}

// DefaultLimits returns Redis 7.0's defaults (128 entries, 64 bytes).
func DefaultLimits() Limits {
	return Limits{MaxEntries: DefaultMaxListpackEntries, MaxValue: DefaultMaxListpackValue}
}

// ConvertsOnAdd reports whether adding a new member of memberLen bytes to a
// listpack-encoded zset that currently has curLen members (0 for a key being
// created) turns it into a skiplist.
func (l Limits) ConvertsOnAdd(curLen, memberLen int) bool {
	return curLen+1 > l.MaxEntries || memberLen > l.MaxValue
}

// Fits reports whether a freshly built zset with n members, the longest of
// maxMemberLen bytes, is listpack-encoded (STORE commands, RESTORE, reload).
func (l Limits) Fits(n, maxMemberLen int) bool {
	return n <= l.MaxEntries && maxMemberLen <= l.MaxValue
}
