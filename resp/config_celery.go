package resp

import (
	"math"
	"strings"
)

// CeleryConfig holds Celerity's own directives for the Celery-aware
// extensions (kombu, redbeat, results) and the metrics endpoint. Redis has
// none of them; each defaults to Redis's behaviour (off), so a redis.conf
// without them runs exactly as under Redis. They are declared here, not by
// the extensions, because a redis.conf is read before the server and its
// extensions exist; the extensions read them under the engine lock.
type CeleryConfig struct {
	// KombuVisibilityLease is kombu-visibility-lease: keep the
	// unacked_index score of a message fresh while the connection that
	// recorded it is open (kombu/).
	KombuVisibilityLease bool
	// KombuLeaseMax is kombu-lease-max, seconds: the longest a lease keeps
	// a message from being restored (a hung worker); 0 = no bound.
	KombuLeaseMax int
	// KombuGlobalKeyprefix is kombu-global-keyprefix: Kombu's
	// global_keyprefix transport option; "" detects it when unambiguous.
	KombuGlobalKeyprefix string
	// RedbeatPrefixes is redbeat-prefixes: the RedBeat key prefixes the
	// REDBEAT.* commands and the lock watch look at by default (besides
	// the ones detected).
	RedbeatPrefixes []string
	// ResultsDefaultTTL is results-default-ttl, seconds: a Celery result
	// key or pidbox reply queue written without a TTL gets this one; 0 =
	// off.
	ResultsDefaultTTL int
	// MetricsPort is metrics-port: the HTTP port of /metrics and the
	// status page; 0 = off.
	MetricsPort int
	// MetricsBind is metrics-bind: the addresses the metrics port listens
	// on; empty = the same as bind.
	MetricsBind []string
	// MetricsAuth is metrics-auth: with yes (the default) the metrics port
	// asks for the same credentials as the server whenever the server has
	// a password: HTTP basic auth, user and password checked as AUTH would
	// (an empty user is the default user, as in AUTH <password>).
	MetricsAuth bool
}

// defaultCeleryConfig returns the directives' defaults.
func defaultCeleryConfig() CeleryConfig {
	return CeleryConfig{
		KombuLeaseMax:   6 * 3600,
		RedbeatPrefixes: []string{"redbeat:"},
		MetricsAuth:     true,
	}
}

// celeryParams declares the directives of CeleryConfig.
func celeryParams() []*configParam {
	return []*configParam{
		boolParam("kombu-visibility-lease", 0, func(c *Config) *bool { return &c.KombuVisibilityLease }),
		intParam("kombu-lease-max", 0, 0, math.MaxInt32, func(c *Config) *int { return &c.KombuLeaseMax }),
		{
			name: "kombu-global-keyprefix",
			get:  func(cfg *Config) string { return cfg.KombuGlobalKeyprefix },
			set: func(cfg *Config, args []string) error {
				cfg.KombuGlobalKeyprefix = args[0]
				return nil
			},
		},
		{
			name: "redbeat-prefixes", flags: cfgMultiArg,
			get: func(cfg *Config) string { return strings.Join(cfg.RedbeatPrefixes, " ") },
			set: func(cfg *Config, args []string) error {
				cfg.RedbeatPrefixes = strings.Fields(strings.Join(args, " "))
				return nil
			},
		},
		intParam("results-default-ttl", 0, 0, math.MaxInt32, func(c *Config) *int { return &c.ResultsDefaultTTL }),
		intParam("metrics-port", cfgImmutable, 0, 65535, func(c *Config) *int { return &c.MetricsPort }),
		{
			name: "metrics-bind", flags: cfgImmutable | cfgMultiArg,
			get: func(cfg *Config) string { return strings.Join(cfg.MetricsBind, " ") },
			set: func(cfg *Config, args []string) error {
				cfg.MetricsBind = strings.Fields(strings.Join(args, " "))
				return nil
			},
		},
		boolParam("metrics-auth", cfgImmutable, func(c *Config) *bool { return &c.MetricsAuth }),
	}
}
