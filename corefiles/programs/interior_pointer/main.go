// Case interior_pointer (leak-patterns.md #2, kind interior_pointer_pins_array).
//
// A pointer to one element of a 1M-element []int (8 MiB) is kept; the GC must
// keep the whole array alive for that one 8-byte element.
package main

import "unsafe"

// keepPtr points into the middle of the array, not at its start.
var keepPtr *int

func findElem(data []int, idx int) *int {
	return &data[idx]
}

const n = 1 << 20

func setup(t *Truth) {
	data := make([]int, n)
	for i := range data {
		data[i] = i % 1000 // compressible, but touched
	}
	const idx = 12345
	keepPtr = findElem(data, idx)
	elem := int64(unsafe.Sizeof(data[0]))
	t.Leak("interior_pointer_pins_array", "main.keepPtr", ptrOf(data), n*elem, typeName(data[0]),
		elem, n*elem-elem,
		"keepPtr = &data[12345]: one int reachable, the 8 MiB array pinned").
		Set("ref", NewObj().Set("ptr", addrOf(unsafe.Pointer(keepPtr))).Set("index", idx).
			Set("offset", idx*elem))
}

func main() {
	t := newTruth("interior_pointer")
	setup(t)
	t.Set("expect_findings", []string{"interior_pointer_pins_array"})
	t.Finish()
}
