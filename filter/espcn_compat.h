/*
 * libavfilter API differences between the FFmpeg series the espcn filter
 * supports (5.1, 7.1, 8.x, 9.x), in one place, keyed on LIBAVFILTER_VERSION.
 *
 *   FFmpeg 5.1 (lavfi 8):  AVFilter; FILTER_* macros and ff_* helpers in internal.h
 *   FFmpeg 7.1 (lavfi 10): those moved to filters.h (with FilterLink, which
 *                          now holds the link's hw_frames_ctx);
 *                          libavutil/mem.h is no longer included for us
 *   FFmpeg 8.x (lavfi 11)
 *   and 9.x   (lavfi 12):  filters are defined as FFFilter, public fields in .p
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

#endif /* AVFILTER_ESPCN_COMPAT_H */
