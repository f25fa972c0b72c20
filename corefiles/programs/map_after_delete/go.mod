module goautopsy.corpus/map_after_delete

go 1.19
