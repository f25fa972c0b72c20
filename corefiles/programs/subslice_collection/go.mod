module goautopsy.corpus/subslice_collection

go 1.19
