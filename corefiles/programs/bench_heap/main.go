// Benchmark bench_heap (not part of the committed corpus; see generate.sh
// --bench): a heap of GOAUTOPSY_BENCH_HEAP_MIB MiB (default 2048) made of tens
// of millions of small objects (binary trees, maps with pointer values, small
// strings, small byte slices), to time heap walking and marking. The program
// measures the wall time of runtime.GC() on that heap as a reference point.
package main

import (
	"math/rand"
	"os"
	"runtime"
	"strconv"
	"time"
)

type node struct {
	left, right *node
	val         int64
	tag         uint64
}

type leaf struct {
	a, b int64
}

// Globals are the roots of everything.
var (
	trees  []*node
	maps   []map[int64]*leaf
	strs   []string
	blobs  [][]byte
	counts = map[string]int64{}
)

func tree(depth int, v int64) *node {
	n := &node{val: v, tag: uint64(v) * 2654435761}
	if depth > 0 {
		n.left = tree(depth-1, 2*v)
		n.right = tree(depth-1, 2*v+1)
	}
	return n
}

func build(budget int64) {
	r := rand.New(rand.NewSource(1))
	// 40%: perfect binary trees of 65535 nodes (32 B each).
	const depth = 15
	perTree := int64(1)<<(depth+1) - 1
	for spent := int64(0); spent < budget*4/10; spent += perTree * 32 {
		trees = append(trees, tree(depth, int64(len(trees))))
	}
	counts["tree_nodes"] = int64(len(trees)) * perTree
	// 20%: maps of 1000 int64 -> *leaf (~40 B per entry incl. the leaf).
	for spent := int64(0); spent < budget*2/10; spent += 1000 * 40 {
		m := make(map[int64]*leaf, 1000)
		for i := 0; i < 1000; i++ {
			m[r.Int63()] = &leaf{a: int64(i), b: int64(len(maps))}
		}
		maps = append(maps, m)
	}
	counts["maps"] = int64(len(maps))
	counts["map_entries"] = int64(len(maps)) * 1000
	// 20%: small strings (8..40 bytes), ~56 B each with the slice slot.
	for spent := int64(0); spent < budget*2/10; spent += 56 {
		strs = append(strs, "s"+strconv.FormatInt(r.Int63(), 36)+strconv.Itoa(len(strs)))
	}
	counts["strings"] = int64(len(strs))
	// 20%: byte slices of 8..128 bytes, ~90 B each with the slice slot.
	for spent := int64(0); spent < budget*2/10; spent += 90 {
		b := make([]byte, 8+r.Intn(121))
		b[0] = byte(len(blobs))
		blobs = append(blobs, b)
	}
	counts["byte_slices"] = int64(len(blobs))
}

func main() {
	t := newTruth("bench_heap")
	mib := int64(2048)
	if s := os.Getenv("GOAUTOPSY_BENCH_HEAP_MIB"); s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
			mib = n
		}
	}
	start := time.Now()
	build(mib << 20)
	t.Set("build_seconds", time.Since(start).Seconds())
	var gcs []interface{}
	for i := 0; i < 3; i++ {
		s := time.Now()
		runtime.GC()
		gcs = append(gcs, time.Since(s).Seconds())
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	c := NewObj()
	for _, k := range []string{"tree_nodes", "maps", "map_entries", "strings", "byte_slices"} {
		c.Set(k, counts[k])
	}
	t.Set("heap_target_mib", mib)
	t.Set("objects", c)
	t.Set("heap_objects_after_gc", ms.HeapObjects)
	t.Set("heap_alloc_after_gc", ms.HeapAlloc)
	t.Set("gc_wall_seconds", gcs)
	t.Set("note", "gc_wall_seconds: wall time of three consecutive runtime.GC() calls "+
		"on the finished heap (GOMAXPROCS as recorded); everything is live, no leaks")
	t.Finish()
}
