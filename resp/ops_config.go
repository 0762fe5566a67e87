package resp

import (
	"math"
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
}

// defaultOpsConfig returns Redis 7.0.15's compiled-in defaults.
func defaultOpsConfig() OpsConfig {
	return OpsConfig{
		SlowlogLogSlowerThan:   10000,
		SlowlogMaxLen:          128,
		EnableDebugCommand:     "no",
		EnableProtectedConfigs: "no",
		ProtectedMode:          true,
	}
}

// opsParams declares the directives of OpsConfig.
func opsParams() []*configParam {
	return []*configParam{
		intParam("slowlog-log-slower-than", 0, -1, math.MaxInt64, func(c *Config) *int { return &c.SlowlogLogSlowerThan }),
		intParam("slowlog-max-len", 0, 0, math.MaxInt64, func(c *Config) *int { return &c.SlowlogMaxLen }),
		boolParam("protected-mode", 0, func(c *Config) *bool { return &c.ProtectedMode }),
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
