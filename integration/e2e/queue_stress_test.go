package e2e

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Producers and consumers on the broker's hot path at once: every message
// pushed is popped exactly once, and none is left in a consumer's buffer.
// Consumers that block and producers that serve them often land in the
// same reactor iteration, the case where a served reply could be missed.
func TestQueueStressEveryMessageDeliveredOnce(t *testing.T) {
	s := startServer(t)
	const producers, consumers, perProducer = 4, 8, 6000
	total := producers * perProducer
	keys := []string{"celery", "celery\x06\x163", "celery\x06\x166", "celery\x06\x169"}
	var got atomic.Int64
	seen := make([]atomic.Int32, total)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < consumers; i++ {
		c := dial(t, s.addr())
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				c.send(append(append([]string{"BRPOP"}, keys...), "0.1")...)
				r, err := c.read(5 * time.Second)
				if err != nil {
					t.Errorf("consumer read: %v", err)
					return
				}
				if r == "(nil)" {
					continue
				}
				var key string
				var id int
				if _, err := fmt.Sscanf(r, "[%s %d]", &key, &id); err != nil {
					t.Errorf("unexpected reply %q", r)
					return
				}
				seen[id].Add(1)
				got.Add(1)
			}
		}()
	}
	for p := 0; p < producers; p++ {
		c := dial(t, s.addr())
		go func(p int) {
			for i := 0; i < perProducer; i++ {
				id := p*perProducer + i
				c.send("LPUSH", keys[id%len(keys)], strconv.Itoa(id))
				if _, err := c.read(5 * time.Second); err != nil {
					t.Errorf("producer: %v", err)
					return
				}
			}
		}(p)
	}
	waitFor(t, "every message to be consumed", func() bool { return got.Load() >= int64(total) })
	close(done)
	wg.Wait()
	for id := range seen {
		require.Equal(t, int32(1), seen[id].Load(), "message %d", id)
	}
}
