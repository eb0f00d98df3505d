//go:build linux

package reports

import (
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHTMLInBrowser opens a report in headless Chromium, as a person
// would, and checks that the page rendered: not blank, the three charts
// drawn (their lines' colours are painted), the verdict badges shown, and
// nothing on the console, although the page holds transcripts full of
// <script> (they are text). The screenshots are kept as test artefacts
// ($MAILCHECK_ARTIFACT_DIR): one wide, one as narrow as a phone.
func TestHTMLInBrowser(t *testing.T) {
	findChromium(t)
	page := writeHTML(t, []Run{
		{Label: "conformance.json", Conformance: readConformance(t, "conformance.json")},
		{Label: "hostile", Conformance: hostileReport()},
		{Label: "load.json", Load: readLoad(t, "load.json")},
	}, HTMLOptions{Tool: "mailcheck test", Baselines: []Run{{Label: "load-baseline.json", Load: readLoad(t, "load-baseline.json")}}})
	path := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(path, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	hex := func(s string) color.RGBA {
		var c color.RGBA
		c.A = 255
		for i, p := range []*uint8{&c.R, &c.G, &c.B} {
			v := strings.ToLower(s[1+2*i : 3+2*i])
			for _, d := range v {
				*p = *p*16 + uint8(strings.IndexRune("0123456789abcdef", d))
			}
		}
		return c
	}
	// Narrow, the charts scale to half size: their lines are a pixel wide
	// and anti-aliased, so fewer pixels are near their colour.
	for _, size := range []struct {
		name                      string
		width, height             int
		minPixels, colorTolerance int
	}{{"wide", 1200, 9000, 50, 6}, {"narrow", 380, 16000, 5, 40}} {
		t.Run(size.name, func(t *testing.T) {
			r := renderInChromium(t, path, size.width, size.height)
			if err := notBlank(r.Screenshot); err != nil {
				t.Errorf("the page looks blank: %v (screenshot %s)", err, r.PNGPath)
			}
			if errs := consoleErrors(r); len(errs) > 0 {
				t.Errorf("the page wrote to the console: %q", errs)
			}
			if n := strings.Count(r.DOM, `<svg class="chart`); n < 4 {
				t.Errorf("%d charts in the rendered DOM, want 4 (throughput, transaction, phases, for the run and its baseline)", n)
			}
			if strings.Contains(strings.ToLower(r.DOM), "<script") {
				t.Error("a <script> element in the rendered DOM")
			}
			// Painted: each chart's line colour, and the fail badge.
			for _, c := range []struct{ what, colour string }{
				{"the transaction latency line", colorCorrected},
				{"the uncorrected latency line", colorUncorrected},
				{"the end-of-data phase line", phaseColors["end_of_data"]},
				{"the connect phase line", phaseColors["connect"]},
				{"the fail badge's background", "#ffebe9"},
				{"the pass badge's background", "#dafbe1"},
			} {
				if n := countPixels(r.Screenshot, hex(c.colour), size.colorTolerance); n < size.minPixels {
					t.Errorf("%s (%s) is not painted: %d pixels (screenshot %s)", c.what, c.colour, n, r.PNGPath)
				}
			}
		})
	}
}
