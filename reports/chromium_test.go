//go:build linux

package reports

// A headless-Chromium harness for tests of the HTML report: render a page
// to a PNG, its DOM after scripts ran and the messages it wrote to the
// console, then check the picture is not blank, that a chart line in a
// known colour was painted and that the page logged nothing.
//
// One chromium run gives all three: --screenshot and --dump-dom combine,
// and --enable-logging=stderr puts the page's console on stderr.
// Chromium 156 (Debian) writes every console message, whatever its level,
// and every uncaught exception as one INFO record:
//
//	[pid:tid:MMDD/HHMMSS.micros:INFO:CONSOLE:5] "boom", source: file:///tmp/p.html (5)
//	[pid:tid:MMDD/HHMMSS.micros:INFO:CONSOLE:13] "Uncaught Error: x", source: file:///tmp/p.html (13)
//	[pid:tid:MMDD/HHMMSS.micros:INFO:CONSOLE:15] "Uncaught (in promise) Error: rej", source: file:///tmp/p.html (15)
//
// (the number is the line in the source; a message with a newline goes on
// over the following stderr lines). console.log, console.warn and
// console.error are INFO alike, so the harness cannot tell them apart and
// counts any console output as an error: a report page is silent.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// chromiumTimeout bounds one chromium run, start to exit.
const chromiumTimeout = 60 * time.Second

// chromiumNames are the commands findChromium looks for on PATH, in order.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome"}

// findChromium returns the chromium to run: $MAILCHECK_CHROMIUM if set (a
// command name or a path), else the first of chromiumNames on PATH. Without
// one the test is skipped, except under CI (CI=true), which must have it:
// .ci/run installs the Debian package chromium.
func findChromium(t *testing.T) string {
	t.Helper()
	if name := os.Getenv("MAILCHECK_CHROMIUM"); name != "" {
		path, err := exec.LookPath(name)
		if err != nil {
			t.Fatalf("MAILCHECK_CHROMIUM=%q: %v", name, err)
		}
		return path
	}
	for _, name := range chromiumNames {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	msg := fmt.Sprintf("no headless browser: none of %s on PATH (MAILCHECK_CHROMIUM names one)", strings.Join(chromiumNames, ", "))
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatal(msg + "; CI must have it (.ci/run installs the Debian package chromium)")
	}
	t.Skip(msg)
	return ""
}

// rendering is what chromium made of a page.
type rendering struct {
	Screenshot image.Image // the viewport, width×height pixels
	PNGPath    string      // the screenshot's copy kept as a test artefact
	DOM        string      // document.documentElement.outerHTML after load
	Console    []string    // console messages and uncaught exceptions, as chromium logs them
}

// renderInChromium loads the HTML file in headless chromium with a
// width×height window and returns the screenshot, the DOM and the console.
// The screenshot is kept (see chromiumArtifactDir) and its path logged.
// Any failure of the run is fatal to the test.
func renderInChromium(t *testing.T, htmlPath string, width, height int) rendering {
	t.Helper()
	bin := findChromium(t)
	abs, err := filepath.Abs(htmlPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(abs); err != nil {
		t.Fatal(err)
	}
	page := (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()

	dir := t.TempDir()
	shot := filepath.Join(dir, "screenshot.png")
	args := append(chromiumFlags(dir),
		"--screenshot="+shot,
		fmt.Sprintf("--window-size=%d,%d", width, height),
		"--dump-dom",
		page)

	ctx, cancel := context.WithTimeout(t.Context(), chromiumTimeout)
	defer cancel()
	start := time.Now()
	stdout, stderr, err := runChromium(ctx, bin, dir, args)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("chromium %s: %v\nstderr:\n%s", page, err, chromiumStderrTail(stderr))
	}

	data, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("chromium %s wrote no screenshot: %v\nstderr:\n%s", page, err, chromiumStderrTail(stderr))
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("chromium %s: screenshot: %v", page, err)
	}
	if b := img.Bounds(); b.Dx() != width || b.Dy() != height {
		t.Fatalf("chromium %s: screenshot is %dx%d, want %dx%d", page, b.Dx(), b.Dy(), width, height)
	}
	r := rendering{
		Screenshot: img,
		PNGPath:    keepChromiumArtifact(t, data),
		DOM:        string(stdout),
		Console:    parseChromiumConsole(stderr),
	}
	t.Logf("chromium rendered %s at %dx%d in %v (%d console messages); screenshot: %s",
		filepath.Base(abs), width, height, took.Round(time.Millisecond), len(r.Console), r.PNGPath)
	return r
}

