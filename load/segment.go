package load

import (
	"fmt"
	"strconv"
	"strings"
)

// SegmentIndexEnv is the variable ParseSegment's "k8s/n" takes the index
// from: a Kubernetes Indexed Job sets it (0-based) in each pod.
const SegmentIndexEnv = "JOB_COMPLETION_INDEX"

// ParseSegment reads this generator's share of a distributed run as
// `mailcheck load --segment` takes it, "i/n" (segment i of n, 1 ≤ i ≤ n),
// or "k8s/n", where i is one more than $JOB_COMPLETION_INDEX as getenv
// returns it. It returns Options.Segment and Options.Segments.
func ParseSegment(s string, getenv func(string) string) (segment, segments int, err error) {
	is, ns, ok := strings.Cut(s, "/")
	n, err := strconv.Atoi(ns)
	if !ok || err != nil || n < 1 {
		return 0, 0, fmt.Errorf("%q: want i/n (segment i of n, from 1) or k8s/n", s)
	}
	if is == "k8s" {
		return indexedJobSegment(s, n, getenv(SegmentIndexEnv))
	}
	i, err := strconv.Atoi(is)
	switch {
	case err != nil:
		return 0, 0, fmt.Errorf("%q: want i/n (segment i of n, from 1) or k8s/n", s)
	case i == 0:
		return 0, 0, fmt.Errorf("%q: segments count from 1 (k8s/%d takes a 0-based index from $%s)", s, n, SegmentIndexEnv)
	case i < 0 || i > n:
		return 0, 0, fmt.Errorf("%q: segment %d of %d does not exist", s, i, n)
	}
	return i, n, nil
}

// indexedJobSegment is the segment of "k8s/n" (s) for the 0-based index
// v a Kubernetes Indexed Job gave the pod.
func indexedJobSegment(s string, n int, v string) (int, int, error) {
	idx, err := strconv.Atoi(v)
	if v == "" || err != nil {
		return 0, 0, fmt.Errorf("%q takes the index from $%s, which is %q", s, SegmentIndexEnv, v)
	}
	if idx < 0 || idx >= n {
		return 0, 0, fmt.Errorf("$%s=%d is not an index of %d segments (0 to %d)", SegmentIndexEnv, idx, n, n-1)
	}
	return idx + 1, n, nil
}

// SegmentShare is the number of messages this generator sends of
// Messages (0: unbounded): the messages split evenly among the segments,
// the first segments taking one more each until the remainder is gone.
func (o Options) SegmentShare() int64 {
	if o.Messages <= 0 || o.Segments <= 1 {
		return max(o.Messages, 0)
	}
	share := o.Messages / int64(o.Segments)
	if int64(o.Segment) <= o.Messages%int64(o.Segments) {
		share++
	}
	return share
}
