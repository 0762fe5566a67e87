package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// redisLevel maps Redis's loglevel names to zerolog levels. verbose and
// debug both enable our debug output; notice is the normal level.
func redisLevel(name string) zerolog.Level {
	switch name {
	case "debug", "verbose":
		return zerolog.DebugLevel
	case "warning":
		return zerolog.WarnLevel
	}
	return zerolog.InfoLevel
}

// logFile reopens its path for every write, as Redis does, so external
// logrotate works without signals. An empty path writes to stdout.
type logFile struct {
	mu   sync.Mutex
	path string
}

func (l *logFile) Write(p []byte) (int, error) {
	if l.path == "" {
		return os.Stdout.Write(p)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return f.Write(p)
}

// newLogger returns a zerolog logger that writes Redis-style lines:
// "<pid>:M <dd Mon yyyy HH:MM:SS.mmm> <level glyph> <message> [key=value...]".
func newLogger(path, level string) zerolog.Logger {
	pid := os.Getpid()
	var out io.Writer = &logFile{path: path}
	cw := zerolog.ConsoleWriter{
		Out:        out,
		NoColor:    true,
		PartsOrder: []string{zerolog.TimestampFieldName, zerolog.LevelFieldName, zerolog.MessageFieldName},
		FormatTimestamp: func(any) string {
			return fmt.Sprintf("%d:M %s", pid, time.Now().Format("02 Jan 2006 15:04:05.000"))
		},
		FormatLevel: func(i any) string {
			switch i {
			case "debug", "trace":
				return "."
			case "info":
				return "*"
			default:
				return "#"
			}
		},
	}
	return zerolog.New(cw).Level(redisLevel(level)).With().Timestamp().Logger()
}
