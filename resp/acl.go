package resp

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"sort"
	"strings"
	"sync"

	"github.com/celerity/celerity/resp/conffile"
)

// ACL users, their rules and the permission check, as Redis 7.0.15's
// acl.c defines them.
//
// A user has flags (on/off, nopass...), SHA-256 password hashes and a list
// of selectors: the root selector (the rules written outside parentheses)
// and any number of "(...)" selectors. A command is allowed when one
// selector allows it: the command (a bit per command, or a first argument
// such as SELECT|0), every key it names (glob patterns, %R~ and %W~
// restricting them to reads or writes as the command's key specs say) and
// every channel it names.
//
// # The command universe
//
// Rules are computed over Redis 7.0.15's whole command table, implemented
// here or not (aclcommands.txt, generated from the oracle's COMMAND INFO),
// plus the Celery-aware extensions' commands. So "+xadd" is a valid rule, a
// Redis aclfile loads unchanged, and "+@read -get" is described by ACL LIST
// with exactly the categories Redis picks: the best-fit search counts
// commands per category, and a smaller table would change the counts.
// Redis iterates its command dictionary in hash order (seeded at random
// each start), so where it lists single commands (ACL LIST after the
// categories, ACL CAT <category>) the order is unspecified; here it is the
// command names' sorted order.
//
// # The hot path
//
// processCommand checks a client's user only when user.allowAll is false:
// the default user (+@all ~* &*) and any user with such a selector cost one
// boolean per command.

// aclDenial is why the ACL refused a command, in Redis's numbering (a
// larger value wins when several selectors refuse for different reasons).
type aclDenial int

const (
	aclOK aclDenial = iota
	aclDeniedCmd
	aclDeniedKey
	aclDeniedAuth
	aclDeniedChannel
)

// aclLogContext is where a denial happened (ACL LOG's context field).
type aclLogContext int

const (
	aclCtxToplevel aclLogContext = iota
	aclCtxMulti
	aclCtxLua
)

// userFlag is a user's flags; their order is the order ACL LIST prints
// them in.
type userFlag uint8

const (
	userOn userFlag = 1 << iota
	userOff
	userNoPass
	userSkipSanitize
	userSanitize
)

var userFlagNames = []struct {
	name string
	flag userFlag
}{{"on", userOn}, {"off", userOff}, {"nopass", userNoPass}, {"skip-sanitize-payload", userSkipSanitize}, {"sanitize-payload", userSanitize}}

// selFlag is a selector's flags.
type selFlag uint8

const (
	selRoot selFlag = 1 << iota
	selAllKeys
	selAllChannels
	selAllCommands
)

// keyPerm is what a key pattern grants: %R~ reads, %W~ writes, ~ both.
type keyPerm uint8

const (
	permRead keyPerm = 1 << iota
	permWrite
	permAll = permRead | permWrite
)

type keyPattern struct {
	perm    keyPerm
	pattern string
}

// aclSelector is one set of permissions of a user.
type aclSelector struct {
	flags   selFlag
	allowed []uint64 // a bit per command id, plus the "future commands" bit
	// firstArgs lists, per command id, the first arguments allowed for an
	// otherwise denied command (+select|0); nil when none.
	firstArgs map[int][]string
	keys      []keyPattern
	channels  []string
}

// aclUser is an ACL user. Clients point to their user: rule changes apply
// to connected clients at once, as in Redis.
type aclUser struct {
	name      string
	flags     userFlag
	passwords []string // SHA-256 hex digests, in the order added
	selectors []*aclSelector
	// allowAll is set when a selector allows every command, key and
	// channel: the permission check is skipped.
	allowAll bool
}

// aclCmd is one command of the ACL universe.
type aclCmd struct {
	id       int
	fullName string
	cats     ACLCategory
	parent   *aclCmd
	subs     []*aclCmd // by name
	cmd      *Command  // nil for a Redis command Celerity does not implement
	noAuth   bool      // no_auth commands need no command permission
	chans    chanArgs
	keys     *keyFinder // nil: the command names no keys
}

// chanArgs says which arguments of a command are channels, and how a
// channel pattern of the user is matched against them.
type chanArgs uint8

const (
	chanNone       chanArgs = iota
	chanFirst               // PUBLISH, SPUBLISH: argv[1], glob match
	chanAll                 // SUBSCRIBE, SSUBSCRIBE: argv[1:], glob match
	chanAllLiteral          // PSUBSCRIBE: argv[1:] compared literally
)

