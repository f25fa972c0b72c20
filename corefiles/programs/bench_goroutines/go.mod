module goautopsy.corpus/bench_goroutines

go 1.19
