// Control control_copied: must produce NO findings.
//
// The fixed versions of the slice and string patterns: windows are copied out
// of big buffers (append([]byte(nil), ...), append(x[:0:0], ...), a
// strings.Builder copy for strings, since bytes.Clone and strings.Clone are not
// in Go 1.19) and the big buffers are dropped and freed. Also two things that
// look like the patterns but are below any sane threshold: a sub-slice of a
// 64-byte array and a slice whose hidden tail holds only nils.
package main

import "strings"

var (
	keepCopy  []byte   // append([]byte(nil), data[i+2:i+12]...)
	keepCopy2 []byte   // append(x[:0:0], x...)
	keepStr   string   // copied substring
	smallSub  []byte   // 10 bytes of a 64-byte array: not worth reporting
	shortTail []*int64 // len 2, cap 64, the tail is all nil
)

const size = 16 << 20

func copyBytes() {
	data := make([]byte, size)
	fill(data)
	keepCopy = append([]byte(nil), data[1002:1012]...)
	x := data[5000:5010]
	keepCopy2 = append(x[:0:0], x...)
}

func copyString() {
	big := strings.Repeat("0123456789abcdef", size/16)
	var b strings.Builder
	b.WriteString(big[4098:4108])
	keepStr = b.String()
}

func small() {
	arr := make([]byte, 64)
	fill(arr)
	smallSub = arr[2:12]
	s := make([]*int64, 64)
	v, w := new(int64), new(int64)
	s[0], s[1] = v, w
	shortTail = s[:2]
}

func setup(t *Truth) {
	copyBytes()
	copyString()
	small()
	t.Set("copies", []interface{}{
		NewObj().Set("holder", "main.keepCopy").Set("addr", ptrOf(keepCopy)).Set("len", len(keepCopy)).Set("cap", cap(keepCopy)),
		NewObj().Set("holder", "main.keepCopy2").Set("addr", ptrOf(keepCopy2)).Set("len", len(keepCopy2)).Set("cap", cap(keepCopy2)),
		NewObj().Set("holder", "main.keepStr").Set("addr", strData(keepStr)).Set("len", len(keepStr)),
	})
	t.Set("below_threshold", []interface{}{
		NewObj().Set("holder", "main.smallSub").Set("addr", ptrOf(smallSub)).
			Set("len", len(smallSub)).Set("cap", cap(smallSub)).Set("array_size", 64).
			Set("note", "sub-slice of a 64-byte array: at most 54 bytes pinned"),
		NewObj().Set("holder", "main.shortTail").Set("addr", ptrOf(shortTail)).
			Set("len", len(shortTail)).Set("cap", cap(shortTail)).
			Set("note", "hidden tail [2,64) holds only nil pointers"),
	})
	t.Set("freed", "the 16 MiB []byte and the 16 MiB string were dropped and must be "+
		"free in the core (memstats.HeapAlloc is far below 16 MiB)")
}

func main() {
	t := newTruth("control_copied")
	setup(t)
	t.Finish()
}
