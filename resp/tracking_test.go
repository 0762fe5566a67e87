package resp

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The effort bound of trackingLimitUsedSlots, which the differential test
// cannot show (on both servers the cron and the next command share the
// work at moments of their own): one call evicts at most 100 keys times
// the calls in a row that ended over the cap, and reaching the cap resets
// the count. Every key's ids leave tracking_total_items with it.
func TestTrackingLimitEffort(t *testing.T) {
	s := newACLTestServer(t)
	t.Cleanup(s.Shutdown)
	s.lock()
	defer s.mu.Unlock()
	tr := &s.tracking
	tr.table = map[string]map[int64]bool{}
	for i := 0; i < 701; i++ {
		// Ids of clients that are gone: dropped without a message.
		tr.table["k"+strconv.Itoa(i)] = map[int64]bool{1000: true, 1001: true}
		tr.items += 2
	}
	s.cfg.TrackingTableMaxKeys = 0
	s.trackingLimitUsedSlots()
	require.Len(t, tr.table, 701, "0 is no cap")

	s.cfg.TrackingTableMaxKeys = 1
	for _, want := range []struct{ keys, overLimit int }{{601, 1}, {401, 2}, {101, 3}, {1, 0}, {1, 0}} {
		s.trackingLimitUsedSlots()
		assert.Len(t, tr.table, want.keys)
		assert.Equal(t, want.overLimit, tr.overLimit)
		assert.Equal(t, int64(2*want.keys), tr.items)
	}
}
