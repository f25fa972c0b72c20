// Case ticker_not_stopped (leak-patterns.md #12).
//
// 10000 calls of a polling helper each create a time.Ticker and return
// without Stop. Before Go 1.23 the runtime's per-P timer heap references every
// active timer, so each Ticker (and its channel) stays alive forever. From Go
// 1.23 an unreferenced, unstopped ticker is collectable, unless the program
// runs with asynctimerchan=1, which is the default GODEBUG for a main module
// whose go.mod says `go 1.19` (as here) on Go 1.23 .. 1.26; Go 1.27 removed
// that setting. No goroutine is stuck: this case is about the timers.
package main

import (
	"os"
	"runtime"
	"strings"
	"time"
	"unsafe"
)

const tickers = 10000

// pollOnce waits for the first of a tick or done, then returns: the ticker is
// never stopped (the bug: missing defer tk.Stop()).
func pollOnce(done <-chan struct{}) (Hex, Hex) {
	tk := time.NewTicker(time.Hour)
	select {
	case <-tk.C:
	case <-done:
	}
	return addrOf(unsafe.Pointer(tk)), ptrOf(tk.C)
}

// godebugValue returns the effective value of a GODEBUG key: the environment
// overrides the binary's default (build setting DefaultGODEBUG, Go 1.21+).
func godebugValue(t *Truth, key string) string {
	val := ""
	if b, ok := t.Get("build").(*Obj); ok {
		if d, ok := b.Get("DefaultGODEBUG").(string); ok {
			val = lookupKV(d, key, val)
		}
	}
	return lookupKV(os.Getenv("GODEBUG"), key, val)
}

func lookupKV(list, key, def string) string {
	for _, kv := range strings.Split(list, ",") {
		if strings.HasPrefix(kv, key+"=") {
			def = strings.TrimPrefix(kv, key+"=")
		}
	}
	return def
}

// goMinor extracts 19 from "go1.19.8" (0 if unknown, e.g. devel builds).
func goMinor() int {
	v := strings.TrimPrefix(runtime.Version(), "go1.")
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}

func setup(t *Truth) {
	done := make(chan struct{})
	close(done)
	before := heapAfterGC()
	var first []Hex
	var chans []Hex
	for i := 0; i < tickers; i++ {
		tk, c := pollOnce(done)
		if i < 5 {
			first = append(first, tk)
			chans = append(chans, c)
		}
	}
	held := heapAfterGC() - before
	async := godebugValue(t, "asynctimerchan")
	minor := goMinor()
	pinned := minor < 23 || (minor < 27 && async == "1")
	t.Set("tickers", NewObj().
		Set("created", tickers).Set("period_ns", int64(time.Hour)).
		Set("stopped", 0).
		Set("first_tickers", first).Set("first_channels", chans).
		Set("ticker_type", "time.Ticker").
		Set("asynctimerchan", async).
		Set("expected_pinned_by_runtime", pinned).
		Set("heap_bytes_held", held).
		Set("heap_bytes_held_per_ticker", held/tickers).
		Set("note", "expected_pinned_by_runtime: the runtime timer heap (p.timers) "+
			"references every ticker, so all 10000 *time.Ticker and their channels "+
			"are live; otherwise they were garbage and freed by the final GC "+
			"(first_tickers then point at freed or reused memory). heap_bytes_held "+
			"is the MemStats HeapAlloc growth measured after GC."))
	t.Set("proposed_kind", "ticker_not_stopped")
}

func main() {
	t := newTruth("ticker_not_stopped")
	setup(t)
	t.Set("note", "no kind for unstopped tickers exists yet; an analyzer may report "+
		"them when tickers.expected_pinned_by_runtime is true")
	t.Finish()
}
