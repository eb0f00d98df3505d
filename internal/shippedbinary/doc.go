// Package shippedbinary holds tests about what the built mailcheck binary
// contains: the reference server it embeds is only the correct one, so no
// fault-injection code (that lives in test-only packages) may be linked.
package shippedbinary
