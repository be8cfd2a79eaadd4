package compiler

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/bic-dev/bic/schema"
)

// cacheFormat names the layout of cache entries and what the compiler
// puts in them; change it whenever either changes, and every entry
// written before is a miss. The bic version is the cache's own to add
// (cmd/bic keeps entries of each version apart).
const cacheFormat = "bic compiler file cache 3"

// entryMagic starts every entry.
var entryMagic = []byte("bicfc3\n")

// schemaDigest is the part of every key that stands for the compiler and
// the schema.
func schemaDigest() [sha256.Size]byte {
	h := sha256.New()
	for _, s := range []string{cacheFormat, schema.Version, schema.Source} {
		writeLenPrefixed(h, []byte(s))
	}
	var d [sha256.Size]byte
	h.Sum(d[:0])
	return d
}

func writeLenPrefixed(h interface{ Write([]byte) (int, error) }, b []byte) {
	var n [binary.MaxVarintLen64]byte
	h.Write(n[:binary.PutUvarint(n[:], uint64(len(b)))])
	h.Write(b)
}

// fileKey is the content address of what the compiler makes of one YAML
// file: its path (diagnostics name it), its bytes, the schema and this
// compiler.
func fileKey(digest [sha256.Size]byte, file string, src []byte) string {
	h := sha256.New()
	h.Write(digest[:])
	writeLenPrefixed(h, []byte(file))
	writeLenPrefixed(h, src)
	return hex.EncodeToString(h.Sum(nil))
}

// fileEntry is what the load and schema stages made of one YAML file.
type fileEntry struct {
	diags   []Diagnostic // parsing's
	aliases int
	docs    []*Node // as identifyYAML left them
	checks  []objectCheck
	// objects names the object of each document, when every document
	// defines one: the load stage then needs no tree, and a decoded
	// entry's trees (lazy) are decoded only when a later stage asks.
	objects []entryObject
	lazy    *lazyDocs
}

// entryObject is what identifyYAML found in one document.
type entryObject struct {
	kind    Kind
	name    string
	namePos Pos
}

// objectCheck is the schema stage's verdict on one object of the file, in
// the order of its documents.
type objectCheck struct {
	result checkResult
	diags  []Diagnostic
}

// maxCachedAliases: a file whose aliases expand to more values is not
// cached, since its entry would hold every expansion.
const maxCachedAliases = 10_000

var errEntry = errors.New("not a valid cache entry")

// encodeEntry writes e for key; ok is false when e cannot be cached (a
// position in another file, a limit that depends on timing).
func encodeEntry(key, file string, e *fileEntry) (b []byte, ok bool) {
	w := newSealed(entryMagic, key, file)
	w.diags(e.diags)
	w.uint(uint64(e.aliases))
	w.uint(uint64(len(e.checks)))
	for _, c := range e.checks {
		w.uint(uint64(c.result))
		w.diags(c.diags)
	}
	w.uint(uint64(len(e.objects)))
	for _, o := range e.objects {
		w.str(string(o.kind))
		w.str(o.name)
		w.pos(o.namePos)
	}
	// The trees go last, after their length: a reader that leaves them
	// for later still knows the entry ends where it should.
	trees := entryWriter{file: file, ok: true}
	for _, d := range e.docs {
		trees.node(d, 0)
	}
	w.uint(uint64(trees.nodes))
	w.uint(uint64(len(e.docs)))
	w.uint(uint64(trees.buf.Len()))
	w.buf.Write(trees.buf.Bytes())
	if !w.ok || !trees.ok {
		return nil, false
	}
	return w.seal(), true
}

// newSealed starts a value of the cache: its magic, then the key it is
// written for; seal ends it with its checksum, and openSealed checks both.
func newSealed(magic []byte, key, file string) *entryWriter {
	w := &entryWriter{file: file, ok: true}
	w.buf.Write(magic)
	w.str(key)
	return w
}

func (w *entryWriter) seal() []byte {
	sum := sha256.Sum256(w.buf.Bytes())
	w.buf.Write(sum[:])
	return w.buf.Bytes()
}

// openSealed returns a reader of b after its key when b is a value sealed
// with magic for key, its checksum right; ok is false for anything else.
// Every string read is a piece of one copy of b.
func openSealed(magic []byte, key, file string, b []byte) (r entryReader, ok bool) {
	if len(b) < len(magic)+sha256.Size || !bytes.HasPrefix(b, magic) {
		return entryReader{}, false
	}
	body, sum := b[:len(b)-sha256.Size], b[len(b)-sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return entryReader{}, false
	}
	r = entryReader{b: body, text: string(body), pos: len(magic), file: file}
	return r, r.str() == key && r.err == nil
}