// chromiumFlags are the flags of every run; dir is the run's own scratch
// directory (profile, HOME).
func chromiumFlags(dir string) []string {
	return []string{
		"--headless",
		"--no-sandbox",
		"--disable-gpu",
		"--disable-quic",
		"--no-first-run",
		"--disable-background-networking",
		"--disable-component-update",
		"--disable-sync",
		"--disable-extensions",
		"--hide-scrollbars",
		"--user-data-dir=" + filepath.Join(dir, "profile"),
		"--enable-logging=stderr",
		"--v=0",
		// Small /dev/shm (containers: 64 MB) crashes the browser; the
		// Debian launcher's own check for it can misfire.
		"--disable-dev-shm-usage",
		// Pixels as the page says: one CSS pixel per pixel, sRGB colours
		// unchanged, so countPixels can look for an exact colour.
		"--force-device-scale-factor=1",
		"--force-color-profile=srgb",
	}
}

// runChromium runs chromium in its own process group with HOME inside dir
// (so the crash handler's database, caches and config stay there too) and
// returns what it wrote to stdout and stderr. When it exits or ctx ends,
// the whole group is killed, then any process still running from dir (the
// crash handlers run in a session of their own), and runChromium waits
// until all are gone: a run leaves no process behind, or it fails.
func runChromium(ctx context.Context, bin, dir string, args []string) (stdout, stderr []byte, err error) {
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, nil, err
	}
	outPath, errPath := filepath.Join(dir, "stdout"), filepath.Join(dir, "stderr")
	// Files, not pipes: a helper that outlives the browser and holds the
	// pipe open cannot keep Wait waiting.
	outFile, err := os.Create(outPath)
	if err != nil {
		return nil, nil, err
	}
	defer outFile.Close()
	errFile, err := os.Create(errPath)
	if err != nil {
		return nil, nil, err
	}
	defer errFile.Close()

	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
		"XDG_DATA_HOME="+filepath.Join(home, ".local", "share"))
	cmd.Stdout, cmd.Stderr = outFile, errFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	runErr := cmd.Wait()
	// The browser is gone; its helpers share its process group.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	leftErr := killChromiumLeftovers(cmd.Process.Pid, dir)

	stdout, _ = os.ReadFile(outPath)
	stderr, _ = os.ReadFile(errPath)
	switch {
	case ctx.Err() != nil:
		err = fmt.Errorf("killed after %v: %w", time.Since(start).Round(time.Millisecond), ctx.Err())
	case runErr != nil:
		err = runErr
	}
	return stdout, stderr, errors.Join(err, leftErr)
}

// killChromiumLeftovers kills whatever still runs of a chromium run — the
// members of process group pgid and the processes whose command line
// names dir — and waits up to 10 s for them to go. /proc is Linux's; where
// there is none the process-group kill is all there is.
func killChromiumLeftovers(pgid int, dir string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := chromiumLeftovers(pgid, dir)
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("chromium processes still running after SIGKILL: %v", left)
		}
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		for _, pid := range left {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// chromiumLeftovers lists the live processes (zombies are dead: they only
// wait for their parent to collect them) in process group pgid or with dir
// on their command line.
func chromiumLeftovers(pgid int, dir string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	marker := []byte(dir + string(filepath.Separator))
	var left []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) < 3 || fields[0] == "Z" || fields[0] == "X" {
			continue
		}
		if g, _ := strconv.Atoi(fields[2]); g == pgid {
			left = append(left, pid)
			continue
		}
		if cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline")); err == nil && bytes.Contains(cmdline, marker) {
			left = append(left, pid)
		}
	}
	return left
}

// chromiumStderrTail is the end of chromium's stderr for a failure message.
func chromiumStderrTail(stderr []byte) string {
	const keep = 4000
	if len(stderr) > keep {
		return "…" + string(stderr[len(stderr)-keep:])
	}
	return string(stderr)
}

var (
	// chromiumLogStart is the prefix of a chromium log record:
	// [pid:tid:MMDD/HHMMSS.micros:LEVEL:file:line] — only that, so a
	// message's own line starting "[object Object]" is not one.
	chromiumLogStart = regexp.MustCompile(`^\[\d+:\d+:\d{4}/\d{6}\.\d+:[A-Z0-9_]+:[^\]]*\] `)
	// chromiumConsoleStart is a console record's prefix (CONSOLE:5 since
	// Chromium ~120, CONSOLE(5) before).
	chromiumConsoleStart = regexp.MustCompile(`^\[\d+:\d+:\d{4}/\d{6}\.\d+:[A-Z0-9_]+:CONSOLE(?::\d+|\(\d+\))\] `)
	// chromiumConsoleEnd ends a console record: `", source: URL (line)`.
	chromiumConsoleEnd = regexp.MustCompile(`", source: \S* \(\d+\)$`)
)

