package main

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Verbatim redis-benchmark 7.0.15 --csv -q output.
const csvHeader = `"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"` + "\n"

func TestParseBenchCSV(t *testing.T) {
	out := csvHeader +
		`"PING_MBULK","142857.14","0.187","0.072","0.183","0.247","0.279","0.327"` + "\n" +
		`"SET","142857.14","0.188","0.048","0.183","0.255","0.287","0.335"` + "\n"
	rows := parseBenchCSV(out)
	require.Len(t, rows, 2)
	assert.Equal(t, benchRow{Name: "SET", RPS: 142857.14, Avg: 0.188, Min: 0.048, P50: 0.183, P95: 0.255, P99: 0.287, Max: 0.335}, rows[1])
}

func TestParseBenchCSVSkipsNoise(t *testing.T) {
	out := "WARNING: Could not fetch server CONFIG\n" + csvHeader +
		`"GET","1","2","3"` + "\n" + // wrong field count
		`"GET","abc","0.1","0.1","0.1","0.1","0.1","0.1"` + "\n" + // not numeric
		`"GET","99.5","0.1","0.1","0.1","0.1","0.2","0.3"` + "\r\n"
	rows := parseBenchCSV(out)
	require.Len(t, rows, 1)
	assert.Equal(t, 99.5, rows[0].RPS)
	assert.Equal(t, 0.2, rows[0].P99)

	assert.Empty(t, parseBenchCSV(csvHeader), "a failed run prints only the header")
	assert.Empty(t, parseBenchCSV(""))
}

func TestSelectRowBuiltin(t *testing.T) {
	rows := parseBenchCSV(csvHeader +
		`"LPUSH (needed to benchmark LRANGE)","153846.16","0.192","0.072","0.191","0.263","0.375","0.631"` + "\n" +
		`"LRANGE_100 (first 100 elements)","105263.16","0.280","0.120","0.255","0.447","0.759","0.983"` + "\n")
	row, ok := selectRow(rows, scenario{Test: "lrange_100", Row: "LRANGE_100"})
	require.True(t, ok)
	assert.Equal(t, 105263.16, row.RPS)

	_, ok = selectRow(rows, scenario{Test: "lpush", Row: "LPUSH"})
	assert.False(t, ok, "the LRANGE helper row is not the LPUSH test")

	_, ok = selectRow(nil, scenario{Test: "set", Row: "SET"})
	assert.False(t, ok)
}

func TestSelectRowCustomCommand(t *testing.T) {
	sc := scenario{Command: []string{"ZRANGEBYSCORE", "zs", "0", "1000", "LIMIT", "0", "10"}}
	rows := parseBenchCSV(csvHeader + `"ZRANGEBYSCORE zs 0 1000 LIMIT 0 10","133333.34","0.206","0.064","0.199","0.303","0.431","0.543"` + "\n")
	row, ok := selectRow(rows, sc)
	require.True(t, ok)
	assert.Equal(t, 0.431, row.P99)

	// A title that does not match verbatim is still the only row of the run.
	rows[0].Name = "ZRANGEBYSCORE zs 0 1000 LIMIT..."
	_, ok = selectRow(rows, sc)
	assert.True(t, ok)
}

func TestSelectScenarios(t *testing.T) {
	all, err := selectScenarios("all")
	require.NoError(t, err)
	assert.Len(t, all, len(allScenarios()))

	none, err := selectScenarios("none")
	require.NoError(t, err)
	assert.Empty(t, none)

	got, err := selectScenarios("base, publish_10sub")
	require.NoError(t, err)
	var names []string
	for _, sc := range got {
		names = append(names, sc.Name)
	}
	// Table order is kept, whatever the order of the flag.
	assert.Equal(t, []string{"PING", "SET", "GET", "INCR", "SET_1KB", "GET_1KB", "PUBLISH_10SUB"}, names)

	_, err = selectScenarios("SET,NOPE")
	assert.Error(t, err)
}

func TestBenchArgv(t *testing.T) {
	cfg := &config{clients: 50, n: 100000, nPipelined: 1000000}
	sc := scenario{Name: "SET_1KB", Test: "set", Extra: []string{"-d", "1024"}}
	assert.Equal(t, []string{"-h", "127.0.0.1", "-p", "6400", "-c", "50", "-n", "1000000", "-P", "16", "-d", "1024", "-t", "set", "--csv", "-q"},
		benchArgv(cfg, 6400, sc, runSize(cfg, sc, 16), 16))

	custom := scenario{Command: publishCommand, NScale: 0.25}
	argv := benchArgv(cfg, 6400, custom, runSize(cfg, custom, 1), 1)
	// Options first: the first non-option starts the command.
	assert.Equal(t, []string{"--csv", "-q", "PUBLISH", pubsubChannel, "hello-subscribers"}, argv[len(argv)-5:])
	assert.Equal(t, "25000", argv[7])
}

func TestFirstMeaningfulLine(t *testing.T) {
	stderr := "WARNING: Could not fetch server CONFIG\nError from server: ERR unknown command 'LPOP'\n"
	assert.Equal(t, "Error from server: ERR unknown command 'LPOP'", firstMeaningfulLine(stderr, errors.New("exit status 1")))
	assert.Equal(t, "exit status 1", firstMeaningfulLine("\n", errors.New("exit status 1")))
}

func TestEvalshaSHA(t *testing.T) {
	// Must equal what SCRIPT LOAD returns (SHA1 of the script body).
	assert.Len(t, evalshaSHA, 40)
}
