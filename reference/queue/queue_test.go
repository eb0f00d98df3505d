package queue

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailcheck/mailcheck/internal/smtptest"
)

// bounceRecorder is an Options.Bounce that records bounces and can be told
// to fail the first few.
type bounceRecorder struct {
	mu      sync.Mutex
	failing int
	calls   int
	bounces []recordedBounce
}

type recordedBounce struct {
	Sender string
	Msg    []byte
}

func (b *bounceRecorder) deliver(_ context.Context, sender string, msg []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls++
	if b.failing > 0 {
		b.failing--
		return errors.New("mailbox full")
	}
	b.bounces = append(b.bounces, recordedBounce{sender, msg})
	return nil
}

func (b *bounceRecorder) callCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls
}

func (b *bounceRecorder) get() []recordedBounce {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.bounces)
}

// fakeClock is an Options.Now that tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// openQueue opens a queue in dir routing each domain to its address, with
// retries fast enough for tests.
func openQueue(t *testing.T, dir string, routes map[string]string, tweak func(*Options)) (*Queue, *bounceRecorder) {
	t.Helper()
	bounces := &bounceRecorder{}
	opts := Options{
		Dir:            dir,
		Hostname:       "mx.example.org",
		Routes:         routes,
		RetryBase:      20 * time.Millisecond,
		RetryMax:       100 * time.Millisecond,
		ConnectTimeout: time.Second,
		CommandTimeout: 2 * time.Second,
		Bounce:         bounces.deliver,
		Logger:         slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo})),
	}
	if tweak != nil {
		tweak(&opts)
	}
	q, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	return q, bounces
}

// run runs the queue until the test ends (or stop is called).
func run(t *testing.T, q *Queue) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		q.Run(ctx)
		close(done)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Error("Run did not return after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// lines turns text lines into CRLF-terminated chunks.
func lines(ls ...string) [][]byte {
	var msg [][]byte
	for _, l := range ls {
		msg = append(msg, []byte(l+"\r\n"))
	}
	return msg
}

func testMessage(subject string) [][]byte {
	return lines("From: <a@example.org>", "Subject: "+subject, "", "body")
}

// queueFiles lists the files in dir.
func queueFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestDeliversByteExact(t *testing.T) {
	s := smtptest.Start(t, smtptest.Config{Extensions: []string{"PIPELINING", "8BITMIME"}})
	dir := t.TempDir()
	q, bounces := openQueue(t, dir, map[string]string{"example.net": s.Addr()}, nil)
	run(t, q)
	msg := lines("From: <a@example.org>", "Subject: dots", "", ".", "..", ".x", "x.", "...", "end")
	if err := q.Enqueue("a@example.org", []string{"b@example.net", "c@Example.NET"}, false, msg); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "an empty queue", func() bool { return q.Len() == 0 })
	got := s.Messages()
	if len(got) != 1 {
		t.Fatalf("server received %d messages, want 1", len(got))
	}
	if want := bytes.Join(msg, nil); !bytes.Equal(got[0].Data, want) {
		t.Errorf("received %q, want %q", got[0].Data, want)
	}
	if want := []string{"TO:<b@example.net>", "TO:<c@Example.NET>"}; !slices.Equal(got[0].Rcpts, want) {
		t.Errorf("recipients %q, want %q", got[0].Rcpts, want)
	}
	if files := queueFiles(t, dir); len(files) != 0 {
		t.Errorf("files left in the queue: %q", files)
	}
	if n := len(bounces.get()); n != 0 {
		t.Errorf("%d bounces", n)
	}
}

func TestOneSessionPerDomain(t *testing.T) {
	one := smtptest.Start(t, smtptest.Config{Extensions: []string{"PIPELINING"}})
	two := smtptest.Start(t, smtptest.Config{})
	q, _ := openQueue(t, t.TempDir(), map[string]string{"one.example": one.Addr(), "two.example": two.Addr()}, nil)
	// Queue everything before the runner starts, so it is all due at once.
	for i := range 3 {
		if err := q.Enqueue("a@example.org", []string{"x@one.example"}, false, testMessage(string(rune('A'+i)))); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Enqueue("a@example.org", []string{"y@one.example", "z@two.example"}, false, testMessage("both")); err != nil {
		t.Fatal(err)
	}
	if q.Len() != 5 {
		t.Fatalf("Len = %d, want 5 (one entry per message and domain)", q.Len())
	}
	run(t, q)
	waitFor(t, "an empty queue", func() bool { return q.Len() == 0 })
	for _, tt := range []struct {
		name     string
		s        *smtptest.Server
		messages int
	}{{"one.example", one, 4}, {"two.example", two, 1}} {
		if tt.s.Conns() != 1 || tt.s.CountCommands("EHLO") != 1 || len(tt.s.Messages()) != tt.messages {
			t.Errorf("%s: conns=%d EHLO=%d messages=%d, want 1, 1, %d", tt.name, tt.s.Conns(), tt.s.CountCommands("EHLO"), len(tt.s.Messages()), tt.messages)
		}
	}
}

func TestDestinationDownAtFirst(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	q, _ := openQueue(t, t.TempDir(), map[string]string{"example.net": addr}, nil)
	run(t, q)
	if err := q.Enqueue("a@example.org", []string{"b@example.net"}, false, testMessage("late")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a failed attempt", func() bool {
		e := q.Entries()
		return len(e) == 1 && e[0].Attempts >= 2 && e[0].LastError != ""
	})

	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s again: %v", addr, err)
	}
	s := smtptest.Start(t, smtptest.Config{Listener: ln})
	waitFor(t, "delivery", func() bool { return q.Len() == 0 })
	if n := len(s.Messages()); n != 1 {
		t.Errorf("server received %d messages, want 1", n)
	}
}

