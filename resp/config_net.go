package resp

import (
	"math"
	"strconv"
	"strings"

	"github.com/celerity/celerity/resp/conffile"
)

// NetConfig holds the directives of the listening sockets beyond port and
// bind (tcp-backlog, the unix socket, TLS) and of syslog. It is embedded in
// Config; its directives are declared here so the group stays in one place
// (listen.go and tls.go use them).
type NetConfig struct {
	// TCPBacklog is tcp-backlog, the listen(2) backlog of TCP listeners.
	TCPBacklog int
	// UnixSocket is unixsocket, the path of a unix socket listener ("" =
	// none); UnixSocketPerm is unixsocketperm, its mode (0 = umask's).
	UnixSocket     string
	UnixSocketPerm int

	// TLS (tls.go). TLSPort 0 means no TLS listener.
	TLSPort                int
	TLSCertFile            string
	TLSKeyFile             string
	TLSKeyFilePass         string
	TLSClientCertFile      string // for outgoing connections: no effect
	TLSClientKeyFile       string // for outgoing connections: no effect
	TLSClientKeyFilePass   string // for outgoing connections: no effect
	TLSDHParamsFile        string
	TLSCACertFile          string
	TLSCACertDir           string
	TLSProtocols           string
	TLSCiphers             string
	TLSCiphersuites        string
	TLSAuthClients         string // "yes", "no" or "optional"
	TLSPreferServerCiphers bool
	TLSSessionCaching      bool
	TLSSessionCacheSize    int
	TLSSessionCacheTimeout int
	TLSReplication         bool // no replication in Celerity: no effect
	TLSCluster             bool // no cluster in Celerity: no effect

	// SyslogEnabled is syslog-enabled: only "no" is supported (the log goes
	// to logfile or stdout); syslog-ident and syslog-facility are kept for
	// CONFIG GET.
	SyslogEnabled  bool
	SyslogIdent    string
	SyslogFacility string
}

// defaultNetConfig returns Redis 7.0.15's compiled-in defaults.
func defaultNetConfig() NetConfig {
	return NetConfig{
		TCPBacklog:             511,
		TLSAuthClients:         "yes",
		TLSSessionCaching:      true,
		TLSSessionCacheSize:    20 * 1024,
		TLSSessionCacheTimeout: 300,
		SyslogIdent:            "redis",
		SyslogFacility:         "local0",
	}
}

