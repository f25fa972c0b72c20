// Case hidden_beyond_len (leak-patterns.md #3, kind hidden_beyond_len).
//
// keep = data[:2] of a []Data whose 64 elements each own a 256 KiB buffer:
// the 62 elements in [len, cap) are invisible to the program but their
// buffers stay reachable through the backing array.
package main

import "unsafe"

type Data struct {
	buf []byte
}

var keep []Data

const (
	count  = 64
	bufLen = 256 << 10
)

func load() []Data {
	data := make([]Data, count)
	for i := range data {
		data[i].buf = make([]byte, bufLen)
		fill(data[i].buf)
	}
	return data
}

func setup(t *Truth) {
	data := load()
	keep = data[:2]
	elem := int64(unsafe.Sizeof(data[0]))
	hidden := make([]Hex, 0, count-2)
	for _, d := range data[2:] {
		hidden = append(hidden, ptrOf(d.buf))
	}
	visible := []Hex{ptrOf(data[0].buf), ptrOf(data[1].buf)}
	t.Leak("hidden_beyond_len", "main.keep", ptrOf(data), count*elem, typeName(data[0]),
		int64(len(keep))*elem, (count-2)*bufLen,
		"keep = data[:2]; waste = the 62 []byte buffers (256 KiB each) reachable only "+
			"through slots [2,64) of the backing array. addr is &data[0]; with Go 1.22+ "+
			"malloc headers the heap slot starts 8 bytes earlier").
		Set("len", len(keep)).Set("cap", cap(keep)).
		Set("hidden_count", count-2).Set("hidden_each_size", int64(bufLen)).
		Set("hidden_elem_type", typeName(data[0].buf[0])).
		Set("hidden_objects", hidden).Set("visible_objects", visible)
}

func main() {
	t := newTruth("hidden_beyond_len")
	setup(t)
	t.Set("expect_findings", []string{"hidden_beyond_len"})
	t.Finish()
}
