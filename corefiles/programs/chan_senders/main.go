// Case chan_senders (leak-patterns.md #9, kind goroutine_leak, chan_send).
//
// Ten goroutines each compute a result (a 512 KiB buffer) and send it on an
// unbuffered channel; the caller takes the first result and returns. The other
// nine block in `ch <- res` forever, each keeping its result alive.
package main

import "runtime"

const (
	senders = 10
	resSize = 512 << 10
)

func search(replica int, out chan<- []byte, hello chan<- Hello) {
	res := make([]byte, resSize)
	fill(res)
	res[0] = byte(replica)
	hello <- Hello{Goid: goid(), Addr: ptrOf(res)}
	out <- res
	runtime.KeepAlive(res)
}

// first returns the fastest replica's answer and forgets about the others.
func first(t *Truth) []byte {
	out := make(chan []byte) // the bug: should have capacity senders-1
	hello := make(chan Hello)
	for i := 0; i < senders; i++ {
		go search(i, out, hello)
	}
	var hs []Hello
	for i := 0; i < senders; i++ {
		hs = append(hs, <-hello)
	}
	winner := <-out
	for _, h := range hs {
		if h.Addr == ptrOf(winner) {
			t.ExpectGone(h.Goid) // its send completed; it returns
			t.Set("winner_goid", h.Goid)
			continue
		}
		t.Goroutine(h.Goid, "chan_send", true, ptrOf(out), "blocked in out <- res; nobody receives")
		t.Leak("goroutine_leak", "goroutine "+itoa(h.Goid)+" main.search var res", h.Addr,
			resSize, "uint8", 0, resSize, "result buffer kept by the blocked sender")
	}
	t.Set("channel", NewObj().Set("addr", ptrOf(out)).Set("elem_type", "[]uint8").
		Set("cap", cap(out)).Set("senders_waiting", senders-1))
	return winner
}

func main() {
	t := newTruth("chan_senders")
	if first(t)[0] >= senders {
		panic("unexpected result")
	}
	t.Set("expect_findings", []string{"goroutine_leak"})
	t.Finish()
}
