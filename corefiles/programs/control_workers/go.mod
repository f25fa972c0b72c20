module goautopsy.corpus/control_workers

go 1.19
