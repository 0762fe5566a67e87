package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type config struct {
	celerityBin, redisBin, benchBin string
	celerityArgs, redisArgs         string
	appendFsync                     string

	tests      string
	scenarios  []scenario
	pipelines  []int
	clients    int
	n          int
	nPipelined int
	zfillN     int
	rounds     int
	quick      bool

	celery          bool
	tx              bool
	txN             int
	celeryMessages  int
	celeryProducers int
	celeryConsumers int
	celeryInflight  int
	celeryTimeout   time.Duration

	memory      bool
	memMessages int

	markdown     bool
	verbose      bool
	list         bool
	runTimeout   time.Duration
	startTimeout time.Duration
	stopTimeout  time.Duration
}

func (c *config) spec(name, bin, extra string) serverSpec {
	return serverSpec{Name: name, Bin: bin, AppendFsync: c.appendFsync, Extra: strings.Fields(extra)}
}

func parseFlags(args []string) (*config, error) {
	fs := flag.NewFlagSet("celerity-bench", flag.ContinueOnError)
	c := &config{}
	var pipelines string
	fs.StringVar(&c.celerityBin, "celerity", "bin/celerity-server", "Celerity server binary")
	fs.StringVar(&c.redisBin, "redis", "redis-server", "Redis server binary")
	fs.StringVar(&c.benchBin, "redis-benchmark", "redis-benchmark", "redis-benchmark binary")
	fs.StringVar(&c.celerityArgs, "celerity-args", "", "extra arguments for the Celerity server (space-separated)")
	fs.StringVar(&c.redisArgs, "redis-args", "", "extra arguments for redis-server (space-separated)")
	fs.StringVar(&c.appendFsync, "appendfsync", "", "run both servers with --appendonly yes --appendfsync `MODE` (no|everysec|always); default AOF off")
	fs.StringVar(&c.tests, "tests", "all", "comma list of scenarios and/or groups (base,data,pubsub,scripting), all, or none; see -list")
	fs.StringVar(&pipelines, "pipelines", "1,16", "comma list of redis-benchmark -P depths")
	fs.IntVar(&c.clients, "clients", 50, "redis-benchmark -c")
	fs.IntVar(&c.n, "n", 100000, "redis-benchmark -n for -P 1")
	fs.IntVar(&c.nPipelined, "n-pipelined", 1000000, "redis-benchmark -n for -P > 1")
	fs.IntVar(&c.zfillN, "zfill", 100000, "ZADD requests used to fill the ZRANGEBYSCORE set")
	fs.IntVar(&c.rounds, "rounds", 3, "rounds per measurement (median reported); server order alternates per round")
	fs.BoolVar(&c.quick, "quick", false, "smoke run with small sizes and 1 round (flags given explicitly still win)")
	fs.BoolVar(&c.celery, "celery", true, "run the Celery-shaped producer/consumer mix")
	fs.BoolVar(&c.tx, "tx", true, "run the MULTI/HSET/ZADD/EXEC transaction phase")
	fs.IntVar(&c.txN, "tx-n", 50000, "transactions per -P 1 run (x4 for pipelined runs)")
	fs.IntVar(&c.celeryMessages, "celery-messages", 200000, "messages per Celery mix run")
	fs.IntVar(&c.celeryProducers, "celery-producers", 4, "Celery mix producer connections")
	fs.IntVar(&c.celeryConsumers, "celery-consumers", 8, "Celery mix consumer connections")
	fs.IntVar(&c.celeryInflight, "celery-inflight", 64, "max published-but-unconsumed messages in the Celery mix")
	fs.DurationVar(&c.celeryTimeout, "celery-timeout", 3*time.Minute, "bound on one Celery mix run")
	fs.BoolVar(&c.memory, "memory", true, "measure RSS per queued 1 KB message")
	fs.IntVar(&c.memMessages, "mem-messages", 1000000, "messages RPUSHed by the memory measurement")
	fs.BoolVar(&c.markdown, "markdown", false, "render the report as Markdown")
	fs.BoolVar(&c.verbose, "v", false, "print every redis-benchmark command line as it runs")
	fs.BoolVar(&c.list, "list", false, "list scenarios and groups, then exit")
	fs.DurationVar(&c.runTimeout, "run-timeout", 2*time.Minute, "bound on one redis-benchmark run (and on the memory fill)")
	fs.DurationVar(&c.startTimeout, "start-timeout", 15*time.Second, "bound on a server becoming ready")
	fs.DurationVar(&c.stopTimeout, "stop-timeout", 5*time.Second, "SIGTERM grace period before SIGKILL")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: go run ./cmd/celerity-bench [flags]\n\nCompares Celerity with redis-server; see doc.go.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if c.quick {
		// Small enough to check the tool end to end in well under a minute.
		quick := map[string]func(){
			"n":               func() { c.n = 2000 },
			"n-pipelined":     func() { c.nPipelined = 20000 },
			"zfill":           func() { c.zfillN = 10000 },
			"rounds":          func() { c.rounds = 1 },
			"celery-messages": func() { c.celeryMessages = 5000 },
			"celery-timeout":  func() { c.celeryTimeout = 30 * time.Second },
			"mem-messages":    func() { c.memMessages = 100000 },
			"tx-n":            func() { c.txN = 2000 },
			"run-timeout":     func() { c.runTimeout = 30 * time.Second },
		}
		for name, apply := range quick {
			if !set[name] {
				apply()
			}
		}
	}

	switch c.appendFsync {
	case "", "no", "everysec", "always":
	default:
		return nil, fmt.Errorf("-appendfsync must be no, everysec or always, got %q", c.appendFsync)
	}
	var err error
	if c.pipelines, err = parseIntList(pipelines); err != nil {
		return nil, fmt.Errorf("-pipelines: %v", err)
	}
	if c.scenarios, err = selectScenarios(c.tests); err != nil {
		return nil, err
	}
	for name, v := range map[string]int{
		"rounds": c.rounds, "clients": c.clients, "n": c.n, "n-pipelined": c.nPipelined, "zfill": c.zfillN,
		"celery-messages": c.celeryMessages, "celery-producers": c.celeryProducers,
		"celery-consumers": c.celeryConsumers, "celery-inflight": c.celeryInflight, "mem-messages": c.memMessages,
	} {
		if v < 1 {
			return nil, fmt.Errorf("-%s must be at least 1", name)
		}
	}
	return c, nil
}

