package resp

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/celerity/celerity/aof"
	"github.com/celerity/celerity/keyspace"
	"github.com/celerity/celerity/resp/conffile"
)

// Config holds the values of every directive Celerity implements. It is
// filled from redis.conf and the command line before the server starts, and
// changed afterwards only by CONFIG SET, inside a unit.
type Config struct {
	Port                int
	Bind                []string
	Databases           int
	Dir                 string
	DBFilename          string // dbfilename
	LogLevel            string
	LogFile             string
	Timeout             int
	TCPKeepAlive        int
	requirePass         string
	MaxClients          int
	ProtoMaxBulkLen     int64
	ClientQueryBufLimit int64
	HZ                  int
	IOThreads           int // io-threads: connection reactors (Redis: I/O threads)
	BusyReplyThreshold  int // busy-reply-threshold (lua-time-limit), ms
	Daemonize           bool
	Limits              keyspace.Limits // encoding thresholds (hash-max-listpack-entries...)
	Renames             [][2]string     // rename-command directives, applied to the table
	ConfigFile          string          // absolute path of the file loaded, if any

	// ClientOutputBufferLimits are client-output-buffer-limit's classes,
	// indexed by obufNormal, obufReplica and obufPubsub.
	ClientOutputBufferLimits [obufClasses]OutputBufferLimit

	// Memory limits and eviction (evict.go).
	MaxMemory        int64
	MaxMemoryPolicy  keyspace.EvictionPolicy
	MaxMemorySamples int
	EvictionTenacity int   // maxmemory-eviction-tenacity
	LFULogFactor     int   // lfu-log-factor
	LFUDecayTime     int   // lfu-decay-time, minutes
	MaxMemoryClients int64 // maxmemory-clients: bytes, or -percent of maxmemory
	// BrokerProtectedPrefixes are key prefixes maxmemory-policy
	// broker-safe never evicts (brokersafe.go).
	BrokerProtectedPrefixes []string

	// The append-only file (persist.go).
	AppendOnly                 bool
	AppendFilename             string
	AppendDirname              string
	AppendFsync                aof.FsyncPolicy
	NoAppendFsyncOnRewrite     bool
	AutoAOFRewritePercentage   int
	AutoAOFRewriteMinSize      int64
	AOFLoadTruncated           bool
	AOFUseRDBPreamble          bool
	AOFTimestampEnabled        bool
	AOFRewriteIncrementalFsync bool
	AOFDisableAutoGC           bool

	OpsConfig      // slowlog, DEBUG (ops_config.go)
	SnapshotConfig // save points, rdbcompression... (config_rdb.go)
	ACLConfig      // aclfile, user directives (acl_file.go)
	TrackingConfig // tracking-table-max-keys (tracking.go)
	CeleryConfig   // the Celery-aware extensions (config_celery.go)
	NetConfig      // tcp-backlog, unix socket, TLS, syslog (config_net.go)
}

// NewConfig returns Redis 7.0.15's compiled-in defaults for the directives
// Celerity implements.
func NewConfig() *Config {
	wd, _ := os.Getwd()
	return &Config{
		Port:                    6379,
		Bind:                    []string{"*", "-::*"},
		Databases:               16,
		Dir:                     wd,
		DBFilename:              "dump.rdb",
		LogLevel:                "notice",
		Timeout:                 0,
		TCPKeepAlive:            300,
		MaxClients:              10000,
		ProtoMaxBulkLen:         512 << 20,
		ClientQueryBufLimit:     1 << 30,
		HZ:                      10,
		IOThreads:               1,
		BusyReplyThreshold:      5000,
		Limits:                  keyspace.DefaultLimits(),
		MaxMemorySamples:        5,
		EvictionTenacity:        10,
		LFULogFactor:            10,
		LFUDecayTime:            1,
		BrokerProtectedPrefixes: []string{"redbeat:"},
		OpsConfig:               defaultOpsConfig(),
		SnapshotConfig:          defaultSnapshotConfig(),
		ACLConfig:               defaultACLConfig(),
		TrackingConfig:          defaultTrackingConfig(),
		CeleryConfig:            defaultCeleryConfig(),
		NetConfig:               defaultNetConfig(),

		AppendFilename:             "appendonly.aof",
		AppendDirname:              "appendonlydir",
		AppendFsync:                aof.FsyncEverysec,
		AutoAOFRewritePercentage:   100,
		AutoAOFRewriteMinSize:      64 << 20,
		AOFLoadTruncated:           true,
		AOFUseRDBPreamble:          true,
		AOFRewriteIncrementalFsync: true,
		ClientOutputBufferLimits: [obufClasses]OutputBufferLimit{
			obufNormal:  {},
			obufReplica: {Hard: 256 << 20, Soft: 64 << 20, SoftSeconds: 60},
			obufPubsub:  {Hard: 32 << 20, Soft: 8 << 20, SoftSeconds: 60},
		},
	}
}

