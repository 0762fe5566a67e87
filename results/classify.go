package results

import (
	"bytes"
	"strings"
)

// Kind is what a key is to the Celery result backend.
type Kind uint8

// Key kinds.
const (
	KindNone        Kind = iota
	KindTask             // celery-task-meta-<id>
	KindGroup            // celery-taskset-meta-<gid>
	KindChord            // celery-taskset-meta-<gid>.j|.t|.s|.d|.c, chord-unlock-<gid>
	KindPidboxReply      // <oid>.reply.celery.pidbox
)

// Celery's key prefixes (celery/backends/base.py KeyValueStoreBackend) and
// Kombu's reply exchange suffix (celery/app/control.py: reply queues are
// "<oid>.reply.celery.pidbox").
const (
	taskPrefix   = "celery-task-meta-"
	groupPrefix  = "celery-taskset-meta-"
	chordPrefix  = "chord-unlock-"
	pidboxSuffix = ".reply.celery.pidbox"
	// kombuPrioritySep separates a queue's name from its priority step
	// in Kombu's key for that priority ("q\x06\x163").
	kombuPrioritySep = "\x06\x16"
	// kombuBindingPrefix starts Kombu's exchange binding sets.
	kombuBindingPrefix = "_kombu.binding."
)

// Classify tells what key is. A prefix in front of Celery's own
// (global_keyprefix) is accepted; chord keys are the group key with Celery
// 5.7's one-letter suffixes.
func Classify(key string) Kind {
	if strings.Contains(key, taskPrefix) {
		return KindTask
	}
	if i := strings.Index(key, groupPrefix); i >= 0 {
		n := len(key)
		if n >= i+len(groupPrefix)+2 && key[n-2] == '.' && strings.IndexByte("jtsdc", key[n-1]) >= 0 {
			return KindChord
		}
		return KindGroup
	}
	if strings.Contains(key, chordPrefix) {
		return KindChord
	}
	if isPidboxReply(key) {
		return KindPidboxReply
	}
	return KindNone
}

// isPidboxReply reports whether key is a reply queue, or one of its
// priority lists ("<oid>.reply.celery.pidbox\x06\x163").
func isPidboxReply(key string) bool {
	if i := strings.LastIndex(key, kombuPrioritySep); i >= 0 {
		for _, c := range key[i+len(kombuPrioritySep):] {
			if c < '0' || c > '9' {
				return false
			}
		}
		key = key[:i]
	}
	// The binding set "_kombu.binding.reply.celery.pidbox" ends the same
	// way and is the broker's routing table, never a reply queue.
	return strings.HasSuffix(key, pidboxSuffix) && len(key) > len(pidboxSuffix) &&
		!strings.Contains(key, kombuBindingPrefix)
}

// stateUnknown is reported for a task result whose value is not a JSON
// object with a string "status" (another result_serializer: pickle,
// msgpack, yaml).
const stateUnknown = "UNKNOWN"

// maxStateLen bounds a state name taken from stored data.
const maxStateLen = 64

// TaskState returns the "status" of a stored task result. Celery writes it
// as the first member of the object ({"status": "SUCCESS", "result": ...}),
// so the scan over the top-level members usually stops at once; members
// before it are skipped without decoding. A hand-rolled scanner, because
// encoding/json's decoder costs a microsecond and several allocations per
// result, which a walk over a million keys under the engine lock cannot
// afford.
func TaskState(v []byte) string {
	i := skipSpace(v, 0)
	if i >= len(v) || v[i] != '{' {
		return stateUnknown
	}
	i++
	for {
		i = skipSpace(v, i)
		if i >= len(v) || v[i] != '"' {
			return stateUnknown
		}
		key, next, ok := scanString(v, i)
		if !ok {
			return stateUnknown
		}
		i = skipSpace(v, next)
		if i >= len(v) || v[i] != ':' {
			return stateUnknown
		}
		i = skipSpace(v, i+1)
		if string(key) == "status" {
			if i >= len(v) || v[i] != '"' {
				return stateUnknown
			}
			str, _, ok := scanString(v, i)
			if !ok || len(str) == 0 || len(str) > maxStateLen || bytes.IndexByte(str, '\\') >= 0 {
				return stateUnknown
			}
			return string(str)
		}
		if i = skipValue(v, i); i < 0 {
			return stateUnknown
		}
		i = skipSpace(v, i)
		if i >= len(v) || v[i] != ',' {
			return stateUnknown // '}' without a status, or malformed
		}
		i++
	}
}

func skipSpace(v []byte, i int) int {
	for i < len(v) && (v[i] == ' ' || v[i] == '\t' || v[i] == '\n' || v[i] == '\r') {
		i++
	}
	return i
}

// scanString returns the raw contents of the JSON string starting at v[i]
// (a '"') and the index after its closing quote.
func scanString(v []byte, i int) ([]byte, int, bool) {
	for j := i + 1; j < len(v); j++ {
		switch v[j] {
		case '\\':
			j++
		case '"':
			return v[i+1 : j], j + 1, true
		}
	}
	return nil, 0, false
}

// skipValue returns the index after the JSON value starting at v[i], or -1.
// Nesting is followed by counting brackets outside strings; what is inside
// is not validated (a malformed value ends the scan later, as UNKNOWN).
func skipValue(v []byte, i int) int {
	depth := 0
	for i < len(v) {
		switch c := v[i]; c {
		case '"':
			_, next, ok := scanString(v, i)
			if !ok {
				return -1
			}
			i = next
			if depth == 0 {
				return i
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth < 0 {
				return -1
			}
			if depth == 0 {
				return i + 1
			}
		case ',':
			if depth == 0 {
				return i
			}
		}
		i++
	}
	if depth == 0 {
		return i
	}
	return -1
}
