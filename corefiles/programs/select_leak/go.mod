module goautopsy.corpus/select_leak

go 1.19
