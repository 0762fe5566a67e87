package resp

import (
	"time"
)

// cronLoop is Celerity's serverCron: hz times a second it runs background
// work as units under the engine lock, each with a time budget.
func (s *Server) cronLoop() {
	s.mu.Lock()
	hz := s.cfg.HZ
	s.mu.Unlock()
	t := time.NewTicker(time.Second / time.Duration(clampHZ(hz)))
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case now := <-t.C:
			s.lock()
			s.cron(now)
			if h := clampHZ(s.cfg.HZ); h != hz {
				hz = h
				t.Reset(time.Second / time.Duration(hz))
			}
			s.mu.Unlock()
		}
	}
}

// clampHZ bounds hz to Redis's 1..500.
func clampHZ(hz int) int {
	if hz < 1 {
		return 1
	}
	if hz > 500 {
		return 500
	}
	return hz
}

// cron runs one tick. Called with the engine lock held.
func (s *Server) cron(now time.Time) {
	if s.loading {
		return // nothing expires while the AOF loads, as in Redis
	}
	if s.busyClient != nil {
		// A long script has lent out the lock (busy.go): it still owns
		// the dataset, so nothing may expire under it, and its client
		// must not be closed as idle. Redis's whileBlockedCron likewise
		// only keeps the statistics going.
		s.sampleInstantaneous(now)
		return
	}
	// Active expiry: like Redis's slow cycle, at most 25% of a tick; none
	// while clients are paused (pause.go).
	if !s.pausedDataset() {
		budget := time.Second / time.Duration(clampHZ(s.cfg.HZ)) / 4
		start := time.Now()
		s.ks.ActiveExpireCycle(budget)
		elapsed := time.Since(start)
		s.stats.expireCycleCPUMs += elapsed.Milliseconds()
		s.latencyAddSampleIfNeeded("expire-cycle", elapsed)
	}
	s.cronLatency()

	s.evictionCron()
	if s.cfg.MaxMemoryClients != 0 {
		s.clientMemoryCron()
	}
	s.trackPeakMemory()
	s.sampleInstantaneous(now)
	s.closeTimedOutClients(now)
	s.rewriteCron()
	s.snapshotCron(now)
	s.extensionsCron(now)
	if s.tracking.clients > 0 {
		// Even when idle: CONFIG SET may have lowered the cap.
		s.trackingLimitUsedSlots()
	}
	s.trackingBroadcast() // keys expired or evicted under BCAST prefixes
}

// sampleInstantaneous feeds the instantaneous_* INFO metrics, averaged over
// the last 16 samples as Redis does.
func (s *Server) sampleInstantaneous(now time.Time) {
	st := &s.stats
	if st.lastSampleTime.IsZero() {
		st.lastSampleTime = now
		st.lastSampleOps = st.commands
		st.lastSampleIn = st.netInput.Load()
		st.lastSampleOut = st.netOutput.Load()
		return
	}
	dt := now.Sub(st.lastSampleTime).Milliseconds()
	if dt < 100 {
		return
	}
	in, out := st.netInput.Load(), st.netOutput.Load()
	i := st.sampleIdx % len(st.opsSamples)
	st.opsSamples[i] = (st.commands - st.lastSampleOps) * 1000 / dt
	st.inSamples[i] = (in - st.lastSampleIn) * 1000 / dt
	st.outSamples[i] = (out - st.lastSampleOut) * 1000 / dt
	st.sampleIdx++
	st.lastSampleTime, st.lastSampleOps, st.lastSampleIn, st.lastSampleOut = now, st.commands, in, out
}

func sampleMean(xs *[16]int64) int64 {
	var sum int64
	for _, x := range xs {
		sum += x
	}
	return sum / int64(len(xs))
}

// closeTimedOutClients closes clients idle for more than "timeout" seconds.
// Pub/sub, blocked (or held by CLIENT PAUSE) and monitor clients are
// exempt, as in Redis.
func (s *Server) closeTimedOutClients(now time.Time) {
	if s.cfg.Timeout <= 0 {
		return
	}
	limit := now.UnixMilli() - int64(s.cfg.Timeout)*1000
	for _, c := range s.clients {
		if c.flags&(flagPubsub|flagBlocked|flagPostponed|flagMonitor) != 0 {
			continue
		}
		if c.lastMs < limit {
			s.log.Debug().Int64("id", c.id).Msg("Closing idle client")
			c.kill()
		}
	}
}
