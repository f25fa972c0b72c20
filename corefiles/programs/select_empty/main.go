// Case select_empty (leak-patterns.md #12, kind goroutine_leak, select_empty).
//
// A goroutine parks in `select {}` (often left behind as "wait forever" in a
// helper that was later started as a goroutine). It holds a 256 KiB buffer.
package main

import "runtime"

const bufSize = 256 << 10

// select {} is a terminating statement: nothing after it is live, so a
// variable used only later would already be dead (and freed) while the
// goroutine parks. A deferred closure that uses buf keeps it in the frame's
// stack map, which is how real code ends up holding memory here.
func serve(hello chan<- Hello) {
	buf := make([]byte, bufSize)
	fill(buf)
	defer func() { runtime.KeepAlive(buf) }()
	hello <- Hello{Goid: goid(), Addr: ptrOf(buf)}
	select {}
}

func setup(t *Truth) {
	hello := make(chan Hello)
	go serve(hello)
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
