module goautopsy.corpus/slice_capacity

go 1.19
