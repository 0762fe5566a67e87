package resp

import (
	"fmt"
	"sort"
	"strings"
)

// CommandFlag is a Redis command flag. The bit order is the order in which
// Redis 7.0 lists flags in COMMAND INFO, so replies fall out of a bit walk.
type CommandFlag uint32

// Command flags, as Redis spells them.
const (
	Write CommandFlag = 1 << iota
	Readonly
	DenyOOM
	Module
	Admin
	Pubsub
	NoScript
	Blocking
	Loading
	Stale
	SkipMonitor
	SkipSlowlog
	Asking
	Fast
	NoAuth
	NoMandatoryKeys
	NoAsyncLoading
	NoMulti
	MovableKeys
	AllowBusy
	// The flags below are never shown by COMMAND INFO (hidden in Redis too).
	MayReplicate
	Sentinel
	OnlySentinel
	Protected
)

var flagNames = []string{"write", "readonly", "denyoom", "module", "admin", "pubsub",
	"noscript", "blocking", "loading", "stale", "skip_monitor", "skip_slowlog", "asking",
	"fast", "no_auth", "no_mandatory_keys", "no_async_loading", "no_multi", "movablekeys",
	"allow_busy"}

// ACLCategory is a Redis ACL category bit, in Redis's category order.
type ACLCategory uint32

// ACL categories.
const (
	CatKeyspace ACLCategory = 1 << iota
	CatRead
	CatWrite
	CatSet
	CatSortedSet
	CatList
	CatHash
	CatString
	CatBitmap
	CatHyperLogLog
	CatGeo
	CatStream
	CatPubsub
	CatAdmin
	CatFast
	CatSlow
	CatBlocking
	CatDangerous
	CatConnection
	CatTransaction
	CatScripting
)

var aclCategoryNames = []string{"keyspace", "read", "write", "set", "sortedset", "list",
	"hash", "string", "bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin", "fast",
	"slow", "blocking", "dangerous", "connection", "transaction", "scripting"}

// KeyPos is the legacy (first, last, step) key position triple of COMMAND.
type KeyPos struct{ First, Last, Step int }

// Command is one entry of the declarative command table. Tables are plain
// slices of these values, one file per Redis command group.
type Command struct {
	Name  string // lower case; for a subcommand, the subcommand alone ("get")
	Arity int    // counts the command name (and subcommand); negative = at least -Arity
	Flags CommandFlag
	ACL   ACLCategory // explicit categories; implicit ones are derived at build
	Keys  KeyPos
	Run   func(c *Client)
	Sub   []*Command // subcommands of a container command (CONFIG, CLIENT...)
	// GetKeys returns the indexes of key arguments for commands whose keys
	// move (movablekeys); nil means Keys describes them.
	GetKeys func(argv [][]byte) []int

	fullName string // "config|get"
	parent   *Command
	subIndex map[string]*Command
	meta     *commandMeta
	stats    commandStats
}

type commandStats struct {
	calls, nsec, rejected, failed int64
	latency                       *latencyHist
}

// FullName returns the name Redis uses in errors and stats ("config|get").
func (c *Command) FullName() string { return c.fullName }

// Table is the built, validated command table.
type Table struct {
	cmds   map[string]*Command
	sorted []*Command // top-level commands by name, for stable iteration
}

// NewTable builds a table from groups of declarations. It derives implicit
// ACL categories from flags, indexes subcommands and validates that names are
// unique and key positions consistent with arity.
func NewTable(groups ...[]*Command) (*Table, error) {
	t := &Table{cmds: make(map[string]*Command)}
	meta, err := loadCommandMeta()
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		for _, cmd := range g {
			if err := t.add(cmd, nil, meta); err != nil {
				return nil, err
			}
		}
	}
	t.resort()
	return t, nil
}

func (t *Table) resort() {
	t.sorted = t.sorted[:0]
	for _, c := range t.cmds {
		t.sorted = append(t.sorted, c)
	}
	sort.Slice(t.sorted, func(i, j int) bool { return t.sorted[i].fullName < t.sorted[j].fullName })
}

