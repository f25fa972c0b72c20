//go:build !go1.24

// Map probe for the classic hash map (runtime/map.go, Go <= 1.23). It reads the
// map header directly so truth.json can state the capacity the analyzer must
// find. Identical in map_after_delete and map_after_delete_big.

package main

import "unsafe"

// hmap as declared in runtime/map.go (Go 1.19 .. 1.23).
type hmapHeader struct {
	count      int
	flags      uint8
	B          uint8
	noverflow  uint16
	hash0      uint32
	buckets    unsafe.Pointer
	oldbuckets unsafe.Pointer
	nevacuate  uintptr
	extra      unsafe.Pointer
}

// mapProbe describes the map whose header (hmap / maps.Map) is at h. groupSize is unused here
// (it is the Swiss-table group size); bucketSize is the classic bucket size.
func mapProbe(h unsafe.Pointer, bucketSize, groupSize int64) (*Obj, int64) {
	m := (*hmapHeader)(h)
	capSlots := int64(8)<<m.B + 8*int64(m.noverflow)
	o := NewObj().Set("layout", "classic hmap (runtime/map.go)").
		Set("count", m.count).Set("B", int(m.B)).Set("noverflow", int(m.noverflow)).
		Set("buckets", addrOf(m.buckets)).Set("oldbuckets", addrOf(m.oldbuckets)).
		Set("bucket_size", bucketSize).
		Set("buckets_bytes", (int64(1)<<m.B)*bucketSize).
		Set("capacity_slots", capSlots).
		Set("capacity_note", "8<<B + 8*noverflow (noverflow is exact for B < 16)")
	return o, capSlots
}
