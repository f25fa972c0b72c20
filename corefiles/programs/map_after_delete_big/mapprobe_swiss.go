//go:build go1.24

// Map probe for Swiss-table maps (internal/runtime/maps, Go 1.24+). It reads the
// map header directly so truth.json can state the capacity the analyzer must
// find. Identical in map_after_delete and map_after_delete_big.

package main

import "unsafe"

// Map, table and groupsReference as declared in internal/runtime/maps
// (identical in Go 1.24 .. 1.27).
type swissMap struct {
	used              uint64
	seed              uintptr
	dirPtr            unsafe.Pointer
	dirLen            int
	globalDepth       uint8
	globalShift       uint8
	writing           uint8
	tombstonePossible bool
	clearSeq          uint64
}

type swissTable struct {
	used       uint16
	capacity   uint16
	growthLeft uint16
	localDepth uint8
	index      int
	groupsData unsafe.Pointer
	lengthMask uint64
}

// countCtrl counts full / empty (0x80) / deleted (0xFE) control bytes in n
// groups of groupSize bytes starting at data; the ctrl word is each group's
// first 8 bytes in every layout.
func countCtrl(data unsafe.Pointer, n, groupSize int64) (full, empty, deleted int64) {
	for g := int64(0); g < n; g++ {
		ctrl := *(*uint64)(unsafe.Add(data, g*groupSize))
		for i := 0; i < 8; i++ {
			switch c := byte(ctrl >> (8 * i)); {
			case c == 0x80:
				empty++
			case c == 0xFE:
				deleted++
			case c&0x80 == 0:
				full++
			}
		}
	}
	return
}

// mapProbe describes the map whose header (hmap / maps.Map) is at h. bucketSize is unused here
// (classic maps); groupSize is 8 ctrl bytes + 8 slots.
func mapProbe(h unsafe.Pointer, bucketSize, groupSize int64) (*Obj, int64) {
	m := (*swissMap)(h)
	o := NewObj().Set("layout", "swiss table (internal/runtime/maps)").
		Set("used", int64(m.used)).Set("dirPtr", addrOf(m.dirPtr)).Set("dirLen", m.dirLen).
		Set("globalDepth", int(m.globalDepth)).Set("group_size", groupSize)
	var capSlots, full, empty, deleted int64
	switch {
	case m.dirPtr == nil:
	case m.dirLen == 0: // small map: dirPtr is one group
		capSlots = 8
		full, empty, deleted = countCtrl(m.dirPtr, 1, groupSize)
	default:
		dir := (*[1 << 20]*swissTable)(m.dirPtr)[:m.dirLen:m.dirLen]
		var tables, groups []Hex
		var caps, used []int64
		seen := map[*swissTable]bool{}
		for _, tb := range dir {
			if seen[tb] {
				continue // a table appears 1<<(globalDepth-localDepth) times
			}
			seen[tb] = true
			tables = append(tables, addrOf(unsafe.Pointer(tb)))
			groups = append(groups, addrOf(tb.groupsData))
			caps = append(caps, int64(tb.capacity))
			used = append(used, int64(tb.used))
			capSlots += int64(tb.capacity)
			f, e, d := countCtrl(tb.groupsData, int64(tb.lengthMask)+1, groupSize)
			full, empty, deleted = full+f, empty+e, deleted+d
		}
		o.Set("tables", tables).Set("table_groups", groups).
			Set("table_capacity", caps).Set("table_used", used)
	}
	o.Set("capacity_slots", capSlots).Set("full_slots", full).
		Set("empty_slots", empty).Set("tombstones", deleted)
	return o, capSlots
}
