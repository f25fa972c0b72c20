module goautopsy.corpus/cond_never_signalled

go 1.19
