package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() { os.Exit(run()) }

type config struct {
	celerity, redis string
	keys, ttl       int
	batch           int
	trafficPerSec   int
	timeout         time.Duration
	near            float64
}

func run() int {
	var c config
	flag.StringVar(&c.celerity, "celerity", "bin/celerity-server", "Celerity server binary (empty: skip)")
	flag.StringVar(&c.redis, "redis", "redis-server", "redis-server binary (empty: skip)")
	flag.IntVar(&c.keys, "keys", 1_000_000, "result keys written")
	flag.IntVar(&c.ttl, "ttl", 10, "their TTL, seconds (SETEX)")
	flag.IntVar(&c.batch, "batch", 1000, "SETEX commands per pipelined batch")
	flag.IntVar(&c.trafficPerSec, "traffic", 10_000, "background commands per second (SET/GET on other keys) during the whole run")
	flag.DurationVar(&c.timeout, "timeout", 2*time.Minute, "give up this long after the last key's deadline")
	flag.Float64Var(&c.near, "near", 0.05, "used_memory is back near baseline when within this fraction of what the fill added")
	flag.Parse()
	fmt.Printf("%d keys, SETEX %d s, %d-command batches, background traffic %d cmd/s\n\n",
		c.keys, c.ttl, c.batch, c.trafficPerSec)
	fmt.Printf("%-9s %7s %9s %9s %12s %11s %10s %8s %11s %11s\n", "server", "fill s", "base MiB", "peak MiB",
		"expires=0 s", "mem-near s", "final MiB", "rss MiB", "max rtt 1", "max rtt 2")
	ok := true
	for _, s := range []struct{ name, bin string }{{"celerity", c.celerity}, {"redis", c.redis}} {
		if s.bin == "" {
			continue
		}
		r, err := measure(s.bin, &c)
		if err != nil {
			fmt.Printf("%-9s error: %v\n", s.name, err)
			ok = false
			continue
		}
		fmt.Printf("%-9s %7.2f %9.1f %9.1f %12s %11s %10.1f %8.1f %11s %11s\n", s.name, r.fill.Seconds(), mib(r.base), mib(r.peak),
			secs(r.zeroAfter), secs(r.nearAfter), mib(r.final), mib(r.rss),
			r.trafficFill.Round(time.Millisecond), r.trafficExpiry.Round(time.Millisecond))
	}
	fmt.Println("\nexpires=0 / mem-near: seconds after the last key's deadline until INFO keyspace shows no key with a TTL /",
		"\nused_memory is back within -near of baseline (negative: before it). max rtt 1 / 2: the slowest",
		"\nbackground SET/GET round trip while filling and waiting / from 1 s before the last deadline on (reclaiming).")
	if !ok {
		return 1
	}
	return 0
}

