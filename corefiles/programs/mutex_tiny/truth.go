// Shared ground-truth helper of the goautopsy core corpus.
//
// The master copy is corefiles/programs/_common/truth.go. generate.sh copies it
// into every case directory before building, so each case stays a standalone
// module (go build works in the case directory). Edit the master, not a copy.
//
// Only APIs that exist in Go 1.19 may be used here: every case is built with
// Go 1.19 as well as with current toolchains.

package main

import (
	"os"
	"reflect"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// Hex is an address. It is a plain integer on purpose: the truth must never
// hold a pointer to what it describes, or it would keep it alive itself.
// It is written to JSON as a "0x..." string.
type Hex uintptr

func addrOf(p unsafe.Pointer) Hex { return Hex(uintptr(p)) }

// ptrOf returns the address a slice, map, chan, func or pointer value refers
// to: first element for a slice, the hmap / Map for a map, the hchan for a chan.
func ptrOf(v interface{}) Hex { return Hex(reflect.ValueOf(v).Pointer()) }

// strData returns the address of a string's bytes (unsafe.StringData is 1.20+).
func strData(s string) Hex {
	return Hex(uintptr((*[2]unsafe.Pointer)(unsafe.Pointer(&s))[0]))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// typeName is the reflect name used for elem_type ("uint8", "main.Data", ...).
func typeName(v interface{}) string { return reflect.TypeOf(v).String() }

// Obj is an ordered JSON object. Values may be: nil, string, bool, int, int32,
// int64, uint32, uint64, float64, Hex, *Obj, []interface{}, []string, []int64,
// []Hex, and *uint64 / *uint32 (dereferenced when written, so the memstats
// block can be built before the final GC and filled without allocating).
type Obj struct {
	keys []string
	vals []interface{}
}

func NewObj() *Obj { return &Obj{} }

// Set adds or replaces key k and returns o for chaining.
func (o *Obj) Set(k string, v interface{}) *Obj {
	for i, kk := range o.keys {
		if kk == k {
			o.vals[i] = v
			return o
		}
	}
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
	return o
}

// Get returns the value of key k, or nil.
func (o *Obj) Get(k string) interface{} {
	for i, kk := range o.keys {
		if kk == k {
			return o.vals[i]
		}
	}
	return nil
}

// Hello is what a parked goroutine sends to main before it parks: its id and
// up to two addresses of things it owns (a buffer, the primitive it waits on).
type Hello struct {
	Goid  int64
	Addr  Hex
	Addr2 Hex
}

// goid parses the current goroutine's id from the first line of its stack
// ("goroutine 18 [running]:"); there is no API for it.
func goid() int64 {
	var b [64]byte
	n := runtime.Stack(b[:], false)
	s := strings.TrimPrefix(string(b[:n]), "goroutine ")
	if i := strings.IndexByte(s, ' '); i > 0 {
		id, err := strconv.ParseInt(s[:i], 10, 64)
		if err == nil {
			return id
		}
	}
	panic("goautopsy corpus: cannot parse goroutine id")
}

// fill writes a repeating, highly compressible pattern (period 251) so the
// memory is really touched but the compressed core stays small.
func fill(b []byte) {
	for i := range b {
		b[i] = byte(i % 251)
	}
}

// Truth collects what the program knows about its own leaks and parked
// goroutines and writes it as truth.json just before the deliberate crash.
type Truth struct {
	*Obj
	leaks      []interface{}
	goroutines []*Obj
	gids       []int64
	gone       []int64
	mode       string
}

// newTruth must be the first call in main: it sets the crash traceback level
// (so the panic at the end dumps core and prints every goroutine).
func newTruth(caseName string) *Truth {
	debug.SetTraceback("crash")
	mode := os.Getenv("GOAUTOPSY_MODE")
	if mode == "" {
		mode = "crash"
	}
	t := &Truth{Obj: NewObj(), mode: mode}
	t.Set("case", caseName)
	t.Set("go_version", runtime.Version())
	t.Set("goos", runtime.GOOS)
	t.Set("goarch", runtime.GOARCH)
	t.Set("compiler", runtime.Compiler)
	t.Set("pid", int64(os.Getpid()))
	t.Set("gomaxprocs", runtime.GOMAXPROCS(0))
	t.Set("mode", mode)
	if mode == "crash" {
		t.Set("dump_method", "kernel core on SIGABRT (panic with GOTRACEBACK=crash)")
	} else {
		t.Set("dump_method", "gcore of the live process (generate.sh)")
	}
	t.Set("godebug_env", os.Getenv("GODEBUG"))
	bs := NewObj()
	if bi, ok := debug.ReadBuildInfo(); ok {
		bs.Set("path", bi.Path)
		for _, s := range bi.Settings {
			bs.Set(s.Key, s.Value)
		}
	}
	t.Set("build", bs)
	return t
}

// Leak records one leaked / pinned heap object. size is what was requested
// for the object (cap*elemsize), window the bytes the program can still use
// through its references, waste the bytes kept alive for nothing.
func (t *Truth) Leak(kind, holder string, addr Hex, size int64, elemType string, window, waste int64, note string) *Obj {
	o := NewObj().Set("kind", kind).Set("holder", holder).Set("addr", addr).
		Set("size", size).Set("elem_type", elemType).Set("window", window).
		Set("waste", waste).Set("note", note)
	t.leaks = append(t.leaks, o)
	return o
}

// Goroutine records a deliberately parked goroutine. wait_reason, function
// (innermost main.* frame), stack and created_by are filled in by Finish from
// the runtime's own goroutine dump, so they are what this Go version prints.
// blocked_on: chan_receive|chan_send|nil_chan|select|select_empty|mutex|
// rwmutex|waitgroup|cond|sleep|other.
func (t *Truth) Goroutine(id int64, blockedOn string, leaked bool, object Hex, note string) *Obj {
	o := NewObj().Set("goid", id).Set("function", "").Set("wait_reason", "").
		Set("blocked_on", blockedOn).Set("leaked", leaked)
	if object != 0 {
		o.Set("object", object)
	} else {
		o.Set("object", nil)
	}
	if note != "" {
		o.Set("note", note)
	}
	t.goroutines = append(t.goroutines, o)
	t.gids = append(t.gids, id)
	return o
}

// ExpectGone names goroutines that must have exited before the dump.
func (t *Truth) ExpectGone(ids ...int64) { t.gone = append(t.gone, ids...) }

// reasonsFor lists the wait reasons acceptable for a blocked_on category in
// any supported Go version (mutex-like waits were all "semacquire" before 1.20).
func reasonsFor(blockedOn string) []string {
	switch blockedOn {
	case "chan_receive":
		return []string{"chan receive"}
	case "chan_send":
		return []string{"chan send"}
	case "nil_chan":
		return []string{"chan receive (nil chan)", "chan send (nil chan)"}
	case "select":
		return []string{"select"}
	case "select_empty":
		return []string{"select (no cases)"}
	case "mutex":
		return []string{"semacquire", "sync.Mutex.Lock"}
	case "rwmutex":
		return []string{"semacquire", "sync.RWMutex.RLock", "sync.RWMutex.Lock"}
	case "waitgroup":
		return []string{"semacquire", "sync.WaitGroup.Wait"}
	case "cond":
		return []string{"sync.Cond.Wait"}
	case "sleep":
		return []string{"sleep"}
	}
	return nil // other: anything that is not running
}

type gdump struct {
	state     string
	frames    []string
	createdBy string
}

// dumpAll parses runtime.Stack(all): goroutine id -> state and frames.
func dumpAll() map[int64]*gdump {
	buf := make([]byte, 8<<20)
	n := runtime.Stack(buf, true)
	out := map[int64]*gdump{}
	var cur *gdump
	for _, line := range strings.Split(string(buf[:n]), "\n") {
		switch {
		case strings.HasPrefix(line, "goroutine "):
			f := strings.Fields(line)
			id, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				cur = nil
				continue
			}
			st := ""
			if i := strings.IndexByte(line, '['); i >= 0 {
				st = line[i+1:]
				if j := strings.LastIndexByte(st, ']'); j >= 0 {
					st = st[:j]
				}
				if j := strings.Index(st, ", "); j >= 0 {
					st = st[:j]
				}
			}
			cur = &gdump{state: st}
			out[id] = cur
		case cur == nil || line == "" || line[0] == '\t' || strings.HasPrefix(line, "..."):
		case strings.HasPrefix(line, "created by "):
			s := strings.TrimPrefix(line, "created by ")
			if i := strings.Index(s, " in goroutine "); i >= 0 {
				s = s[:i]
			}
			cur.createdBy = s
		default:
			if i := strings.LastIndexByte(line, '('); i > 0 {
				line = line[:i]
			}
			cur.frames = append(cur.frames, line)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// waitParked polls the goroutine dump until every registered goroutine sits
// in an acceptable wait state (stable over two polls) and every ExpectGone
// goroutine has exited; then it copies what the runtime printed into the truth.
func (t *Truth) waitParked() {
	if len(t.gids) == 0 && len(t.gone) == 0 {
		return
	}
	deadline := time.Now().Add(20 * time.Second)
	var prev map[int64]string
	for {
		d := dumpAll()
		ok := true
		cur := map[int64]string{}
		for i, id := range t.gids {
			g := d[id]
			if g == nil {
				ok = false
				break
			}
			want := reasonsFor(t.goroutines[i].Get("blocked_on").(string))
			if g.state == "running" || g.state == "runnable" || g.state == "syscall" ||
				(want != nil && !contains(want, g.state)) {
				ok = false
				break
			}
			cur[id] = g.state + "|" + strings.Join(g.frames, ",")
		}
		for _, id := range t.gone {
			if d[id] != nil {
				ok = false
			}
		}
		if ok && prev != nil && reflect.DeepEqual(prev, cur) {
			for i, id := range t.gids {
				g, o := d[id], t.goroutines[i]
				o.Set("wait_reason", g.state)
				fn := ""
				for _, f := range g.frames {
					if strings.HasPrefix(f, "main.") {
						fn = f
						break
					}
				}
				o.Set("function", fn)
				o.Set("stack", g.frames)
				o.Set("created_by", g.createdBy)
			}
			return
		}
		if ok {
			prev = cur
		} else {
			prev = nil
		}
		if time.Now().After(deadline) {
			os.Stderr.WriteString("goautopsy corpus: goroutines did not park as expected\n")
			os.Exit(3)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var finalMemStats runtime.MemStats

func memStatsObj(ms *runtime.MemStats) *Obj {
	return NewObj().
		Set("HeapAlloc", &ms.HeapAlloc).Set("HeapObjects", &ms.HeapObjects).
		Set("HeapInuse", &ms.HeapInuse).Set("HeapSys", &ms.HeapSys).
		Set("HeapIdle", &ms.HeapIdle).Set("HeapReleased", &ms.HeapReleased).
		Set("StackInuse", &ms.StackInuse).Set("StackSys", &ms.StackSys).
		Set("Mallocs", &ms.Mallocs).Set("Frees", &ms.Frees).
		Set("TotalAlloc", &ms.TotalAlloc).Set("NumGC", &ms.NumGC).
		Set("Sys", &ms.Sys).Set("MSpanInuse", &ms.MSpanInuse).
		Set("GCSys", &ms.GCSys).Set("NextGC", &ms.NextGC)
}

// heapAfterGC returns HeapAlloc right after a full GC (for size deltas).
func heapAfterGC() int64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// Finish writes truth.json and then crashes (mode "crash") or sleeps forever
// (mode "sleep", for gcore). Everything is prepared first; after the final
// runtime.GC() + ReadMemStats the only allocations are the few small ones of
// closing and renaming the file, so the heap in the core matches the memstats
// up to a handful of small objects.
func (t *Truth) Finish() {
	t.waitParked()
	if t.Get("expect_findings") == nil {
		t.Set("expect_findings", []string{})
	}
	if t.Get("allow_findings") == nil {
		t.Set("allow_findings", []string{})
	}
	gs := make([]interface{}, len(t.goroutines))
	for i, g := range t.goroutines {
		gs[i] = g
	}
	if t.leaks == nil {
		t.leaks = []interface{}{}
	}
	t.Set("leaks", t.leaks)
	t.Set("goroutines", gs)
	t.Set("num_goroutine", runtime.NumGoroutine())
	t.Set("memstats", memStatsObj(&finalMemStats))

	path := os.Getenv("GOAUTOPSY_TRUTH")
	if path == "" {
		path = "truth.json"
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		panic(err)
	}
	// Size the output buffer with a dry run, plus room for the memstats
	// numbers to grow: a big mostly-empty buffer would itself look like
	// slice_capacity_unused in the core.
	dry := appendJSON(nil, t.Obj, 0)
	buf := make([]byte, 0, len(dry)+512)

	runtime.GC()
	runtime.ReadMemStats(&finalMemStats)
	buf = appendJSON(buf, t.Obj, 0)
	buf = append(buf, '\n')
	if _, err := f.Write(buf); err != nil {
		panic(err)
	}
	if err := f.Close(); err != nil {
		panic(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		panic(err)
	}
	if t.mode != "crash" {
		for {
			time.Sleep(time.Hour)
		}
	}
	panic("goautopsy corpus: deliberate crash after writing truth")
}

// appendJSON is a tiny allocation-free (given enough buffer) JSON writer.
func appendJSON(b []byte, v interface{}, ind int) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendStr(b, x)
	case bool:
		return strconv.AppendBool(b, x)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case int32:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case uint32:
		return strconv.AppendUint(b, uint64(x), 10)
	case uint64:
		return strconv.AppendUint(b, x, 10)
	case *uint32:
		return strconv.AppendUint(b, uint64(*x), 10)
	case *uint64:
		return strconv.AppendUint(b, *x, 10)
	case float64:
		return strconv.AppendFloat(b, x, 'g', -1, 64)
	case Hex:
		b = append(b, `"0x`...)
		b = strconv.AppendUint(b, uint64(x), 16)
		return append(b, '"')
	case []string:
		b = append(b, '[')
		for i, s := range x {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendStr(b, s)
		}
		return append(b, ']')
	case []int64:
		b = append(b, '[')
		for i, n := range x {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = strconv.AppendInt(b, n, 10)
		}
		return append(b, ']')
	case []Hex:
		b = append(b, '[')
		for i, h := range x {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendJSON(b, h, ind)
		}
		return append(b, ']')
	case []interface{}:
		if len(x) == 0 {
			return append(b, "[]"...)
		}
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = newline(b, ind+1)
			b = appendJSON(b, e, ind+1)
		}
		b = newline(b, ind)
		return append(b, ']')
	case *Obj:
		if len(x.keys) == 0 {
			return append(b, "{}"...)
		}
		b = append(b, '{')
		for i, k := range x.keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = newline(b, ind+1)
			b = appendStr(b, k)
			b = append(b, ": "...)
			b = appendJSON(b, x.vals[i], ind+1)
		}
		b = newline(b, ind)
		return append(b, '}')
	}
	panic("goautopsy corpus: unsupported JSON value")
}

func newline(b []byte, ind int) []byte {
	b = append(b, '\n')
	for i := 0; i < ind; i++ {
		b = append(b, "  "...)
	}
	return b
}

func appendStr(b []byte, s string) []byte {
	const hexd = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexd[c>>4], hexd[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
