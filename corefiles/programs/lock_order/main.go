// Case lock_order (leak-patterns.md #11, kind deadlock).
//
// Goroutine 1 locks A then B, goroutine 2 locks B then A. Channels force the
// bad interleaving: each takes its first lock, waits until the other has taken
// its first lock, then asks for the second one.
package main

import (
	"sync"
	"unsafe"
)

type pair struct {
	first, second *sync.Mutex
	iHold         chan<- struct{} // closed once first is held
	otherHolds    <-chan struct{}
}

func transfer(p pair, hello chan<- Hello) {
	p.first.Lock()
	hello <- Hello{Goid: goid(), Addr: addrOf(unsafe.Pointer(p.second)), Addr2: addrOf(unsafe.Pointer(p.first))}
	close(p.iHold)
	<-p.otherHolds
	p.second.Lock() // never returns: the other goroutine holds it and wants ours
	p.second.Unlock()
	p.first.Unlock()
}

func setup(t *Truth) {
	a, b := new(sync.Mutex), new(sync.Mutex)
	aHeld, bHeld := make(chan struct{}), make(chan struct{})
	hello := make(chan Hello)
	go transfer(pair{first: a, second: b, iHold: aHeld, otherHolds: bHeld}, hello)
	g1 := <-hello
	go transfer(pair{first: b, second: a, iHold: bHeld, otherHolds: aHeld}, hello)
	g2 := <-hello
	addrA, addrB := addrOf(unsafe.Pointer(a)), addrOf(unsafe.Pointer(b))
	t.Goroutine(g1.Goid, "mutex", true, addrB, "holds A, waits for B").Set("holds", []Hex{addrA})
	t.Goroutine(g2.Goid, "mutex", true, addrA, "holds B, waits for A").Set("holds", []Hex{addrB})
	t.Set("mutexes", []interface{}{
		NewObj().Set("name", "A").Set("addr", addrA).Set("held_by", g1.Goid).Set("waiters", []int64{g2.Goid}),
		NewObj().Set("name", "B").Set("addr", addrB).Set("held_by", g2.Goid).Set("waiters", []int64{g1.Goid}),
	})
	t.Set("deadlock_cycle", []int64{g1.Goid, g2.Goid})
}

func main() {
	t := newTruth("lock_order")
	setup(t)
	t.Set("expect_findings", []string{"deadlock"})
	t.Set("allow_findings", []string{"goroutine_leak"})
	t.Finish()
}
