module goautopsy.corpus/subslice

go 1.19
