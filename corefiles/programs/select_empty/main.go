// Case select_empty (leak-patterns.md #12, kind goroutine_leak, select_empty).
//
// A goroutine parks in `select {}` (often left behind as "wait forever" in a
// helper that was later started as a goroutine). It holds a 256 KiB buffer.
package main

import "runtime"

const bufSize = 256 << 10

// forever is always true; testing it keeps the code after select {} reachable,
// so buf stays live (in the stack maps) while the goroutine is parked.
func serve(forever bool, hello chan<- Hello) {
	buf := make([]byte, bufSize)
	fill(buf)
	hello <- Hello{Goid: goid(), Addr: ptrOf(buf)}
	if forever {
		select {}
	}
	runtime.KeepAlive(buf)
}

func setup(t *Truth) {
	hello := make(chan Hello)
	go serve(true, hello)
	h := <-hello
	t.Goroutine(h.Goid, "select_empty", true, 0, "select {}")
	t.Leak("goroutine_leak", "goroutine "+itoa(h.Goid)+" main.serve var buf", h.Addr,
		bufSize, "uint8", 0, bufSize, "kept alive only by the parked goroutine")
}

func main() {
	t := newTruth("select_empty")
	setup(t)
	t.Set("expect_findings", []string{"goroutine_leak"})
	t.Finish()
}
