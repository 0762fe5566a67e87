package resp

import "strings"

// Which arguments of a command are keys, and what the command does to each
// (read, insert, delete, update), for the ACL key check. Redis 7.0 answers
// from the command's key specs (getKeysUsingKeySpecs in db.c); the specs
// are those of the oracle (commandmeta.json), interpreted here the same
// way. Where Redis falls back to a command's getkeys procedure (a spec it
// cannot evaluate, or flags that depend on the arguments), so does this.

// keySpecFlag is a key spec flag (COMMAND INFO's key specs).
type keySpecFlag uint16

const (
	ksRO keySpecFlag = 1 << iota
	ksRW
	ksOW
	ksRM
	ksAccess
	ksUpdate
	ksInsert
	ksDelete
	ksNotKey
	ksIncomplete
	ksVariableFlags
)

var keySpecFlagNames = map[string]keySpecFlag{
	"RO": ksRO, "RW": ksRW, "OW": ksOW, "RM": ksRM, "access": ksAccess, "update": ksUpdate,
	"insert": ksInsert, "delete": ksDelete, "not_key": ksNotKey, "incomplete": ksIncomplete,
	"variable_flags": ksVariableFlags,
}

// keyRef is one key argument: its position in argv and its spec's flags.
type keyRef struct {
	pos   int
	flags keySpecFlag
}

const (
	bsUnknown = iota
	bsIndex
	bsKeyword
)

const (
	fkUnknown = iota
	fkRange
	fkKeynum
)

// keySpec is one decoded key spec.
type keySpec struct {
	flags keySpecFlag

	bs        int // begin_search type
	index     int // bsIndex: position
	keyword   string
	startFrom int // bsKeyword: where the keyword search starts (negative: from the end)

	fk                  int // find_keys type
	lastKey, keyStep    int // fkRange (keyStep also for fkKeynum)
	limit               int // fkRange
	keyNumIdx, firstKey int // fkKeynum
}

// keyFinder finds a command's keys.
type keyFinder struct {
	cmd      *Command
	specs    []keySpec
	useSpecs bool // a spec names real keys and none has variable flags
	// noMeta marks a command without key specs (an extension's): its
	// declared key positions are used, every key needing full access.
	noMeta bool
}

// newKeyFinder decodes cmd's key specs; nil when the command names no
// keys (doesCommandHaveKeys).
func newKeyFinder(cmd *Command) *keyFinder {
	f := &keyFinder{cmd: cmd}
	if cmd.meta == nil || cmd.meta.KeySpecs.Kind == 0 {
		if cmd.Keys.First <= 0 && cmd.GetKeys == nil {
			return nil
		}
		f.noMeta = true
		return f
	}
	hasKey, varFlags := false, false
	for _, sv := range cmd.meta.KeySpecs.Elems {
		ks := decodeKeySpec(sv)
		f.specs = append(f.specs, ks)
		hasKey = hasKey || ks.flags&ksNotKey == 0
		varFlags = varFlags || ks.flags&ksVariableFlags != 0
	}
	f.useSpecs = hasKey && !varFlags
	if !hasKey && cmd.GetKeys == nil {
		return nil
	}
	return f
}

// valueField returns a RESP3 map's value for key; the zero Value if absent.
func valueField(m Value, key string) Value {
	for i := 0; i+1 < len(m.Elems); i += 2 {
		if m.Elems[i].Str == key {
			return m.Elems[i+1]
		}
	}
	return Value{}
}

func decodeKeySpec(v Value) keySpec {
	var ks keySpec
	for _, f := range valueField(v, "flags").Elems {
		ks.flags |= keySpecFlagNames[f.Str]
	}
	bs := valueField(v, "begin_search")
	bspec := valueField(bs, "spec")
	switch valueField(bs, "type").Str {
	case "index":
		ks.bs = bsIndex
		ks.index = int(valueField(bspec, "index").Int)
	case "keyword":
		ks.bs = bsKeyword
		ks.keyword = valueField(bspec, "keyword").Str
		ks.startFrom = int(valueField(bspec, "startfrom").Int)
	}
	fk := valueField(v, "find_keys")
	fspec := valueField(fk, "spec")
	switch valueField(fk, "type").Str {
	case "range":
		ks.fk = fkRange
		ks.lastKey = int(valueField(fspec, "lastkey").Int)
		ks.keyStep = int(valueField(fspec, "keystep").Int)
		ks.limit = int(valueField(fspec, "limit").Int)
	case "keynum":
		ks.fk = fkKeynum
		ks.keyNumIdx = int(valueField(fspec, "keynumidx").Int)
		ks.firstKey = int(valueField(fspec, "firstkey").Int)
		ks.keyStep = int(valueField(fspec, "keystep").Int)
	}
	return ks
}

