// Case finalizer_cycle (leak-patterns.md #7, kind finalizer_cycle).
//
// foo.bar = bar; bar.foo = foo; runtime.SetFinalizer(foo, ...). Once dropped,
// foo is unreachable except through its own cycle; a finalized object is only
// queued when nothing but itself points at it, and bar points at it, so the
// finalizer never runs and foo, bar and foo's 4 MiB payload stay forever.
package main

import (
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"
)

type Foo struct {
	bar     *Bar
	payload []byte
	name    string
}

type Bar struct {
	foo *Foo
}

var finalized int32

func finalizeFoo(f *Foo) { atomic.AddInt32(&finalized, 1) }

const payloadSize = 4 << 20

func makeCycle() (foo Hex, bar Hex, payload Hex) {
	f := &Foo{payload: make([]byte, payloadSize), name: "foo"}
	fill(f.payload)
	b := &Bar{foo: f}
	f.bar = b
	runtime.SetFinalizer(f, finalizeFoo)
	return addrOf(unsafe.Pointer(f)), addrOf(unsafe.Pointer(b)), ptrOf(f.payload)
}

func setup(t *Truth) {
	foo, bar, payload := makeCycle()
	// Give the cycle every chance to be collected: two full GCs and time for
	// the finalizer goroutine to run if anything had been queued.
	runtime.GC()
	runtime.GC()
	time.Sleep(50 * time.Millisecond)
	waste := int64(unsafe.Sizeof(Foo{})) + int64(unsafe.Sizeof(Bar{})) + payloadSize
	t.Leak("finalizer_cycle", "finalizer (runtime special) on *main.Foo", foo,
		int64(unsafe.Sizeof(Foo{})), "main.Foo", 0, waste,
		"foo has a finalizer and reaches itself via foo.bar.foo: never finalized; "+
			"waste = Foo + Bar + 4 MiB payload").
		Set("cycle", []string{"main.Foo.bar", "main.Bar.foo"}).
		Set("cycle_objects", []Hex{foo, bar}).
		Set("retained", []interface{}{
			NewObj().Set("addr", foo).Set("type", "main.Foo").Set("size", int64(unsafe.Sizeof(Foo{}))),
			NewObj().Set("addr", bar).Set("type", "main.Bar").Set("size", int64(unsafe.Sizeof(Bar{}))),
			NewObj().Set("addr", payload).Set("type", "[]uint8 backing array").Set("size", int64(payloadSize)),
		}).
		Set("finalizer_func", "main.finalizeFoo")
	t.Set("finalizer_ran", atomic.LoadInt32(&finalized) != 0)
}

func main() {
	t := newTruth("finalizer_cycle")
	setup(t)
	t.Set("expect_findings", []string{"finalizer_cycle"})
	t.Finish()
}
