package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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

// serverSpec describes how to launch one side of the comparison. Both sides
// get the same redis-server style command line so the comparison is fair.
type serverSpec struct {
	Name        string   // "celerity" or "redis": labels and temp dir names
	Bin         string   // executable
	AppendFsync string   // "" = AOF off, else no|everysec|always
	Extra       []string // appended verbatim (-celerity-args / -redis-args)
}

// args is the command line after the binary name.
func (sp serverSpec) args(port int, dir string) []string {
	a := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir, "--save", ""}
	if sp.AppendFsync == "" {
		a = append(a, "--appendonly", "no")
	} else {
		a = append(a, "--appendonly", "yes", "--appendfsync", sp.AppendFsync)
	}
	return append(a, sp.Extra...)
}

// server is one running server process that this tool started.
type server struct {
	Name string
	Port int
	Dir  string
	Argv []string // full command line, binary first

	cmd      *exec.Cmd
	reg      *reaper
	logFile  *os.File
	exited   chan struct{} // closed when the process has been waited for
	waitErr  error         // valid once exited is closed
	stopOnce sync.Once
}

func (s *server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// Pid is the process id of the server (the binary is exec'd directly, with no
// shell in between, so this is the process whose RSS we want).
func (s *server) Pid() int { return s.cmd.Process.Pid }

func (s *server) alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// exitedEarlyError reports a server that died before answering PING, which
// is what a lost race for the port looks like, so it is worth a retry.
type exitedEarlyError struct {
	name string
	err  error
	tail string
}

func (e *exitedEarlyError) Error() string {
	return fmt.Sprintf("%s exited before becoming ready (%v); log tail:\n%s", e.name, e.err, e.tail)
}

// freePort asks the kernel for an unused loopback port. The listener is
// closed before the server binds it, so another process could take it in
// between; startServer retries when the server dies during startup.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startServer starts spec on a fresh port and temp dir and waits until it
// answers PING.
func startServer(ctx context.Context, spec serverSpec, reg *reaper, startTimeout, stopTimeout time.Duration) (*server, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		s, err := startOnce(ctx, spec, reg, startTimeout, stopTimeout)
		if err == nil {
			return s, nil
		}
		lastErr = err
		var early *exitedEarlyError
		if !errors.As(err, &early) || ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func startOnce(ctx context.Context, spec serverSpec, reg *reaper, startTimeout, stopTimeout time.Duration) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("pick a port: %w", err)
	}
	dir, err := os.MkdirTemp("", "celerity-bench-"+spec.Name+"-")
	if err != nil {
		return nil, err
	}
	lf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	args := spec.args(port, dir)
	cmd := exec.Command(spec.Bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = lf, lf
	// Own process group: a terminal Ctrl-C reaches only us, and we shut the
	// servers down in order. Parent-death signal: if we are SIGKILLed the
	// servers do not outlive us.
	cmd.SysProcAttr = childProcAttr(true)
	if err := cmd.Start(); err != nil {
		lf.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s server %q: %w", spec.Name, spec.Bin, err)
	}
	s := &server{
		Name:    spec.Name,
		Port:    port,
		Dir:     dir,
		Argv:    append([]string{spec.Bin}, args...),
		cmd:     cmd,
		reg:     reg,
		logFile: lf,
		exited:  make(chan struct{}),
	}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	reg.add(s)
	if err := s.waitReady(ctx, startTimeout); err != nil {
		tail := s.logTail(15)
		exitedEarly := !s.alive()
		s.stop(stopTimeout)
		if exitedEarly {
			return nil, &exitedEarlyError{name: spec.Name, err: s.waitErr, tail: tail}
		}
		return nil, fmt.Errorf("%s server on port %d: %w; log tail:\n%s", spec.Name, port, err, tail)
	}
	return s, nil
}

// waitReady polls PING until the server answers +PONG. A fixed sleep would
// be either too short on a loaded machine or wasted time on an idle one.
func (s *server) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var lastErr error
	for {
		if lastErr = pingOnce(ctx, s.Addr()); lastErr == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v: %v", timeout, lastErr)
		}
		select {
		case <-s.exited:
			return fmt.Errorf("exited: %v", s.waitErr)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(25 * time.Millisecond):
		}
	}
}

func pingOnce(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	c, err := Dial(ctx, addr)
	if err != nil {
		return err
	}
	defer c.Close()
	deadline, _ := ctx.Deadline()
	c.SetDeadline(deadline)
	r, err := c.Do("PING")
	if err != nil {
		return err
	}
	if r.Type != '+' || r.Str != "PONG" {
		// e.g. -LOADING: keep polling.
		return fmt.Errorf("PING answered %c%s", r.Type, r.Str)
	}
	return nil
}

