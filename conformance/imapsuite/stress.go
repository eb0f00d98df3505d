package imapsuite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mailcheck/mailcheck/conformance/engine"
	"github.com/mailcheck/mailcheck/conformance/seed"
	"github.com/mailcheck/mailcheck/imap/imapwire"
)

// Bounds of a stress run: imaptest's default of a few clients on one
// mailbox of a few tens of messages, small enough that every response is
// judged and quoted.
const (
	stressSessions   = 4
	stressStartSize  = 6
	stressMaxSize    = 16
	stressCheckEvery = 8 // rounds between checkpoints
	// stressRoundsPerSecond bounds the rounds of a run, per second of
	// Options.StressDuration (the time bound): a fast server ends on the
	// count, about as far as a loopback server gets in that time.
	stressRoundsPerSecond = 1700
	// stressQuietRounds bounds how long a session sends nothing.
	stressQuietRounds = 6
)

// stressRun is one concurrency run: its sessions on one scratch mailbox,
// the seeded choices and the first contradiction found.
type stressRun struct {
	t       *engine.T
	mailbox string
	rng     *rand.Rand
	seed    uint64
	views   []*stressView
	idle    bool // every session may IDLE (RFC 2177, IMAP4rev2)
	rounds  int
	ops     int
	checks  int
	// stopOn says which contradictions end the run.
	stopOn func(contradictionClass) bool
	found  *contradiction
	// round is the round under way, named with a contradiction.
	round int
	// budgetEnded is set when the receive budget, not the time or
	// round bound, ended the run.
	budgetEnded bool
}

// ownFlags are the flags each session alone stores: its system flag, and
// its keyword where the mailbox takes new keywords. \Deleted is everyone's.
var ownFlags = [stressSessions]string{`\Flagged`, `\Answered`, `\Draft`, `\Seen`}

// stress drives stressSessions sessions on a scratch mailbox with a
// seeded mix of commands until the time or round bound, or a
// contradiction stopOn accepts, and returns the run.
func stress(ctx context.Context, t *engine.T, stopOn func(contradictionClass) bool) (*stressRun, error) {
	seedValue := t.Options.StressSeedOrRandom()
	run := &stressRun{t: t, seed: seedValue, rng: rand.New(rand.NewPCG(seedValue, seedValue)), stopOn: stopOn}
	err := withMailbox(ctx, t, stressStartSize, func(first *session, name string, _ [][]byte) error {
		run.mailbox = name
		sessions := []*session{first}
		for range stressSessions - 1 {
			s, err := login(ctx, t)
			if s == nil || err != nil {
				return err
			}
			defer s.logout()
			sessions = append(sessions, s)
		}
		if err := run.open(sessions); err != nil {
			return err
		}
		defer run.unselect()
		return run.drive(ctx)
	})
	return run, err
}

// open selects the mailbox on every session and learns its messages.
func (run *stressRun) open(sessions []*session) error {
	run.idle = true
	for i, s := range sessions {
		own := []string{ownFlags[i]}
		v := newStressView(s, i+1, own)
		run.views = append(run.views, v)
		sel, err := run.command(v, "SELECT "+run.mailbox)
		if err != nil {
			return err
		}
		if sel.Kind() != "OK" {
			return engine.Unmet("SELECT %s answered %s", run.mailbox, sel)
		}
		if v.newKeywords || !v.hasPermanent {
			v.own = append(v.own, "$MailcheckS"+strconv.Itoa(i+1))
		}
		run.idle = run.idle && (s.has("IDLE") || s.has("IMAP4REV2"))
		if _, err := run.command(v, "FETCH 1:* (UID FLAGS)"); err != nil {
			return err
		}
		if c := v.found[seqClass]; c != nil {
			// Nothing has changed the mailbox yet: one session's view is
			// the subject of the single-session checks.
			return engine.Unmet("before any concurrent change, %s (imap.uid.* and imap.fetch.* judge one session)", c)
		}
	}
	run.judged()
	return nil
}

