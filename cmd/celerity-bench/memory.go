package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// memQueueKey is the list the memory phase fills: one long queue, which is
// how a Celery backlog looks.
const memQueueKey = "celery"

// memBatch is the pipelining depth of the fill (1000 RPUSHes per write).
const memBatch = 1000

type memResult struct {
	N                     int
	RSSBefore, RSSAfter   int64
	UsedBefore, UsedAfter int64
	HaveUsed              bool // server answered INFO memory with used_memory
}

func (m memResult) rssPerMsg() float64 {
	return float64(m.RSSAfter-m.RSSBefore) / float64(m.N)
}

func (m memResult) usedPerMsg() float64 {
	return float64(m.UsedAfter-m.UsedBefore) / float64(m.N)
}

// runMemoryPhase measures each server on its own fresh instance, one after
// the other, so two multi-GB heaps never compete for RAM and neither
// measurement is disturbed by the benchmark traffic that came before.
func runMemoryPhase(ctx context.Context, cfg *config, specs []serverSpec, reg *reaper, rep *report) map[string]*memResult {
	out := map[string]*memResult{}
	for _, spec := range specs {
		if ctx.Err() != nil {
			return out
		}
		res, err := measureMemory(ctx, cfg, spec, reg, rep)
		if err != nil {
			if ctx.Err() != nil {
				return out
			}
			rep.notef("memory on %s: %v", spec.Name, err)
			progress("[memory] %-9s n/a (%v)", spec.Name, err)
			continue
		}
		out[spec.Name] = &res
		progress("[memory] %-9s RSS %.1f -> %.1f MiB: %.0f bytes per 1 KB message",
			spec.Name, mib(res.RSSBefore), mib(res.RSSAfter), res.rssPerMsg())
	}
	return out
}

func measureMemory(ctx context.Context, cfg *config, spec serverSpec, reg *reaper, rep *report) (memResult, error) {
	res := memResult{N: cfg.memMessages}
	srv, err := startServer(ctx, spec, reg, cfg.startTimeout, cfg.stopTimeout)
	if err != nil {
		return res, err
	}
	defer srv.stop(cfg.stopTimeout)
	rep.addServerArgv(spec.Name, srv.Argv)

	c, err := Dial(ctx, srv.Addr())
	if err != nil {
		return res, err
	}
	defer c.Close()
	// Bound everything: a server that stops answering must not hang us.
	c.SetDeadline(time.Now().Add(cfg.runTimeout))

	if res.RSSBefore, err = srv.rssBytes(); err != nil {
		return res, err
	}
	res.UsedBefore, res.HaveUsed = usedMemory(c)

	for sent := 0; sent < res.N; {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		b := min(memBatch, res.N-sent)
		for i := 0; i < b; i++ {
			// Distinct bodies, as in a real queue; the content cannot be
			// shared or deduplicated by either server.
			c.Send("RPUSH", memQueueKey, celeryBody(int64(sent+i), 0))
		}
		if err := c.Flush(); err != nil {
			return res, fmt.Errorf("RPUSH batch at %d: %w", sent, err)
		}
		for i := 0; i < b; i++ {
			r, err := c.Read()
			if err != nil {
				return res, fmt.Errorf("RPUSH batch at %d: %w", sent, err)
			}
			if err := r.Err(); err != nil {
				return res, fmt.Errorf("RPUSH: %w", err)
			}
		}
		sent += b
	}
	r, err := c.DoOK("LLEN", memQueueKey)
	if err != nil {
		return res, fmt.Errorf("LLEN: %w", err)
	}
	if r.Int != int64(res.N) {
		return res, fmt.Errorf("LLEN %s = %d after pushing %d", memQueueKey, r.Int, res.N)
	}
	if res.RSSAfter, err = srv.rssBytes(); err != nil {
		return res, err
	}
	if res.HaveUsed {
		res.UsedAfter, res.HaveUsed = usedMemory(c)
	}
	return res, nil
}

// usedMemory returns INFO memory's used_memory, if the server provides it.
func usedMemory(c *Client) (int64, bool) {
	r, err := c.DoOK("INFO", "memory")
	if err != nil || r.Type != '$' || r.Nil {
		return 0, false
	}
	v, ok := infoField(r.Str, "used_memory")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

// infoField returns the value of field in an INFO reply ("field:value"
// lines, CRLF-separated, "# Section" headers).
func infoField(info, field string) (string, bool) {
	for _, line := range strings.Split(info, "\n") {
		line = strings.TrimRight(line, "\r")
		if k, v, ok := strings.Cut(line, ":"); ok && k == field {
			return v, true
		}
	}
	return "", false
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
