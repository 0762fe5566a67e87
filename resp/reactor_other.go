//go:build !linux

package resp

// Celerity's connection reactors use epoll. This declaration makes a build
// on another system fail with a readable message instead of a list of
// missing syscalls.
var _ = celerityNeedsLinuxEpollReactor
