package resp

func listCommands() []*Command { return nil }
