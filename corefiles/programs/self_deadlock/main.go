// Case self_deadlock (leak-patterns.md #10, kind deadlock).
//
// A goroutine locks a sync.Mutex and, further down its call chain, locks it
// again. sync.Mutex is not reentrant: the goroutine waits for itself forever.
package main

import (
	"sync"
	"unsafe"
)

type Account struct {
	mu      sync.Mutex
	balance int
}

func (a *Account) Balance() int {
	a.mu.Lock() // second Lock by the same goroutine: blocks forever
	defer a.mu.Unlock()
	return a.balance
}

func (a *Account) Deposit(n int, hello chan<- Hello) {
	a.mu.Lock()
	defer a.mu.Unlock()
	hello <- Hello{Goid: goid(), Addr: addrOf(unsafe.Pointer(&a.mu))}
	a.balance += n
	_ = a.Balance()
}

func setup(t *Truth) {
	a := &Account{}
	hello := make(chan Hello)
	go a.Deposit(10, hello)
	h := <-hello
	t.Goroutine(h.Goid, "mutex", true, h.Addr, "holds the mutex and waits for it").
		Set("holds", []Hex{h.Addr})
	t.Set("mutexes", []interface{}{
		NewObj().Set("name", "Account.mu").Set("addr", h.Addr).
			Set("held_by", h.Goid).Set("waiters", []int64{h.Goid}),
	})
	t.Set("deadlock_cycle", []int64{h.Goid})
	t.Set("account", addrOf(unsafe.Pointer(a)))
}

func main() {
	t := newTruth("self_deadlock")
	setup(t)
	t.Set("expect_findings", []string{"deadlock"})
	t.Set("allow_findings", []string{"goroutine_leak"})
	t.Finish()
}
