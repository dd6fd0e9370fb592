/* replay_main.c - a plain main() for the fuzz targets: runs every file named on the command
 * line (or every regular file in a named directory, in name order) through
 * LLVMFuzzerTestOneInput once. scripts/fuzz.sh builds each tests/fuzz/fuzz_<target>.c with this
 * under ASan+UBSan and replays the committed corpora, so every input that once crashed stays
 * fixed. When a sanitizer aborts the process, the death callback names the input that did it. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* From the sanitizer runtime when linked in (weak: absent in plain builds). */
void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

#define REPLAY_PATH_MAX 4096

static char g_current[REPLAY_PATH_MAX];

static void on_death(void) {
    fprintf(stderr, "replay: crashed on input %s\n", g_current);
}

static int run_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return 1;
    }
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        fprintf(stderr, "replay: cannot seek %s\n", path);
        return 1;
    }
    long n = ftell(f);
    rewind(f);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    if (!buf || n < 0 || (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)) {
        fclose(f);
        free(buf);
        fprintf(stderr, "replay: cannot read %s\n", path);
        return 1;
    }
    fclose(f);
    snprintf(g_current, sizeof g_current, "%s", path);
    LLVMFuzzerTestOneInput(buf, (size_t)n);
    free(buf);
    return 0;
}

int main(int argc, char **argv) {
    int n_files = 0, rc = 0;
    if (__sanitizer_set_death_callback) __sanitizer_set_death_callback(on_death);
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            struct dirent **list;
            int n = scandir(argv[i], &list, NULL, alphasort);
            if (n < 0) {
                fprintf(stderr, "replay: cannot list %s\n", argv[i]);
                rc = 1;
                continue;
            }
            for (int k = 0; k < n; k++) {
                if (list[k]->d_name[0] != '.') {
                    char path[REPLAY_PATH_MAX];
                    snprintf(path, sizeof path, "%s/%s", argv[i], list[k]->d_name);
                    if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
                        rc |= run_file(path);
                        n_files++;
                    }
                }
                free(list[k]);
            }
            free(list);
        } else {
            rc |= run_file(argv[i]);
            n_files++;
        }
    }
    printf("replayed %d inputs\n", n_files);
    return rc;
}
