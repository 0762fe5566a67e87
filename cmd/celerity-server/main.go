package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"syscall"

	"github.com/celerity/celerity/kombu"
	"github.com/celerity/celerity/redbeat"
	"github.com/celerity/celerity/resp"
	"github.com/celerity/celerity/resp/conffile"
	"github.com/celerity/celerity/resp/metrics"
	"github.com/celerity/celerity/results"
)

func main() { os.Exit(run(os.Args[1:])) }

const usage = `Usage: ./celerity-server [/path/to/redis.conf] [options] [-]
       ./celerity-server - (read config from stdin)
       ./celerity-server -v or --version
       ./celerity-server -h or --help

Examples:
       ./celerity-server (run the server with default conf)
       ./celerity-server /etc/redis/6379.conf
       ./celerity-server --port 7777
       ./celerity-server /etc/myredis.conf --loglevel verbose -
       ./celerity-server /etc/myredis.conf --loglevel verbose
`

func versionLine() string {
	return fmt.Sprintf("Redis server v=%s sha=00000000:0 malloc=libc bits=%d build=celerity-%s",
		resp.Version, strconv.IntSize, resp.CelerityVersion)
}

func run(args []string) int {
	cl := conffile.CommandLine(args)
	switch cl.Mode {
	case conffile.ModeVersion:
		fmt.Println(versionLine())
		return 0
	case conffile.ModeHelp:
		fmt.Fprint(os.Stderr, usage)
		return 1
	case conffile.ModeTestMemory, conffile.ModeCheckSystem:
		fmt.Fprintln(os.Stderr, "celerity-server: this mode is not supported")
		return 1
	}
	cfg := resp.NewConfig()
	if cl.HasConfigFile {
		wd, _ := os.Getwd()
		cl.ConfigFile = conffile.AbsolutePath(wd, cl.ConfigFile)
		cfg.ConfigFile = cl.ConfigFile
	}
	if err := conffile.LoadStartup(conffile.OSFS(), cl, os.Stdin, cfg.Apply); err != nil {
		var fe *conffile.FatalError
		if errors.As(err, &fe) {
			fmt.Fprint(os.Stderr, fe.Error())
			return 1
		}
		boot := newLogger("", "notice")
		boot.Warn().Msg(fmt.Sprintf("Fatal error, can't open config file '%s': %s", cl.ConfigFile, errText(err)))
		return 1
	}
	log := newLogger(cfg.LogFile, cfg.LogLevel)
	log.Warn().Msg("oO0OoO0OoO0Oo Celerity is starting oO0OoO0OoO0Oo")
	log.Warn().Msg(fmt.Sprintf("Celerity version=%s (Redis %s compatible), bits=%d, pid=%d, just started",
		resp.CelerityVersion, resp.Version, strconv.IntSize, os.Getpid()))
	if cl.HasConfigFile {
		log.Warn().Msg("Configuration loaded")
	} else {
		log.Warn().Msg("Warning: no config file specified, using the default config. In order to specify a config file use celerity-server /path/to/redis.conf")
	}
	exe, _ := os.Executable()
	srv, err := resp.NewServer(cfg, resp.Options{Logger: log, Executable: exe,
		Extensions: []*resp.Extension{
			kombu.New(log).Extension(),
			redbeat.New(log).Extension(),
			results.New(log).Extension(),
		}})
	if err != nil {
		log.Warn().Msg("Fatal error initializing the server: " + err.Error())
		return 1
	}
	if err := srv.Listen(); err != nil {
		log.Warn().Msg(err.Error())
		return 1
	}
	// The metrics port (off unless metrics-port is set) serves during the
	// AOF load too, so the status page shows the load.
	mep, err := metrics.Listen(srv, log)
	if err != nil {
		log.Warn().Msg(err.Error())
		return 1
	}
	defer mep.Close()
	log.Info().Msg(fmt.Sprintf("Running mode=standalone, port=%d.", cfg.Port))
	log.Info().Msg(fmt.Sprintf("Server initialized (GOMAXPROCS=%d)", runtime.GOMAXPROCS(0)))

	// CELERITY_CPUPROFILE=path writes a CPU profile until shutdown: a
	// developer's tool for the hot path, off unless asked for.
	if path := os.Getenv("CELERITY_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			if pprof.StartCPUProfile(f) == nil {
				defer pprof.StopCPUProfile()
			}
		}
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		sig := <-sigs
		name := "SIGTERM"
		if sig == syscall.SIGINT {
			name = "SIGINT"
		}
		log.Warn().Msg("Received " + name + " scheduling shutdown...")
		log.Warn().Msg("User requested shutdown...")
		srv.Shutdown()
	}()
	served := make(chan struct{})
	go func() {
		srv.Serve()
		close(served)
	}()
	// Clients connecting while the AOF loads get -LOADING, as from Redis.
	if err := srv.LoadData(); err != nil {
		log.Warn().Msg(err.Error())
		srv.Shutdown()
		<-served
		return 1
	}
	log.Info().Msg("Ready to accept connections")
	<-served
	srv.Shutdown()
	log.Warn().Msg("Celerity is now ready to exit, bye bye...")
	return 0
}

// errText renders an OS error like C's strerror ("No such file or directory").
func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	s := err.Error()
	if s != "" && s[0] >= 'a' && s[0] <= 'z' {
		s = string(s[0]-32) + s[1:]
	}
	return s
}
