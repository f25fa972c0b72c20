module goautopsy.corpus/substring

go 1.19
