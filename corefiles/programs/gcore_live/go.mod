module goautopsy.corpus/gcore_live

go 1.19
