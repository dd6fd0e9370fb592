/* paths.c - client paths resolved under --data-root.
 *
 * A client path is relative to the data root and may hold glob wildcards (* ? [). Refused with
 * PL_ERR_PERMISSION: absolute paths, ".." components, and anything whose real location (every
 * symlink followed) is outside the root: the deepest existing prefix of the path is resolved
 * with realpath, a dangling symlink after it is refused, and every match of a glob is resolved
 * and checked. Missing files are not an error here (the reader reports NOT_FOUND, and Write
 * creates them), except a glob that matches nothing: PL_ERR_NOT_FOUND. Messages show only the
 * client's path, never the root. */
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/core.h"
#include "server/catalog.h"
#include "server/service.h"

#define PL_SRV_MAX_PATH 4096

static bool is_glob(const char *p) { return strpbrk(p, "*?[") != NULL; }

/* root is canonical (no trailing slash, except "/" itself). */
static bool under_root(const char *root, const char *real) {
    size_t rn = strlen(root);
    if (rn == 1 && root[0] == '/') return real[0] == '/';
    return strncmp(real, root, rn) == 0 && (real[rn] == '\0' || real[rn] == '/');
}

static pl_status escape(const char *path, pl_error *err) {
    pl_error_set(err, PL_ERR_PERMISSION, "path \"%s\" leaves the data root", path);
    if (err) snprintf(err->hint, sizeof err->hint, "paths are relative to the server's --data-root");
    return PL_ERR_PERMISSION;
}

pl_status pl_srv_check_path_syntax(const char *path, pl_error *err) {
    if (!path || !path[0]) PL_FAIL(err, PL_ERR_INVALID_ARG, "empty path");
    size_t n = strlen(path);
    if (n >= PL_SRV_MAX_PATH / 2)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "path of %zu bytes is too long", n);
    if (path[0] == '/') {
        pl_error_set(err, PL_ERR_PERMISSION, "path \"%s\" is absolute", path);
        if (err) snprintf(err->hint, sizeof err->hint, "paths are relative to the server's --data-root");
        return PL_ERR_PERMISSION;
    }
    for (const char *p = path; *p;) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == 2 && p[0] == '.' && p[1] == '.') return escape(path, err);
        if (!e) break;
        p = e + 1;
    }
    for (const char *p = path; *p; p++)
        if ((unsigned char)*p < 0x20)
            PL_FAIL(err, PL_ERR_INVALID_ARG, "path holds a control character (byte 0x%02x)",
                    (unsigned char)*p);
    return PL_OK;
}

/* The real location of `full` (root + "/" + client path, no wildcards): realpath of the deepest
 * existing prefix plus the rest. */
static pl_status resolve_one(const char *root, const char *client, const char *full, char **out,
                             pl_error *err) {
    char real[PATH_MAX];
    if (realpath(full, real)) {
        if (!under_root(root, real)) return escape(client, err);
        char *r = pl_strdup(real);
        if (!r) PL_FAIL(err, PL_ERR_NOMEM, "out of memory resolving a path");
        *out = r;
        return PL_OK;
    }
    size_t n = strlen(full);
    char *buf = pl_malloc(n + 1);
    if (!buf) PL_FAIL(err, PL_ERR_NOMEM, "out of memory resolving a path");
    memcpy(buf, full, n + 1);
    size_t rn = strlen(root);
    size_t cut = n;
    pl_status st = PL_OK;
    for (;;) {
        /* cut at the previous '/' */
        while (cut > rn && buf[cut - 1] != '/') cut--;
        if (cut <= rn) {
            cut = rn;
            memcpy(real, root, rn + 1);
            break;
        }
        buf[cut - 1] = '\0';
        if (realpath(buf, real)) break;
        cut--;
    }
    if (!under_root(root, real)) {
        pl_free(buf);
        return escape(client, err);
    }
    /* the first missing component must not be a (dangling) symlink */
    const char *rest = full + (cut == rn ? rn + 1 : cut);
    const char *slash = strchr(rest, '/');
    size_t first_len = slash ? (size_t)(slash - rest) : strlen(rest);
    size_t real_len = strlen(real);
    char *joined = pl_malloc(real_len + 1 + strlen(rest) + 1);
    if (!joined) {
        pl_free(buf);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory resolving a path");
    }
    memcpy(joined, real, real_len);
    joined[real_len] = '/';
    memcpy(joined + real_len + 1, rest, first_len);
    joined[real_len + 1 + first_len] = '\0';
    struct stat sb;
    if (lstat(joined, &sb) == 0 && S_ISLNK(sb.st_mode)) st = escape(client, err);
    if (st == PL_OK) {
        strcpy(joined + real_len + 1, rest);
        *out = joined;
    } else {
        pl_free(joined);
    }
    pl_free(buf);
    return st;
}

