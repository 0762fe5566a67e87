package resp

import (
	"math"
	"strconv"
	"strings"
)

// SnapshotConfig holds the directives of RDB snapshots (rdb.go): save
// points, the file's options and what a failed save does to writes.
type SnapshotConfig struct {
	// SavePoints are save's "<seconds> <changes>" pairs: a background
	// save starts once at least changes writes happened and seconds
	// passed since the last save. Empty: no automatic snapshots.
	SavePoints []SavePoint
	// RDBCompression is rdbcompression: LZF for strings over 20 bytes.
	RDBCompression bool
	// RDBChecksum is rdbchecksum (immutable): the CRC-64 trailer.
	RDBChecksum bool
	// StopWritesOnBgsaveError is stop-writes-on-bgsave-error: while save
	// points are set and the last background save failed, write commands
	// get -MISCONF.
	StopWritesOnBgsaveError bool
	// RDBSaveIncrementalFsync is rdb-save-incremental-fsync: fsync the
	// file every 4 MB while it is written, so the final fsync is short.
	RDBSaveIncrementalFsync bool
	// RDBDelSyncFiles is rdb-del-sync-files, about files written only for
	// replication; Celerity does not replicate, so there are none.
	RDBDelSyncFiles bool
	// RDBKeySaveDelay is rdb-key-save-delay: microseconds slept per key
	// saved by BGSAVE (Redis's own tests use it to keep a save running).
	RDBKeySaveDelay int
	// SanitizeDumpPayload is sanitize-dump-payload (no, yes, clients).
	// Celerity validates every RESTORE payload and RDB file in full
	// whatever its value.
	SanitizeDumpPayload string

	saveLoaded bool // the first save line of a file replaced the defaults
}

// SavePoint is one save point.
type SavePoint struct {
	Seconds int64
	Changes int64
}

// defaultSnapshotConfig returns Redis 7.0.15's compiled-in defaults.
func defaultSnapshotConfig() SnapshotConfig {
	return SnapshotConfig{
		SavePoints:              []SavePoint{{3600, 1}, {300, 100}, {60, 10000}},
		RDBCompression:          true,
		RDBChecksum:             true,
		StopWritesOnBgsaveError: true,
		RDBSaveIncrementalFsync: true,
		SanitizeDumpPayload:     "no",
	}
}

// snapshotParams declares the directives of SnapshotConfig.
func snapshotParams() []*configParam {
	return []*configParam{
		{
			name: "save", flags: cfgMultiArg,
			get: func(cfg *Config) string { return formatSavePoints(cfg.SavePoints) },
			set: func(cfg *Config, args []string) error {
				points, err := parseSavePoints(args)
				if err != nil {
					return err
				}
				cfg.SavePoints = points
				return nil
			},
		},
		boolParam("rdbcompression", 0, func(c *Config) *bool { return &c.RDBCompression }),
		boolParam("rdbchecksum", cfgImmutable, func(c *Config) *bool { return &c.RDBChecksum }),
		boolParam("stop-writes-on-bgsave-error", 0, func(c *Config) *bool { return &c.StopWritesOnBgsaveError }),
		boolParam("rdb-save-incremental-fsync", 0, func(c *Config) *bool { return &c.RDBSaveIncrementalFsync }),
		boolParam("rdb-del-sync-files", 0, func(c *Config) *bool { return &c.RDBDelSyncFiles }),
		intParam("rdb-key-save-delay", cfgHidden, math.MinInt32, math.MaxInt32, func(c *Config) *int { return &c.RDBKeySaveDelay }),
		enumParam("sanitize-dump-payload", 0, []string{"no", "yes", "clients"}, func(c *Config) *string { return &c.SanitizeDumpPayload }),
	}
}

// parseSavePoints parses save's arguments; a lone "" is no save points.
func parseSavePoints(args []string) ([]SavePoint, error) {
	if len(args) == 1 && args[0] == "" {
		return nil, nil
	}
	if !validSavePoints(args) {
		return nil, configErr("Invalid save parameters")
	}
	points := make([]SavePoint, 0, len(args)/2)
	for i := 0; i < len(args); i += 2 {
		secs, _ := strtollWhole(args[i])
		changes, _ := strtollWhole(args[i+1])
		// Redis stores changes in an int.
		points = append(points, SavePoint{secs, int64(int32(changes))})
	}
	return points, nil
}

// appendSaveDirective applies a save line of a config file or the
// command line: lines accumulate, the first one replaces the compiled-in
// points, and save "" clears them, as in Redis.
func (cfg *Config) appendSaveDirective(args []string) error {
	points, err := parseSavePoints(args)
	if err != nil {
		return err
	}
	if points == nil {
		cfg.saveLoaded, cfg.SavePoints = true, nil // save "" clears
		return nil
	}
	if !cfg.saveLoaded {
		cfg.saveLoaded = true
		cfg.SavePoints = nil
	}
	cfg.SavePoints = append(cfg.SavePoints, points...)
	return nil
}

func formatSavePoints(points []SavePoint) string {
	parts := make([]string, 0, 2*len(points))
	for _, p := range points {
		parts = append(parts, strconv.FormatInt(p.Seconds, 10), strconv.FormatInt(p.Changes, 10))
	}
	return strings.Join(parts, " ")
}
