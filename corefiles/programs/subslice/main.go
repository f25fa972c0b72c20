// Case subslice (leak-patterns.md #1, kind subslice_pins_array).
//
// A function returns data[i+2:i+12] of a 16 MiB []byte and the result is kept
// in a global: only 10 bytes are reachable, the whole array stays alive.
package main

// keep is the only reference left to the big array.
var keep []byte

// getMessageType mimics the article: it returns a window into its input
// instead of a copy.
func getMessageType(data []byte, i int) []byte {
	return data[i+2 : i+12]
}

const size = 16 << 20

func setup(t *Truth) {
	data := make([]byte, size)
	fill(data)
	const i = 1000
	keep = getMessageType(data, i)
	t.Leak("subslice_pins_array", "main.keep", ptrOf(data), size, typeName(data[0]),
		int64(len(keep)), size-int64(len(keep)),
		"keep = data[1002:1012]: 10 bytes in use, the 16 MiB backing array pinned").
		Set("ref", NewObj().Set("ptr", ptrOf(keep)).Set("len", len(keep)).Set("cap", cap(keep)).
			Set("offset", int64(i+2)))
}

func main() {
	t := newTruth("subslice")
	setup(t)
	t.Set("expect_findings", []string{"subslice_pins_array"})
	t.Finish()
}
