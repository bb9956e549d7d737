/* espcn.h must compile alone as strict C99. */
#include "espcn/espcn.h"

int espcn_header_check_c(void);
int espcn_header_check_c(void) {
    espcn_params p = ESPCN_PARAMS_DEFAULT_INIT;
    espcn_frame f = ESPCN_FRAME_INIT;
    return (int)p.backend + (int)f.matrix;
}
