module goautopsy.corpus/finalizer_cycle

go 1.19
