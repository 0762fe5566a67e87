package redbeat

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The expected next runs were computed by Celery 5.7.0 itself
// (crontab(...).remaining_estimate(last_run_at) with the app timezone set),
// not by hand.
func TestCrontabNextRunMatchesCelery(t *testing.T) {
	for _, tc := range []struct {
		fields   [5]string // minute, hour, day_of_week, day_of_month, month_of_year
		tz       string
		lastRun  string // wall clock in tz
		wantNext string
	}{
		{[5]string{"*", "*", "*", "*", "*"}, "UTC", "2026-03-04 10:05:30", "2026-03-04T10:06:00+00:00"},
		{[5]string{"*/15", "*", "*", "*", "*"}, "UTC", "2026-03-04 10:05:00", "2026-03-04T10:15:00+00:00"},
		{[5]string{"0", "9", "*", "*", "*"}, "UTC", "2026-03-04 09:00:00", "2026-03-05T09:00:00+00:00"},
		{[5]string{"30", "2", "0", "*", "*"}, "UTC", "2026-03-04 10:00:00", "2026-03-08T02:30:00+00:00"},
		{[5]string{"0", "0", "mon-fri", "*", "*"}, "UTC", "2026-03-06 12:00:00", "2026-03-09T00:00:00+00:00"},
		{[5]string{"0", "0", "sunday", "*", "*"}, "UTC", "2026-03-06 12:00:00", "2026-03-08T00:00:00+00:00"},
		{[5]string{"0", "12", "1", "13", "*"}, "UTC", "2026-03-04 00:00:00", "2026-04-13T12:00:00+00:00"},
		{[5]string{"0", "12", "*", "13", "*"}, "UTC", "2026-03-04 00:00:00", "2026-03-13T12:00:00+00:00"},
		{[5]string{"0", "8", "*", "1", "1,7"}, "UTC", "2026-03-04 00:00:00", "2026-07-01T08:00:00+00:00"},
		{[5]string{"0", "3", "*", "*", "*"}, "Europe/Berlin", "2026-03-28 03:00:00", "2026-03-29T01:00:00+00:00"},
		{[5]string{"15", "9", "*", "*", "*"}, "Europe/Berlin", "2026-03-04 10:00:00", "2026-03-05T08:15:00+00:00"},
		{[5]string{"0", "0", "*", "*", "*"}, "UTC", "2026-12-31 23:59:59", "2027-01-01T00:00:00+00:00"},
	} {
		loc, err := time.LoadLocation(tc.tz)
		require.NoError(t, err)
		last, err := time.ParseInLocation("2006-01-02 15:04:05", tc.lastRun, loc)
		require.NoError(t, err)
		want, err := time.Parse(time.RFC3339, tc.wantNext)
		require.NoError(t, err)
		e := &Entry{Kind: kindCrontab, Cron: tc.fields, LastRun: last, loc: loc}
		got, ok := e.nextRun(last.Add(time.Second))
		require.True(t, ok, "%v", tc.fields)
		assert.Equal(t, want.UTC(), got.UTC(), "%v in %s after %s", tc.fields, tc.tz, tc.lastRun)
	}
}

func TestDecodeEntry(t *testing.T) {
	def := `{"name": "every-5s", "task": "app.tasks.ping", "args": [1], "kwargs": {}, "options": {},
		"schedule": {"__type__": "interval", "every": 5.0, "relative": false}, "enabled": true}`
	meta := `{"last_run_at": {"__type__": "datetime", "year": 2026, "month": 3, "day": 4, "hour": 10,
		"minute": 0, "second": 1, "microsecond": 250000, "timezone": "UTC"}, "total_run_count": 7}`
	e, err := decodeEntry([]byte(def), []byte(meta))
	require.NoError(t, err)
	assert.Equal(t, "every-5s", e.Name)
	assert.Equal(t, "app.tasks.ping", e.Task)
	assert.True(t, e.Enabled)
	assert.Equal(t, kindInterval, e.Kind)
	assert.Equal(t, 5.0, e.Every)
	assert.Equal(t, int64(7), e.RunCount)
	assert.Equal(t, time.Date(2026, 3, 4, 10, 0, 1, 250_000_000, time.UTC), e.LastRun)
	next, ok := e.nextRun(e.LastRun)
	require.True(t, ok)
	assert.Equal(t, e.LastRun.Add(5*time.Second), next)

	// A fixed-offset datetime (timezone in seconds), a crontab with
	// numbers and lists, a disabled entry, no meta.
	def = `{"name": "c", "task": "t", "schedule": {"__type__": "crontab", "minute": 0, "hour": [6, 18],
		"day_of_week": "*", "day_of_month": "*", "month_of_year": "*"}, "enabled": false}`
	meta = `{"last_run_at": {"__type__": "datetime", "year": 2026, "month": 3, "day": 4, "hour": 7,
		"minute": 0, "second": 0, "microsecond": 0, "timezone": 3600.0}}`
	e, err = decodeEntry([]byte(def), []byte(meta))
	require.NoError(t, err)
	assert.False(t, e.Enabled)
	assert.Equal(t, [5]string{"0", "6,18", "*", "*", "*"}, e.Cron)
	assert.Equal(t, "3600", e.LastZone)
	next, ok = e.nextRun(e.LastRun)
	require.True(t, ok)
	assert.Equal(t, time.Date(2026, 3, 4, 17, 0, 0, 0, time.UTC), next.UTC(), "18:00 at UTC+1")

	e, err = decodeEntry([]byte(def), nil)
	require.NoError(t, err)
	assert.True(t, e.LastRun.IsZero())
	now := time.Unix(1_800_000_000, 0)
	next, ok = e.nextRun(now)
	require.True(t, ok)
	assert.Equal(t, now, next, "never run: due now")

	// Kinds without a rule here are kept raw.
	e, err = decodeEntry([]byte(`{"name": "r", "task": "t", "schedule": {"__type__": "rrule", "freq": 3}}`), nil)
	require.NoError(t, err)
	assert.Equal(t, "rrule", e.Kind)
	assert.JSONEq(t, `{"__type__": "rrule", "freq": 3}`, e.Raw)
	_, ok = e.nextRun(now)
	assert.False(t, ok)

	for _, bad := range []string{`nope`, `{"schedule": 5}`, `[]`} {
		e, err := decodeEntry([]byte(bad), nil)
		if err == nil {
			assert.NotEqual(t, kindInterval, e.Kind, bad)
		}
	}
	_, err = decodeEntry([]byte(`{"name": "x"}`), []byte(`{"last_run_at": {"__type__": "datetime", "month": 13}}`))
	assert.Error(t, err)
	_, err = decodeEntry([]byte(`{"name": "x"}`), []byte(`{"last_run_at": {"__type__": "datetime", "year": 2026, "month": 1, "day": 1, "timezone": "Mars/Olympus"}}`))
	assert.Error(t, err)
}