// unselect leaves the mailbox, so that withMailbox can delete it. A
// session a failed read left with a command outstanding (an IDLE, say)
// is given up as broken: the clean-up logs in afresh.
func (run *stressRun) unselect() {
	for _, v := range run.views {
		if v.cmd != nil {
			v.s.broken = true
		}
		if !v.s.broken {
			v.s.cmd("CLOSE")
			v.s.selected = false
		}
	}
}

// drive runs rounds until a bound or a contradiction: in each, every
// session sends one command before any answer is read, so the server
// has them all in hand at once; every few rounds, a checkpoint.
func (run *stressRun) drive(ctx context.Context) error {
	d := run.t.Options.StressDuration
	end, rounds := time.Now().Add(d), max(1, int(d.Seconds()*stressRoundsPerSecond))
	for run.round = 1; run.round <= rounds && time.Now().Before(end) && ctx.Err() == nil && !run.budgetSpent(); run.round++ {
		if err := run.oneRound(); err != nil || run.found != nil {
			return err
		}
		if run.round%stressCheckEvery == 0 {
			if err := run.checkpoint(); err != nil || run.found != nil {
				return err
			}
		}
		run.rounds++
	}
	return run.checkpoint()
}

// budgetSpent reports whether the run has read three quarters of what
// a check may read (Options.MaxReceive): it ends there, with room left
// for the last checkpoint and the clean-up, rather than fail for reading.
func (run *stressRun) budgetSpent() bool {
	if run.t.Received() < run.t.Options.Bounds().Total/4*3 {
		return false
	}
	run.budgetEnded = true
	return true
}

// oneRound sends one command per session, then reads every answer; an
// IDLE is ended (DONE) after the others were answered, so it hears of
// their changes.
func (run *stressRun) oneRound() error {
	var idling []*stressView
	for _, v := range run.views {
		line, idle := run.choose(v)
		if line == "" {
			continue // this session is busy elsewhere this round
		}
		if err := run.start(v, line); err != nil {
			return err
		}
		if idle && v.cmd != nil { // a refused IDLE has completed
			idling = append(idling, v)
		}
		run.ops++
	}
	for _, v := range run.views {
		if slices.Contains(idling, v) || v.cmd == nil {
			continue
		}
		if _, err := run.finish(v); err != nil {
			return err
		}
	}
	for _, v := range idling {
		if err := v.s.send("DONE"); err != nil {
			return err
		}
		v.log.add("C: DONE")
		if _, err := run.finish(v); err != nil {
			return err
		}
	}
	run.judged()
	return nil
}

// choose picks the session's next command from the seed; idle reports an
// IDLE.
func (run *stressRun) choose(v *stressView) (line string, idle bool) {
	if run.round < v.quietUntil {
		return "", false
	}
	n := len(v.msgs)
	roll := run.rng.IntN(100)
	pick := func() int { return run.rng.IntN(max(n, 1)) }
	switch {
	case roll < 12 && n < stressMaxSize || n == 0:
		return "APPEND", false
	case roll < 24:
		a, b := pick()+1, pick()+1
		return fmt.Sprintf("FETCH %d:%d (UID FLAGS)", min(a, b), max(a, b)), false
	case roll < 32:
		if uid := v.msgs[pick()].uid; uid != 0 {
			return fmt.Sprintf("UID FETCH %d (FLAGS)", uid), false
		}
		return "NOOP", false
	case roll < 62:
		return run.chooseStore(v, pick()), false
	case roll < 68:
		if uid := v.msgs[pick()].uid; uid != 0 {
			return fmt.Sprintf(`UID STORE %d +FLAGS (\Deleted)`, uid), false
		}
		return "NOOP", false
	case roll < 73:
		return "EXPUNGE", false
	case roll < 80:
		return "SEARCH ALL", false
	case roll < 85:
		return "UID SEARCH ALL", false
	case roll < 92 && run.idle:
		return "IDLE", true
	case roll < 99:
		// A session that sends nothing for a few rounds gets the
		// others' changes in one batch when it next asks: the order of
		// that batch is what a server keeps per session.
		v.quietUntil = run.round + 1 + run.rng.IntN(stressQuietRounds)
		return "", false
	}
	return "NOOP", false
}

