// Package importrules holds no code: its test enforces the direction of
// the module's imports (ARCHITECTURE.md), so that they stay one way.
//
//   - reports renders the result models only: it imports no reference
//     server, no suite, no engine runner and no load generator.
//   - agent and load talk to servers on their own: they import nothing
//     under conformance/.
//   - the result models (conformance/verdict, load/summary) and target
//     are leaves: no server, no suite, no runner, no generator.
//   - load/progress shows a run of the generator and imports nothing else
//     of the module's sides.
//   - nothing under reference/ imports a client-side package (agent,
//     load, conformance, reports).
//
// The test asks `go list -json -deps` for the module's import graph (no
// dependency beyond the go command); it skips where the go command is not
// on PATH, except under CI=true, where it fails.
package importrules
