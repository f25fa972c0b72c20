// Control control_workers: must produce NO findings.
//
// An idle worker pool: four workers block in `for j := range jobs`, but jobs
// is a global that main (still running when the process is dumped) could send
// on or close at any time. Blocked, not leaked.
package main

import "sync/atomic"

var jobs = make(chan int)

var processed int64

const workers = 4

func worker(hello chan<- Hello) {
	hello <- Hello{Goid: goid()}
	for j := range jobs {
		atomic.AddInt64(&processed, int64(j))
	}
}

func setup(t *Truth) {
	hello := make(chan Hello)
	var ids []int64
	for i := 0; i < workers; i++ {
		go worker(hello)
		ids = append(ids, (<-hello).Goid)
	}
	for j := 1; j <= 20; j++ {
		jobs <- j
	}
	for _, id := range ids {
		t.Goroutine(id, "chan_receive", false, ptrOf(jobs), "idle worker; jobs is a global")
	}
	t.Set("pool", NewObj().Set("jobs_holder", "main.jobs").Set("jobs_chan", ptrOf(jobs)).
		Set("workers", workers).Set("jobs_sent", 20))
}

func main() {
	t := newTruth("control_workers")
	setup(t)
	t.Finish()
}
