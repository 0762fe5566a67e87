package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The Celery mix replays what kombu's Redis transport sends for each task:
//
//	producer: LPUSH <queue> <message>                      (1 round trip)
//	worker:   BRPOP celery celery\x06\x163 celery\x06\x166 celery\x06\x169 1
//	          MULTI; ZADD unacked_index <time> <tag>;
//	                 HSET unacked <tag> <message>; EXEC    (1 write, 4 replies)
//	ack:      MULTI; ZREM unacked_index <tag>;
//	                 HDEL unacked <tag>; EXEC              (1 write, 4 replies)
//
// The ack is a MULTI/EXEC transaction, not a bare HDEL+ZREM pipeline,
// because kombu acks through a redis-py pipeline, which is transactional by
// default. The key order in BRPOP is kombu's priority order, so BRPOP is
// strict priority: while "celery" has messages the other lists wait. The
// latency tail therefore includes that (realistic) priority starvation,
// identically for both servers.

// celeryQueues are the list keys for priorities 0, 3, 6 and 9: kombu appends
// "\x06\x16" plus the priority to the queue name.
var celeryQueues = []string{"celery", "celery\x06\x163", "celery\x06\x166", "celery\x06\x169"}

const (
	celeryBodySize   = 1024
	celeryUnacked    = "unacked"
	celeryUnackedIdx = "unacked_index"
)

type celeryParams struct {
	messages  int
	producers int
	consumers int
	// inflight caps published-but-not-yet-consumed messages. Without a cap
	// producers (one cheap LPUSH per message) outrun consumers (three round
	// trips per message), the backlog grows for the whole run, and the
	// "latency" is just the run length. With a cap the backlog stays small,
	// consumers regularly find queues empty and block in BRPOP (the normal
	// state of a Celery worker), and latency reflects the server.
	inflight int
	timeout  time.Duration
}

type celeryResult struct {
	Messages int
	Elapsed  time.Duration // first publish to last ack
	Rate     float64       // messages per second, end to end
	P50, P99 time.Duration // publish (before LPUSH) to consume (BRPOP reply)
	Warnings []string
}

// celeryBodyTemplate is a Celery-protocol-shaped JSON envelope; %s is the
// 36-char delivery tag (twice), %019d the publish timestamp in ns since the
// run's origin. Fixed-width fields keep every message exactly
// celeryBodySize bytes. The padding stands in for the base64 task body.
const celeryBodyTemplate = `{"body":"%s","content-encoding":"utf-8","content-type":"application/json",` +
	`"headers":{"lang":"py","task":"bench.tasks.add","id":"%s","retries":0,"ts":%019d},` +
	`"properties":{"correlation_id":"%s","delivery_mode":2,"delivery_tag":"%s",` +
	`"delivery_info":{"exchange":"","routing_key":"celery"},"priority":0,"body_encoding":"base64"}}`

var celeryPadding = func() string {
	n := celeryBodySize - len(fmt.Sprintf(celeryBodyTemplate, "", celeryTag(0), 0, celeryTag(0), celeryTag(0)))
	return strings.Repeat("A", n)
}()

// celeryTag formats seq as a UUID-shaped delivery tag (36 chars).
func celeryTag(seq int64) string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", uint32(seq>>48), uint64(seq)&0xffffffffffff)
}

func celeryBody(seq int64, ts time.Duration) string {
	tag := celeryTag(seq)
	return fmt.Sprintf(celeryBodyTemplate, celeryPadding, tag, int64(ts), tag, tag)
}

// parseCeleryBody recovers the publish timestamp and delivery tag.
func parseCeleryBody(body string) (time.Duration, string, error) {
	i := strings.Index(body, `"ts":`)
	j := strings.Index(body, `"delivery_tag":"`)
	if i < 0 || j < 0 || i+5+19 > len(body) || j+16+36 > len(body) {
		return 0, "", fmt.Errorf("message is not one of ours: %.60q", body)
	}
	ts, err := strconv.ParseInt(body[i+5:i+5+19], 10, 64)
	if err != nil {
		return 0, "", fmt.Errorf("bad timestamp in message: %v", err)
	}
	return time.Duration(ts), body[j+16 : j+16+36], nil
}

