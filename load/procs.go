package load

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// GeneratorProcs decides how many CPUs (GOMAXPROCS) the generator runs on.
// spec is a number, or "auto". Under auto, a generator loading a server
// on this machine (a loopback target, addr) takes half the CPUs: the
// server needs the rest, and a Go scheduler spinning on every CPU waiting
// for replies takes cycles from the server it measures, which lowered the
// msgs/s of both (see compare.sh: 10 sessions against smtp-sink on 2 CPUs,
// 1 KiB, no pipelining: about 31,000 msgs/s on 2 procs, 39,000 on 1).
// Against a remote server, or an embedded one (it runs in this process,
// on the same Go scheduler), auto keeps them all. cpus is the runtime's
// own GOMAXPROCS, which follows a container's CPU limit, not the host's
// CPU count. envSet reports that $GOMAXPROCS is set: auto then leaves it
// alone.
// It returns 0 for "leave GOMAXPROCS as it is".
func GeneratorProcs(spec, addr string, embedded, envSet bool, cpus int) (int, error) {
	if spec != "auto" {
		n, err := strconv.Atoi(spec)
		if err != nil || n < 1 {
			return 0, fmt.Errorf("%q: want auto or a number of CPUs (1 or more)", spec)
		}
		return n, nil
	}
	if embedded || envSet || !loopbackAddr(addr) {
		return 0, nil
	}
	return max(1, cpus/2), nil
}

// loopbackAddr reports whether host:port names this machine without a DNS
// lookup: localhost or a loopback address.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// SetGeneratorProcs sets GOMAXPROCS as GeneratorProcs decides for spec and
// a target at addr (embedded: a server in this process), given this
// process's $GOMAXPROCS and CPUs, and returns what restores it.
func SetGeneratorProcs(spec, addr string, embedded bool) (restore func(), err error) {
	_, envSet := os.LookupEnv("GOMAXPROCS")
	procs, err := GeneratorProcs(spec, addr, embedded, envSet, runtime.GOMAXPROCS(0))
	if err != nil {
		return nil, err
	}
	if procs == 0 {
		return func() {}, nil
	}
	old := runtime.GOMAXPROCS(procs)
	return func() { runtime.GOMAXPROCS(old) }, nil
}
