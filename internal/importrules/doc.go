// Package importrules holds no code: its test enforces the direction of
// the module's imports (ARCHITECTURE.md), so that they stay one way.
//
//   - reports renders the result models only: it imports no reference
//     server, no suite, no engine runner and no load generator.
//   - agent and load talk to servers on their own: they import nothing
//     under conformance/.
//   - the result models (conformance/verdict, load/summary) and target
//     are leaves: no server, no suite, no runner, no generator.
//   - smtp/smtpclient, the one SMTP client core, imports nothing under
//     conformance/, agent/, load/ or reference/; reference/ imports no
//     client-side package (conformance, agent, load, reports).
//   - no Go file outside smtp/smtpclient writes EHLO or LHLO as a
//     command, but the server and the suite checks whose subject is EHLO
//     (ehlo_test.go lists them).
//   - load/progress shows a run of the generator and imports nothing else
//     of the module's sides.
//
// The test asks `go list -json -deps` for the module's import graph (no
// dependency beyond the go command); it skips where the go command is not
// on PATH, except under CI=true, where it fails.
package importrules
