/*
 * The espcn filter as libavfilter registered it must be hwframe-aware
 * (FF_FILTER_FLAG_HWFRAME_AWARE): it sets its output link's hw_frames_ctx for
 * CUDA frames, and libavfilter asserts when a filter without the flag does.
 * Up to FFmpeg 7.1 (lavfi < 11) the flag is visible in AVFilter.flags_internal
 * (1 << 0 in 5.1 and 7.1); from 8.0 it sits in the private FFFilter, which a
 * program cannot read: exit 77 (skipped), the compile check of every series
 * (scripts/build_ffmpeg.sh --check-filter) covers those.
 *   filter_flags   -> 0: set, 1: not set or no espcn filter, 77: not checkable
 */
#include <stdio.h>

#include <libavfilter/avfilter.h>

int main(void)
{
    const AVFilter *f = avfilter_get_by_name("espcn");
    if (!f) {
        fprintf(stderr, "filter_flags: this libavfilter has no espcn filter\n");
        return 1;
    }
#if LIBAVFILTER_VERSION_MAJOR < 11
    if (f->flags_internal & (1 << 0)) {
        printf("filter_flags: espcn is hwframe-aware (flags_internal = %#x)\n", (unsigned)f->flags_internal);
        return 0;
    }
    fprintf(stderr, "filter_flags: espcn lacks FF_FILTER_FLAG_HWFRAME_AWARE (flags_internal = %#x): "
            "CUDA frames would abort in libavfilter\n", (unsigned)f->flags_internal);
    return 1;
#else
    printf("filter_flags: lavfi %d keeps flags_internal private (FFFilter); not checkable here\n",
           LIBAVFILTER_VERSION_MAJOR);
    return 77;
#endif
}