// stop shuts the server down: SIGTERM, then SIGKILL to the whole process
// group (which also catches AOF-rewrite children) after timeout. It then
// removes the temp dir. Safe to call more than once and concurrently.
func (s *server) stop(timeout time.Duration) {
	s.stopOnce.Do(func() {
		select {
		case <-s.exited:
		default:
			_ = s.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-s.exited:
			case <-time.After(timeout):
				s.kill()
				<-s.exited
			}
		}
		s.logFile.Close()
		os.RemoveAll(s.Dir)
		s.reg.remove(s)
	})
}

func (s *server) kill() {
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	_ = s.cmd.Process.Kill()
}

// logTail returns the last n lines of the server's stdout/stderr.
func (s *server) logTail(n int) string {
	b, err := os.ReadFile(filepath.Join(s.Dir, "server.log"))
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	for i := range lines {
		lines[i] = "    | " + lines[i]
	}
	return strings.Join(lines, "\n")
}

// rssBytes reads VmRSS of the server process from /proc. INFO is not used
// because its numbers are whatever the server chooses to report.
func (s *server) rssBytes() (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(s.Pid()) + "/status")
	if err != nil {
		return 0, err
	}
	return parseVmRSS(b)
}

// parseVmRSS extracts VmRSS (reported in kB) from /proc/<pid>/status.
func parseVmRSS(status []byte) (int64, error) {
	for _, line := range bytes.Split(status, []byte("\n")) {
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := strings.Fields(string(rest))
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("unexpected VmRSS line %q", line)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("unexpected VmRSS line %q", line)
		}
		return kb * 1024, nil
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// reaper tracks every live server so a signal handler can stop them all.
type reaper struct {
	mu   sync.Mutex
	live map[*server]struct{}
}

func newReaper() *reaper { return &reaper{live: make(map[*server]struct{})} }

func (r *reaper) add(s *server) {
	r.mu.Lock()
	r.live[s] = struct{}{}
	r.mu.Unlock()
}

func (r *reaper) remove(s *server) {
	r.mu.Lock()
	delete(r.live, s)
	r.mu.Unlock()
}

func (r *reaper) snapshot() []*server {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*server, 0, len(r.live))
	for s := range r.live {
		out = append(out, s)
	}
	return out
}

// stopAll stops every live server in parallel, so the bound is one timeout.
func (r *reaper) stopAll(timeout time.Duration) {
	var wg sync.WaitGroup
	for _, s := range r.snapshot() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.stop(timeout)
		}()
	}
	wg.Wait()
}

// killAll is the second-Ctrl-C path: no grace period, no cleanup.
func (r *reaper) killAll() {
	for _, s := range r.snapshot() {
		s.kill()
	}
}

// serverSlot is "the celerity server" or "the redis server" of a phase. It
// restarts the server if it died (a work-in-progress server may crash on an
// unimplemented path) so one crash costs one scenario, not the whole run.
type serverSlot struct {
	spec         serverSpec
	reg          *reaper
	rep          *report
	startTimeout time.Duration
	stopTimeout  time.Duration
	cur          *server
}

// get returns the running server, restarting it if it died.
func (sl *serverSlot) get(ctx context.Context, during string) (*server, error) {
	if sl.stillAlive(during, "restarted on a fresh port and dir") {
		return sl.cur, nil
	}
	s, err := startServer(ctx, sl.spec, sl.reg, sl.startTimeout, sl.stopTimeout)
	if err != nil {
		return nil, err
	}
	sl.cur = s
	sl.rep.addServerArgv(s.Name, s.Argv)
	return s, nil
}

// stillAlive reports whether the current server is running. If it died, the
// crash and its log tail go to the notes and the slot is emptied.
func (sl *serverSlot) stillAlive(during, action string) bool {
	if sl.cur == nil {
		return false
	}
	if sl.cur.alive() {
		return true
	}
	sl.rep.notef("%s exited unexpectedly (%v) %s; %s. Log tail:\n%s",
		sl.spec.Name, sl.cur.waitErr, during, action, sl.cur.logTail(8))
	sl.cur.stop(sl.stopTimeout)
	sl.cur = nil
	return false
}

func (sl *serverSlot) stop() {
	if sl.cur != nil {
		sl.cur.stop(sl.stopTimeout)
		sl.cur = nil
	}
}
