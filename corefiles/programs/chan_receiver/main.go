// Case chan_receiver (leak-patterns.md #8, kind goroutine_leak, chan_receive).
//
// Four goroutines do `for m := range ch`; the producer sends a few messages and
// returns without closing ch. Nothing that can run still references ch, so the
// receivers, their stacks and the 1 MiB buffer each one holds leak forever.
package main

import "runtime"

const (
	workers = 4
	bufSize = 1 << 20
)

// receiver keeps a private working buffer for as long as it runs.
func receiver(ch <-chan []byte, hello chan<- Hello) {
	buf := make([]byte, bufSize)
	fill(buf)
	hello <- Hello{Goid: goid(), Addr: ptrOf(buf)}
	for m := range ch {
		copy(buf, m)
	}
	runtime.KeepAlive(buf)
}

// produce starts the consumers, sends its messages and forgets close(ch).
func produce(t *Truth) {
	ch := make(chan []byte)
	hello := make(chan Hello)
	for i := 0; i < workers; i++ {
		go receiver(ch, hello)
	}
	var hs []Hello
	for i := 0; i < workers; i++ {
		hs = append(hs, <-hello)
	}
	for i := 0; i < 3; i++ {
		ch <- []byte("message")
	}
	for _, h := range hs {
		t.Goroutine(h.Goid, "chan_receive", true, ptrOf(ch), "for m := range ch; ch never closed")
		t.Leak("goroutine_leak", "goroutine "+itoa(h.Goid)+" main.receiver var buf", h.Addr,
			bufSize, "uint8", 0, bufSize, "working buffer kept alive only by the leaked receiver")
	}
	t.Set("channel", NewObj().Set("addr", ptrOf(ch)).Set("elem_type", "[]uint8").
		Set("cap", cap(ch)).Set("closed", false).Set("receivers_waiting", workers))
}

func main() {
	t := newTruth("chan_receiver")
	produce(t)
	t.Set("expect_findings", []string{"goroutine_leak"})
	t.Finish()
}
