package durable

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// DefaultJournalBytes is the size of the preallocated journal. A checkpoint
// happens each time it fills.
const DefaultJournalBytes = 8 << 20

const (
	journalName       = "mailcheck-journal"
	journalHeaderSize = 4096
	journalMagic      = "MCJOURN1"
	recordMagic       = 0x4d434a52 // "MCJR"
	recordHeaderSize  = 20         // magic, length, generation, crc
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

type opKind byte

const (
	opWrite opKind = iota + 1
	opRename
	opRemove
)

// op is one file-system change: written to the journal, then applied.
type op struct {
	kind opKind
	path string   // the file written, the rename target, the file removed
	from string   // rename source
	tmp  string   // write: temporary name to write before the rename
	data [][]byte // write: content
	req  *request
	// published is File.Published, called after a successful apply.
	published func(final string)
	// err is the outcome, set before req hears of it.
	err error
}

// request is one caller waiting for its ops.
type request struct {
	mu        sync.Mutex
	remaining int
	err       error
	done      chan struct{}
}

func (r *request) finish(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil && r.err == nil {
		r.err = err
	}
	r.remaining--
	if r.remaining == 0 {
		close(r.done)
	}
}

// journal is the write-ahead log of a journaled Committer. One goroutine
// (run) takes every pending op, appends them all to the journal with one
// write and one fdatasync, applies them in order, and then wakes their
// callers: the group commit.
type journal struct {
	root string // paths in records are relative to root
	file *os.File
	size int64

	mu      sync.Mutex
	cond    *sync.Cond
	pending []*op
	closed  bool
	stopped chan struct{}

	// unnamed supplies ready inodes for writes; nil where unsupported.
	unnamed *unnamedPool

	// applied, when set (tests), is called after each op is applied.
	applied func(path string)
	fs      FS

	// Owned by run.
	generation uint64
	offset     int64
	buf        []byte
	// mustCheckpoint is set when the journal past offset may hold records
	// of the current generation that were refused (a failed append) or
	// when a checkpoint failed half-way: no record may be appended until
	// a checkpoint starts a new generation.
	mustCheckpoint bool
}

// Open returns a journaled Committer for files under root, keeping its
// journal in root. It first replays what the journal holds since the last
// checkpoint, so every change committed before a crash is on disk before
// anything else reads it. size 0 means DefaultJournalBytes. Where the
// platform lacks what journaling needs, Open returns a direct Committer.
func Open(root string, size int64) (*Committer, error) {
	return OpenWith(root, Options{JournalBytes: size})
}

// Options configure OpenWith.
type Options struct {
	// JournalBytes is the size of the journal; 0 means DefaultJournalBytes.
	JournalBytes int64
	// Direct asks for direct mode where journaling is supported too.
	Direct bool
	// FS is the file system the Committer changes. Default: OSFS.
	FS FS
}

// OpenWith is Open with options.
func OpenWith(root string, opts Options) (*Committer, error) {
	if opts.FS == nil {
		opts.FS = OSFS{}
	}
	c := newCommitter(opts.FS)
	if !journalSupported || opts.Direct {
		return c, nil
	}
	size := opts.JournalBytes
	if size <= 0 {
		size = DefaultJournalBytes
	}
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	if err := c.MkdirAll(root); err != nil {
		return nil, err
	}
	j, err := openJournal(c, root, size)
	if err != nil {
		return nil, fmt.Errorf("durable: journal: %w", err)
	}
	c.journal = j
	j.unnamed = newUnnamedPool(root, 64, c.fs)
	go j.run()
	return c, nil
}

// Close checkpoints the journal and stops it. Changes made after Close use
// direct mode.
func (c *Committer) Close() error {
	j := c.journal
	if j == nil {
		return nil
	}
	j.mu.Lock()
	j.closed = true
	j.cond.Broadcast()
	j.mu.Unlock()
	<-j.stopped
	if j.unnamed != nil {
		j.unnamed.close()
	}
	c.journal = nil
	err := j.checkpoint()
	if cerr := j.file.Close(); err == nil {
		err = cerr
	}
	return err
}

func openJournal(c *Committer, root string, size int64) (*journal, error) {
	path := filepath.Join(root, journalName)
	j := &journal{root: root, size: size, stopped: make(chan struct{}), fs: c.fs}
	j.cond = sync.NewCond(&j.mu)
	f, err := c.fs.OpenFile(path, os.O_RDWR, 0)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if f, err = createJournal(c, path, size); err != nil {
			return nil, err
		}
		j.file = f
		j.generation = 1
	case err != nil:
		return nil, err
	default:
		j.file = f
		if err := j.replay(); err != nil {
			f.Close()
			return nil, err
		}
	}
	j.offset = journalHeaderSize
	return j, nil
}

