package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// procStatus reads a field of /proc/<pid>/status in bytes (VmRSS, VmHWM).
func procStatus(t *testing.T, pid int, field string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			require.NoError(t, err)
			return kb << 10
		}
	}
	t.Fatalf("/proc/%d/status has no %s", pid, field)
	return 0
}

// TestPubSubHalfMillionChannelResubscribe is the Celery result backend
// after a reconnect (celery#5320): one SUBSCRIBE with 500,000
// celery-task-meta channels, then the same SUBSCRIBE again. Every
// confirmation is checked byte for byte, a PUBLISH to one of the channels
// reaches the subscriber, and the server's peak memory stays bounded.
// (Redis 7.0.15 itself drops this client: its 44 MB of confirmations pass
// the 32 MB pubsub hard limit. Celerity applies that limit to messages
// published to a subscriber, not to the answers to its own commands.)
func TestPubSubHalfMillionChannelResubscribe(t *testing.T) {
	const n = 500000
	s := startServer(t)
	admin := dial(t, s.addr())
	sub := dial(t, s.addr())
	names := make([]string, n)
	var req bytes.Buffer
	req.WriteString("*" + strconv.Itoa(n+1) + "\r\n$9\r\nSUBSCRIBE\r\n")
	for i := range names {
		names[i] = fmt.Sprintf("celery-task-meta-%08x-%04x-4%03x-8%03x-%012x", i, i&0xffff, i&0xfff, (i>>12)&0xfff, i*7919)
		req.WriteString("$" + strconv.Itoa(len(names[i])) + "\r\n" + names[i] + "\r\n")
	}
	confirmations := func(first bool) []byte {
		var b bytes.Buffer
		for i, name := range names {
			count := n
			if first {
				count = i + 1
			}
			b.WriteString("*3\r\n$9\r\nsubscribe\r\n$" + strconv.Itoa(len(name)) + "\r\n" + name + "\r\n:" + strconv.Itoa(count) + "\r\n")
		}
		return b.Bytes()
	}
	rssBefore := procStatus(t, s.cmd.Process.Pid, "VmRSS")
	for round, first := range []bool{true, false} {
		want := confirmations(first)
		start := time.Now()
		_, err := sub.c.Write(req.Bytes())
		require.NoError(t, err)
		got := make([]byte, len(want))
		sub.c.SetReadDeadline(time.Now().Add(60 * time.Second))
		_, err = io.ReadFull(sub.r, got)
		require.NoError(t, err, "round %d", round)
		elapsed := time.Since(start)
		require.True(t, bytes.Equal(want, got), "round %d: confirmations differ", round)
		t.Logf("round %d: SUBSCRIBE of %d channels answered in %v (%d bytes)", round, n, elapsed.Round(time.Millisecond), len(got))
	}
	assert.Equal(t, strconv.Itoa(n), infoField(t, admin, "stats", "pubsub_channels"))
	assert.Equal(t, "1", admin.do("PUBLISH", names[123456], "SUCCESS"))
	assert.Equal(t, "0", admin.do("PUBLISH", "celery-task-meta-unknown", "x"))
	msg, err := sub.read(5 * time.Second)
	require.NoError(t, err)
	assert.Equal(t, "[message "+names[123456]+" SUCCESS]", msg)
	// The subscriber is in RESP2 subscribed mode: PING still answers.
	assert.Equal(t, "[pong ]", sub.do("PING"))

	rss := procStatus(t, s.cmd.Process.Pid, "VmRSS")
	peak := procStatus(t, s.cmd.Process.Pid, "VmHWM")
	t.Logf("server memory: RSS %d MB before, %d MB with %d channels, peak %d MB (request %d MB, confirmations %d MB per round)",
		rssBefore>>20, rss>>20, n, peak>>20, req.Len()>>20, len(confirmations(false))>>20)
	// Redis 7.0.15 with limits lifted peaks near 230 MB here. The bound
	// leaves room for Go's heap growth but catches anything quadratic or
	// a copy per channel too many.
	assert.Less(t, peak, int64(768<<20), "peak RSS")

	// Closing the connection drops all of them.
	sub.c.Close()
	waitFor(t, "the subscriber's channels to go", func() bool {
		return infoField(t, admin, "stats", "pubsub_channels") == "0"
	})
}