// aclUniverse is the server's command universe: ids, categories, names.
type aclUniverse struct {
	all    []*aclCmd // by id
	top    []*aclCmd // top-level commands by name
	byName map[string]*aclCmd
	byCmd  map[*Command]*aclCmd
	words  int // length of a selector's bitmap
	future int // the bit +@all sets besides every command's
}

//go:embed aclcommands.txt
var aclCommandsTxt string

type redisACLCommand struct {
	name string
	cats ACLCategory
}

// redisACLCommands parses aclcommands.txt once per process.
var redisACLCommands = sync.OnceValue(func() []redisACLCommand {
	var out []redisACLCommand
	for _, line := range strings.Split(aclCommandsTxt, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		rc := redisACLCommand{name: f[0]}
		for _, c := range f[1:] {
			rc.cats |= aclCategoryByName(strings.TrimPrefix(c, "@"))
		}
		out = append(out, rc)
	}
	return out
})

// aclCategoryByName returns the category bit of a name (any case), 0 when
// unknown.
func aclCategoryByName(name string) ACLCategory {
	for i, n := range aclCategoryNames {
		if strings.EqualFold(n, name) {
			return 1 << i
		}
	}
	return 0
}

// newACLUniverse builds the universe of a table: Redis's commands with
// Redis's categories, and the table's own commands (the extensions').
func newACLUniverse(t *Table) *aclUniverse {
	u := &aclUniverse{byName: map[string]*aclCmd{}, byCmd: map[*Command]*aclCmd{}}
	get := func(name string) *aclCmd {
		if ac := u.byName[name]; ac != nil {
			return ac
		}
		ac := &aclCmd{fullName: name}
		if i := strings.IndexByte(name, '|'); i >= 0 {
			parent := u.byName[name[:i]]
			ac.parent = parent
			parent.subs = append(parent.subs, ac)
		} else {
			u.top = append(u.top, ac)
		}
		u.byName[name] = ac
		return ac
	}
	// Redis's file lists a container before its subcommands.
	for _, rc := range redisACLCommands() {
		get(rc.name).cats = rc.cats
	}
	var walk func(cmd *Command, redis bool)
	walk = func(cmd *Command, redis bool) {
		_, known := u.byName[cmd.fullName]
		ac := get(cmd.fullName)
		if !known {
			ac.cats = cmd.ACL
		}
		ac.cmd = cmd
		ac.noAuth = cmd.Flags&NoAuth != 0
		u.byCmd[cmd] = ac
		for _, s := range cmd.Sub {
			walk(s, redis)
		}
	}
	for _, cmd := range t.Commands() {
		walk(cmd, true)
	}
	sort.Slice(u.top, func(i, j int) bool { return u.top[i].fullName < u.top[j].fullName })
	var number func(ac *aclCmd)
	number = func(ac *aclCmd) {
		ac.id = len(u.all)
		u.all = append(u.all, ac)
		sort.Slice(ac.subs, func(i, j int) bool { return ac.subs[i].fullName < ac.subs[j].fullName })
		for _, s := range ac.subs {
			number(s)
		}
	}
	for _, ac := range u.top {
		number(ac)
		if ac.parent == nil {
			switch ac.fullName {
			case "publish", "spublish":
				ac.chans = chanFirst
			case "subscribe", "ssubscribe":
				ac.chans = chanAll
			case "psubscribe":
				ac.chans = chanAllLiteral
			}
		}
	}
	for _, ac := range u.all {
		if ac.cmd != nil {
			ac.keys = newKeyFinder(ac.cmd)
		}
	}
	u.future = len(u.all)
	u.words = u.future/64 + 1
	return u
}

// lookup finds a command by its original name ("config|get"), any case, as
// Redis's ACLLookupCommand: renamed commands keep their ACL name.
func (u *aclUniverse) lookup(name string) *aclCmd {
	if u == nil || strings.Count(name, "|") > 1 {
		return nil
	}
	return u.byName[strings.ToLower(name)]
}

// aclState is the server's ACL: the command universe, the users, the ACL
// log. Engine lock.
type aclState struct {
	uni   *aclUniverse
	cfg   *Config
	users map[string]*aclUser
	def   *aclUser // the default user; never replaced, only rewritten
	// warn logs a warning (nil while a configuration file is parsed).
	warn func(msg string)
	log  []*aclLogEntry // ACL LOG, newest first
}

// defaultNeedsAuth reports whether a client not authenticated must
// authenticate: the default user has a password, or is off.
func (a *aclState) defaultNeedsAuth() bool {
	return a.def.flags&userNoPass == 0 || a.def.flags&userOff != 0
}

