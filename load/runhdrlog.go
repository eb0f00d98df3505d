package load

import (
	"fmt"
	"io"
)

// NewRunHdrLog returns the HdrHistogram interval log of a run of o
// (NewHdrLog), headed by what the run is: its target, its segment of a
// distributed run, and the Tool that ran it.
func NewRunHdrLog(w io.Writer, o Options) *HdrLog {
	seg := ""
	if o.Segments > 1 {
		seg = fmt.Sprintf(" segment %d/%d", o.Segment, o.Segments)
	}
	return NewHdrLog(w, fmt.Sprintf("mailcheck load %s%s (%s)", o.Target, seg, Tool))
}
