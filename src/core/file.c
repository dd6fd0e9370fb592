/* file.c - reading whole files into buffers (mmap'ed read-only, so large files cost no copy). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"

static void unmap_release(pl_buf *b) {
    if (b->size > 0) munmap(b->data, (size_t)b->size);
}

pl_status pl_file_read_all(const char *path, pl_buf **out, pl_error *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        pl_error_set_path(err, path);
        PL_FAIL(err, e == ENOENT ? PL_ERR_NOT_FOUND : PL_ERR_IO, "cannot open file: %s", strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int e = errno;
        close(fd);
        pl_error_set_path(err, path);
        PL_FAIL(err, PL_ERR_IO, "not a regular file%s%s", e ? ": " : "", e ? strerror(e) : "");
    }
    static uint8_t empty[1];
    uint8_t *data = empty;
    if (st.st_size > 0) {
        void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            int e = errno;
            close(fd);
            pl_error_set_path(err, path);
            PL_FAIL(err, PL_ERR_IO, "cannot map file: %s", strerror(e));
        }
        data = m;
    }
    close(fd);
    pl_status st2 = pl_buf_wrap(data, (int64_t)st.st_size, unmap_release, NULL, out, err);
    if (st2 && st.st_size > 0) munmap(data, (size_t)st.st_size);
    return st2;
}