// defaultAuthenticated is how a new or RESET connection starts: logged in
// as the default user when it needs no password and is on.
func (a *aclState) defaultAuthenticated() bool {
	return a.def.flags&userNoPass != 0 && a.def.flags&userOff == 0
}

// newSelector returns an empty selector: no commands, keys or channels
// (all channels when acl-pubsub-default is allchannels).
func (a *aclState) newSelector(flags selFlag) *aclSelector {
	if a.cfg != nil && a.cfg.ACLPubsubDefaultAll {
		flags |= selAllChannels
	}
	return &aclSelector{flags: flags, allowed: make([]uint64, a.words())}
}

func (a *aclState) words() int {
	if a.uni == nil {
		return 1
	}
	return a.uni.words
}

// newUser returns a user as Redis's ACLCreateUser does: off, no password,
// a root selector that allows nothing. It is not registered.
func (a *aclState) newUser(name string) *aclUser {
	return &aclUser{name: name, flags: userOff, selectors: []*aclSelector{a.newSelector(selRoot)}}
}

func (s *aclSelector) bit(id int) bool { return s.allowed[id/64]&(1<<(id%64)) != 0 }

func (s *aclSelector) setBit(id int, on bool) {
	if on {
		s.allowed[id/64] |= 1 << (id % 64)
	} else {
		s.allowed[id/64] &^= 1 << (id % 64)
		s.flags &^= selAllCommands
	}
}

// changePerm allows or denies a command; a container's subcommands follow
// it (ACLChangeSelectorPerm).
func (s *aclSelector) changePerm(ac *aclCmd, allow bool) {
	s.setBit(ac.id, allow)
	delete(s.firstArgs, ac.id)
	for _, sub := range ac.subs {
		s.setBit(sub.id, allow)
	}
}

// setCategory allows or denies every command of a category, containers
// taking their subcommands along.
func (s *aclSelector) setCategory(u *aclUniverse, cat ACLCategory, allow bool) {
	for _, ac := range u.all {
		if ac.cats&cat != 0 {
			s.changePerm(ac, allow)
		}
	}
}

// countCategory counts the commands of a category the selector allows
// (on) and denies (off).
func (s *aclSelector) countCategory(u *aclUniverse, cat ACLCategory) (on, off int) {
	for _, ac := range u.all {
		if ac.cats&cat != 0 {
			if s.bit(ac.id) {
				on++
			} else {
				off++
			}
		}
	}
	return on, off
}

func (s *aclSelector) setAll(allow bool) {
	var v uint64
	if allow {
		v = ^uint64(0)
		s.flags |= selAllCommands
	} else {
		s.flags &^= selAllCommands
	}
	for i := range s.allowed {
		s.allowed[i] = v
	}
	s.firstArgs = nil
}

func (s *aclSelector) clone() *aclSelector {
	c := *s
	c.allowed = append([]uint64(nil), s.allowed...)
	c.keys = append([]keyPattern(nil), s.keys...)
	c.channels = append([]string(nil), s.channels...)
	if s.firstArgs != nil {
		c.firstArgs = make(map[int][]string, len(s.firstArgs))
		for id, v := range s.firstArgs {
			c.firstArgs[id] = append([]string(nil), v...)
		}
	}
	return &c
}

// aclErr is why a rule was refused (errno in Redis's ACLSetUser).
type aclErr int

const (
	aclErrNone     aclErr = iota
	aclErrNoEnt           // unknown command or category
	aclErrInval           // syntax
	aclErrExist           // key pattern after allkeys
	aclErrIsDir           // channel pattern after allchannels
	aclErrNoDev           // removing a password the user does not have
	aclErrBadMsg          // bad hash
	aclErrAlready         // user declared twice in the config
	aclErrChild           // first-arg of a subcommand
	aclErrNoFlags         // "%~" without R or W
	aclErrUnmatchd        // unmatched parenthesis (callers word it)
)

// text is ACLSetUserStringError's description.
func (e aclErr) text() string {
	switch e {
	case aclErrNoEnt:
		return "Unknown command or category name in ACL"
	case aclErrInval, aclErrNoFlags:
		return "Syntax error"
	case aclErrExist:
		return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
	case aclErrIsDir:
		return "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"
	case aclErrNoDev:
		return "The password you are trying to remove from the user does not exist"
	case aclErrBadMsg:
		return "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
	case aclErrAlready:
		return "Duplicate user found. A user can only be defined once in config files"
	case aclErrChild:
		return "Allowing first-arg of a subcommand is not supported"
	}
	return "Wrong format"
}

// hasSpaces is ACLStringHasSpaces: C isspace or NUL.
func hasSpaces(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\v', '\f', '\r', 0:
			return true
		}
	}
	return false
}

