// Control control_cache: must produce NO findings.
//
// A 20 MiB map cache held by a global and used all the time by a running
// goroutine (read, then sleep 1 ms). Big and long-lived, but live: not a leak.
// At dump time the user goroutine is almost surely in time.Sleep ("sleep").
package main

import "time"

var cache map[int][]byte

const (
	entries   = 5000
	entrySize = 4 << 10
)

var hits int

func user(hello chan<- Hello) {
	hello <- Hello{Goid: goid()}
	for i := 0; ; i++ {
		if v, ok := cache[i%entries]; ok && v[0] == byte(i%entries%251) {
			hits++
		}
		time.Sleep(time.Millisecond)
	}
}

func setup(t *Truth) {
	cache = make(map[int][]byte, entries)
	for i := 0; i < entries; i++ {
		v := make([]byte, entrySize)
		fill(v)
		v[0] = byte(i % 251)
		cache[i] = v
	}
	hello := make(chan Hello)
	go user(hello)
	h := <-hello
	t.Goroutine(h.Goid, "sleep", false, 0,
		"cache user: loops forever reading the cache and sleeping 1 ms; may rarely be caught running")
	t.Set("cache", NewObj().Set("holder", "main.cache").Set("addr", ptrOf(cache)).
		Set("entries", len(cache)).Set("entry_size", int64(entrySize)).
		Set("bytes", int64(entries*entrySize)))
}

func main() {
	t := newTruth("control_cache")
	setup(t)
	t.Finish()
}
