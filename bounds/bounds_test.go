package bounds

import (
	"errors"
	"testing"
)

func TestCheckLiteral(t *testing.T) {
	p := Policy{Literal: 1 << 20}
	if err := p.CheckLiteral(1 << 20); err != nil {
		t.Errorf("at the limit: %v", err)
	}
	err := p.CheckLiteral(2_000_000_000)
	var e *ExceededError
	if !errors.Is(err, ErrExceeded) || !errors.As(err, &e) || e.Announced != 2_000_000_000 || e.What != "literal" {
		t.Errorf("2 GB literal: %v", err)
	}
	if err := (Policy{}).CheckLiteral(Default.Literal + 1); err == nil {
		t.Error("zero policy takes no default")
	}
}
