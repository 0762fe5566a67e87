package resp

import (
	"net"
	"strings"
	"time"
)

// Protected mode (Redis 7.0's clientAcceptHandler): while protected-mode is
// yes and the default user has no password, a connection from anywhere
// but the loopback interface gets the DENIED error below and is closed,
// counted in rejected_connections (and, as Redis creates the client before
// refusing it, in total_connections_received). Since 7.0 bind plays no
// part: binding 0.0.0.0 does not turn protection off.
//
// Redis's own default is yes, and so is Celerity's. (The official Docker
// image compiles Redis with no, so that "docker run -p" works without a
// password; a container that relies on that needs protected-mode no or a
// password.)

const errProtectedMode = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n"

// protectedModeDenies reports whether a connection from addr must be
// refused, counting it as Redis does. Called with the engine lock.
func (s *Server) protectedModeDenies(addr string) bool {
	if !s.cfg.ProtectedMode || s.acl.def.flags&userNoPass == 0 || IsLocalAddr(addr) {
		return false
	}
	s.stats.connections++
	s.stats.rejectedConns++
	return true
}

// refuseProtected sends the DENIED error and closes the connection.
func refuseProtected(nc net.Conn) {
	nc.SetWriteDeadline(time.Now().Add(time.Second))
	nc.Write([]byte(errProtectedMode))
	nc.Close()
}

// IsLocalAddr is Redis's connIsLocal for a "host:port" peer address: the
// host is written 127.x.y.z or ::1.
func IsLocalAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	return strings.HasPrefix(host, "127.") || host == "::1"
}
