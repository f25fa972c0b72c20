// Case mutex_tiny (leak-patterns.md #12, kind goroutine_leak, mutex).
//
// A goroutine locks a mutex allocated on its own (`new(sync.Mutex)`: 8
// bytes without pointers, so the tiny allocator packs it into a 16-byte
// block with the 4-byte counter allocated just before it) and then blocks
// forever on a channel nobody else has. A second goroutine waits for the
// mutex. The counter stays reachable from a global, which keeps the whole
// tiny block alive; the mutex itself is reachable only from the two leaked
// goroutines, so both are leaked: reachability of a lock in a tiny block is
// about pointers into the lock's own bytes.
package main

import (
	"sync"
	"time"
	"unsafe"
)

var (
	counter *uint32
	pads    []*[2]uint32
)

// sharedBlock allocates the counter and the mutex until the tiny
// allocator puts them in one 16-byte block: where the current block stands
// depends on earlier small allocations, so a miss is followed by an 8-byte
// pad that fills the block up and the next pair starts a fresh one.
func sharedBlock() (*uint32, *sync.Mutex) {
	for i := 0; i < 64; i++ {
		c := new(uint32)
		m := new(sync.Mutex)
		if uintptr(unsafe.Pointer(c))&^15 == uintptr(unsafe.Pointer(m))&^15 {
			return c, m
		}
		pads = append(pads, new([2]uint32))
	}
	panic("the tiny allocator never packed the counter and the mutex together")
}

func holdForever(mu *sync.Mutex, hello chan<- Hello) {
	mu.Lock()
	block := make(chan struct{})
	hello <- Hello{Goid: goid(), Addr: ptrOf(block)}
	<-block
}

func waitLock(mu *sync.Mutex, hello chan<- Hello) {
	hello <- Hello{Goid: goid()}
	mu.Lock()
}

func setup(t *Truth) {
	c, mu := sharedBlock()
	counter = c
	hello := make(chan Hello)
	go holdForever(mu, hello)
	h1 := <-hello
	go waitLock(mu, hello)
	h2 := <-hello
	time.Sleep(50 * time.Millisecond) // let the waiter park in semacquire
	addr := addrOf(unsafe.Pointer(mu))
	t.Goroutine(h1.Goid, "chan_receive", true, h1.Addr, "holds mu, blocked on a channel only it has")
	t.Goroutine(h2.Goid, "mutex", true, addr, "waits for mu, held by a leaked goroutine")
	t.Set("tiny", NewObj().Set("counter", addrOf(unsafe.Pointer(counter))).Set("mutex", addr))
}

func main() {
	t := newTruth("mutex_tiny")
	setup(t)
	t.Set("expect_findings", []string{"goroutine_leak"})
	t.Finish()
}