func secs(d *time.Duration) string {
	if d == nil {
		return "timeout"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 2, 64)
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

type result struct {
	fill                 time.Duration
	base, peak, final    int64
	rss                  int64
	zeroAfter, nearAfter *time.Duration
	// The slowest background round trip while filling and waiting, and
	// from a second before the last deadline on (the reclaiming).
	trafficFill, trafficExpiry time.Duration
}

// sample is one background round trip.
type sample struct {
	at  time.Time
	rtt time.Duration
}

// measure starts bin on a free port, fills it, and watches the keys go.
func measure(bin string, c *config) (*result, error) {
	dir, err := os.MkdirTemp("", "celerity-expiry-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--save", "", "--appendonly", "no", "--logfile", filepath.Join(dir, "server.log"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	cl, err := dialReady(addr, 15*time.Second)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	r := &result{}
	if r.base, err = usedMemory(cl); err != nil {
		return nil, err
	}

	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var samples []sample
	var trafficErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		samples, trafficErr = traffic(ctx, addr, c.trafficPerSec)
	}()
	defer func() { stop(); wg.Wait() }()

	value := func(id string) string {
		return `{"status": "SUCCESS", "result": 42, "traceback": null, "children": [], ` +
			`"date_done": "2026-11-24T09:49:32.123456+00:00", "task_id": "` + id + `"}`
	}
	ttl := strconv.Itoa(c.ttl)
	start := time.Now()
	for i := 0; i < c.keys; i += c.batch {
		n := min(c.batch, c.keys-i)
		for j := i; j < i+n; j++ {
			id := fmt.Sprintf("%08x-0000-4000-8000-%012x", j, j)
			cl.send("SETEX", "celery-task-meta-"+id, ttl, value(id))
		}
		if err := cl.flush(); err != nil {
			return nil, err
		}
		for j := 0; j < n; j++ {
			if _, err := cl.read(); err != nil {
				return nil, err
			}
		}
	}
	r.fill = time.Since(start)
	lastDeadline := time.Now().Add(time.Duration(c.ttl) * time.Second)
	if r.peak, err = usedMemory(cl); err != nil {
		return nil, err
	}
	nearLimit := r.base + int64(float64(r.peak-r.base)*c.near)
	for time.Now().Before(lastDeadline.Add(c.timeout)) {
		info, err := cl.do("INFO", "everything")
		if err != nil {
			return nil, err
		}
		used, _ := infoInt(info, "used_memory")
		r.peak = max(r.peak, used)
		expires := keyspaceExpires(info)
		now := time.Since(lastDeadline)
		if expires == 0 && r.zeroAfter == nil && c.keys > 0 {
			r.zeroAfter = &now
		}
		if used <= nearLimit && r.nearAfter == nil {
			r.nearAfter = &now
		}
		if r.zeroAfter != nil && r.nearAfter != nil {
			r.final = used
			break
		}
		time.Sleep(50 * time.Millisecond) // sampling interval of the observation
	}
	r.rss, _ = rss(cmd.Process.Pid)
	stop()
	wg.Wait()
	for _, sm := range samples {
		if sm.at.Before(lastDeadline.Add(-time.Second)) {
			r.trafficFill = max(r.trafficFill, sm.rtt)
		} else {
			r.trafficExpiry = max(r.trafficExpiry, sm.rtt)
		}
	}
	if trafficErr != nil && !errors.Is(trafficErr, context.Canceled) {
		return r, fmt.Errorf("background traffic: %w", trafficErr)
	}
	return r, nil
}

// traffic sends SET/GET pairs on 1,000 keys without a TTL at perSec
// commands a second (in 10 ms slices) and returns every round trip.
func traffic(ctx context.Context, addr string, perSec int) ([]sample, error) {
	if perSec <= 0 {
		return nil, nil
	}
	cl, err := dialReady(addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	perTick := max(perSec/100, 2) / 2
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var out []sample
	n := 0
	for {
		select {
		case <-ctx.Done():
			return out, nil
		case <-tick.C:
		}
		t := time.Now()
		for i := 0; i < perTick; i++ {
			k := "traffic:" + strconv.Itoa(n%1000)
			n++
			cl.send("SET", k, "v")
			cl.send("GET", k)
		}
		if err := cl.flush(); err != nil {
			return out, err
		}
		for i := 0; i < 2*perTick; i++ {
			if _, err := cl.read(); err != nil {
				return out, err
			}
		}
		out = append(out, sample{at: t, rtt: time.Since(t)})
	}
}

func keyspaceExpires(info string) int64 {
	var total int64
	for _, line := range strings.Split(info, "\r\n") {
		if !strings.HasPrefix(line, "db") {
			continue
		}
		_, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		for _, f := range strings.Split(rest, ",") {
			if v, ok := strings.CutPrefix(f, "expires="); ok {
				n, _ := strconv.ParseInt(v, 10, 64)
				total += n
			}
		}
	}
	return total
}

func infoInt(info, field string) (int64, bool) {
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

func usedMemory(cl *client) (int64, error) {
	info, err := cl.do("INFO", "memory")
	if err != nil {
		return 0, err
	}
	n, ok := infoInt(info, "used_memory")
	if !ok {
		return 0, errors.New("no used_memory in INFO")
	}
	return n, nil
}

func rss(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			n, err := strconv.ParseInt(f[0], 10, 64)
			return n * 1024, err
		}
	}
	return 0, errors.New("no VmRSS")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// client is a minimal RESP2 client: commands out, replies in as strings.
type client struct {
	c net.Conn
	r *bufio.Reader
	w *bufio.Writer
}

func dialReady(addr string, within time.Duration) (*client, error) {
	deadline := time.Now().Add(within)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			cl := &client{c: c, r: bufio.NewReaderSize(c, 1<<16), w: bufio.NewWriterSize(c, 1<<16)}
			if v, err := cl.do("PING"); err == nil && v == "PONG" {
				return cl, nil
			}
			c.Close()
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s not ready: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond) // polling a server that is starting
	}
}

func (cl *client) Close() { cl.c.Close() }

func (cl *client) send(args ...string) {
	fmt.Fprintf(cl.w, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(cl.w, "$%d\r\n%s\r\n", len(a), a)
	}
}

func (cl *client) flush() error { return cl.w.Flush() }

func (cl *client) do(args ...string) (string, error) {
	cl.send(args...)
	if err := cl.flush(); err != nil {
		return "", err
	}
	return cl.read()
}

// read returns a simple string, an integer as text or a bulk string; an
// error reply is an error; arrays are not needed here.
func (cl *client) read() (string, error) {
	line, err := cl.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return "", errors.New("empty reply line")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", errors.New(line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return "", err
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(cl.r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	}
	return "", fmt.Errorf("unexpected reply %q", line)
}