// parseChromiumConsole picks the console records out of chromium's
// stderr: each the text after the prefix, `"message", source: URL (line)`,
// a message over several lines joined with "\n".
func parseChromiumConsole(stderr []byte) []string {
	var msgs, cur []string
	open := false
	flush := func() {
		msgs = append(msgs, strings.Join(cur, "\n"))
		cur, open = nil, false
	}
	for _, line := range strings.Split(string(stderr), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if open && !chromiumLogStart.MatchString(line) {
			cur = append(cur, line)
			if chromiumConsoleEnd.MatchString(line) {
				flush()
			}
			continue
		}
		if open { // cut short by the next record
			flush()
		}
		if loc := chromiumConsoleStart.FindStringIndex(line); loc != nil {
			cur, open = []string{line[loc[1]:]}, true
			if chromiumConsoleEnd.MatchString(line) {
				flush()
			}
		}
	}
	if open {
		flush()
	}
	return msgs
}

// consoleErrors returns what the page wrote to the console and the
// exceptions it left uncaught. Chromium's stderr has no console level (a
// console.log is INFO like a console.error), so every message counts: a
// report page writes nothing there.
func consoleErrors(r rendering) []string {
	return slices.Clone(r.Console)
}

// Thresholds of notBlank: a page with content has antialiased edges (many
// colours) and covers more than a speck of the viewport.
const (
	blankMinColours = 3     // distinct colours
	blankMinInk     = 0.001 // fraction of pixels not of the background colour
)

// notBlank fails when the image is (almost) one colour: fewer than
// blankMinColours distinct colours, or less than blankMinInk of its pixels
// differ from the commonest colour (the background).
func notBlank(img image.Image) error {
	b := img.Bounds()
	total := b.Dx() * b.Dy()
	if total == 0 {
		return errors.New("empty image")
	}
	counts := map[color.NRGBA]int{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			counts[chromiumPixel(img, x, y)]++
		}
	}
	var bg color.NRGBA
	bgN := -1
	for c, n := range counts {
		if n > bgN || n == bgN && chromiumColourLess(c, bg) {
			bg, bgN = c, n
		}
	}
	ink := total - bgN
	if len(counts) < blankMinColours || float64(ink) < blankMinInk*float64(total) {
		return fmt.Errorf("image looks blank: %d distinct colours, %d of %d pixels (%.3f%%) differ from the background #%02x%02x%02x (want ≥ %d colours and ≥ %.1f%%)",
			len(counts), ink, total, 100*float64(ink)/float64(total), bg.R, bg.G, bg.B, blankMinColours, 100*blankMinInk)
	}
	return nil
}

// chromiumColourLess orders colours so that notBlank's background is the
// same colour on every run when two are equally common.
func chromiumColourLess(a, b color.NRGBA) bool {
	return uint32(a.R)<<24|uint32(a.G)<<16|uint32(a.B)<<8|uint32(a.A) < uint32(b.R)<<24|uint32(b.G)<<16|uint32(b.B)<<8|uint32(b.A)
}

// countPixels counts the pixels whose red, green and blue each differ from
// c's by at most tolerance (0–255; alpha is not compared: screenshots are
// opaque).
func countPixels(img image.Image, c color.RGBA, tolerance int) int {
	b := img.Bounds()
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			p := chromiumPixel(img, x, y)
			if chromiumNear(p.R, c.R, tolerance) && chromiumNear(p.G, c.G, tolerance) && chromiumNear(p.B, c.B, tolerance) {
				n++
			}
		}
	}
	return n
}

func chromiumNear(a, b uint8, tolerance int) bool {
	d := int(a) - int(b)
	return -tolerance <= d && d <= tolerance
}

// chromiumPixel is the non-premultiplied colour at (x, y), without the
// generic At's allocation for the two types png.Decode returns for an
// RGB(A) screenshot.
func chromiumPixel(img image.Image, x, y int) color.NRGBA {
	switch m := img.(type) {
	case *image.NRGBA:
		return m.NRGBAAt(x, y)
	case *image.RGBA:
		if c := m.RGBAAt(x, y); c.A == 0xff {
			return color.NRGBA{c.R, c.G, c.B, 0xff}
		}
	}
	return color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
}

// chromiumArtifactDir is where screenshots are kept:
// $MAILCHECK_ARTIFACT_DIR (.ci/run sets .ci/artifacts), else
// mailcheck-artifacts in the system's temporary directory.
func chromiumArtifactDir() string {
	if dir := os.Getenv("MAILCHECK_ARTIFACT_DIR"); dir != "" {
		return dir
	}
	return filepath.Join(os.TempDir(), "mailcheck-artifacts")
}

