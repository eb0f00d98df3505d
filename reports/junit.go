package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/mailcheck/mailcheck/conformance/verdict"
	"github.com/mailcheck/mailcheck/load/summary"
)

// JUnit XML as GitLab, Jenkins and GitHub test reporters read it: one
// testsuite per protocol, one testcase per check; fail and error verdicts
// are failures carrying the RFC reference, message and transcript; warn
// passes with the finding in system-out; skip is skipped, and so is
// waived, with the waiver's reason and the verdict it replaced. The
// waivers of the run make a testsuite of their own: a stale waiver is
// skipped, or a failure under --strict-waivers.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     float64      `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     float64     `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      float64       `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitProblem `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Body    string `xml:",chardata"`
}

// WriteJUnit writes the report as JUnit XML.
func WriteJUnit(w io.Writer, r *verdict.Report) error {
	return WriteCombinedJUnit(w, r, nil)
}

// LoadJudgement is a load run judged by thresholds, for JUnit.
type LoadJudgement struct {
	// Name names the run (its file, or its target).
	Name     string
	Result   *summary.Result
	Outcomes []summary.Outcome
}

// WriteCombinedJUnit writes JUnit XML for a conformance report (nil for
// none; one testsuite per protocol and target) and load runs (one
// testsuite each, one testcase per threshold: a breached threshold is a
// failure).
func WriteCombinedJUnit(w io.Writer, r *verdict.Report, loads []LoadJudgement) error {
	root := junitSuites{Name: "mailcheck"}
	if r != nil {
		root.Name = "mailcheck conform"
		addConformanceSuites(&root, r)
	}
	for _, l := range loads {
		s := junitSuite{Name: "load " + l.Name, Time: l.Result.Elapsed}
		for _, o := range l.Outcomes {
			tc := junitCase{Name: "threshold " + o.Threshold.Expr, ClassName: "mailcheck.load", Time: 0}
			if o.Met {
				tc.SystemOut = o.Message
			} else {
				tc.Failure = &junitProblem{Message: o.Message, Type: "threshold breached",
					Body: fmt.Sprintf("%s\n\n%d accepted, %d failed, %.1f msgs/s", o.Message, l.Result.Accepted, l.Result.Failed, l.Result.MsgsPS)}
				s.Failures++
			}
			s.Tests++
			s.Cases = append(s.Cases, tc)
		}
		root.Time += l.Result.Elapsed
		root.Suites = append(root.Suites, s)
	}
	for _, s := range root.Suites {
		root.Tests += s.Tests
		root.Failures += s.Failures
		root.Errors += s.Errors
		root.Skipped += s.Skipped
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(root); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func addConformanceSuites(root *junitSuites, r *verdict.Report) {
	root.Time += r.DurationMS / 1000
	index := map[string]int{}
	for _, c := range r.Checks {
		name := c.Protocol + " " + c.Target
		i, ok := index[name]
		if !ok {
			i = len(root.Suites)
			index[name] = i
			root.Suites = append(root.Suites, junitSuite{Name: name})
		}
		s := &root.Suites[i]
		tc := junitCase{Name: c.ID + ": " + c.Title, ClassName: "mailcheck." + c.Protocol, Time: c.DurationMS / 1000}
		detail := fmt.Sprintf("%s %s (%s)\n%s\n\n%s", c.Level, c.Spec, c.ID, c.Message, transcriptText(c))
		switch c.Status {
		case verdict.Fail:
			tc.Failure = &junitProblem{Message: c.Spec + ": " + c.Message, Type: string(c.Level), Body: detail}
			s.Failures++
		case verdict.Error:
			tc.Error = &junitProblem{Message: c.Message, Type: "could not decide", Body: detail}
			s.Errors++
		case verdict.Skip:
			tc.Skipped = &junitProblem{Message: c.Message}
			s.Skipped++
		case verdict.Warn:
			tc.SystemOut = "WARN (" + string(c.Level) + " not met): " + detail
		case verdict.Waived:
			tc.Skipped = &junitProblem{Message: waiverLine(c), Body: detail}
			s.Skipped++
		}
		if c.Waiver != nil && c.Waiver.Expired {
			tc.SystemOut = waiverLine(c) + "\n" + tc.SystemOut
		}
		s.Tests++
		s.Time += c.DurationMS / 1000
		s.Cases = append(s.Cases, tc)
	}
	addWaiverSuite(root, r)
}

// addWaiverSuite adds a testcase per waiver: applied ones pass, stale
// ones are skipped (failures under StrictWaivers), expired ones say so.
func addWaiverSuite(root *junitSuites, r *verdict.Report) {
	if len(r.Waivers) == 0 {
		return
	}
	s := junitSuite{Name: "waivers"}
	for _, w := range r.Waivers {
		tc := junitCase{Name: "waiver " + w.Source + ": " + w.Check, ClassName: "mailcheck.waiver"}
		if w.Target != "" {
			tc.Name += " target=" + w.Target
		}
		text := fmt.Sprintf("%s (%s)", w.Reason, waiverState(w))
		if w.Expires != "" {
			text += ", expires " + w.Expires
		}
		switch {
		case w.Stale && r.StrictWaivers:
			tc.Failure = &junitProblem{Message: "stale waiver: matches no fail, warn or error of this run: " + text, Type: "stale waiver"}
			s.Failures++
		case w.Stale:
			tc.Skipped = &junitProblem{Message: "stale waiver: matches no fail, warn or error of this run: " + text}
			s.Skipped++
		default:
			tc.SystemOut = text
		}
		s.Tests++
		s.Cases = append(s.Cases, tc)
	}
	root.Suites = append(root.Suites, s)
}

func transcriptText(c verdict.Result) string {
	var b strings.Builder
	for _, l := range c.Transcript {
		fmt.Fprintf(&b, "%8.1fms %s: %s\n", l.AtMS, l.Dir, l.Text)
	}
	return b.String()
}
