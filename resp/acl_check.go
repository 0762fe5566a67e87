package resp

import "strings"

// The ACL permission check (ACLCheckAllUserCommandPerm and what it calls)
// and password authentication.

// authenticate checks a username/password pair (ACLCheckUserCredentials)
// and returns the user, or nil.
func (a *aclState) authenticate(name, pass []byte) *aclUser {
	u := a.users[string(name)]
	if u == nil || u.flags&userOff != 0 {
		return nil
	}
	if u.flags&userNoPass != 0 {
		return u
	}
	h := hashPassword(string(pass))
	for _, p := range u.passwords {
		if timeIndependentEqual(p, h) {
			return u
		}
	}
	return nil
}

// timeIndependentEqual compares two digests without a data-dependent
// early exit.
func timeIndependentEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	var diff byte
	for i := 0; i < len(a); i++ {
		diff |= a[i] ^ b[i]
	}
	return diff == 0
}

// check is ACLCheckAllUserCommandPerm: whether u may run cmd with argv,
// and if not why, with the index of the offending key or channel.
func (a *aclState) check(u *aclUser, cmd *Command, argv [][]byte) (aclDenial, int) {
	if u == nil || u.allowAll {
		return aclOK, 0
	}
	ac := a.uni.byCmd[cmd]
	if ac == nil {
		return aclDeniedCmd, 0
	}
	relevant, lastIdx, idx := aclDeniedCmd, 0, 0
	var keys []keyRef
	keysDone := false
	for _, s := range u.selectors {
		r := s.checkCmd(ac, argv, &idx, &keys, &keysDone)
		if r == aclOK {
			return aclOK, 0
		}
		if r > relevant || r == relevant && idx > lastIdx {
			relevant, lastIdx = r, idx
		}
	}
	return relevant, lastIdx
}

// checkCmd is ACLSelectorCheckCmd; keys are found once and shared by the
// user's selectors.
func (s *aclSelector) checkCmd(ac *aclCmd, argv [][]byte, idx *int, keys *[]keyRef, keysDone *bool) aclDenial {
	if s.flags&selAllCommands == 0 && !ac.noAuth && !s.bit(ac.id) {
		args := s.firstArgs[ac.id]
		at := 1
		if ac.parent != nil {
			at = 2
		}
		if len(argv) < 2 || len(args) == 0 || at >= len(argv) {
			return aclDeniedCmd
		}
		ok := false
		for _, fa := range args {
			ok = ok || strings.EqualFold(fa, string(argv[at]))
		}
		if !ok {
			return aclDeniedCmd
		}
	}
	if s.flags&selAllKeys == 0 && ac.keys != nil {
		if !*keysDone {
			*keys = ac.keys.find(argv)
			*keysDone = true
		}
		for _, k := range *keys {
			if !s.keyAllowed(argv[k.pos], k.flags) {
				*idx = k.pos
				return aclDeniedKey
			}
		}
	}
	if s.flags&selAllChannels == 0 && ac.chans != chanNone {
		first, last, literal := 1, len(argv)-1, ac.chans == chanAllLiteral
		if ac.chans == chanFirst {
			last = 1
		}
		for j := first; j <= last; j++ {
			if !channelAllowed(s.channels, argv[j], literal) {
				*idx = j
				return aclDeniedChannel
			}
		}
	}
	return aclOK
}

// keyAllowed is ACLSelectorCheckKey: a pattern must match the key and
// grant what the command does to it (reads: access; writes: insert,
// delete, update).
func (s *aclSelector) keyAllowed(key []byte, flags keySpecFlag) bool {
	if s.flags&selAllKeys != 0 {
		return true
	}
	var need keyPerm
	if flags&ksAccess != 0 {
		need |= permRead
	}
	if flags&(ksInsert|ksDelete|ksUpdate) != 0 {
		need |= permWrite
	}
	for _, p := range s.keys {
		if p.perm&need == need && globMatch([]byte(p.pattern), key, false) {
			return true
		}
	}
	return false
}

// channelAllowed is ACLCheckChannelAgainstList: glob patterns against a
// channel, or (PSUBSCRIBE) the pattern compared as is.
func channelAllowed(pats []string, ch []byte, literal bool) bool {
	for _, p := range pats {
		if literal && p == string(ch) || !literal && globMatch([]byte(p), ch, false) {
			return true
		}
	}
	return false
}