// chooseStore sets or clears one of the session's own flags on message
// i+1, by sequence number or UID, with the FETCH answer asked for.
func (run *stressRun) chooseStore(v *stressView, i int) string {
	flag := v.own[run.rng.IntN(len(v.own))]
	sign := "+"
	if run.rng.IntN(2) == 0 {
		sign = "-"
	}
	uid := v.msgs[i].uid
	switch {
	case uid == 0:
		// A client learns the UID before it changes flags it will judge.
		return fmt.Sprintf("FETCH %d (UID FLAGS)", i+1)
	case run.rng.IntN(2) == 0:
		return fmt.Sprintf("STORE %d %sFLAGS (%s)", i+1, sign, flag)
	}
	return fmt.Sprintf("UID STORE %d %sFLAGS (%s)", uid, sign, flag)
}

// start sends a command (an APPEND with its literal, an IDLE up to the
// server's continuation request), judging what comes meanwhile.
func (run *stressRun) start(v *stressView, line string) error {
	tag := v.s.nextTag()
	if line == "APPEND" {
		msg := seed.Message(run.t, seed.Nonce(), "mailcheck concurrency", "Appended by a concurrent session.\r\n")
		v.cmd = newInProgress(tag, fmt.Sprintf("APPEND %s {%d}", run.mailbox, len(msg)), v)
		return run.withLiteral(v, msg)
	}
	c := newInProgress(tag, line, v)
	v.cmd = c
	if err := run.send(v, c.line); err != nil {
		return err
	}
	if line == "IDLE" {
		_, err := run.until(v, true)
		return err
	}
	return nil
}

// withLiteral sends an APPEND's line, waits for the continuation request
// and sends the message.
func (run *stressRun) withLiteral(v *stressView, msg []byte) error {
	if err := run.send(v, v.cmd.line); err != nil {
		return err
	}
	cont, err := run.until(v, true)
	if err != nil || !cont {
		return err
	}
	v.log.add(fmt.Sprintf("C: (%d octets)", len(msg)))
	if err := v.s.c.Write(append(slices.Clip(msg), "\r\n"...)); err != nil {
		v.s.broken = true
		return err
	}
	return nil
}

func (run *stressRun) send(v *stressView, line string) error {
	v.log.add("C: " + v.cmd.tag + " " + line)
	return v.s.send(v.cmd.tag + " " + line)
}

// finish reads the command's responses up to its completion and returns
// that; a BAD is the suite's or the server's grammar, not this check's
// subject.
func (run *stressRun) finish(v *stressView) (*response, error) {
	if v.cmd == nil {
		return nil, nil // an APPEND the server refused before its literal
	}
	line := v.cmd.line
	if _, err := run.until(v, false); err != nil {
		return nil, err
	}
	done := v.lastDone
	if done.Kind() == "BAD" {
		return done, engine.Unmet("%s answered %s", line, done)
	}
	return done, nil
}

// until reads and judges responses until the command's completion, or,
// with cont, a continuation request; it reports which came.
func (run *stressRun) until(v *stressView, cont bool) (bool, error) {
	for range imapwire.MaxUntagged {
		r, err := v.s.read()
		if err != nil {
			return false, err
		}
		switch r.Tag {
		case "+":
			v.log.add("S: " + r.String())
			if cont {
				return true, nil
			}
			return false, fmt.Errorf("unexpected continuation request %q", r)
		case "*":
			v.apply(r)
		case v.cmd.tag:
			v.lastDone = r
			v.completed(r)
			return false, nil
		default:
			return false, engine.Unmet("response %q with a tag not in use (imap.command.one-tagged-reply judges that)", r)
		}
	}
	v.s.broken = true
	return false, fmt.Errorf("more than %d untagged responses to one command", imapwire.MaxUntagged)
}

