module goautopsy.corpus/control_copied

go 1.19
