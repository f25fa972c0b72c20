/* Shared helpers for the text and JSON outputs. */
#ifndef GA_OUT_FORMAT_H
#define GA_OUT_FORMAT_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

/* "12.3 MiB"; buf must hold 32 bytes. */
const char *out_bytes(uint64_t n, char buf[32]);
/* Prints and frees a JSON value; returns 0 or -1. */
int out_json_print(FILE *f, json_t *v);
/* "0x..." string for an address. */
json_t *out_json_addr(uint64_t addr);

#endif
