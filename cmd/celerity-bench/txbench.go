package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The transaction phase measures Kombu's QoS append as the broker sees it:
// MULTI; HSET unacked <tag> <1 KB body>; ZADD unacked_index <score> <tag>;
// EXEC, sent by redis-py as one write. redis-benchmark cannot send a
// transaction, so this phase drives its own connections: -c clients, each
// writing P transactions at a time and reading their 4·P replies before
// the next batch; latency is per batch.

// txCell accumulates one server's results over the rounds, per pipeline.
type txCell struct {
	rate, p99 []float64
	errs      []string
}

func runTxPhase(ctx context.Context, cfg *config, slots []*serverSlot, rep *report) map[int]map[string]*txCell {
	out := map[int]map[string]*txCell{}
	for _, p := range cfg.pipelines {
		out[p] = map[string]*txCell{}
		for _, sl := range slots {
			out[p][sl.spec.Name] = &txCell{}
		}
	}
	for round := 0; round < cfg.rounds; round++ {
		for _, p := range cfg.pipelines {
			for _, sl := range roundOrder(slots, round) {
				if ctx.Err() != nil {
					return out
				}
				cell := out[p][sl.spec.Name]
				srv, err := sl.get(ctx, "before the transaction phase")
				if err == nil {
					err = flushAll(ctx, srv)
				}
				var rate, p99 float64
				if err == nil {
					n := cfg.txN
					if p > 1 {
						n *= 4
					}
					rate, p99, err = runTx(ctx, srv.Addr(), cfg.clients, p, n)
				}
				if err != nil {
					cell.errs = append(cell.errs, err.Error())
					rep.notef("transactions -P %d on %s: %v", p, sl.spec.Name, err)
					progress("[tx] round %d  -P %-2d %-9s n/a (%v)", round+1, p, sl.spec.Name, err)
					continue
				}
				cell.rate = append(cell.rate, rate)
				cell.p99 = append(cell.p99, p99)
				progress("[tx] round %d  -P %-2d %-9s %8.0f tx/s  p99 %7.3f ms", round+1, p, sl.spec.Name, rate, p99)
			}
		}
	}
	return out
}

// runTx runs n transactions over clients connections, pipeline at a time.
func runTx(ctx context.Context, addr string, clients, pipeline, n int) (rate, p99ms float64, err error) {
	body := `{"body": "` + strings.Repeat("x", 1000) + `"}`
	var next atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := Dial(ctx, addr)
			if err != nil {
				mu.Lock()
				firstErr = err
				mu.Unlock()
				return
			}
			defer c.Close()
			var mine []time.Duration
			for ctx.Err() == nil {
				first := next.Add(int64(pipeline)) - int64(pipeline)
				if first >= int64(n) {
					break
				}
				count := min(int64(pipeline), int64(n)-first)
				t0 := time.Now()
				for j := int64(0); j < count; j++ {
					tag := "tag-" + strconv.FormatInt(first+j, 10)
					score := strconv.FormatFloat(float64(time.Now().UnixNano())/1e9, 'f', 6, 64)
					c.Send("MULTI")
					c.Send("HSET", "unacked", tag, body)
					c.Send("ZADD", "unacked_index", score, tag)
					c.Send("EXEC")
				}
				c.SetDeadline(time.Now().Add(30 * time.Second))
				if err := c.Flush(); err == nil {
					for j := int64(0); j < 4*count && err == nil; j++ {
						var r Reply
						if r, err = c.Read(); err == nil {
							err = r.Err()
						}
					}
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return 0, 0, firstErr
	}
	if len(lat) == 0 {
		return 0, 0, fmt.Errorf("no transaction completed")
	}
	slices.Sort(lat)
	return float64(n) / elapsed.Seconds(), ms(percentileDur(lat, 0.99)), nil
}

func (r *report) txTableOut() table {
	t := table{
		header: []string{"transaction", "P", "celerity tx/s", "redis tx/s", "ratio", "celerity p99 ms", "redis p99 ms", "p99 ratio"},
		right:  []bool{false, true, true, true, true, true, true, true},
	}
	for _, p := range r.cfg.pipelines {
		cells := r.tx[p]
		get := func(name string, pick func(*txCell) []float64) (float64, bool) {
			c := cells[name]
			if c == nil {
				return 0, false
			}
			return median(pick(c))
		}
		cr, crOK := get(celerityName, func(c *txCell) []float64 { return c.rate })
		rr, rrOK := get(redisName, func(c *txCell) []float64 { return c.rate })
		c99, c99OK := get(celerityName, func(c *txCell) []float64 { return c.p99 })
		r99, r99OK := get(redisName, func(c *txCell) []float64 { return c.p99 })
		t.rows = append(t.rows, []string{"MULTI/HSET/ZADD/EXEC", strconv.Itoa(p),
			fmtNum(cr, crOK, "%.0f"), fmtNum(rr, rrOK, "%.0f"), ratio(cr, crOK, rr, rrOK),
			fmtNum(c99, c99OK, "%.3f"), fmtNum(r99, r99OK, "%.3f"), ratio(c99, c99OK, r99, r99OK)})
	}
	return t
}
