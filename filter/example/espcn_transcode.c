/*
 * espcn_transcode: decode a video, run it through a libavfilter graph with
 * espcn, encode and mux it — how a transcoder embeds the filter.
 *
 *   espcn_transcode IN OUT [FILTERS] [ENCODER]
 *   espcn_transcode in.mp4 out.mkv "espcn=scale=2:model=x2.safetensors,format=yuv420p" libx264
 *
 * Video only; other streams are dropped. Uses only public FFmpeg APIs that
 * exist unchanged from FFmpeg 5.1 to 9.x.
 */
#include <stdio.h>

#include <libavcodec/avcodec.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>

typedef struct Transcoder {
    AVFormatContext *in_fmt, *out_fmt;
    AVCodecContext *dec, *enc;
    AVFilterGraph *graph;
    AVFilterContext *src, *sink;
    AVStream *out_stream;
    int stream_index;
    const char *encoder_name;
} Transcoder;

#define CHECK(expr, what)                                                              \
    do {                                                                               \
        int ret_ = (expr);                                                             \
        if (ret_ < 0) {                                                                \
            fprintf(stderr, "espcn_transcode: %s: %s\n", what, av_err2str(ret_));      \
            return ret_;                                                               \
        }                                                                              \
    } while (0)

static int open_input(Transcoder *t, const char *path)
{
    const AVCodec *codec;
    AVStream *st;

    CHECK(avformat_open_input(&t->in_fmt, path, NULL, NULL), path);
    CHECK(avformat_find_stream_info(t->in_fmt, NULL), "reading stream info");
    CHECK(t->stream_index = av_find_best_stream(t->in_fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0),
          "finding a video stream");
    st = t->in_fmt->streams[t->stream_index];
    if (!(t->dec = avcodec_alloc_context3(codec)))
        return AVERROR(ENOMEM);
    CHECK(avcodec_parameters_to_context(t->dec, st->codecpar), "decoder parameters");
    t->dec->pkt_timebase = st->time_base;
    return avcodec_open2(t->dec, codec, NULL);
}

static int open_filters(Transcoder *t, const char *description)
{
    AVStream *st = t->in_fmt->streams[t->stream_index];
    AVFilterInOut *outputs = avfilter_inout_alloc(), *inputs = avfilter_inout_alloc();
    char args[512];
    int ret;

    t->graph = avfilter_graph_alloc();
    if (!outputs || !inputs || !t->graph) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    snprintf(args, sizeof(args), "video_size=%dx%d:pix_fmt=%d:time_base=%d/%d:pixel_aspect=%d/%d",
             t->dec->width, t->dec->height, t->dec->pix_fmt, st->time_base.num,
             st->time_base.den, t->dec->sample_aspect_ratio.num,
             t->dec->sample_aspect_ratio.den > 0 ? t->dec->sample_aspect_ratio.den : 1);
    if ((ret = avfilter_graph_create_filter(&t->src, avfilter_get_by_name("buffer"), "in", args,
                                            NULL, t->graph)) < 0 ||
        (ret = avfilter_graph_create_filter(&t->sink, avfilter_get_by_name("buffersink"), "out",
                                            NULL, NULL, t->graph)) < 0)
        goto end;
    outputs->name = av_strdup("in");
    outputs->filter_ctx = t->src;
    inputs->name = av_strdup("out");
    inputs->filter_ctx = t->sink;
    if ((ret = avfilter_graph_parse_ptr(t->graph, description, &inputs, &outputs, NULL)) < 0 ||
        (ret = avfilter_graph_config(t->graph, NULL)) < 0)
        goto end;
end:
    avfilter_inout_free(&inputs);
    avfilter_inout_free(&outputs);
    if (ret < 0)
        fprintf(stderr, "espcn_transcode: filter graph '%s': %s\n", description, av_err2str(ret));
    return ret;
}

/* The encoder takes what the configured graph says it produces. */
static int open_output(Transcoder *t, const char *path)
{
    const AVCodec *codec = avcodec_find_encoder_by_name(t->encoder_name);
    AVRational frame_rate = av_guess_frame_rate(t->in_fmt, t->in_fmt->streams[t->stream_index], NULL);

    if (!codec) {
        fprintf(stderr, "espcn_transcode: no encoder '%s' in this FFmpeg\n", t->encoder_name);
        return AVERROR_ENCODER_NOT_FOUND;
    }
    CHECK(avformat_alloc_output_context2(&t->out_fmt, NULL, NULL, path), path);
    if (!(t->out_stream = avformat_new_stream(t->out_fmt, NULL)) ||
        !(t->enc = avcodec_alloc_context3(codec)))
        return AVERROR(ENOMEM);
    t->enc->width = av_buffersink_get_w(t->sink);
    t->enc->height = av_buffersink_get_h(t->sink);
    t->enc->pix_fmt = av_buffersink_get_format(t->sink);
    t->enc->sample_aspect_ratio = av_buffersink_get_sample_aspect_ratio(t->sink);
    t->enc->time_base = av_buffersink_get_time_base(t->sink);
    t->enc->framerate = frame_rate;
    if (t->out_fmt->oformat->flags & AVFMT_GLOBALHEADER)
        t->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    av_opt_set(t->enc->priv_data, "preset", "veryfast", 0);  /* x264; ignored elsewhere */
    CHECK(avcodec_open2(t->enc, codec, NULL), "opening the encoder");
    CHECK(avcodec_parameters_from_context(t->out_stream->codecpar, t->enc), "encoder parameters");
    t->out_stream->time_base = t->enc->time_base;
    if (!(t->out_fmt->oformat->flags & AVFMT_NOFILE))
        CHECK(avio_open(&t->out_fmt->pb, path, AVIO_FLAG_WRITE), path);
    return avformat_write_header(t->out_fmt, NULL);
}

