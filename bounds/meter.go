package bounds

// Meter counts what one connection has read against a policy: every
// octet against Total, a line against Line. A client's line reader feeds
// it each line (or chunk) it reads.
type Meter struct {
	policy Policy
	read   int64
}

// NewMeter meters a connection with p (zero fields from Default).
func NewMeter(p Policy) *Meter { return &Meter{policy: p.WithDefaults()} }

// Policy is the meter's policy, defaults filled in.
func (m *Meter) Policy() Policy { return m.policy }

// Count adds n octets read: an *ExceededError once the connection has
// read more than Total.
func (m *Meter) Count(n int) error {
	m.read += int64(n)
	if m.read > m.policy.Total {
		return &ExceededError{What: "connection's data", Limit: m.policy.Total}
	}
	return nil
}

// Line counts a line read and refuses one longer than Line.
func (m *Meter) Line(l []byte) error {
	if err := m.Count(len(l)); err != nil {
		return err
	}
	if len(l) > m.policy.Line {
		return &ExceededError{What: "line", Limit: int64(m.policy.Line)}
	}
	return nil
}