func (t *Table) add(cmd *Command, parent *Command, meta map[string]*commandMeta) error {
	if cmd.Name != strings.ToLower(cmd.Name) || cmd.Name == "" {
		return fmt.Errorf("command %q: names are declared in lower case", cmd.Name)
	}
	cmd.parent = parent
	cmd.fullName = cmd.Name
	if parent != nil {
		cmd.fullName = parent.Name + "|" + cmd.Name
	}
	if cmd.Run == nil && len(cmd.Sub) == 0 {
		return fmt.Errorf("command %q has no handler", cmd.fullName)
	}
	if cmd.Keys.First > 0 && cmd.Arity > 0 && cmd.Keys.Last > 0 && cmd.Keys.Last >= cmd.Arity {
		return fmt.Errorf("command %q: last key %d beyond arity %d", cmd.fullName, cmd.Keys.Last, cmd.Arity)
	}
	if cmd.GetKeys != nil {
		cmd.Flags |= MovableKeys
	}
	cmd.ACL |= implicitCategories(cmd)
	cmd.meta = meta[cmd.fullName]
	if parent == nil {
		if _, dup := t.cmds[cmd.Name]; dup {
			return fmt.Errorf("command %q declared twice", cmd.Name)
		}
		t.cmds[cmd.Name] = cmd
	} else {
		if _, dup := parent.subIndex[cmd.Name]; dup {
			return fmt.Errorf("subcommand %q declared twice", cmd.fullName)
		}
		parent.subIndex[cmd.Name] = cmd
	}
	if len(cmd.Sub) > 0 {
		cmd.subIndex = make(map[string]*Command, len(cmd.Sub))
		for _, s := range cmd.Sub {
			if err := t.add(s, cmd, meta); err != nil {
				return err
			}
		}
	}
	return nil
}

// implicitCategories derives categories from flags as Redis 7.0 does.
func implicitCategories(c *Command) ACLCategory {
	cat := c.ACL
	if c.Flags&Write != 0 {
		cat |= CatWrite
	}
	if c.Flags&Readonly != 0 && cat&CatScripting == 0 {
		cat |= CatRead
	}
	if c.Flags&Admin != 0 {
		cat |= CatAdmin | CatDangerous
	}
	if c.Flags&Pubsub != 0 {
		cat |= CatPubsub
	}
	if c.Flags&Fast != 0 {
		cat |= CatFast
	}
	if c.Flags&Blocking != 0 {
		cat |= CatBlocking
	}
	if cat&CatFast == 0 {
		cat |= CatSlow
	}
	return cat
}

// Lookup finds a top-level command by name, case-insensitively.
func (t *Table) Lookup(name []byte) *Command {
	var tmp [32]byte
	if len(name) <= len(tmp) {
		lower := tmp[:len(name)]
		for i, c := range name {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			lower[i] = c
		}
		return t.cmds[string(lower)]
	}
	return t.cmds[strings.ToLower(string(name))]
}

// lookupArgv resolves argv to a command or subcommand as Redis's
// lookupCommand does: a container command with more than one argument
// resolves to its subcommand (nil when unknown).
func (t *Table) lookupArgv(argv [][]byte) *Command {
	base := t.Lookup(argv[0])
	if base == nil || len(argv) == 1 || base.subIndex == nil {
		return base
	}
	return base.subIndex[strings.ToLower(string(argv[1]))]
}

// Rename applies a rename-command directive: the command is served under
// newName, or disabled when newName is empty.
func (t *Table) Rename(oldName, newName string) error {
	oldName, newName = strings.ToLower(oldName), strings.ToLower(newName)
	cmd, ok := t.cmds[oldName]
	if !ok {
		return tableErr("No such command in rename-command")
	}
	if newName != "" {
		if _, taken := t.cmds[newName]; taken {
			return tableErr("Target command name already exists")
		}
	}
	delete(t.cmds, oldName)
	if newName != "" {
		t.cmds[newName] = cmd
	}
	t.resort()
	return nil
}

// tableErr carries Redis's own capitalized texts for rename-command.
type tableErr string

func (e tableErr) Error() string { return string(e) }

// Commands returns the top-level commands sorted by name.
func (t *Table) Commands() []*Command { return t.sorted }
