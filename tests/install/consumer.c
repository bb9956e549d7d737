/* A downstream C program, built against an installed espcn through
 * pkg-config or find_package(espcn): the install is usable as shipped. */
#include <espcn/espcn.h>
#include <stdio.h>

int main(void) {
    espcn_params p = ESPCN_PARAMS_DEFAULT_INIT;
    espcn_context *ctx = NULL;
    p.model_path = "/nonexistent.safetensors";
    if (espcn_create(&p, &ctx) != ESPCN_ERROR_IO || ctx != NULL) return 1;
    printf("espcn %s: reference backend available: %d; expected error: %s\n", espcn_version(),
           espcn_backend_available(ESPCN_BACKEND_REFERENCE), espcn_last_error());
    return 0;
}
