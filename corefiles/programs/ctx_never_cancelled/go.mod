module goautopsy.corpus/ctx_never_cancelled

go 1.19
