// Case waitgroup_missing_done (leak-patterns.md #12, kind goroutine_leak, waitgroup).
//
// wg.Add(2) but only one Done ever happens (one work item takes an early
// return that skips Done). The goroutine in wg.Wait() never wakes up.
package main

import (
	"sync"
	"unsafe"
)

func process(item int, wg *sync.WaitGroup) {
	if item == 1 {
		return // the bug: forgot wg.Done() on this path
	}
	wg.Done()
}

func collect(wg *sync.WaitGroup, hello chan<- Hello) {
	hello <- Hello{Goid: goid()}
	wg.Wait()
}

func setup(t *Truth) {
	wg := new(sync.WaitGroup)
	wg.Add(2)
	hello := make(chan Hello)
	go collect(wg, hello)
	h := <-hello
	done := make(chan struct{})
	for i := 0; i < 2; i++ {
		go func(i int) { process(i, wg); done <- struct{}{} }(i)
	}
	<-done
	<-done
	addr := addrOf(unsafe.Pointer(wg))
	t.Goroutine(h.Goid, "waitgroup", true, addr, "wg.Wait() with counter stuck at 1")
	t.Set("waitgroup", NewObj().Set("addr", addr).Set("counter", 1).Set("waiters", 1))
}

func main() {
	t := newTruth("waitgroup_missing_done")
	setup(t)
	t.Set("expect_findings", []string{"goroutine_leak"})
	t.Finish()
}
