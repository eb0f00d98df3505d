package engine

import "github.com/mailcheck/mailcheck/target"

// Target is a server to check. It lives in package target, which the load
// generator and the agent commands share without importing the engine;
// these names keep the engine's callers compiling.
type Target = target.Target

// ErrBadTarget is wrapped by ParseTarget's errors.
var ErrBadTarget = target.ErrBadTarget

// ParseTarget is target.ParseTarget.
func ParseTarget(raw, protocol string) (Target, error) { return target.ParseTarget(raw, protocol) }

// RedactURL is target.RedactURL.
func RedactURL(raw string) string { return target.RedactURL(raw) }

// ProtocolOfGreeting is target.ProtocolOfGreeting.
func ProtocolOfGreeting(line string) string { return target.ProtocolOfGreeting(line) }
