package engine

import "github.com/mailcheck/mailcheck/conformance/verdict"

// The result model lives in the leaf package conformance/verdict, so that
// what reads reports does not import the runner; these names keep the
// engine's callers (the suites) compiling.
type (
	Level      = verdict.Level
	Status     = verdict.Status
	Result     = verdict.Result
	WaiverNote = verdict.WaiverNote
	Direction  = verdict.Direction
	Line       = verdict.Line
)

// Requirement levels (verdict.Must, …).
const (
	Must   = verdict.Must
	Should = verdict.Should
	May    = verdict.May
)

// Verdicts (verdict.Pass, …).
const (
	Pass   = verdict.Pass
	Fail   = verdict.Fail
	Warn   = verdict.Warn
	Skip   = verdict.Skip
	Error  = verdict.Error
	Waived = verdict.Waived
)

// Directions of transcript lines (verdict.DirClient, …).
const (
	DirClient = verdict.DirClient
	DirServer = verdict.DirServer
	DirNote   = verdict.DirNote
)

// CatalogueEntry describes the check without its Run.
func (c *Check) CatalogueEntry() verdict.CatalogueEntry {
	return verdict.CatalogueEntry{ID: c.ID, Title: c.Title, Protocol: c.Protocol, Spec: c.Spec, Level: c.Level}
}
