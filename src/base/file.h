/* Opening input files: plain, zstd-compressed (decided by content), or
 * standard input ("-"). Compressed and piped input is expanded into an
 * unlinked sparse temporary file so it can be mapped without holding it in RAM. */
#ifndef GA_BASE_FILE_H
#define GA_BASE_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "goautopsy/error.h"

struct ga_mapped_file {
	int fd;
	const uint8_t *data; /* private (copy-on-write) mapping of the (decompressed) content */
	size_t size;
	int compressed;      /* input was zstd */
	int from_stdin;
};

/* path "-" reads standard input. tmpdir may be NULL ($TMPDIR or /tmp). */
struct ga_error *ga_file_open(const char *path, const char *tmpdir,
			      struct ga_mapped_file *out);
void ga_file_close(struct ga_mapped_file *f);

/* Peak resident set size of this process so far (VmHWM), in bytes, and
 * (anon_now, may be NULL) the anonymous memory resident now (RssAnon: the
 * analyzer's own memory, without the mapped core's pages); 0 when
 * /proc/self/status cannot be read. For benchmarks. */
uint64_t ga_peak_rss(uint64_t *anon_now);
/* Monotonic wall clock, in seconds. */
double ga_now(void);

#endif
