// Case substring (leak-patterns.md #6, kind substring_pins_string).
//
// keepStr = big[i+2:i+12] of a 16 MiB string: the 10-byte substring shares
// the big allocation and keeps all of it alive.
package main

import "strings"

var keepStr string

func getMessageType(s string, i int) string {
	return s[i+2 : i+12]
}

const size = 16 << 20

func setup(t *Truth) {
	big := strings.Repeat("0123456789abcdef", size/16)
	const i = 4096
	keepStr = getMessageType(big, i)
	t.Leak("substring_pins_string", "main.keepStr", strData(big), size, "uint8",
		int64(len(keepStr)), size-int64(len(keepStr)),
		"keepStr = big[4098:4108] of a 16 MiB strings.Repeat result").
		Set("object_type", "string data").
		Set("ref", NewObj().Set("ptr", strData(keepStr)).Set("len", len(keepStr)).
			Set("offset", int64(i+2)).Set("value", keepStr))
}

func main() {
	t := newTruth("substring")
	setup(t)
	t.Set("expect_findings", []string{"substring_pins_string"})
	t.Finish()
}
