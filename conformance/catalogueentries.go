package conformance

import "github.com/mailcheck/mailcheck/conformance/verdict"

// CatalogueEntries describes every check of every suite (Catalogue): its
// ID, level, RFC section and title, as `mailcheck conform --list` prints
// them.
func CatalogueEntries() []verdict.CatalogueEntry {
	var entries []verdict.CatalogueEntry
	for _, c := range Catalogue() {
		entries = append(entries, c.CatalogueEntry())
	}
	return entries
}
