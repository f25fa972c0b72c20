// Case map_after_delete (leak-patterns.md #5, kind map_capacity_after_delete).
//
// A global map[int][128]byte is filled with 100k entries, then all but 3 are
// deleted. Go maps never shrink: the buckets / groups sized for 100k entries
// (values stored inline, 128 B each) stay allocated.
package main

import "unsafe"

// m keeps its peak capacity after the mass deletion.
var m map[int][128]byte

const (
	entries = 100000
	live    = 3
	keySize = 8
	valSize = 128 // <= 128 bytes: stored inline in the slot
)

func setup(t *Truth) {
	before := heapAfterGC()
	m = make(map[int][128]byte)
	var v [128]byte
	for i := 0; i < entries; i++ {
		v[0], v[1] = byte(i), byte(i>>8)
		m[i] = v
	}
	for i := live; i < entries; i++ {
		delete(m, i)
	}
	held := heapAfterGC() - before
	// classic bucket: 8 tophash + 8 keys + 8 values + overflow pointer;
	// swiss group: 8 ctrl bytes + 8 (key, value) slots.
	probe, capSlots := mapProbe(*(*unsafe.Pointer)(unsafe.Pointer(&m)), 8+8*keySize+8*valSize+8, 8+8*(keySize+valSize))
	t.Leak("map_capacity_after_delete", "main.m", ptrOf(m), held, "[128]uint8",
		live*(keySize+valSize), (capSlots-live)*(keySize+valSize),
		"addr is the map header (hmap / maps.Map); size is the heap growth measured "+
			"with MemStats around the fill+delete (the storage the map holds); waste = "+
			"(capacity_slots - live) * (key + value bytes per slot)").
		Set("key_type", "int").Set("map_type", "map[int][128]uint8").
		Set("inserted", entries).Set("deleted", entries-live).Set("live", len(m)).
		Set("slot_bytes", keySize+valSize).Set("value_indirect", false).
		Set("heap_bytes_held", held).Set("probe", probe)
}

func main() {
	t := newTruth("map_after_delete")
	setup(t)
	t.Set("expect_findings", []string{"map_capacity_after_delete"})
	t.Finish()
}