static pl_status resolve_glob(const char *root, const char *client, const char *full, char **out,
                              pl_error *err) {
    glob_t g;
    memset(&g, 0, sizeof g);
    int rc = glob(full, GLOB_NOSORT, NULL, &g);
    if (rc == GLOB_NOMATCH || (rc == 0 && g.gl_pathc == 0)) {
        globfree(&g);
        pl_error_set(err, PL_ERR_NOT_FOUND, "no file matches \"%s\"", client);
        pl_error_set_path(err, client);
        return PL_ERR_NOT_FOUND;
    }
    if (rc != 0) {
        globfree(&g);
        PL_FAIL(err, rc == GLOB_NOSPACE ? PL_ERR_NOMEM : PL_ERR_IO, "cannot expand \"%s\"", client);
    }
    pl_status st = PL_OK;
    char real[PATH_MAX];
    for (size_t i = 0; i < g.gl_pathc && !st; i++) {
        if (!realpath(g.gl_pathv[i], real)) {
            /* a dangling symlink matched: refuse rather than guess */
            struct stat sb;
            if (lstat(g.gl_pathv[i], &sb) == 0 && S_ISLNK(sb.st_mode)) st = escape(client, err);
            continue;
        }
        if (!under_root(root, real)) st = escape(client, err);
    }
    globfree(&g);
    if (st) return st;
    char *r = pl_strdup(full);
    if (!r) PL_FAIL(err, PL_ERR_NOMEM, "out of memory resolving a path");
    *out = r;
    return PL_OK;
}

pl_status pl_srv_resolve_path(const char *root, const char *path, char **out, pl_error *err) {
    if (!root || !root[0] || root[0] != '/')
        PL_FAIL(err, PL_ERR_INTERNAL, "the data root must be an absolute path");
    PL_TRY(pl_srv_check_path_syntax(path, err));
    /* "./a//b" -> "a/b" */
    size_t rn = strlen(root);
    while (rn > 1 && root[rn - 1] == '/') rn--;
    size_t pn = strlen(path);
    char *full = pl_malloc(rn + 1 + pn + 1);
    if (!full) PL_FAIL(err, PL_ERR_NOMEM, "out of memory resolving a path");
    memcpy(full, root, rn);
    size_t k = rn;
    for (const char *p = path; *p;) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len > 0 && !(len == 1 && p[0] == '.')) {
            full[k++] = '/';
            memcpy(full + k, p, len);
            k += len;
        }
        if (!e) break;
        p = e + 1;
    }
    full[k] = '\0';
    char rootc[PATH_MAX];
    if (rn >= sizeof rootc) {
        pl_free(full);
        PL_FAIL(err, PL_ERR_INVALID_ARG, "data root path too long");
    }
    memcpy(rootc, root, rn);
    rootc[rn] = '\0';
    pl_status st;
    if (k == rn) {
        pl_free(full);
        PL_FAIL(err, PL_ERR_INVALID_ARG, "path \"%s\" names the data root itself", path);
    }
    if (k >= PATH_MAX) {
        pl_free(full);
        PL_FAIL(err, PL_ERR_INVALID_ARG, "path \"%s\" is too long", path);
    }
    if (is_glob(path)) st = resolve_glob(rootc, path, full, out, err);
    else st = resolve_one(rootc, path, full, out, err);
    pl_free(full);
    return st;
}
