package access

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/acme/landing-zone/internal/fastload"
)

// The answer cache: the engine's answer to a request is a pure function of
// the engine (simulate.mjs, the installed @cloud-copilot packages, Node),
// the environment simulate.mjs reads, the request and the documents of the
// policies it names. Each request's key is a SHA-256 over all of them, so
// a synth whose policies did not change finds every answer under its key
// and starts no engine process, and a changed policy misses exactly for
// the requests that name it.
//
// The answers live in one file, <dir>/iam-proof-answers.bin, where dir is
// LZ_FASTLOAD_CACHE, else the user cache directory's landing-zone (beside
// fastload's preload: the bench's empty-cache variant empties both).
// LZ_ACCESS_CACHE=0 turns the cache off. The file is rewritten after each
// run, newest entries first: this run's keys, then
// those of earlier runs not asked again, at most maxCacheEntries in all.
// Keeping earlier runs' entries lets configs take turns (the tests synth
// several fixtures in one process, CI may plan several configs on one
// machine) without evicting each other, while the bound keeps the file
// small: 33 bytes an entry plus its answer, stored once however many
// entries share it (the example's 2,208 requests: 200 KB; the bound, about
// nine such configs: 2 MB, read and indexed in a few milliseconds, while
// the requests are keyed). A run whose answers were all there and first
// leaves the file as it is.

// cacheFormat names the key's make-up and the file's layout: change it
// whenever either changes, so that old files and keys are never read as
// new ones.
const cacheFormat = "lz-iam-proof-answers 1\n"

// cacheFileName is the cache's file in the cache directory.
const cacheFileName = "iam-proof-answers.bin"

// maxCacheEntries bounds the file (oldest runs' entries dropped first).
var maxCacheEntries = 20000

// enginePackages are the packages whose installed versions key the
// answers: the engine and what it loads.
var enginePackages = []string{"iam-simulate", "iam-policy", "iam-data", "iam-utils"}

// scriptEnv are the environment variables simulate.mjs reads.
var scriptEnv = []string{"LZ_ACCESS_PLAIN"}

// cacheKey is a request's key (a variable so that a test can show what a
// key that left something out would answer).
var cacheKey = requestKey

// cacheStats are the last simulate's cache figures, for tests and the
// figures: how many answers were found, how many the engine was asked, and
// the time to read the file and key every request.
var cacheStats struct {
	Hits, Asked int
	Lookup      time.Duration
}

// engineRuns counts engine processes started (runEngine).
var engineRuns int64

// engineVersions are installedVersions' answers, by root.
var (
	engineVersionsMu sync.Mutex
	engineVersions   = map[string]string{}
)

// installedVersions reads the engine packages' versions once per process
// (per root): "" if one is missing, and then nothing is cached.
func installedVersions(root string) string {
	engineVersionsMu.Lock()
	defer engineVersionsMu.Unlock()
	memo := engineVersions
	if v, ok := memo[root]; ok {
		return v
	}
	var b bytes.Buffer
	for _, p := range enginePackages {
		raw, err := os.ReadFile(filepath.Join(root, "node_modules/@cloud-copilot", p, "package.json"))
		var pkg struct {
			Version string `json:"version"`
		}
		if err != nil || json.Unmarshal(raw, &pkg) != nil || pkg.Version == "" {
			memo[root] = ""
			return ""
		}
		fmt.Fprintf(&b, "@cloud-copilot/%s@%s\n", p, pkg.Version)
	}
	memo[root] = b.String()
	return memo[root]
}

// keyInputs is what every key of one simulate shares: the engine's
// identity (prefix) and each named policy document's hash.
type keyInputs struct {
	prefix [32]byte
	docs   map[string][32]byte
	buf    []byte // requestKey's, reused
}

// newKeyInputs hashes the engine's identity and the policy documents, or
// returns nil if the engine's versions cannot be read.
func newKeyInputs(root string, policies map[string]any) (*keyInputs, error) {
	versions := installedVersions(root)
	if versions == "" {
		return nil, nil
	}
	h := sha256.New()
	field(h, []byte(cacheFormat))
	field(h, []byte(simulateScript))
	field(h, []byte(versions))
	// The Node that runs the engine: its path, size and time.
	node := nodeBinary(root)
	if p, err := exec.LookPath(node); err == nil {
		node = p
	}
	if fi, err := os.Stat(node); err == nil {
		field(h, fmt.Appendf(nil, "%s %d %d", node, fi.Size(), fi.ModTime().UnixNano()))
	} else {
		field(h, []byte(node))
	}
	for _, v := range scriptEnv {
		val, set := os.LookupEnv(v)
		field(h, fmt.Appendf(nil, "%s %t %s", v, set, val))
	}
	k := &keyInputs{docs: make(map[string][32]byte, len(policies))}
	h.Sum(k.prefix[:0])
	for id, doc := range policies {
		b, err := json.Marshal(doc) // as simulate sends it: map keys sorted
		if err != nil {
			return nil, err
		}
		k.docs[id] = sha256.Sum256(b)
	}
	return k, nil
}

