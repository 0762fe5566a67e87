package zskiplist

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Observations on redis-server 7.0.15 (OBJECT ENCODING), replayed through
// Limits:
//
//	128 ZADDs → listpack; the 129th member → skiplist; ZREM back to 1 → skiplist
//	member of 64 bytes → listpack; 65 bytes (new or added) → skiplist
//	64 bytes of UTF-8 (32 × "é") → listpack: the limit counts bytes
//	ZADD with 129 score/member pairs for the same member → listpack (1 member)
//	ZINCRBY creating a 65-byte member → skiplist
//	ZUNIONSTORE/ZINTERSTORE/ZDIFFSTORE/ZRANGESTORE of a small skiplist → listpack
//	ZRANGESTORE of 128 → listpack, of 129 → skiplist; GEOSEARCHSTORE likewise
//	DEBUG RELOAD / RESTORE of a small skiplist → listpack
//	zset-max-listpack-entries 0: a new one-member zset → skiplist
//	zset-max-listpack-value 0: member "" → listpack, "a" → skiplist
//	lowering max-entries to 5 leaves a 10-member listpack alone through
//	score updates, ZINCRBY and ZREM; the next new member converts it
func TestEncodingRulesMatchRedis(t *testing.T) {
	d := DefaultLimits()
	require.Equal(t, Limits{128, 64}, d)

	// Build by ZADD one at a time.
	n, skip := 0, false
	for range 128 {
		skip = skip || d.ConvertsOnAdd(n, 4)
		n++
	}
	require.False(t, skip, "128 entries stay listpack")
	require.True(t, d.ConvertsOnAdd(128, 5), "129th member converts")

	require.False(t, d.ConvertsOnAdd(0, 64))
	require.False(t, d.ConvertsOnAdd(5, len("éééééééééééééééééééééééééééééééé")))
	require.True(t, d.ConvertsOnAdd(0, 65))
	require.True(t, d.ConvertsOnAdd(3, 65))

	require.True(t, Limits{MaxEntries: 0, MaxValue: 64}.ConvertsOnAdd(0, 1))
	require.False(t, Limits{MaxEntries: 128, MaxValue: 0}.ConvertsOnAdd(0, 0))
	require.True(t, Limits{MaxEntries: 128, MaxValue: 0}.ConvertsOnAdd(1, 1))

	lowered := Limits{MaxEntries: 5, MaxValue: 64}
	require.True(t, lowered.ConvertsOnAdd(10, 3), "next new member converts an over-limit listpack")

	require.True(t, d.Fits(128, 64))
	require.False(t, d.Fits(129, 1))
	require.False(t, d.Fits(2, 65))
	require.True(t, d.Fits(1, 5))
}
