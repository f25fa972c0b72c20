// Case gcore_live: a live process snapshotted with gdb's gcore, not a crash.
//
// 25 goroutines are parked in assorted ways (leaked and not), plus one
// sub-slice leak. main writes truth.json and then sleeps forever; generate.sh
// waits for truth.json, runs `gcore`, then kills the process. There is no
// crash traceback for this case: traceback.txt is empty.
package main

import (
	"runtime"
	"sync"
	"time"
	"unsafe"
)

var (
	idle  = make(chan int) // global: the idle workers on it are not leaked
	keep  []byte           // subslice_pins_array
	hello = make(chan Hello)
)

func recvLeak(ch chan int) {
	hello <- Hello{Goid: goid()}
	for range ch {
	}
}

func sendLeak(ch chan int) {
	hello <- Hello{Goid: goid()}
	ch <- 1
}

func idleWorker() {
	hello <- Hello{Goid: goid()}
	for range idle {
	}
}

func lockWaiter(mu *sync.Mutex) {
	hello <- Hello{Goid: goid()}
	mu.Lock()
	mu.Unlock()
}

// holder takes the mutex and parks in select {} without releasing it.
func holder(mu *sync.Mutex, forever bool) {
	mu.Lock()
	hello <- Hello{Goid: goid()}
	if forever {
		select {}
	}
	mu.Unlock()
}

func wgWaiter(wg *sync.WaitGroup) {
	hello <- Hello{Goid: goid()}
	wg.Wait()
}

func condWaiter(c *sync.Cond) {
	c.L.Lock()
	hello <- Hello{Goid: goid()}
	c.Wait()
	c.L.Unlock()
}

func nilSend() {
	var ch chan int
	hello <- Hello{Goid: goid()}
	ch <- 1
}

func nilRecv() {
	var ch chan int
	hello <- Hello{Goid: goid()}
	<-ch
}

func selectLeak(a, b chan int) {
	hello <- Hello{Goid: goid()}
	select {
	case <-a:
	case b <- 1:
	}
}

func setup(t *Truth) {
	start := func(f func(), blockedOn string, leaked bool, obj Hex, note string) {
		go f()
		t.Goroutine((<-hello).Goid, blockedOn, leaked, obj, note)
	}
	rc := make(chan int)
	for i := 0; i < 4; i++ {
		start(func() { recvLeak(rc) }, "chan_receive", true, ptrOf(rc), "range over a chan nobody closes")
	}
	sc := make(chan int)
	for i := 0; i < 4; i++ {
		start(func() { sendLeak(sc) }, "chan_send", true, ptrOf(sc), "send nobody receives")
	}
	for i := 0; i < 3; i++ {
		start(idleWorker, "chan_receive", false, ptrOf(idle), "idle worker on global chan")
	}
	mu := new(sync.Mutex)
	start(func() { holder(mu, true) }, "select_empty", true, 0, "holds mu, parked in select {}")
	for i := 0; i < 3; i++ {
		start(func() { lockWaiter(mu) }, "mutex", true, addrOf(unsafe.Pointer(mu)), "mu held by the select {} goroutine")
	}
	wg := new(sync.WaitGroup)
	wg.Add(1)
	for i := 0; i < 3; i++ {
		start(func() { wgWaiter(wg) }, "waitgroup", true, addrOf(unsafe.Pointer(wg)), "Done never called")
	}
	cond := sync.NewCond(new(sync.Mutex))
	for i := 0; i < 3; i++ {
		start(func() { condWaiter(cond) }, "cond", true, addrOf(unsafe.Pointer(cond)), "never signalled")
	}
	start(nilSend, "nil_chan", true, 0, "send on nil chan")
	start(nilRecv, "nil_chan", true, 0, "receive from nil chan")
	for i := 0; i < 2; i++ {
		a, b := make(chan int), make(chan int)
		start(func() { selectLeak(a, b) }, "select", true, ptrOf(a), "select on two private channels")
	}
	data := make([]byte, 8<<20)
	fill(data)
	keep = data[100:110]
	t.Leak("subslice_pins_array", "main.keep", ptrOf(data), 8<<20, "uint8", 10, 8<<20-10,
		"keep = data[100:110] of an 8 MiB array")
	t.Set("parked_goroutines", 25)
}

func main() {
	t := newTruth("gcore_live")
	if t.mode == "crash" {
		// This case is always dumped live: never crash.
		t.mode = "sleep"
		t.Set("mode", "sleep").Set("dump_method", "gcore of the live process (generate.sh)")
	}
	setup(t)
	t.Set("expect_findings", []string{"goroutine_leak", "subslice_pins_array"})
	t.Set("allow_findings", []string{"deadlock"})
	t.Set("note", "main is in time.Sleep when gcore stops the process; no crash traceback")
	runtime.GC()
	t.Finish()
	time.Sleep(time.Hour) // not reached: Finish sleeps forever in sleep mode
}
