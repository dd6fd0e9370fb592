/* use_polaroid.c - a program built only from the installed headers, library and pkg-config
 * file (`make check-install`): reads a file and checks the row and column counts it is given. */
#include <polaroid/polaroid.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: use_polaroid FILE ROWS COLUMNS\n");
        return 2;
    }
    pl_table *t = NULL;
    pl_error err;
    pl_error_init(&err);
    if (pl_read_table(1, (const char *const *)&argv[1], PL_FORMAT_AUTO, NULL, &t, &err)) {
        char buf[1024];
        fprintf(stderr, "use_polaroid: %s\n", pl_error_format(&err, buf, sizeof buf));
        return 1;
    }
    int ok = t->n_rows == atoll(argv[2]) && t->schema->n_fields == atoi(argv[3]);
    printf("%lld rows, %d columns: %s\n", (long long)t->n_rows, t->schema->n_fields, ok ? "ok" : "WRONG");
    pl_table_release(t);
    return ok ? 0 : 1;
}
