package resp

import (
	"fmt"
	"math"
	"os"
	"strings"
	"time"
)

// Where users come from: the default user, requirepass, "user" directives
// in redis.conf, the aclfile (ACL LOAD, ACL SAVE). As in Redis 7.0.15,
// users are declared either in redis.conf or in an aclfile, never both
// (the server refuses to start); requirepass sets the default user's one
// password, and an aclfile (or ACL LOAD) that declares the default user, or
// leaves it out, overrides it.

// ACLConfig holds the ACL directives. It is embedded in Config.
type ACLConfig struct {
	// ACLFile is aclfile: the users file ACL LOAD and ACL SAVE use.
	ACLFile string
	// ACLLogMaxLen is acllog-max-len: the entries ACL LOG keeps.
	ACLLogMaxLen int
	// ACLPubsubDefaultAll is acl-pubsub-default allchannels: new users
	// start with every channel (Redis 7.0's default is resetchannels).
	ACLPubsubDefaultAll bool

	// aclUsers are the user directives, validated: name, then rules.
	aclUsers [][]string
}

func defaultACLConfig() ACLConfig { return ACLConfig{ACLLogMaxLen: 128} }

// aclParams declares the directives of ACLConfig.
func aclParams() []*configParam {
	return []*configParam{
		{
			name: "aclfile", flags: cfgImmutable,
			get: func(cfg *Config) string { return cfg.ACLFile },
			set: func(cfg *Config, args []string) error {
				cfg.ACLFile = args[0]
				return nil
			},
		},
		intParam("acllog-max-len", 0, 0, math.MaxInt64, func(c *Config) *int { return &c.ACLLogMaxLen }),
		{
			name: "acl-pubsub-default",
			get: func(cfg *Config) string {
				if cfg.ACLPubsubDefaultAll {
					return "allchannels"
				}
				return "resetchannels"
			},
			set: func(cfg *Config, args []string) error {
				switch strings.ToLower(args[0]) {
				case "allchannels":
					cfg.ACLPubsubDefaultAll = true
				case "resetchannels":
					cfg.ACLPubsubDefaultAll = false
				default:
					return configErr("argument(s) must be one of the following: allchannels, resetchannels")
				}
				return nil
			},
		},
	}
}

// appendUserDirective validates a "user <name> <rules...>" line and keeps
// it for the server to load (ACLAppendUserForLoading). Unknown commands
// and categories are not errors yet; anything else is, worded as Redis
// words it, including its habit of quoting the directive's argument at
// the failing rule's index among the rules.
func (cfg *Config) appendUserDirective(args []string) error {
	argv := append([]string{"user"}, args...)
	declErr := func(i int, e aclErr) error {
		return configErr("Error in user declaration '" + argv[i] + "': " + e.text())
	}
	for _, u := range cfg.aclUsers {
		if u[0] == argv[1] {
			return declErr(1, aclErrAlready)
		}
	}
	merged, bad := mergeSelectorArgs(argv[2:])
	if bad >= 0 {
		// errno is not set on this path in Redis: the text is whatever
		// an earlier failure left, observed as ENOENT's.
		return declErr(bad, aclErrNoEnt)
	}
	v := &aclState{cfg: cfg}
	fake := v.newUser("")
	for j, op := range merged {
		if err := v.setUser(fake, op); err != aclErrNone && err != aclErrNoEnt {
			return declErr(j, err)
		}
	}
	cfg.aclUsers = append(cfg.aclUsers, append([]string{argv[1]}, merged...))
	return nil
}

// aclStartErr carries Redis's own (capitalized) log texts for a start it
// refuses or an ACL SAVE that failed.
type aclStartErr string

func (e aclStartErr) Error() string { return string(e) }

// initACL creates the default user and loads the configured users
// (ACLInit, ACLLoadUsersAtStartup). Its errors are Redis's log lines for a
// start it refuses.
func (s *Server) initACL() error {
	a := &s.acl
	a.cfg = s.cfg
	a.uni = newACLUniverse(s.table)
	a.warn = func(msg string) { s.log.Warn().Msg(msg) }
	a.def = a.newDefaultUser()
	a.users = map[string]*aclUser{"default": a.def}
	if s.cfg.requirePass != "" {
		a.setDefaultPassword(s.cfg.requirePass)
	}
	if s.cfg.ACLFile != "" && len(s.cfg.aclUsers) > 0 {
		return aclStartErr("Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.")
	}
	for _, rules := range s.cfg.aclUsers {
		name := rules[0]
		if hasSpaces(name) {
			return aclStartErr("Spaces not allowed in ACL usernames")
		}
		u := a.users[name]
		if u == nil {
			u = a.newUser(name)
			a.users[name] = u
		} else {
			a.setUser(u, "reset")
		}
		for _, op := range rules[1:] {
			if err := a.setUser(u, op); err != aclErrNone {
				return aclStartErr(fmt.Sprintf("Error loading ACL rule '%s' for the user named '%s': %s", op, name, err.text()))
			}
		}
		if u.flags&userOff != 0 {
			s.log.Info().Msg("The user '" + name + "' is disabled (there is no 'on' modifier in the user description). Make sure this is not a configuration error.")
		}
	}
	if s.cfg.ACLFile != "" {
		if errs := a.loadFile(nil); errs != "" {
			return aclStartErr("Aborting Redis startup because of ACL errors: " + errs)
		}
	}
	return nil
}

