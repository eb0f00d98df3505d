package target

import (
	"fmt"
	"strings"
)

// ParseFor parses raw (ParseTarget, no default protocol) and refuses a
// target of a protocol not among protocols.
func ParseFor(raw string, protocols ...string) (Target, error) {
	t, err := ParseTarget(raw, "")
	if err != nil {
		return t, err
	}
	for _, p := range protocols {
		if t.Protocol == p {
			return t, nil
		}
	}
	return t, fmt.Errorf("%s is a %s target; want %s", t.Redacted(), t.Protocol, strings.Join(protocols, " or "))
}
