//go:build go1.24

// Case cleanup_self (leak-patterns.md #7, related: cleanups; Go 1.24+ only,
// the constraint above makes generate.sh skip older toolchains).
//
// runtime.AddCleanup(obj, fn, arg) where arg references obj. The cleanup's
// closure (holding arg) is a GC root kept by the cleanup special, so obj stays
// reachable through its own cleanup and is never collected; the cleanup never
// runs. (AddCleanup only panics when arg == ptr; a struct wrapping ptr slips by.)
package main

import (
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"
)

type Resource struct {
	payload []byte
	id      int
}

// handle wraps the resource; passing it as the cleanup argument is the bug.
type handle struct {
	r *Resource
}

var cleaned atomic.Int32

func release(h handle) { cleaned.Add(1) }

const payloadSize = 4 << 20

func makeResource() (Hex, Hex) {
	r := &Resource{payload: make([]byte, payloadSize), id: 1}
	fill(r.payload)
	runtime.AddCleanup(r, release, handle{r})
	return addrOf(unsafe.Pointer(r)), ptrOf(r.payload)
}

func setup(t *Truth) {
	res, payload := makeResource()
	runtime.GC()
	runtime.GC()
	time.Sleep(50 * time.Millisecond)
	size := int64(unsafe.Sizeof(Resource{}))
	t.Leak("finalizer_cycle", "cleanup (runtime special) on *main.Resource", res, size,
		"main.Resource", 0, size+payloadSize,
		"AddCleanup(r, release, handle{r}): the cleanup argument references r, so r "+
			"is reachable from its own cleanup record and never collected. Expected: the "+
			"analyzer reports the path special -> cleanup closure -> handle.r -> r; "+
			"waste = Resource + 4 MiB payload").
		Set("cycle", []string{"cleanup special fn (closure)", "arg main.handle.r"}).
		Set("cleanup_func", "main.release").
		Set("retained", []interface{}{
			NewObj().Set("addr", res).Set("type", "main.Resource").Set("size", size),
			NewObj().Set("addr", payload).Set("type", "[]uint8 backing array").Set("size", int64(payloadSize)),
		})
	t.Set("cleanup_ran", cleaned.Load() != 0)
}

func main() {
	t := newTruth("cleanup_self")
	setup(t)
	t.Set("expect_findings", []string{"finalizer_cycle"})
	t.Finish()
}
