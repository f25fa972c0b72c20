module goautopsy.corpus/mutex_tiny

go 1.19