// netParams declares the directives of NetConfig. The tls-* directives are
// modifiable, as in Redis 7.0: CONFIG SET of any of them rebuilds the TLS
// configuration (reloading the certificate files even when the path is
// unchanged, as Redis's VOLATILE_CONFIG does) or fails as a whole
// (applyTLS in tls.go).
func netParams() []*configParam {
	return []*configParam{
		intParam("tcp-backlog", cfgImmutable, 0, math.MaxInt32, func(c *Config) *int { return &c.TCPBacklog }),
		nullStringParam("unixsocket", cfgImmutable, func(c *Config) *string { return &c.UnixSocket }),
		{
			name: "unixsocketperm", flags: cfgImmutable, kind: rwOctal,
			get: func(cfg *Config) string { return strconv.FormatInt(int64(cfg.UnixSocketPerm), 8) },
			set: func(cfg *Config, args []string) error {
				// Redis reads it with strtoll(base 8) over the whole word.
				v, err := strconv.ParseInt(args[0], 8, 64)
				if err != nil {
					return configErr("argument couldn't be parsed into an integer")
				}
				if v < 0 || v > 0o777 {
					return configErr("argument must be between 0 and 777 inclusive")
				}
				cfg.UnixSocketPerm = int(v)
				return nil
			},
		},
		intParam("tls-port", 0, 0, 65535, func(c *Config) *int { return &c.TLSPort }),
		nullStringParam("tls-cert-file", 0, func(c *Config) *string { return &c.TLSCertFile }),
		nullStringParam("tls-key-file", 0, func(c *Config) *string { return &c.TLSKeyFile }),
		sensitive(nullStringParam("tls-key-file-pass", 0, func(c *Config) *string { return &c.TLSKeyFilePass })),
		nullStringParam("tls-client-cert-file", 0, func(c *Config) *string { return &c.TLSClientCertFile }),
		nullStringParam("tls-client-key-file", 0, func(c *Config) *string { return &c.TLSClientKeyFile }),
		sensitive(nullStringParam("tls-client-key-file-pass", 0, func(c *Config) *string { return &c.TLSClientKeyFilePass })),
		nullStringParam("tls-dh-params-file", 0, func(c *Config) *string { return &c.TLSDHParamsFile }),
		nullStringParam("tls-ca-cert-file", 0, func(c *Config) *string { return &c.TLSCACertFile }),
		nullStringParam("tls-ca-cert-dir", 0, func(c *Config) *string { return &c.TLSCACertDir }),
		nullStringParam("tls-protocols", 0, func(c *Config) *string { return &c.TLSProtocols }),
		nullStringParam("tls-ciphers", 0, func(c *Config) *string { return &c.TLSCiphers }),
		nullStringParam("tls-ciphersuites", 0, func(c *Config) *string { return &c.TLSCiphersuites }),
		enumParam("tls-auth-clients", 0, []string{"no", "yes", "optional"}, func(c *Config) *string { return &c.TLSAuthClients }),
		boolParam("tls-prefer-server-ciphers", 0, func(c *Config) *bool { return &c.TLSPreferServerCiphers }),
		boolParam("tls-session-caching", 0, func(c *Config) *bool { return &c.TLSSessionCaching }),
		intParam("tls-session-cache-size", 0, 0, math.MaxInt32, func(c *Config) *int { return &c.TLSSessionCacheSize }),
		intParam("tls-session-cache-timeout", 0, 0, math.MaxInt32, func(c *Config) *int { return &c.TLSSessionCacheTimeout }),
		boolParam("tls-replication", 0, func(c *Config) *bool { return &c.TLSReplication }),
		boolParam("tls-cluster", 0, func(c *Config) *bool { return &c.TLSCluster }),
		{
			name: "syslog-enabled", flags: cfgImmutable, kind: rwYesNo,
			get: func(cfg *Config) string { return yesNo(cfg.SyslogEnabled) },
			set: func(cfg *Config, args []string) error {
				v, err := conffile.ParseBool(args[0])
				if err != nil {
					return configErr(conffile.ReasonNotYesNo)
				}
				if v {
					return configErr("syslog-enabled yes is not supported: Celerity logs to logfile (or stdout); use the service manager's log collection instead")
				}
				cfg.SyslogEnabled = v
				return nil
			},
		},
		{
			name: "syslog-ident", flags: cfgImmutable,
			get: func(cfg *Config) string { return cfg.SyslogIdent },
			set: func(cfg *Config, args []string) error {
				cfg.SyslogIdent = args[0]
				return nil
			},
		},
		enumParam("syslog-facility", cfgImmutable, []string{"user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"},
			func(c *Config) *string { return &c.SyslogFacility }),
	}
}

// nullStringParam is a string directive where "" means unset (Redis's
// EMPTY_STRING_IS_NULL): CONFIG REWRITE removes its lines when unset.
func nullStringParam(name string, flags configFlag, field func(*Config) *string) *configParam {
	return &configParam{
		name: name, flags: flags, kind: rwNullString,
		get: func(cfg *Config) string { return *field(cfg) },
		set: func(cfg *Config, args []string) error {
			*field(cfg) = args[0]
			return nil
		},
	}
}

// enumParam is a directive taking one of values (case-insensitive), stored
// lower case.
func enumParam(name string, flags configFlag, values []string, field func(*Config) *string) *configParam {
	return &configParam{
		name: name, flags: flags, kind: rwEnum,
		get: func(cfg *Config) string { return *field(cfg) },
		set: func(cfg *Config, args []string) error {
			v := strings.ToLower(args[0])
			for _, ok := range values {
				if v == ok {
					*field(cfg) = v
					return nil
				}
			}
			return configErr("argument(s) must be one of the following: " + strings.Join(values, ", "))
		},
	}
}

func sensitive(p *configParam) *configParam {
	p.flags |= cfgSensitive
	return p
}