// TestPubSubSlowSubscriberIsDisconnectedAtTheHardLimit floods a subscriber
// that never reads. It must be disconnected once its pending output
// reaches the pubsub hard limit, with Redis's log line (and no payload in
// the log); the publisher is never blocked (every PUBLISH is answered,
// :1 turning into :0 once the subscriber is gone) and the dataset is
// untouched.
func TestPubSubSlowSubscriberIsDisconnectedAtTheHardLimit(t *testing.T) {
	const hard = 4 << 20
	s := startServer(t)
	pub := dial(t, s.addr())
	for i := 0; i < 100; i++ {
		pub.do("SET", "key:"+strconv.Itoa(i), "v")
	}
	pub.do("RPUSH", "celery", "task-1", "task-2")
	dbsize := pub.do("DBSIZE")
	require.Equal(t, "OK", pub.do("CONFIG", "SET", "client-output-buffer-limit", "pubsub 4mb 1mb 60"))

	slow := dial(t, s.addr())
	require.NoError(t, slow.c.(interface{ SetReadBuffer(int) error }).SetReadBuffer(4096))
	require.Equal(t, "[subscribe ws:user:42 1]", slow.do("SUBSCRIBE", "ws:user:42"))

	// A healthy subscriber on another channel keeps receiving throughout.
	healthy := dial(t, s.addr())
	require.Equal(t, "[subscribe ws:user:7 1]", healthy.do("SUBSCRIBE", "ws:user:7"))

	payload := "SECRET-PAYLOAD-" + strings.Repeat("x", 16<<10)
	const batch, total = 50, 2000 // 2000 x 16 KB = 32 MB, 8x the limit
	w := bufio.NewWriter(pub.c)

	// Baseline: the same flood to a channel nobody listens to.
	start := time.Now()
	for sent := 0; sent < total; sent += batch {
		for i := 0; i < batch; i++ {
			w.Write(encode("PUBLISH", "nobody", payload))
		}
		require.NoError(t, w.Flush())
		for i := 0; i < batch; i++ {
			r, err := pub.read(10 * time.Second)
			require.NoError(t, err)
			require.Equal(t, "0", r)
		}
	}
	baseline := time.Since(start)

	var one, zero int
	start = time.Now()
	var worst time.Duration
	for sent := 0; sent < total; sent += batch {
		t0 := time.Now()
		for i := 0; i < batch; i++ {
			w.Write(encode("PUBLISH", "ws:user:42", payload))
		}
		w.Write(encode("PUBLISH", "ws:user:7", "ping"))
		require.NoError(t, w.Flush())
		for i := 0; i < batch; i++ {
			r, err := pub.read(10 * time.Second)
			require.NoError(t, err, "PUBLISH %d", sent+i)
			switch r {
			case "1":
				one++
			case "0":
				zero++
			default:
				t.Fatalf("PUBLISH answered %q", r)
			}
		}
		r, err := pub.read(10 * time.Second)
		require.NoError(t, err)
		require.Equal(t, "1", r, "the healthy subscriber is still there")
		m, err := healthy.read(10 * time.Second)
		require.NoError(t, err)
		require.Equal(t, "[message ws:user:7 ping]", m)
		worst = max(worst, time.Since(t0))
	}
	elapsed := time.Since(start)
	t.Logf("published %d x %d KB in %v (%.0f msg/s, %.0f MB/s; slowest batch of %d: %v); %d reached the slow subscriber, then %d nobody; "+
		"the same flood to no subscriber took %v",
		total, len(payload)>>10, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds(),
		float64(total*len(payload))/elapsed.Seconds()/(1<<20), batch, worst.Round(time.Millisecond), one, zero,
		baseline.Round(time.Millisecond))
	assert.Positive(t, one)
	assert.Positive(t, zero, "the slow subscriber was never disconnected")
	assert.Equal(t, total, one+zero)
	// The publisher kept going after the disconnection: most of the
	// flood found nobody.
	assert.Greater(t, zero, total/2)

	// The server has let the slow subscriber go: only the healthy one is
	// listed. (Bytes the kernel had accepted before the close may still
	// trickle to the stalled reader; that is TCP's business, as in Redis.)
	waitFor(t, "the slow subscriber to be released", func() bool {
		list := pub.do("CLIENT", "LIST", "TYPE", "pubsub")
		return strings.Count(list, "\n") == 1 && strings.Contains(list, " cmd=subscribe ")
	})
	assert.Equal(t, "[ws:user:7 1]", pub.do("PUBSUB", "NUMSUB", "ws:user:7"))
	assert.Equal(t, "[ws:user:42 0]", pub.do("PUBSUB", "NUMSUB", "ws:user:42"))

	assert.Equal(t, dbsize, pub.do("DBSIZE"), "the dataset is untouched")
	assert.Equal(t, "2", pub.do("LLEN", "celery"))
	assert.Equal(t, "1", infoField(t, pub, "stats", "pubsub_channels"))

	logText, err := os.ReadFile(s.log)
	require.NoError(t, err)
	re := regexp.MustCompile(`Client id=\d+ .*flags=P .*sub=1 .*obl=(\d+) .*omem=(\d+) .*cmd=subscribe .* scheduled to be closed ASAP for overcoming of output buffer limits\.`)
	m := re.FindSubmatch(logText)
	require.NotNil(t, m, "log line missing:\n%s", logText)
	obl, _ := strconv.Atoi(string(m[1]))
	omem, _ := strconv.Atoi(string(m[2]))
	pending := obl + omem
	assert.GreaterOrEqual(t, pending, hard, "closed before the hard limit")
	assert.Less(t, pending, hard+len(payload)+64, "closed only well past the hard limit")
	assert.NotContains(t, string(logText), "SECRET-PAYLOAD", "payloads never reach the log")
}

// TestPubSubSubscribersAreExemptFromIdleTimeout: with timeout 1 an idle
// normal client is closed, an idle subscriber is not (Kombu's and the
// result backend's pub/sub connections sit idle for long stretches).
func TestPubSubSubscribersAreExemptFromIdleTimeout(t *testing.T) {
	s := startServer(t, "--timeout", "1")
	sub := dial(t, s.addr())
	require.Equal(t, "[psubscribe /0.celeryev/worker.* 1]", sub.do("PSUBSCRIBE", "/0.celeryev/worker.*"))
	idle := dial(t, s.addr())
	require.Equal(t, "PONG", idle.do("PING"))
	_, err := idle.read(5 * time.Second)
	require.ErrorIs(t, err, io.EOF, "the idle normal client is closed")
	assert.Equal(t, "[pong health]", sub.do("PING", "health"))
	pub := dial(t, s.addr())
	assert.Equal(t, "1", pub.do("PUBLISH", "/0.celeryev/worker.heartbeat", "hb"))
	m, err := sub.read(5 * time.Second)
	require.NoError(t, err)
	assert.Equal(t, "[pmessage /0.celeryev/worker.* /0.celeryev/worker.heartbeat hb]", m)
}