// setSelector applies one selector rule (ACLSetSelector). uni may be nil
// while the configuration is parsed: every command and category is then
// unknown (aclErrNoEnt), which the caller ignores until the server exists.
func (a *aclState) setSelector(s *aclSelector, op string) aclErr {
	uni := a.uni
	if op == "" {
		return aclErrInval
	}
	switch {
	case strings.EqualFold(op, "allkeys") || op == "~*":
		s.flags |= selAllKeys
		s.keys = nil
	case strings.EqualFold(op, "resetkeys"):
		s.flags &^= selAllKeys
		s.keys = nil
	case strings.EqualFold(op, "allchannels") || op == "&*":
		s.flags |= selAllChannels
		s.channels = nil
	case strings.EqualFold(op, "resetchannels"):
		s.flags &^= selAllChannels
		s.channels = nil
	case strings.EqualFold(op, "allcommands") || strings.EqualFold(op, "+@all"):
		s.setAll(true)
	case strings.EqualFold(op, "nocommands") || strings.EqualFold(op, "-@all"):
		s.setAll(false)
	case op[0] == '~' || op[0] == '%':
		if s.flags&selAllKeys != 0 {
			return aclErrExist
		}
		perm, off := permAll, 1
		if op[0] == '%' {
			perm = 0
			for ; off < len(op); off++ {
				c := op[off]
				if (c == 'R' || c == 'r') && perm&permRead == 0 {
					perm |= permRead
				} else if (c == 'W' || c == 'w') && perm&permWrite == 0 {
					perm |= permWrite
				} else if c == '~' {
					off++
					break
				} else {
					return aclErrInval
				}
			}
			if perm == 0 {
				return aclErrNoFlags // "%~x": a syntax error in Redis too
			}
		}
		pat := op[off:]
		if hasSpaces(pat) {
			return aclErrInval
		}
		found := false
		for i := range s.keys {
			if s.keys[i].pattern == pat {
				s.keys[i].perm |= perm
				found = true
			}
		}
		if !found {
			s.keys = append(s.keys, keyPattern{perm: perm, pattern: pat})
		}
		s.flags &^= selAllKeys
	case op[0] == '&':
		if s.flags&selAllChannels != 0 {
			return aclErrIsDir
		}
		pat := op[1:]
		if hasSpaces(pat) {
			return aclErrInval
		}
		found := false
		for _, c := range s.channels {
			found = found || c == pat
		}
		if !found {
			s.channels = append(s.channels, pat)
		}
		s.flags &^= selAllChannels
	case op[0] == '+' && (len(op) < 2 || op[1] != '@'):
		bar := strings.LastIndexByte(op, '|')
		if bar < 0 {
			ac := uni.lookup(op[1:])
			if ac == nil {
				return aclErrNoEnt
			}
			s.changePerm(ac, true)
			return aclErrNone
		}
		ac := uni.lookup(op[1:bar])
		switch {
		case ac == nil:
			return aclErrNoEnt
		case ac.parent != nil:
			return aclErrChild
		case bar == len(op)-1:
			return aclErrInval
		case len(ac.subs) > 0:
			sub := uni.lookup(op[1:])
			if sub == nil {
				return aclErrNoEnt
			}
			s.changePerm(sub, true)
		default:
			// Redis logs a deprecation warning for this form (SELECT|0).
			if a.warn != nil {
				a.warn("Deprecation warning: Allowing a first arg of an otherwise blocked command is a misuse of ACL and may get disabled in the future (offender: " + op + ")")
			}
			arg := op[bar+1:]
			for _, have := range s.firstArgs[ac.id] {
				if strings.EqualFold(have, arg) {
					return aclErrNone
				}
			}
			if s.firstArgs == nil {
				s.firstArgs = map[int][]string{}
			}
			s.firstArgs[ac.id] = append(s.firstArgs[ac.id], arg)
		}
	case op[0] == '-' && (len(op) < 2 || op[1] != '@'):
		ac := uni.lookup(op[1:])
		if ac == nil {
			return aclErrNoEnt
		}
		s.changePerm(ac, false)
	case (op[0] == '+' || op[0] == '-') && op[1] == '@':
		cat := aclCategoryByName(op[2:])
		if cat == 0 || uni == nil {
			return aclErrNoEnt
		}
		s.setCategory(uni, cat, op[0] == '+')
	default:
		return aclErrInval
	}
	return aclErrNone
}

// hashPassword is ACLHashPassword: the lower-case hex SHA-256.
func hashPassword(p string) string {
	sum := sha256.Sum256([]byte(p))
	return hex.EncodeToString(sum[:])
}

