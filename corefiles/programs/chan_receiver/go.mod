module goautopsy.corpus/chan_receiver

go 1.19
