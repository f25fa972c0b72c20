#ifndef GA_OUT_INFO_H
#define GA_OUT_INFO_H

#include <jansson.h>
#include <stdio.h>

#include "goautopsy/goautopsy.h"

void out_info_text(FILE *f, const struct ga_info *in);
json_t *out_info_json(const struct ga_info *in);

#endif
