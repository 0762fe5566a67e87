package resp

// scriptingCommands declares EVAL, EVALSHA, their read-only forms and
// SCRIPT (script.go). Flags are Redis 7.0.15's: scripts may run on a stale
// replica, are not shown by MONITOR, and declare their keys through
// numkeys (movablekeys, none mandatory).
func scriptingCommands() []*Command {
	const evalFlags = NoScript | SkipMonitor | MayReplicate | NoMandatoryKeys | Stale
	const evalRoFlags = Readonly | NoScript | SkipMonitor | NoMandatoryKeys | Stale
	return []*Command{
		{Name: "eval", Arity: -3, Flags: evalFlags, ACL: CatScripting, GetKeys: numkeysKeys(2), Run: evalCommand},
		{Name: "evalsha", Arity: -3, Flags: evalFlags, ACL: CatScripting, GetKeys: numkeysKeys(2), Run: evalShaCommand},
		{Name: "eval_ro", Arity: -3, Flags: evalRoFlags, ACL: CatScripting, GetKeys: numkeysKeys(2), Run: evalRoCommand},
		{Name: "evalsha_ro", Arity: -3, Flags: evalRoFlags, ACL: CatScripting, GetKeys: numkeysKeys(2), Run: evalShaRoCommand},
		{Name: "script", Arity: -2, Sub: []*Command{
			{Name: "help", Arity: 2, Flags: Loading | Stale, ACL: CatScripting, Run: scriptHelpCommand},
			{Name: "load", Arity: 3, Flags: NoScript | Stale | MayReplicate, ACL: CatScripting, Run: scriptLoadCommand},
			{Name: "exists", Arity: -3, Flags: NoScript, ACL: CatScripting, Run: scriptExistsCommand},
			{Name: "flush", Arity: -2, Flags: NoScript | MayReplicate, ACL: CatScripting, Run: scriptFlushCommand},
			{Name: "kill", Arity: 2, Flags: NoScript | AllowBusy, ACL: CatScripting, Run: scriptKillCommand},
			{Name: "debug", Arity: 3, Flags: NoScript, ACL: CatScripting, Run: scriptDebugCommand},
		}},
	}
}
