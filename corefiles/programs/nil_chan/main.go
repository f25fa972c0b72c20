// Case nil_chan (leak-patterns.md #12, kind goroutine_leak, nil_chan).
//
// One goroutine sends and one receives on a channel that was never made
// (nil). Operations on a nil channel block forever; there is no object to
// wait on at all.
package main

type pipeline struct {
	results chan int // never initialised: the bug
}

func send(p *pipeline, hello chan<- Hello) {
	hello <- Hello{Goid: goid()}
	p.results <- 42
}

func receive(p *pipeline, hello chan<- Hello) {
	hello <- Hello{Goid: goid()}
	<-p.results
}

func setup(t *Truth) {
	p := &pipeline{}
	hello := make(chan Hello)
	go send(p, hello)
	hs := <-hello
	go receive(p, hello)
	hr := <-hello
	t.Goroutine(hs.Goid, "nil_chan", true, 0, "send on nil channel")
	t.Goroutine(hr.Goid, "nil_chan", true, 0, "receive from nil channel")
}

func main() {
	t := newTruth("nil_chan")
	setup(t)
	t.Set("expect_findings", []string{"goroutine_leak"})
	t.Finish()
}
