// Case select_leak (leak-patterns.md #12, kind goroutine_leak, select).
//
// A goroutine blocks in a select on a receive from one channel and a send on
// another; the caller returned and nobody else holds either channel.
package main

func relay(in <-chan int, out chan<- int, hello chan<- Hello) {
	hello <- Hello{Goid: goid()}
	select {
	case v := <-in:
		_ = v
	case out <- 1:
	}
}

func setup(t *Truth) {
	in, out := make(chan int), make(chan int)
	hello := make(chan Hello)
	go relay(in, out, hello)
	h := <-hello
	t.Goroutine(h.Goid, "select", true, ptrOf(in), "select { case <-in: case out <- 1: }").
		Set("objects", []Hex{ptrOf(in), ptrOf(out)})
}

func main() {
	t := newTruth("select_leak")
	setup(t)
	t.Set("expect_findings", []string{"goroutine_leak"})
	t.Finish()
}
