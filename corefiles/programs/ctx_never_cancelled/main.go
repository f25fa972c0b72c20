// Case ctx_never_cancelled (leak-patterns.md #12, kind goroutine_leak).
//
// A goroutine waits for <-ctx.Done() of a context whose cancel function was
// dropped. Nothing can ever close the done channel, so the goroutine and the
// 512 KiB buffer it holds leak.
package main

import (
	"context"
	"runtime"
	"unsafe"
)

const bufSize = 512 << 10

func watch(ctx context.Context, hello chan<- Hello) {
	buf := make([]byte, bufSize)
	fill(buf)
	hello <- Hello{Goid: goid(), Addr: ptrOf(buf)}
	<-ctx.Done()
	runtime.KeepAlive(buf)
}

func setup(t *Truth) {
	ctx, cancel := context.WithCancel(context.Background())
	_ = cancel // the bug: cancel is never called (go vet's lostcancel would flag it)
	hello := make(chan Hello)
	go watch(ctx, hello)
	h := <-hello
	done := ptrOf(ctx.Done())
	t.Goroutine(h.Goid, "chan_receive", true, done, "waits on ctx.Done() of a never-cancelled context")
	t.Leak("goroutine_leak", "goroutine "+itoa(h.Goid)+" main.watch var buf", h.Addr,
		bufSize, "uint8", 0, bufSize, "kept alive only by the leaked watcher")
	t.Set("context", NewObj().
		Set("addr", Hex((*[2]uintptr)(unsafe.Pointer(&ctx))[1])).
		Set("type", "*context.cancelCtx").Set("done_chan", done))
}

func main() {
	t := newTruth("ctx_never_cancelled")
	setup(t)
	t.Set("expect_findings", []string{"goroutine_leak"})
	t.Finish()
}
