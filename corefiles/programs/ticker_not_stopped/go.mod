module goautopsy.corpus/ticker_not_stopped

go 1.19