// newDefaultUser is ACLCreateDefaultUser.
func (a *aclState) newDefaultUser() *aclUser {
	u := a.newUser("default")
	for _, op := range []string{"+@all", "~*", "&*", "on", "nopass"} {
		a.setUser(u, op)
	}
	return u
}

// setDefaultPassword is what requirepass does: the default user gets this
// one password, or none at all (nopass) when it is empty.
func (a *aclState) setDefaultPassword(p string) {
	a.setUser(a.def, "resetpass")
	if p != "" {
		a.setUser(a.def, ">"+p)
	} else {
		a.setUser(a.def, "nopass")
	}
}

// loadFile replaces the users with the aclfile's, or changes nothing and
// returns the errors found (ACLLoadFromFile). Clients of the users it
// replaces are disconnected (c, the client running ACL LOAD, after its
// reply); the default user is rewritten in place.
func (a *aclState) loadFile(c *Client) string {
	path := a.cfg.ACLFile
	data, err := os.ReadFile(path)
	if err != nil {
		return "Error loading ACLs, opening file '" + path + "': " + syscallErrText(err)
	}
	var errs strings.Builder
	users := map[string]*aclUser{}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.Trim(line, " \t\r\n")
		if line == "" {
			continue
		}
		// Split on single spaces, as sdssplitlen: two spaces make an
		// empty rule, which does nothing.
		argv := strings.Split(line, " ")
		if argv[0] != "user" || len(argv) < 2 {
			fmt.Fprintf(&errs, "%s:%d should start with user keyword followed by the username. ", path, i+1)
			continue
		}
		if hasSpaces(argv[1]) {
			fmt.Fprintf(&errs, "'%s:%d: username '%s' contains invalid characters. ", path, i+1, argv[1])
			continue
		}
		if users[argv[1]] != nil {
			fmt.Fprintf(&errs, "WARNING: Duplicate user '%s' found on line %d. ", argv[1], i+1)
			continue
		}
		u := a.newUser(argv[1])
		users[argv[1]] = u
		merged, bad := mergeSelectorArgs(argv[2:])
		if bad >= 0 {
			fmt.Fprintf(&errs, "%s:%d: Unmatched parenthesis in selector definition.", path, i+1)
		}
		for _, op := range merged {
			op = strings.Trim(op, "\t\r\n")
			switch err := a.setUser(u, op); err {
			case aclErrNone:
			case aclErrNoEnt:
				// A command name is no secret: Redis quotes the rule.
				fmt.Fprintf(&errs, "%s:%d: Error in applying operation '%s': %s. ", path, i+1, op, err.text())
			default:
				fmt.Fprintf(&errs, "%s:%d: %s. ", path, i+1, err.text())
			}
		}
	}
	if errs.Len() > 0 {
		return errs.String() + "WARNING: ACL errors detected, no change to the previously active ACL rules was performed"
	}
	def := users["default"]
	if def == nil {
		def = a.newDefaultUser()
	}
	a.def.copyFrom(def)
	users["default"] = a.def
	old := a.users
	a.users = users
	for name, u := range old {
		if name != "default" && c != nil {
			c.forgetUser(u)
		}
	}
	return ""
}

// saveFile writes every user's ACL LIST line to the aclfile through a
// temporary file renamed over it (ACLSaveToFile).
func (a *aclState) saveFile() error {
	var b strings.Builder
	for _, u := range a.sortedUsers() {
		b.WriteString(a.userLine(u))
		b.WriteByte('\n')
	}
	path := a.cfg.ACLFile
	tmp := fmt.Sprintf("%s.tmp-%d-%d", path, os.Getpid(), time.Now().UnixMilli())
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return aclStartErr("Opening temp ACL file for ACL SAVE: " + syscallErrText(err))
	}
	_, err = f.WriteString(b.String())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return aclStartErr("Writing ACL file for ACL SAVE: " + syscallErrText(err))
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return aclStartErr("Renaming ACL file for ACL SAVE: " + syscallErrText(err))
	}
	return nil
}

func aclLoadCommand(c *Client) {
	a := &c.srv.acl
	if a.cfg.ACLFile == "" {
		c.Error(errNoACLFile)
		return
	}
	if errs := a.loadFile(c); errs != "" {
		c.Error("ERR " + errs)
		return
	}
	c.OK()
}

func aclSaveCommand(c *Client) {
	a := &c.srv.acl
	if a.cfg.ACLFile == "" {
		c.Error(errNoACLFile)
		return
	}
	if err := a.saveFile(); err != nil {
		c.srv.log.Warn().Msg(err.Error())
		c.Error(errACLSaveFailed)
		return
	}
	c.OK()
}
