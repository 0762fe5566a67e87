package main

import "syscall"

// childProcAttr returns the attributes for processes we start. Pdeathsig
// makes the kernel SIGKILL the child if this process dies without cleaning
// up (e.g. it is itself SIGKILLed), so servers and redis-benchmark never
// outlive the tool. ownGroup puts the child in its own process group so a
// terminal Ctrl-C reaches only us and we can stop servers in order.
//
// Linux sends Pdeathsig when the *thread* that forked the child exits, not
// the process. The Go runtime only retires an OS thread when a goroutine
// exits while locked to it (runtime.LockOSThread), which this tool never
// does, so in practice the signal fires exactly when the tool dies.
func childProcAttr(ownGroup bool) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: ownGroup, Pdeathsig: syscall.SIGKILL}
}