type entryWriter struct {
	buf   bytes.Buffer
	file  string
	ok    bool
	nodes int // trees' nodes written
}

func (w *entryWriter) uint(v uint64) {
	var n [binary.MaxVarintLen64]byte
	w.buf.Write(n[:binary.PutUvarint(n[:], v)])
}

func (w *entryWriter) int(v int64) {
	var n [binary.MaxVarintLen64]byte
	w.buf.Write(n[:binary.PutVarint(n[:], v)])
}

func (w *entryWriter) str(s string) {
	w.uint(uint64(len(s)))
	w.buf.WriteString(s)
}

// pos writes a position in the entry's file (or none); any other file
// makes the entry one not to cache.
func (w *entryWriter) pos(p Pos) {
	switch p.File {
	case "":
		w.buf.WriteByte(0)
	case w.file:
		w.buf.WriteByte(1)
	default:
		w.ok = false
		return
	}
	w.int(int64(p.Line))
	w.int(int64(p.Col))
}

func (w *entryWriter) diags(ds []Diagnostic) {
	w.uint(uint64(len(ds)))
	for _, d := range ds {
		if d.Code == CodeLimit {
			w.ok = false // a timeout: the next run may finish
		}
		w.pos(d.Pos)
		w.uint(uint64(d.Severity))
		w.str(d.Code)
		w.str(d.Message)
	}
}

func (w *entryWriter) node(n *Node, depth int) {
	if depth > maxDepth+2 {
		w.ok = false
		return
	}
	w.nodes++
	w.buf.WriteByte(byte(n.Kind))
	w.pos(n.Pos)
	w.pos(n.KeyPos)
	switch n.Kind {
	case KindMap:
		w.uint(uint64(len(n.Keys)))
		for i, k := range n.Keys {
			w.str(k)
			w.node(n.Values[i], depth+1)
		}
	case KindList:
		w.uint(uint64(len(n.Items)))
		for _, it := range n.Items {
			w.node(it, depth+1)
		}
	case KindString:
		w.str(n.Str)
	case KindInt:
		w.int(n.Int)
	case KindFloat:
		w.uint(math.Float64bits(n.Float))
	case KindBool:
		w.bool(n.Bool)
	}
}

func (w *entryWriter) bool(v bool) {
	if v {
		w.buf.WriteByte(1)
	} else {
		w.buf.WriteByte(0)
	}
}

// decodeEntry reads an entry written for key, trusting nothing: the
// checksum, the key it names and every length are checked, and any
// mismatch makes it a miss. When the entry names every document's object,
// the trees are left to decode on first use (see lazyDocs); src is the
// file's text, parsed again (within timeout) should they not decode.
func decodeEntry(key, file string, b, src []byte, timeout time.Duration) (*fileEntry, error) {
	r, ok := openSealed(entryMagic, key, file, b)
	if !ok {
		return nil, errEntry
	}
	e := &fileEntry{}
	e.diags = r.diags()
	e.aliases = int(r.uint())
	e.checks = make([]objectCheck, r.count())
	for i := range e.checks {
		res := checkResult(r.uint())
		if res > checkFailed {
			r.err = errEntry
		}
		e.checks[i] = objectCheck{result: res, diags: r.diags()}
	}
	if n := r.count(); n > 0 {
		e.objects = make([]entryObject, n)
		for i := range e.objects {
			e.objects[i] = entryObject{kind: Kind(r.str()), name: r.str(), namePos: r.position()}
			if !slices.Contains(objectKinds, e.objects[i].kind) {
				r.fail()
			}
		}
	}
	nodes, docs, size := r.count(), r.count(), r.count()
	if r.err != nil || r.pos+size != len(r.b) {
		return nil, errEntry
	}
	z := &lazyDocs{r: r, nodes: nodes, count: docs, src: src, timeout: timeout}
	if len(e.objects) == docs && docs > 0 {
		e.lazy = z
		return e, nil
	}
	if e.docs = z.decode(); e.docs == nil && docs > 0 {
		return nil, errEntry
	}
	return e, nil
}

// lazyDocs are the trees of an entry's documents, decoded on first use:
// a compile that takes a dashboard's verdict from the cache never needs
// its tree. Safe for concurrent use.
type lazyDocs struct {
	once    sync.Once
	r       entryReader // at the first node
	nodes   int
	count   int
	src     []byte
	timeout time.Duration
	docs    []*Node
}

