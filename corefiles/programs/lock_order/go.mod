module goautopsy.corpus/lock_order

go 1.19