var (
	chromiumArtifactsMu sync.Mutex
	chromiumArtifacts   = map[string]int{} // renderings kept per test name
)

// keepChromiumArtifact writes the screenshot to the artefact directory,
// named after the test (TestX_sub.png, then TestX_sub-2.png for a second
// rendering in the same test), and returns its path.
func keepChromiumArtifact(t *testing.T, data []byte) string {
	t.Helper()
	chromiumArtifactsMu.Lock()
	chromiumArtifacts[t.Name()]++
	n := chromiumArtifacts[t.Name()]
	chromiumArtifactsMu.Unlock()

	name := strings.Map(func(r rune) rune {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return r
		}
		return '_'
	}, t.Name())
	if n > 1 {
		name += "-" + strconv.Itoa(n)
	}
	dir := chromiumArtifactDir()
	path := filepath.Join(dir, name+".png")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Errorf("keeping the screenshot: %v", err)
		return ""
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Errorf("keeping the screenshot: %v", err)
		return ""
	}
	return path
}

// TestChromiumHarness proves each check of the harness can fail: a check
// that cannot is worse than none.
func TestChromiumHarness(t *testing.T) {
	red := color.RGBA{0xd6, 0x27, 0x28, 0xff} // the chart line's #d62728
	blue := color.RGBA{0x1f, 0x77, 0xb4, 0xff}
	const tolerance = 8
	const width, height = 320, 200
	page := func(t *testing.T, body string) string {
		path := filepath.Join(t.TempDir(), "page.html")
		doc := "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>harness</title></head>\n<body style=\"margin:0;background:#fff\">\n" + body + "\n</body></html>\n"
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}

	// A page that never finishes loading: the run is killed at its
	// deadline and leaves no process behind.
	t.Run("timeout kills every process", func(t *testing.T) {
		t.Parallel()
		bin := findChromium(t)
		path := page(t, `<script>console.log("spinning"); for (;;) {}</script>`)
		dir := t.TempDir()
		args := append(chromiumFlags(dir), "--screenshot="+filepath.Join(dir, "s.png"), "--window-size=100,100", "file://"+filepath.ToSlash(path))
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		start := time.Now()
		_, stderr, err := runChromium(ctx, bin, dir, args)
		t.Logf("returned after %v: %v", time.Since(start).Round(time.Millisecond), err)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("runChromium on a page that never loads: err = %v, want the deadline", err)
		}
		if time.Since(start) > 15*time.Second {
			t.Errorf("runChromium took %v to give up", time.Since(start))
		}
		if left := chromiumLeftovers(-1, dir); len(left) != 0 {
			t.Errorf("processes left running from %s: %v", dir, left)
		}
		if c := parseChromiumConsole(stderr); !slices.ContainsFunc(c, func(m string) bool { return strings.Contains(m, `"spinning"`) }) {
			t.Logf("console before the kill: %q (the page may not have started)", c)
		}
	})

	t.Run("svg line is painted", func(t *testing.T) {
		t.Parallel()
		r := renderInChromium(t, page(t, `<svg xmlns="http://www.w3.org/2000/svg" width="300" height="180" viewBox="0 0 300 180">
<polyline id="line" points="10,170 80,30 150,110 220,15 290,90" fill="none" stroke="#d62728" stroke-width="3"/>
</svg>`), width, height)
		if err := notBlank(r.Screenshot); err != nil {
			t.Errorf("notBlank: %v", err)
		}
		if n := countPixels(r.Screenshot, red, tolerance); n == 0 {
			t.Errorf("countPixels(#d62728) = 0 on a page with a #d62728 line")
		} else {
			t.Logf("%d pixels of #d62728 (±%d), %d exactly", n, tolerance, countPixels(r.Screenshot, red, 0))
		}
		if n := countPixels(r.Screenshot, blue, tolerance); n != 0 {
			t.Errorf("countPixels(#1f77b4) = %d on a page with no blue", n)
		}
		if errs := consoleErrors(r); len(errs) != 0 {
			t.Errorf("consoleErrors on a silent page: %q", errs)
		}
		if !strings.Contains(r.DOM, `<polyline id="line"`) {
			t.Errorf("DOM has no polyline:\n%s", r.DOM)
		}
	})

	t.Run("blank page", func(t *testing.T) {
		t.Parallel()
		r := renderInChromium(t, page(t, `<p style="color:#fff">white on white</p>`), width, height)
		if err := notBlank(r.Screenshot); err == nil {
			t.Errorf("notBlank passes a blank page")
		} else {
			t.Logf("notBlank: %v", err)
		}
		if n := countPixels(r.Screenshot, red, tolerance); n != 0 {
			t.Errorf("countPixels(#d62728) = %d on a blank page", n)
		}
		if errs := consoleErrors(r); len(errs) != 0 {
			t.Errorf("consoleErrors on a silent page: %q", errs)
		}
	})

	for _, tc := range []struct{ name, script, want string }{
		{"console.error", `console.error("boom")`, `"boom", source: file://`},
		{"uncaught exception", `throw new Error("x")`, `"Uncaught Error: x", source: file://`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := renderInChromium(t, page(t, "<p>text</p>\n<script>"+tc.script+"</script>"), width, height)
			errs := consoleErrors(r)
			if len(errs) == 0 {
				t.Fatalf("consoleErrors empty for <script>%s</script>", tc.script)
			}
			if !slices.ContainsFunc(errs, func(e string) bool { return strings.Contains(e, tc.want) }) {
				t.Errorf("consoleErrors = %q, want one with %q", errs, tc.want)
			}
		})
	}

	t.Run("notBlank and countPixels", func(t *testing.T) {
		img := image.NewNRGBA(image.Rect(0, 0, 200, 100))
		fill := func(c color.NRGBA) {
			for i := 0; i < len(img.Pix); i += 4 {
				copy(img.Pix[i:], []uint8{c.R, c.G, c.B, c.A})
			}
		}
		fill(color.NRGBA{0x20, 0x20, 0x20, 0xff}) // a dark page
		if err := notBlank(img); err == nil {
			t.Errorf("notBlank passes a one-colour image")
		}
		for x := range 5 { // a speck: 5 pixels of 20000, three colours
			img.SetNRGBA(x, 0, color.NRGBA{0xd6, 0x27, byte(0x28 + x%2), 0xff})
		}
		if err := notBlank(img); err == nil {
			t.Errorf("notBlank passes an image with a speck of 5 pixels")
		}
		if n := countPixels(img, red, 0); n != 3 {
			t.Errorf("countPixels(#d62728, 0) = %d, want 3", n)
		}
		if n := countPixels(img, red, 1); n != 5 {
			t.Errorf("countPixels(#d62728, 1) = %d, want 5", n)
		}
		for x := range 200 { // a line across: 200 pixels, 1%
			img.SetNRGBA(x, 50, color.NRGBA{0xd6, 0x27, 0x28, 0xff})
		}
		if err := notBlank(img); err != nil {
			t.Errorf("notBlank: %v", err)
		}
		if n := countPixels(img, red, 0); n != 203 {
			t.Errorf("countPixels(#d62728, 0) = %d, want 203", n)
		}
	})

	t.Run("console parsing", func(t *testing.T) {
		stderr := `/usr/bin/chromium: 9: [: 25276063744: unexpected operator
[25542:25571:1125/235310.134593:ERROR:dbus/bus.cc:405] Failed to connect to the bus: Failed to connect to socket /run/dbus/system_bus_socket: No such file or directory
[25842:25842:1125/235320.550334:INFO:CONSOLE:4] "logmsg", source: file:///tmp/cx/err2.html (4)
[25842:25842:1125/235320.550612:INFO:CONSOLE:9] "multi
[object Object] 42", source: file:///tmp/cx/err2.html (9)
[25842:25842:1125/235320.551847:INFO:CONSOLE:13] "Uncaught Error: x", source: file:///tmp/cx/err2.html (13)
[25542:25542:1125/235310.655304:WARNING:ui/base/idle/idle_linux.cc:111] None of the known D-Bus ScreenSaver services could be used.
[1:1:0101/000000.000001:INFO:CONSOLE(7)] "old format", source: file:///p.html (7)
2278 bytes written to file /tmp/cx/s2.png
`
		got := parseChromiumConsole([]byte(stderr))
		want := []string{
			`"logmsg", source: file:///tmp/cx/err2.html (4)`,
			"\"multi\n[object Object] 42\", source: file:///tmp/cx/err2.html (9)",
			`"Uncaught Error: x", source: file:///tmp/cx/err2.html (13)`,
			`"old format", source: file:///p.html (7)`,
		}
		if !slices.Equal(got, want) {
			t.Errorf("parseChromiumConsole =\n%q\nwant\n%q", got, want)
		}
		if got := parseChromiumConsole([]byte("[1:1:0101/000000.000001:ERROR:dbus/bus.cc:405] nothing\n")); len(got) != 0 {
			t.Errorf("parseChromiumConsole of no console record = %q", got)
		}
	})
}
