#ifndef GA_OUT_MAPS_H
#define GA_OUT_MAPS_H

#include <jansson.h>
#include <stdio.h>

#include "goautopsy/maps.h"

void out_map_text(FILE *f, const struct ga_map_summary *m);
json_t *out_map_json(const struct ga_map_summary *m);

#endif