// RequirePass returns the value of requirepass ("" = none): the password
// it gave the default user, which ACL rules may have changed since.
func (cfg *Config) RequirePass() string { return cfg.requirePass }

// configFlag marks how a directive may change.
type configFlag uint8

const (
	cfgImmutable configFlag = 1 << iota // only at start-up
	cfgSensitive                        // value hidden from logs and MONITOR
	cfgMultiArg                         // takes several arguments (bind, save)
	// cfgProtected: CONFIG SET refuses it, as Redis 7.0 does unless
	// enable-protected-configs allows it (Celerity has no such switch):
	// CONFIG SET dir is the first step of the classic attack on exposed
	// servers (ops-surface.md §6.4).
	cfgProtected
	// cfgCelerity: Celerity's own directive, which Redis does not have. A
	// CONFIG GET glob lists it only when the pattern spells its family
	// ("kombu-*", "metrics-*"): "CONFIG GET *" and "*port*" answer exactly
	// what Redis 7.0.15 answers, so tools that diff or parse them see no
	// surprise.
	cfgCelerity
	// cfgHidden: Redis's HIDDEN_CONFIG (debugging knobs such as
	// rdb-key-save-delay): CONFIG GET answers it by its plain name only,
	// never through a glob.
	cfgHidden
)

// configParam describes one directive: how to read and write it.
type configParam struct {
	name  string
	alias string // older name also accepted and listed (e.g. *-ziplist-*)
	flags configFlag
	get   func(cfg *Config) string
	// set validates and stores args; the error text is Redis's reason.
	set func(cfg *Config, args []string) error
	// kind is how CONFIG REWRITE writes the directive (config_rewrite.go);
	// the zero value looks the name up in rewriteKinds, else a quoted
	// string.
	kind rewriteKind
}

type configErr string

func (e configErr) Error() string { return string(e) }

func intParam(name string, flags configFlag, lo, hi int64, field func(*Config) *int) *configParam {
	return &configParam{
		name: name, flags: flags, kind: rwNumeric,
		get: func(cfg *Config) string { return strconv.Itoa(*field(cfg)) },
		set: func(cfg *Config, args []string) error {
			v, ok := parseConfigInt(args[0])
			if !ok {
				return configErr("argument couldn't be parsed into an integer")
			}
			if v < lo || v > hi {
				return configErr(fmt.Sprintf("argument must be between %d and %d inclusive", lo, hi))
			}
			*field(cfg) = int(v)
			return nil
		},
	}
}

func memoryParam[T int | int64](name string, flags configFlag, lo, hi int64, field func(*Config) *T) *configParam {
	return &configParam{
		name: name, flags: flags, kind: rwBytes,
		get: func(cfg *Config) string { return strconv.FormatInt(int64(*field(cfg)), 10) },
		set: func(cfg *Config, args []string) error {
			v, err := conffile.ParseMemory(args[0])
			if err != nil {
				return configErr("argument must be a memory value")
			}
			if v < lo || v > hi {
				return configErr(fmt.Sprintf("argument must be between %d and %d inclusive", lo, hi))
			}
			*field(cfg) = T(v)
			return nil
		},
	}
}