// requestKey is a request's key: the shared prefix, every field of the
// request and the hash of every document it names (identity policies,
// resource policy, each SCP level's policies), in order; a named id
// without a document counts as absent. The fields are written framed, as
// json.Marshal would say them but without its reflection (a third of the
// cost); TestCacheKeyCoversEveryRequestField fails if a field of request
// changes no key.
func requestKey(k *keyInputs, r request) ([32]byte, error) {
	b := k.buf[:0]
	b = append(b, k.prefix[:]...)
	for _, s := range []string{r.Principal, r.Action, r.Resource, r.Account, r.ResourcePolicy} {
		b = appendField(b, s)
	}
	b = binary.AppendUvarint(b, uint64(len(r.Context)))
	if len(r.Context) > 0 {
		names := make([]string, 0, len(r.Context))
		for n := range r.Context {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			b = appendField(b, n)
			if v, ok := r.Context[n].(string); ok {
				b = append(b, 's')
				b = appendField(b, v)
				continue
			}
			j, err := json.Marshal(r.Context[n])
			if err != nil {
				return [32]byte{}, err
			}
			b = append(b, 'j')
			b = appendField(b, string(j))
		}
	}
	for _, l := range [][]string{r.Identity, r.RawKeys} {
		b = binary.AppendUvarint(b, uint64(len(l)))
		for _, s := range l {
			b = appendField(b, s)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(r.SCPs)))
	for _, l := range r.SCPs {
		b = appendField(b, l.Name)
		b = binary.AppendUvarint(b, uint64(len(l.Policies)))
		for _, s := range l.Policies {
			b = appendField(b, s)
		}
	}
	// The documents, after every id.
	for _, id := range namedPolicies(r) {
		if d, ok := k.docs[id]; ok {
			b = append(b, 1)
			b = append(b, d[:]...)
		} else {
			b = append(b, 0)
		}
	}
	k.buf = b
	return sha256.Sum256(b), nil
}

func appendField(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// namedPolicies are the ids of every policy a request names, the fields
// simulate.mjs reads policies for.
func namedPolicies(r request) []string {
	ids := append([]string(nil), r.Identity...)
	if r.ResourcePolicy != "" {
		ids = append(ids, r.ResourcePolicy)
	}
	for _, l := range r.SCPs {
		ids = append(ids, l.Policies...)
	}
	return ids
}

// field writes b framed by its length, so that fields cannot run into
// each other.
func field(h hash.Hash, b []byte) {
	var n [binary.MaxVarintLen64]byte
	h.Write(n[:binary.PutUvarint(n[:], uint64(len(b)))])
	h.Write(b)
}

// cacheDir is where fastload keeps its caches (LZ_FASTLOAD_CACHE, else
// the user cache directory's landing-zone).
func cacheDir() string { return fastload.CacheDir() }

func cacheEnabled() bool { return os.Getenv("LZ_ACCESS_CACHE") != "0" }

// answerCache is the cache file's contents: entries newest first, each
// naming one of the distinct answers (encodeAnswer).
type answerCache struct {
	answers [][]byte
	keys    [][32]byte
	index   []uint32
	at      map[[32]byte]int // key → entry
	decoded []*answer        // lookup's, by answer number
}

// readCache reads the cache file; a missing, unreadable or corrupt file
// is an empty cache.
func readCache(path string) *answerCache {
	c := &answerCache{at: map[[32]byte]int{}}
	b, err := os.ReadFile(path)
	if err != nil {
		return c
	}
	if parsed, err := parseCache(b); err == nil {
		return parsed
	}
	return c
}

var errCorrupt = errors.New("corrupt answer cache")

// The file: cacheFormat; the distinct answers (count, then each one's
// length and encodeAnswer); the entries (count, then each one's key and answer
// number); a CRC-32 of all of that.
func parseCache(b []byte) (*answerCache, error) {
	if len(b) < len(cacheFormat)+4 || string(b[:len(cacheFormat)]) != cacheFormat {
		return nil, errCorrupt
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return nil, errCorrupt
	}
	r := &fieldReader{body[len(cacheFormat):]}
	na, ok := r.next()
	if !ok || na > uint64(len(r.b)) {
		return nil, errCorrupt
	}
	c := &answerCache{answers: make([][]byte, na)}
	for i := range c.answers {
		if c.answers[i], ok = r.field(); !ok {
			return nil, errCorrupt
		}
	}
	ne, ok := r.next()
	if !ok || ne > uint64(len(r.b))/33 {
		return nil, errCorrupt
	}
	c.keys, c.index, c.at = make([][32]byte, ne), make([]uint32, ne), make(map[[32]byte]int, ne)
	for i := range c.keys {
		if len(r.b) < 32 {
			return nil, errCorrupt
		}
		copy(c.keys[i][:], r.b)
		r.b = r.b[32:]
		a, ok := r.next()
		if !ok || a >= na {
			return nil, errCorrupt
		}
		c.index[i] = uint32(a)
		c.at[c.keys[i]] = i
	}
	if len(r.b) != 0 {
		return nil, errCorrupt
	}
	return c, nil
}

// fieldReader reads what binary.AppendUvarint and appendField wrote.
type fieldReader struct{ b []byte }

func (r *fieldReader) next() (uint64, bool) {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		return 0, false
	}
	r.b = r.b[n:]
	return v, true
}