// runCeleryMix runs one Celery mix against addr.
func runCeleryMix(parent context.Context, addr string, p celeryParams) (celeryResult, error) {
	ctx, cancel := context.WithTimeout(parent, p.timeout)
	defer cancel()

	// Connect everything first: connection setup is not part of the rate.
	var conns []*Client
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	dial := func() (*Client, error) {
		c, err := Dial(ctx, addr)
		if err == nil {
			conns = append(conns, c)
		}
		return c, err
	}
	producers := make([]*Client, p.producers)
	consumers := make([]*Client, p.consumers)
	for i := range producers {
		var err error
		if producers[i], err = dial(); err != nil {
			return celeryResult{}, err
		}
	}
	for i := range consumers {
		var err error
		if consumers[i], err = dial(); err != nil {
			return celeryResult{}, err
		}
	}
	// Closing the sockets is the only way to interrupt a goroutine blocked
	// in BRPOP; it happens on timeout, on the first error and at the end.
	go func() {
		<-ctx.Done()
		for _, c := range append(producers, consumers...) {
			c.Close()
		}
	}()

	var (
		errMu    sync.Mutex
		firstErr error
	)
	fail := func(err error) {
		errMu.Lock()
		// Errors after cancellation are consequences of closed sockets.
		if firstErr == nil && ctx.Err() == nil {
			firstErr = err
		}
		errMu.Unlock()
		cancel()
	}

	total := int64(p.messages)
	sem := make(chan struct{}, p.inflight)
	var next, acked atomic.Int64
	var end time.Time
	lat := make([][]time.Duration, p.consumers)
	origin := time.Now() // timestamps are monotonic offsets from here

	var wg sync.WaitGroup
	for _, c := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				seq := next.Add(1)
				if seq > total {
					return
				}
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					return
				}
				body := celeryBody(seq, time.Since(origin))
				if _, err := c.DoOK("LPUSH", celeryQueues[seq%int64(len(celeryQueues))], body); err != nil {
					fail(fmt.Errorf("LPUSH: %w", err))
					return
				}
			}
		}()
	}
	for idx, c := range consumers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat[idx] = make([]time.Duration, 0, p.messages/p.consumers+16)
			brpop := append(append([]string{"BRPOP"}, celeryQueues...), "1")
			for acked.Load() < total {
				r, err := c.DoOK(brpop...)
				if err != nil {
					fail(fmt.Errorf("BRPOP: %w", err))
					return
				}
				if r.Nil {
					continue // 1 s timeout with nothing queued
				}
				if r.Type != '*' || len(r.Array) != 2 {
					fail(fmt.Errorf("BRPOP: unexpected reply %+v", r))
					return
				}
				body := r.Array[1].Str
				ts, tag, err := parseCeleryBody(body)
				if err != nil {
					fail(err)
					return
				}
				lat[idx] = append(lat[idx], time.Since(origin)-ts)
				<-sem

				score := strconv.FormatFloat(float64(time.Now().UnixNano())/1e9, 'f', 6, 64)
				if err := transaction(c, []string{"ZADD", celeryUnackedIdx, score, tag}, []string{"HSET", celeryUnacked, tag, body}); err != nil {
					fail(fmt.Errorf("unacked bookkeeping: %w", err))
					return
				}
				if err := transaction(c, []string{"ZREM", celeryUnackedIdx, tag}, []string{"HDEL", celeryUnacked, tag}); err != nil {
					fail(fmt.Errorf("ack: %w", err))
					return
				}
				if acked.Add(1) == total {
					end = time.Now()
					cancel() // wake consumers still blocked in BRPOP
					return
				}
			}
		}()
	}
	wg.Wait()

	res := celeryResult{Messages: int(acked.Load())}
	switch {
	case acked.Load() == total:
	case firstErr != nil:
		return res, firstErr
	case parent.Err() != nil:
		return res, parent.Err()
	default:
		return res, fmt.Errorf("timed out after %v with %d/%d messages acked", p.timeout, acked.Load(), total)
	}
	res.Elapsed = end.Sub(origin)
	res.Rate = float64(total) / res.Elapsed.Seconds()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	res.P50 = percentileDur(all, 0.50)
	res.P99 = percentileDur(all, 0.99)
	res.Warnings = celeryLeftovers(parent, addr)
	return res, nil
}