func parseIntList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil || v < 1 {
			return nil, fmt.Errorf("bad value %q", f)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, errors.New("empty list")
	}
	return out, nil
}

func main() { os.Exit(run()) }

func run() int {
	cfg, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "celerity-bench:", err)
		return 2
	}
	if cfg.list {
		for _, sc := range allScenarios() {
			what := "-t " + sc.Test
			if sc.Test == "" {
				what = strings.Join(sc.Command, " ")
			}
			fmt.Printf("%-14s %-10s %s %s\n", sc.Name, sc.Group, what, strings.Join(sc.Extra, " "))
		}
		return 0
	}
	for _, bin := range []*string{&cfg.celerityBin, &cfg.redisBin, &cfg.benchBin} {
		p, err := exec.LookPath(*bin)
		if err != nil {
			fmt.Fprintf(os.Stderr, "celerity-bench: %v\n(build the server with make, or pass -celerity/-redis/-redis-benchmark PATH)\n", err)
			return 2
		}
		*bin = p
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reg := newReaper()
	handleSignals(cancel, reg, cfg.stopTimeout)
	defer reg.stopAll(cfg.stopTimeout)

	rep := newReport(cfg)
	rep.env = gatherEnv(ctx, cfg)
	specs := []serverSpec{
		cfg.spec(celerityName, cfg.celerityBin, cfg.celerityArgs),
		cfg.spec(redisName, cfg.redisBin, cfg.redisArgs),
	}

	if len(cfg.scenarios) > 0 || cfg.celery || cfg.tx {
		var slots []*serverSlot
		for _, sp := range specs {
			slots = append(slots, &serverSlot{spec: sp, reg: reg, rep: rep, startTimeout: cfg.startTimeout, stopTimeout: cfg.stopTimeout})
		}
		// Start both before measuring anything, so a binary that cannot
		// start at all fails the run in seconds rather than as 40 n/a rows.
		for _, sl := range slots {
			srv, err := sl.get(ctx, "")
			if err != nil {
				fmt.Fprintf(os.Stderr, "celerity-bench: cannot start %s: %v\n", sl.spec.Name, err)
				return 1
			}
			rep.env = append(rep.env, [2]string{sl.spec.Name + " INFO server", serverInfo(ctx, srv)})
		}
		if len(cfg.scenarios) > 0 {
			rep.bench = runBenchPhase(ctx, cfg, slots, rep)
		}
		if cfg.celery && ctx.Err() == nil {
			rep.celery = runCeleryPhase(ctx, cfg, slots, rep)
		}
		if cfg.tx && ctx.Err() == nil {
			rep.tx = runTxPhase(ctx, cfg, slots, rep)
		}
		for _, sl := range slots {
			sl.stillAlive("during the last measurement", "not restarted")
			sl.stop()
		}
	}
	if cfg.memory && ctx.Err() == nil {
		rep.memory = runMemoryPhase(ctx, cfg, specs, reg, rep)
	}
	if ctx.Err() != nil {
		return 130
	}
	rep.env = append(rep.env, [2]string{"wall time", time.Since(rep.started).Round(time.Second).String()})
	rep.write(os.Stdout)
	return 0
}