func TestBackoff(t *testing.T) {
	q := &Queue{opts: Options{RetryBase: time.Minute, RetryMax: time.Hour}}
	for _, tt := range []struct {
		attempts int
		want     time.Duration
	}{
		{1, time.Minute}, {2, 2 * time.Minute}, {3, 4 * time.Minute}, {6, 32 * time.Minute},
		{7, time.Hour}, {100, time.Hour},
	} {
		if got := q.backoff(tt.attempts); got != tt.want {
			t.Errorf("backoff(%d) = %v, want %v", tt.attempts, got, tt.want)
		}
	}
}

func TestPermanentFailuresBounce(t *testing.T) {
	tests := []struct {
		name          string
		extensions    []string
		reply         smtptest.ReplyFunc
		rcpts         []string
		body8bit      bool
		wantDelivered []string // recipients the server accepted the message for
		wantBounced   []string
		wantText      string // in the bounce
		wantStatus    string
	}{
		{
			name:        "RCPT refused",
			extensions:  []string{"ENHANCEDSTATUSCODES"},
			reply:       smtptest.Refuse("RCPT", "", "550 5.1.1 <b@example.net>: no such user"),
			rcpts:       []string{"b@example.net"},
			wantBounced: []string{"b@example.net"},
			wantText:    "550 5.1.1 <b@example.net>: no such user",
			wantStatus:  "5.1.1",
		},
		{
			name:        "end of data refused",
			reply:       smtptest.Refuse(".", "", "554 content rejected"),
			rcpts:       []string{"b@example.net", "c@example.net"},
			wantBounced: []string{"b@example.net", "c@example.net"},
			wantText:    "554 content rejected",
			wantStatus:  "5.0.0",
		},
		{
			name:          "partial acceptance",
			extensions:    []string{"ENHANCEDSTATUSCODES", "PIPELINING"},
			reply:         smtptest.Refuse("RCPT", "TO:<bad@example.net>", "550 5.1.1 unknown user"),
			rcpts:         []string{"good@example.net", "bad@example.net"},
			wantDelivered: []string{"TO:<good@example.net>"},
			wantBounced:   []string{"bad@example.net"},
			wantText:      "550 5.1.1 unknown user",
			wantStatus:    "5.1.1",
		},
		{
			name:        "8-bit message, no 8BITMIME",
			rcpts:       []string{"b@example.net"},
			body8bit:    true,
			wantBounced: []string{"b@example.net"},
			wantText:    "8BITMIME",
			wantStatus:  "5.6.3",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := smtptest.Start(t, smtptest.Config{Extensions: tt.extensions, Reply: tt.reply})
			dir := t.TempDir()
			q, bounces := openQueue(t, dir, map[string]string{"example.net": s.Addr()}, nil)
			run(t, q)
			if err := q.Enqueue("sender@example.org", tt.rcpts, tt.body8bit, testMessage("doomed")); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "an empty queue", func() bool { return q.Len() == 0 })
			var delivered []string
			for _, m := range s.Messages() {
				delivered = append(delivered, m.Rcpts...)
			}
			if !slices.Equal(delivered, tt.wantDelivered) {
				t.Errorf("delivered to %q, want %q", delivered, tt.wantDelivered)
			}
			got := bounces.get()
			if len(got) != 1 {
				t.Fatalf("%d bounces, want 1", len(got))
			}
			if got[0].Sender != "sender@example.org" {
				t.Errorf("bounce to %q", got[0].Sender)
			}
			text := string(got[0].Msg)
			for _, rcpt := range tt.wantBounced {
				if !strings.Contains(text, "Final-Recipient: rfc822; "+rcpt+"\r\n") || !strings.Contains(text, "<"+rcpt+">:") {
					t.Errorf("bounce does not name %s:\n%s", rcpt, text)
				}
			}
			if !strings.Contains(text, tt.wantText) || !strings.Contains(text, "Status: "+tt.wantStatus+"\r\n") {
				t.Errorf("bounce lacks %q or status %s:\n%s", tt.wantText, tt.wantStatus, text)
			}
			for _, rcpt := range tt.wantDelivered {
				if strings.Contains(text, strings.TrimSuffix(strings.TrimPrefix(rcpt, "TO:<"), ">")) {
					t.Errorf("bounce names the delivered recipient %s", rcpt)
				}
			}
			if files := queueFiles(t, dir); len(files) != 0 {
				t.Errorf("files left in the queue: %q", files)
			}
		})
	}
}