// transaction sends MULTI, the commands and EXEC in one write and checks
// all replies: +OK, +QUEUED per command, then the EXEC array.
func transaction(c *Client, cmds ...[]string) error {
	c.Send("MULTI")
	for _, cmd := range cmds {
		c.Send(cmd...)
	}
	c.Send("EXEC")
	if err := c.Flush(); err != nil {
		return err
	}
	var firstErr error
	for i := 0; i < len(cmds)+2; i++ {
		r, err := c.Read()
		if err != nil {
			return err
		}
		if err := r.Err(); err != nil && firstErr == nil {
			firstErr = err
		}
		if i == len(cmds)+1 && firstErr == nil && (r.Type != '*' || r.Nil || len(r.Array) != len(cmds)) {
			firstErr = fmt.Errorf("EXEC: unexpected reply %+v", r)
		}
	}
	return firstErr
}

// celeryLeftovers checks the end state: every message consumed and acked.
// Anything left means the server lost or duplicated an operation, which
// makes the throughput number suspect, so it is reported with it.
func celeryLeftovers(ctx context.Context, addr string) []string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, addr)
	if err != nil {
		return []string{"end-state check: " + err.Error()}
	}
	defer c.Close()
	deadline, _ := ctx.Deadline()
	c.SetDeadline(deadline)
	var warns []string
	check := func(args ...string) {
		r, err := c.DoOK(args...)
		switch {
		case err != nil:
			warns = append(warns, fmt.Sprintf("end-state %s: %v", args[0], err))
		case r.Type != ':':
			warns = append(warns, fmt.Sprintf("end-state %s %q: unexpected reply %+v", args[0], args[1], r))
		case r.Int != 0:
			warns = append(warns, fmt.Sprintf("%s %q = %d after the run, want 0", args[0], args[1], r.Int))
		}
	}
	for _, q := range celeryQueues {
		check("LLEN", q)
	}
	check("HLEN", celeryUnacked)
	check("ZCARD", celeryUnackedIdx)
	return warns
}

// celeryCell collects per-round results of one server.
type celeryCell struct {
	rate, p50, p99 []float64 // msg/s, ms, ms
	errs           []string
}

// runCeleryPhase runs the mix cfg.rounds times per server, alternating the
// order like the redis-benchmark phase.
func runCeleryPhase(ctx context.Context, cfg *config, slots []*serverSlot, rep *report) map[string]*celeryCell {
	out := map[string]*celeryCell{}
	for _, sl := range slots {
		out[sl.spec.Name] = &celeryCell{}
	}
	params := celeryParams{
		messages:  cfg.celeryMessages,
		producers: cfg.celeryProducers,
		consumers: cfg.celeryConsumers,
		inflight:  cfg.celeryInflight,
		timeout:   cfg.celeryTimeout,
	}
	for round := 0; round < cfg.rounds; round++ {
		for _, sl := range roundOrder(slots, round) {
			if ctx.Err() != nil {
				return out
			}
			cell := out[sl.spec.Name]
			res, err := runOneCelery(ctx, sl, params)
			if err != nil {
				if ctx.Err() != nil {
					return out
				}
				cell.errs = append(cell.errs, err.Error())
				rep.notef("celery mix on %s: %v", sl.spec.Name, err)
				progress("[celery] round %d  %-9s n/a (%v)", round+1, sl.spec.Name, err)
				continue
			}
			cell.rate = append(cell.rate, res.Rate)
			cell.p50 = append(cell.p50, ms(res.P50))
			cell.p99 = append(cell.p99, ms(res.P99))
			for _, w := range res.Warnings {
				rep.notef("celery mix on %s: %s", sl.spec.Name, w)
			}
			progress("[celery] round %d  %-9s %8.0f msg/s  p50 %7.3f ms  p99 %7.3f ms  (%d msgs in %v)",
				round+1, sl.spec.Name, res.Rate, ms(res.P50), ms(res.P99), res.Messages, res.Elapsed.Round(time.Millisecond))
		}
	}
	return out
}

func runOneCelery(ctx context.Context, sl *serverSlot, p celeryParams) (celeryResult, error) {
	srv, err := sl.get(ctx, "before the celery mix")
	if err != nil {
		return celeryResult{}, fmt.Errorf("server not running: %v", err)
	}
	if err := flushAll(ctx, srv); err != nil {
		sl.rep.notef("FLUSHALL failed on %s (%v); runs share state", srv.Name, err)
	}
	res, err := runCeleryMix(ctx, srv.Addr(), p)
	if err != nil && !srv.alive() {
		err = errors.Join(err, fmt.Errorf("server exited: %v", srv.waitErr))
	}
	return res, err
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
