module goautopsy.corpus/subslice_static

go 1.19