// createJournal makes the journal file with every block written (zeros), so
// that later appends overwrite allocated blocks: an fdatasync of those
// changes no file-system metadata and needs no file-system journal commit.
// The header (generation 1) is written before the file gets its name: a
// failure at any step leaves no journal, and the next start makes it anew.
func createJournal(c *Committer, path string, size int64) (*os.File, error) {
	tmp := path + ".new"
	f, err := c.fs.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	zeros := make([]byte, 1<<20)
	for written := int64(0); written < size; {
		n := min(int64(len(zeros)), size-written)
		if _, err := c.fs.WriteAt(f, zeros[:n], written); err != nil {
			f.Close()
			return nil, err
		}
		written += n
	}
	if _, err := c.fs.WriteAt(f, header(1), 0); err != nil {
		f.Close()
		return nil, err
	}
	if err := c.fs.Sync(f); err != nil {
		f.Close()
		return nil, err
	}
	if err := c.fs.Rename(tmp, path); err != nil {
		f.Close()
		return nil, err
	}
	return f, c.SyncDir(filepath.Dir(path))
}

// writeHeader commits generation gen: records of any other generation are
// ignored from then on.
func (j *journal) writeHeader(gen uint64) error {
	if _, err := j.fs.WriteAt(j.file, header(gen), 0); err != nil {
		return err
	}
	return j.fs.Datasync(j.file)
}

// header is the journal header naming generation gen.
func header(gen uint64) []byte {
	h := make([]byte, journalHeaderSize)
	copy(h, journalMagic)
	binary.LittleEndian.PutUint64(h[8:], gen)
	binary.LittleEndian.PutUint32(h[16:], crc32.Checksum(h[:16], crcTable))
	return h
}

func (j *journal) path() string { return filepath.Join(j.root, journalName) }

// replay applies, in order, every record of the current generation, then
// checkpoints. Records are idempotent: applying one twice gives the same
// files as applying it once.
func (j *journal) replay() error {
	info, err := j.file.Stat()
	if err != nil {
		return err
	}
	j.size = info.Size()
	data := make([]byte, j.size)
	if _, err := io.ReadFull(io.NewSectionReader(j.file, 0, j.size), data); err != nil {
		return err
	}
	if !slices.ContainsFunc(data, func(b byte) bool { return b != 0 }) {
		// Zeros throughout: made, but its header never written (before
		// createJournal wrote the header first, a failure could leave
		// this). No record can have been committed: start afresh.
		if err := j.writeHeader(1); err != nil {
			return err
		}
		j.generation = 1
		return nil
	}
	if len(data) < journalHeaderSize || string(data[:8]) != journalMagic ||
		crc32.Checksum(data[:16], crcTable) != binary.LittleEndian.Uint32(data[16:]) {
		return fmt.Errorf("%s: corrupt journal header; refusing to start rather than lose mail", j.path())
	}
	j.generation = binary.LittleEndian.Uint64(data[8:])
	for off := journalHeaderSize; ; {
		o, n := decodeRecord(data[off:], j.generation)
		if o == nil {
			break // end of this generation's records, or a torn last write
		}
		off += n
		o.path = filepath.Join(j.root, o.path)
		if o.from != "" {
			o.from = filepath.Join(j.root, o.from)
		}
		if o.kind == opWrite {
			o.tmp = filepath.Join(filepath.Dir(o.path), ".replay-"+filepath.Base(o.path))
		}
		if err := o.apply(nil, j.fs); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				// The change failed this way when it was made too (a
				// rename of a file already gone), or its directory was
				// removed since (a deleted mailbox's files are removed
				// outside the journal): there is nothing to redo, and
				// refusing to start would keep every other mailbox down.
				continue
			}
			return fmt.Errorf("replaying %s: %w", o.path, err)
		}
	}
	return j.checkpoint()
}

// checkpoint makes every applied change durable (syncfs) and starts a new
// generation, so the journal's records are no longer needed. The new
// generation is used only once its header is committed: records written
// under a generation the header on disk does not name would be ignored by
// a replay. A failed checkpoint leaves mustCheckpoint set.
func (j *journal) checkpoint() error {
	j.mustCheckpoint = true
	if err := j.fs.SyncFS(j.file); err != nil {
		return err
	}
	// A failed header write may still have reached the disk; the next
	// attempt writes the same generation, which no record uses yet.
	if err := j.writeHeader(j.generation + 1); err != nil {
		return err
	}
	j.generation++
	j.offset = journalHeaderSize
	j.mustCheckpoint = false
	return nil
}