// command runs one command on one session, outside the rounds.
func (run *stressRun) command(v *stressView, line string) (*response, error) {
	if err := run.start(v, line); err != nil {
		return nil, err
	}
	return run.finish(v)
}

// judged takes the first contradiction of any session, if stopOn ends
// the run for it.
func (run *stressRun) judged() {
	for _, v := range run.views {
		for _, c := range v.found {
			if c != nil && run.found == nil && run.stopOn(c.class) {
				run.found = c
			}
		}
	}
}

// checkpoint brings every session up to date (NOOP, then FETCH of what
// it lacks) while none changes anything, and compares their views: all
// must see the same UIDs (seqClass) with the same flags (flagClass).
func (run *stressRun) checkpoint() error {
	run.checks++
	for _, v := range run.views {
		if _, err := run.command(v, "NOOP"); err != nil {
			return err
		}
		if err := run.fill(v); err != nil {
			return err
		}
	}
	if run.judged(); run.found != nil {
		return nil
	}
	first := run.views[0]
	for _, v := range run.views[1:] {
		if !slices.Equal(v.uids(), first.uids()) {
			run.atCheckpoint(seqClass, v, fmt.Sprintf("UIDs %v", v.uids()), fmt.Sprintf("the UIDs session 1 sees, %v: after NOOP every session knows every EXISTS and EXPUNGE (RFC 9051 §5.2, §7.4.1, §7.5.1)", first.uids()))
			return nil
		}
		for i, m := range v.msgs {
			if a, b := flagsOf(m), flagsOf(first.msgs[i]); a != b {
				run.atCheckpoint(flagClass, v, fmt.Sprintf("UID %d with flags %s", m.uid, a), fmt.Sprintf("the flags session 1 knows, %s: after NOOP every session has heard of every flag change (RFC 9051 §5.2, §7.5.2)", b))
				return nil
			}
		}
	}
	return nil
}

// fill fetches what a session lacks of its messages (UIDs and flags
// announced by EXISTS only), as a client does.
func (run *stressRun) fill(v *stressView) error {
	for i := 0; i < len(v.msgs); i++ {
		if m := v.msgs[i]; m.uid == 0 || !m.flagsKnown {
			if _, err := run.command(v, fmt.Sprintf("FETCH %d (UID FLAGS)", i+1)); err != nil {
				return err
			}
			if v.found[seqClass] == nil && i < len(v.msgs) && v.msgs[i].uid == 0 {
				v.found[seqClass] = &contradiction{class: seqClass, session: v.id, command: fmt.Sprintf("FETCH %d (UID FLAGS)", i+1), response: v.lastDone.String(),
					expected: fmt.Sprintf("a FETCH response with message %d's UID: EXISTS told the session of %d messages (RFC 9051 §7.4.1, §6.4.5)", i+1, len(v.msgs))}
			}
		}
	}
	return nil
}

// atCheckpoint records a disagreement found at a checkpoint.
func (run *stressRun) atCheckpoint(class contradictionClass, v *stressView, got, want string) {
	if run.found == nil && run.stopOn(class) {
		run.found = &contradiction{class: class, session: v.id, command: "checkpoint after NOOP", response: got, expected: want}
	}
}

// report is the run's verdict text: the seed and bounds, and for a
// contradiction the last exchanges of every session.
func (run *stressRun) report() string {
	head := fmt.Sprintf("seed %d (replay: --stress-seed %d): %d sessions, %d rounds, %d commands, %d checkpoints", run.seed, run.seed, len(run.views), run.rounds, run.ops, run.checks)
	if run.budgetEnded {
		head += fmt.Sprintf(" (ended early at the check's receive budget, %d octets)", run.t.Options.Bounds().Total)
	}
	if run.found == nil {
		return head
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s; in round %d, %s", head, run.round, run.found)
	for _, v := range run.views {
		fmt.Fprintf(&b, "\n session %d, last exchanges:", v.id)
		for _, l := range v.log.lines {
			b.WriteString("\n   " + l)
		}
	}
	return b.String()
}
