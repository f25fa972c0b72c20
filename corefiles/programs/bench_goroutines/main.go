// Benchmark bench_goroutines (not part of the committed corpus; see
// generate.sh --bench): 100000 goroutines blocked in ten assorted ways, to
// time goroutine enumeration, unwinding and the reachability fixpoint.
package main

import (
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

var (
	parked     int64
	globalIdle = make(chan int) // reachable from a global: its waiters are not leaked
	sink       []*[64]byte
)

type category struct {
	name      string
	blockedOn string
	leaked    bool
	start     func(n int)
}

// park counts the goroutine just before it blocks.
func park() { atomic.AddInt64(&parked, 1) }

func categories() []category {
	leakRecv := make(chan int)
	leakSend := make(chan int)
	mu := new(sync.Mutex)
	mu.Lock() // never unlocked: its waiters are stuck
	wg := new(sync.WaitGroup)
	wg.Add(1)
	cond := sync.NewCond(new(sync.Mutex))
	return []category{
		{"chan_receive_leaked", "chan_receive", true, func(n int) {
			for i := 0; i < n; i++ {
				go func() { park(); <-leakRecv }()
			}
		}},
		{"chan_receive_idle", "chan_receive", false, func(n int) {
			for i := 0; i < n; i++ {
				go func() { park(); <-globalIdle }()
			}
		}},
		{"chan_send", "chan_send", true, func(n int) {
			for i := 0; i < n; i++ {
				go func() { park(); leakSend <- 1 }()
			}
		}},
		{"mutex", "mutex", true, func(n int) {
			for i := 0; i < n; i++ {
				go func() { park(); mu.Lock() }()
			}
		}},
		{"waitgroup", "waitgroup", true, func(n int) {
			for i := 0; i < n; i++ {
				go func() { park(); wg.Wait() }()
			}
		}},
		{"cond", "cond", true, func(n int) {
			for i := 0; i < n; i++ {
				go func() { cond.L.Lock(); park(); cond.Wait(); cond.L.Unlock() }()
			}
		}},
		{"select", "select", true, func(n int) {
			for i := 0; i < n; i++ {
				a, b := make(chan int), make(chan int)
				go func() {
					park()
					select {
					case <-a:
					case b <- 1:
					}
				}()
			}
		}},
		{"nil_chan", "nil_chan", true, func(n int) {
			for i := 0; i < n; i++ {
				go func() { var c chan int; park(); <-c }()
			}
		}},
		{"select_empty", "select_empty", true, func(n int) {
			for i := 0; i < n; i++ {
				buf := new([64]byte) // something small for each one to keep alive
				go func() {
					park()
					if buf != nil {
						select {}
					}
					sink = append(sink, buf)
				}()
			}
		}},
		{"sleep", "sleep", false, func(n int) {
			for i := 0; i < n; i++ {
				go func() { park(); time.Sleep(time.Hour) }()
			}
		}},
	}
}

func main() {
	t := newTruth("bench_goroutines")
	total := 100000
	if s := os.Getenv("GOAUTOPSY_BENCH_GOROUTINES"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			total = n
		}
	}
	cats := categories()
	per := total / len(cats)
	start := time.Now()
	var list []interface{}
	for _, c := range cats {
		c.start(per)
		list = append(list, NewObj().Set("name", c.name).Set("blocked_on", c.blockedOn).
			Set("leaked", c.leaked).Set("count", per))
	}
	for atomic.LoadInt64(&parked) < int64(per*len(cats)) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(time.Second) // the last counted ones still have to block
	t.Set("spawn_seconds", time.Since(start).Seconds())
	t.Set("categories", list)
	t.Set("parked_goroutines", per*len(cats))
	t.Set("note", "goroutines are not listed one by one; the crash traceback has them all. "+
		"the mutex was locked during setup and is never unlocked; only its waiters reference it.")
	t.Set("expect_findings", []string{"goroutine_leak"})
	t.Finish()
}
