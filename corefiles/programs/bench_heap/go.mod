module goautopsy.corpus/bench_heap

go 1.19
