#include <inttypes.h>
#include <stdio.h>

#include "out/format.h"

const char *out_bytes(uint64_t n, char buf[32])
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)n;
	int u = 0;
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, 32, "%" PRIu64 " B", n);
	else
		snprintf(buf, 32, "%.1f %s", v, units[u]);
	return buf;
}

int out_json_print(FILE *f, json_t *v)
{
	if (!v)
		return -1;
	int rc = json_dumpf(v, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', f);
	json_decref(v);
	return rc;
}

json_t *out_json_addr(uint64_t addr)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "0x%" PRIx64, addr);
	return json_string(buf);
}
