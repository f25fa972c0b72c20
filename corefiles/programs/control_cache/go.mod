module goautopsy.corpus/control_cache

go 1.19