// find returns the keys of argv (getKeysFromCommandWithSpecs).
func (f *keyFinder) find(argv [][]byte) []keyRef {
	if f.noMeta {
		idx := f.cmd.keyIndexes(argv)
		refs := make([]keyRef, len(idx))
		for i, p := range idx {
			refs[i] = keyRef{p, ksRW | ksAccess | ksUpdate | ksInsert | ksDelete}
		}
		return refs
	}
	if f.useSpecs {
		if refs, ok := f.bySpecs(argv); ok {
			return refs
		}
	}
	switch f.cmd.fullName {
	case "set":
		return []keyRef{{1, setKeyFlags(argv)}}
	case "bitfield":
		return []keyRef{{1, bitfieldKeyFlags(argv)}}
	}
	if f.cmd.GetKeys == nil {
		return nil
	}
	// Redis's generic getkeys procedures give no flags: any pattern that
	// matches the key will do.
	idx := f.cmd.GetKeys(argv)
	refs := make([]keyRef, len(idx))
	for i, p := range idx {
		refs[i] = keyRef{pos: p}
	}
	return refs
}

// bySpecs is getKeysUsingKeySpecs; ok is false where Redis's returns -1 (a
// spec it cannot evaluate on these arguments).
func (f *keyFinder) bySpecs(argv [][]byte) ([]keyRef, bool) {
	argc := len(argv)
	var refs []keyRef
	for _, ks := range f.specs {
		if ks.flags&ksNotKey != 0 {
			continue
		}
		first := 0
		switch ks.bs {
		case bsIndex:
			first = ks.index
		case bsKeyword:
			start, end := ks.startFrom, argc-1
			if ks.startFrom <= 0 {
				start, end = argc+ks.startFrom, 1
			}
			for i := start; i != end; {
				if i >= argc || i < 1 {
					break
				}
				if strings.EqualFold(string(argv[i]), ks.keyword) {
					first = i + 1
					break
				}
				if start <= end {
					i++
				} else {
					i--
				}
			}
			if first == 0 {
				continue
			}
		default:
			return nil, false
		}
		var last, step int
		switch ks.fk {
		case fkRange:
			step = ks.keyStep
			switch {
			case ks.lastKey >= 0:
				last = first + ks.lastKey
			case ks.limit == 0:
				last = argc + ks.lastKey
			default:
				last = first + ((argc-first)/ks.limit + ks.lastKey)
			}
		case fkKeynum:
			step = ks.keyStep
			at := first + ks.keyNumIdx
			if ks.keyNumIdx >= argc || at >= argc {
				return nil, false
			}
			n, ok := parseStrictInt(argv[at])
			if !ok || n < 0 || n > int64(argc) {
				return nil, false
			}
			first += ks.firstKey
			last = first + int(n) - 1
		default:
			return nil, false
		}
		if last >= argc || last < first || first >= argc {
			return nil, false
		}
		for i := first; i <= last; i += max(step, 1) {
			refs = append(refs, keyRef{i, ks.flags})
		}
		if ks.flags&ksIncomplete != 0 {
			return nil, false
		}
	}
	return refs, true
}

// setKeyFlags is setGetKeys: SET ... GET reads the key too.
func setKeyFlags(argv [][]byte) keySpecFlag {
	for _, a := range argv[min(3, len(argv)):] {
		if len(a) == 3 && strings.EqualFold(string(a), "get") {
			return ksRW | ksAccess | ksUpdate
		}
	}
	return ksOW | ksUpdate
}

// bitfieldKeyFlags is bitfieldGetKeys: only GET (and OVERFLOW) reads.
func bitfieldKeyFlags(argv [][]byte) keySpecFlag {
	for i := 2; i < len(argv); i++ {
		rem := len(argv) - i - 1
		switch a := string(argv[i]); {
		case strings.EqualFold(a, "get") && rem >= 2:
			i += 2
		case strings.EqualFold(a, "overflow") && rem >= 1:
			i++
		default:
			return ksRW | ksAccess | ksUpdate
		}
	}
	return ksRO | ksAccess
}
