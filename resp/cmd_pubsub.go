package resp

// Pub/sub commands, declared as Redis 7.0.15 declares them. The mechanics
// (who listens to what, delivery, output limits) are in pubsub.go.

func pubsubCommands() []*Command {
	const sub = Pubsub | NoScript | Loading | Stale
	// The shard commands declare their channels as keys (not_key key
	// specs) so a cluster can route them; there is no cluster here, the
	// positions only show in COMMAND.
	return []*Command{
		{Name: "subscribe", Arity: -2, Flags: sub, Run: subscribeCommand},
		{Name: "unsubscribe", Arity: -1, Flags: sub, Run: unsubscribeCommand},
		{Name: "psubscribe", Arity: -2, Flags: sub, Run: psubscribeCommand},
		{Name: "punsubscribe", Arity: -1, Flags: sub, Run: punsubscribeCommand},
		{Name: "ssubscribe", Arity: -2, Flags: sub, Keys: KeyPos{1, -1, 1}, Run: ssubscribeCommand},
		{Name: "sunsubscribe", Arity: -1, Flags: sub, Keys: KeyPos{1, -1, 1}, Run: sunsubscribeCommand},
		{Name: "publish", Arity: 3, Flags: Pubsub | Loading | Stale | Fast | MayReplicate, Run: publishCommand},
		{Name: "spublish", Arity: 3, Flags: Pubsub | Loading | Stale | Fast | MayReplicate, Keys: KeyPos{1, 1, 1}, Run: spublishCommand},
		{Name: "pubsub", Arity: -2, ACL: CatSlow, Sub: []*Command{
			{Name: "channels", Arity: -2, Flags: Pubsub | Loading | Stale, Run: pubsubChannelsCommand},
			{Name: "numsub", Arity: -2, Flags: Pubsub | Loading | Stale, Run: pubsubNumsubCommand},
			{Name: "numpat", Arity: 2, Flags: Pubsub | Loading | Stale, Run: pubsubNumpatCommand},
			{Name: "shardchannels", Arity: -2, Flags: Pubsub | Loading | Stale, Run: pubsubShardchannelsCommand},
			{Name: "shardnumsub", Arity: -2, Flags: Pubsub | Loading | Stale, Run: pubsubShardnumsubCommand},
			{Name: "help", Arity: 2, Flags: Loading | Stale, Run: pubsubHelpCommand},
		}},
	}
}

func subscribeCommand(c *Client) {
	// Redis refuses SUBSCRIBE to clients that must get exactly one reply
	// per command (scripts, module calls), except inside MULTI/EXEC,
	// which it keeps allowing for backward compatibility. Scripts cannot
	// reach this (noscript), so nothing is refused here.
	names := c.argv[1:]
	c.growReplies(names)
	for _, name := range names {
		c.subscribeChannel(name, plainChannels, len(names))
		c.pubsubConfirm("subscribe", name, c.subscriptionCount())
	}
	c.flags |= flagPubsub
}

func unsubscribeCommand(c *Client) {
	c.unsubscribeChannels(c.argv[1:], plainChannels, true)
	c.updatePubsubFlag()
}

func psubscribeCommand(c *Client) {
	names := c.argv[1:]
	c.growReplies(names)
	for _, name := range names {
		c.subscribePattern(name)
		c.pubsubConfirm("psubscribe", name, c.subscriptionCount())
	}
	c.flags |= flagPubsub
}

func punsubscribeCommand(c *Client) {
	c.unsubscribePatterns(c.argv[1:], true)
	c.updatePubsubFlag()
}

func ssubscribeCommand(c *Client) {
	// Unlike SUBSCRIBE, SSUBSCRIBE has no MULTI exception in Redis 7.0:
	// inside EXEC (where the client must get one reply per command) it
	// is refused.
	if c.flags&flagInExec != 0 {
		c.Error("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client")
		return
	}
	names := c.argv[1:]
	c.growReplies(names)
	for _, name := range names {
		c.subscribeChannel(name, shardChannels, len(names))
		c.pubsubConfirm("ssubscribe", name, c.shardSubscriptionCount())
	}
	c.flags |= flagPubsub
}

func sunsubscribeCommand(c *Client) {
	c.unsubscribeChannels(c.argv[1:], shardChannels, true)
	c.updatePubsubFlag()
}

func publishCommand(c *Client) {
	c.Int(c.srv.publish(c.argv[1], c.argv[2]))
}

func spublishCommand(c *Client) {
	c.Int(c.srv.spublish(c.argv[1], c.argv[2]))
}

// channelsReply lists the channels of m matching the optional pattern in
// argv[2], in map order (Redis answers in its dict's order).
func (c *Client) channelsReply(m map[string][]*Client) {
	if len(c.argv) > 3 {
		c.Error(errSubcommandSyntax(c.argv))
		return
	}
	var pat []byte
	if len(c.argv) == 3 {
		pat = c.argv[2]
	}
	d := c.DeferLen()
	n := 0
	for name := range m {
		if pat == nil || globMatch(pat, []byte(name), false) {
			c.BulkString(name)
			n++
		}
	}
	c.SetArrayLen(d, n)
}

// numsubReply answers channel/count pairs, as a flat array in both
// protocols (Redis 7.0 does not use a map here).
func (c *Client) numsubReply(m map[string][]*Client) {
	names := c.argv[2:]
	c.Array(2 * len(names))
	for _, name := range names {
		c.Bulk(name)
		c.Int(int64(len(m[string(name)])))
	}
}

func pubsubChannelsCommand(c *Client) { c.channelsReply(c.srv.pubsub.channels) }

func pubsubNumsubCommand(c *Client) { c.numsubReply(c.srv.pubsub.channels) }

// pubsubNumpatCommand counts distinct patterns, not subscriptions.
func pubsubNumpatCommand(c *Client) { c.Int(int64(len(c.srv.pubsub.patterns))) }

func pubsubShardchannelsCommand(c *Client) { c.channelsReply(c.srv.pubsub.shard) }

func pubsubShardnumsubCommand(c *Client) { c.numsubReply(c.srv.pubsub.shard) }

func pubsubHelpCommand(c *Client) {
	c.replyHelp([]string{
		"CHANNELS [<pattern>]",
		"    Return the currently active channels matching a <pattern> (default: '*').",
		"NUMPAT",
		"    Return number of subscriptions to patterns.",
		"NUMSUB [<channel> ...]",
		"    Return the number of subscribers for the specified channels, excluding",
		"    pattern subscriptions(default: no channels).",
		"SHARDCHANNELS [<pattern>]",
		"    Return the currently active shard level channels matching a <pattern> (default: '*').",
		"SHARDNUMSUB [<shardchannel> ...]",
		"    Return the number of subscribers for the specified shard level channel(s)",
	})
}
