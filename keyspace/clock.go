package keyspace

import "time"

// Clock supplies the current time in Unix milliseconds. Tests inject a
// manual clock; the server uses SystemClock.
type Clock interface {
	NowMs() int64
}

// SystemClock reads the wall clock.
type SystemClock struct{}

// NowMs returns the current Unix time in milliseconds.
func (SystemClock) NowMs() int64 { return time.Now().UnixMilli() }

// ManualClock is a Clock that only moves when told to. Useful in tests.
type ManualClock struct{ Ms int64 }

// NowMs returns the clock's current reading.
func (c *ManualClock) NowMs() int64 { return c.Ms }

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) { c.Ms += d.Milliseconds() }