// handleSignals stops the servers on the first SIGINT/SIGTERM (gracefully,
// bounded by stopTimeout) and exits; a second signal kills them outright.
// Exiting from here, rather than unwinding, guarantees the bound even when
// the main goroutine is blocked in a read.
func handleSignals(cancel context.CancelFunc, reg *reaper, stopTimeout time.Duration) {
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-ch
		fmt.Fprintf(os.Stderr, "\ncelerity-bench: %v: stopping servers (again to kill)\n", sig)
		cancel()
		go func() {
			<-ch
			reg.killAll()
			os.Exit(130)
		}()
		reg.stopAll(stopTimeout)
		os.Exit(130)
	}()
}

// gatherEnv records what the numbers depend on.
func gatherEnv(ctx context.Context, cfg *config) [][2]string {
	persistence := `--save "" --appendonly no`
	if cfg.appendFsync != "" {
		persistence = `--save "" --appendonly yes --appendfsync ` + cfg.appendFsync
	}
	env := [][2]string{
		{"host", fmt.Sprintf("%s/%s, %d CPUs, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())},
		{"git describe", cmdOutput(ctx, "git", "describe", "--always", "--dirty", "--tags")},
		{"redis-benchmark", cfg.benchBin + ": " + cmdOutput(ctx, cfg.benchBin, "--version")},
		{"redis-server", cfg.redisBin + ": " + cmdOutput(ctx, cfg.redisBin, "--version")},
		// Not "--version": a work-in-progress server might ignore the flag
		// and start serving. INFO server is read once it runs instead.
		{"celerity-server", cfg.celerityBin + binaryStamp(cfg.celerityBin)},
		{"persistence", persistence},
		{"rounds", fmt.Sprintf("%d (server order alternates each round)", cfg.rounds)},
		{"redis-benchmark sizes", fmt.Sprintf("-c %d, -n %d at -P 1, -n %d at -P > 1, pipelines %v", cfg.clients, cfg.n, cfg.nPipelined, cfg.pipelines)},
	}
	if cfg.quick {
		env = append(env, [2]string{"mode", "-quick (smoke test sizes: numbers are not meaningful)"})
	}
	return env
}

func binaryStamp(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return ""
	}
	return fmt.Sprintf(" (%d bytes, modified %s)", st.Size(), st.ModTime().UTC().Format(time.RFC3339))
}

// cmdOutput runs a short informational command; failures become "n/a".
func cmdOutput(ctx context.Context, name string, args ...string) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = childProcAttr(false)
	out, err := cmd.Output()
	s := strings.TrimSpace(string(out))
	if err != nil || s == "" {
		return "n/a"
	}
	return strings.SplitN(s, "\n", 2)[0]
}

// serverInfo summarises INFO server: version fields and anything the
// server labels as its own (e.g. celerity_*).
func serverInfo(ctx context.Context, srv *server) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, srv.Addr())
	if err != nil {
		return "n/a (" + err.Error() + ")"
	}
	defer c.Close()
	deadline, _ := ctx.Deadline()
	c.SetDeadline(deadline)
	r, err := c.DoOK("INFO", "server")
	if err != nil {
		return "n/a (" + err.Error() + ")"
	}
	var parts []string
	for _, line := range strings.Split(r.Str, "\n") {
		line = strings.TrimSpace(line)
		k, _, ok := strings.Cut(line, ":")
		if ok && (strings.Contains(k, "version") || strings.Contains(k, "celerity") || k == "redis_mode" || k == "multiplexing_api") {
			parts = append(parts, line)
		}
	}
	if len(parts) == 0 {
		return "n/a (no version fields)"
	}
	return strings.Join(parts, " ")
}
