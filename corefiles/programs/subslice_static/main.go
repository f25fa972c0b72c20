// Case subslice_static (leak-patterns.md #1, kind subslice_pins_array).
//
// As subslice, but the window is kept in a field of a struct that a global
// points to: `var reg = &Registry{...}` is laid out by the linker as an
// anonymous static in the data segment, which DWARF does not name; only the
// pointer variable reg has a name. The holder is reg's pointee.
package main

// Registry is a typical package-level singleton.
type Registry struct {
	name string
	last []byte
}

var reg = &Registry{name: "messages"}

func getMessageType(data []byte, i int) []byte {
	return data[i+2 : i+12]
}

const size = 16 << 20

func setup(t *Truth) {
	data := make([]byte, size)
	fill(data)
	const i = 1000
	reg.last = getMessageType(data, i)
	t.Leak("subslice_pins_array", "*main.reg.last", ptrOf(data), size, typeName(data[0]),
		int64(len(reg.last)), size-int64(len(reg.last)),
		"reg.last = data[1002:1012] in the static *reg: 10 bytes in use, the 16 MiB backing array pinned").
		Set("ref", NewObj().Set("ptr", ptrOf(reg.last)).Set("len", len(reg.last)).Set("cap", cap(reg.last)).
			Set("offset", int64(i+2)))
}

func main() {
	t := newTruth("subslice_static")
	setup(t)
	t.Set("expect_findings", []string{"subslice_pins_array"})
	t.Finish()
}
