module goautopsy.corpus/select_empty

go 1.19
