module goautopsy.corpus/self_deadlock

go 1.19
