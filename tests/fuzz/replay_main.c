/* replay_main.c - a plain main() for the fuzz targets: runs every file named on the command
 * line (or every file in a named directory) through LLVMFuzzerTestOneInput once. `make test`
 * builds each tests/fuzz/fuzz_<target>.c with this under ASan+UBSan and replays the committed
 * corpora, so every input that once crashed stays fixed. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    if (!buf || (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)) {
        fclose(f);
        free(buf);
        fprintf(stderr, "replay: cannot read %s\n", path);
        return 1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, (size_t)n);
    free(buf);
    return 0;
}

int main(int argc, char **argv) {
    int n_files = 0, rc = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            struct dirent **list;
            int n = scandir(argv[i], &list, NULL, alphasort);
            for (int k = 0; k < n; k++) {
                if (list[k]->d_name[0] != '.') {
                    char path[4096];
                    snprintf(path, sizeof path, "%s/%s", argv[i], list[k]->d_name);
                    if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
                        rc |= run_file(path);
                        n_files++;
                    }
                }
                free(list[k]);
            }
            if (n >= 0) free(list);
        } else {
            rc |= run_file(argv[i]);
            n_files++;
        }
    }
    printf("replayed %d inputs\n", n_files);
    return rc;
}