static int write_packets(Transcoder *t, AVFrame *frame)
{
    AVPacket *pkt = av_packet_alloc();
    int ret;

    if (!pkt)
        return AVERROR(ENOMEM);
    ret = avcodec_send_frame(t->enc, frame);
    while (ret >= 0) {
        ret = avcodec_receive_packet(t->enc, pkt);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) {
            ret = 0;
            break;
        }
        if (ret < 0)
            break;
        pkt->stream_index = 0;
        av_packet_rescale_ts(pkt, t->enc->time_base, t->out_stream->time_base);
        ret = av_interleaved_write_frame(t->out_fmt, pkt);
    }
    av_packet_free(&pkt);
    return ret;
}

/* Pulls every frame the graph has ready; flush = end of stream. */
static int drain_graph(Transcoder *t, int flush)
{
    AVFrame *frame = av_frame_alloc();
    int ret;

    if (!frame)
        return AVERROR(ENOMEM);
    for (;;) {
        ret = av_buffersink_get_frame(t->sink, frame);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) {
            ret = 0;
            break;
        }
        if (ret < 0)
            break;
        frame->pict_type = AV_PICTURE_TYPE_NONE;
        ret = write_packets(t, frame);
        av_frame_unref(frame);
        if (ret < 0)
            break;
    }
    av_frame_free(&frame);
    if (ret >= 0 && flush)
        ret = write_packets(t, NULL);
    return ret;
}

static int decode_and_filter(Transcoder *t, const AVPacket *pkt)
{
    AVFrame *frame = av_frame_alloc();
    int ret;

    if (!frame)
        return AVERROR(ENOMEM);
    ret = avcodec_send_packet(t->dec, pkt);
    while (ret >= 0) {
        ret = avcodec_receive_frame(t->dec, frame);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) {
            ret = 0;
            break;
        }
        if (ret < 0)
            break;
        frame->pts = frame->best_effort_timestamp;
        if ((ret = av_buffersrc_add_frame(t->src, frame)) < 0 || (ret = drain_graph(t, 0)) < 0)
            break;
    }
    av_frame_free(&frame);
    return ret;
}

int main(int argc, char **argv)
{
    Transcoder t = { 0 };
    AVPacket *pkt = av_packet_alloc();
    const char *filters = argc > 3 ? argv[3] : "espcn=scale=2,format=yuv420p";
    int ret;

    if (argc < 3 || !pkt) {
        fprintf(stderr, "usage: %s IN OUT [FILTERS] [ENCODER]\n", argv[0]);
        return 2;
    }
    t.encoder_name = argc > 4 ? argv[4] : "libx264";
    av_log_set_level(AV_LOG_WARNING);  /* encoders' statistics are noise here */
    if ((ret = open_input(&t, argv[1])) < 0 || (ret = open_filters(&t, filters)) < 0 ||
        (ret = open_output(&t, argv[2])) < 0)
        goto end;
    while ((ret = av_read_frame(t.in_fmt, pkt)) >= 0) {
        if (pkt->stream_index == t.stream_index && (ret = decode_and_filter(&t, pkt)) < 0)
            break;
        av_packet_unref(pkt);
    }
    if (ret == AVERROR_EOF || ret >= 0) {
        if ((ret = decode_and_filter(&t, NULL)) >= 0 &&
            (ret = av_buffersrc_add_frame(t.src, NULL)) >= 0)
            ret = drain_graph(&t, 1);
    }
    if (ret >= 0 && t.out_fmt)
        ret = av_write_trailer(t.out_fmt);
end:
    if (ret < 0)
        fprintf(stderr, "espcn_transcode: failed: %s\n", av_err2str(ret));
    av_packet_free(&pkt);
    avcodec_free_context(&t.dec);
    avcodec_free_context(&t.enc);
    avfilter_graph_free(&t.graph);
    avformat_close_input(&t.in_fmt);
    if (t.out_fmt && !(t.out_fmt->oformat->flags & AVFMT_NOFILE))
        avio_closep(&t.out_fmt->pb);
    avformat_free_context(t.out_fmt);
    return ret < 0 ? 1 : 0;
}
