module goautopsy.corpus/cleanup_self

go 1.19
