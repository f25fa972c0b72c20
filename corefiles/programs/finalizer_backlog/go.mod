module goautopsy.corpus/finalizer_backlog

go 1.19
