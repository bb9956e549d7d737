/* A downstream C program, built against an installed espcn through
 * pkg-config or find_package(espcn): the install is usable as shipped.
 * With an argument, the folder where the library must find its shipped
 * models by itself (no ESPCN_MODEL_DIR): the default x2 model must load. */
#define _XOPEN_SOURCE 700 /* realpath, PATH_MAX under -std=c99 */
#include <espcn/espcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_model_dir(const char *expected) {
    char want[PATH_MAX], got[PATH_MAX], model[PATH_MAX + 32];
    const char *dir = espcn_default_model_dir();
    espcn_params p = ESPCN_PARAMS_DEFAULT_INIT;
    espcn_context *ctx = NULL;
    if (!realpath(expected, want) || !realpath(dir, got) || strcmp(want, got) != 0) {
        fprintf(stderr, "consumer: models looked up in '%s', expected '%s'\n", dir, expected);
        return 1;
    }
    snprintf(model, sizeof model, "%s/default-x2.safetensors", dir);
    p.model_path = model;
    p.backend = ESPCN_BACKEND_REFERENCE;
    if (espcn_create(&p, &ctx) != ESPCN_OK) {
        fprintf(stderr, "consumer: %s\n", espcn_last_error());
        return 1;
    }
    espcn_destroy(&ctx);
    printf("models found by the library in %s\n", dir);
    return 0;
}

int main(int argc, char **argv) {
    espcn_params p = ESPCN_PARAMS_DEFAULT_INIT;
    espcn_context *ctx = NULL;
    p.model_path = "/nonexistent.safetensors";
    if (espcn_create(&p, &ctx) != ESPCN_ERROR_IO || ctx != NULL) return 1;
    printf("espcn %s: reference backend available: %d; expected error: %s\n", espcn_version(),
           espcn_backend_available(ESPCN_BACKEND_REFERENCE), espcn_last_error());
    return argc > 1 ? check_model_dir(argv[1]) : 0;
}
