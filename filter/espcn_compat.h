/*
 * libavfilter API differences between the FFmpeg series the espcn filter
 * supports (5.1, 7.1, 8.x, 9.x), in one place, keyed on LIBAVFILTER_VERSION.
 *
 *   FFmpeg 5.1 (lavfi 8):  AVFilter; FILTER_* macros and ff_* helpers in internal.h
 *   FFmpeg 7.1 (lavfi 10): those moved to filters.h (with FilterLink, which
 *                          now holds the link's hw_frames_ctx);
 *                          libavutil/mem.h is no longer included for us
 *   FFmpeg 8.x (lavfi 11)
 *   and 9.x   (lavfi 12):  filters are defined as FFFilter, public fields in .p,
 *                          flags_internal outside it
 */
#ifndef AVFILTER_ESPCN_COMPAT_H
#define AVFILTER_ESPCN_COMPAT_H

#include "libavutil/mem.h"
#include "libavutil/version.h"
#include "version.h"

#if LIBAVFILTER_VERSION_INT >= AV_VERSION_INT(10, 4, 100)
#include "filters.h"
/* The link's hardware frames context moved into FilterLink. */
#define ESPCN_LINK_HW_FRAMES(link) (ff_filter_link(link)->hw_frames_ctx)
#else
#include "filters.h"  /* the activate() API */
#include "internal.h"
#define ESPCN_LINK_HW_FRAMES(link) ((link)->hw_frames_ctx)
#endif
#include "formats.h"
#include "video.h"

#if LIBAVFILTER_VERSION_MAJOR >= 11
#define ESPCN_FILTER_TYPE const FFFilter
#define ESPCN_FILTER_PUBLIC(field) .p.field
#else
#define ESPCN_FILTER_TYPE const AVFilter
#define ESPCN_FILTER_PUBLIC(field) .field
#endif

/*
 * The filter sets its output link's hw_frames_ctx itself (CUDA frames):
 * libavfilter must be told, or it asserts "should not be set by
 * non-hwframe-aware filter" when the input carries one. The flag is in
 * internal.h (5.1) or filters.h (7.1 and later), and flags_internal is a
 * field of AVFilter (5.1, 7.1) or of FFFilter outside .p (8.x, 9.x): in every
 * series a direct member of the filter definition.
 */
#define ESPCN_FILTER_HWFRAME_AWARE .flags_internal = FF_FILTER_FLAG_HWFRAME_AWARE

#endif /* AVFILTER_ESPCN_COMPAT_H */