// fits reports whether files are small enough for the journal; bigger
// writes go the direct way.
func (j *journal) fits(files []File) bool {
	var n int64
	for _, f := range files {
		n += recordHeaderSize + 2*int64(len(f.TmpPath)) + 16
		for _, chunk := range f.Data {
			n += int64(len(chunk))
		}
	}
	return n <= (j.size-journalHeaderSize)/4
}

// write is Committer.Write through the journal.
func (j *journal) write(files []File) ([]string, error) {
	req := &request{remaining: len(files), done: make(chan struct{})}
	ops := make([]*op, len(files))
	for i, file := range files {
		// Name and queue each file under its Locker, so files named in order
		// are applied in that order.
		if file.Locker != nil {
			file.Locker.Lock()
		}
		final, err := file.FinalName()
		if err == nil {
			ops[i] = &op{kind: opWrite, path: final, tmp: file.TmpPath, data: file.Data, req: req, published: file.Published}
			err = j.enqueue(ops[i])
		}
		if file.Locker != nil {
			file.Locker.Unlock()
		}
		if err != nil {
			// Ops already queued still complete; wait for them, so the
			// caller knows which files exist.
			for range files[i:] {
				req.finish(err)
			}
			<-req.done
			return finalsOf(ops[:i]), err
		}
	}
	<-req.done
	return finalsOf(ops), req.err
}

// finalsOf returns the paths of the ops that were applied: the files now
// visible, which a caller refusing the whole write must take back.
func finalsOf(ops []*op) []string {
	var out []string
	for _, o := range ops {
		if o.err == nil {
			out = append(out, o.path)
		}
	}
	return out
}

// commit queues ops and waits until they are durable and applied.
func (j *journal) commit(ops []*op) error {
	req := &request{remaining: len(ops), done: make(chan struct{})}
	for _, o := range ops {
		o.req = req
		if err := j.enqueue(o); err != nil {
			req.finish(err)
		}
	}
	<-req.done
	return req.err
}

var errClosed = errors.New("durable: committer closed")

func (j *journal) enqueue(o *op) error {
	for _, p := range []string{o.path, o.from} {
		if p != "" && !strings.HasPrefix(p, j.root+string(filepath.Separator)) {
			return fmt.Errorf("durable: %s is outside the journaled tree %s", p, j.root)
		}
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return errClosed
	}
	j.pending = append(j.pending, o)
	j.cond.Signal()
	return nil
}

// run is the group-commit loop.
func (j *journal) run() {
	defer close(j.stopped)
	var batch []*op
	for {
		j.mu.Lock()
		for len(j.pending) == 0 && !j.closed {
			j.cond.Wait()
		}
		if len(j.pending) == 0 {
			j.mu.Unlock()
			return
		}
		batch, j.pending = j.pending, batch[:0]
		j.mu.Unlock()

		err := j.append(batch)
		failed := err != nil
		for _, o := range batch {
			o.err = err
			if err == nil {
				o.err = o.apply(j.unnamed, j.fs)
				if o.err == nil && o.published != nil {
					o.published(o.path)
				}
				failed = failed || o.err != nil
			}
			if j.applied != nil {
				j.applied(o.path)
			}
		}
		if failed {
			// The journal holds records of changes about to be refused:
			// a failed append may have written them whole, and a failed
			// apply follows a committed record. A checkpoint retires them
			// before the callers hear of the failure, so a crash cannot
			// bring back a change that was refused (the client sends a
			// refused message again: it would be stored twice). If the
			// checkpoint fails too, mustCheckpoint holds every later
			// append until one succeeds; only a crash before then can
			// replay them, a duplicate at worst, never a loss.
			j.checkpoint()
		}
		for i, o := range batch {
			o.req.finish(o.err)
			batch[i] = nil
		}
	}
}

// append writes the batch's records at the end of the journal with one
// write and one fdatasync, checkpointing first when it would not fit or
// when the journal must be reset after a failure.
func (j *journal) append(batch []*op) error {
	buf := j.encode(batch)
	if j.mustCheckpoint || j.offset+int64(len(buf)) > j.size {
		if err := j.checkpoint(); err != nil {
			return err
		}
		// Encoded again: records must carry the generation the header
		// now names, or a replay stops at them.
		buf = j.encode(batch)
		if j.offset+int64(len(buf)) > j.size {
			return errors.New("durable: batch larger than the journal")
		}
	}
	// From here a failure may leave records of this generation behind
	// offset, whole or torn; they must never precede a later batch's
	// records in a replay.
	if _, err := j.fs.WriteAt(j.file, buf, j.offset); err != nil {
		j.mustCheckpoint = true
		return err
	}
	if err := j.fs.Datasync(j.file); err != nil {
		j.mustCheckpoint = true
		return err
	}
	j.offset += int64(len(buf))
	return nil
}

