module goautopsy.corpus/interior_pointer

go 1.19
