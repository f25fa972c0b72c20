// Case cond_never_signalled (leak-patterns.md #12, kind goroutine_leak, cond).
//
// A consumer waits on a sync.Cond for items that never come; the producer
// gave up without Signal/Broadcast. The Cond's waiter sits in the Cond's own
// notifyList (not in the semaphore table).
package main

import (
	"sync"
	"unsafe"
)

type queue struct {
	mu    sync.Mutex
	cond  *sync.Cond
	items []int
}

func consume(q *queue, hello chan<- Hello) {
	q.mu.Lock()
	hello <- Hello{Goid: goid()}
	for len(q.items) == 0 {
		q.cond.Wait()
	}
	q.items = q.items[1:]
	q.mu.Unlock()
}

func setup(t *Truth) {
	q := &queue{}
	q.cond = sync.NewCond(&q.mu)
	hello := make(chan Hello)
	go consume(q, hello)
	h := <-hello
	addr := addrOf(unsafe.Pointer(q.cond))
	t.Goroutine(h.Goid, "cond", true, addr, "q.cond.Wait(); nobody signals")
	t.Set("cond", NewObj().Set("addr", addr).Set("locker", addrOf(unsafe.Pointer(&q.mu))).
		Set("queue", addrOf(unsafe.Pointer(q))).Set("waiters", 1))
}

func main() {
	t := newTruth("cond_never_signalled")
	setup(t)
	t.Set("expect_findings", []string{"goroutine_leak"})
	t.Finish()
}
