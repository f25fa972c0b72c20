module goautopsy.corpus/waitgroup_missing_done

go 1.19
