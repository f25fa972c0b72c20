module goautopsy.corpus/hidden_beyond_len

go 1.19