// validHash is ACLCheckPasswordHash.
func validHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; (c < 'a' || c > 'f') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// setUser applies one rule to a user (ACLSetUser). The empty rule does
// nothing.
func (a *aclState) setUser(u *aclUser, op string) aclErr {
	defer u.refresh()
	if op == "" {
		return aclErrNone
	}
	switch {
	case strings.EqualFold(op, "on"):
		u.flags = u.flags&^userOff | userOn
	case strings.EqualFold(op, "off"):
		u.flags = u.flags&^userOn | userOff
	case strings.EqualFold(op, "skip-sanitize-payload"):
		u.flags = u.flags&^userSanitize | userSkipSanitize
	case strings.EqualFold(op, "sanitize-payload"):
		u.flags = u.flags&^userSkipSanitize | userSanitize
	case strings.EqualFold(op, "nopass"):
		u.flags |= userNoPass
		u.passwords = nil
	case strings.EqualFold(op, "resetpass"):
		u.flags &^= userNoPass
		u.passwords = nil
	case op[0] == '>' || op[0] == '#':
		h := op[1:]
		if op[0] == '>' {
			h = hashPassword(h)
		} else if !validHash(h) {
			return aclErrBadMsg
		}
		found := false
		for _, p := range u.passwords {
			found = found || p == h
		}
		if !found {
			u.passwords = append(u.passwords, h)
		}
		u.flags &^= userNoPass
	case op[0] == '<' || op[0] == '!':
		h := op[1:]
		if op[0] == '<' {
			h = hashPassword(h)
		} else if !validHash(h) {
			return aclErrBadMsg
		}
		i := 0
		for i < len(u.passwords) && u.passwords[i] != h {
			i++
		}
		if i == len(u.passwords) {
			return aclErrNoDev
		}
		u.passwords = append(u.passwords[:i:i], u.passwords[i+1:]...)
	case op[0] == '(' && op[len(op)-1] == ')':
		s := a.newSelector(0)
		ops, _ := splitSelectorArgs(op[1 : len(op)-1])
		for _, o := range ops {
			if err := a.setSelector(s, o); err != aclErrNone {
				return err
			}
		}
		u.selectors = append(u.selectors, s)
	case strings.EqualFold(op, "clearselectors"):
		u.selectors = u.selectors[:1:1]
	case strings.EqualFold(op, "reset"):
		for _, o := range []string{"resetpass", "resetkeys", "resetchannels"} {
			a.setUser(u, o)
		}
		if a.cfg != nil && a.cfg.ACLPubsubDefaultAll {
			a.setUser(u, "allchannels")
		}
		for _, o := range []string{"off", "sanitize-payload", "clearselectors", "-@all"} {
			a.setUser(u, o)
		}
	default:
		return a.setSelector(u.selectors[0], op)
	}
	return aclErrNone
}

// refresh recomputes allowAll.
func (u *aclUser) refresh() {
	u.allowAll = false
	for _, s := range u.selectors {
		if s.flags&(selAllKeys|selAllChannels|selAllCommands) == selAllKeys|selAllChannels|selAllCommands {
			u.allowAll = true
		}
	}
}

// copyFrom makes u's rules those of src, keeping u's name and identity
// (ACLCopyUser): clients authenticated as u see the new rules.
func (u *aclUser) copyFrom(src *aclUser) {
	u.flags = src.flags
	u.passwords = append([]string(nil), src.passwords...)
	u.selectors = make([]*aclSelector, len(src.selectors))
	for i, s := range src.selectors {
		u.selectors[i] = s.clone()
	}
	u.refresh()
}

// mergeSelectorArgs joins a selector spread over several arguments
// ("(+get" "~k)") into one (ACLMergeSelectorArguments). bad is the index
// of an opening argument never closed, or -1.
func mergeSelectorArgs(args []string) (merged []string, bad int) {
	open := -1
	var sel string
	for j, op := range args {
		if open < 0 && op != "" && op[0] == '(' && op[len(op)-1] != ')' {
			sel, open = op, j
			continue
		}
		if open >= 0 {
			sel += " " + op
			if op != "" && op[len(op)-1] == ')' {
				merged = append(merged, sel)
				open = -1
			}
			continue
		}
		merged = append(merged, op)
	}
	if open >= 0 {
		return nil, open
	}
	return merged, -1
}

// splitSelectorArgs splits the inside of a "(...)" selector into rules as
// sdssplitargs does (quotes allowed); unbalanced quotes leave no rules.
func splitSelectorArgs(s string) ([]string, error) {
	return conffile.SplitArgs(s)
}