func TestTemporaryFailureThenExpiry(t *testing.T) {
	s := smtptest.Start(t, smtptest.Config{
		Extensions: []string{"ENHANCEDSTATUSCODES"},
		Reply:      smtptest.Refuse("RCPT", "", "451 4.2.1 mailbox busy"),
	})
	clock := &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	q, bounces := openQueue(t, t.TempDir(), map[string]string{"example.net": s.Addr()}, func(o *Options) {
		o.Now = clock.Now
		o.Expire = 24 * time.Hour
	})
	run(t, q)
	if err := q.Enqueue("sender@example.org", []string{"b@example.net"}, false, testMessage("slow")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a deferred attempt", func() bool {
		e := q.Entries()
		return len(e) == 1 && e[0].Attempts == 1 && !e[0].InFlight
	})
	e := q.Entries()[0]
	if want := clock.Now().Add(20 * time.Millisecond); !e.NextAttempt.Equal(want) || !strings.Contains(e.LastError, "451 4.2.1") {
		t.Errorf("entry %+v, want next attempt %v and the 451 as last error", e, want)
	}
	if len(bounces.get()) != 0 {
		t.Fatal("bounced on a temporary failure")
	}

	clock.Advance(25 * time.Hour)
	q.Flush()
	waitFor(t, "an empty queue", func() bool { return q.Len() == 0 })
	got := bounces.get()
	if len(got) != 1 {
		t.Fatalf("%d bounces, want 1", len(got))
	}
	text := string(got[0].Msg)
	for _, want := range []string{"Status: 5.4.7\r\n", "451 4.2.1 mailbox busy", "b@example.net", "expired"} {
		if !strings.Contains(text, want) {
			t.Errorf("bounce lacks %q:\n%s", want, text)
		}
	}
}

func TestNullSenderNeverBounces(t *testing.T) {
	s := smtptest.Start(t, smtptest.Config{Reply: smtptest.Refuse("RCPT", "", "550 no such user")})
	q, bounces := openQueue(t, t.TempDir(), map[string]string{"example.net": s.Addr()}, nil)
	run(t, q)
	if err := q.Enqueue("", []string{"b@example.net"}, false, testMessage("a bounce itself")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "an empty queue", func() bool { return q.Len() == 0 })
	if s.CountCommands("MAIL FROM:<>") != 1 {
		t.Errorf("commands %q, want MAIL FROM:<>", s.Commands())
	}
	if n := bounces.callCount(); n != 0 {
		t.Errorf("Bounce called %d times for a null-sender message", n)
	}
}

func TestBounceFailureKeepsEntry(t *testing.T) {
	s := smtptest.Start(t, smtptest.Config{Reply: smtptest.Refuse("RCPT", "", "550 no such user")})
	q, bounces := openQueue(t, t.TempDir(), map[string]string{"example.net": s.Addr()}, nil)
	bounces.failing = 2
	run(t, q)
	if err := q.Enqueue("sender@example.org", []string{"b@example.net"}, false, testMessage("x")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "an empty queue", func() bool { return q.Len() == 0 })
	if n := bounces.callCount(); n != 3 || len(bounces.get()) != 1 {
		t.Errorf("Bounce called %d times, %d delivered; want 3 and 1", n, len(bounces.get()))
	}
	// The bounce is retried on its own; the message is not sent again.
	if n := s.CountCommands("MAIL"); n != 1 {
		t.Errorf("%d MAIL commands, want 1", n)
	}
}

