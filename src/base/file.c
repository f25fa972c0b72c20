#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "base/file.h"

static const uint8_t zstd_magic[4] = {0x28, 0xb5, 0x2f, 0xfd};

#define BLOCK 65536

static struct ga_error *make_temp(const char *tmpdir, int *fd_out)
{
	if (!tmpdir || !*tmpdir)
		tmpdir = getenv("TMPDIR");
	if (!tmpdir || !*tmpdir)
		tmpdir = "/tmp";
	size_t n = strlen(tmpdir) + 32;
	char *tmpl = malloc(n);
	if (!tmpl)
		return &ga_error_nomem;
	snprintf(tmpl, n, "%s/goautopsy-XXXXXX", tmpdir);
	int fd = mkstemp(tmpl);
	if (fd < 0) {
		struct ga_error *err = ga_error_create(
			GA_ERR_IO, "cannot create temporary file in %s: %s", tmpdir,
			strerror(errno));
		free(tmpl);
		return err;
	}
	unlink(tmpl); /* gone with the descriptor */
	free(tmpl);
	*fd_out = fd;
	return NULL;
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* Writes buf at *pos, leaving holes for all-zero 4 KiB blocks so the
 * expanded file stays as sparse as the core was. */
static int sparse_write(int fd, const uint8_t *buf, size_t n, uint64_t *pos)
{
	size_t i = 0;
	while (i < n) {
		size_t chunk = n - i < 4096 ? n - i : 4096;
		if (!all_zero(buf + i, chunk)) {
			size_t done = 0;
			while (done < chunk) {
				ssize_t w = pwrite(fd, buf + i + done, chunk - done,
						   (off_t)(*pos + done));
				if (w < 0) {
					if (errno == EINTR)
						continue;
					return -1;
				}
				done += (size_t)w;
			}
		}
		*pos += chunk;
		i += chunk;
	}
	return 0;
}

static ssize_t read_full(int fd, uint8_t *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* Expands `in` (whose first `nhead` bytes were already read into head)
 * into the temporary file `out`, decompressing when zstd. */
static struct ga_error *expand(int in, const uint8_t *head, size_t nhead, int zstd,
			       const char *name, int out, uint64_t *size_out)
{
	struct ga_error *err = NULL;
	uint8_t *ibuf = malloc(ZSTD_DStreamInSize() > BLOCK ? ZSTD_DStreamInSize() : BLOCK);
	size_t obufsz = ZSTD_DStreamOutSize();
	uint8_t *obuf = malloc(obufsz);
	ZSTD_DStream *ds = zstd ? ZSTD_createDStream() : NULL;
	uint64_t pos = 0;
	size_t ibufsz = ZSTD_DStreamInSize() > BLOCK ? ZSTD_DStreamInSize() : BLOCK;
	if (!ibuf || !obuf || (zstd && !ds)) {
		err = &ga_error_nomem;
		goto out;
	}
	size_t last_ret = 0;
	int first = 1;
	for (;;) {
		size_t n;
		if (first) {
			memcpy(ibuf, head, nhead);
			ssize_t r = read_full(in, ibuf + nhead, ibufsz - nhead);
			if (r < 0)
				goto readerr;
			n = nhead + (size_t)r;
			first = 0;
		} else {
			ssize_t r = read_full(in, ibuf, ibufsz);
			if (r < 0)
				goto readerr;
			n = (size_t)r;
		}
		if (n == 0)
			break;
		if (!zstd) {
			if (sparse_write(out, ibuf, n, &pos))
				goto writeerr;
			continue;
		}
		ZSTD_inBuffer ib = {ibuf, n, 0};
		while (ib.pos < ib.size) {
			ZSTD_outBuffer ob = {obuf, obufsz, 0};
			size_t ret = ZSTD_decompressStream(ds, &ob, &ib);
			if (ZSTD_isError(ret)) {
				err = ga_error_create(GA_ERR_FORMAT,
						      "%s: corrupt zstd data at compressed offset ~%llu: %s",
						      name, (unsigned long long)pos,
						      ZSTD_getErrorName(ret));
				goto out;
			}
			last_ret = ret;
			if (sparse_write(out, obuf, ob.pos, &pos))
				goto writeerr;
		}
	}
	if (zstd && last_ret != 0) {
		err = ga_error_create(GA_ERR_FORMAT,
				      "%s: zstd stream is truncated (ends after %llu decompressed bytes)",
				      name, (unsigned long long)pos);
		goto out;
	}
	if (ftruncate(out, (off_t)pos)) /* trailing holes */
		goto writeerr;
	*size_out = pos;
	goto out;
readerr:
	err = ga_error_create(GA_ERR_IO, "%s: read error: %s", name, strerror(errno));
	goto out;
writeerr:
	err = ga_error_create(GA_ERR_IO, "%s: cannot write temporary file: %s", name,
			      strerror(errno));
out:
	free(ibuf);
	free(obuf);
	if (ds)
		ZSTD_freeDStream(ds);
	return err;
}

struct ga_error *ga_file_open(const char *path, const char *tmpdir,
			      struct ga_mapped_file *out)
{
	memset(out, 0, sizeof(*out));
	out->fd = -1;
	int from_stdin = !strcmp(path, "-");
	const char *name = from_stdin ? "<stdin>" : path;
	int fd = from_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ga_error_create(GA_ERR_IO, "cannot open %s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st)) {
		struct ga_error *err = ga_error_create(GA_ERR_IO, "cannot stat %s: %s", name, strerror(errno));
		if (!from_stdin)
			close(fd);
		return err;
	}
	if (S_ISDIR(st.st_mode)) {
		if (!from_stdin)
			close(fd);
		return ga_error_create(GA_ERR_IO, "%s is a directory", name);
	}
	uint8_t head[4] = {0};
	size_t nhead = 0;
	int zstd = 0;
	if (!from_stdin && S_ISREG(st.st_mode)) {
		ssize_t r = pread(fd, head, sizeof(head), 0);
		if (r < 0) {
			struct ga_error *err = ga_error_create(GA_ERR_IO, "cannot read %s: %s", name, strerror(errno));
			close(fd);
			return err;
		}
		zstd = r == 4 && !memcmp(head, zstd_magic, 4);
		if (!zstd) {
			if (st.st_size == 0) {
				close(fd);
				return ga_error_create(GA_ERR_FORMAT, "%s is empty", name);
			}
			void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
			if (p == MAP_FAILED) {
				struct ga_error *err = ga_error_create(GA_ERR_IO, "cannot map %s: %s", name, strerror(errno));
				close(fd);
				return err;
			}
			out->fd = fd;
			out->data = p;
			out->size = (size_t)st.st_size;
			return NULL;
		}
		nhead = 0; /* re-read from the start through read() */
		if (lseek(fd, 0, SEEK_SET) < 0) {
			close(fd);
			return ga_error_create(GA_ERR_IO, "cannot seek %s", name);
		}
	} else {
		ssize_t r = read_full(fd, head, sizeof(head));
		if (r < 0)
			return ga_error_create(GA_ERR_IO, "cannot read %s: %s", name, strerror(errno));
		nhead = (size_t)r;
		zstd = nhead == 4 && !memcmp(head, zstd_magic, 4);
	}
	int tmp = -1;
	struct ga_error *err = make_temp(tmpdir, &tmp);
	if (!err) {
		uint64_t size = 0;
		err = expand(fd, head, nhead, zstd, name, tmp, &size);
		if (!err && size == 0)
			err = ga_error_create(GA_ERR_FORMAT, "%s is empty", name);
		if (!err) {
			void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, tmp, 0);
			if (p == MAP_FAILED) {
				err = ga_error_create(GA_ERR_IO, "cannot map expanded %s: %s", name, strerror(errno));
			} else {
				out->fd = tmp;
				out->data = p;
				out->size = size;
				out->compressed = zstd;
				out->from_stdin = from_stdin;
			}
		}
		if (err)
			close(tmp);
	}
	if (!from_stdin)
		close(fd);
	return err;
}

void ga_file_close(struct ga_mapped_file *f)
{
	if (f->data)
		munmap((void *)f->data, f->size);
	if (f->fd >= 0)
		close(f->fd);
	memset(f, 0, sizeof(*f));
	f->fd = -1;
}

uint64_t ga_peak_rss(uint64_t *anon_now)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	uint64_t kb = 0, anon = 0;
	if (anon_now)
		*anon_now = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "VmHWM:", 6))
			kb = strtoull(line + 6, NULL, 10);
		else if (!strncmp(line, "RssAnon:", 8))
			anon = strtoull(line + 8, NULL, 10);
	}
	fclose(f);
	if (anon_now)
		*anon_now = anon * 1024;
	return kb * 1024;
}

double ga_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
