package results

import (
	"strconv"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/resp"
	"github.com/celerity/celerity/resp/resptest"
)

// A database past the synchronous limit is counted by the cron, a bounded
// slice per tick; the command answers with the last complete walk.
func TestStatsBackgroundWalk(t *testing.T) {
	r := New(zerolog.Nop())
	r.syncMax = 10
	s := resptest.NewServer(t, resptest.WithExtensions(r.Extension()))
	c := resptest.Dial(t, s.Addr())
	for i := 0; i < 700; i++ { // several walkBatch slices
		state := "SUCCESS"
		if i%7 == 0 {
			state = "FAILURE"
		}
		require.Equal(t, "OK", c.Do("SET", "celery-task-meta-"+strconv.Itoa(i), `{"status": "`+state+`"}`).Str)
	}
	field := func(v resp.Value, name string) resp.Value {
		for i := 0; i+1 < len(v.Elems); i += 2 {
			if v.Elems[i].Str == name {
				return v.Elems[i+1]
			}
		}
		t.Fatalf("no %s in %+v", name, v)
		return resp.Value{}
	}
	first := c.Do("RESULTS.STATS")
	assert.Equal(t, "snapshot", field(first, "source").Str)
	var v resp.Value
	require.Eventually(t, func() bool {
		v = c.Do("RESULTS.STATS")
		return field(v, "complete").Int == 1
	}, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, int64(700), field(v, "task_results").Int)
	states := field(v, "states")
	require.Len(t, states.Elems, 4)
	assert.Equal(t, "FAILURE", states.Elems[0].Str)
	assert.Equal(t, int64(100), states.Elems[1].Int)
	assert.Equal(t, int64(600), states.Elems[3].Int)
	assert.GreaterOrEqual(t, field(v, "age_ms").Int, int64(0))
	assert.Contains(t, c.Do("INFO", "results").Str, "results_background_walks:1\r\n")
}
