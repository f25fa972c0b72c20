module goautopsy.corpus/map_after_delete_big

go 1.19
