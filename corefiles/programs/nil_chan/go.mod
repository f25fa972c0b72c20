module goautopsy.corpus/nil_chan

go 1.19
