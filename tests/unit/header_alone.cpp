// espcn.h must compile alone as C++.
#include "espcn/espcn.h"

int espcn_header_check_cxx();
int espcn_header_check_cxx() {
    espcn_params p = ESPCN_PARAMS_DEFAULT_INIT;
    espcn_frame f = ESPCN_FRAME_INIT;
    return static_cast<int>(p.backend) + static_cast<int>(f.matrix);
}
