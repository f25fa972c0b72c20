// Case finalizer_backlog (leak-patterns.md #7, related: pending finalizers).
//
// The first finalizer blocks forever on a channel only it can reach, so the
// single finalizer goroutine is stuck (a leaked goroutine). Then 1000 objects
// with finalizers become garbage: the GC finds them dead and queues them, but
// nobody runs the queue, so they and their 4 KiB payloads stay in runtime.finq.
package main

import (
	"runtime"
	"time"
	"unsafe"
)

type Blocker struct {
	block <-chan struct{} // never closed, never sent on
	hello chan<- Hello
}

type Item struct {
	payload []byte
	n       int
}

// blockingFinalizer runs on the runtime's finalizer goroutine and never returns.
func blockingFinalizer(b *Blocker) {
	b.hello <- Hello{Goid: goid(), Addr: ptrOf(b.block)}
	<-b.block
}

func finalizeItem(it *Item) {}

const (
	queued      = 1000
	payloadSize = 4 << 10
)

func startBlocker(hello chan Hello) {
	b := &Blocker{block: make(chan struct{}), hello: hello}
	runtime.SetFinalizer(b, blockingFinalizer)
}

func makeGarbage() []Hex {
	addrs := make([]Hex, 0, queued)
	for i := 0; i < queued; i++ {
		it := &Item{payload: make([]byte, payloadSize), n: i}
		runtime.SetFinalizer(it, finalizeItem)
		addrs = append(addrs, addrOf(unsafe.Pointer(it)))
	}
	return addrs
}

func setup(t *Truth) {
	hello := make(chan Hello)
	startBlocker(hello)
	runtime.GC() // finds the Blocker dead, queues it, the finalizer goroutine runs it
	h := <-hello
	items := makeGarbage()
	runtime.GC() // finds the items dead and queues them behind the stuck goroutine
	time.Sleep(50 * time.Millisecond)
	t.Goroutine(h.Goid, "chan_receive", true, h.Addr,
		"the runtime finalizer goroutine, stuck inside main.blockingFinalizer")
	itemSize := int64(unsafe.Sizeof(Item{}))
	t.Set("finalizer_queue", NewObj().
		Set("pending", queued).
		Set("object_type", "main.Item").
		Set("finalizer_func", "main.finalizeItem").
		Set("object_size", itemSize).
		Set("payload_size_each", int64(payloadSize)).
		Set("retained_bytes", queued*(itemSize+payloadSize)).
		Set("first_objects", items[:5]).
		Set("note", "all 1000 *main.Item are dead and queued (runtime.finq); they and "+
			"their payloads are kept alive by the queue. The Blocker itself was already "+
			"dequeued and is referenced from the stuck goroutine's frame."))
}

func main() {
	t := newTruth("finalizer_backlog")
	setup(t)
	t.Set("expect_findings", []string{"goroutine_leak"})
	t.Set("note", "a dedicated finding kind for finalizer backlogs may be added; the "+
		"stuck finalizer goroutine must at least be reported as goroutine_leak")
	t.Finish()
}
