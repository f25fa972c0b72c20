// Case subslice_collection (leak-patterns.md #1 repeated, kind
// subslice_pins_array).
//
// An index keeps a 16-byte window of each of 24 one-MiB buffers in a map.
// Each window alone wastes just under 1 MiB (below a per-object threshold
// of 1 MiB); together they waste 24 MiB, all held by the one map. The
// report must sum them into one finding held by `main.index[*]`.
package main

import "strconv"

var index = map[string][]byte{}

const (
	n    = 24
	size = 1 << 20
)

func setup(t *Truth) {
	var first Hex
	for i := 0; i < n; i++ {
		buf := make([]byte, size)
		fill(buf)
		if i == 0 {
			first = ptrOf(buf)
		}
		index["k"+strconv.Itoa(i)] = buf[100:116]
	}
	t.Leak("subslice_pins_array", "main.index[*]", first, size, typeName(byte(0)),
		16, n*(size-16),
		"index[k] = buf[100:116] for 24 buffers of 1 MiB: each wastes just under 1 MiB, together 24 MiB")
}

func main() {
	t := newTruth("subslice_collection")
	setup(t)
	t.Set("expect_findings", []string{"subslice_pins_array"})
	t.Finish()
}