func TestSurvivesRestart(t *testing.T) {
	s := smtptest.Start(t, smtptest.Config{})
	dir := t.TempDir()
	routes := map[string]string{"example.net": s.Addr()}

	// A first process queues two messages and stops before delivering.
	first, _ := openQueue(t, dir, routes, nil)
	for _, subject := range []string{"one", "two"} {
		if err := first.Enqueue("a@example.org", []string{"b@example.net"}, false, testMessage(subject)); err != nil {
			t.Fatal(err)
		}
	}
	// What a crash in the middle of a write leaves behind.
	stray := filepath.Join(dir, "0000-stray.msg.tmp")
	if err := os.WriteFile(stray, []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	orphan := filepath.Join(dir, "0000-orphan.state")
	if err := os.WriteFile(orphan, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}

	second, _ := openQueue(t, dir, routes, nil)
	if second.Len() != 2 {
		t.Fatalf("after restart Len = %d, want 2", second.Len())
	}
	for _, path := range []string{stray, orphan} {
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s survived Open", path)
		}
	}
	run(t, second)
	waitFor(t, "an empty queue", func() bool { return second.Len() == 0 })
	time.Sleep(50 * time.Millisecond) // let a duplicate show, if there were one
	if n := len(s.Messages()); n != 2 {
		t.Errorf("server received %d messages, want 2", n)
	}
	if files := queueFiles(t, dir); len(files) != 0 {
		t.Errorf("files left in the queue: %q", files)
	}
}

func TestRetryStateSurvivesRestart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	routes := map[string]string{"example.net": addr}

	first, _ := openQueue(t, dir, routes, func(o *Options) { o.RetryBase, o.RetryMax = time.Hour, time.Hour })
	stop := run(t, first)
	if err := first.Enqueue("a@example.org", []string{"b@example.net", "c@example.net"}, false, testMessage("x")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a failed attempt", func() bool {
		e := first.Entries()
		return len(e) == 1 && e[0].Attempts == 1 && !e[0].InFlight
	})
	stop()
	before := first.Entries()[0]

	second, _ := openQueue(t, dir, routes, nil)
	after := second.Entries()
	if len(after) != 1 || after[0].Attempts != 1 || !after[0].NextAttempt.Equal(before.NextAttempt) ||
		after[0].LastError != before.LastError || !slices.Equal(after[0].Rcpts, before.Rcpts) {
		t.Fatalf("after restart %+v, want %+v", after, before)
	}
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s again: %v", addr, err)
	}
	s := smtptest.Start(t, smtptest.Config{Listener: ln})
	run(t, second)
	second.Flush()
	waitFor(t, "an empty queue", func() bool { return second.Len() == 0 })
	if n := len(s.Messages()); n != 1 {
		t.Errorf("server received %d messages, want 1", n)
	}
}

func TestNoDuplicateWhileInFlight(t *testing.T) {
	release := make(chan struct{})
	s := smtptest.Start(t, smtptest.Config{Reply: func(verb, arg string) string {
		if verb == "." {
			<-release // hold the transaction open
		}
		return ""
	}})
	q, _ := openQueue(t, t.TempDir(), map[string]string{"example.net": s.Addr()}, nil)
	run(t, q)
	if err := q.Enqueue("a@example.org", []string{"b@example.net"}, false, testMessage("once")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the transaction", func() bool { return s.CountCommands("DATA") == 1 })
	for range 5 {
		q.Flush()
		q.Kick()
		time.Sleep(5 * time.Millisecond)
	}
	if e := q.Entries(); len(e) != 1 || !e[0].InFlight {
		t.Errorf("entries %+v, want one in flight", e)
	}
	close(release)
	waitFor(t, "an empty queue", func() bool { return q.Len() == 0 })
	if n, c := len(s.Messages()), s.Conns(); n != 1 || c != 1 {
		t.Errorf("messages=%d conns=%d, want 1 and 1", n, c)
	}
}

func TestEnqueueRejects(t *testing.T) {
	q, _ := openQueue(t, t.TempDir(), nil, nil)
	if err := q.Enqueue("a@example.org", nil, false, testMessage("x")); err == nil {
		t.Error("Enqueue without recipients succeeded")
	}
	if err := q.Enqueue("a@example.org", []string{"postmaster"}, false, testMessage("x")); err == nil {
		t.Error("Enqueue of a recipient without domain succeeded")
	}
	if q.Len() != 0 {
		t.Errorf("Len = %d", q.Len())
	}
}

func TestGroupByDomain(t *testing.T) {
	got := groupByDomain([]string{"a@One.example", "b@two.example", "c@one.EXAMPLE"})
	want := []domainGroup{
		{"one.example", []string{"a@One.example", "c@one.EXAMPLE"}},
		{"two.example", []string{"b@two.example"}},
	}
	if !slices.EqualFunc(got, want, func(a, b domainGroup) bool { return a.domain == b.domain && slices.Equal(a.rcpts, b.rcpts) }) {
		t.Errorf("groupByDomain = %q, want %q", got, want)
	}
}
