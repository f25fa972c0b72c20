// Case map_after_delete_big (leak-patterns.md #5, kind map_capacity_after_delete).
//
// Like map_after_delete, but the values are [256]byte: larger than 128 bytes,
// so both map implementations store a pointer in the slot and allocate the
// value separately. Deleting frees the values; only the (now pointer-sized)
// slots stay allocated, so the waste is much smaller than 100k * 256 bytes.
package main

import "unsafe"

var m map[int][256]byte

const (
	entries  = 100000
	live     = 3
	keySize  = 8
	slotElem = 8 // value stored indirectly: the slot holds a pointer
)

func setup(t *Truth) {
	before := heapAfterGC()
	m = make(map[int][256]byte)
	var v [256]byte
	for i := 0; i < entries; i++ {
		v[0], v[1] = byte(i), byte(i>>8)
		m[i] = v
	}
	for i := live; i < entries; i++ {
		delete(m, i)
	}
	held := heapAfterGC() - before
	probe, capSlots := mapProbe(*(*unsafe.Pointer)(unsafe.Pointer(&m)), 8+8*keySize+8*slotElem+8, 8+8*(keySize+slotElem))
	t.Leak("map_capacity_after_delete", "main.m", ptrOf(m), held, "[256]uint8",
		live*(keySize+256), (capSlots-live)*(keySize+slotElem),
		"values > 128 B are stored indirectly; deleted values are freed, the slots "+
			"(key + pointer) remain. size = measured heap held by the map incl. the "+
			"3 live 256 B values; waste = (capacity_slots - live) * 16").
		Set("key_type", "int").Set("map_type", "map[int][256]uint8").
		Set("inserted", entries).Set("deleted", entries-live).Set("live", len(m)).
		Set("slot_bytes", keySize+slotElem).Set("value_indirect", true).
		Set("heap_bytes_held", held).Set("probe", probe)
}

func main() {
	t := newTruth("map_after_delete_big")
	setup(t)
	t.Set("expect_findings", []string{"map_capacity_after_delete"})
	t.Finish()
}
