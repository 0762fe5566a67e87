package resp

import (
	"runtime"
	"time"
)

// Long scripts. A script runs as one unit, holding the engine lock, and
// nothing may change the dataset until it ends. Past busy-reply-threshold
// (lua-time-limit) Redis keeps serving the other clients from inside the
// script, answering -BUSY to everything but allow_busy commands (SCRIPT
// KILL, SHUTDOWN NOSAVE, MULTI...), so clients see why they wait and an
// operator can stop the script. Celerity does the same: the script's hook
// calls serveWhileBusy, which lets go of the lock for one round of the
// reactors (its own one re-entered without touching the script's client),
// then takes it back and resumes the script where it was.

// errBusyScript is the reply to commands refused while a script is busy.
const errBusyScript = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."

// serveWhileBusy serves other clients during a long script run by c.
// Called with the engine lock held, from the script's instruction hook;
// returns with it held again and the unit's clock as it was.
func (s *Server) serveWhileBusy(c *Client, started time.Time) {
	if s.busyClient == nil {
		s.busyClient = c
		s.log.Warn().Int64("elapsed_ms", time.Since(started).Milliseconds()).
			Msg("Slow script detected: still in execution. You can try killing the script using the SCRIPT KILL command.")
	}
	r := s.curReactor
	unitTime, unitStart, unitMs := s.ks.UnitTime(), s.unitStart, s.unitMs
	batch := append([]*Command(nil), s.batch...)
	s.batch = s.batch[:0]
	s.curReactor = nil
	s.mu.Unlock()
	if r != nil {
		r.iterate(0, c)
	} else {
		runtime.Gosched()
	}
	s.mu.Lock()
	s.curReactor = r
	s.ks.SetUnitTime(unitTime)
	s.unitStart, s.unitMs = unitStart, unitMs
	s.batch = append(s.batch, batch...)
}

// endBusy marks the long script finished. Called with the engine lock.
func (s *Server) endBusy() { s.busyClient = nil }
