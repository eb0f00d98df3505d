package durable

import (
	"os"
	"sync"
)

// unnamedPool keeps unnamed files (O_TMPFILE) open and ready, created by a
// background goroutine. Creating an inode is the costliest step of applying
// a write on ext4 (often 100 µs or more of kernel time), and the commit loop
// is serial: taking a ready inode moves that cost off the path every
// acknowledgement waits on, onto an otherwise idle core.
type unnamedPool struct {
	dir   string
	fs    FS
	ready chan *os.File
	want  chan struct{}
	stop  chan struct{}
	wg    sync.WaitGroup
}

func newUnnamedPool(dir string, size int, fsys FS) *unnamedPool {
	f, err := fsys.OpenUnnamed(dir)
	if err != nil {
		return nil // not supported here
	}
	f.Close()
	p := &unnamedPool{dir: dir, fs: fsys, ready: make(chan *os.File, size), want: make(chan struct{}, 1), stop: make(chan struct{})}
	p.wg.Add(1)
	go p.fill()
	return p
}

func (p *unnamedPool) fill() {
	defer p.wg.Done()
	for {
		for len(p.ready) < cap(p.ready) {
			f, ok := p.open()
			if !ok {
				// No inode to be had now (a full disk): try again when
				// the next one is wanted, so the pool recovers with the
				// disk instead of staying empty for good.
				break
			}
			select {
			case p.ready <- f:
			case <-p.stop:
				f.Close()
				return
			}
		}
		select {
		case <-p.want:
		case <-p.stop:
			return
		}
	}
}

// get returns a ready unnamed file, or opens one if none is ready. A nil
// pool has none.
func (p *unnamedPool) get() (*os.File, bool) {
	if p == nil {
		return nil, false
	}
	defer p.wake()
	select {
	case f := <-p.ready:
		return f, true
	default:
		return p.open()
	}
}

// wake asks fill for more, without waiting.
func (p *unnamedPool) wake() {
	select {
	case p.want <- struct{}{}:
	default:
	}
}

// open opens one unnamed file in the pool's directory.
func (p *unnamedPool) open() (*os.File, bool) {
	f, err := p.fs.OpenUnnamed(p.dir)
	return f, err == nil
}

func (p *unnamedPool) close() {
	close(p.stop)
	p.wg.Wait()
	for {
		select {
		case f := <-p.ready:
			f.Close()
		default:
			return
		}
	}
}
