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

func TestMeter(t *testing.T) {
	m := NewMeter(Policy{Line: 10, Total: 25})
	if err := m.Line([]byte("0123456789")); err != nil {
		t.Errorf("a line at the limit: %v", err)
	}
	if err := m.Line([]byte("0123456789a")); !errors.Is(err, ErrExceeded) {
		t.Errorf("a line over the limit: %v", err)
	}
	if err := m.Count(5); !errors.Is(err, ErrExceeded) {
		t.Errorf("26 octets over a total of 25: %v", err)
	}
}
