package resp

import (
	"math"
	"strings"
)

// How users are written back as rules: ACL LIST and ACL SAVE lines, ACL
// GETUSER's fields. The command rules are recomputed from the command
// bitmap exactly as Redis 7.0.15's ACLDescribeSelectorCommandRules does
// (the rules as typed are not kept): start from +@all or -@all, add the
// best-fitting categories one by one, then the single commands that still
// differ, then the allowed first arguments.

// describeCommandRules renders a selector's command permissions.
func (a *aclState) describeCommandRules(s *aclSelector) string {
	uni := a.uni
	var b strings.Builder
	fake := &aclSelector{allowed: make([]uint64, uni.words)}
	// Only +@all (or allcommands) sets the future-commands bit: it tells
	// "everything but..." from "nothing but...".
	additive := !s.bit(uni.future)
	if additive {
		b.WriteString("-@all ")
	} else {
		b.WriteString("+@all ")
		fake.setAll(true)
	}
	temp := &aclSelector{allowed: append([]uint64(nil), s.allowed...)}
	applied := make([]bool, len(aclCategoryNames))
	for {
		best, minDiff, maxSame := -1, math.MaxInt, 0
		for j := range aclCategoryNames {
			if applied[j] {
				continue
			}
			on, off := temp.countCategory(uni, 1<<j)
			diff, same := off, on
			if !additive {
				diff, same = on, off
			}
			// A category is worth naming when it has more in common with
			// the user than not; the one with the fewest differences (then
			// the most in common) wins this round.
			if same > diff && (diff < minDiff || diff == minDiff && same > maxSame) {
				best, minDiff, maxSame = j, diff, same
			}
		}
		if best < 0 {
			break
		}
		cat := ACLCategory(1) << best
		fake.setCategory(uni, cat, additive)
		temp.setCategory(uni, cat, !additive)
		if additive {
			b.WriteString("+@")
		} else {
			b.WriteString("-@")
		}
		b.WriteString(aclCategoryNames[best])
		b.WriteByte(' ')
		applied[best] = true
	}
	describeSingleCommands(s, fake, &b, uni.top)
	return strings.TrimSuffix(b.String(), " ")
}

// describeSingleCommands adds the commands whose bit still differs between
// the selector and the rules written so far (fake), and first arguments.
func describeSingleCommands(s, fake *aclSelector, b *strings.Builder, cmds []*aclCmd) {
	for _, ac := range cmds {
		ub := s.bit(ac.id)
		if ub != fake.bit(ac.id) {
			if ub {
				b.WriteByte('+')
			} else {
				b.WriteByte('-')
			}
			b.WriteString(ac.fullName)
			b.WriteByte(' ')
			fake.changePerm(ac, ub)
		}
		if len(ac.subs) > 0 {
			describeSingleCommands(s, fake, b, ac.subs)
		}
		if !ub {
			for _, arg := range s.firstArgs[ac.id] {
				b.WriteString("+" + ac.fullName + "|" + arg + " ")
			}
		}
	}
}

// keyPatternString is sdsCatPatternString.
func keyPatternString(p keyPattern) string {
	switch p.perm {
	case permRead:
		return "%R~" + p.pattern
	case permWrite:
		return "%W~" + p.pattern
	}
	return "~" + p.pattern
}

// describeSelector renders keys, channels and commands (ACLDescribeSelector).
func (a *aclState) describeSelector(s *aclSelector) string {
	var b strings.Builder
	if s.flags&selAllKeys != 0 {
		b.WriteString("~* ")
	} else {
		for _, p := range s.keys {
			b.WriteString(keyPatternString(p) + " ")
		}
	}
	if s.flags&selAllChannels != 0 {
		b.WriteString("&* ")
	} else {
		b.WriteString("resetchannels ")
		for _, c := range s.channels {
			b.WriteString("&" + c + " ")
		}
	}
	b.WriteString(a.describeCommandRules(s))
	return b.String()
}

// describeUser renders a user as the rules that recreate it
// (ACLDescribeUser): flags, password hashes, the root selector, then the
// other selectors in parentheses.
func (a *aclState) describeUser(u *aclUser) string {
	var b strings.Builder
	for _, f := range userFlagNames {
		if u.flags&f.flag != 0 {
			b.WriteString(f.name + " ")
		}
	}
	for _, p := range u.passwords {
		b.WriteString("#" + p + " ")
	}
	for i, s := range u.selectors {
		if i == 0 {
			b.WriteString(a.describeSelector(s))
		} else {
			b.WriteString(" (" + a.describeSelector(s) + ")")
		}
	}
	return b.String()
}

// userLine is a user's ACL LIST and ACL SAVE line.
func (a *aclState) userLine(u *aclUser) string {
	return "user " + u.name + " " + a.describeUser(u)
}

// sortedUsers returns the users by name, the order Redis's radix tree
// keeps them in.
func (a *aclState) sortedUsers() []*aclUser {
	names := make([]string, 0, len(a.users))
	for n := range a.users {
		names = append(names, n)
	}
	sortStrings(names)
	out := make([]*aclUser, len(names))
	for i, n := range names {
		out[i] = a.users[n]
	}
	return out
}

// replySelector adds a selector's commands, keys and channels fields to
// an ACL GETUSER reply.
func (c *Client) replySelector(s *aclSelector) {
	a := &c.srv.acl
	c.BulkString("commands")
	c.BulkString(a.describeCommandRules(s))
	c.BulkString("keys")
	if s.flags&selAllKeys != 0 {
		c.BulkString("~*")
	} else {
		parts := make([]string, len(s.keys))
		for i, p := range s.keys {
			parts[i] = keyPatternString(p)
		}
		c.BulkString(strings.Join(parts, " "))
	}
	c.BulkString("channels")
	if s.flags&selAllChannels != 0 {
		c.BulkString("&*")
	} else {
		parts := make([]string, len(s.channels))
		for i, ch := range s.channels {
			parts[i] = "&" + ch
		}
		c.BulkString(strings.Join(parts, " "))
	}
}
