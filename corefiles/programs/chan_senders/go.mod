module goautopsy.corpus/chan_senders

go 1.19
