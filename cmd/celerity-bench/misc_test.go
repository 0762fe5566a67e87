package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMedian(t *testing.T) {
	_, ok := median(nil)
	assert.False(t, ok)

	m, ok := median([]float64{7})
	assert.True(t, ok)
	assert.Equal(t, 7.0, m)

	in := []float64{3, 1, 2}
	m, _ = median(in)
	assert.Equal(t, 2.0, m)
	assert.Equal(t, []float64{3, 1, 2}, in, "input must not be reordered")

	m, _ = median([]float64{4, 1, 3, 2})
	assert.Equal(t, 2.5, m)
}

func TestPercentileDur(t *testing.T) {
	assert.Equal(t, time.Duration(0), percentileDur(nil, 0.99))
	var s []time.Duration
	for i := 1; i <= 100; i++ {
		s = append(s, time.Duration(i))
	}
	assert.Equal(t, time.Duration(50), percentileDur(s, 0.50))
	assert.Equal(t, time.Duration(99), percentileDur(s, 0.99))
	assert.Equal(t, time.Duration(100), percentileDur(s, 1))
	assert.Equal(t, time.Duration(7), percentileDur(s, 0.07), "no float rounding up at exact ranks")
	assert.Equal(t, time.Duration(1), percentileDur(s[:1], 0.99))
}

func TestParseVmRSS(t *testing.T) {
	status := "Name:\tredis-server\nVmPeak:\t  1000 kB\nVmRSS:\t    9876 kB\nThreads:\t5\n"
	n, err := parseVmRSS([]byte(status))
	require.NoError(t, err)
	assert.Equal(t, int64(9876*1024), n)

	_, err = parseVmRSS([]byte("Name:\tx\n"))
	assert.Error(t, err)
}

func TestInfoField(t *testing.T) {
	info := "# Memory\r\nused_memory:1033480\r\nused_memory_human:1009.26K\r\n"
	v, ok := infoField(info, "used_memory")
	assert.True(t, ok)
	assert.Equal(t, "1033480", v)
	_, ok = infoField(info, "used")
	assert.False(t, ok)
}

func TestCeleryBody(t *testing.T) {
	for _, seq := range []int64{0, 1, 123456789, 1<<50 + 3} {
		ts := 1234567 * time.Microsecond
		body := celeryBody(seq, ts)
		assert.Len(t, body, celeryBodySize)
		gotTS, tag, err := parseCeleryBody(body)
		require.NoError(t, err)
		assert.Equal(t, ts, gotTS)
		assert.Equal(t, celeryTag(seq), tag)
		assert.Len(t, tag, 36)
	}
	assert.NotEqual(t, celeryBody(1, 0), celeryBody(2, 0))
	_, _, err := parseCeleryBody("xxx")
	assert.Error(t, err)
}

func TestTableText(t *testing.T) {
	tb := table{
		header: []string{"test", "rps"},
		right:  []bool{false, true},
		rows:   [][]string{{"SET", "12"}, {"LRANGE_100", "n/a"}},
	}
	assert.Equal(t, ""+
		"test        rps\n"+
		"----------  ---\n"+
		"SET          12\n"+
		"LRANGE_100  n/a\n", tb.text(false))
	md := tb.markdown(false)
	assert.True(t, strings.HasPrefix(md, "| test | rps |\n|---|---:|\n"), md)
}

func TestRatio(t *testing.T) {
	assert.Equal(t, "0.50", ratio(1, true, 2, true))
	assert.Equal(t, "n/a", ratio(1, false, 2, true))
	assert.Equal(t, "n/a", ratio(1, true, 0, true))
}

func TestShellQuote(t *testing.T) {
	assert.Equal(t, `redis-server --save "" --dir '/tmp/a b' -p $PORT`,
		shellJoin([]string{"redis-server", "--save", "", "--dir", "/tmp/a b", "-p", "$PORT"}))
}

func TestTemplateArgv(t *testing.T) {
	argv := []string{"redis-server", "--port", "4242", "--dir", "/tmp/x", "--save", ""}
	got := templateArgv(argv, map[string]string{"--port": "$PORT", "--dir": "$DIR"})
	assert.Equal(t, []string{"redis-server", "--port", "$PORT", "--dir", "$DIR", "--save", ""}, got)
	assert.Equal(t, "4242", argv[2], "input untouched")
}

func TestPrintable(t *testing.T) {
	assert.Equal(t, `ERR 'celery\x06\x163'`, printable("ERR 'celery\x06\x163'"))
	assert.Equal(t, "a\n\tb", printable("a\n\tb"))
}
