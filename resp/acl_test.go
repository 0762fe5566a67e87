package resp

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/resp/conffile"
)

func newACLTestServer(t *testing.T, directives ...conffile.Directive) *Server {
	t.Helper()
	cfg := testConfig(t)
	for _, d := range directives {
		require.NoError(t, cfg.Apply(d))
	}
	s, err := NewServer(cfg, Options{})
	require.NoError(t, err)
	return s
}

// The default user and any +@all ~* &* user skip the permission check:
// processCommand tests one boolean.
func TestACLHotPathFlag(t *testing.T) {
	s := newACLTestServer(t)
	a := &s.acl
	assert.True(t, a.def.allowAll)
	u := a.newUser("u")
	for _, op := range []string{"on", "+@all", "~*", "&*"} {
		require.Equal(t, aclErrNone, a.setUser(u, op))
	}
	assert.True(t, u.allowAll)
	require.Equal(t, aclErrNone, a.setUser(u, "-flushall"))
	assert.False(t, u.allowAll, "one command less: checked")
	require.Equal(t, aclErrNone, a.setUser(u, "+@all"))
	require.Equal(t, aclErrNone, a.setUser(u, "resetchannels"))
	assert.False(t, u.allowAll, "channels restricted: checked")
	require.Equal(t, aclErrNone, a.setUser(u, "(~* &* +@all)"))
	assert.True(t, u.allowAll, "a selector allowing everything")
}

// Every implemented Redis command has Redis's categories in the ACL
// universe (the table's own declarations agree with aclcommands.txt), and
// each has an id within the bitmap.
func TestACLUniverseMatchesTable(t *testing.T) {
	s := newACLTestServer(t)
	uni := s.acl.uni
	redis := map[string]ACLCategory{}
	for _, rc := range redisACLCommands() {
		redis[rc.name] = rc.cats
	}
	var walk func(cmd *Command)
	walk = func(cmd *Command) {
		ac := uni.byCmd[cmd]
		require.NotNil(t, ac, cmd.fullName)
		assert.Less(t, ac.id, uni.future)
		if cats, ok := redis[cmd.fullName]; ok {
			assert.Equal(t, cats, cmd.ACL, "%s: table categories vs Redis's", cmd.fullName)
		}
		for _, sub := range cmd.Sub {
			walk(sub)
		}
	}
	for _, cmd := range s.table.Commands() {
		walk(cmd)
	}
	assert.Equal(t, len(uni.all), uni.future)
	assert.GreaterOrEqual(t, len(uni.all), len(redis))
}

// Start-up refusals, with Redis 7.0.15's log texts (checked against
// redis-server by hand: ACLLoadUsersAtStartup exits with them).
func TestACLStartupErrors(t *testing.T) {
	cfg := NewConfig()
	require.NoError(t, cfg.Apply(conffile.Directive{Name: "user", Args: []string{"alice", "on"}}))
	require.NoError(t, cfg.Apply(conffile.Directive{Name: "aclfile", Args: []string{"/nonexistent.acl"}}))
	_, err := NewServer(cfg, Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid.")

	cfg = NewConfig()
	require.NoError(t, cfg.Apply(conffile.Directive{Name: "user", Args: []string{"alice", "on", "+nosuchcmd"}}))
	_, err = NewServer(cfg, Options{})
	require.Error(t, err)
	assert.Equal(t, "Error loading ACL rule '+nosuchcmd' for the user named 'alice': Unknown command or category name in ACL", err.Error())

	cfg = NewConfig()
	assert.EqualError(t, cfg.Apply(conffile.Directive{Name: "user", Args: []string{"alice", "on", ">p", "+get", "badrule"}}),
		"Error in user declaration '>p': Syntax error")
	require.NoError(t, cfg.Apply(conffile.Directive{Name: "user", Args: []string{"alice"}}))
	assert.EqualError(t, cfg.Apply(conffile.Directive{Name: "user", Args: []string{"alice", "off"}}),
		"Error in user declaration 'alice': Duplicate user found. A user can only be defined once in config files")
}
