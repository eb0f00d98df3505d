package imapwire

import (
	"errors"
	"strings"
	"testing"

	"github.com/mailcheck/mailcheck/bounds"
)

func TestCollect(t *testing.T) {
	var seen int
	c, err := reader("* 2 EXISTS\r\n* 1 FETCH (BODY[] {3}\r\nabc)\r\nb1 OK done\r\n", bounds.Policy{}).
		Collect("b1", false, func(*Response) { seen++ })
	if err != nil || len(c.Untagged) != 2 || c.Done == nil || c.Done.Kind() != "OK" || c.Continuation || seen != 3 {
		t.Fatalf("Collect = %+v, %v (seen %d)", c, err, seen)
	}
	if lit, ok := c.Untagged[1].LiteralOf("BODY[]"); !ok || string(lit) != "abc" {
		t.Errorf("literal %q %v", lit, ok)
	}

	c, err = reader("+ go ahead\r\n", bounds.Policy{}).Collect("b2", true, nil)
	if err != nil || !c.Continuation || c.Done != nil {
		t.Errorf("continuation asked for: %+v, %v", c, err)
	}
	_, err = reader("+ go ahead\r\n", bounds.Policy{}).Collect("b2", false, nil)
	if !errors.Is(err, ErrUnexpectedContinuation) {
		t.Errorf("continuation not asked for: %v", err)
	}

	flood := strings.Repeat("* OK flood\r\n", MaxUntagged+1) + "b3 OK\r\n"
	c, err = reader(flood, bounds.Policy{}).Collect("b3", false, nil)
	if err == nil || len(c.Untagged) != MaxUntagged {
		t.Errorf("a flood: %d collected, %v", len(c.Untagged), err)
	}
}