func boolParam(name string, flags configFlag, field func(*Config) *bool) *configParam {
	return &configParam{
		name: name, flags: flags, kind: rwYesNo,
		get: func(cfg *Config) string { return yesNo(*field(cfg)) },
		set: func(cfg *Config, args []string) error {
			v, err := conffile.ParseBool(args[0])
			if err != nil {
				return configErr(conffile.ReasonNotYesNo)
			}
			*field(cfg) = v
			return nil
		},
	}
}

// baseNameParam is an immutable name inside dir (appendfilename,
// appenddirname): Redis's pathIsBaseName refuses any slash.
func baseNameParam(name, what string, field func(*Config) *string) *configParam {
	return &configParam{
		name: name, flags: cfgImmutable,
		get: func(cfg *Config) string { return *field(cfg) },
		set: func(cfg *Config, args []string) error {
			if strings.ContainsRune(args[0], '/') {
				return configErr(name + " can't be a path, just a " + what)
			}
			*field(cfg) = args[0]
			return nil
		},
	}
}

// withAlias registers an older name for a parameter.
func withAlias(alias string, p *configParam) *configParam {
	p.alias = alias
	return p
}

func parseConfigInt(s string) (int64, bool) {
	return parseStrictInt([]byte(s))
}

// configParams is the directive table of this server, by name.
func configParams() map[string]*configParam {
	ps := []*configParam{
		intParam("port", 0, 0, 65535, func(c *Config) *int { return &c.Port }),
		intParam("databases", cfgImmutable, 1, math.MaxInt32, func(c *Config) *int { return &c.Databases }),
		intParam("timeout", 0, 0, math.MaxInt32, func(c *Config) *int { return &c.Timeout }),
		intParam("tcp-keepalive", 0, 0, math.MaxInt32, func(c *Config) *int { return &c.TCPKeepAlive }),
		intParam("maxclients", 0, 1, math.MaxUint32, func(c *Config) *int { return &c.MaxClients }),
		clampedHZ(intParam("hz", 0, 0, math.MaxInt32, func(c *Config) *int { return &c.HZ })),
		// io-threads sizes the pool of connection reactors (reactor_linux.go),
		// Celerity's counterpart of Redis's I/O threads: each reactor reads,
		// parses and writes for its connections; commands still run one
		// unit at a time under the engine lock.
		intParam("io-threads", cfgImmutable, 1, 128, func(c *Config) *int { return &c.IOThreads }),
		// A script running longer than this many ms makes the server
		// answer other clients -BUSY and accept SCRIPT KILL (script.go).
		withAlias("lua-time-limit", intParam("busy-reply-threshold", 0, 0, math.MaxInt64, func(c *Config) *int { return &c.BusyReplyThreshold })),
		// Entry counts are plain integers in Redis 7.0 ("1k" is refused);
		// only the byte sizes (*-value) take memory units.
		withAlias("hash-max-ziplist-entries", intParam("hash-max-listpack-entries", 0, 0, math.MaxInt64, func(c *Config) *int { return &c.Limits.HashMaxListpackEntries })),
		withAlias("hash-max-ziplist-value", memoryParam("hash-max-listpack-value", 0, 0, math.MaxInt64, func(c *Config) *int { return &c.Limits.HashMaxListpackValue })),
		withAlias("zset-max-ziplist-entries", intParam("zset-max-listpack-entries", 0, 0, math.MaxInt64, func(c *Config) *int { return &c.Limits.ZSetMaxListpackEntries })),
		withAlias("zset-max-ziplist-value", memoryParam("zset-max-listpack-value", 0, 0, math.MaxInt64, func(c *Config) *int { return &c.Limits.ZSetMaxListpackValue })),
		intParam("set-max-intset-entries", 0, 0, math.MaxInt64, func(c *Config) *int { return &c.Limits.SetMaxIntsetEntries }),
		withAlias("list-max-ziplist-size", intParam("list-max-listpack-size", 0, math.MinInt32, math.MaxInt32, func(c *Config) *int { return &c.Limits.ListMaxListpackSize })),
		memoryParam("proto-max-bulk-len", 0, 1<<20, math.MaxInt64, func(c *Config) *int64 { return &c.ProtoMaxBulkLen }),
		memoryParam("client-query-buffer-limit", 0, 1<<20, math.MaxInt64, func(c *Config) *int64 { return &c.ClientQueryBufLimit }),
		{
			name: "client-output-buffer-limit", flags: cfgMultiArg,
			get: func(cfg *Config) string { return formatOutputBufferLimits(&cfg.ClientOutputBufferLimits) },
			set: func(cfg *Config, args []string) error {
				return parseOutputBufferLimits(&cfg.ClientOutputBufferLimits, args)
			},
		},
		{
			name: "bind", flags: cfgMultiArg,
			get: func(cfg *Config) string { return strings.Join(cfg.Bind, " ") },
			set: func(cfg *Config, args []string) error {
				// CONFIG SET splits on single spaces; addresses are the
				// non-empty words.
				args = strings.Fields(strings.Join(args, " "))
				if len(args) > 16 {
					return configErr("Too many bind addresses specified.")
				}
				// No address (a lone empty argument) means "no TCP
				// listener" (Redis 7).
				cfg.Bind = append([]string(nil), args...)
				return nil
			},
		},
		{
			name: "dir", flags: cfgProtected,
			get: func(cfg *Config) string { return cfg.Dir },
			set: func(cfg *Config, args []string) error {
				if err := os.Chdir(args[0]); err != nil {
					return configErr(syscallErrText(err))
				}
				wd, err := os.Getwd()
				if err != nil {
					return configErr(syscallErrText(err))
				}
				cfg.Dir = wd
				return nil
			},
		},
		{
			name: "dbfilename", flags: cfgProtected,
			get: func(cfg *Config) string { return cfg.DBFilename },
			set: func(cfg *Config, args []string) error {
				if strings.ContainsRune(args[0], '/') {
					return configErr("dbfilename can't be a path, just a filename")
				}
				cfg.DBFilename = args[0]
				return nil
			},
		},
		{
			name: "loglevel",
			get:  func(cfg *Config) string { return cfg.LogLevel },
			set: func(cfg *Config, args []string) error {
				v := strings.ToLower(args[0])
				switch v {
				case "debug", "verbose", "notice", "warning":
					cfg.LogLevel = v
					return nil
				}
				return configErr("argument(s) must be one of the following: debug, verbose, notice, warning")
			},
		},
		{
			name: "logfile", flags: cfgImmutable,
			get: func(cfg *Config) string { return cfg.LogFile },
			set: func(cfg *Config, args []string) error {
				if args[0] != "" {
					f, err := os.OpenFile(args[0], os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
					if err != nil {
						return configErr("Can't open the log file: " + syscallErrText(err))
					}
					f.Close()
				}
				cfg.LogFile = args[0]
				return nil
			},
		},
		{
			name: "requirepass", flags: cfgSensitive,
			get: func(cfg *Config) string { return cfg.requirePass },
			set: func(cfg *Config, args []string) error {
				cfg.requirePass = args[0] // applyConfig updates the default user
				return nil
			},
		},
		memoryParam("maxmemory", 0, 0, math.MaxInt64, func(c *Config) *int64 { return &c.MaxMemory }),
		{
			name: "maxmemory-policy",
			get:  func(cfg *Config) string { return cfg.MaxMemoryPolicy.String() },
			set: func(cfg *Config, args []string) error {
				p, ok := keyspace.ParseEvictionPolicy(args[0])
				if !ok {
					return configErr("argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction")
				}
				cfg.MaxMemoryPolicy = p
				return nil
			},
		},
		intParam("maxmemory-samples", 0, 1, math.MaxInt32, func(c *Config) *int { return &c.MaxMemorySamples }),
		intParam("maxmemory-eviction-tenacity", 0, 0, 100, func(c *Config) *int { return &c.EvictionTenacity }),
		intParam("lfu-log-factor", 0, 0, math.MaxInt32, func(c *Config) *int { return &c.LFULogFactor }),
		intParam("lfu-decay-time", 0, 0, math.MaxInt32, func(c *Config) *int { return &c.LFUDecayTime }),
		maxMemoryClientsParam(),
		{
			// Celerity's own directive (maxmemory-policy broker-safe).
			name: "broker-protected-prefixes", flags: cfgMultiArg | cfgCelerity,
			get: func(cfg *Config) string { return strings.Join(cfg.BrokerProtectedPrefixes, " ") },
			set: func(cfg *Config, args []string) error {
				cfg.BrokerProtectedPrefixes = strings.Fields(strings.Join(args, " "))
				return nil
			},
		},
		boolParam("appendonly", 0, func(c *Config) *bool { return &c.AppendOnly }),
		baseNameParam("appendfilename", "filename", func(c *Config) *string { return &c.AppendFilename }),
		baseNameParam("appenddirname", "dirname", func(c *Config) *string { return &c.AppendDirname }),
		{
			name: "appendfsync",
			get:  func(cfg *Config) string { return cfg.AppendFsync.String() },
			set: func(cfg *Config, args []string) error {
				p, err := aof.ParseFsyncPolicy(args[0])
				if err != nil {
					return configErr("argument(s) must be one of the following: everysec, always, no")
				}
				cfg.AppendFsync = p
				return nil
			},
		},
		boolParam("no-appendfsync-on-rewrite", 0, func(c *Config) *bool { return &c.NoAppendFsyncOnRewrite }),
		intParam("auto-aof-rewrite-percentage", 0, 0, math.MaxInt32, func(c *Config) *int { return &c.AutoAOFRewritePercentage }),
		memoryParam("auto-aof-rewrite-min-size", 0, 0, math.MaxInt64, func(c *Config) *int64 { return &c.AutoAOFRewriteMinSize }),
		boolParam("aof-load-truncated", 0, func(c *Config) *bool { return &c.AOFLoadTruncated }),
		// The RDB preamble needs an RDB writer and loader, which Celerity
		// does not have yet: "yes" is accepted (it is Redis's default, so
		// every stock redis.conf says it) and bases are written as RESP,
		// which any Redis loads; persist.go logs a notice.
		boolParam("aof-use-rdb-preamble", 0, func(c *Config) *bool { return &c.AOFUseRDBPreamble }),
		boolParam("aof-timestamp-enabled", 0, func(c *Config) *bool { return &c.AOFTimestampEnabled }),
		boolParam("aof-rewrite-incremental-fsync", 0, func(c *Config) *bool { return &c.AOFRewriteIncrementalFsync }),
		boolParam("aof-disable-auto-gc", 0, func(c *Config) *bool { return &c.AOFDisableAutoGC }),
		{
			name: "daemonize", flags: cfgImmutable,
			get: func(cfg *Config) string { return yesNo(cfg.Daemonize) },
			set: func(cfg *Config, args []string) error {
				v, err := conffile.ParseBool(args[0])
				if err != nil {
					return configErr("argument must be 'yes' or 'no'")
				}
				if v {
					return configErr("daemonize yes is not supported: run celerity-server under a supervisor (systemd, Docker) instead")
				}
				cfg.Daemonize = v
				return nil
			},
		},
	}
	ps = append(ps, opsParams()...)
	ps = append(ps, snapshotParams()...)
	ps = append(ps, netParams()...)
	ps = append(ps, aclParams()...)
	ps = append(ps, trackingParams()...)
	for _, p := range celeryParams() {
		p.flags |= cfgCelerity
		ps = append(ps, p)
	}
	m := make(map[string]*configParam, len(ps))
	for _, p := range ps {
		m[p.name] = p
		if p.alias != "" {
			m[p.alias] = p
		}
	}
	return m
}

// clampedHZ stores hz bounded to 1..500, as Redis 7.0 does both at start-up
// and on CONFIG SET: CONFIG GET hz and INFO configured_hz report the
// bounded value.
func clampedHZ(p *configParam) *configParam {
	set := p.set
	p.set = func(cfg *Config, args []string) error {
		if err := set(cfg, args); err != nil {
			return err
		}
		cfg.HZ = clampHZ(cfg.HZ)
		return nil
	}
	return p
}

// validSavePoints checks save's "<seconds> <changes> ..." pairs the way
// Redis 7.0 does (strtoll over the whole word): an even count, seconds
// >= 1, changes >= 0.
func validSavePoints(args []string) bool {
	if len(args)%2 != 0 {
		return false
	}
	for i, a := range args {
		v, ok := strtollWhole(a)
		if !ok || i%2 == 0 && v < 1 || i%2 == 1 && v < 0 {
			return false
		}
	}
	return true
}

// strtollWhole parses s as C's strtoll does (leading white space, a sign,
// digits, clamping on overflow) and reports whether it consumed all of s.
// An empty word parses as 0.
func strtollWhole(s string) (int64, bool) {
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if t != "" && (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-'
		t = t[1:]
	}
	n := 0
	var v int64
	for n < len(t) && '0' <= t[n] && t[n] <= '9' {
		d := int64(t[n] - '0')
		switch {
		case neg && v < (math.MinInt64+d)/10:
			v = math.MinInt64
		case !neg && v > (math.MaxInt64-d)/10:
			v = math.MaxInt64
		case neg:
			v = v*10 - d
		default:
			v = v*10 + d
		}
		n++
	}
	if n == 0 {
		return 0, s == ""
	}
	return v, n == len(t)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// syscallErrText renders an OS error as C's strerror would.
func syscallErrText(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		err = pe.Err
	}
	s := err.Error()
	if s != "" {
		s = strings.ToUpper(s[:1]) + s[1:]
	}
	return s
}

// Apply applies one directive, in file order (the last occurrence wins).
// The error's text is the reason redis-server prints for a bad line; the
// caller (conffile.Walk) adds the line and its number.
func (cfg *Config) Apply(d conffile.Directive) error {
	return cfg.loadOne(configParams(), d)
}

func (cfg *Config) loadOne(params map[string]*configParam, d conffile.Directive) error {
	if d.Name == "rename-command" {
		if len(d.Args) != 2 {
			return configErr(conffile.ReasonBadDirective)
		}
		cfg.Renames = append(cfg.Renames, [2]string{d.Args[0], d.Args[1]})
		return nil
	}
	if d.Name == "user" && len(d.Args) > 0 {
		return cfg.appendUserDirective(d.Args)
	}
	if d.Name == "save" {
		args := conffile.ExpandMultiArg(d.Args)
		if len(args) == 0 {
			return configErr(conffile.ReasonBadDirective)
		}
		return cfg.appendSaveDirective(args)
	}
	p := params[d.Name]
	if p == nil {
		return configErr(conffile.ReasonBadDirective)
	}
	args := d.Args
	if p.flags&cfgMultiArg != 0 {
		args = conffile.ExpandMultiArg(args)
		if len(args) == 0 {
			return configErr(conffile.ReasonBadDirective)
		}
	} else if len(args) != 1 {
		return configErr(conffile.ReasonBadDirective)
	}
	if p.name == "client-output-buffer-limit" && len(args) == 1 && args[0] == "" {
		// In a file a lone "" is one (empty) argument, which Redis
		// refuses; CONFIG SET's empty value means no arguments (a no-op).
		return configErr(errObufArgCount)
	}
	return p.set(cfg, args)
}