// field reads a length-prefixed field.
func (r *fieldReader) field() ([]byte, bool) {
	n, ok := r.next()
	if !ok || n > uint64(len(r.b)) {
		return nil, false
	}
	f := r.b[:n]
	r.b = r.b[n:]
	return f, true
}

// lookup returns the answer stored under key.
func (c *answerCache) lookup(key [32]byte) (answer, bool) {
	i, ok := c.at[key]
	if !ok {
		return answer{}, false
	}
	n := c.index[i]
	if c.decoded == nil {
		c.decoded = make([]*answer, len(c.answers))
	}
	if c.decoded[n] == nil {
		a, ok := decodeAnswer(c.answers[n])
		if !ok {
			return answer{}, false
		}
		c.decoded[n] = &a
	}
	a := *c.decoded[n]
	a.DecidedBy = slices.Clone(a.DecidedBy) // nil stays nil
	return a, true
}

// encodeAnswer writes an answer as framed strings: result, detail, then
// decidedBy's length plus one (0: none, as JSON's null) and its items.
func encodeAnswer(a answer) []byte {
	b := appendField(appendField(nil, a.Result), a.Detail)
	if a.DecidedBy == nil {
		return append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(a.DecidedBy))+1)
	for _, s := range a.DecidedBy {
		b = appendField(b, s)
	}
	return b
}

func decodeAnswer(b []byte) (answer, bool) {
	r := &fieldReader{b}
	str := func() (string, bool) {
		f, ok := r.field()
		return string(f), ok
	}
	var a answer
	var ok bool
	if a.Result, ok = str(); !ok {
		return a, false
	}
	if a.Detail, ok = str(); !ok {
		return a, false
	}
	n, ok := r.next()
	if !ok || n > uint64(len(r.b))+1 {
		return a, false
	}
	if n > 0 {
		a.DecidedBy = make([]string, n-1)
		for i := range a.DecidedBy {
			if a.DecidedBy[i], ok = str(); !ok {
				return a, false
			}
		}
	}
	return a, len(r.b) == 0
}

// write stores this run's answers (keys[i] → out[i]; answers that are
// errors are left out) first, then the older entries not among them, at
// most maxCacheEntries, atomically (a temporary file renamed over the old
// one). It returns no error: a cache that cannot be written only costs
// speed.
func (c *answerCache) write(path string, keys [][32]byte, out []answer) {
	var body bytes.Buffer
	body.WriteString(cacheFormat)
	distinct := map[string]uint32{}
	var answers [][]byte
	var entryKeys [][32]byte
	var entryIndex []uint32
	seen := map[[32]byte]bool{}
	add := func(key [32]byte, a []byte) {
		if seen[key] || len(entryKeys) >= maxCacheEntries {
			return
		}
		seen[key] = true
		n, ok := distinct[string(a)]
		if !ok {
			n = uint32(len(answers))
			distinct[string(a)] = n
			answers = append(answers, a)
		}
		entryKeys, entryIndex = append(entryKeys, key), append(entryIndex, n)
	}
	for i, key := range keys {
		if out[i].Result == "Error" {
			continue
		}
		add(key, encodeAnswer(out[i]))
	}
	for i, key := range c.keys {
		add(key, c.answers[c.index[i]])
	}
	var n [binary.MaxVarintLen64]byte
	uvarint := func(v uint64) { body.Write(n[:binary.PutUvarint(n[:], v)]) }
	uvarint(uint64(len(answers)))
	for _, a := range answers {
		uvarint(uint64(len(a)))
		body.Write(a)
	}
	uvarint(uint64(len(entryKeys)))
	for i, key := range entryKeys {
		body.Write(key[:])
		uvarint(uint64(entryIndex[i]))
	}
	binary.LittleEndian.PutUint32(n[:4], crc32.ChecksumIEEE(body.Bytes()))
	body.Write(n[:4])

	_ = fastload.WriteFileAtomic(path, body.Bytes()) // a cache that cannot be written costs only speed
}

// current reports whether the file already holds keys, answered, as its
// newest entries in this order (a run that found every answer then leaves
// the file as it is).
func (c *answerCache) current(keys [][32]byte) bool {
	if len(keys) > len(c.keys) {
		return false
	}
	for i, k := range keys {
		if c.keys[i] != k {
			return false
		}
	}
	return true
}
