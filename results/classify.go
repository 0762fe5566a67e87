package results

import (
	"bytes"
	"encoding/json"
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
// so the walk over the top-level members usually stops at once; members
// before it are skipped without being decoded into values.
func TaskState(v []byte) string {
	dec := json.NewDecoder(bytes.NewReader(v))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return stateUnknown
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return stateUnknown
		}
		if k == "status" {
			s, err := dec.Token()
			str, ok := s.(string)
			if err != nil || !ok || str == "" || len(str) > maxStateLen {
				return stateUnknown
			}
			return str
		}
		if err := skipValue(dec); err != nil {
			return stateUnknown
		}
	}
	return stateUnknown
}

// skipValue consumes one JSON value from dec without keeping it.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}
