package load

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/mailcheck/mailcheck/target"
)

// sink is a minimal SMTP server for the benchmarks and the memory test: it
// answers every command at once (the replies to pipelined commands in one
// write), advertises PIPELINING and discards the messages. It costs little
// CPU and memory, so the generator is what gets measured.
type sink struct {
	ln       net.Listener
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    map[net.Conn]bool
	closed   bool
	messages atomic.Int64
}

// startSink runs a sink on 127.0.0.1:0 until the test ends.
func startSink(tb testing.TB) *sink {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	k := newSink(ln)
	tb.Cleanup(k.Close)
	return k
}

func newSink(ln net.Listener) *sink {
	k := &sink{ln: ln, conns: map[net.Conn]bool{}}
	k.wg.Add(1)
	go k.accept()
	return k
}

func (k *sink) target(tb testing.TB) target.Target {
	tb.Helper()
	t, err := target.ParseTarget("smtp://"+k.ln.Addr().String(), "")
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// Close stops the listener, drops the connections and waits for them.
func (k *sink) Close() {
	k.mu.Lock()
	k.closed = true
	k.ln.Close()
	for c := range k.conns {
		c.Close()
	}
	k.mu.Unlock()
	k.wg.Wait()
}

func (k *sink) accept() {
	defer k.wg.Done()
	for {
		c, err := k.ln.Accept()
		if err != nil {
			return
		}
		k.mu.Lock()
		if k.closed {
			k.mu.Unlock()
			c.Close()
			return
		}
		k.conns[c] = true
		k.wg.Add(1)
		k.mu.Unlock()
		go func() {
			defer k.wg.Done()
			k.serve(c)
			k.mu.Lock()
			delete(k.conns, c)
			k.mu.Unlock()
			c.Close()
		}()
	}
}

var (
	sinkEHLO = []byte("250-sink.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 104857600\r\n")
	sinkOK   = []byte("250 2.0.0 ok\r\n")
	sinkGo   = []byte("354 go ahead\r\n")
	sinkBye  = []byte("221 2.0.0 bye\r\n")
	sinkWhat = []byte("502 5.5.2 what?\r\n")
	endData  = []byte(".\r\n")
)

// serve answers one connection. Replies are flushed when no more input is
// buffered, so a pipelined group gets one write.
func (k *sink) serve(c net.Conn) {
	r := bufio.NewReaderSize(c, 4096)
	w := bufio.NewWriterSize(c, 512)
	w.WriteString("220 sink.test ESMTP\r\n")
	if w.Flush() != nil {
		return
	}
	inData, partial := false, false
	for {
		line, err := r.ReadSlice('\n')
		switch {
		case err == bufio.ErrBufferFull:
			partial = true // a long line: wait for its end
			continue
		case err != nil:
			return
		}
		continued := partial
		partial = false
		if inData {
			if !continued && bytes.Equal(line, endData) {
				inData = false
				k.messages.Add(1)
				w.Write(sinkOK)
			}
		} else {
			verb := line[:min(4, len(line))]
			switch {
			case continued:
			case bytes.EqualFold(verb, []byte("EHLO")):
				w.Write(sinkEHLO)
			case bytes.EqualFold(verb, []byte("DATA")):
				inData = true
				w.Write(sinkGo)
			case bytes.EqualFold(verb, []byte("QUIT")):
				w.Write(sinkBye)
				w.Flush()
				return
			case bytes.EqualFold(verb, []byte("MAIL")), bytes.EqualFold(verb, []byte("RCPT")),
				bytes.EqualFold(verb, []byte("RSET")), bytes.EqualFold(verb, []byte("NOOP")),
				bytes.EqualFold(verb, []byte("HELO")):
				w.Write(sinkOK)
			default:
				w.Write(sinkWhat)
			}
		}
		if r.Buffered() == 0 && w.Buffered() > 0 {
			if w.Flush() != nil {
				return
			}
		}
	}
}

// sinkProcessEnv makes the test binary a sink process (see TestMain): the
// memory test measures the generator alone, and the two ends of 10,000
// connections do not share one file-descriptor limit.
const sinkProcessEnv = "MAILCHECK_TEST_SINK_PROCESS"

func TestMain(m *testing.M) {
	if os.Getenv(sinkProcessEnv) == "1" {
		runSinkProcess()
		return
	}
	os.Exit(m.Run())
}

// runSinkProcess serves a sink, prints its address and stops when stdin
// closes (when the parent test ends or dies).
func runSinkProcess() {
	raiseFileLimit(0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	k := newSink(ln)
	fmt.Println(ln.Addr())
	io.Copy(io.Discard, os.Stdin)
	k.Close()
	os.Exit(0)
}
