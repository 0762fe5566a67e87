package resp

import (
	"math"
	"strconv"
	"strings"
)

// OpsConfig holds the directives of the operator-facing commands and
// checks (slowlog, DEBUG, protected mode). It is embedded in Config; its directives are
// declared here rather than in config.go so this group stays in one place.
type OpsConfig struct {
	// SlowlogLogSlowerThan is slowlog-log-slower-than in microseconds: -1
	// disables the slow log, 0 logs every command.
	SlowlogLogSlowerThan int
	// SlowlogMaxLen is slowlog-max-len, the entries kept.
	SlowlogMaxLen int
	// EnableDebugCommand is enable-debug-command: "no", "yes" or "local".
	EnableDebugCommand string
	// EnableProtectedConfigs is enable-protected-configs: "no", "yes" or
	// "local"; whether CONFIG SET may change protected directives (dir,
	// dbfilename).
	EnableProtectedConfigs string
	// ProtectedMode is protected-mode: while the default user has no
	// password, only loopback clients are accepted (protected.go).
	ProtectedMode bool
	// LatencyMonitorThreshold is latency-monitor-threshold in
	// milliseconds: events at least this long are recorded (0: off).
	LatencyMonitorThreshold int
	// LatencyTracking is latency-tracking: per-command latency
	// histograms (INFO latencystats, LATENCY HISTOGRAM).
	LatencyTracking bool
	// LatencyPercentiles is latency-tracking-info-percentiles.
	LatencyPercentiles []float64
}

// defaultOpsConfig returns Redis 7.0.15's compiled-in defaults.
func defaultOpsConfig() OpsConfig {
	return OpsConfig{
		SlowlogLogSlowerThan:   10000,
		SlowlogMaxLen:          128,
		EnableDebugCommand:     "no",
		EnableProtectedConfigs: "no",
		ProtectedMode:          true,
		LatencyTracking:        true,
		LatencyPercentiles:     []float64{50, 99, 99.9},
	}
}

// opsParams declares the directives of OpsConfig.
func opsParams() []*configParam {
	return []*configParam{
		intParam("slowlog-log-slower-than", 0, -1, math.MaxInt64, func(c *Config) *int { return &c.SlowlogLogSlowerThan }),
		intParam("slowlog-max-len", 0, 0, math.MaxInt64, func(c *Config) *int { return &c.SlowlogMaxLen }),
		boolParam("protected-mode", 0, func(c *Config) *bool { return &c.ProtectedMode }),
		intParam("latency-monitor-threshold", 0, 0, math.MaxInt64, func(c *Config) *int { return &c.LatencyMonitorThreshold }),
		boolParam("latency-tracking", 0, func(c *Config) *bool { return &c.LatencyTracking }),
		{
			name: "latency-tracking-info-percentiles", flags: cfgMultiArg,
			get: func(cfg *Config) string {
				parts := make([]string, len(cfg.LatencyPercentiles))
				for i, p := range cfg.LatencyPercentiles {
					parts[i] = formatPercentile(p)
				}
				return strings.Join(parts, " ")
			},
			set: func(cfg *Config, args []string) error {
				ps := []float64{} // a lone "" is the empty list
				if len(args) == 1 && args[0] == "" {
					args = nil
				}
				for _, a := range args {
					v, inf, ok := parseLongDouble([]byte(a))
					if !ok {
						return configErr("Invalid latency-tracking-info-percentiles parameters")
					}
					p := math.Inf(1) // "inf": out of range, not invalid
					if !inf {
						p, _ = v.Float64()
					}
					if p < 0 || p > 100 {
						return configErr("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")
					}
					ps = append(ps, p)
				}
				cfg.LatencyPercentiles = ps
				return nil
			},
		},
		// Immutable, as in Redis 7.0: a client that could turn DEBUG on could
		// also crash or stall the server with it, and one that could
		// unprotect dir could point the AOF anywhere.
		noYesLocalParam("enable-debug-command", func(c *Config) *string { return &c.EnableDebugCommand }),
		noYesLocalParam("enable-protected-configs", func(c *Config) *string { return &c.EnableProtectedConfigs }),
	}
}

// noYesLocalParam is an immutable no/yes/local directive (Redis's
// protected_action_enum).
func noYesLocalParam(name string, field func(*Config) *string) *configParam {
	return &configParam{
		name: name, flags: cfgImmutable, kind: rwEnum,
		get: func(cfg *Config) string { return *field(cfg) },
		set: func(cfg *Config, args []string) error {
			v := strings.ToLower(args[0])
			switch v {
			case "no", "yes", "local":
				*field(cfg) = v
				return nil
			}
			return configErr("argument(s) must be one of the following: no, yes, local")
		},
	}
}

// allowsLevel reports whether a no/yes/local setting lets c act: yes for
// anyone, local for loopback clients (Redis's allowProtectedAction).
func (c *Client) allowsLevel(level string) bool {
	return level == "yes" || level == "local" && c.isLocal()
}

// formatPercentile renders a percentile as Redis does in CONFIG GET and
// INFO: %f without trailing zeros ("50", "99.9").
func formatPercentile(p float64) string {
	s := strconv.FormatFloat(p, 'f', 6, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