// encode returns the batch's records, in j.buf's storage.
func (j *journal) encode(batch []*op) []byte {
	buf := j.buf[:0]
	for _, o := range batch {
		buf = j.appendRecord(buf, o)
	}
	j.buf = buf
	return buf
}

// appendRecord encodes o: magic, payload length, generation, CRC-32C of
// generation and payload, then the payload: kind, path, [from], [data].
func (j *journal) appendRecord(buf []byte, o *op) []byte {
	start := len(buf)
	buf = append(buf, make([]byte, recordHeaderSize)...)
	buf = append(buf, byte(o.kind))
	buf = appendString(buf, j.rel(o.path))
	switch o.kind {
	case opRename:
		buf = appendString(buf, j.rel(o.from))
	case opWrite:
		var n int
		for _, c := range o.data {
			n += len(c)
		}
		buf = binary.AppendUvarint(buf, uint64(n))
		for _, c := range o.data {
			buf = append(buf, c...)
		}
	}
	h := buf[start : start+recordHeaderSize]
	binary.LittleEndian.PutUint32(h[0:], recordMagic)
	binary.LittleEndian.PutUint32(h[4:], uint32(len(buf)-start-recordHeaderSize))
	binary.LittleEndian.PutUint64(h[8:], j.generation)
	crc := crc32.Update(crc32.Checksum(h[8:16], crcTable), crcTable, buf[start+recordHeaderSize:])
	binary.LittleEndian.PutUint32(h[16:], crc)
	return buf
}

func (j *journal) rel(path string) string {
	return strings.TrimPrefix(path, j.root+string(filepath.Separator))
}

func appendString(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

// decodeRecord decodes the record at the start of b if it is whole, intact
// and of generation gen; otherwise it returns nil.
func decodeRecord(b []byte, gen uint64) (*op, int) {
	if len(b) < recordHeaderSize || binary.LittleEndian.Uint32(b) != recordMagic ||
		binary.LittleEndian.Uint64(b[8:]) != gen {
		return nil, 0
	}
	n := int(binary.LittleEndian.Uint32(b[4:]))
	if n > len(b)-recordHeaderSize {
		return nil, 0
	}
	payload := b[recordHeaderSize : recordHeaderSize+n]
	if crc32.Update(crc32.Checksum(b[8:16], crcTable), crcTable, payload) != binary.LittleEndian.Uint32(b[16:]) {
		return nil, 0
	}
	o := &op{kind: opKind(payload[0])}
	rest := payload[1:]
	var ok bool
	if o.path, rest, ok = readString(rest); !ok {
		return nil, 0
	}
	switch o.kind {
	case opRename:
		if o.from, _, ok = readString(rest); !ok {
			return nil, 0
		}
	case opWrite:
		size, k := binary.Uvarint(rest)
		if k <= 0 || uint64(len(rest)-k) < size {
			return nil, 0
		}
		o.data = [][]byte{rest[k : k+int(size)]}
	case opRemove:
	default:
		return nil, 0
	}
	return o, recordHeaderSize + n
}

func readString(b []byte) (string, []byte, bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < n {
		return "", nil, false
	}
	return string(b[k : k+int(n)]), b[k+int(n):], true
}

// apply makes the change in the file system, without fsync: the journal
// holds it until the next checkpoint.
func (o *op) apply(unnamed *unnamedPool, fsys FS) error {
	switch o.kind {
	case opWrite:
		if f, ok := unnamed.get(); ok {
			err := writeChunks(fsys, f, o.data)
			if err == nil {
				err = fsys.Link(f, o.path)
				if errors.Is(err, os.ErrExist) {
					// Replaying a write whose file exists: replace it.
					if err = fsys.Remove(o.path); err == nil {
						err = fsys.Link(f, o.path)
					}
				}
			}
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err == nil || !errors.Is(err, errors.ErrUnsupported) && !errors.Is(err, os.ErrNotExist) {
				return err
			}
			// No /proc to link through: fall back to a temporary name.
		}
		f, err := fsys.OpenFile(o.tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		if err := writeChunks(fsys, f, o.data); err != nil {
			f.Close()
			fsys.Remove(o.tmp)
			return err
		}
		if err := f.Close(); err != nil {
			fsys.Remove(o.tmp)
			return err
		}
		if err := fsys.Rename(o.tmp, o.path); err != nil {
			fsys.Remove(o.tmp)
			return err
		}
		return nil
	case opRename:
		err := fsys.Rename(o.from, o.path)
		if errors.Is(err, os.ErrNotExist) {
			if _, statErr := os.Stat(o.path); statErr == nil {
				return nil // already renamed: replaying a record twice
			}
		}
		return err
	case opRemove:
		if err := fsys.Remove(o.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}