// doc returns document i's tree. The entry's checksum was right, so its
// trees decode unless it was forged; then the file is parsed again (its
// diagnostics were the entry's, already reported) and a document it does
// not have is null.
func (z *lazyDocs) doc(i int) *Node {
	z.once.Do(func() {
		if z.docs = z.decode(); z.docs == nil {
			z.docs, _ = parseYAMLWithin(context.Background(), z.timeout, z.r.file, z.src, &diagSink{})
			for _, d := range z.docs {
				if d.Kind == KindMap {
					dropHelpers(d)
				}
			}
		}
		// The trees hold what they need of the entry's text.
		z.r.b, z.src = nil, nil
	})
	if i >= len(z.docs) {
		return &Node{Pos: Pos{File: z.r.file, Line: 1, Col: 1}}
	}
	return z.docs[i]
}

// decode reads the trees, or returns nil when they do not decode whole.
func (z *lazyDocs) decode() []*Node {
	r := z.r
	r.slab = make([]Node, z.nodes)
	// Children of all mappings and lists: fewer than the nodes.
	r.ptrs = make([]*Node, z.nodes)
	r.keys = make([]string, z.nodes)
	docs := make([]*Node, z.count)
	for i := range docs {
		docs[i] = r.node(0)
	}
	if r.err != nil || r.pos != len(r.b) {
		return nil
	}
	return docs
}

type entryReader struct {
	b    []byte
	text string // b as a string, which every string read shares
	pos  int
	file string
	slab []Node
	ptrs []*Node
	keys []string
	err  error
}

// children takes room for c children from the reader's arenas.
func (r *entryReader) children(c int, keys bool) ([]*Node, []string) {
	if c > len(r.ptrs) || keys && c > len(r.keys) {
		r.fail()
		return nil, nil
	}
	p := r.ptrs[:c:c]
	r.ptrs = r.ptrs[c:]
	var k []string
	if keys {
		k = r.keys[:c:c]
		r.keys = r.keys[c:]
	}
	return p, k
}

func (r *entryReader) fail() { r.err = errEntry; r.pos = len(r.b) }

func (r *entryReader) uint() uint64 {
	v, n := binary.Uvarint(r.b[r.pos:])
	if n <= 0 {
		r.fail()
		return 0
	}
	r.pos += n
	return v
}

func (r *entryReader) int() int64 {
	v, n := binary.Varint(r.b[r.pos:])
	if n <= 0 {
		r.fail()
		return 0
	}
	r.pos += n
	return v
}

// count reads a number of things to come, each at least a byte long.
func (r *entryReader) count() int {
	v := r.uint()
	if v > uint64(len(r.b)-r.pos) {
		r.fail()
		return 0
	}
	return int(v)
}

func (r *entryReader) byte() byte {
	if r.pos >= len(r.b) {
		r.fail()
		return 0
	}
	c := r.b[r.pos]
	r.pos++
	return c
}

func (r *entryReader) bool() bool {
	switch r.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	r.fail()
	return false
}

func (r *entryReader) str() string {
	n := r.count()
	if r.err != nil {
		return ""
	}
	s := r.text[r.pos : r.pos+n]
	r.pos += n
	return s
}

func (r *entryReader) position() Pos {
	var p Pos
	switch r.byte() {
	case 0:
	case 1:
		p.File = r.file
	default:
		r.fail()
	}
	line, col := r.int(), r.int()
	if line < 0 || col < 0 || line > math.MaxInt32 || col > math.MaxInt32 {
		r.fail()
	}
	p.Line, p.Col = int(line), int(col)
	return p
}

func (r *entryReader) diags() []Diagnostic {
	n := r.count()
	if n == 0 {
		return nil
	}
	out := make([]Diagnostic, n)
	for i := range out {
		out[i].Pos = r.position()
		sev := r.uint()
		if sev > uint64(SeverityWarning) {
			r.fail()
		}
		out[i].Severity = Severity(sev)
		out[i].Code = r.str()
		out[i].Message = r.str()
	}
	return out
}

func (r *entryReader) node(depth int) *Node {
	if depth > maxDepth+2 || len(r.slab) == 0 {
		r.fail()
		return &Node{}
	}
	n := &r.slab[0]
	r.slab = r.slab[1:]
	n.Kind = NodeKind(r.byte())
	n.Pos = r.position()
	n.KeyPos = r.position()
	switch n.Kind {
	case KindNull:
	case KindMap:
		c := r.count()
		n.Values, n.Keys = r.children(c, true)
		for i := range n.Values {
			n.Keys[i] = r.str()
			n.Values[i] = r.node(depth + 1)
		}
	case KindList:
		c := r.count()
		n.Items, _ = r.children(c, false)
		if n.Items == nil {
			n.Items = []*Node{}
		}
		for i := range n.Items {
			n.Items[i] = r.node(depth + 1)
		}
	case KindString:
		n.Str = r.str()
	case KindInt:
		n.Int = r.int()
	case KindFloat:
		n.Float = math.Float64frombits(r.uint())
	case KindBool:
		n.Bool = r.bool()
	default:
		r.fail()
	}
	return n
}
