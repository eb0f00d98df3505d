package load

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"

	"github.com/mailcheck/mailcheck/target"
)

// TestProbe: a listening target passes; one where nothing listens fails
// at once, naming the target.
func TestProbe(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	tgt, _ := target.ParseTarget("smtp://"+addr, "")
	if err := Probe(context.Background(), Options{Target: tgt}); err != nil {
		t.Errorf("a listening target: %v", err)
	}
	l.Close()
	if err := Probe(context.Background(), Options{Target: tgt}); err == nil || !strings.Contains(err.Error(), "cannot connect to smtp://"+addr) {
		t.Errorf("nothing listening: %v", err)
	}
}

// TestRunHdrLogHeading: the log of a segment names its target and segment.
func TestRunHdrLogHeading(t *testing.T) {
	var b bytes.Buffer
	tgt, _ := target.ParseTarget("smtp://mx.test:25", "")
	l := NewRunHdrLog(&b, Options{Target: tgt, Segment: 2, Segments: 4})
	if err := l.Close(&Result{}); err != nil {
		t.Fatal(err)
	}
	if want := "#mailcheck load smtp://mx.test:25 segment 2/4 (" + Tool + ")"; !strings.Contains(b.String(), want) {
		t.Errorf("log %q lacks %q", b.String(), want)
	}
}
